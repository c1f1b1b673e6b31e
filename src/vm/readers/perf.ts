/**
 * User space's reader of a vm perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY),
 * the counterpart of libbpf's perf_buffer: one ring per CPU, records read from
 * data_tail to data_head (copied out when they wrap past the ring's end, as
 * libbpf does), PERF_RECORD_SAMPLE delivering the raw sample and
 * PERF_RECORD_LOST the number of samples dropped.
 */
import { PERF_RECORD_LOST, PERF_RECORD_SAMPLE, type PerfEventArrayMap, type PerfEventRing, type PerfRingOptions } from "../maps/perf_event_array.js";
import { Wakeups } from "./wakeups.js";

export type PerfRecord =
  | { readonly kind: "sample"; readonly cpu: number; readonly data: Uint8Array }
  | { readonly kind: "lost"; readonly cpu: number; readonly lost: number };

export interface PerfCallbacks {
  /** A sample's raw bytes (a view valid during the call; padding excluded only by the program's own size). */
  sample(cpu: number, data: Uint8Array): void;
  lost?(cpu: number, count: number): void;
}

export interface PerfBufReaderOptions extends PerfRingOptions {
  /** CPUs to open rings for (default: every CPU of the map up to max_entries). */
  cpus?: readonly number[];
}

export class PerfBufReader implements AsyncIterable<PerfRecord> {
  readonly rings: PerfEventRing[] = [];
  private readonly wake = new Wakeups();
  private readonly unsubscribers: (() => void)[] = [];
  private scratch = new Uint8Array(256);

  constructor(readonly map: PerfEventArrayMap, opts: PerfBufReaderOptions = {}) {
    const cpus = opts.cpus ?? Array.from({ length: Math.min(map.ncpus, map.maxEntries) }, (_, i) => i);
    for (const cpu of cpus) {
      const ring = map.openRing(cpu, opts);
      this.rings.push(ring);
      this.unsubscribers.push(ring.onWakeup(() => this.wake.notify()));
    }
  }

  /** Reads every record in every ring; returns how many records were delivered. */
  poll(cb: PerfCallbacks): number {
    let n = 0;
    for (const ring of this.rings) n += this.pollRing(ring, cb);
    return n;
  }

  private pollRing(ring: PerfEventRing, cb: PerfCallbacks): number {
    const data = ring.data;
    const mask = ring.mask;
    let n = 0;
    while (ring.tail < ring.head) {
      const off = ring.tail & mask;
      const type = data[off] | (data[off + 1] << 8) | (data[off + 2] << 16) | (data[off + 3] << 24);
      const size = data[(off + 6) & mask] | (data[(off + 7) & mask] << 8);
      // The record as one contiguous view: in place, or copied when it wraps.
      let rec: Uint8Array;
      if (off + size <= ring.size) {
        rec = data.subarray(off, off + size);
      } else {
        if (this.scratch.length < size) this.scratch = new Uint8Array(size * 2);
        const first = ring.size - off;
        this.scratch.set(data.subarray(off), 0);
        this.scratch.set(data.subarray(0, size - first), first);
        rec = this.scratch.subarray(0, size);
      }
      if (type === PERF_RECORD_SAMPLE) {
        const rawSize = rec[8] | (rec[9] << 8) | (rec[10] << 16) | (rec[11] << 24);
        cb.sample(ring.cpu, rec.subarray(12, 12 + rawSize));
      } else if (type === PERF_RECORD_LOST) {
        const lost = (rec[16] | (rec[17] << 8) | (rec[18] << 16) | (rec[19] << 24)) >>> 0;
        cb.lost?.(ring.cpu, lost + (rec[20] | (rec[21] << 8) | (rec[22] << 16) | (rec[23] << 24)) * 4294967296);
      }
      ring.tail += size;
      n++;
    }
    return n;
  }

  /** Every record now, samples copied. */
  drain(): PerfRecord[] {
    const out: PerfRecord[] = [];
    this.poll({
      sample: (cpu, data) => out.push({ kind: "sample", cpu, data: data.slice() }),
      lost: (cpu, lost) => out.push({ kind: "lost", cpu, lost }),
    });
    return out;
  }

  wait(): Promise<void> {
    return this.wake.wait();
  }

  [Symbol.asyncIterator](): AsyncIterator<PerfRecord> {
    return this.wake.records(() => this.drain());
  }

  /** Ends iteration and closes the rings (their slots are emptied). */
  close(): void {
    for (const u of this.unsubscribers) u();
    for (const ring of this.rings) if (this.map.get(ring.cpu) === ring) this.map.set(ring.cpu, undefined);
    this.wake.close();
  }
}
