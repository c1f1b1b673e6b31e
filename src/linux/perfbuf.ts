/**
 * Perf buffer consumer: one PERF_COUNT_SW_BPF_OUTPUT event per online CPU, each
 * with its mmap'ed ring, stored in a BPF_MAP_TYPE_PERF_EVENT_ARRAY at the CPU's
 * index so bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, …) reaches it.
 *
 * Ring layout (include/uapi/linux/perf_event.h): a metadata page
 * (struct perf_event_mmap_page: data_head written by the kernel, data_tail by us)
 * followed by 2^n data pages. Records are struct perf_event_header { u32 type;
 * u16 misc; u16 size; } then the body: PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW is
 * { u32 size; u8 data[size]; } (padded), PERF_RECORD_LOST is { u64 id; u64 lost; }.
 * Unlike the BPF ring buffer the data area is mapped once, so a record that wraps
 * around its end is copied into a scratch buffer before the callback sees it.
 */
import { BpfCommandError, MapError, errnoName } from "../errors.js";
import {
  PERF_COUNT_SW_BPF_OUTPUT, PERF_EVENT_IOC_ENABLE, PERF_RECORD_LOST, PERF_RECORD_SAMPLE, PERF_SAMPLE_RAW,
  PERF_TYPE_SOFTWARE, PerfEventMmapPage,
} from "./attr/perf-event.js";
import { MapType } from "./constants.js";
import type { Fd } from "./fd.js";
import { onlineCpus } from "./fs.js";
import { type LinuxMap, u32 } from "./map.js";
import { perfEventOpen } from "./perf.js";
import { type Watch, watchFd } from "./poller.js";
import { type Mapping, sys, unmapWhenUnreachable } from "./sys.js";

const PROT_READ = 1;
const PROT_WRITE = 2;

/** A sample: `data` holds it at [offset, offset + length), meaningful only during the call (the slot is reused after). */
export type SampleCallback = (cpu: number, data: Uint8Array, offset: number, length: number) => void;
/** The kernel dropped `lost` samples on `cpu` (the ring was full). */
export type LostCallback = (cpu: number, lost: bigint) => void;

export type PerfRecord = { readonly cpu: number; readonly data: Uint8Array } | { readonly cpu: number; readonly lost: bigint };

class CpuRing {
  readonly head32: Int32Array;
  readonly tail32: Int32Array;
  readonly tail64: BigUint64Array;
  readonly data: Uint8Array;
  readonly dv: DataView;
  readonly size: number;
  tailLo: number;
  tailHi: number;
  watch: Watch | null = null;

  constructor(readonly cpu: number, readonly fd: Fd, readonly mapping: Mapping, page: number, pages: number) {
    const headOff = PerfEventMmapPage.fields.data_head.offset;
    const tailOff = PerfEventMmapPage.fields.data_tail.offset;
    this.head32 = new Int32Array(mapping.buffer, headOff, 2);
    this.tail32 = new Int32Array(mapping.buffer, tailOff, 2);
    this.tail64 = new BigUint64Array(mapping.buffer, tailOff, 1);
    this.size = page * pages;
    this.data = new Uint8Array(mapping.buffer, page, this.size);
    this.dv = new DataView(mapping.buffer, page, this.size);
    const tail = Atomics.load(this.tail64, 0);
    this.tailLo = Number(tail & 0xffff_ffffn);
    this.tailHi = Number(tail >> 32n);
  }

  advance(step: number): void {
    const lo = (this.tailLo + step) >>> 0;
    if (lo < this.tailLo) {
      this.tailHi++;
      Atomics.store(this.tail64, 0, (BigInt(this.tailHi) << 32n) | BigInt(lo));
    } else {
      Atomics.store(this.tail32, 0, lo | 0);
    }
    this.tailLo = lo;
  }
}

export interface PerfBufOptions {
  /** Data pages per CPU: a power of two (default 8). */
  readonly pages?: number;
  /** Wake up after this many samples (default 1: every sample). */
  readonly wakeupEvents?: number;
  /** CPUs to open (default: every online CPU). */
  readonly cpus?: readonly number[];
}

export class PerfBufReader implements Disposable, AsyncIterable<PerfRecord> {
  private readonly rings: CpuRing[] = [];
  private scratch = new Uint8Array(256);
  private waiters: Array<() => void> = [];
  private running: { onSample: SampleCallback; onLost?: LostCallback; onError?: (e: unknown) => void } | null = null;
  private closed = false;

