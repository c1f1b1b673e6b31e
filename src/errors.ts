/**
 * Typed errors. Every failure tsbpf reports is one of these: one summary line on
 * top, the cause kept (`cause`), details as fields. DESIGN.md, "Errors".
 */

export class TsbpfError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Malformed or hostile ELF input. */
export class ElfError extends TsbpfError {}

/** Malformed BTF or BTF.ext, or a CO-RE relocation that cannot be resolved. */
export class BtfError extends TsbpfError {}

/** An object or program could not be loaded; names the operation. */
export class LoadError extends TsbpfError {}

/** Bytecode that is not a valid instruction stream. */
export class InvalidInstructionError extends TsbpfError {
  constructor(
    readonly index: number,
    readonly opcode: number,
    detail: string,
  ) {
    super(`invalid instruction ${index}: opcode 0x${opcode.toString(16).padStart(2, "0")}: ${detail}`);
  }
}

/** Assembly text that does not parse; names line and column (1-based). */
export class AsmError extends TsbpfError {
  constructor(
    readonly line: number,
    readonly column: number,
    detail: string,
    readonly source?: string,
  ) {
    super(`${source ? source + ":" : ""}${line}:${column}: ${detail}`);
  }
}

/** The verifier rejected a program. `log` is the whole verifier log. */
export class VerifierError extends TsbpfError {
  constructor(
    message: string,
    readonly log: string,
    readonly insnIndex?: number,
    readonly sourceLine?: string,
    /** The errno name bpf(BPF_PROG_LOAD) fails with for this rejection (EACCES unless the kernel uses another). */
    readonly errno: string = "EACCES",
  ) {
    super(message);
  }
}

/** Errno names the kernel uses for bpf() failures. include/uapi/asm-generic/errno-base.h, errno.h. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  ESPIPE: 29,
  ERANGE: 34,
  EDEADLK: 35,
  ENOSYS: 38,
  ELOOP: 40,
  ENOMSG: 42,
  ENODATA: 61,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EALREADY: 114,
  ENOTSUPP: 524, // kernel-internal, include/linux/errno.h
} as const;

export type ErrnoName = keyof typeof ERRNO;

const errnoNames = new Map<number, ErrnoName>(
  Object.entries(ERRNO).map(([name, value]) => [value, name as ErrnoName]),
);

export function errnoName(errno: number): ErrnoName | `E${number}` {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A map operation failed with the kernel's errno. */
export class MapError extends TsbpfError {
  readonly errno: number;
  constructor(
    readonly code: ErrnoName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}: ${code}`, options);
    this.errno = ERRNO[code];
  }
}

/** A bpf()-shaped command failed with an errno (runtime object model, syscalls). */
export class BpfCommandError extends TsbpfError {
  readonly errno: number;
  constructor(
    readonly code: ErrnoName | `E${number}`,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}: ${code}`, options);
    this.errno = code in ERRNO ? ERRNO[code as ErrnoName] : Number(code.slice(1));
  }
}

/** A program misbehaved at run time (checked mode): bad access, budget exhausted, bad call. */
export class ProgramFault extends TsbpfError {
  constructor(
    readonly pc: number,
    readonly reason: string,
  ) {
    super(`program fault at instruction ${pc}: ${reason}`);
  }
}

/** The backend or kernel lacks a feature. */
export class NotSupportedError extends TsbpfError {
  constructor(
    readonly feature: string,
    readonly detail?: string,
  ) {
    super(`not supported: ${feature}${detail ? ` (${detail})` : ""}`);
  }
}
