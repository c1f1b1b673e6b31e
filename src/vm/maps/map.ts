/**
 * The map base contract. Every vm map type extends BpfMap, which offers three
 * faces over one copy of the data:
 *
 * - the bpf() command surface (`sys*`): byte arrays in and out, 0 or -errno back,
 *   with the checks kernel/bpf/syscall.c makes before a type's own code runs
 *   (CHECK_ATTR-style flag checks, FMODE_CAN_READ/WRITE from BPF_F_RDONLY /
 *   BPF_F_WRONLY / freeze, BPF_F_LOCK needing a bpf_spin_lock), in the kernel's order;
 * - the program side (`lookupElem`, `updateElem`, ...): addresses in the vm's
 *   space, 0 / -errno / an address back, no allocation and no BigInt;
 * - conveniences for user code (`lookup`, `update`, `keys`...) that throw MapError.
 *
 * Values live in the address space; metadata (buckets, lists, tries) stays on the
 * JS side, out of an unverified program's reach.
 */
import { ERRNO, type ErrnoName, MapError, errnoName } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import {
  BPF_F_LOCK, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_MAP_TYPE, mapTypeName,
} from "./uapi.js";

/** A field of a map value the kernel treats specially (from BTF): never copied to or from user space. */
export interface ValueField {
  /** bpf_spin_lock, bpf_timer, bpf_wq, kptr, bpf_list_head, bpf_rb_root, bpf_refcount... */
  readonly kind: "spin_lock" | "timer" | "wq" | "kptr" | "list_head" | "rb_root" | "refcount" | "other";
  readonly offset: number;
  readonly size: number;
}

/** BPF_MAP_CREATE attributes (union bpf_attr, the map_create part). */
export interface MapAttrs {
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags?: number;
  /** inner_map_fd, resolved through MapOptions.resolver.map. */
  readonly innerMapFd?: number;
  /** The inner map template, when the caller holds the object itself. */
  readonly innerMap?: BpfMap;
  readonly numaNode?: number;
  readonly mapExtra?: number | bigint;
  /** map_name: up to 15 characters of [A-Za-z0-9_.]. */
  readonly name?: string;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly btfVmlinuxValueTypeId?: number;
  /** Special fields of the value type (from BTF): spin lock, timers, kptrs. */
  readonly valueFields?: readonly ValueField[];
}

/** A program as prog_array holds it. The runtime decides what it is. */
export interface ProgramRef {
  readonly id: number;
  /** BPF_PROG_TYPE_* (prog_array entries must agree in type). */
  readonly progType: number;
}

/** What fd-valued maps resolve fds through (the runtime's object table). */
export interface ObjectResolver {
  map?(fd: number): BpfMap | undefined;
  program?(fd: number): ProgramRef | undefined;
  /** A perf event (perf_event_open) as perf_event_array holds it. */
  perfEvent?(fd: number): unknown;
}

export interface MapOptions {
  /** CPUs of the vm (per-CPU values, LRU lists, perf rings). Default 2. */
  ncpus?: number;
  /** NUMA nodes of the vm (valid numa_node values). Default 1. */
  numaNodes?: number;
  resolver?: ObjectResolver;
  /** Hash seed for maps without BPF_F_ZERO_SEED. Default: random, like the kernel. */
  hashSeed?: number;
  /** The CPU user-space (syscall) operations run on. Default 0. */
  userCpu?: number;
}

/** Arguments of the BPF_MAP_*_BATCH commands (union bpf_attr, the batch part). */
export interface BatchArgs {
  /** in_batch: where to resume (NULL: from the start). */
  inBatch: Uint8Array | null;
  /** out_batch: where the next call resumes. */
  outBatch: Uint8Array;
  keys: Uint8Array;
  values: Uint8Array;
  /** In: how many elements at most; out: how many were processed (written back as the kernel does). */
  count: number;
  elemFlags?: number;
  flags?: number;
}

export type BatchCmd = "lookup" | "lookup_and_delete" | "update" | "delete";

const E = ERRNO;
/** Per-space table: descriptor address -> map. */
const registries = new WeakMap<AddressSpace, Map<number, BpfMap>>();
let nextId = 1;

/** The map whose descriptor is at `addr` in `space` (an LD_IMM64 map reference), if any. */
export function mapAt(space: AddressSpace, addr: number): BpfMap | undefined {
  return registries.get(space)?.get(addr);
}

