/**
 * User space's reader of a vm ring buffer (BPF_MAP_TYPE_RINGBUF), the
 * counterpart of libbpf's ring_buffer: it walks records from consumer_pos to
 * producer_pos, stops at a record still reserved (BPF_RINGBUF_BUSY_BIT), skips
 * discarded ones (BPF_RINGBUF_DISCARD_BIT), and advances consumer_pos past each
 * record as it goes (libbpf's ringbuf_process_ring).
 *
 * Three ways to read:
 * - `pollRaw(cb)`: cb(u8, offset, length) per record, no allocation at all;
 * - `poll(cb)`: cb(view) with a subarray over the space (valid during the call);
 * - `for await (const rec of reader)`: owned copies, waiting on the map's
 *   wakeups between batches (records committed with BPF_RB_NO_WAKEUP are picked
 *   up at the next wakeup, as with epoll on the kernel's ring).
 */
import type { RingSource } from "../maps/ringbuf.js";
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ } from "../maps/uapi.js";
import { Wakeups } from "./wakeups.js";

/** Return false from a callback to stop after this record. */
export type RawRecordCallback = (u8: Uint8Array, offset: number, length: number) => boolean | void;
export type RecordCallback = (sample: Uint8Array) => boolean | void;

export class RingBufReader implements AsyncIterable<Uint8Array> {
  private readonly wake = new Wakeups();
  private readonly unsubscribe: () => void;

  constructor(readonly ring: RingSource) {
    this.unsubscribe = ring.onWakeup(() => this.wake.notify());
  }

  /** Bytes between the consumer and producer positions (BPF_RB_AVAIL_DATA). */
  get available(): number {
    return this.ring.producerPos - this.ring.consumerPos;
  }

  /** Consumes committed records, at most `max`; returns how many were delivered. */
  pollRaw(cb: RawRecordCallback, max = Infinity): number {
    const ring = this.ring;
    const space = ring.space;
    let cons = ring.consumerPos;
    let n = 0;
    for (;;) {
      let progressed = false;
      const prod = ring.producerPos;
      while (cons < prod) {
        const hdr = ring.dataAddr + (cons & ring.mask);
        const len = space.u32[hdr >>> 2];
        if (len & BPF_RINGBUF_BUSY_BIT) {
          ring.consumerPos = cons;
          return n;
        }
        progressed = true;
        const size = (len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) >>> 0;
        cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
        let stop = false;
        if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
          // Records are contiguous in the space: a wrapped one continues into the
          // data area's second copy (see maps/ringbuf.ts).
          stop = cb(space.u8, hdr + BPF_RINGBUF_HDR_SZ, size) === false;
          n++;
        }
        ring.consumerPos = cons;
        if (stop || n >= max) return n;
      }
      if (!progressed) return n;
    }
  }

  /** Like pollRaw, with a view of each record (valid only during the callback). */
  poll(cb: RecordCallback, max = Infinity): number {
    return this.pollRaw((u8, off, len) => cb(u8.subarray(off, off + len)), max);
  }

  /** Every committed record now, as owned copies. */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.pollRaw((u8, off, len) => {
      out.push(u8.slice(off, off + len));
    });
    return out;
  }

  /** Resolves at the map's next wakeup (or at once if one came since the last wait, or after close). */
  wait(): Promise<void> {
    return this.wake.wait();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.wake.records(() => this.drain());
  }

  /** Ends iteration (after what is already committed) and stops listening. */
  close(): void {
    this.unsubscribe();
    this.wake.close();
  }
}
