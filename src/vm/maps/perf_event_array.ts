/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c; bpf_perf_event_output in
 * kernel/trace/bpf_trace.c; the ring in kernel/events/ring_buffer.c): slot i holds
 * a perf event (PERF_COUNT_SW_BPF_OUTPUT) bound to CPU i, whose ring user space
 * reads. A program's output lands in the ring of the CPU it names (or
 * BPF_F_CURRENT_CPU) as a PERF_RECORD_SAMPLE carrying PERF_SAMPLE_RAW data; a
 * record that does not fit is counted lost and reported by a PERF_RECORD_LOST
 * before the next record that fits.
 *
 * The rings are written by the "kernel" and read by user space, never pointed to
 * by programs, so their bytes live on the JS side.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import type { MapAttrs, MapOptions } from "./map.js";
import { FdArrayMap } from "./fd_array.js";
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, PAGE_SIZE } from "./uapi.js";

const E = ERRNO;

/** include/uapi/linux/perf_event.h, enum perf_event_type. */
export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
/** sizeof(struct perf_event_header). */
export const PERF_EVENT_HEADER_SIZE = 8;

export interface PerfRingOptions {
  /** Data pages (a power of two). Default 8. */
  pages?: number;
  /** Wake the reader every N samples (perf_event_attr.wakeup_events). Default 1. */
  wakeupEvents?: number;
  /** The event's id (PERF_RECORD_LOST carries it). */
  id?: number;
}

/**
 * One BPF_OUTPUT perf event and its ring (perf_event_mmap_page's data_head /
 * data_tail and the data pages).
 */
export class PerfEventRing {
  readonly data: Uint8Array;
  readonly size: number;
  readonly mask: number;
  readonly id: number;
  readonly wakeupEvents: number;
  /** data_head: bytes written so far. */
  head = 0;
  /** data_tail: bytes user space has consumed (it stores this). */
  tail = 0;
  /** Samples lost and not yet reported by a PERF_RECORD_LOST. */
  lost = 0;
  /** Samples lost in total (perf_event's lost_samples). */
  lostTotal = 0;
  private events = 0;
  private readonly listeners = new Set<() => void>();
  private readonly dv: DataView;

  constructor(readonly cpu: number, opts: PerfRingOptions = {}) {
    const pages = opts.pages ?? 8;
    if (pages <= 0 || (pages & (pages - 1)) !== 0) throw new RangeError(`perf ring pages must be a power of two, got ${pages}`);
    this.size = pages * PAGE_SIZE;
    this.mask = this.size - 1;
    this.data = new Uint8Array(this.size);
    this.dv = new DataView(this.data.buffer);
    this.id = opts.id ?? 0;
    this.wakeupEvents = Math.max(1, opts.wakeupEvents ?? 1);
  }

  onWakeup(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private put(bytes: Uint8Array | null, len: number): void {
    // Writes `len` bytes (zeros when bytes is null) at head, wrapping.
    let off = this.head & this.mask;
    let i = 0;
    while (i < len) {
      const n = Math.min(len - i, this.size - off);
      if (bytes) this.data.set(bytes.subarray(i, i + n), off);
      else this.data.fill(0, off, off + n);
      i += n;
      off = (off + n) & this.mask;
    }
    this.head += len;
  }

  private putU32(v: number): void {
    this.dv.setUint32(this.head & this.mask, v >>> 0, true);
    this.head += 4;
  }

  private putHeader(type: number, misc: number, size: number): void {
    this.dv.setUint32(this.head & this.mask, type, true);
    this.dv.setUint16((this.head + 4) & this.mask, misc, true);
    this.dv.setUint16((this.head + 6) & this.mask, size, true);
    this.head += 8;
  }

  /**
   * perf_event_output() of a raw sample made of `frags`: 0, or -ENOSPC when the
   * ring is full (the sample is counted lost).
   */
  outputRaw(frags: readonly Uint8Array[]): number {
    let raw = 0;
    for (const f of frags) raw += f.length;
    // PERF_SAMPLE_RAW: u32 size then data, padded so the record stays 8-byte aligned.
    const rawSize = ((raw + 4 + 7) & ~7) - 4;
    const recSize = PERF_EVENT_HEADER_SIZE + 4 + rawSize;
    const lostSize = this.lost ? 24 : 0;
    const need = recSize + lostSize;
    // CIRC_SPACE(head, tail, size): at most size - 1 bytes in flight.
    const space = (this.tail - this.head - 1) & this.mask;
    if (recSize > 0xffff || space < need) {
      this.lost++;
      this.lostTotal++;
      return -E.ENOSPC;
    }
    if (this.lost) {
      this.putHeader(PERF_RECORD_LOST, 0, 24);
      this.putU32(this.id);
      this.putU32(0);
      this.putU32(this.lost);
      this.putU32(0);
      this.lost = 0;
    }
    this.putHeader(PERF_RECORD_SAMPLE, 0, recSize);
    this.putU32(rawSize);
    for (const f of frags) this.put(f, f.length);
    this.put(null, rawSize - raw);
    if (++this.events >= this.wakeupEvents) {
      this.events = 0;
      for (const fn of this.listeners) fn();
    }
    return 0;
  }
}

export class PerfEventArrayMap extends FdArrayMap<PerfEventRing> {
  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
  }

  /** Creates a ring for CPU `index` and puts it in slot `index` (what libbpf's perf_buffer__new does per CPU). */
  openRing(index: number, opts: PerfRingOptions = {}): PerfEventRing {
    const ring = new PerfEventRing(index, opts);
    this.set(index, ring);
    return ring;
  }

  protected override fromFd(fd: number): PerfEventRing | number {
    const ev = this.resolver.perfEvent?.(fd);
    if (ev === undefined) return -E.EBADF;
    return ev instanceof PerfEventRing ? ev : -E.EINVAL;
  }

  /** perf_event_array has no map_fd_sys_lookup_elem: user lookups are ENOTSUPP. */
  protected override get hasSysLookup(): boolean {
    return false;
  }

  protected override sysId(): number | undefined {
    return undefined;
  }

  /**
   * bpf_perf_event_output(ctx, map, flags, data, size) from a program on `cpu`:
   * 0 or -errno (EINVAL for flags beyond the index, E2BIG past max_entries,
   * ENOENT for an empty slot, EOPNOTSUPP when the event's CPU is not this one,
   * ENOSPC when the ring is full). `flagsHi` is the flags' upper word (only skb/xdp
   * outputs may set BPF_F_CTXLEN_MASK there; they pass `ctx` bytes as `extra`).
   */
  output(cpu: number, flagsLo: number, flagsHi: number, dataAddr: number, size: number, extra?: Uint8Array, allowCtxLen = false): number {
    if (flagsHi !== 0 && !(allowCtxLen && (flagsHi & ~0xfffff) === 0)) return -E.EINVAL;
    let index = flagsLo & BPF_F_INDEX_MASK;
    if (index >>> 0 === BPF_F_CURRENT_CPU) index = cpu;
    index >>>= 0;
    if (index >= this.maxEntries) return -E.E2BIG;
    const ring = this.slots[index];
    if (!ring) return -E.ENOENT;
    if (ring.cpu !== cpu) return -E.EOPNOTSUPP;
    const bytes = this.space.u8.subarray(dataAddr, dataAddr + size);
    return ring.outputRaw(extra ? [bytes, extra] : [bytes]);
  }
}
