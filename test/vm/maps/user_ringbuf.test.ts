import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_MAP_TYPE, BPF_RB_NO_WAKEUP, type UserRingBufMap, createMap } from "../../../src/vm/maps/index.js";
import { bytes, newSpace, u32 } from "./util.js";

const E = ERRNO;

function uring(size = 4096): UserRingBufMap {
  return createMap(newSpace(), { mapType: BPF_MAP_TYPE.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: size }) as UserRingBufMap;
}

describe("user ring buffer", () => {
  test("user space produces, bpf_user_ringbuf_drain consumes in order and wakes the producer", () => {
    const r = uring();
    expect(r.write(u32(1))).toBe(0);
    expect(r.write(bytes(10, (i) => i))).toBe(0);
    const seen: number[][] = [];
    const n = r.drain(0, (addr, size) => {
      seen.push([...r.space.u8.slice(addr, addr + size)]);
      return 0;
    });
    expect(n).toBe(2);
    expect(seen).toEqual([[1, 0, 0, 0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    expect(r.consumerPos).toBe(r.producerPos);
    expect(r.wakeups).toBe(1);
    expect(r.drain(0, () => 0)).toBe(0);
  });

  test("a callback returning 1 stops after that sample; discarded samples are skipped; busy ones stop the drain", () => {
    const r = uring();
    r.write(u32(1));
    const d = r.reserve(4);
    if (d < 0) throw new Error("reserve");
    r.submit(d, true);
    r.write(u32(3));
    r.write(u32(4));
    const got: number[] = [];
    expect(r.drain(BPF_RB_NO_WAKEUP, (a) => (got.push(r.space.u32[a >>> 2]), got.length === 2 ? 1 : 0))).toBe(2);
    expect(got).toEqual([1, 3]);
    const busy = r.reserve(4);
    expect(busy).toBeGreaterThan(0);
    expect(r.drain(0, (a) => (got.push(r.space.u32[a >>> 2]), 0))).toBe(-E.EBUSY);
    expect(got).toEqual([1, 3, 4]);
    expect(r.drain(4, () => 0)).toBe(-E.EINVAL);
  });

  test("reserve: E2BIG when a sample can never fit, ENOSPC when the ring is full now", () => {
    const r = uring();
    expect(r.reserve(4096)).toBe(-E.E2BIG);
    expect(r.reserve(4088)).toBeGreaterThan(0);
    expect(r.reserve(1)).toBe(-E.ENOSPC);
  });

  test("a wrapped sample is contiguous for the program", () => {
    const r = uring();
    r.write(new Uint8Array(4000));
    r.drain(0, () => 0);
    const payload = bytes(300, (i) => i * 3);
    expect(r.write(payload)).toBe(0);
    let got: Uint8Array | undefined;
    r.drain(0, (a, n) => ((got = r.space.u8.slice(a, a + n)), 0));
    expect(got).toEqual(payload);
  });
});
