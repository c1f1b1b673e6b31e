/**
 * The system calls the linux backend makes, behind one small interface, so the
 * layers above (attr encoding, objects, links, readers) never touch the FFI and a
 * test can substitute a fake (fault injection: ENOSPC, EPERM, EINTR).
 *
 * Convention, like the kernel's: a call returns its result, or -errno. No object
 * is allocated per call, which matters on the map-lookup hot path.
 *
 * Readiness (ring buffer, perf buffer, trace_pipe) is not a blocking call here:
 * see poller.ts, which runs epoll_wait on a worker thread and wakes the event loop.
 */
import { NotSupportedError } from "../errors.js";
import { koffiSys, syscallsAvailable } from "./syscall.js";

/** A shared memory mapping of a kernel object (map, perf event). */
export interface Mapping {
  /** The mapped memory, without copy. Invalid (access faults) after unmap(). */
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly address: bigint;
  /** munmap(2). Idempotent; 0 or -errno. */
  unmap(): number;
}

export interface Sys {
  /** The page size (sysconf(_SC_PAGESIZE)). */
  readonly pageSize: number;
  /** bpf(cmd, attr, size). The kernel may write results back into attr. */
  bpf(cmd: number, attr: Buffer, size: number): number;
  close(fd: number): number;
  /** ioctl(fd, request, arg): an integer argument, or a pointer to a Buffer. */
  ioctl(fd: number, request: number, arg: number | Buffer | null): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  /** perf_event_open(attr, pid, cpu, group_fd, flags). */
  perfEventOpen(attr: Buffer, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** mmap(NULL, length, prot, MAP_SHARED, fd, offset). */
  mmap(fd: number, length: number, prot: number, offset: number): Mapping | number;
  epollCreate(): number;
  /** epoll_ctl(epfd, op, fd, event): event is a 12-byte struct epoll_event or null. */
  epollCtl(epfd: number, op: number, fd: number, event: Buffer | null): number;
  eventfd(initval: number, flags: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  /** setns(fd, nstype): moves the calling thread into a namespace. */
  setns(fd: number, nstype: number): number;
  /** The raw getpid(2) system call (never cached): a cheap, known syscall to trace. */
  getpid(): number;
  gettid(): number;
  /** clock_gettime(clockId) in nanoseconds (CLOCK_REALTIME 0, CLOCK_BOOTTIME 7); -errno as bigint. */
  clockNs(clockId: number): bigint;
  /** if_nametoindex(3) in the calling thread's network namespace; -errno when absent. */
  ifNameToIndex(name: string): number;
  /** if_indextoname(3) in the calling thread's network namespace; null when absent. */
  ifIndexToName(index: number): string | null;
  mount(source: string, target: string, fstype: string, flags: number): number;
  /** Address of a Buffer's memory for pointer fields. The caller keeps the Buffer alive. */
  address(buf: Buffer): bigint;
  /** Path of the FFI module, so a worker thread can load the same one (poller.ts). */
  workerModule(): string;
}

const unmapRegistry = new FinalizationRegistry<() => number>((unmap) => {
  unmap();
});

/**
 * Releases a mapping without a use-after-unmap hazard: views over its memory may
 * still be held somewhere (a callback kept a record's Uint8Array, a user kept
 * MapMmap.bytes), and touching unmapped memory kills the process. So the munmap
 * happens once the ArrayBuffer is unreachable. (An external ArrayBuffer cannot be
 * detached, which would be the other way.)
 */
export function unmapWhenUnreachable(m: Mapping): void {
  // The held value is the unmap closure alone: it must not reference m.buffer.
  unmapRegistry.register(m.buffer, m.unmap);
}

let current: Sys | undefined;

/** The process-wide Sys. Throws NotSupportedError where bpf() cannot be reached. */
export function sys(): Sys {
  if (current) return current;
  if (!syscallsAvailable()) {
    throw new NotSupportedError("linux backend", `needs Linux x86-64 with koffi; this is ${process.platform}/${process.arch}`);
  }
  return (current = koffiSys());
}

/** Replaces the Sys (tests inject faults); returns the previous one to restore. */
export function setSys(next: Sys): Sys {
  const prev = sys();
  current = next;
  return prev;
}