/** Bytes of the descriptor block each map owns in the space. */
export const MAP_DESCRIPTOR_SIZE = 64;

export const roundUp8 = (n: number): number => (n + 7) & ~7;

export abstract class BpfMap {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly ncpus: number;
  readonly userCpu: number;
  readonly numaNode: number;
  readonly mapExtra: bigint;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly valueFields: readonly ValueField[];
  /** Offset of the bpf_spin_lock in the value, or -1. */
  readonly spinLockOff: number;
  /**
   * Address of the map's descriptor block: what a program's LD_IMM64 map
   * reference (BPF_PSEUDO_MAP_FD) resolves to. Holds type, key_size,
   * value_size, max_entries, map_flags as u32s (the head of struct bpf_map's
   * user-visible attributes), so programs see consistent numbers.
   */
  readonly addr: number;
  /** Object id (BPF_MAP_GET_NEXT_ID); the runtime may reassign it. */
  id: number = nextId++;
  frozen = false;
  /** Writable user-space mappings of the value area (freeze fails with EBUSY while any). */
  protected writeMappings = 0;
  private disposed = false;
  private readonly disposers: (() => void)[] = [];

  constructor(
    readonly space: AddressSpace,
    attrs: MapAttrs,
    options: MapOptions,
  ) {
    this.type = attrs.mapType;
    this.keySize = attrs.keySize >>> 0;
    this.valueSize = attrs.valueSize >>> 0;
    this.maxEntries = attrs.maxEntries >>> 0;
    this.flags = (attrs.mapFlags ?? 0) >>> 0;
    this.name = attrs.name ?? "";
    this.ncpus = options.ncpus ?? 2;
    this.userCpu = options.userCpu ?? 0;
    this.numaNode = attrs.numaNode ?? 0;
    this.mapExtra = BigInt(attrs.mapExtra ?? 0);
    this.btfKeyTypeId = attrs.btfKeyTypeId ?? 0;
    this.btfValueTypeId = attrs.btfValueTypeId ?? 0;
    this.valueFields = [...(attrs.valueFields ?? [])].sort((a, b) => a.offset - b.offset);
    this.spinLockOff = this.valueFields.find((f) => f.kind === "spin_lock")?.offset ?? -1;
    this.addr = space.alloc(MAP_DESCRIPTOR_SIZE, 16);
    const u32 = space.u32;
    const d = this.addr >>> 2;
    u32[d] = this.type;
    u32[d + 1] = this.keySize;
    u32[d + 2] = this.valueSize;
    u32[d + 3] = this.maxEntries;
    u32[d + 4] = this.flags;
    let reg = registries.get(space);
    if (!reg) registries.set(space, (reg = new Map()));
    reg.set(this.addr, this);
  }

  /** bpftool's name for the type ("hash", "lru_percpu_hash"...). */
  get typeName(): string {
    return mapTypeName(this.type);
  }

  /** Whether values are per CPU (user space sees round_up(value_size, 8) * ncpus bytes). */
  get percpu(): boolean {
    return false;
  }

  /**
   * Bytes of a value as user space reads and writes it (bpf_map_value_size() in
   * kernel/bpf/syscall.c): per-CPU maps round_up(value_size, 8) per CPU,
   * fd-holding maps a u32, everything else value_size.
   */
  get userValueSize(): number {
    return this.percpu ? roundUp8(this.valueSize) * this.ncpus : this.valueSize;
  }

  /** Programs may read values (BPF_F_WRONLY_PROG clear). */
  get progCanRead(): boolean {
    return (this.flags & BPF_F_WRONLY_PROG) === 0;
  }

  /** Programs may write values (BPF_F_RDONLY_PROG clear). */
  get progCanWrite(): boolean {
    return (this.flags & BPF_F_RDONLY_PROG) === 0;
  }

  /** FMODE_CAN_READ for syscalls (map_get_sys_perms in kernel/bpf/syscall.c). */
  protected get sysCanRead(): boolean {
    return (this.flags & BPF_F_WRONLY) === 0;
  }

  /** FMODE_CAN_WRITE for syscalls: cleared by BPF_F_RDONLY and by freezing. */
  protected get sysCanWrite(): boolean {
    return (this.flags & BPF_F_RDONLY) === 0 && !this.frozen;
  }

