/**
 * BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c,
 * Documentation/bpf/map_array.rst): max_entries zero-filled values indexed by a
 * u32 key; elements can't be deleted; every index always exists.
 *
 * Values sit in one block of the space, elem_size = round_up(value_size, 8)
 * apart, so the JIT can inline a lookup as the kernel's array_map_gen_lookup
 * does (`inline`). A per-CPU array keeps one such block per CPU.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace, Region } from "../memory.js";
import { BpfMap, type BatchArgs, type BatchCmd, type MapAttrs, type MapOptions, keyU32, putU32, roundUp8 } from "./map.js";
import {
  BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_INNER_MAP, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NUMA_NODE, BPF_F_PRESERVE_ELEMS,
  BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_MAP_TYPE, BPF_NOEXIST, PAGE_SIZE, PCPU_MIN_UNIT_SIZE,
} from "./uapi.js";

const E = ERRNO;

/** The u32 index at a key address (keys on the stack are aligned; packet keys may not be). */
function indexAt(u8: Uint8Array, u32: Uint32Array, addr: number): number {
  if ((addr & 3) === 0) return u32[addr >>> 2];
  return (u8[addr] | (u8[addr + 1] << 8) | (u8[addr + 2] << 16) | (u8[addr + 3] << 24)) >>> 0;
}

/** kernel/bpf/arraymap.c, ARRAY_CREATE_FLAG_MASK. */
export const ARRAY_CREATE_FLAG_MASK =
  BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;

/** include/linux/bpf.h, bpf_map_flags_access_ok(): not both RDONLY_PROG and WRONLY_PROG. */
export function flagsAccessOk(flags: number): boolean {
  return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !== (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

/** array_map_alloc_check() (also used by fd arrays): 0 or -errno. */
export function arrayAllocCheck(attrs: MapAttrs): number {
  const percpu = attrs.mapType === BPF_MAP_TYPE.PERCPU_ARRAY;
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  const numa = (flags & BPF_F_NUMA_NODE) !== 0;
  if (attrs.maxEntries === 0 || attrs.keySize !== 4 || attrs.valueSize === 0 ||
      (flags & ~ARRAY_CREATE_FLAG_MASK) || !flagsAccessOk(flags) || (percpu && numa)) return -E.EINVAL;
  if (attrs.mapType !== BPF_MAP_TYPE.ARRAY && (flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP))) return -E.EINVAL;
  if (attrs.mapType !== BPF_MAP_TYPE.PERF_EVENT_ARRAY && (flags & BPF_F_PRESERVE_ELEMS)) return -E.EINVAL;
  if (attrs.valueSize > 0x7fffffff) return -E.E2BIG;
  if (percpu && roundUp8(attrs.valueSize) > PCPU_MIN_UNIT_SIZE) return -E.E2BIG;
  return 0;
}

/** What the JIT needs to inline a lookup: value = base + index * elemSize when index < maxEntries. */
export interface ArrayInline {
  readonly base: number;
  readonly elemSize: number;
  readonly maxEntries: number;
}

/** A user-space mapping of an mmapable array's values (BPF_F_MMAPABLE). */
export interface MappedValues {
  readonly addr: number;
  readonly size: number;
  readonly writable: boolean;
  /** A view of the values; take a fresh one after anything may have grown the space. */
  bytes(): Uint8Array;
  unmap(): void;
}

/** array_map_get_next_key(): NULL or out-of-range key -> 0; the last index -> ENOENT. */
function arrayGetNextKey(max: number, key: Uint8Array | null, next: Uint8Array): number {
  const index = key ? keyU32(key) : 0xffffffff;
  if (!key || index >= max) {
    putU32(next, 0, 0);
    return 0;
  }
  if (index === max - 1) return -E.ENOENT;
  putU32(next, 0, index + 1);
  return 0;
}

/** What array and per-CPU array maps share: elements cannot be deleted, keys are the indexes, generic batches. */
abstract class IndexedMap extends BpfMap {
  protected override doDelete(): number {
    return -E.EINVAL;
  }

  protected override doGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    return arrayGetNextKey(this.maxEntries, key, next);
  }

  protected override doBatch(cmd: BatchCmd, b: BatchArgs): number {
    if (cmd === "lookup") return this.genericLookupBatch(b);
    if (cmd === "update") return this.genericUpdateBatch(b);
    return -E.ENOTSUPP;
  }
}

