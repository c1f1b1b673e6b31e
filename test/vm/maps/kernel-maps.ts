/**
 * A tiny kernel-side map client for differential tests: bpf_attr builders for
 * map create / lookup / update / delete / get_next_key / lookup_and_delete /
 * freeze / batch, over the raw bpf() door in src/linux/syscall.ts. Every call
 * returns 0 (or an fd) or -errno, like the vm maps' syscall surface, so the two
 * can be compared value for value. Layouts: include/uapi/linux/bpf.h, union bpf_attr.
 */
import { createRequire } from "node:module";
import { addressOf, bpfSyscall, closeFd } from "../../../src/linux/syscall.js";

/** enum bpf_cmd. include/uapi/linux/bpf.h. */
export const CMD = {
  MAP_CREATE: 0,
  BTF_LOAD: 18,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  MAP_LOOKUP_AND_DELETE_ELEM: 21,
  MAP_FREEZE: 22,
  MAP_LOOKUP_BATCH: 24,
  MAP_LOOKUP_AND_DELETE_BATCH: 25,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
} as const;

export interface KernelMapAttrs {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  innerMapFd?: number;
  numaNode?: number;
  name?: string;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  mapExtra?: number;
}

const ATTR_SIZE = 128;

function sys(cmd: number, attr: Buffer): number {
  const r = bpfSyscall(cmd, attr, ATTR_SIZE);
  return r.ret < 0 ? -r.errno : r.ret;
}

/** BPF_MAP_CREATE: an fd or -errno. */
export function kMapCreate(a: KernelMapAttrs): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(a.mapType, 0);
  attr.writeUInt32LE(a.keySize >>> 0, 4);
  attr.writeUInt32LE(a.valueSize >>> 0, 8);
  attr.writeUInt32LE(a.maxEntries >>> 0, 12);
  attr.writeUInt32LE((a.mapFlags ?? 0) >>> 0, 16);
  attr.writeUInt32LE(a.innerMapFd ?? 0, 20);
  attr.writeUInt32LE(a.numaNode ?? 0, 24);
  if (a.name) attr.write(a.name, 28, 16, "latin1");
  attr.writeUInt32LE(a.btfFd ?? 0, 48);
  attr.writeUInt32LE(a.btfKeyTypeId ?? 0, 52);
  attr.writeUInt32LE(a.btfValueTypeId ?? 0, 56);
  attr.writeBigUInt64LE(BigInt(a.mapExtra ?? 0), 64);
  return sys(CMD.MAP_CREATE, attr);
}

/** Keeps pointer-carrying buffers alive for the duration of one call. */
function ptr(b: Uint8Array | null): { addr: bigint; keep: Buffer | null } {
  if (!b) return { addr: 0n, keep: null };
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  // A zero-length Buffer may not have a stable address; give it one byte.
  const keep = buf.length ? buf : Buffer.alloc(1);
  return { addr: addressOf(keep), keep };
}

function elemAttr(fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number): { attr: Buffer; keep: unknown[] } {
  const attr = Buffer.alloc(ATTR_SIZE);
  const k = ptr(key);
  const v = ptr(value);
  attr.writeUInt32LE(fd, 0);
  attr.writeBigUInt64LE(k.addr, 8);
  attr.writeBigUInt64LE(v.addr, 16);
  attr.writeBigUInt64LE(BigInt(flags), 24);
  return { attr, keep: [k.keep, v.keep] };
}

function elemCall(cmd: number, fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number): number {
  const { attr, keep } = elemAttr(fd, key, value, flags);
  const r = sys(cmd, attr);
  keep.length = 0;
  return r;
}

export const kLookup = (fd: number, key: Uint8Array | null, out: Uint8Array, flags = 0): number =>
  elemCall(CMD.MAP_LOOKUP_ELEM, fd, key, out, flags);
export const kUpdate = (fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): number =>
  elemCall(CMD.MAP_UPDATE_ELEM, fd, key, value, flags);
export const kDelete = (fd: number, key: Uint8Array | null, flags = 0): number =>
  elemCall(CMD.MAP_DELETE_ELEM, fd, key, null, flags);
export const kGetNextKey = (fd: number, key: Uint8Array | null, next: Uint8Array): number =>
  elemCall(CMD.MAP_GET_NEXT_KEY, fd, key, next, 0);
export const kLookupAndDelete = (fd: number, key: Uint8Array | null, out: Uint8Array, flags = 0): number =>
  elemCall(CMD.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, out, flags);

export function kFreeze(fd: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(fd, 0);
  return sys(CMD.MAP_FREEZE, attr);
}

export interface KBatch {
  inBatch: Uint8Array | null;
  outBatch: Uint8Array;
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
  elemFlags?: number;
  flags?: number;
}

