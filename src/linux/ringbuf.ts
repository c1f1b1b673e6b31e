/**
 * BPF ring buffer consumer (BPF_MAP_TYPE_RINGBUF, 5.8+).
 *
 * Memory, as the kernel maps it (kernel/bpf/ringbuf.c; libbpf ringbuf.c does the same):
 *   offset 0            one page, read-write: consumer_pos (u64)
 *   offset page         one page, read-only: producer_pos (u64)
 *   offset 2 * page     the data area, read-only, mapped twice back to back so a
 *                       record that wraps around the end is still contiguous
 * Each record: u32 length with BPF_RINGBUF_BUSY_BIT (being written) and
 * BPF_RINGBUF_DISCARD_BIT (dropped by the program), u32 page offset, then the
 * data; records are 8-byte aligned. Positions only grow; position & (size - 1)
 * is the offset in the data area.
 *
 * Positions are read and written with Atomics (acquire/release on x86-64). The
 * hot path keeps only their low 32 bits in numbers: the ring is smaller than
 * 4 GiB, so differences modulo 2^32 are exact; the high half is carried in a
 * number and written with a 64-bit store only when the low half wraps. No object
 * is allocated per record in poll(): the callback gets the data area, an offset
 * and a length; the bytes are the record only during the call (the kernel reuses
 * the slot afterwards), though holding the array is memory-safe (close() unmaps
 * only once no view is reachable).
 */
import { BpfCommandError, MapError, errnoName } from "../errors.js";
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, MapType } from "./constants.js";
import type { LinuxMap } from "./map.js";
import { type Watch, watchFd } from "./poller.js";
import { type Mapping, sys, unmapWhenUnreachable } from "./sys.js";

/** PROT_READ, PROT_WRITE. include/uapi/asm-generic/mman-common.h. */
const PROT_READ = 1;
const PROT_WRITE = 2;

/** The length bits of a record header (below BUSY and DISCARD). */
const LEN_MASK = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;

/** Called per record: `data` is the whole data area; the record is data[offset, offset + length). */
export type RecordCallback = (data: Uint8Array, offset: number, length: number) => void;

export class RingBufReader implements Disposable, AsyncIterable<Uint8Array> {
  private consumerMap: Mapping | null;
  private producerMap: Mapping | null;
  private readonly consumer32: Int32Array;
  private readonly consumer64: BigUint64Array;
  private readonly producer32: Int32Array;
  /** The data area as bytes (2 * size, double-mapped) and as i32 words for header loads. */
  private readonly data: Uint8Array;
  private readonly data32: Int32Array;
  private readonly mask: number;
  private consLo: number;
  private consHi: number;
  private watch: Watch | null = null;
  private waiters: Array<() => void> = [];
  private running: { cb: RecordCallback; onError?: (e: unknown) => void } | null = null;
  private closed = false;

  /** Maps the ring buffer of `map` (which must stay open while this reader is used). */
  constructor(readonly map: LinuxMap) {
    if (map.type !== MapType.BPF_MAP_TYPE_RINGBUF) {
      throw new MapError("EINVAL", `ring buffer reader: map ${map.name} is not a ringbuf map`);
    }
    const s = sys();
    const page = s.pageSize;
    const size = map.maxEntries;
    const c = s.mmap(map.fd.value, page, PROT_READ | PROT_WRITE, 0);
    if (typeof c === "number") throw new BpfCommandError(errnoName(-c), "mmap ring buffer consumer page");
    const p = s.mmap(map.fd.value, page + 2 * size, PROT_READ, page);
    if (typeof p === "number") {
      c.unmap();
      throw new BpfCommandError(errnoName(-p), "mmap ring buffer producer page and data");
    }
    this.consumerMap = c;
    this.producerMap = p;
    this.consumer32 = new Int32Array(c.buffer, 0, 2);
    this.consumer64 = new BigUint64Array(c.buffer, 0, 1);
    this.producer32 = new Int32Array(p.buffer, 0, 2);
    this.data = new Uint8Array(p.buffer, page, 2 * size);
    this.data32 = new Int32Array(p.buffer, page, (2 * size) / 4);
    this.mask = size - 1;
    const cons = Atomics.load(this.consumer64, 0);
    this.consLo = Number(cons & 0xffff_ffffn);
    this.consHi = Number(cons >> 32n);
  }

