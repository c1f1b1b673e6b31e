/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c, Documentation/bpf/ringbuf.rst): a
 * multi-producer, single-consumer byte ring shared by programs and user space.
 *
 * Layout in the address space mirrors struct bpf_ringbuf, page for page:
 *   page 0: header (the vm's bookkeeping page: pending_pos, u64, at its start),
 *   page 1: consumer_pos (u64), page 2: producer_pos (u64), page 3...: data,
 *   max_entries bytes.
 * The positions live only there (as the kernel's do), so code the JIT emits
 * for bpf_ringbuf_output can produce a record without calling back here.
 * Each record starts with an 8-byte header { u32 len; u32 pg_off }: len carries
 * BPF_RINGBUF_BUSY_BIT while reserved and BPF_RINGBUF_DISCARD_BIT once
 * discarded; pg_off is the header's page offset from the ring's start, which is
 * how bpf_ringbuf_submit() finds the ring from a bare record pointer. Records take
 * round_up(len + 8, 8) bytes.
 *
 * The kernel maps the data pages twice, back to back, so a record that wraps is
 * still contiguous. A wasm memory cannot alias pages, so the data area is
 * allocated twice as large: a record is written contiguously from its offset
 * (spilling into the second half when it wraps), and the spilled bytes are
 * copied to the ring's start when it is committed, so both views stay equal.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace, Region } from "../memory.js";
import { BpfMap, type MapAttrs, type MapOptions } from "./map.js";
import {
  BPF_F_NUMA_NODE, BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, PAGE_SIZE,
} from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/ringbuf.c, RINGBUF_CREATE_FLAG_MASK. */
export const RINGBUF_CREATE_FLAG_MASK = BPF_F_NUMA_NODE;
/** kernel/bpf/ringbuf.c: RINGBUF_PGOFF (header pages before consumer_pos) and RINGBUF_POS_PAGES. */
export const RINGBUF_PGOFF = 1;
export const RINGBUF_POS_PAGES = 2;
/** kernel/bpf/ringbuf.c, RINGBUF_MAX_RECORD_SZ. */
export const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
/** kernel/bpf/ringbuf.c, RINGBUF_MAX_DATA_SZ: ((1 << 24) - POS_PAGES - PGOFF) pages. */
export const RINGBUF_MAX_DATA_SZ = ((1 << 24) - RINGBUF_POS_PAGES - RINGBUF_PGOFF) * PAGE_SIZE;

/** ringbuf_map_alloc()'s checks (also the user ring buffer's): 0 or -errno. */
export function ringbufAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  const n = attrs.maxEntries >>> 0;
  if (flags & ~RINGBUF_CREATE_FLAG_MASK) return -E.EINVAL;
  if (attrs.keySize || attrs.valueSize || n === 0 || (n & (n - 1)) !== 0 || n % PAGE_SIZE !== 0) return -E.EINVAL;
  if (n > RINGBUF_MAX_DATA_SZ) return -E.E2BIG;
  return 0;
}

/** round_up(len + header, 8) for a header's len word (flag bits cleared). */
export function ringRecordSize(lenWord: number): number {
  return (((lenWord & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) + BPF_RINGBUF_HDR_SZ + 7) & ~7) >>> 0;
}

/** Rings by the address of their first page, for bpf_ringbuf_submit(sample) without a map. */
const ringsBySpace = new WeakMap<AddressSpace, Map<number, RingBufBase>>();

/** What ring readers (src/vm/readers) need from a ring. */
export interface RingSource {
  readonly space: AddressSpace;
  /** Address of data byte 0 (the data area is twice `size` long; see the file comment). */
  readonly dataAddr: number;
  readonly size: number;
  readonly mask: number;
  consumerPos: number;
  readonly producerPos: number;
  /** Calls `fn` on each wakeup; returns the unsubscribe function. */
  onWakeup(fn: () => void): () => void;
}

/** The shared part of the kernel's and the user ring buffer. */
export abstract class RingBufBase extends BpfMap implements RingSource {
  /** Address of page 0 of the ring. */
  readonly base: number;
  readonly dataAddr: number;
  readonly size: number;
  readonly mask: number;
  readonly region: Region;
  /** Addresses of consumer_pos and producer_pos (u64 each). */
  readonly consAddr: number;
  readonly prodAddr: number;
  private readonly listeners = new Set<() => void>();
  /** Wakeups delivered (for tests and statistics). */
  wakeups = 0;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.size = this.maxEntries;
    this.mask = this.size - 1;
    const pages = RINGBUF_PGOFF + RINGBUF_POS_PAGES;
    this.base = space.alloc(pages * PAGE_SIZE + 2 * this.size, PAGE_SIZE);
    this.dataAddr = this.base + pages * PAGE_SIZE;
    this.consAddr = this.base + RINGBUF_PGOFF * PAGE_SIZE;
    this.prodAddr = this.base + (RINGBUF_PGOFF + 1) * PAGE_SIZE;
    this.region = space.mapRegion(this.dataAddr, 2 * this.size, "ringbuf", true, this.name || this.typeName);
    // bpf_ringbuf_area_alloc() allocates every data page at creation. A grown
    // wasm memory maps its pages on first write instead, which would put a page
    // fault on the producer's path every PAGE_SIZE bytes of the first lap: touch
    // them now (the spill half only ever takes one record's tail, so its first
    // page is enough). They are zero already; writing zero changes nothing.
    const u8 = space.u8;
    for (let a = this.dataAddr; a <= this.dataAddr + this.size; a += PAGE_SIZE) u8[a] = 0;
    let reg = ringsBySpace.get(space);
    if (!reg) ringsBySpace.set(space, (reg = new Map()));
    reg.set(this.base, this);
    this.onDispose(() => {
      reg!.delete(this.base);
      space.unmapRegion(this.region);
      space.free(this.base);
    });
  }

  /** The ring holding the record whose header is at `hdrAddr`, found through its pg_off. */
  static fromHeader(space: AddressSpace, hdrAddr: number): RingBufBase | undefined {
    const pgOff = space.u32[(hdrAddr + 4) >>> 2];
    const base = (hdrAddr & ~(PAGE_SIZE - 1)) - pgOff * PAGE_SIZE;
    return ringsBySpace.get(space)?.get(base >>> 0);
  }

  get consumerPos(): number {
    return this.readPos(this.consAddr);
  }

  /** User space's consumer_pos store (positions only grow). */
  set consumerPos(pos: number) {
    this.writePos(this.consAddr, pos);
  }

  get producerPos(): number {
    return this.readPos(this.prodAddr);
  }

  protected get cons(): number {
    return this.readPos(this.consAddr);
  }

  protected get prod(): number {
    return this.readPos(this.prodAddr);
  }

  protected setProducer(pos: number): void {
    this.writePos(this.prodAddr, pos);
  }

  /** A position (a u64 below 2^53) in the ring's pages. */
  protected readPos(addr: number): number {
    const u32 = this.space.u32;
    return u32[(addr >>> 2) + 1] * 4294967296 + u32[addr >>> 2];
  }

  protected writePos(addr: number, pos: number): void {
    const u32 = this.space.u32;
    u32[addr >>> 2] = pos >>> 0;
    u32[(addr >>> 2) + 1] = pos > 0xffffffff ? Math.floor(pos / 4294967296) >>> 0 : 0;
  }

  /** pg_off of the data area's first page: pages from the ring's start. */
  get dataPgOff(): number {
    return RINGBUF_PGOFF + RINGBUF_POS_PAGES;
  }

  /** pg_off of a header at data offset `off`: pages from the ring's start. */
  protected pgOff(off: number): number {
    return RINGBUF_PGOFF + RINGBUF_POS_PAGES + Math.floor(off / PAGE_SIZE);
  }

  /** Copies a record's bytes that spilled past the data area's end back to its start. */
  protected mirror(off: number, total: number): void {
    const over = off + total - this.size;
    if (over > 0) {
      const a = this.dataAddr;
      this.space.u8.copyWithin(a, a + this.size, a + this.size + over);
    }
  }

  onWakeup(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  protected wakeup(): void {
    this.wakeups++;
    for (const fn of this.listeners) fn();
  }

  /** Ring buffers have no elements: lookup, update, delete and get_next_key are ENOTSUPP. */
  override get userValueSize(): number {
    return 0;
  }
}

export class RingBufMap extends RingBufBase {
  /** Address of pending_pos (u64, in page 0). */
  readonly pendAddr = this.base;

  /** pending_pos: the oldest position that may still be reserved (busy); records before it are committed. */
  private get pending(): number {
    return this.readPos(this.pendAddr);
  }

  private set pending(pos: number) {
    this.writePos(this.pendAddr, pos);
  }

  /** __bpf_ringbuf_reserve(): a record's sample address, or 0 when it does not fit. */
  reserve(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ) return 0;
    const len = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    if (len > this.size) return 0;
    const u32 = this.space.u32;
    const data = this.dataAddr;
    let pend = this.pending;
    const prod = this.prod;
    while (pend < prod) {
      const hdrLen = u32[(data + (pend & this.mask)) >>> 2];
      if (hdrLen & BPF_RINGBUF_BUSY_BIT) break;
      pend += ringRecordSize(hdrLen);
    }
    this.pending = pend;
    const next = prod + len;
    // The producer may run at most size - 1 bytes ahead of the consumer and of the oldest busy record.
    if (next - this.cons > this.mask || next - pend > this.mask) return 0;
    const off = prod & this.mask;
    const hdr = data + off;
    u32[hdr >>> 2] = (size | BPF_RINGBUF_BUSY_BIT) >>> 0;
    u32[(hdr >>> 2) + 1] = this.pgOff(off);
    this.setProducer(next);
    return hdr + BPF_RINGBUF_HDR_SZ;
  }

  /** bpf_ringbuf_commit(): clears BUSY (sets DISCARD), then wakes the consumer per the flags. */
  commit(sample: number, flags: number, discard: boolean): void {
    const hdr = sample - BPF_RINGBUF_HDR_SZ;
    const u32 = this.space.u32;
    let len = (u32[hdr >>> 2] ^ BPF_RINGBUF_BUSY_BIT) >>> 0;
    const off = hdr - this.dataAddr;
    if (discard) len = (len | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    else this.mirror(off, ringRecordSize(len));
    u32[hdr >>> 2] = len;
    // Wake the consumer if it waits on exactly this record (or when forced).
    if (flags & BPF_RB_FORCE_WAKEUP) this.wakeup();
    else if ((this.cons & this.mask) === off && !(flags & BPF_RB_NO_WAKEUP)) this.wakeup();
  }

  /** bpf_ringbuf_submit(). */
  submit(sample: number, flags: number): void {
    this.commit(sample, flags, false);
  }

  /** bpf_ringbuf_discard(). */
  discard(sample: number, flags: number): void {
    this.commit(sample, flags, true);
  }

  /**
   * bpf_ringbuf_output(): 0, -EINVAL for unknown flags, -EAGAIN when full.
   * reserve(), the copy and commit() in one pass: nothing can look at the ring
   * in between, so the header is written once, already committed.
   */
  output(dataAddr: number, size: number, flags: number): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -E.EINVAL;
    if (size > RINGBUF_MAX_RECORD_SZ) return -E.EAGAIN;
    const len = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    const mask = this.mask;
    if (len > this.size) return -E.EAGAIN;
    const space = this.space;
    const u32 = space.u32;
    const data = this.dataAddr;
    const prod = this.prod;
    const cons = this.cons;
    let pend = this.pending;
    while (pend < prod) {
      const hdrLen = u32[(data + (pend & mask)) >>> 2];
      if (hdrLen & BPF_RINGBUF_BUSY_BIT) break;
      pend += ringRecordSize(hdrLen);
    }
    const next = prod + len;
    if (next - cons > mask || next - pend > mask) {
      this.pending = pend;
      return -E.EAGAIN;
    }
    const off = prod & mask;
    const hdr = data + off;
    const rec = hdr + BPF_RINGBUF_HDR_SZ;
    if (size > 64) {
      space.u8.copyWithin(rec, dataAddr, dataAddr + size);
    } else if ((dataAddr & 3) === 0) {
      // Records are 8-aligned: word moves, then the odd bytes.
      const words = size >>> 2;
      const d = rec >>> 2;
      const s = dataAddr >>> 2;
      const i32 = space.i32;
      for (let i = 0; i < words; i++) i32[d + i] = i32[s + i];
      const u8 = space.u8;
      for (let i = words << 2; i < size; i++) u8[rec + i] = u8[dataAddr + i];
    } else {
      const u8 = space.u8;
      for (let i = 0; i < size; i++) u8[rec + i] = u8[dataAddr + i];
    }
    u32[hdr >>> 2] = size;
    u32[(hdr >>> 2) + 1] = RINGBUF_PGOFF + RINGBUF_POS_PAGES + Math.floor(off / PAGE_SIZE);
    // With nothing busy before it, the record just committed is behind pending_pos too.
    this.pending = pend === prod ? next : pend;
    this.setProducer(next);
    if (off + len > this.size) this.mirror(off, len);
    if (flags & BPF_RB_FORCE_WAKEUP) this.wakeup();
    else if ((cons & mask) === off && !(flags & BPF_RB_NO_WAKEUP)) this.wakeup();
    return 0;
  }

  /** Writes user bytes as a record (a convenience for tests and user-space producers of the kernel ring). */
  outputBytes(bytes: Uint8Array, flags = 0): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -E.EINVAL;
    const rec = this.reserve(bytes.length);
    if (!rec) return -E.EAGAIN;
    this.space.u8.set(bytes, rec);
    this.commit(rec, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query(): unknown flags give 0. */
  query(flags: number): number {
    switch (flags) {
      case BPF_RB_AVAIL_DATA: return this.prod - this.cons;
      case BPF_RB_RING_SIZE: return this.size;
      case BPF_RB_CONS_POS: return this.cons;
      case BPF_RB_PROD_POS: return this.prod;
      default: return 0;
    }
  }
}