  constructor(readonly map: LinuxMap, opts: PerfBufOptions = {}) {
    if (map.type !== MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
      throw new MapError("EINVAL", `perf buffer reader: map ${map.name} is not a perf_event_array map`);
    }
    const pages = opts.pages ?? 8;
    if (pages < 1 || (pages & (pages - 1)) !== 0) throw new RangeError(`perf buffer: pages must be a power of two, not ${pages}`);
    const s = sys();
    const page = s.pageSize;
    try {
      for (const cpu of opts.cpus ?? onlineCpus()) {
        if (cpu >= map.maxEntries) continue;
        const fd = perfEventOpen(
          { type: PERF_TYPE_SOFTWARE, config: PERF_COUNT_SW_BPF_OUTPUT, sample_type: PERF_SAMPLE_RAW, sample_period: 1, wakeup_events: opts.wakeupEvents ?? 1 },
          { pid: -1, cpu, what: `bpf output cpu ${cpu}` },
        );
        const m = s.mmap(fd.value, page * (pages + 1), PROT_READ | PROT_WRITE, 0);
        if (typeof m === "number") {
          fd.close();
          throw new BpfCommandError(errnoName(-m), `mmap perf buffer cpu ${cpu}`);
        }
        this.rings.push(new CpuRing(cpu, fd, m, page, pages));
        const r = s.ioctl(fd.value, PERF_EVENT_IOC_ENABLE, 0);
        if (r < 0) throw new BpfCommandError(errnoName(-r), `PERF_EVENT_IOC_ENABLE cpu ${cpu}`);
        map.update(u32(cpu), u32(fd.value));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Consumes every record now in the rings. Returns the number of samples delivered.
   * Each record's slot is released after its callback returns.
   */
  poll(onSample: SampleCallback, onLost?: LostCallback): number {
    if (this.closed) throw new BpfCommandError("EBADF", "perf buffer reader: used after close");
    let n = 0;
    for (const r of this.rings) n += this.pollRing(r, onSample, onLost);
    return n;
  }

  private pollRing(r: CpuRing, onSample: SampleCallback, onLost?: LostCallback): number {
    let n = 0;
    const mask = r.size - 1;
    for (;;) {
      const headLo = Atomics.load(r.head32, 0) >>> 0;
      if (headLo === r.tailLo) return n;
      while (r.tailLo !== headLo) {
        const off = r.tailLo & mask;
        let buf = r.data;
        let base = off;
        // The 8-byte header never straddles the end (records are 8-aligned); the body may.
        const type = r.dv.getUint32(off, true);
        const size = r.dv.getUint16(off + 6, true);
        if (off + size > r.size) {
          if (this.scratch.length < size) this.scratch = new Uint8Array(size * 2);
          const first = r.size - off;
          this.scratch.set(r.data.subarray(off, r.size), 0);
          this.scratch.set(r.data.subarray(0, size - first), first);
          buf = this.scratch;
          base = 0;
        }
        try {
          if (type === PERF_RECORD_SAMPLE) {
            const len = buf[base + 8] | (buf[base + 9] << 8) | (buf[base + 10] << 16) | (buf[base + 11] << 24);
            n++;
            onSample(r.cpu, buf, base + 12, len >>> 0);
          } else if (type === PERF_RECORD_LOST && onLost) {
            const view = new DataView(buf.buffer, buf.byteOffset + base, size);
            onLost(r.cpu, view.getBigUint64(16, true));
          }
        } finally {
          r.advance(size);
        }
      }
    }
  }

  /** Resolves when some CPU's ring has data. */
  readable(): Promise<void> {
    if (this.closed || this.rings.some((r) => (Atomics.load(r.head32, 0) >>> 0) !== r.tailLo)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.armAll();
    });
  }

  private armAll(): void {
    if (this.closed) return;
    for (const r of this.rings) {
      r.watch ??= watchFd(r.fd.value, () => this.onReady());
      r.watch.arm();
    }
  }

  private onReady(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    if (!this.running) return;
    const { onSample, onLost, onError } = this.running;
    try {
      this.poll(onSample, onLost);
    } catch (e) {
      this.running = null;
      if (onError) onError(e);
      else queueMicrotask(() => {
        throw e;
      });
      return;
    }
    this.armAll();
  }

  /** Event-driven consumption until stop() or close(); keeps the process alive meanwhile. */
  start(onSample: SampleCallback, onLost?: LostCallback, onError?: (e: unknown) => void): void {
    this.running = { onSample, ...(onLost ? { onLost } : {}), ...(onError ? { onError } : {}) };
    this.poll(onSample, onLost);
    this.armAll();
  }

  stop(): void {
    this.running = null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<PerfRecord> {
    const batch: PerfRecord[] = [];
    const onSample: SampleCallback = (cpu, data, off, len) => {
      batch.push({ cpu, data: data.slice(off, off + len) });
    };
    const onLost: LostCallback = (cpu, lost) => {
      batch.push({ cpu, lost });
    };
    while (!this.closed) {
      this.poll(onSample, onLost);
      while (batch.length) yield batch.shift()!;
      await this.readable();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = null;
    for (const r of this.rings) {
      r.watch?.close();
      if (!this.map.fd.closed) {
        try {
          this.map.delete(u32(r.cpu));
        } catch {
          // Already replaced or removed: nothing to undo.
        }
      }
      unmapWhenUnreachable(r.mapping);
      r.fd.close();
    }
    this.rings.length = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
