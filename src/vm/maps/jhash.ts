/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h): the
 * hash tables, the bloom filter and the stack map bucket by it. Matching the
 * kernel bit for bit makes iteration order equal to the kernel's for maps
 * created with BPF_F_ZERO_SEED (hash seed 0), which differential tests rely on.
 */

/** include/linux/jhash.h, JHASH_INITVAL. */
export const JHASH_INITVAL = 0xdeadbeef;

// Every function here works on int32 values and returns the hash as an int32
// (the kernel's u32 bit pattern): V8 keeps such values unboxed, which a u32
// above 2^31 would not be. Use `h >>> 0` where the unsigned value matters.

/** jhash() over `length` bytes of `u8` at `off`; equal to jhash2() when length % 4 == 0. */
export function jhashBytes(u8: Uint8Array, off: number, length: number, initval: number): number {
  let a = (JHASH_INITVAL + length + initval) | 0;
  let b = a;
  let c = a;
  let k = off;
  while (length > 12) {
    a = (a + (u8[k] | (u8[k + 1] << 8) | (u8[k + 2] << 16) | (u8[k + 3] << 24))) | 0;
    b = (b + (u8[k + 4] | (u8[k + 5] << 8) | (u8[k + 6] << 16) | (u8[k + 7] << 24))) | 0;
    c = (c + (u8[k + 8] | (u8[k + 9] << 8) | (u8[k + 10] << 16) | (u8[k + 11] << 24))) | 0;
    // __jhash_mix
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    length -= 12;
    k += 12;
  }
  if (length === 0) return c;
  // The last block: 1..12 bytes, little-endian into a, b, c.
  a = (a + tail(u8, k, length)) | 0;
  if (length > 4) b = (b + tail(u8, k + 4, length - 4)) | 0;
  if (length > 8) c = (c + tail(u8, k + 8, length - 8)) | 0;
  return final(a, b, c);
}

/** jhash2() over `nwords` 32-bit words of `w` from word index `idx`. */
export function jhashWords(w: Int32Array, idx: number, nwords: number, initval: number): number {
  let a = (JHASH_INITVAL + (nwords << 2) + initval) | 0;
  let b = a;
  let c = a;
  let k = idx;
  while (nwords > 3) {
    a = (a + w[k]) | 0;
    b = (b + w[k + 1]) | 0;
    c = (c + w[k + 2]) | 0;
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    nwords -= 3;
    k += 3;
  }
  if (nwords === 0) return c;
  if (nwords >= 3) c = (c + w[k + 2]) | 0;
  if (nwords >= 2) b = (b + w[k + 1]) | 0;
  a = (a + w[k]) | 0;
  return final(a, b, c);
}

/** Up to 4 bytes (n clamped) at k as a little-endian word. */
function tail(u8: Uint8Array, k: number, n: number): number {
  let w = u8[k];
  if (n > 1) w |= u8[k + 1] << 8;
  if (n > 2) w |= u8[k + 2] << 16;
  if (n > 3) w |= u8[k + 3] << 24;
  return w;
}

function final(a: number, b: number, c: number): number {
  c ^= b; c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c; a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a; b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b; c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c; a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a; b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b; c = (c - ((b << 24) | (b >>> 8))) | 0;
  return c;
}

/** The kernel's htab_map_hash(): jhash2 for word-multiple keys, jhash otherwise (same value). */
export function hashKey(u8: Uint8Array, i32: Int32Array, addr: number, len: number, seed: number): number {
  if ((len & 3) === 0 && (addr & 3) === 0) return jhashWords(i32, addr >>> 2, len >>> 2, seed);
  return jhashBytes(u8, addr, len, seed);
}
