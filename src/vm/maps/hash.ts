/**
 * The hash family (kernel/bpf/hashtab.c, Documentation/bpf/map_hash.rst):
 * BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
 *
 * Like the kernel's table: n_buckets = roundup_pow_of_two(max_entries), bucket =
 * jhash(key, seed) & (n_buckets - 1), new elements go to the head of their
 * bucket, and get_next_key / batches walk buckets in index order and each bucket
 * head first. With BPF_F_ZERO_SEED the seed is 0 on both sides, so iteration order
 * equals the kernel's. Updating an existing key of a (non-per-CPU) hash or an LRU
 * hash inserts a fresh element at the bucket head and unlinks the old one, as
 * the kernel does (the order changes; a program's old value pointer keeps the
 * old bytes until the element is reused).
 *
 * Elements (key, then value or one value per CPU) live in the address space in
 * slot pools; buckets, chains and free lists are JS-side typed arrays.
 * Preallocated maps hold max_entries elements (plus one spare per CPU for
 * replacing an existing key, the kernel's extra_elems) and fail with E2BIG when
 * full; BPF_F_NO_PREALLOC maps grow on demand to the same limit. LRU maps evict
 * through BpfLru (lru_list.ts) instead of failing.
 *
 * What matches the kernel, checked by differential tests (test/vm/maps):
 * every errno of every syscall command and batch; contents; get_next_key and
 * batch order under BPF_F_ZERO_SEED; LRU eviction choices, node for node, for all
 * four LRU flavours when operations run on one CPU (the vm's `userCpu`; programs
 * pass their CPU). The reference bit is set by program lookups and by updates of
 * existing keys, never by user-space lookups, as in the kernel. What cannot
 * match: the kernel's interleavings of truly concurrent CPUs (the vm runs one
 * operation at a time), and value addresses (a program sees vm addresses).
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { hashKey } from "./jhash.js";
import { BpfLru } from "./lru_list.js";
import { BpfMap, type BatchArgs, type BatchCmd, type MapAttrs, type MapOptions, keyU32, putU32, roundUp8 } from "./map.js";
import { SlotPool } from "./pool.js";
import { flagsAccessOk } from "./array.js";
import {
  BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED,
  BPF_MAP_TYPE, BPF_NOEXIST, KMALLOC_MAX_SIZE, PCPU_MIN_UNIT_SIZE,
} from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/hashtab.c, HTAB_CREATE_FLAG_MASK. */
export const HTAB_CREATE_FLAG_MASK =
  BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;

/** sizeof(struct htab_elem) on x86-64 without the key (kernel/bpf/hashtab.c). */
const HTAB_ELEM_SIZE = 48;

const isLruType = (t: number): boolean => t === BPF_MAP_TYPE.LRU_HASH || t === BPF_MAP_TYPE.LRU_PERCPU_HASH;
const isPercpuType = (t: number): boolean => t === BPF_MAP_TYPE.PERCPU_HASH || t === BPF_MAP_TYPE.LRU_PERCPU_HASH;

