import { describe, expect, test } from "vitest";
import { BPF_F_CURRENT_CPU, BPF_MAP_TYPE, BPF_RB_NO_WAKEUP, type PerfEventArrayMap, type RingBufMap, createMap } from "../../../src/vm/maps/index.js";
import { PerfBufReader, type PerfRecord, RingBufReader } from "../../../src/vm/readers/index.js";
import { newSpace, u32 } from "./util.js";

describe("readers", () => {
  test("ring buffer: for await yields records as the map wakes the reader, and ends on close", async () => {
    const r = createMap(newSpace(), { mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
    const rd = new RingBufReader(r);
    const got: number[] = [];
    const done = (async () => {
      for await (const rec of rd) got.push(new DataView(rec.buffer, rec.byteOffset).getUint32(0, true));
    })();
    for (let i = 0; i < 5; i++) {
      r.outputBytes(u32(i));
      await new Promise((res) => setTimeout(res, 1));
    }
    // A record without a wakeup waits for the next wakeup (or close).
    r.outputBytes(u32(99), BPF_RB_NO_WAKEUP);
    await new Promise((res) => setTimeout(res, 5));
    expect(got).toEqual([0, 1, 2, 3, 4]);
    rd.close();
    await done;
    expect(got).toEqual([0, 1, 2, 3, 4, 99]);
  });

  test("ring buffer: pollRaw hands out (memory, offset, length) without copying; stopping early leaves the rest", () => {
    const r = createMap(newSpace(), { mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
    for (let i = 0; i < 3; i++) r.outputBytes(u32(i + 10));
    const rd = new RingBufReader(r);
    const seen: number[] = [];
    expect(rd.pollRaw((u8, off) => (seen.push(u8[off]), false))).toBe(1);
    expect(rd.poll((v) => void seen.push(v[0]))).toBe(2);
    expect(seen).toEqual([10, 11, 12]);
    expect(rd.available).toBe(0);
  });

  test("perf buffer: for await yields samples from every CPU", async () => {
    const m = createMap(newSpace(), { mapType: BPF_MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, { ncpus: 2 }) as PerfEventArrayMap;
    const rd = new PerfBufReader(m, { pages: 1 });
    const got: PerfRecord[] = [];
    const done = (async () => {
      for await (const rec of rd) got.push(rec);
    })();
    const d = m.space.allocBytes(u32(5));
    m.output(1, BPF_F_CURRENT_CPU, 0, d, 4);
    await new Promise((res) => setTimeout(res, 1));
    m.output(0, BPF_F_CURRENT_CPU, 0, d, 4);
    await new Promise((res) => setTimeout(res, 1));
    rd.close();
    await done;
    expect(got.map((r) => r.cpu)).toEqual([1, 0]);
    expect(m.get(0)).toBeUndefined();
  });
});
