import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_ZERO_SEED, BPF_MAP_TYPE, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { bytes, mapPair, newSpace, prng, u32 } from "./util.js";

const E = ERRNO;
const BLOOM = BPF_MAP_TYPE.BLOOM_FILTER;

describe("bloom filter", () => {
  test("no false negatives; push needs BPF_ANY; delete and get_next_key are EOPNOTSUPP", () => {
    const m = createMap(newSpace(), { mapType: BLOOM, keySize: 0, valueSize: 8, maxEntries: 100 });
    for (let i = 0; i < 100; i++) expect(m.sysUpdate(null, bytes(8, (j) => i * 13 + j))).toBe(0);
    for (let i = 0; i < 100; i++) expect(m.sysLookup(null, bytes(8, (j) => i * 13 + j))).toBe(0);
    expect(m.sysUpdate(null, u32(1).slice(0, 8), 1)).toBe(-E.EINVAL);
    expect(m.sysDelete(null)).toBe(-E.EOPNOTSUPP);
    expect(m.sysGetNextKey(null, new Uint8Array(4))).toBe(-E.EOPNOTSUPP);
    expect(m.sysLookupAndDelete(null, new Uint8Array(8))).toBe(-E.ENOTSUPP);
  });

  test("map_extra: hash count in the low 4 bits, anything above is EINVAL; key_size must be 0", () => {
    const s = newSpace();
    expect(tryCreateMap(s, { mapType: BLOOM, keySize: 0, valueSize: 4, maxEntries: 8, mapExtra: 16 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: BLOOM, keySize: 4, valueSize: 4, maxEntries: 8 })).toBe(-E.EINVAL);
    const m = createMap(s, { mapType: BLOOM, keySize: 0, valueSize: 4, maxEntries: 8, mapExtra: 3 });
    expect((m as unknown as { nrHashFuncs: number }).nrHashFuncs).toBe(3);
  });
});

describeKernel("bloom filter vs the kernel", () => {
  test("with BPF_F_ZERO_SEED every peek answer matches, false positives included", () => {
    const rnd = prng(77);
    for (const [vs, max, extra] of [[4, 20, 0], [7, 50, 2], [16, 8, 1]] as const) {
      const { vm, k } = mapPair(newSpace(), { mapType: BLOOM, keySize: 0, valueSize: vs, maxEntries: max, mapFlags: BPF_F_ZERO_SEED, mapExtra: extra });
      try {
        let positives = 0;
        for (let i = 0; i < 3000; i++) {
          const v = bytes(vs, () => rnd.int(4));
          if (rnd.chance(0.3)) expect(vm.update(null, v)).toBe(k.update(null, v));
          const r = vm.lookup(null, v.slice());
          expect(r, `peek ${i}`).toBe(k.lookup(null, v.slice()));
          if (r === 0) positives++;
        }
        expect(positives).toBeGreaterThan(0);
      } finally {
        k.close();
      }
    }
  });
});
