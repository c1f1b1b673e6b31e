/**
 * Internet checksum arithmetic exactly as x86-64 Linux computes it, bit for
 * bit: a helper's r0 (bpf_csum_diff, bpf_csum_update) and the checksum bytes
 * it writes must match the kernel's, including which of the two one's-
 * complement zeros (0 or all ones) a sum lands on.
 *
 * - csum_partial() (arch/x86/lib/csum-partial_64.c) adds 64-bit little-endian
 *   words with end-around carry, the tail zero-padded, then folds to 32 bits
 *   with end-around carry. That equals the sum of the 32-bit little-endian
 *   words taken modulo 2^32 - 1, represented in [1, 2^32 - 1] unless every
 *   addend is zero (end-around-carry addition never reaches 0 otherwise).
 * - csum_add / csum_sub / csum_fold / csum16_add: include/net/checksum.h and
 *   arch/x86/include/asm/checksum_64.h.
 *
 * Values are u32 numbers; no BigInt.
 */

const M32 = 0xffffffff;

/**
 * csum_partial(buf, len, seed): the 32-bit one's-complement sum of
 * u8[start, start+len) (little-endian words) and `seed`.
 */
export function csumPartial(u8: Uint8Array, start: number, len: number, seed: number): number {
  let total = seed >>> 0;
  let i = start;
  const end = start + len;
  // Whole 32-bit words; the running total stays far below 2^53 for any packet.
  for (; i + 4 <= end; i += 4) total += (u8[i] | (u8[i + 1] << 8) | (u8[i + 2] << 16) | (u8[i + 3] << 24)) >>> 0;
  let shift = 0;
  let last = 0;
  for (; i < end; i++, shift += 8) last += u8[i] * 2 ** shift;
  total += last;
  if (total === 0) return 0;
  return ((total - 1) % M32) + 1;
}

/** csum_add(): 32-bit addition with end-around carry. */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return s > M32 ? (s - M32) >>> 0 : s >>> 0;
}

/** csum_sub(a, b) = csum_add(a, ~b). */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** The end-around-carry sum of a u32's two halves (csum_from32to16 without the complement). */
export function fold16(x: number): number {
  const s = (x >>> 16) + (x & 0xffff);
  return s > 0xffff ? s - 0xffff : s;
}

/** csum_fold(): the complemented 16-bit checksum of a 32-bit sum. */
export function csumFold(x: number): number {
  return ~fold16(x >>> 0) & 0xffff;
}

/** csum_from32to16(): what bpf_csum_diff returns (Linux 6.12+: folded, arch-independent). */
export function csumFrom32to16(x: number): number {
  return fold16(x >>> 0);
}

/** csum16_add(): 16-bit addition with end-around carry. */
export function csum16Add(a: number, b: number): number {
  const res = ((a & 0xffff) + (b & 0xffff)) & 0xffff;
  return (res + (res < (b & 0xffff) ? 1 : 0)) & 0xffff;
}

/** csum16_sub(a, b) = csum16_add(a, ~b). */
export function csum16Sub(a: number, b: number): number {
  return csum16Add(a, ~b & 0xffff);
}

/** csum_replace2(): the new 16-bit checksum after a 16-bit field changed from `from` to `to`. */
export function csumReplace2(sum: number, from: number, to: number): number {
  return ~csum16Add(csum16Sub(~sum & 0xffff, from), to) & 0xffff;
}

/** csum_replace4(): after a 32-bit field changed. csum_unfold() zero-extends, the ~ is 32-bit. */
export function csumReplace4(sum: number, from: number, to: number): number {
  const tmp = csumSub(~(sum & 0xffff) >>> 0, from);
  return csumFold(csumAdd(tmp, to));
}

/** csum_replace_by_diff(): after a change whose checksum difference is `diff`. */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff, ~(sum & 0xffff) >>> 0));
}

/** ror32(). */
export function ror32(x: number, n: number): number {
  return ((x >>> n) | (x << (32 - n))) >>> 0;
}

/** csum_block_add(): a block's sum joining at `offset` (odd offsets swap the bytes). */
export function csumBlockAdd(csum: number, csum2: number, offset: number): number {
  const s = offset & 1 ? ror32(csum2 >>> 0, 8) : csum2 >>> 0;
  return csumAdd(csum, s);
}

/** csum_block_sub() = csum_block_add(csum, ~csum2, offset). */
export function csumBlockSub(csum: number, csum2: number, offset: number): number {
  return csumBlockAdd(csum, ~csum2 >>> 0, offset);
}