  /** Bytes produced and not yet consumed (0 once closed). */
  available(): number {
    if (this.closed) return 0;
    return ((Atomics.load(this.producer32, 0) >>> 0) - this.consLo) >>> 0;
  }

  private advance(step: number): void {
    const lo = (this.consLo + step) >>> 0;
    if (lo < this.consLo) {
      this.consHi++;
      Atomics.store(this.consumer64, 0, (BigInt(this.consHi) << 32n) | BigInt(lo));
    } else {
      Atomics.store(this.consumer32, 0, lo | 0);
    }
    this.consLo = lo;
  }

  /**
   * Consumes every complete record now in the ring (up to `max`), calling cb for
   * each that was not discarded. Returns the number delivered. Stops at a record
   * still being written (BUSY).
   */
  poll(cb: RecordCallback, max = Infinity): number {
    if (this.closed) throw new BpfCommandError("EBADF", "ring buffer reader: used after close");
    let n = 0;
    for (;;) {
      const prodLo = Atomics.load(this.producer32, 0) >>> 0;
      if (prodLo === this.consLo) return n;
      while (this.consLo !== prodLo) {
        if (n >= max) return n;
        const off = this.consLo & this.mask;
        const hdr = Atomics.load(this.data32, off >>> 2) >>> 0;
        if (hdr & BPF_RINGBUF_BUSY_BIT) return n;
        const len = hdr & LEN_MASK;
        // Release the slot only after the callback has read it.
        if (!(hdr & BPF_RINGBUF_DISCARD_BIT)) {
          n++;
          try {
            cb(this.data, off + BPF_RINGBUF_HDR_SZ, len);
          } finally {
            this.advance((len + BPF_RINGBUF_HDR_SZ + 7) & ~7);
          }
        } else {
          this.advance((len + BPF_RINGBUF_HDR_SZ + 7) & ~7);
        }
      }
    }
  }

  /** Resolves when the ring has data (at once if it has some now). */
  readable(): Promise<void> {
    if (this.closed || this.available() > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.armWatch();
    });
  }

  private armWatch(): void {
    if (this.closed) return;
    this.watch ??= watchFd(this.map.fd.value, () => this.onReady());
    this.watch.arm();
  }

  private onReady(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    if (this.running) {
      const { cb, onError } = this.running;
      try {
        this.poll(cb);
      } catch (e) {
        this.running = null;
        if (onError) onError(e);
        else queueMicrotask(() => {
          throw e;
        });
        return;
      }
      this.armWatch();
    }
  }

  /**
   * Event-driven consumption: cb runs for every record as it arrives, from the
   * event loop, until stop() or close(). Keeps the process alive meanwhile.
   * An exception from cb stops consumption and goes to onError (or is rethrown).
   */
  start(cb: RecordCallback, onError?: (e: unknown) => void): void {
    this.running = { cb, ...(onError ? { onError } : {}) };
    this.poll(cb);
    this.armWatch();
  }

  stop(): void {
    this.running = null;
  }

  /** Copies of the records, as they arrive. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const batch: Uint8Array[] = [];
    const take: RecordCallback = (data, off, len) => {
      batch.push(data.slice(off, off + len));
    };
    while (!this.closed) {
      this.poll(take, 256);
      while (batch.length) yield batch.shift()!;
      if (this.available() === 0) await this.readable();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = null;
    this.watch?.close();
    this.watch = null;
    // Views of the ring may outlive the reader (a callback kept one): unmap when unreachable.
    if (this.consumerMap) unmapWhenUnreachable(this.consumerMap);
    if (this.producerMap) unmapWhenUnreachable(this.producerMap);
    this.consumerMap = this.producerMap = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