/** A batch command; returns 0 or -errno and writes the kernel's `count` back into `b.count`. */
export function kBatch(cmd: number, fd: number, b: KBatch): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  const ib = ptr(b.inBatch);
  const ob = ptr(b.outBatch);
  const ks = ptr(b.keys);
  const vs = ptr(b.values);
  attr.writeBigUInt64LE(ib.addr, 0);
  attr.writeBigUInt64LE(ob.addr, 8);
  attr.writeBigUInt64LE(ks.addr, 16);
  attr.writeBigUInt64LE(vs.addr, 24);
  attr.writeUInt32LE(b.count, 32);
  attr.writeUInt32LE(fd, 36);
  attr.writeBigUInt64LE(BigInt(b.elemFlags ?? 0), 40);
  attr.writeBigUInt64LE(BigInt(b.flags ?? 0), 48);
  const r = sys(cmd, attr);
  b.count = attr.readUInt32LE(32);
  void [ib.keep, ob.keep, ks.keep, vs.keep];
  return r;
}

export function kClose(fd: number): void {
  if (fd >= 0) closeFd(fd);
}

/** CPUs the kernel sizes per-CPU values by (num_possible_cpus()). */
export function kernelPossibleCpus(): number {
  // "0-1" or "0,2-3": count the ids.
  const text = readText("/sys/devices/system/cpu/possible").trim();
  let n = 0;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

function readText(path: string): string {
  const fs = createRequire(import.meta.url)("node:fs") as typeof import("node:fs");
  return fs.readFileSync(path, "latin1");
}

/**
 * Pins this process to one CPU, so the kernel's per-CPU choices (LRU local lists,
 * per-CPU free lists, this_cpu_ptr) are deterministic in a differential test.
 * Returns false where it cannot.
 */
export function pinToCpu(cpu: number): boolean {
  try {
    interface KoffiLib { func(sig: string): (...a: unknown[]) => unknown }
    const koffi = createRequire(import.meta.url)("koffi") as { load(p: string): KoffiLib };
    const libc = koffi.load("libc.so.6");
    const setaffinity = libc.func("int sched_setaffinity(int pid, size_t size, void *mask)") as (
      pid: number, size: number, mask: Buffer,
    ) => number;
    const mask = Buffer.alloc(128);
    mask[cpu >> 3] |= 1 << (cpu & 7);
    return setaffinity(0, mask.length, mask) === 0;
  } catch {
    return false;
  }
}

/**
 * BPF_BTF_LOAD of a tiny BTF with the types a spin-lock map needs:
 *   [1] int (4 bytes, signed)
 *   [2] struct bpf_spin_lock { int val; }
 *   [3] struct val { struct bpf_spin_lock lock; int x; int y; }   (12 bytes)
 * Returns the BTF fd or -errno. Layout: include/uapi/linux/btf.h.
 */
export function kLoadSpinLockBtf(): number {
  const strs = "\0int\0bpf_spin_lock\0val\0lock\0x\0y\0";
  const off = (name: string): number => strs.indexOf("\0" + name + "\0") + 1;
  const words: number[] = [
    // [1] INT "int": kind 1, size 4, encoding SIGNED (1 << 24) | bits 32
    off("int"), 1 << 24, 4, (1 << 24) | 32,
    // [2] STRUCT "bpf_spin_lock": kind 4, vlen 1, size 4; member "val" type 1 at bit 0
    off("bpf_spin_lock"), (4 << 24) | 1, 4, off("val"), 1, 0,
    // [3] STRUCT "val": vlen 3, size 12; lock@0, x@32, y@64
    off("val"), (4 << 24) | 3, 12, off("lock"), 2, 0, off("x"), 1, 32, off("y"), 1, 64,
  ];
  const typeLen = words.length * 4;
  const strBytes = Buffer.from(strs, "latin1");
  const blob = Buffer.alloc(24 + typeLen + strBytes.length);
  blob.writeUInt16LE(0xeb9f, 0);
  blob.writeUInt8(1, 2);
  blob.writeUInt32LE(24, 4);
  blob.writeUInt32LE(0, 8);
  blob.writeUInt32LE(typeLen, 12);
  blob.writeUInt32LE(typeLen, 16);
  blob.writeUInt32LE(strBytes.length, 20);
  words.forEach((w, i) => blob.writeUInt32LE(w >>> 0, 24 + 4 * i));
  strBytes.copy(blob, 24 + typeLen);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeBigUInt64LE(addressOf(blob), 0);
  attr.writeUInt32LE(blob.length, 16);
  const r = sys(CMD.BTF_LOAD, attr);
  void blob;
  return r;
}
