/**
 * The raw system-call door to the kernel, through koffi. Every entry point is
 * declared with a fixed prototype: the variadic form costs ~300 ns more per call.
 * glibc's `syscall()` only moves registers (it never uses va_arg), so one symbol
 * can safely be declared several times with the argument types each call needs.
 * Buffers whose addresses are cached elsewhere must be kept referenced by their owner.
 *
 * This file is the only one that touches koffi; the rest of src/linux goes through
 * the `Sys` interface (sys.ts), built here by `koffiSys()`.
 */
import { createRequire } from "node:module";
import type { Mapping, Sys } from "./sys.js";

/** x86-64 system call numbers. arch/x86/entry/syscalls/syscall_64.tbl. */
export const SYS = {
  read: 0,
  close: 3,
  mmap: 9,
  munmap: 11,
  ioctl: 16,
  getpid: 39,
  fcntl: 72,
  gettid: 186,
  clock_gettime: 228,
  bpf: 321,
  perf_event_open: 298,
  setns: 308,
} as const;

export interface SyscallResult {
  readonly ret: number;
  /** errno when ret < 0, else 0. */
  readonly errno: number;
}

/** The slice of koffi's API used here (koffi 3.3.4, index.d.ts). */
interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
  address(value: unknown): bigint;
  view(ptr: unknown, len: number): ArrayBuffer;
}

type Fn<A extends unknown[]> = (...args: A) => number;

interface Loaded {
  koffi: Koffi;
  koffiPath: string;
  bpf: Fn<[number, number, Buffer, number]>;
  close: Fn<[number]>;
  /** syscall(nr, a, b, c) with integer arguments: ioctl(int), fcntl, setns, getpid. */
  sys3: Fn<[number, number, number, number]>;
  /** syscall(nr, a, ptr): clock_gettime. */
  sys1Ptr: Fn<[number, number, Buffer]>;
  /** syscall(nr, fd, req, ptr): ioctl with a pointer argument. */
  sysPtr: Fn<[number, number, number, Buffer | null]>;
  perfEventOpen: Fn<[number, Buffer, number, number, number, number]>;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  epollCreate1: Fn<[number]>;
  epollCtl: Fn<[number, number, number, Buffer | null]>;
  eventfd: Fn<[number, number]>;
  read: Fn<[number, Buffer, number]>;
  write: Fn<[number, Buffer, number]>;
  sysconf: Fn<[number]>;
  ifNameToIndex: (name: string) => number;
  ifIndexToName: (index: number, buf: Buffer) => unknown;
  mount: (src: string, target: string, fstype: string, flags: number, data: null) => number;
}

let loaded: Loaded | null | undefined;

function load(): Loaded | null {
  if (loaded !== undefined) return loaded;
  if (process.platform !== "linux" || process.arch !== "x64") return (loaded = null);
  try {
    const req = createRequire(import.meta.url);
    const koffi = req("koffi") as Koffi;
    const koffiPath = req.resolve("koffi");
    const libc = koffi.load("libc.so.6");
    const f = <T>(sig: string): T => libc.func(sig) as T;
    return (loaded = {
      koffi,
      koffiPath,
      bpf: f("long syscall(long nr, int cmd, void *attr, unsigned int size)"),
      close: f("int close(int fd)"),
      sys3: f("long syscall(long nr, long a, long b, long c)"),
      sysPtr: f("long syscall(long nr, long fd, unsigned long req, void *arg)"),
      sys1Ptr: f("long syscall(long nr, long a, void *p)"),
      perfEventOpen: f("long syscall(long nr, void *attr, int pid, int cpu, int group_fd, unsigned long flags)"),
      mmap: f("void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)"),
      munmap: f("int munmap(void *addr, size_t len)"),
      epollCreate1: f("int epoll_create1(int flags)"),
      epollCtl: f("int epoll_ctl(int epfd, int op, int fd, void *event)"),
      eventfd: f("int eventfd(unsigned int initval, int flags)"),
      read: f("long read(int fd, void *buf, size_t count)"),
      write: f("long write(int fd, void *buf, size_t count)"),
      sysconf: f("long sysconf(int name)"),
      ifNameToIndex: f("unsigned int if_nametoindex(const char *ifname)"),
      ifIndexToName: f("void *if_indextoname(unsigned int ifindex, void *ifname)"),
      mount: f("int mount(const char *source, const char *target, const char *fstype, unsigned long flags, void *data)"),
    });
  } catch {
    return (loaded = null);
  }
}

/** Whether this process can make system calls through koffi (Linux x86-64 with libc). */
export function syscallsAvailable(): boolean {
  return load() !== null;
}

function need(what: string): Loaded {
  const l = load();
  if (!l) throw new Error(`${what}: system calls are not available on this platform`);
  return l;
}

