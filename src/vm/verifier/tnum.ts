/**
 * Tristate numbers: a value and a mask of unknown bits (kernel/bpf/tnum.c,
 * "tnum" — Edward Cree's known-bits domain). Bits set in `mask` are unknown;
 * `value` holds the known bits and is zero where `mask` is set. 64-bit values
 * are unsigned bigints in [0, 2^64).
 */

export const U64 = (1n << 64n) - 1n;
export const U32 = 0xffffffffn;

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const tnum = (value: bigint, mask: bigint): Tnum => ({ value, mask });
export const tnumConst = (v: bigint): Tnum => ({ value: v & U64, mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64 };

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64;
export const tnumEquals = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

/** The tnum of all values in [min, max] (tnum_range). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = chi === 0n ? 0 : chi.toString(2).length; // fls64
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64, mask: delta };
}

export const tnumLshift = (a: Tnum, s: number): Tnum => ({ value: (a.value << BigInt(s)) & U64, mask: (a.mask << BigInt(s)) & U64 });
export const tnumRshift = (a: Tnum, s: number): Tnum => ({ value: a.value >> BigInt(s), mask: a.mask >> BigInt(s) });

const sx64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const sx32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Arithmetic shift right of a 64- (or 32-) bit tnum (tnum_arshift). */
export function tnumArshift(a: Tnum, s: number, bits: 32 | 64): Tnum {
  const sh = BigInt(s);
  if (bits === 32) {
    return { value: BigInt.asUintN(32, sx32(a.value) >> sh), mask: BigInt.asUintN(32, sx32(a.mask) >> sh) };
  }
  return { value: BigInt.asUintN(64, sx64(a.value) >> sh), mask: BigInt.asUintN(64, sx64(a.mask) >> sh) };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = (a.mask + b.mask) & U64;
  const sv = (a.value + b.value) & U64;
  const sigma = (sm + sv) & U64;
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & U64;
  const alpha = (dv + a.mask) & U64;
  const beta = (dv - b.mask) & U64;
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64, mask: mu };
}

export function tnumNeg(a: Tnum): Tnum {
  return tnumSub(tnumConst(0n), a);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64 };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64 };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/**
 * tnum_mul as of Linux 6.17+ (kernel/bpf/tnum.c): accumulate b for certain-1 bits
 * of a, and the union of "with" and "without" for unknown bits.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  if (a.mask === 0n && b.mask === 0n) return { value: (a.value * b.value) & U64, mask: 0n };
  // The bit loop costs ~64 tnum additions; loops multiply the same operands over and over.
  const key = `${a.value}:${a.mask}:${b.value}:${b.mask}`;
  const hit = mulCache.get(key);
  if (hit) return hit;
  const r = tnumMulSlow(a, b);
  if (mulCache.size >= 4096) mulCache.clear();
  mulCache.set(key, r);
  return r;
}

const mulCache = new Map<string, Tnum>();

function tnumMulSlow(a: Tnum, b: Tnum): Tnum {
  let acc: Tnum = { value: 0n, mask: 0n };
  while (a.value !== 0n || a.mask !== 0n) {
    if (a.value & 1n) acc = tnumAdd(acc, b);
    else if (a.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, b));
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return acc;
}

/** Values either a or b may hold (tnum_union). */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** Values both a and b may hold (tnum_intersect). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** a with its size-byte low part kept (tnum_cast). */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** Is b a subset of a (tnum_in: every value of b is a value of a). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (b.mask & ~a.mask) return false;
  return (b.value & ~a.mask) === a.value;
}

export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
export const tnumWithSubreg = (reg: Tnum, sub: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(sub));
export const tnumConstSubreg = (a: Tnum, v: bigint): Tnum => tnumWithSubreg(a, tnumConst(v & U32));
export const tnumIsAligned = (a: Tnum, size: number): boolean => size === 0 || ((a.value | a.mask) & BigInt(size - 1)) === 0n;

/** tnum_strn's "(value; mask)" with the kernel's %#llx (which prints 0 as 0x0). */
export const tnumStr = (a: Tnum): string => `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
