/**
 * A kernel map behind an fd: create, open (by pin or id), element operations,
 * batches, per-CPU values, freeze, zero-copy mmap of BPF_F_MMAPABLE arrays,
 * pinning and reuse of a pinned map after a compatibility check.
 *
 * Element operations go through one preallocated attr per map whose key and value
 * pointers point at scratch buffers owned by the map: a lookup copies the key in,
 * makes one bpf() call and copies the value out — no address lookups, no attr
 * encoding per call.
 */
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { BpfCommandError, ERRNO, type ErrnoName, LoadError, MapError, NotSupportedError, errnoName } from "../errors.js";
import { MapBatchAttr, MapCreateAttr, MapElemAttr } from "./attr/bpf-attr.js";
import { MapInfo } from "./attr/info.js";
import {
  addr, allIds, bpfRaw, fdById, mapFreeze, objGet, objInfoSimple, objPin,
} from "./bpf.js";
import { BPF_ANY, BpfCmd, MAP_TYPE_SINCE, MapFlags, MapType, mapTypeName } from "./constants.js";
import { Fd } from "./fd.js";
import { ensureBpffs, onBpffs, possibleCpus } from "./fs.js";
import { type Mapping, sys, unmapWhenUnreachable } from "./sys.js";

/** What a map is: the parameters of BPF_MAP_CREATE. */
export interface MapOptions {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** map_flags: MapFlags.* (BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, …). */
  readonly flags?: number;
  /** Up to 15 bytes (BPF_OBJ_NAME_LEN - 1); letters, digits, '_' and '.'. */
  readonly name?: string;
  /** Map-in-map: an fd of a map shaped like the inner maps. */
  readonly innerMapFd?: number;
  readonly numaNode?: number;
  readonly ifindex?: number;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly btfVmlinuxValueTypeId?: number;
  /** map_extra: bloom filter hash count, arena start address. */
  readonly mapExtra?: bigint;
}

/** bpf_map_info, decoded. */
export interface MapInfoData {
  readonly type: number;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly ifindex: number;
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly btfVmlinuxValueTypeId: number;
  readonly mapExtra: bigint;
}

/** Reuse of a pinned map whose shape differs from what was asked for. */
export class MapIncompatibleError extends LoadError {
  constructor(
    readonly path: string,
    readonly mismatches: readonly string[],
  ) {
    super(`pinned map ${path} is incompatible: ${mismatches.join(", ")}`);
  }
}