export class ArrayMap extends IndexedMap {
  readonly elemSize: number;
  /** Address of element 0. */
  readonly base: number;
  readonly region: Region;
  private readonly areaSize: number;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.elemSize = roundUp8(this.valueSize);
    const bytes = this.elemSize * this.maxEntries;
    const mmapable = (this.flags & BPF_F_MMAPABLE) !== 0;
    // An mmapable array's values start on a page and fill whole pages (bpf_map_area_mmapable_alloc).
    this.areaSize = mmapable ? Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE : bytes;
    this.base = space.alloc(this.areaSize, mmapable ? PAGE_SIZE : 8);
    this.region = space.mapRegion(this.base, this.areaSize, "map_value", this.progCanWrite, this.name || "array");
    this.onDispose(() => {
      space.unmapRegion(this.region);
      space.free(this.base);
    });
  }

  /** Base address and stride for the JIT's inline lookup (array_map_gen_lookup). */
  get inline(): ArrayInline {
    return { base: this.base, elemSize: this.elemSize, maxEntries: this.maxEntries };
  }

  // ---- program side ----

  override lookupElem(keyAddr: number): number {
    const index = indexAt(this.space.u8, this.space.u32, keyAddr);
    return index < this.maxEntries ? this.base + index * this.elemSize : 0;
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number): number {
    const index = indexAt(this.space.u8, this.space.u32, keyAddr);
    const r = this.checkUpdate(index, flags);
    if (r) return r;
    this.copyValue(this.space.u8, this.base + index * this.elemSize, valueAddr);
    return 0;
  }

  override deleteElem(): number {
    return -E.EINVAL;
  }

  /** array_map_update_elem()'s checks, in its order. */
  private checkUpdate(index: number, flags: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -E.EINVAL;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (flags & BPF_NOEXIST) return -E.EEXIST;
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    return 0;
  }

  // ---- syscall side ----

  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (index >= this.maxEntries) return -E.ENOENT;
    this.copyValueOut(this.space.u8, this.base + index * this.elemSize, value, 0);
    return 0;
  }

  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const index = key ? keyU32(key) : 0xffffffff;
    const r = this.checkUpdate(index, flags);
    if (r) return r;
    this.copyValueIn(this.space.u8, this.base + index * this.elemSize, value, 0);
    return 0;
  }

  /**
   * mmap() of a BPF_F_MMAPABLE array: a view of the value area. A writable
   * mapping of a frozen map fails with EPERM, and freezing fails with EBUSY while
   * a writable mapping exists (kernel/bpf/syscall.c, bpf_map_mmap / map_freeze).
   */
  mmap(writable: boolean): MappedValues | number {
    if (!(this.flags & BPF_F_MMAPABLE)) return -E.ENODEV;
    if (writable && (this.frozen || !this.sysCanWrite)) return -E.EPERM;
    if (!writable && !this.sysCanRead) return -E.EPERM;
    if (writable) this.writeMappings++;
    let unmapped = false;
    const space = this.space;
    const { base, areaSize } = this;
    return {
      addr: base,
      size: areaSize,
      writable,
      bytes: () => space.u8.subarray(base, base + areaSize),
      unmap: () => {
        if (unmapped) return;
        unmapped = true;
        if (writable) this.writeMappings--;
      },
    };
  }
}

export class PercpuArrayMap extends IndexedMap {
  readonly elemSize: number;
  /** Address of CPU 0's element 0; CPU c's block starts cpuStride bytes later per CPU. */
  readonly base: number;
  readonly cpuStride: number;
  readonly region: Region;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.elemSize = roundUp8(this.valueSize);
    this.cpuStride = this.elemSize * this.maxEntries;
    const bytes = this.cpuStride * this.ncpus;
    this.base = space.alloc(bytes, 8);
    this.region = space.mapRegion(this.base, bytes, "map_value", this.progCanWrite, this.name || "percpu_array");
    this.onDispose(() => {
      space.unmapRegion(this.region);
      space.free(this.base);
    });
  }

  override get percpu(): boolean {
    return true;
  }

  /** Inline lookup parameters for programs running on `cpu`. */
  inlineFor(cpu: number): ArrayInline {
    return { base: this.base + cpu * this.cpuStride, elemSize: this.elemSize, maxEntries: this.maxEntries };
  }

  override lookupElem(keyAddr: number, cpu: number): number {
    const index = indexAt(this.space.u8, this.space.u32, keyAddr);
    return index < this.maxEntries ? this.base + cpu * this.cpuStride + index * this.elemSize : 0;
  }

  override lookupPercpuElem(keyAddr: number, cpu: number): number {
    if (cpu >= this.ncpus || cpu < 0) return 0;
    return this.lookupElem(keyAddr, cpu);
  }

  /** A program's update writes its own CPU's value (array_map_update_elem, this_cpu_ptr). */
  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const index = indexAt(this.space.u8, this.space.u32, keyAddr);
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -E.EINVAL;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (flags & BPF_NOEXIST) return -E.EEXIST;
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    this.copyValue(this.space.u8, this.base + cpu * this.cpuStride + index * this.elemSize, valueAddr);
    return 0;
  }

  override deleteElem(): number {
    return -E.EINVAL;
  }

  /** bpf_percpu_array_copy(): every CPU's round_up(value_size, 8) bytes, CPU 0 first. */
  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (index >= this.maxEntries) return -E.ENOENT;
    const u8 = this.space.u8;
    const es = this.elemSize;
    for (let c = 0; c < this.ncpus; c++) {
      const src = this.base + c * this.cpuStride + index * es;
      value.set(u8.subarray(src, src + es), c * es);
      for (const f of this.valueFields) value.fill(0, c * es + f.offset, c * es + f.offset + f.size);
    }
    return 0;
  }

  /** bpf_percpu_array_update(): flags above BPF_EXIST (BPF_F_LOCK included) are EINVAL. */
  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (flags > BPF_EXIST) return -E.EINVAL;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (flags === BPF_NOEXIST) return -E.EEXIST;
    const u8 = this.space.u8;
    const es = this.elemSize;
    for (let c = 0; c < this.ncpus; c++) {
      const dst = this.base + c * this.cpuStride + index * es;
      if (this.valueFields.length === 0) u8.set(value.subarray(c * es, c * es + es), dst);
      else this.copyValueIn(u8, dst, value, c * es);
    }
    return 0;
  }

}
