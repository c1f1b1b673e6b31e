/**
 * 64-bit integer arithmetic on (lo, hi) pairs of 32-bit words, for the
 * interpreter's hot loop (no BigInt there). Results land in OUT[0] (lo) and
 * OUT[1] (hi) to avoid allocating.
 */

export const OUT = new Int32Array(2);

const TWO32 = 4294967296;

/** Full unsigned 32x32 -> 64 product, into OUT. */
function mulU32(a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  OUT[0] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  OUT[1] = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
}

/** Low 64 bits of a * b (the sign does not matter for the low half). */
export function mul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU32(aLo, bLo);
  OUT[1] = (OUT[1] + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
}

const toBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const toBigSigned = (lo: number, hi: number): bigint => BigInt.asIntN(64, toBig(lo, hi));

function fromBig(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  OUT[0] = Number(u & 0xffffffffn) | 0;
  OUT[1] = Number(u >> 32n) | 0;
}

/** Unsigned 64-bit quotient; divisor is non-zero. */
export function udiv64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (aHi === 0 && bHi === 0) {
    OUT[0] = Math.floor((aLo >>> 0) / (bLo >>> 0)) | 0;
    OUT[1] = 0;
    return;
  }
  fromBig(toBig(aLo, aHi) / toBig(bLo, bHi));
}

/** Unsigned 64-bit remainder; divisor is non-zero. */
export function umod64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (aHi === 0 && bHi === 0) {
    OUT[0] = (aLo >>> 0) % (bLo >>> 0) | 0;
    OUT[1] = 0;
    return;
  }
  fromBig(toBig(aLo, aHi) % toBig(bLo, bHi));
}

const fitsI32 = (lo: number, hi: number): boolean => hi === lo >> 31;

/** Signed 64-bit quotient, truncating; divisor non-zero; INT64_MIN / -1 wraps to INT64_MIN. */
export function sdiv64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (fitsI32(aLo, aHi) && fitsI32(bLo, bHi)) {
    const q = Math.trunc((aLo | 0) / (bLo | 0));
    OUT[0] = q | 0;
    OUT[1] = q < 0 ? -1 : 0;
    return;
  }
  const a = toBigSigned(aLo, aHi);
  const b = toBigSigned(bLo, bHi);
  fromBig(b === -1n ? -a : a / b);
}

/** Signed 64-bit remainder (sign of the dividend); divisor non-zero. */
export function smod64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (fitsI32(aLo, aHi) && fitsI32(bLo, bHi)) {
    const r = (aLo | 0) % (bLo | 0);
    OUT[0] = r | 0;
    OUT[1] = r < 0 ? -1 : 0;
    return;
  }
  const a = toBigSigned(aLo, aHi);
  const b = toBigSigned(bLo, bHi);
  fromBig(b === -1n ? 0n : a % b);
}

/** Signed 32-bit quotient, truncating; INT32_MIN / -1 wraps. */
export const sdiv32 = (a: number, b: number): number => (b === -1 ? -a | 0 : Math.trunc(a / b) | 0);
/** Signed 32-bit remainder (sign of the dividend). */
export const smod32 = (a: number, b: number): number => (b === -1 ? 0 : a % b | 0);

export function shl64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[1] = (hi << n) | (lo >>> (32 - n));
    OUT[0] = lo << n;
  } else {
    OUT[1] = lo << (n - 32);
    OUT[0] = 0;
  }
}

export function shr64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >>> n;
  } else {
    OUT[0] = hi >>> (n - 32);
    OUT[1] = 0;
  }
}

export function sar64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >> n;
  } else {
    OUT[0] = hi >> (n - 32);
    OUT[1] = hi >> 31;
  }
}

export const bswap16 = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
export const bswap32 = (v: number): number =>
  ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);

/** Unsigned compare of two 64-bit values: -1, 0 or 1. */
export function ucmp64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (aHi !== bHi) return aHi >>> 0 < bHi >>> 0 ? -1 : 1;
  if (aLo !== bLo) return aLo >>> 0 < bLo >>> 0 ? -1 : 1;
  return 0;
}

/** Signed compare of two 64-bit values: -1, 0 or 1. */
export function scmp64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (aHi !== bHi) return (aHi | 0) < (bHi | 0) ? -1 : 1;
  if (aLo !== bLo) return aLo >>> 0 < bLo >>> 0 ? -1 : 1;
  return 0;
}

/** An unsigned 64-bit pair as a number (exact below 2^53). */
export const pairToNumber = (lo: number, hi: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);

/** A pair as an unsigned bigint. */
export const pairToBig = toBig;
