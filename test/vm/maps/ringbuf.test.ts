import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import {
  BPF_MAP_TYPE, BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, RingBufBase, type RingBufMap, createMap, tryCreateMap,
} from "../../../src/vm/maps/index.js";
import { RingBufReader } from "../../../src/vm/readers/index.js";
import { bytes, newSpace, u32 } from "./util.js";

const E = ERRNO;

function ring(size = 4096): RingBufMap {
  return createMap(newSpace(), { mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size }) as RingBufMap;
}

describe("ring buffer", () => {
  test("size must be a power-of-two multiple of the page size; elements ops are ENOTSUPP", () => {
    const s = newSpace();
    expect(tryCreateMap(s, { mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 12288 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 2048 })).toBe(-E.EINVAL);
    const r = ring();
    expect(r.sysLookup(null, new Uint8Array(0))).toBe(-E.ENOTSUPP);
    expect(r.sysUpdate(null, new Uint8Array(0))).toBe(-E.ENOTSUPP);
    expect(r.sysGetNextKey(null, new Uint8Array(4))).toBe(-E.ENOTSUPP);
  });

  test("record header: len | BUSY while reserved, pg_off counts pages from the ring start; 8-byte aligned records", () => {
    const r = ring(8192);
    const u32v = () => r.space.u32;
    const s1 = r.reserve(5);
    expect(s1).toBe(r.dataAddr + 8);
    expect(u32v()[(s1 - 8) >>> 2] >>> 0).toBe((5 | BPF_RINGBUF_BUSY_BIT) >>> 0);
    expect(u32v()[(s1 - 4) >>> 2]).toBe(3); // header page, consumer page, producer page
    expect(r.producerPos).toBe(16);
    r.submit(s1, 0);
    expect(u32v()[(s1 - 8) >>> 2]).toBe(5);
    // A record past the first data page has pg_off 4.
    const big = r.reserve(4096);
    r.discard(big, 0);
    expect(u32v()[(big - 8) >>> 2] >>> 0).toBe((4096 | BPF_RINGBUF_DISCARD_BIT) >>> 0);
    const s3 = r.reserve(1);
    expect(s3 - 8 - r.dataAddr).toBe(16 + 4104);
    expect(u32v()[(s3 - 4) >>> 2]).toBe(4);
    expect(RingBufBase.fromHeader(r.space, s3 - 8)).toBe(r);
    // The producer/consumer positions are mirrored in their pages.
    expect(u32v()[(r.base + 2 * 4096) >>> 2]).toBe(r.producerPos);
  });

  test("at most size - 1 bytes in flight: a 4096-byte ring takes a 4080-byte sample, then nothing", () => {
    const r = ring();
    expect(r.reserve(4081)).toBe(0);
    const s = r.reserve(4080);
    expect(s).not.toBe(0);
    expect(r.reserve(0)).toBe(0);
    r.submit(s, 0);
    const rd = new RingBufReader(r);
    expect(rd.drain().map((x) => x.length)).toEqual([4080]);
    expect(r.reserve(0)).not.toBe(0);
  });

  test("a busy record holds back later committed ones; discarded records are skipped", () => {
    const r = ring();
    const a = r.reserve(4);
    const b = r.reserve(4);
    const c = r.reserve(4);
    r.space.u8.set(u32(2), b);
    r.submit(b, 0);
    r.discard(c, 0);
    const rd = new RingBufReader(r);
    expect(rd.drain()).toEqual([]);
    r.space.u8.set(u32(1), a);
    r.submit(a, 0);
    expect(rd.drain()).toEqual([u32(1), u32(2)]);
    expect(r.consumerPos).toBe(r.producerPos);
  });

  test("wakeups: only when the consumer waits on that record, never with NO_WAKEUP, always with FORCE_WAKEUP", () => {
    const r = ring();
    const a = r.reserve(1);
    const b = r.reserve(1);
    r.submit(b, 0); // the consumer waits on a, not b
    expect(r.wakeups).toBe(0);
    r.submit(a, 0);
    expect(r.wakeups).toBe(1);
    r.submit(r.reserve(1), 0); // the consumer is still at a
    expect(r.wakeups).toBe(1);
    new RingBufReader(r).drain();
    r.submit(r.reserve(1), BPF_RB_NO_WAKEUP);
    expect(r.wakeups).toBe(1);
    r.submit(r.reserve(1), BPF_RB_FORCE_WAKEUP);
    expect(r.wakeups).toBe(2);
  });

  test("output: EINVAL for unknown flags, EAGAIN when full; query reports positions and size", () => {
    const r = ring();
    const src = r.space.allocBytes(bytes(100, (i) => i));
    expect(r.output(src, 100, 4)).toBe(-E.EINVAL);
    expect(r.output(src, 100, 0)).toBe(0);
    expect(r.query(BPF_RB_AVAIL_DATA)).toBe(112);
    expect(r.query(BPF_RB_RING_SIZE)).toBe(4096);
    expect(r.query(BPF_RB_PROD_POS)).toBe(112);
    expect(r.query(BPF_RB_CONS_POS)).toBe(0);
    expect(r.query(99)).toBe(0);
    let n = 0;
    while (r.output(src, 100, 0) === 0) n++;
    expect(n).toBe(35);
    expect(r.output(src, 100, 0)).toBe(-E.EAGAIN);
  });

  test("a record that wraps is contiguous for the program and the reader, and mirrored to the ring's start", () => {
    const r = ring();
    const rd = new RingBufReader(r);
    r.submit(r.reserve(4000), 0);
    rd.drain();
    const s = r.reserve(200); // header at 4008: the sample runs past the end
    const payload = bytes(200, (i) => i + 1);
    r.space.u8.set(payload, s);
    r.submit(s, 0);
    expect(rd.drain()).toEqual([payload]);
    // Bytes past the end were copied to the start of the data area.
    const over = 4008 + 8 + 200 - 4096;
    expect(r.space.u8.slice(r.dataAddr, r.dataAddr + over)).toEqual(payload.slice(200 - over));
  });

  test("positions keep growing past 2^32 without losing records", () => {
    const r = ring();
    const rd = new RingBufReader(r);
    // Jump the positions as if 2^32 + 8 bytes had passed: they live in the ring's
    // pages (producer_pos, and pending_pos in the header page).
    const put = (addr: number, v: number): void => {
      r.space.u32[addr >>> 2] = v >>> 0;
      r.space.u32[(addr >>> 2) + 1] = Math.floor(v / 2 ** 32);
    };
    put(r.prodAddr, 2 ** 32 + 8);
    put(r.pendAddr, 2 ** 32 + 8);
    r.consumerPos = 2 ** 32 + 8;
    expect(r.producerPos).toBe(2 ** 32 + 8);
    r.outputBytes(u32(7));
    expect(rd.drain()).toEqual([u32(7)]);
    expect(r.consumerPos).toBe(2 ** 32 + 24);
  });
});