/** Per-CPU map types: a lookup returns one value per possible CPU. */
const PERCPU_TYPES: ReadonlySet<number> = new Set([
  MapType.BPF_MAP_TYPE_PERCPU_HASH, MapType.BPF_MAP_TYPE_PERCPU_ARRAY,
  MapType.BPF_MAP_TYPE_LRU_PERCPU_HASH, MapType.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);

/** Map types whose element operations take no key (queue, stack, bloom filter). */
const KEYLESS_TYPES: ReadonlySet<number> = new Set([
  MapType.BPF_MAP_TYPE_QUEUE, MapType.BPF_MAP_TYPE_STACK, MapType.BPF_MAP_TYPE_BLOOM_FILTER,
]);

function mapError(errno: number, what: string): Error {
  const name = errnoName(errno);
  return name in ERRNO ? new MapError(name as ErrnoName, what) : new BpfCommandError(name, what);
}

const ENOENT = 2;

function decodeInfo(info: Buffer): MapInfoData {
  return {
    type: MapInfo.num(info, "type"),
    id: MapInfo.num(info, "id"),
    keySize: MapInfo.num(info, "key_size"),
    valueSize: MapInfo.num(info, "value_size"),
    maxEntries: MapInfo.num(info, "max_entries"),
    flags: MapInfo.num(info, "map_flags"),
    name: MapInfo.str(info, "name"),
    ifindex: MapInfo.num(info, "ifindex"),
    btfId: MapInfo.num(info, "btf_id"),
    btfKeyTypeId: MapInfo.num(info, "btf_key_type_id"),
    btfValueTypeId: MapInfo.num(info, "btf_value_type_id"),
    btfVmlinuxValueTypeId: MapInfo.num(info, "btf_vmlinux_value_type_id"),
    mapExtra: MapInfo.u64(info, "map_extra"),
  };
}

/** Reads bpf_map_info for a map fd. */
export function mapInfoByFd(fd: number): MapInfoData {
  return decodeInfo(objInfoSimple(fd, MapInfo));
}

/**
 * A zero-copy view of an mmap'ed BPF_F_MMAPABLE array. close() releases it: the
 * memory is unmapped once `bytes` is no longer referenced anywhere, so a stale
 * view never faults (see unmapWhenUnreachable).
 */
export class MapMmap implements Disposable {
  #mapping: Mapping | null;
  /** The map's values, element i at i * round_up(value_size, 8). */
  readonly bytes: Uint8Array;

  constructor(mapping: Mapping, length: number) {
    this.#mapping = mapping;
    this.bytes = new Uint8Array(mapping.buffer, 0, length);
  }

  close(): void {
    if (this.#mapping) unmapWhenUnreachable(this.#mapping);
    this.#mapping = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class LinuxMap implements Disposable {
  readonly fd: Fd;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly id: number;
  /** Bytes a lookup returns: value_size, or round_up(value_size, 8) * possible CPUs for per-CPU maps. */
  readonly valueBytes: number;
  readonly perCpu: boolean;

  // One attr for every element operation: map_fd fixed, key/value pointing at scratch.
  private readonly elemAttr: Buffer;
  private readonly keyBuf: Buffer;
  private readonly valueBuf: Buffer;
  private readonly nextKeyBuf: Buffer;
  private readonly keyAddr: bigint;
  private readonly valueAddr: bigint;
  private readonly nextKeyAddr: bigint;
  private readonly valueView: Buffer;
  private readonly keyless: boolean;
  private attrKey = 0n;
  private attrValue = 0n;
  private attrFlags = 0;

  private constructor(fd: Fd, info: MapInfoData) {
    this.fd = fd;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.name = info.name;
    this.id = info.id;
    this.perCpu = PERCPU_TYPES.has(info.type);
    this.valueBytes = this.perCpu ? ((info.valueSize + 7) & ~7) * possibleCpus() : info.valueSize;
    this.elemAttr = MapElemAttr.encode({ map_fd: fd.value });
    this.keyBuf = Buffer.alloc(Math.max(info.keySize, 1));
    this.valueBuf = Buffer.alloc(Math.max(this.valueBytes, 1));
    this.nextKeyBuf = Buffer.alloc(Math.max(info.keySize, 1));
    const s = sys();
    this.keyAddr = s.address(this.keyBuf);
    this.valueAddr = s.address(this.valueBuf);
    this.nextKeyAddr = s.address(this.nextKeyBuf);
    this.valueView = this.valueBuf.subarray(0, this.valueBytes);
    this.keyless = KEYLESS_TYPES.has(info.type) || info.keySize === 0;
  }

  /** BPF_MAP_CREATE. */
  static create(opts: MapOptions): LinuxMap {
    if (opts.name !== undefined && !/^[A-Za-z0-9_.]{0,15}$/.test(opts.name)) {
      throw new MapError("EINVAL", `map name '${opts.name}': up to 15 of [A-Za-z0-9_.]`);
    }
    const attr = MapCreateAttr.encode({
      map_type: opts.type,
      key_size: opts.keySize,
      value_size: opts.valueSize,
      max_entries: opts.maxEntries,
      map_flags: opts.flags ?? 0,
      inner_map_fd: opts.innerMapFd ?? 0,
      numa_node: opts.numaNode ?? 0,
      map_name: opts.name ?? "",
      map_ifindex: opts.ifindex ?? 0,
      btf_fd: opts.btfFd ?? 0,
      btf_key_type_id: opts.btfKeyTypeId ?? 0,
      btf_value_type_id: opts.btfValueTypeId ?? 0,
      btf_vmlinux_value_type_id: opts.btfVmlinuxValueTypeId ?? 0,
      map_extra: opts.mapExtra ?? 0n,
    });
    const r = bpfRaw(BpfCmd.BPF_MAP_CREATE, attr, MapCreateAttr.size);
    if (r < 0) {
      const what = `create ${mapTypeName(opts.type)} map${opts.name ? ` ${opts.name}` : ""}`;
      if (r === -22 /* EINVAL */ && !(opts.type in MAP_TYPE_SINCE)) {
        throw new NotSupportedError(`map type ${opts.type}`, "unknown to tsbpf and refused by the kernel");
      }
      throw mapError(-r, what);
    }
    return LinuxMap.fromFd(new Fd(r, `map ${opts.name ?? mapTypeName(opts.type)}`));
  }

  /** Wraps an fd (taking ownership) and reads its shape from the kernel. */
  static fromFd(fd: Fd): LinuxMap {
    try {
      return new LinuxMap(fd, mapInfoByFd(fd.value));
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /** BPF_MAP_GET_FD_BY_ID. */
  static fromId(id: number, openFlags = 0): LinuxMap {
    return LinuxMap.fromFd(new Fd(fdById("map", id, openFlags), `map id ${id}`));
  }

  /** BPF_OBJ_GET on a pinned map. fileFlags: BPF_F_RDONLY / BPF_F_WRONLY. */
  static fromPin(path: string, fileFlags = 0): LinuxMap {
    const fd = new Fd(objGet(path, fileFlags), `map ${path}`);
    return LinuxMap.fromFd(fd);
  }

  /**
   * The map pinned at `path` if it matches `opts` (type, key/value size,
   * max_entries, flags, map_extra — libbpf's reuse check), else a new map pinned
   * there. Throws MapIncompatibleError naming every mismatch.
   */
  static createOrReusePinned(opts: MapOptions, path: string): LinuxMap {
    if (existsSync(path)) {
      const m = LinuxMap.fromPin(path);
      const mismatches = m.incompatibilities(opts);
      if (mismatches.length > 0) {
        m.close();
        throw new MapIncompatibleError(path, mismatches);
      }
      return m;
    }
    const m = LinuxMap.create(opts);
    try {
      m.pin(path);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  /** How this map differs from `opts` ("key_size 4 != 8", …); empty when compatible. */
  incompatibilities(opts: MapOptions): string[] {
    const out: string[] = [];
    const cmp = (what: string, have: number | bigint, want: number | bigint): void => {
      if (have !== want) out.push(`${what} ${have} != ${want}`);
    };
    if (this.type !== opts.type) out.push(`type ${mapTypeName(this.type)} != ${mapTypeName(opts.type)}`);
    cmp("key_size", this.keySize, opts.keySize);
    cmp("value_size", this.valueSize, opts.valueSize);
    // A perf event array created with max_entries 0 gets one slot per possible CPU (libbpf does the same).
    const wantEntries = opts.type === MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && opts.maxEntries === 0 ? possibleCpus() : opts.maxEntries;
    cmp("max_entries", this.maxEntries, wantEntries);
    if (this.flags !== (opts.flags ?? 0)) out.push(`map_flags 0x${this.flags.toString(16)} != 0x${(opts.flags ?? 0).toString(16)}`);
    const extra = this.info().mapExtra;
    cmp("map_extra", extra, opts.mapExtra ?? 0n);
    return out;
  }

  /** bpf_map_info, fresh from the kernel. */
  info(): MapInfoData {
    return mapInfoByFd(this.fd.value);
  }

  // --- element operations ---------------------------------------------------------

  private what(op: string): string {
    return `map ${this.name || mapTypeName(this.type)}: ${op}`;
  }

  private setKey(key: Uint8Array | null): bigint {
    if (this.keyless) {
      if (key !== null && key.length !== 0) throw new MapError("EINVAL", this.what(`${mapTypeName(this.type)} maps take no key`));
      return 0n;
    }
    if (key === null) throw new MapError("EINVAL", this.what("key required"));
    if (key.length !== this.keySize) {
      throw new MapError("EINVAL", this.what(`key is ${key.length} bytes, key_size is ${this.keySize}`));
    }
    this.keyBuf.set(key);
    return this.keyAddr;
  }

  /**
   * One element command through the shared attr. Fields are rewritten only when
   * they change (a run of lookups writes nothing); the buffers the attr points at
   * belong to this map, so no keep-alive bookkeeping is needed.
   */
  private elem(cmd: number, keyAddr: bigint, valueAddr: bigint, flags: number): number {
    if (this.fd.closed) throw new MapError("EBADF", this.what("used after close"));
    const a = this.elemAttr;
    if (keyAddr !== this.attrKey) {
      a.writeBigUInt64LE(keyAddr, 8);
      this.attrKey = keyAddr;
    }
    if (valueAddr !== this.attrValue) {
      a.writeBigUInt64LE(valueAddr, 16);
      this.attrValue = valueAddr;
    }
    if (flags !== this.attrFlags) {
      a.writeUInt32LE(flags >>> 0, 24); // BPF_ANY/NOEXIST/EXIST/F_LOCK all fit the low word
      this.attrFlags = flags;
    }
    return sys().bpf(cmd, a, MapElemAttr.size);
  }

  /**
   * Looks key up into `out` (valueBytes long): the allocation-free form. Returns
   * false when the key is absent (ENOENT).
   */
  lookupInto(key: Uint8Array | null, out: Uint8Array, flags = 0): boolean {
    if (out.length < this.valueBytes) throw new MapError("EINVAL", this.what(`output is ${out.length} bytes, need ${this.valueBytes}`));
    const r = this.elem(BpfCmd.BPF_MAP_LOOKUP_ELEM, this.setKey(key), this.valueAddr, flags);
    if (r === -ENOENT) return false;
    if (r < 0) throw mapError(-r, this.what("lookup"));
    out.set(this.valueView);
    return true;
  }

  /** The value for key (a copy), or undefined when absent. Queue/stack: peek (key null). */
  lookup(key: Uint8Array | null, flags = 0): Buffer | undefined {
    const r = this.elem(BpfCmd.BPF_MAP_LOOKUP_ELEM, this.setKey(key), this.valueAddr, flags);
    if (r === -ENOENT) return undefined;
    if (r < 0) throw mapError(-r, this.what("lookup"));
    return Buffer.from(this.valueBuf.subarray(0, this.valueBytes));
  }

  /** Per-CPU maps: one value per possible CPU. */
  lookupPerCpu(key: Uint8Array | null): Buffer[] | undefined {
    if (!this.perCpu) throw new MapError("EINVAL", this.what(`${mapTypeName(this.type)} is not a per-CPU map`));
    const all = this.lookup(key);
    if (!all) return undefined;
    const stride = (this.valueSize + 7) & ~7;
    return Array.from({ length: all.length / stride }, (_, i) => all.subarray(i * stride, i * stride + this.valueSize));
  }

  /**
   * BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST (| BPF_F_LOCK).
   * Queue/stack: push (key null). Per-CPU maps take valueBytes (see updatePerCpu).
   */
  update(key: Uint8Array | null, value: Uint8Array, flags: number = BPF_ANY): void {
    if (value.length !== this.valueBytes) {
      throw new MapError("EINVAL", this.what(`value is ${value.length} bytes, need ${this.valueBytes}`));
    }
    this.valueBuf.set(value);
    const r = this.elem(BpfCmd.BPF_MAP_UPDATE_ELEM, this.setKey(key), this.valueAddr, flags);
    if (r < 0) throw mapError(-r, this.what("update"));
  }

  /** Per-CPU maps: one value (value_size bytes) per possible CPU. */
  updatePerCpu(key: Uint8Array | null, values: readonly Uint8Array[], flags: number = BPF_ANY): void {
    if (!this.perCpu) throw new MapError("EINVAL", this.what(`${mapTypeName(this.type)} is not a per-CPU map`));
    const cpus = possibleCpus();
    if (values.length !== cpus) throw new MapError("EINVAL", this.what(`${values.length} values for ${cpus} possible CPUs`));
    const stride = (this.valueSize + 7) & ~7;
    const all = Buffer.alloc(stride * cpus);
    values.forEach((v, i) => {
      if (v.length !== this.valueSize) throw new MapError("EINVAL", this.what(`value is ${v.length} bytes, value_size is ${this.valueSize}`));
      all.set(v, i * stride);
    });
    this.update(key, all, flags);
  }

  /** BPF_MAP_DELETE_ELEM. Throws MapError ENOENT when the key is absent. */
  delete(key: Uint8Array): void {
    const r = this.elem(BpfCmd.BPF_MAP_DELETE_ELEM, this.setKey(key), 0n, 0);
    if (r < 0) throw mapError(-r, this.what("delete"));
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: queue/stack pop (key null), or hash take. Undefined when empty. */
  lookupAndDelete(key: Uint8Array | null = null, flags = 0): Buffer | undefined {
    const r = this.elem(BpfCmd.BPF_MAP_LOOKUP_AND_DELETE_ELEM, this.setKey(key), this.valueAddr, flags);
    if (r === -ENOENT) return undefined;
    if (r < 0) throw mapError(-r, this.what("lookup and delete"));
    return Buffer.from(this.valueBuf.subarray(0, this.valueBytes));
  }

  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (null: the first key), or undefined at the end. */
  nextKey(key: Uint8Array | null): Buffer | undefined {
    const keyAddr = key === null ? 0n : this.setKey(key);
    const r = this.elem(BpfCmd.BPF_MAP_GET_NEXT_KEY, keyAddr, this.nextKeyAddr, 0);
    if (r === -ENOENT) return undefined;
    if (r < 0) throw mapError(-r, this.what("next key"));
    return Buffer.from(this.nextKeyBuf.subarray(0, this.keySize));
  }

  /** Every key, by BPF_MAP_GET_NEXT_KEY. A hash map changed meanwhile may restart (kernel semantics). */
  *keys(): Generator<Buffer> {
    let k = this.nextKey(null);
    while (k) {
      yield k;
      k = this.nextKey(k);
    }
  }

  /** Every [key, value]; keys deleted between the two calls are skipped. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  // --- batches --------------------------------------------------------------------

  private batchCall(
    cmd: number, keys: Buffer, values: Buffer | null, count: number,
    inBatch: Buffer | null, outBatch: Buffer | null, elemFlags: number,
  ): { r: number; count: number } {
    const attr = MapBatchAttr.encode({
      in_batch: addr(inBatch), out_batch: addr(outBatch), keys: addr(keys), values: addr(values),
      count, map_fd: this.fd.value, elem_flags: elemFlags,
    });
    const r = bpfRaw(cmd, attr, MapBatchAttr.size, [keys, values, inBatch, outBatch]);
    return { r, count: MapBatchAttr.num(attr, "count") };
  }

  /**
   * BPF_MAP_LOOKUP_BATCH (or, with `andDelete`, BPF_MAP_LOOKUP_AND_DELETE_BATCH):
   * every entry, `chunk` at a time. The batch cursor is opaque to user space.
   */
  lookupBatch(opts: { chunk?: number; andDelete?: boolean; elemFlags?: number } = {}): Array<[Buffer, Buffer]> {
    const chunk = opts.chunk ?? 64;
    const cmd = opts.andDelete ? BpfCmd.BPF_MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.BPF_MAP_LOOKUP_BATCH;
    // The cursor is a key for arrays and a bucket index (u32) for hash maps: size it for both.
    const cursorSize = Math.max(this.keySize, 8);
    const out: Array<[Buffer, Buffer]> = [];
    const keys = Buffer.alloc(chunk * this.keySize);
    const values = Buffer.alloc(chunk * this.valueBytes);
    let inBatch: Buffer | null = null;
    let outBatch: Buffer = Buffer.alloc(cursorSize);
    for (;;) {
      const { r, count } = this.batchCall(cmd, keys, values, chunk, inBatch, outBatch, opts.elemFlags ?? 0);
      if (r < 0 && r !== -ENOENT) throw mapError(-r, this.what(opts.andDelete ? "lookup and delete batch" : "lookup batch"));
      for (let i = 0; i < count; i++) {
        out.push([
          Buffer.from(keys.subarray(i * this.keySize, (i + 1) * this.keySize)),
          Buffer.from(values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes)),
        ]);
      }
      if (r === -ENOENT) return out;
      [inBatch, outBatch] = [outBatch, inBatch ?? Buffer.alloc(cursorSize)];
    }
  }

  /** BPF_MAP_UPDATE_BATCH: returns how many were written (all, unless it throws). */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], elemFlags = 0): number {
    if (keys.length !== values.length) throw new MapError("EINVAL", this.what(`${keys.length} keys but ${values.length} values`));
    const k = this.packKeys(keys);
    const v = Buffer.alloc(values.length * this.valueBytes);
    values.forEach((val, i) => {
      if (val.length !== this.valueBytes) throw new MapError("EINVAL", this.what(`value ${i} is ${val.length} bytes, need ${this.valueBytes}`));
      v.set(val, i * this.valueBytes);
    });
    const { r, count } = this.batchCall(BpfCmd.BPF_MAP_UPDATE_BATCH, k, v, keys.length, null, null, elemFlags);
    if (r < 0) throw mapError(-r, this.what(`update batch (${count} of ${keys.length} written)`));
    return count;
  }

  /** BPF_MAP_DELETE_BATCH: returns how many were deleted; a missing key fails with ENOENT. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    const k = this.packKeys(keys);
    const { r, count } = this.batchCall(BpfCmd.BPF_MAP_DELETE_BATCH, k, null, keys.length, null, null, 0);
    if (r < 0) throw mapError(-r, this.what(`delete batch (${count} of ${keys.length} deleted)`));
    return count;
  }

  private packKeys(keys: readonly Uint8Array[]): Buffer {
    const k = Buffer.alloc(keys.length * this.keySize);
    keys.forEach((key, i) => {
      if (key.length !== this.keySize) throw new MapError("EINVAL", this.what(`key ${i} is ${key.length} bytes, key_size is ${this.keySize}`));
      k.set(key, i * this.keySize);
    });
    return k;
  }

  // --- whole-map operations ---------------------------------------------------------

  /** BPF_MAP_FREEZE: no more writes from user space. */
  freeze(): void {
    mapFreeze(this.fd.value);
  }

  /**
   * mmap of a BPF_F_MMAPABLE array (or arena): a zero-copy view of the values,
   * shared with programs. Read-only for frozen maps (`readOnly`).
   */
  mmap(opts: { readOnly?: boolean } = {}): MapMmap {
    if (!(this.flags & MapFlags.BPF_F_MMAPABLE)) {
      throw new MapError("EINVAL", this.what("mmap needs BPF_F_MMAPABLE"));
    }
    if (this.type !== MapType.BPF_MAP_TYPE_ARRAY) {
      throw new NotSupportedError(`mmap of ${mapTypeName(this.type)} maps`, "tsbpf maps arrays only");
    }
    const length = ((this.valueSize + 7) & ~7) * this.maxEntries;
    const page = sys().pageSize;
    const mapLen = Math.ceil(length / page) * page;
    // PROT_READ = 1, PROT_WRITE = 2. include/uapi/asm-generic/mman-common.h.
    const m = sys().mmap(this.fd.value, mapLen, opts.readOnly ? 1 : 3, 0);
    if (typeof m === "number") throw mapError(-m, this.what("mmap"));
    return new MapMmap(m, length);
  }

  /** BPF_OBJ_PIN at path (a bpffs must be mounted there; /sys/fs/bpf is mounted when missing). */
  pin(path: string): void {
    pinFd(this.fd.value, path);
  }

  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Pins an object fd, mounting /sys/fs/bpf and creating parent directories as needed. */
export function pinFd(fd: number, path: string): void {
  if (path.startsWith("/sys/fs/bpf/") || path === "/sys/fs/bpf") ensureBpffs();
  const dir = dirname(path);
  if (!existsSync(dir) && onBpffs(dir)) mkdirSync(dir, { recursive: true });
  objPin(fd, path);
}

/** Removes a pin (the object lives on while fds or other pins refer to it). */
export function unpin(path: string): void {
  unlinkSync(path);
}

/** Ids of every map in the system. */
export function mapIds(): number[] {
  return [...allIds("map")];
}

/** Raw bytes helpers for tests and callers that think in numbers. */
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
export const u64 = (v: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
  return b;
};
