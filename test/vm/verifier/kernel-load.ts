/**
 * Test-only door to the kernel verifier: BPF_MAP_CREATE and BPF_PROG_LOAD with a
 * log buffer, over the raw bpf() syscall. Deliberately independent of the linux
 * backend (written in parallel) so the verifier's differential tests stand alone.
 * Layouts: include/uapi/linux/bpf.h, union bpf_attr.
 */
import { Bytecode } from "../../../src/isa/bytecode.js";
import { addressOf, bpfSyscall, closeFd, syscallsAvailable } from "../../../src/linux/syscall.js";
import type { ValueField } from "../../../src/vm/maps/map.js";

const BPF_MAP_CREATE = 0;
const BPF_PROG_LOAD = 5;

export interface KernelMapSpec {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly name?: string;
  /** For map-in-map types: an fd of a map the inner maps look like. */
  readonly innerMapFd?: number;
  /**
   * Special fields of the value (bpf_spin_lock, bpf_timer): the map is then
   * created with a BTF describing them (valueBtf).
   */
  readonly valueFields?: readonly ValueField[];
}

/**
 * A BTF for a map whose value holds special fields: type 1 is int, 2 `struct
 * bpf_spin_lock` (4 bytes), 3 `struct bpf_timer` (16), 4 the key (int, or an
 * opaque struct of the key's size), 5 the value: a struct of the value's size with
 * just those fields at their offsets (the kernel finds them by struct name and size).
 */
export function valueBtf(spec: KernelMapSpec): { btf: Uint8Array; keyTypeId: number; valueTypeId: number } {
  const strs = ["", "int", "bpf_spin_lock", "bpf_timer", "key", "value", "val", "f"];
  const off = (x: string): number => Buffer.from(strs.slice(0, strs.indexOf(x)).map((y) => y + "\0").join(""), "latin1").length;
  const words: number[] = [];
  words.push(off("int"), (1 << 24) | 0, 4, (1 << 24) | 32); // 1: INT int, signed, 32 bits
  words.push(off("bpf_spin_lock"), (4 << 24) | 1, 4, off("val"), 1, 0); // 2: STRUCT bpf_spin_lock { int val; }
  words.push(off("bpf_timer"), (4 << 24) | 0, 16); // 3: STRUCT bpf_timer (16 bytes)
  if (spec.keySize === 4) words.push(off("key"), (1 << 24) | 0, 4, 32); // 4: INT key, unsigned, 32 bits
  else words.push(off("key"), (4 << 24) | 0, spec.keySize); // 4: STRUCT key (opaque)
  const fields = (spec.valueFields ?? []).filter((f) => f.kind === "spin_lock" || f.kind === "timer");
  words.push(off("value"), (4 << 24) | fields.length, spec.valueSize); // 5: STRUCT value
  for (const f of fields) words.push(off("f"), f.kind === "spin_lock" ? 2 : 3, f.offset * 8);
  return { btf: btfBlob(words, strs), keyTypeId: 4, valueTypeId: 5 };
}

/** Creates a map; returns its fd (throws with the errno on failure). */
export function kernelCreateMap(spec: KernelMapSpec): number {
  const attr = Buffer.alloc(72);
  attr.writeUInt32LE(spec.type, 0);
  attr.writeUInt32LE(spec.keySize, 4);
  attr.writeUInt32LE(spec.valueSize, 8);
  attr.writeUInt32LE(spec.maxEntries, 12);
  attr.writeUInt32LE(spec.flags ?? 0, 16);
  attr.writeUInt32LE(spec.innerMapFd ?? 0, 20);
  if (spec.name) attr.write(spec.name.slice(0, 15), 28, "latin1");
  let btfFd = -1;
  if (spec.valueFields?.length) {
    const b = valueBtf(spec);
    btfFd = kernelLoadBtf(b.btf);
    attr.writeUInt32LE(btfFd, 48);
    attr.writeUInt32LE(b.keyTypeId, 52);
    attr.writeUInt32LE(b.valueTypeId, 56);
  }
  const r = bpfSyscall(BPF_MAP_CREATE, attr);
  if (btfFd >= 0) closeFd(btfFd);
  if (r.ret < 0) throw new Error(`BPF_MAP_CREATE(type ${spec.type}) failed: errno ${r.errno}`);
  return r.ret;
}

export interface KernelLoadOptions {
  readonly progType: number;
  readonly expectedAttachType?: number;
  readonly license?: string;
  /** 1, 2, or 4 (BPF_LOG_STATS: only the statistics, with "verification time N usec"). */
  readonly logLevel?: 0 | 1 | 2 | 4;
  /** fd_array for BPF_PSEUDO_MAP_IDX(_VALUE) references. */
  readonly fdArray?: readonly number[];
  readonly name?: string;
  /** BPF_F_* prog_flags. */
  readonly flags?: number;
  /** Log buffer size; defaults to 16 MiB for level 2, 1 MiB otherwise. */
  readonly logSize?: number;
  /** A BTF blob for prog_btf_fd, with func_info records (insn, BTF FUNC type id). */
  readonly btf?: Uint8Array;
  readonly funcInfo?: ReadonlyArray<{ insn: number; typeId: number }>;
}

const BPF_BTF_LOAD = 18;