/** bpf(cmd, attr, size). Returns the raw result and errno; never throws for kernel errors. */
export function bpfSyscall(cmd: number, attr: Buffer, size = attr.length): SyscallResult {
  const l = need("bpf()");
  const ret = Number(l.bpf(SYS.bpf, cmd, attr, size));
  return ret < 0 ? { ret, errno: l.koffi.errno() } : { ret, errno: 0 };
}

/** The address of a Buffer's memory, for pointer fields in bpf_attr. Keep the Buffer alive. */
export function addressOf(buf: Buffer): bigint {
  return need("addressOf").koffi.address(buf);
}

/** close(fd). Returns 0 or -errno. */
export function closeFd(fd: number): number {
  const l = need("close");
  return l.close(fd) < 0 ? -l.koffi.errno() : 0;
}

/** Where koffi's entry point lives, so a worker thread can load the same module. */
export function koffiModulePath(): string {
  return need("koffi").koffiPath;
}

// mmap(2) constants. include/uapi/asm-generic/mman-common.h, mman.h.
const MAP_SHARED = 0x01;
/** _SC_PAGESIZE. glibc bits/confname.h. */
const _SC_PAGESIZE = 30;
/** MAP_FAILED, (void *)-1, as koffi's address of it. */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** Builds the koffi-backed `Sys`. Throws where koffi cannot load (see syscallsAvailable). */
export function koffiSys(): Sys {
  const l = need("koffiSys");
  const { koffi } = l;
  // -errno convention: one number back, no object per call.
  const r = (ret: number): number => (ret < 0 ? -koffi.errno() : ret);
  const pageSize = Number(l.sysconf(_SC_PAGESIZE));
  return {
    pageSize,
    bpf: (cmd, attr, size) => r(Number(l.bpf(SYS.bpf, cmd, attr, size))),
    close: (fd) => r(l.close(fd)),
    ioctl: (fd, request, arg) =>
      r(Number(typeof arg === "number" ? l.sys3(SYS.ioctl, fd, request, arg) : l.sysPtr(SYS.ioctl, fd, request, arg))),
    fcntl: (fd, cmd, arg) => r(Number(l.sys3(SYS.fcntl, fd, cmd, arg))),
    perfEventOpen: (attr, pid, cpu, groupFd, flags) =>
      r(Number(l.perfEventOpen(SYS.perf_event_open, attr, pid, cpu, groupFd, flags))),
    mmap(fd, length, prot, offset): Mapping | number {
      const ptr = l.mmap(null, length, prot, MAP_SHARED, fd, offset);
      if (ptr === null || koffi.address(ptr) === MAP_FAILED) return -koffi.errno();
      let mapped = true;
      const buffer = koffi.view(ptr, length);
      return {
        buffer,
        length,
        address: koffi.address(ptr),
        unmap(): number {
          if (!mapped) return 0;
          mapped = false;
          return r(l.munmap(ptr, length));
        },
      };
    },
    epollCreate: () => r(l.epollCreate1(0o2000000 /* EPOLL_CLOEXEC */)),
    epollCtl: (epfd, op, fd, event) => r(l.epollCtl(epfd, op, fd, event)),
    eventfd: (initval, flags) => r(l.eventfd(initval, flags)),
    read: (fd, buf, len) => r(Number(l.read(fd, buf, len))),
    write: (fd, buf, len) => r(Number(l.write(fd, buf, len))),
    setns: (fd, nstype) => r(Number(l.sys3(SYS.setns, fd, nstype, 0))),
    getpid: () => Number(l.sys3(SYS.getpid, 0, 0, 0)),
    gettid: () => Number(l.sys3(SYS.gettid, 0, 0, 0)),
    clockNs(clockId) {
      const ts = Buffer.alloc(16);
      const r = Number(l.sys1Ptr(SYS.clock_gettime, clockId, ts));
      if (r < 0) return -BigInt(koffi.errno());
      return ts.readBigInt64LE(0) * 1_000_000_000n + ts.readBigInt64LE(8);
    },
    ifNameToIndex(name) {
      const idx = l.ifNameToIndex(name);
      return idx === 0 ? -koffi.errno() : idx;
    },
    ifIndexToName(index) {
      const buf = Buffer.alloc(16); // IF_NAMESIZE. include/uapi/linux/if.h
      const p = l.ifIndexToName(index, buf);
      if (p === null) return null;
      const end = buf.indexOf(0);
      return buf.toString("utf8", 0, end < 0 ? 16 : end);
    },
    mount: (source, target, fstype, flags) => r(l.mount(source, target, fstype, flags, null)),
    address: (buf) => koffi.address(buf),
    workerModule: () => l.koffiPath,
  };
}
