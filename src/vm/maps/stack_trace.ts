/**
 * BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): bpf_get_stackid() stores a
 * stack (u64 instruction pointers) in bucket jhash2(ips) & (n_buckets - 1) and
 * returns the bucket as the stack id. A different stack hashing to an occupied
 * bucket fails with EEXIST unless BPF_F_REUSE_STACKID replaces it;
 * BPF_F_FAST_STACK_CMP trusts a hash match without comparing. User space looks
 * stacks up by id (the rest of the value zeroed), deletes them, and walks ids
 * with get_next_key; update is EINVAL. Buckets are preallocated (max_entries of
 * them; ENOMEM when none is free). Stacks are never pointed to by programs, so
 * they live on the JS side.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { jhashWords } from "./jhash.js";
import { BpfMap, type MapAttrs, type MapOptions, keyU32, putU32 } from "./map.js";
import {
  BPF_F_FAST_STACK_CMP, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_REUSE_STACKID, BPF_F_SKIP_FIELD_MASK, BPF_F_STACK_BUILD_ID,
  BPF_F_USER_STACK, BPF_F_WRONLY, PERF_MAX_STACK_DEPTH,
} from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/stackmap.c, STACK_CREATE_FLAG_MASK. */
export const STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;
/** sizeof(struct bpf_stack_build_id). */
export const BPF_STACK_BUILD_ID_SIZE = 32;

/** stack_map_alloc()'s checks: 0 or -errno. */
export function stackTraceAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  if (flags & ~STACK_CREATE_FLAG_MASK) return -E.EINVAL;
  if (attrs.maxEntries === 0 || attrs.keySize !== 4 || attrs.valueSize < 8 || attrs.valueSize % 8) return -E.EINVAL;
  const entry = flags & BPF_F_STACK_BUILD_ID ? BPF_STACK_BUILD_ID_SIZE : 8;
  if (attrs.valueSize % entry) return -E.EINVAL;
  if (attrs.valueSize / entry > PERF_MAX_STACK_DEPTH) return -E.EINVAL;
  return 0;
}

interface Bucket {
  hash: number;
  /** lo/hi word pairs of the ips. */
  ips: Uint32Array;
}

export class StackTraceMap extends BpfMap {
  readonly nBuckets: number;
  private readonly buckets: (Bucket | undefined)[];
  private free: number;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    let n = 1;
    while (n < this.maxEntries) n *= 2;
    this.nBuckets = n;
    this.buckets = new Array<Bucket | undefined>(n).fill(undefined);
    this.free = this.maxEntries;
  }

  /** Stack depth a value holds. */
  get maxDepth(): number {
    return this.valueSize / 8;
  }

  /**
   * bpf_get_stackid() core: `ips` holds the whole stack as (lo, hi) word pairs,
   * innermost first; BPF_F_SKIP_FIELD_MASK frames are skipped and at most
   * value_size / 8 kept. Returns the id or -errno.
   */
  getStackId(ips: Uint32Array, flags: number): number {
    if (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID)) return -E.EINVAL;
    if (this.flags & BPF_F_STACK_BUILD_ID) return -E.EOPNOTSUPP;
    const skip = flags & BPF_F_SKIP_FIELD_MASK;
    const total = ips.length >>> 1;
    // A stack with no frames left after skipping is EFAULT (get_perf_callchain gave nothing).
    if (total <= skip) return -E.EFAULT;
    const nr = Math.min(total - skip, this.maxDepth);
    const trace = ips.subarray(2 * skip, 2 * (skip + nr));
    const hash = jhashWords(new Int32Array(trace.buffer, trace.byteOffset, trace.length), 0, trace.length, 0);
    const id = (hash & (this.nBuckets - 1)) >>> 0;
    const b = this.buckets[id];
    const hashMatches = b !== undefined && b.hash === hash;
    if (hashMatches && (flags & BPF_F_FAST_STACK_CMP)) return id;
    if (hashMatches && b.ips.length === trace.length && b.ips.every((w, i) => w === trace[i])) return id;
    if (b && !(flags & BPF_F_REUSE_STACKID)) return -E.EEXIST;
    if (!b) {
      if (this.free === 0) return -E.ENOMEM;
      this.free--;
    }
    this.buckets[id] = { hash, ips: trace.slice() };
    return id;
  }

  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    const id = key ? keyU32(key) : 0xffffffff;
    const b = id < this.nBuckets ? this.buckets[id] : undefined;
    if (!b) return -E.ENOENT;
    value.fill(0, 0, this.valueSize);
    for (let i = 0; i < b.ips.length; i++) putU32(value, 4 * i, b.ips[i]);
    return 0;
  }

  protected override doUpdate(): number {
    return -E.EINVAL;
  }

  protected override doDelete(key: Uint8Array | null): number {
    const id = key ? keyU32(key) : 0xffffffff;
    if (id >= this.nBuckets) return -E.E2BIG;
    if (!this.buckets[id]) return -E.ENOENT;
    this.buckets[id] = undefined;
    this.free++;
    return 0;
  }

  protected override doGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    let id = 0;
    if (key) {
      id = keyU32(key);
      if (id >= this.nBuckets || !this.buckets[id]) id = 0;
      else id++;
    }
    while (id < this.nBuckets && !this.buckets[id]) id++;
    if (id >= this.nBuckets) return -E.ENOENT;
    putU32(next, 0, id);
    return 0;
  }

  override deleteElem(keyAddr: number): number {
    return this.doDelete(this.space.u8.slice(keyAddr, keyAddr + 4));
  }
}
