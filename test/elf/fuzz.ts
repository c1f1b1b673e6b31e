/**
 * Deterministic mutation of real inputs for fuzz tests: truncation, bit and
 * byte flips, "interesting" values written over fields, slices moved around.
 * Seeded, so a failure names a case that can be replayed.
 */

/** mulberry32: a small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 2, 7, 8, 16, 24, 64, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/**
 * One mutation of `input`. `hot` is a list of byte ranges worth hitting more
 * often (headers, tables); mutations land in them half the time.
 */
export function mutate(input: Uint8Array, r: () => number, hot: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const pick = (n: number): number => Math.floor(r() * n);
  const pos = (len: number): number => {
    if (hot.length && r() < 0.5) {
      const [s, e] = hot[pick(hot.length)];
      return Math.min(len - 1, s + pick(Math.max(1, e - s)));
    }
    return pick(len);
  };
  let out = input.slice();
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds && out.length > 0; k++) {
    switch (pick(7)) {
      case 0: // truncate
        out = out.slice(0, pick(out.length));
        break;
      case 1: { // flip a bit
        const p = pos(out.length);
        out[p] ^= 1 << pick(8);
        break;
      }
      case 2: { // random bytes
        const p = pos(out.length);
        const n = 1 + pick(8);
        for (let i = 0; i < n && p + i < out.length; i++) out[p + i] = pick(256);
        break;
      }
      case 3: case 4: { // an interesting 16/32-bit value, aligned like a field
        const width = r() < 0.5 ? 2 : 4;
        const p = pos(out.length) & ~(width - 1);
        if (p + width > out.length) break;
        const v = INTERESTING[pick(INTERESTING.length)];
        const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
        if (width === 2) dv.setUint16(p, v & 0xffff, r() < 0.8);
        else dv.setUint32(p, v >>> 0, r() < 0.8);
        break;
      }
      case 5: { // a 64-bit value
        const p = pos(out.length) & ~7;
        if (p + 8 > out.length) break;
        const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
        dv.setBigUint64(p, r() < 0.5 ? BigInt(INTERESTING[pick(INTERESTING.length)]) : (1n << BigInt(pick(64))) - 1n, true);
        break;
      }
      default: { // copy a chunk over another place
        const a = pick(out.length);
        const b = pick(out.length);
        const n = Math.min(1 + pick(64), out.length - Math.max(a, b));
        out.copyWithin(b, a, a + n);
        break;
      }
    }
  }
  return out;
}
