/**
 * The raw system-call door to the kernel, through koffi. `syscall` is declared
 * with a fixed prototype: the variadic form costs ~300 ns more per call. Buffers
 * whose addresses are cached elsewhere must be kept referenced by their owner.
 */
import { createRequire } from "node:module";

/** x86-64 system call numbers. arch/x86/entry/syscalls/syscall_64.tbl. */
export const SYS = {
  close: 3,
  mmap: 9,
  munmap: 11,
  ioctl: 16,
  bpf: 321,
  perf_event_open: 298,
} as const;

export interface SyscallResult {
  readonly ret: number;
  /** errno when ret < 0, else 0. */
  readonly errno: number;
}

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
  address(buf: Buffer): bigint;
}

interface Loaded {
  koffi: Koffi;
  bpf: (nr: number, cmd: number, attr: Buffer, size: number) => number;
  close: (fd: number) => number;
}

let loaded: Loaded | null | undefined;

function load(): Loaded | null {
  if (loaded !== undefined) return loaded;
  if (process.platform !== "linux" || process.arch !== "x64") return (loaded = null);
  try {
    const koffi = createRequire(import.meta.url)("koffi") as Koffi;
    const libc = koffi.load("libc.so.6");
    const bpf = libc.func("long syscall(long nr, int cmd, void *attr, unsigned int size)") as (
      nr: number, cmd: number, attr: Buffer, size: number,
    ) => number;
    const close = libc.func("int close(int fd)") as (fd: number) => number;
    return (loaded = { koffi, bpf, close });
  } catch {
    return (loaded = null);
  }
}

/** Whether this process can make system calls through koffi (Linux x86-64 with libc). */
export function syscallsAvailable(): boolean {
  return load() !== null;
}

/** bpf(cmd, attr, size). Returns the raw result and errno; never throws for kernel errors. */
export function bpfSyscall(cmd: number, attr: Buffer, size = attr.length): SyscallResult {
  const l = load();
  if (!l) throw new Error("bpf(): system calls are not available on this platform");
  const ret = Number(l.bpf(SYS.bpf, cmd, attr, size));
  return ret < 0 ? { ret, errno: l.koffi.errno() } : { ret, errno: 0 };
}

/** The address of a Buffer's memory, for pointer fields in bpf_attr. Keep the Buffer alive. */
export function addressOf(buf: Buffer): bigint {
  const l = load();
  if (!l) throw new Error("addressOf: koffi is not available");
  return l.koffi.address(buf);
}

/** close(fd). Returns 0 or -errno. */
export function closeFd(fd: number): number {
  const l = load();
  if (!l) throw new Error("close: system calls are not available on this platform");
  return l.close(fd) < 0 ? -l.koffi.errno() : 0;
}
