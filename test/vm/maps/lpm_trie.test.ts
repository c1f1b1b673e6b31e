import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_NO_PREALLOC, BPF_MAP_TYPE, type LpmTrieMap, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { type Target, bytes, hex, mapPair, newSpace, prng, u32 } from "./util.js";

const E = ERRNO;
const LPM = BPF_MAP_TYPE.LPM_TRIE;

function lpmKey(prefixlen: number, ...data: number[]): Uint8Array {
  const k = new Uint8Array(4 + data.length);
  k.set(u32(prefixlen));
  k.set(data, 4);
  return k;
}

const bitAt = (d: Uint8Array, i: number): number => (d[i >> 3] >> (7 - (i & 7))) & 1;
function prefixEq(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (bitAt(a, i) !== bitAt(b, i)) return false;
  return true;
}

/** Longest-prefix match by brute force over every stored prefix. */
function lpmModel(dataSize: number, vs: number, max: number): Target {
  const entries: { plen: number; data: Uint8Array; value: Uint8Array }[] = [];
  const maxPlen = dataSize * 8;
  const parse = (k: Uint8Array | null): [number, Uint8Array] => [new DataView(k!.buffer, k!.byteOffset).getUint32(0, true), k!.slice(4)];
  const find = (plen: number, data: Uint8Array): number => entries.findIndex((e) => e.plen === plen && prefixEq(e.data, data, plen));
  return {
    keySize: 4 + dataSize,
    valueSize: vs,
    lookup: (k, o, f = 0) => {
      if (f) return -E.EINVAL;
      const [plen, data] = parse(k);
      if (plen > maxPlen) return -E.ENOENT;
      let best: (typeof entries)[number] | undefined;
      for (const e of entries) {
        if (e.plen <= Math.min(plen, maxPlen) && prefixEq(e.data, data, e.plen) && (!best || e.plen > best.plen)) best = e;
      }
      if (!best) return -E.ENOENT;
      o.set(best.value);
      return 0;
    },
    update: (k, v, f = 0) => {
      if (f > 2) return -E.EINVAL;
      const [plen, data] = parse(k);
      if (plen > maxPlen) return -E.EINVAL;
      const i = find(plen, data);
      if (i >= 0 && f === 1) return -E.EEXIST;
      if (i < 0 && f === 2) return -E.ENOENT;
      if (i < 0 && entries.length >= max) return -E.ENOSPC;
      const e = { plen, data, value: v.slice() };
      if (i >= 0) entries[i] = e;
      else entries.push(e);
      return 0;
    },
    delete: (k) => {
      const [plen, data] = parse(k);
      if (plen > maxPlen) return -E.EINVAL;
      const i = find(plen, data);
      if (i < 0) return -E.ENOENT;
      entries.splice(i, 1);
      return 0;
    },
    getNextKey: (k, n) => {
      // Order is the trie's; the model only enumerates (dumps compare sorted).
      const keys = entries.map((e) => hex(lpmKey(e.plen, ...e.data))).sort();
      const i = k ? keys.indexOf(hex(k)) : -1;
      const next = i < 0 ? keys[0] : keys[i + 1];
      if (next === undefined) return -E.ENOENT;
      n.set(Buffer.from(next, "hex"));
      return 0;
    },
    lookupAndDelete: (_k, _o, f = 0) => (f & ~4 ? -E.EINVAL : f & 4 ? -E.EINVAL : -E.ENOTSUPP),
    batch: () => -E.ENOTSUPP,
    freeze: () => 0,
    close: () => {},
  };
}