/** htab_map_alloc_check(): 0 or -errno. (BPF_F_ZERO_SEED needs CAP_SYS_ADMIN: the vm runs as root.) */
export function htabAllocCheck(attrs: MapAttrs, opts: MapOptions): number {
  const lru = isLruType(attrs.mapType);
  const percpu = isPercpuType(attrs.mapType);
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  const percpuLru = (flags & BPF_F_NO_COMMON_LRU) !== 0;
  const prealloc = (flags & BPF_F_NO_PREALLOC) === 0;
  const numa = (flags & BPF_F_NUMA_NODE) !== 0;
  void opts;
  if ((flags & ~HTAB_CREATE_FLAG_MASK) || !flagsAccessOk(flags)) return -E.EINVAL;
  if (!lru && percpuLru) return -E.EINVAL;
  if (lru && !prealloc) return -E.ENOTSUPP;
  if (numa && (percpu || percpuLru)) return -E.EINVAL;
  if (attrs.maxEntries === 0 || attrs.keySize === 0 || attrs.valueSize === 0) return -E.EINVAL;
  if (attrs.keySize + attrs.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) return -E.E2BIG;
  if (percpu && roundUp8(attrs.valueSize) > PCPU_MIN_UNIT_SIZE) return -E.E2BIG;
  return 0;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** max_entries as htab_map_alloc() adjusts it: BPF_F_NO_COMMON_LRU rounds to a multiple of the CPUs. */
function adjustAttrs(attrs: MapAttrs, ncpus: number): MapAttrs {
  const flags = attrs.mapFlags ?? 0;
  if (!isLruType(attrs.mapType) || !(flags & BPF_F_NO_COMMON_LRU)) return attrs;
  let max = Math.ceil(attrs.maxEntries / ncpus) * ncpus;
  if (max > 0xffffffff) max = Math.floor(attrs.maxEntries / ncpus) * ncpus;
  return { ...attrs, maxEntries: max };
}

export class HashMap extends BpfMap {
  readonly lru: boolean;
  readonly prealloc: boolean;
  readonly nBuckets: number;
  readonly seed: number;
  /** Bytes of the key part of an element (values start here). */
  readonly keyStride: number;
  /** Bytes of one value (one CPU's, for per-CPU maps). */
  readonly valueStride: number;
  /** Elements in the table. */
  count = 0;
  private readonly isPercpu: boolean;
  private readonly mask: number;
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly hashes: Int32Array;
  private readonly inTable: Uint8Array;
  protected readonly pool: SlotPool;
  private readonly lruList: BpfLru | undefined;
  /** One spare element per CPU for replacing an existing key (prealloc, non-per-CPU, non-LRU). */
  private readonly extra: Int32Array;
  private readonly keyScratch: number;
  private readonly valueScratch: number;
  private readonly wordKeys: boolean;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, adjustAttrs(attrs, options.ncpus ?? 2), options);
    this.lru = isLruType(this.type);
    this.isPercpu = isPercpuType(this.type);
    this.prealloc = (this.flags & BPF_F_NO_PREALLOC) === 0;
    this.nBuckets = roundupPow2(this.maxEntries);
    this.mask = this.nBuckets - 1;
    this.seed = this.flags & BPF_F_ZERO_SEED ? 0 : (options.hashSeed ?? (Math.random() * 4294967296)) >>> 0;
    this.keyStride = roundUp8(this.keySize);
    this.valueStride = roundUp8(this.valueSize);
    this.wordKeys = (this.keySize & 3) === 0;
    const slotSize = this.keyStride + this.valueStride * (this.isPercpu ? this.ncpus : 1);
    const spares = this.lru || this.isPercpu ? 0 : this.ncpus;
    const capacity = this.maxEntries + spares;
    this.heads = new Int32Array(this.nBuckets).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.hashes = new Int32Array(capacity);
    this.inTable = new Uint8Array(capacity);
    this.pool = new SlotPool(space, slotSize, {
      chunk: Math.min(capacity, 64),
      capacity,
      prealloc: this.prealloc,
      kind: "map_value",
      writable: this.progCanWrite,
      name: this.name || this.typeName,
    });
    this.extra = new Int32Array(spares);
    for (let c = 0; c < spares; c++) this.extra[c] = this.prealloc ? this.pool.take() : -1;
    if (this.lru) {
      this.lruList = new BpfLru(this.maxEntries, this.ncpus, (this.flags & BPF_F_NO_COMMON_LRU) !== 0, (n) => this.delNode(n));
    }
    this.keyScratch = space.alloc(this.keyStride);
    this.valueScratch = space.alloc(Math.max(8, this.valueStride * this.ncpus));
    this.onDispose(() => {
      this.pool.dispose();
      space.free(this.keyScratch);
      space.free(this.valueScratch);
    });
  }

  override get percpu(): boolean {
    return this.isPercpu;
  }

  // ================= table internals =================

  private hashAt(addr: number): number {
    const sp = this.space;
    return hashKey(sp.u8, sp.i32, addr, this.keySize, this.seed | 0);
  }

  /** The element with `key` (at keyAddr, with `hash`), or -1. */
  private find(keyAddr: number, hash: number): number {
    const heads = this.heads;
    let e = heads[hash & this.mask];
    if (e < 0) return -1;
    const sp = this.space;
    const addrs = this.pool.addr;
    const hashes = this.hashes;
    const next = this.next;
    const ks = this.keySize;
    if (this.wordKeys && (keyAddr & 3) === 0) {
      const i32 = sp.i32;
      const kw = keyAddr >>> 2;
      const nw = ks >>> 2;
      for (; e >= 0; e = next[e]) {
        if (hashes[e] !== hash) continue;
        const ew = addrs[e] >>> 2;
        let i = 0;
        while (i < nw && i32[ew + i] === i32[kw + i]) i++;
        if (i === nw) return e;
      }
      return -1;
    }
    const u8 = sp.u8;
    for (; e >= 0; e = next[e]) {
      if (hashes[e] !== hash) continue;
      const ea = addrs[e];
      let i = 0;
      while (i < ks && u8[ea + i] === u8[keyAddr + i]) i++;
      if (i === ks) return e;
    }
    return -1;
  }

  private link(e: number, hash: number): void {
    const b = hash & this.mask;
    this.hashes[e] = hash;
    this.next[e] = this.heads[b];
    this.heads[b] = e;
    this.inTable[e] = 1;
  }

  private unlink(e: number): void {
    const b = this.hashes[e] & this.mask;
    let p = this.heads[b];
    if (p === e) {
      this.heads[b] = this.next[e];
    } else {
      while (p >= 0 && this.next[p] !== e) p = this.next[p];
      if (p >= 0) this.next[p] = this.next[e];
    }
    this.next[e] = -1;
    this.inTable[e] = 0;
  }

  /** htab_lru_map_delete_node(): the LRU evicts an element. */
  private delNode(e: number): boolean {
    if (!this.inTable[e]) return false;
    this.unlink(e);
    this.count--;
    return true;
  }

  /** Returns an element that left the table to its free list. */
  private freeElem(e: number): void {
    if (this.lru) this.lruList!.pushFree(e);
    else this.pool.give(e);
  }

  private valueAddr(e: number, cpu: number): number {
    return this.pool.addr[e] + this.keyStride + (this.isPercpu ? cpu * this.valueStride : 0);
  }

  private copyKey(dst: number, keyAddr: number): void {
    const ks = this.keySize;
    if (this.wordKeys && (keyAddr & 3) === 0) {
      // Elements are 8-aligned: word copies when the key is aligned too.
      const i32 = this.space.i32;
      const d = dst >>> 2;
      const s = keyAddr >>> 2;
      for (let i = 0; i < ks >>> 2; i++) i32[d + i] = i32[s + i];
      return;
    }
    const u8 = this.space.u8;
    for (let i = 0; i < ks; i++) u8[dst + i] = u8[keyAddr + i];
  }

  /**
   * Writes a value into element e. `allCpus`: src holds round_up(value_size, 8)
   * bytes per CPU (user space); otherwise src is one value for `cpu`, and a new
   * element's other CPUs are zeroed (pcpu_init_value).
   */
  private writeValue(e: number, src: number, cpu: number, allCpus: boolean, fresh: boolean): void {
    const u8 = this.space.u8;
    const base = this.pool.addr[e] + this.keyStride;
    if (!this.isPercpu) {
      if (fresh) this.initSpecialFields(u8, base);
      this.copyValue(u8, base, src);
      return;
    }
    const vs = this.valueStride;
    for (let c = 0; c < this.ncpus; c++) {
      const dst = base + c * vs;
      if (fresh) u8.fill(0, dst, dst + vs);
      if (allCpus) {
        if (this.valueFields.length === 0) u8.copyWithin(dst, src + c * vs, src + c * vs + vs);
        else this.copyValue(u8, dst, src + c * vs);
      } else if (c === cpu) {
        this.copyValue(u8, dst, src);
      }
    }
  }

  /** check_flags(). */
  private static checkFlags(old: number, flags: number): number {
    const f = flags & ~BPF_F_LOCK;
    if (old >= 0 && f === BPF_NOEXIST) return -E.EEXIST;
    if (old < 0 && f === BPF_EXIST) return -E.ENOENT;
    return 0;
  }

  /** The update paths of hashtab.c, by map type. */
  private updateCore(keyAddr: number, src: number, flags: number, cpu: number, allCpus: boolean): number {
    if (this.lru) return this.isPercpu ? this.updateLruPercpu(keyAddr, src, flags, cpu, allCpus) : this.updateLru(keyAddr, src, flags, cpu);
    if (this.isPercpu) return this.updatePercpu(keyAddr, src, flags, cpu, allCpus);
    return this.updateHash(keyAddr, src, flags, cpu);
  }

  /** htab_map_update_elem(). */
  private updateHash(keyAddr: number, src: number, flags: number, cpu: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -E.EINVAL;
    // A program's BPF_F_LOCK update needs a bpf_spin_lock in the value (user space is checked in sysUpdate).
    if ((flags & BPF_F_LOCK) && this.spinLockOff < 0) return -E.EINVAL;
    const hash = this.hashAt(keyAddr);
    const old = this.find(keyAddr, hash);
    const r = HashMap.checkFlags(old, flags);
    if (r) return r;
    if ((flags & BPF_F_LOCK) && old >= 0) {
      // Update in place under the element's lock: the lock word is never copied.
      this.copyValue(this.space.u8, this.valueAddr(old, 0), src);
      return 0;
    }
    let e: number;
    if (old >= 0) {
      if (this.prealloc) {
        const c = cpu % this.extra.length;
        e = this.extra[c];
        this.extra[c] = old;
      } else {
        e = this.pool.take();
        if (e < 0) return -E.ENOMEM;
      }
    } else {
      if (this.count >= this.maxEntries) return -E.E2BIG;
      e = this.pool.take();
      if (e < 0) return -E.E2BIG;
    }
    this.copyKey(this.pool.addr[e], keyAddr);
    this.writeValue(e, src, cpu, false, true);
    this.link(e, hash);
    if (old >= 0) {
      this.unlink(old);
      if (!this.prealloc) this.pool.give(old);
    } else {
      this.count++;
    }
    return 0;
  }

  /** __htab_percpu_map_update_elem(): an existing element is updated in place. */
  private updatePercpu(keyAddr: number, src: number, flags: number, cpu: number, allCpus: boolean): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const hash = this.hashAt(keyAddr);
    const old = this.find(keyAddr, hash);
    const r = HashMap.checkFlags(old, flags);
    if (r) return r;
    if (old >= 0) {
      this.writeValue(old, src, cpu, allCpus, false);
      return 0;
    }
    if (this.count >= this.maxEntries) return -E.E2BIG;
    const e = this.pool.take();
    if (e < 0) return -E.E2BIG;
    this.copyKey(this.pool.addr[e], keyAddr);
    this.writeValue(e, src, cpu, allCpus, true);
    this.link(e, hash);
    this.count++;
    return 0;
  }

  /** htab_lru_map_update_elem(): takes a node first (which may evict), even for an existing key. */
  private updateLru(keyAddr: number, src: number, flags: number, cpu: number): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const hash = this.hashAt(keyAddr);
    const lru = this.lruList!;
    const e = lru.popFree(cpu);
    if (e < 0) return -E.ENOMEM;
    this.copyKey(this.pool.addr[e], keyAddr);
    this.writeValue(e, src, cpu, false, true);
    const old = this.find(keyAddr, hash);
    const r = HashMap.checkFlags(old, flags);
    if (r) {
      lru.pushFree(e);
      return r;
    }
    this.link(e, hash);
    this.count++;
    if (old >= 0) {
      lru.setRef(e);
      this.unlink(old);
      this.count--;
      lru.pushFree(old);
    }
    return 0;
  }

  /** __htab_lru_percpu_map_update_elem(): pre-pops a node unless BPF_EXIST; existing keys update in place. */
  private updateLruPercpu(keyAddr: number, src: number, flags: number, cpu: number, allCpus: boolean): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const hash = this.hashAt(keyAddr);
    const lru = this.lruList!;
    let e = -1;
    if (flags !== BPF_EXIST) {
      e = lru.popFree(cpu);
      if (e < 0) return -E.ENOMEM;
    }
    const old = this.find(keyAddr, hash);
    let r = HashMap.checkFlags(old, flags);
    if (!r) {
      if (old >= 0) {
        lru.setRef(old);
        this.writeValue(old, src, cpu, allCpus, false);
      } else {
        this.copyKey(this.pool.addr[e], keyAddr);
        this.writeValue(e, src, cpu, allCpus, true);
        this.link(e, hash);
        this.count++;
        e = -1;
      }
      r = 0;
    }
    if (e >= 0) lru.pushFree(e);
    return r;
  }

  private deleteCore(keyAddr: number): number {
    const hash = this.hashAt(keyAddr);
    const e = this.find(keyAddr, hash);
    if (e < 0) return -E.ENOENT;
    this.unlink(e);
    this.count--;
    this.freeElem(e);
    return 0;
  }

  /** The LRU lists as text, nodes named by their keys (tests and debugging). */
  describeLru(): string {
    if (!this.lruList) return "";
    return this.lruList.describe((n) => {
      const a = this.pool.addr[n];
      return Array.from(this.space.u8.subarray(a, a + Math.min(this.keySize, 2)), (b) => b.toString(16).padStart(2, "0")).join("");
    });
  }

  // ================= program side =================

  override lookupElem(keyAddr: number, cpu: number): number {
    const e = this.find(keyAddr, this.hashAt(keyAddr));
    if (e < 0) return 0;
    // htab_lru_map_lookup_elem() marks the node referenced (bpf_lru_node_set_ref).
    if (this.lru) this.lruList!.ref[e] = 1;
    return this.pool.addr[e] + this.keyStride + (this.isPercpu ? cpu * this.valueStride : 0);
  }

  override lookupPercpuElem(keyAddr: number, cpu: number): number {
    if (!this.isPercpu || cpu < 0 || cpu >= this.ncpus) return 0;
    return this.lookupElem(keyAddr, cpu);
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    return this.updateCore(keyAddr, valueAddr, flags, cpu, false);
  }

  override deleteElem(keyAddr: number): number {
    return this.deleteCore(keyAddr);
  }

  /**
   * bpf_for_each_hash_elem() (kernel/bpf/hashtab.c): buckets in index order,
   * each chain head first; `cb(keyAddr, valueAddr)` gets the element's own key
   * and (this CPU's) value and returns nonzero to stop. The next element is
   * taken before the callback runs (hlist_nulls_for_each_entry_safe, Linux
   * 6.15+), so the callback may delete the element it was given. LRU reference
   * bits are left alone, as the kernel's walk leaves them. Returns the elements
   * visited, the stopping one included.
   */
  forEachElem(cpu: number, cb: (keyAddr: number, valueAddr: number) => number): number {
    let n = 0;
    for (let b = 0; b < this.nBuckets; b++) {
      for (let e = this.heads[b]; e >= 0;) {
        const next = this.next[e];
        n++;
        if (cb(this.pool.addr[e], this.valueAddr(e, cpu))) return n;
        e = next;
      }
    }
    return n;
  }

  // ================= syscall side =================

  protected stageKey(key: Uint8Array | null): number {
    const a = this.keyScratch;
    if (key) this.space.u8.set(key.subarray(0, this.keySize), a);
    return a;
  }

  protected copyOut(e: number, out: Uint8Array, flags: number): void {
    void flags;
    const u8 = this.space.u8;
    const base = this.pool.addr[e] + this.keyStride;
    if (!this.isPercpu) {
      this.copyValueOut(u8, base, out, 0);
      return;
    }
    const vs = this.valueStride;
    for (let c = 0; c < this.ncpus; c++) {
      out.set(u8.subarray(base + c * vs, base + c * vs + vs), c * vs);
      for (const f of this.valueFields) out.fill(0, c * vs + f.offset, c * vs + f.offset + f.size);
    }
  }

  /** User-space lookups never set the LRU reference bit (htab_lru_map_lookup_elem_sys). */
  protected override doLookup(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const k = this.stageKey(key);
    const e = this.find(k, this.hashAt(k));
    if (e < 0) return -E.ENOENT;
    this.copyOut(e, value, flags);
    return 0;
  }

  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const k = this.stageKey(key);
    const v = this.valueScratch;
    this.space.u8.set(value.subarray(0, this.userValueSize), v);
    return this.updateCore(k, v, flags, this.userCpu, true);
  }

  protected override doDelete(key: Uint8Array | null): number {
    return this.deleteCore(this.stageKey(key));
  }

  protected override doGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    let i = 0;
    if (key) {
      const k = this.stageKey(key);
      const hash = this.hashAt(k);
      const e = this.find(k, hash);
      if (e >= 0) {
        const n = this.next[e];
        if (n >= 0) return this.putKey(n, next);
        i = (hash & this.mask) + 1;
      }
    }
    for (; i < this.nBuckets; i++) {
      const h = this.heads[i];
      if (h >= 0) return this.putKey(h, next);
    }
    return -E.ENOENT;
  }

  protected putKey(e: number, out: Uint8Array): number {
    const a = this.pool.addr[e];
    out.set(this.space.u8.subarray(a, a + this.keySize));
    return 0;
  }

  protected override doLookupAndDelete(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const k = this.stageKey(key);
    const e = this.find(k, this.hashAt(k));
    if (e < 0) return -E.ENOENT;
    this.copyOut(e, value, flags);
    this.unlink(e);
    this.count--;
    this.freeElem(e);
    return 0;
  }

  protected override doBatch(cmd: BatchCmd, b: BatchArgs): number {
    switch (cmd) {
      case "lookup": return this.bucketBatch(b, false);
      case "lookup_and_delete": return this.bucketBatch(b, true);
      case "update": return this.genericUpdateBatch(b);
      case "delete": return this.genericDeleteBatch(b);
    }
  }

  /**
   * __htab_map_lookup_and_delete_batch(): whole buckets at a time; in/out_batch
   * is a u32 bucket index; ENOSPC when the first non-empty bucket does not fit;
   * ENOENT once the last bucket is done.
   */
  private bucketBatch(b: BatchArgs, del: boolean): number {
    const elemFlags = b.elemFlags ?? 0;
    if ((elemFlags & ~BPF_F_LOCK) || ((elemFlags & BPF_F_LOCK) && this.spinLockOff < 0)) return -E.EINVAL;
    if (b.flags) return -E.EINVAL;
    const max = b.count;
    if (max === 0) return 0;
    b.count = 0;
    let batch = b.inBatch ? keyU32(b.inBatch) : 0;
    if (batch >= this.nBuckets) return -E.ENOENT;
    const ks = this.keySize;
    const vs = this.userValueSize;
    let total = 0;
    let ret = 0;
    const value = new Uint8Array(vs);
    for (;;) {
      let cnt = 0;
      for (let e = this.heads[batch]; e >= 0; e = this.next[e]) cnt++;
      if (cnt > max - total) {
        if (total === 0) ret = -E.ENOSPC;
        break;
      }
      const freed: number[] = [];
      for (let e = this.heads[batch]; e >= 0;) {
        const n = this.next[e];
        this.putKey(e, b.keys.subarray(total * ks, total * ks + ks));
        this.copyOut(e, value, elemFlags);
        b.values.set(value, total * vs);
        total++;
        if (del) {
          this.unlink(e);
          this.count--;
          if (this.lru) freed.push(e);
          else this.pool.give(e);
        }
        e = n;
      }
      // LRU elements are pushed free after the bucket, last one first (batch_flink is a stack).
      for (let i = freed.length - 1; i >= 0; i--) this.lruList!.pushFree(freed[i]);
      batch++;
      if (batch >= this.nBuckets) {
        ret = -E.ENOENT;
        break;
      }
    }
    if (b.outBatch.length >= 4) putU32(b.outBatch, 0, batch);
    b.count = total;
    return ret;
  }
}
