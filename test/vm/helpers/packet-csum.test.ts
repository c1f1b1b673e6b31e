/**
 * The checksum arithmetic against a literal transcription of x86-64's
 * csum_partial (64-bit words with end-around carry, the tail zero-padded,
 * folded to 32 bits) and csum_fold, on random and corner-case inputs.
 */
import { describe, expect, test } from "vitest";
import {
  csum16Add, csumAdd, csumFold, csumFrom32to16, csumPartial, csumReplace2, csumReplace4, csumSub,
} from "../../../src/vm/helpers/packet-csum.js";

const M64 = (1n << 64n) - 1n;

/** arch/x86/lib/csum-partial_64.c, in BigInt: add64 with carry, then from64to32. */
function refPartial(b: Uint8Array, seed: number): number {
  let t = BigInt(seed >>> 0);
  const add = (v: bigint): void => {
    t += v;
    if (t > M64) t = (t & M64) + 1n;
  };
  let i = 0;
  for (; i + 8 <= b.length; i += 8) add(new DataView(b.buffer, b.byteOffset + i, 8).getBigUint64(0, true));
  if (i < b.length) {
    let v = 0n;
    for (let j = b.length - 1; j >= i; j--) v = (v << 8n) | BigInt(b[j]);
    add(v);
  }
  const hi = t >> 32n;
  const lo = t & 0xffffffffn;
  let s = hi + lo;
  if (s > 0xffffffffn) s = (s & 0xffffffffn) + 1n;
  return Number(s);
}

/** arch/x86/include/asm/checksum_64.h, csum_fold. */
function refFold(sum: number): number {
  let s = (sum & 0xffff0000) >>> 0;
  s += (sum << 16) >>> 0;
  const carry = s > 0xffffffff ? 1 : 0;
  s = (s + 0xffff + carry) % 2 ** 32;
  return (~s >>> 16) & 0xffff;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe("csum_partial", () => {
  test("random buffers and seeds match the x86-64 algorithm", () => {
    const r = rng(12345);
    for (let n = 0; n < 2000; n++) {
      const len = r() % 200;
      const b = Uint8Array.from({ length: len }, () => r() & 0xff);
      const seed = n % 3 === 0 ? 0 : r();
      expect(csumPartial(b, 0, len, seed)).toBe(refPartial(b, seed));
    }
  });

  test("the two zeros: all-zero data sums to 0, a cancelling sum to all ones", () => {
    expect(csumPartial(new Uint8Array(12), 0, 12, 0)).toBe(0);
    const b = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
    expect(csumPartial(b, 0, 4, 0)).toBe(0xffffffff);
    expect(refPartial(b, 0)).toBe(0xffffffff);
    const c = Uint8Array.from([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    expect(csumPartial(c, 0, 8, 0)).toBe(refPartial(c, 0));
  });

  test("an offset into a larger buffer", () => {
    const b = Uint8Array.from({ length: 64 }, (_, i) => i * 13);
    expect(csumPartial(b, 5, 37, 7)).toBe(refPartial(b.subarray(5, 42), 7));
  });
});

describe("folding and replacement", () => {
  test("csum_fold matches the x86 asm", () => {
    const r = rng(99);
    for (let n = 0; n < 5000; n++) {
      const v = n < 4 ? [0, 0xffff, 0xffff0000, 0xffffffff][n] : r();
      expect(csumFold(v)).toBe(refFold(v));
    }
  });

  test("csum_add / csum_sub carry around", () => {
    expect(csumAdd(0xffffffff, 1)).toBe(1);
    expect(csumAdd(0x80000000, 0x80000000)).toBe(1);
    expect(csumSub(5, 5)).toBe(0xffffffff);
    expect(csum16Add(0xffff, 1)).toBe(1);
    expect(csumFrom32to16(0xffff0001)).toBe(1);
    expect(csumFrom32to16(0)).toBe(0);
  });

  test("replacing a field keeps a checksum valid", () => {
    // An IPv4 header with a correct checksum, then its TTL/protocol word changes.
    const hdr = Uint8Array.from([0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 0x01, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    const sum = csumFold(csumPartial(hdr, 0, 20, 0));
    hdr[10] = sum & 0xff;
    hdr[11] = sum >>> 8;
    expect(csumFold(csumPartial(hdr, 0, 20, 0))).toBe(0);
    const oldWord = hdr[8] | (hdr[9] << 8);
    hdr[8] = 0x3f;
    const newWord = hdr[8] | (hdr[9] << 8);
    const fixed = csumReplace2(hdr[10] | (hdr[11] << 8), oldWord, newWord);
    hdr[10] = fixed & 0xff;
    hdr[11] = fixed >>> 8;
    expect(csumFold(csumPartial(hdr, 0, 20, 0))).toBe(0);
    const oldAddr = new DataView(hdr.buffer).getUint32(16, true);
    hdr.set([192, 168, 1, 1], 16);
    const newAddr = new DataView(hdr.buffer).getUint32(16, true);
    const fixed4 = csumReplace4(hdr[10] | (hdr[11] << 8), oldAddr, newAddr);
    hdr[10] = fixed4 & 0xff;
    hdr[11] = fixed4 >>> 8;
    expect(csumFold(csumPartial(hdr, 0, 20, 0))).toBe(0);
  });
});