describe("lpm trie", () => {
  test("creation needs BPF_F_NO_PREALLOC and 1..256 data bytes", () => {
    const s = newSpace();
    expect(tryCreateMap(s, { mapType: LPM, keySize: 8, valueSize: 4, maxEntries: 4 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: LPM, keySize: 4, valueSize: 4, maxEntries: 4, mapFlags: BPF_F_NO_PREALLOC })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: LPM, keySize: 261, valueSize: 4, maxEntries: 4, mapFlags: BPF_F_NO_PREALLOC })).toBe(-E.EINVAL);
    expect(typeof tryCreateMap(s, { mapType: LPM, keySize: 260, valueSize: 4, maxEntries: 4, mapFlags: BPF_F_NO_PREALLOC })).toBe("object");
  });

  test("longest prefix wins; the lookup key's prefixlen caps the match; programs get value addresses", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: LPM, keySize: 8, valueSize: 4, maxEntries: 8, mapFlags: BPF_F_NO_PREALLOC }) as LpmTrieMap;
    m.update(lpmKey(8, 10, 0, 0, 0), u32(8));
    m.update(lpmKey(16, 10, 1, 0, 0), u32(16));
    m.update(lpmKey(24, 10, 1, 2, 0), u32(24));
    expect(m.lookup(lpmKey(32, 10, 1, 2, 3))).toEqual(u32(24));
    expect(m.lookup(lpmKey(32, 10, 1, 9, 3))).toEqual(u32(16));
    expect(m.lookup(lpmKey(20, 10, 1, 2, 3))).toEqual(u32(16));
    expect(m.lookup(lpmKey(32, 11, 1, 2, 3))).toBeUndefined();
    const k = space.allocBytes(lpmKey(32, 10, 7, 7, 7));
    const v = m.lookupElem(k);
    expect(space.u32[v >>> 2]).toBe(8);
    expect(space.regionOf(v, 4)?.kind).toBe("map_value");
  });

  test("get_next_key walks post-order: more specific prefixes before the ones covering them", () => {
    const m = createMap(newSpace(), { mapType: LPM, keySize: 8, valueSize: 4, maxEntries: 8, mapFlags: BPF_F_NO_PREALLOC });
    m.update(lpmKey(16, 192, 168, 0, 0), u32(1));
    m.update(lpmKey(24, 192, 168, 0, 0), u32(2));
    m.update(lpmKey(24, 192, 168, 1, 0), u32(3));
    m.update(lpmKey(8, 10, 0, 0, 0), u32(4));
    const order = [...m.keys()].map((k) => `${k[4]}.${k[5]}.${k[6]}.${k[7]}/${k[0]}`);
    // The root is an intermediate node at /0: its 0 side (10/8) comes first, then
    // the 1 side in post-order (what Linux 6.18 returns for these four inserts).
    expect(order).toEqual(["10.0.0.0/8", "192.168.0.0/24", "192.168.1.0/24", "192.168.0.0/16"]);
  });

  test("property: 5000 random operations agree with a brute-force model", () => {
    const rnd = prng(5);
    const m = createMap(newSpace(), { mapType: LPM, keySize: 6, valueSize: 3, maxEntries: 12, mapFlags: BPF_F_NO_PREALLOC });
    const vm: Target = {
      keySize: 6, valueSize: 3,
      lookup: (k, o, f = 0) => m.sysLookup(k, o, f), update: (k, v, f = 0) => m.sysUpdate(k, v, f),
      delete: (k) => m.sysDelete(k), getNextKey: (k, n) => m.sysGetNextKey(k, n),
      lookupAndDelete: (k, o, f = 0) => m.sysLookupAndDelete(k, o, f), batch: (c, b) => m.sysBatch(c, b),
      freeze: () => m.sysFreeze(), close: () => m.dispose(),
    };
    runDiff(vm, lpmModel(2, 3, 12), {
      key: () => lpmKey(rnd.int(19), rnd.pick([0x0a, 0x0b, 0x80, 0xff, 0x00]), rnd.int(4) << 6),
      value: () => bytes(3, () => rnd.int(256)),
      updateFlags: [0, 0, 0, 1, 2, 3],
    }, rnd, { steps: 5000, seed: 5, dumpEvery: 25, unordered: true, noNextKey: true });
  });

  // The lookup compares 32 prefix bits at a time: a one-word walk for 4-byte data,
  // and a word walk with a partial last word for the other sizes.
  for (const dataSize of [1, 3, 4, 5, 7, 16]) {
    test(`property: ${dataSize}-byte data, 3000 random operations agree with a brute-force model`, () => {
      const rnd = prng(50 + dataSize);
      const ks = 4 + dataSize;
      const m = createMap(newSpace(), { mapType: LPM, keySize: ks, valueSize: 3, maxEntries: 16, mapFlags: BPF_F_NO_PREALLOC });
      const vm: Target = {
        keySize: ks, valueSize: 3,
        lookup: (k, o, f = 0) => m.sysLookup(k, o, f), update: (k, v, f = 0) => m.sysUpdate(k, v, f),
        delete: (k) => m.sysDelete(k), getNextKey: (k, n) => m.sysGetNextKey(k, n),
        lookupAndDelete: (k, o, f = 0) => m.sysLookupAndDelete(k, o, f), batch: (c, b) => m.sysBatch(c, b),
        freeze: () => m.sysFreeze(), close: () => m.dispose(),
      };
      runDiff(vm, lpmModel(dataSize, 3, 16), {
        key: () => lpmKey(rnd.int(dataSize * 8 + 2), ...bytes(dataSize, (i) => (i < 2 ? rnd.pick([0x0a, 0x0b, 0x80, 0xff, 0x00]) : rnd.chance(0.6) ? 0 : rnd.int(256)))),
        value: () => bytes(3, () => rnd.int(256)),
        updateFlags: [0, 0, 0, 1, 2, 3],
      }, rnd, { steps: 3000, seed: 50 + dataSize, dumpEvery: 25, unordered: true, noNextKey: true });
    });
  }
});

describeKernel("lpm trie vs the kernel", () => {
  for (const [name, dataSize, max] of [["2-byte data", 2, 12], ["ipv4", 4, 40], ["ipv6", 16, 30]] as const) {
    test(`${name}: 4000 random operations give the kernel's results, contents and post-order`, () => {
      const rnd = prng(9 + dataSize);
      const { vm, k } = mapPair(newSpace(), { mapType: LPM, keySize: 4 + dataSize, valueSize: 5, maxEntries: max, mapFlags: BPF_F_NO_PREALLOC });
      try {
        const stats = runDiff(vm, k, {
          key: () => lpmKey(rnd.int(dataSize * 8 + 3), ...bytes(dataSize, (i) => (i < 2 ? rnd.pick([0x0a, 0x0b, 0x80, 0xc0, 0xff, 0x00]) : rnd.chance(0.7) ? 0 : rnd.int(256)))),
          value: () => bytes(5, () => rnd.int(256)),
          updateFlags: [0, 0, 0, 1, 2, 3, 4],
          lookupFlags: [0, 0, 0, 4],
          batches: ["lookup", "update", "delete", "lookup_and_delete"],
        }, rnd, { steps: 4000, seed: 9, dumpEvery: 20 });
        if (process.env.MAPS_STATS) console.log(name, JSON.stringify(stats));
      } finally {
        k.close();
      }
    });
  }
});