  // ================= the bpf() command surface =================

  /** BPF_MAP_LOOKUP_ELEM into `value` (userValueSize bytes). */
  sysLookup(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (flags & ~BPF_F_LOCK) return -E.EINVAL;
    if (!this.sysCanRead) return -E.EPERM;
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    return this.doLookup(key, value, flags);
  }

  /** BPF_MAP_UPDATE_ELEM from `value` (userValueSize bytes). */
  sysUpdate(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (!this.sysCanWrite) return -E.EPERM;
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    return this.doUpdate(key, value, flags);
  }

  /** BPF_MAP_DELETE_ELEM. `flags` must be 0 (the attr has no flags field: CHECK_ATTR). */
  sysDelete(key: Uint8Array | null, flags = 0): number {
    if (flags !== 0) return -E.EINVAL;
    if (!this.sysCanWrite) return -E.EPERM;
    return this.doDelete(key);
  }

  /** BPF_MAP_GET_NEXT_KEY: a NULL or missing key gives the first key. */
  sysGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    if (!this.sysCanRead) return -E.EPERM;
    return this.doGetNextKey(key, next);
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue, stack and the hash family). */
  sysLookupAndDelete(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (flags & ~BPF_F_LOCK) return -E.EINVAL;
    if (!this.sysCanRead || !this.sysCanWrite) return -E.EPERM;
    if (flags && (this.type === BPF_MAP_TYPE.QUEUE || this.type === BPF_MAP_TYPE.STACK)) return -E.EINVAL;
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    return this.doLookupAndDelete(key, value, flags);
  }

  /** BPF_MAP_FREEZE: user space can no longer write; programs still can. */
  sysFreeze(): number {
    if (this.valueFields.length > 0) return -E.ENOTSUPP;
    if (!this.sysCanWrite) return -E.EPERM;
    if (this.writeMappings > 0) return -E.EBUSY;
    if (this.frozen) return -E.EBUSY;
    this.frozen = true;
    return 0;
  }

  /** BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH; writes `count` back into `b`. */
  sysBatch(cmd: BatchCmd, b: BatchArgs): number {
    const read = cmd === "lookup" || cmd === "lookup_and_delete";
    const write = cmd !== "lookup";
    if (read && !this.sysCanRead) return -E.EPERM;
    if (write && !this.sysCanWrite) return -E.EPERM;
    return this.doBatch(cmd, b);
  }

  // ---- per-type parts of the syscall surface (defaults: what the kernel says for maps without the op) ----

  protected doLookup(_key: Uint8Array | null, _value: Uint8Array, _flags: number): number {
    return -E.ENOTSUPP;
  }
  protected doUpdate(_key: Uint8Array | null, _value: Uint8Array, _flags: number): number {
    return -E.ENOTSUPP;
  }
  protected doDelete(_key: Uint8Array | null): number {
    return -E.ENOTSUPP;
  }
  protected doGetNextKey(_key: Uint8Array | null, _next: Uint8Array): number {
    return -E.ENOTSUPP;
  }
  protected doLookupAndDelete(_key: Uint8Array | null, _value: Uint8Array, _flags: number): number {
    return -E.ENOTSUPP;
  }
  protected doBatch(_cmd: BatchCmd, _b: BatchArgs): number {
    return -E.ENOTSUPP;
  }

  // ---- the generic batch implementations (kernel/bpf/syscall.c, generic_map_*_batch) ----

  /** The generic batch commands' elem_flags check: BPF_F_LOCK alone, and only with a spin lock in the value. */
  private badElemFlags(elemFlags: number): boolean {
    return (elemFlags & ~BPF_F_LOCK) !== 0 || ((elemFlags & BPF_F_LOCK) !== 0 && this.spinLockOff < 0);
  }

  /** generic_map_lookup_batch: walks get_next_key from in_batch; out_batch is the last key copied. */
  protected genericLookupBatch(b: BatchArgs): number {
    const elemFlags = b.elemFlags ?? 0;
    if (this.badElemFlags(elemFlags)) return -E.EINVAL;
    const max = b.count;
    if (max === 0) return 0;
    b.count = 0;
    const ks = this.keySize;
    const vs = this.userValueSize;
    let prev: Uint8Array | null = b.inBatch ? b.inBatch.slice(0, ks) : null;
    let key: Uint8Array = new Uint8Array(ks);
    const value = new Uint8Array(vs);
    let cp = 0;
    let err = 0;
    let retry = 3; // MAP_LOOKUP_RETRIES
    while (cp < max) {
      err = this.doGetNextKey(prev, key);
      if (err) break;
      err = this.doLookup(key, value, elemFlags);
      if (err === -E.ENOENT) {
        if (retry) { retry--; continue; }
        err = -E.EINTR;
        break;
      }
      if (err) return err;
      b.keys.set(key, cp * ks);
      b.values.set(value, cp * vs);
      const t = prev ?? new Uint8Array(ks);
      prev = key;
      key = t;
      retry = 3;
      cp++;
    }
    b.count = cp;
    if (cp && prev) b.outBatch.set(prev.subarray(0, ks));
    return err;
  }

  /** generic_map_update_batch: elem_flags are the update flags; stops at the first error. */
  protected genericUpdateBatch(b: BatchArgs): number {
    const elemFlags = b.elemFlags ?? 0;
    if (this.badElemFlags(elemFlags)) return -E.EINVAL;
    const max = b.count;
    if (max === 0) return 0;
    b.count = 0;
    const ks = this.keySize;
    const vs = this.userValueSize;
    let cp = 0;
    let err = 0;
    for (; cp < max; cp++) {
      if ((cp + 1) * ks > b.keys.length || (cp + 1) * vs > b.values.length) { err = -E.EFAULT; break; }
      err = this.doUpdate(b.keys.subarray(cp * ks, (cp + 1) * ks), b.values.subarray(cp * vs, (cp + 1) * vs), elemFlags);
      if (err) break;
    }
    b.count = cp;
    return err;
  }

  /** generic_map_delete_batch. */
  protected genericDeleteBatch(b: BatchArgs): number {
    const elemFlags = b.elemFlags ?? 0;
    if (this.badElemFlags(elemFlags)) return -E.EINVAL;
    const max = b.count;
    if (max === 0) return 0;
    b.count = 0;
    const ks = this.keySize;
    let cp = 0;
    let err = 0;
    for (; cp < max; cp++) {
      if ((cp + 1) * ks > b.keys.length) { err = -E.EFAULT; break; }
      err = this.doDelete(b.keys.subarray(cp * ks, (cp + 1) * ks));
      if (err) break;
    }
    b.count = cp;
    return err;
  }

  // ================= the program side =================

  /** bpf_map_lookup_elem: the value's address, or 0. */
  lookupElem(_keyAddr: number, _cpu: number): number {
    return 0;
  }
  /** bpf_map_update_elem: 0 or -errno. */
  updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu: number): number {
    return -E.ENOTSUPP;
  }
  /** bpf_map_delete_elem: 0 or -errno. */
  deleteElem(_keyAddr: number, _cpu: number): number {
    return -E.ENOTSUPP;
  }
  /** bpf_map_push_elem (queue, stack, bloom filter). */
  pushElem(_valueAddr: number, _flags: number, _cpu: number): number {
    return -E.ENOTSUPP;
  }
  /** bpf_map_pop_elem (queue, stack). */
  popElem(_valueAddr: number, _cpu: number): number {
    return -E.ENOTSUPP;
  }
  /** bpf_map_peek_elem (queue, stack, bloom filter). */
  peekElem(_valueAddr: number, _cpu: number): number {
    return -E.ENOTSUPP;
  }
  /** bpf_map_lookup_percpu_elem: the value of `cpu` (per-CPU maps), or 0. */
  lookupPercpuElem(_keyAddr: number, _cpu: number): number {
    return 0;
  }

  // ================= conveniences for user code (throw MapError) =================

  /** The value of `key`, or undefined when absent. */
  lookup(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    const out = new Uint8Array(this.userValueSize);
    const r = this.sysLookup(key, out, flags);
    if (r === -E.ENOENT) return undefined;
    this.check(r, "lookup");
    return out;
  }

  update(key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    this.check(this.sysUpdate(key, value, flags), "update");
  }

  /** Deletes `key`; false when it was absent. */
  delete(key: Uint8Array | null): boolean {
    const r = this.sysDelete(key);
    if (r === -E.ENOENT) return false;
    this.check(r, "delete");
    return true;
  }

  /** Keys in get_next_key order. */
  *keys(): IterableIterator<Uint8Array> {
    let prev: Uint8Array | null = null;
    for (let guard = 0; ; guard++) {
      const next = new Uint8Array(this.keySize);
      const r = this.sysGetNextKey(prev, next);
      if (r === -E.ENOENT) return;
      this.check(r, "get_next_key");
      yield next;
      prev = next;
      if (guard > 1 << 26) throw new MapError("ELOOP", `iterate ${this.describe()}`);
    }
  }

  /** [key, value] pairs in get_next_key order (values via lookup; entries deleted meanwhile are skipped). */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /** Throws MapError for a negative errno. */
  protected check(r: number, op: string): void {
    if (r >= 0) return;
    const name = errnoName(r);
    const code: ErrnoName = name in ERRNO ? (name as ErrnoName) : "EINVAL";
    throw new MapError(code, `${op} ${this.describe()}`);
  }

  describe(): string {
    return `${this.typeName} map${this.name ? ` ${this.name}` : ""}`;
  }

  // ================= value copies that respect special fields =================

  /**
   * copy_map_value(): copies a value but never the special fields (spin lock,
   * timer...), which stay as they are in the destination.
   */
  protected copyValue(u8: Uint8Array, dst: number, src: number): void {
    const n = this.valueSize;
    const fields = this.valueFields;
    if (fields.length === 0) {
      if (n > 32) {
        u8.copyWithin(dst, src, src + n);
      } else if (((dst | src | n) & 3) === 0) {
        // Small aligned values: word moves beat copyWithin's call overhead.
        const i32 = this.space.i32;
        const d = dst >>> 2;
        const s = src >>> 2;
        for (let i = 0; i < n >>> 2; i++) i32[d + i] = i32[s + i];
      } else {
        for (let i = 0; i < n; i++) u8[dst + i] = u8[src + i];
      }
      return;
    }
    let at = 0;
    for (const f of fields) {
      if (f.offset > at) u8.copyWithin(dst + at, src + at, src + f.offset);
      at = f.offset + f.size;
    }
    if (at < n) u8.copyWithin(dst + at, src + at, src + n);
  }

  /** Copies a value from user bytes into the space, skipping special fields. */
  protected copyValueIn(u8: Uint8Array, dst: number, src: Uint8Array, srcOff: number): void {
    const n = this.valueSize;
    const fields = this.valueFields;
    if (fields.length === 0) {
      u8.set(src.subarray(srcOff, srcOff + n), dst);
      return;
    }
    let at = 0;
    for (const f of fields) {
      if (f.offset > at) u8.set(src.subarray(srcOff + at, srcOff + f.offset), dst + at);
      at = f.offset + f.size;
    }
    if (at < n) u8.set(src.subarray(srcOff + at, srcOff + n), dst + at);
  }

  /** Copies a value out to user bytes with special fields zeroed (check_and_init_map_value()). */
  protected copyValueOut(u8: Uint8Array, src: number, dst: Uint8Array, dstOff: number): void {
    const n = this.valueSize;
    dst.set(u8.subarray(src, src + n), dstOff);
    for (const f of this.valueFields) dst.fill(0, dstOff + f.offset, dstOff + f.offset + f.size);
  }

  /** Zeroes a value's special fields in the space (bpf_obj_free_fields() on a fresh element). */
  protected initSpecialFields(u8: Uint8Array, addr: number): void {
    for (const f of this.valueFields) u8.fill(0, addr + f.offset, addr + f.offset + f.size);
  }

  // ================= lifetime =================

  protected onDispose(fn: () => void): void {
    this.disposers.push(fn);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the map's memory in the space. Addresses it handed out become invalid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const fn of this.disposers.reverse()) fn();
    registries.get(this.space)?.delete(this.addr);
    this.space.free(this.addr);
  }
}

/** Reads a little-endian u32 key from user bytes. */
export function keyU32(key: Uint8Array): number {
  return (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0;
}

/** Writes a little-endian u32 into user bytes. */
export function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = v & 0xff;
  out[off + 1] = (v >>> 8) & 0xff;
  out[off + 2] = (v >>> 16) & 0xff;
  out[off + 3] = (v >>> 24) & 0xff;
}