/** BPF_BTF_LOAD; returns the fd (throws with the kernel's BTF log on failure). */
export function kernelLoadBtf(btf: Uint8Array): number {
  const data = Buffer.from(btf);
  const log = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(addressOf(data), 0);
  attr.writeBigUInt64LE(addressOf(log), 8);
  attr.writeUInt32LE(data.length, 16);
  attr.writeUInt32LE(log.length, 20);
  attr.writeUInt32LE(1, 24);
  const r = bpfSyscall(BPF_BTF_LOAD, attr);
  if (r.ret < 0) throw new Error(`BPF_BTF_LOAD failed: errno ${r.errno}: ${log.toString("utf8").replace(/\0.*$/s, "")}`);
  return r.ret;
}

/**
 * A minimal BTF for programs whose functions are all `int f(void)`: type 1 is
 * int, 2 the prototype, 3.. one FUNC per name (linkage: 0 static, 1 global).
 * Layout: include/uapi/linux/btf.h.
 */
export function minimalFuncBtf(funcs: ReadonlyArray<{ name: string; global?: boolean }>): Uint8Array {
  const strs = ["", "int", ...funcs.map((f) => f.name)];
  const off = (s: string): number => Buffer.from(strs.slice(0, strs.indexOf(s)).map((x) => x + "\0").join(""), "latin1").length;
  const words: number[] = [];
  words.push(off("int"), (1 << 24) | 0, 4, (1 << 24) | 32); // INT, signed, 32 bits
  words.push(0, (13 << 24) | 0, 1); // FUNC_PROTO int(void)
  for (const f of funcs) words.push(off(f.name), (12 << 24) | (f.global ? 1 : 0), 2); // FUNC
  return btfBlob(words, strs);
}

export interface KernelLoadResult {
  readonly accepted: boolean;
  readonly errno: number;
  readonly log: string;
  /** The fd of the loaded program (closed by `close`); -1 when rejected. */
  readonly fd: number;
}

/** BPF_PROG_LOAD. The program fd, if any, is returned open; call closeProgram. */
export function kernelLoad(code: Bytecode, opts: KernelLoadOptions): KernelLoadResult {
  const insns = Buffer.from(code.toBytes("le"));
  const license = Buffer.from((opts.license ?? "GPL") + "\0", "latin1");
  const logLevel = opts.logLevel ?? 1;
  const logSize = opts.logSize ?? (logLevel === 2 ? 16 << 20 : 1 << 20);
  const log = Buffer.alloc(logLevel > 0 ? logSize : 0);
  const fdArr = Buffer.alloc(Math.max(4, (opts.fdArray?.length ?? 0) * 4));
  opts.fdArray?.forEach((fd, i) => fdArr.writeInt32LE(fd, i * 4));
  const attr = Buffer.alloc(148);
  attr.writeUInt32LE(opts.progType, 0);
  attr.writeUInt32LE(code.length, 4);
  attr.writeBigUInt64LE(addressOf(insns), 8);
  attr.writeBigUInt64LE(addressOf(license), 16);
  if (logLevel > 0) {
    attr.writeUInt32LE(logLevel, 24);
    attr.writeUInt32LE(log.length, 28);
    attr.writeBigUInt64LE(addressOf(log), 32);
  }
  attr.writeUInt32LE(opts.flags ?? 0, 44);
  if (opts.name) attr.write(opts.name.slice(0, 15), 48, "latin1");
  attr.writeUInt32LE(opts.expectedAttachType ?? 0, 68);
  if (opts.fdArray && opts.fdArray.length > 0) attr.writeBigUInt64LE(addressOf(fdArr), 120);
  let btfFd = -1;
  const fi = Buffer.alloc(Math.max(8, (opts.funcInfo?.length ?? 0) * 8));
  if (opts.btf && opts.funcInfo) {
    btfFd = kernelLoadBtf(opts.btf);
    opts.funcInfo.forEach((f, i) => { fi.writeUInt32LE(f.insn, i * 8); fi.writeUInt32LE(f.typeId, i * 8 + 4); });
    attr.writeUInt32LE(btfFd, 72);
    attr.writeUInt32LE(8, 76);
    attr.writeBigUInt64LE(addressOf(fi), 80);
    attr.writeUInt32LE(opts.funcInfo.length, 88);
  }
  const r = bpfSyscall(BPF_PROG_LOAD, attr);
  if (btfFd >= 0) closeFd(btfFd);
  void fi.length;
  const end = log.indexOf(0);
  const text = log.subarray(0, end < 0 ? log.length : end).toString("utf8");
  // Keep the buffers referenced until the call is done (their addresses were taken).
  void insns.length; void license.length; void fdArr.length;
  return { accepted: r.ret >= 0, errno: r.errno, log: text, fd: r.ret };
}

export function closeFdSafe(fd: number): void {
  if (fd >= 0) closeFd(fd);
}

/** Why the kernel cannot judge here (no bpf(), no privilege), or null; for scripts, which cannot use test/helpers (vitest). */
export function kernelUnavailable(): string | null {
  if (!syscallsAvailable()) return `bpf() needs Linux x86-64 with koffi (this is ${process.platform}/${process.arch})`;
  try {
    closeFd(kernelCreateMap({ type: 2, keySize: 4, valueSize: 4, maxEntries: 1 }));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A BTF blob (include/uapi/linux/btf.h: struct btf_header, version 1) of the type words and the strings. */
export function btfBlob(words: readonly number[], strs: readonly string[]): Uint8Array {
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
  const strBytes = Buffer.from(strs.join("\0") + "\0", "latin1");
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr.writeUInt8(1, 2);
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(types.length, 12);
  hdr.writeUInt32LE(types.length, 16);
  hdr.writeUInt32LE(strBytes.length, 20);
  return new Uint8Array(Buffer.concat([hdr, types, strBytes]));
}
