import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import {
  BPF_F_NO_PREALLOC, BPF_F_ZERO_SEED, BPF_MAP_TYPE, type HashMap, createMap, jhashBytes, jhashWords,
} from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { type Target, bytes, hex, mapPair, newSpace, prng, u32, vmTarget } from "./util.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

/** The hash map's user-space semantics as a plain JS Map (order is not modelled). */
function hashModel(ks: number, vs: number, max: number, percpuStride = 0): Target {
  const m = new Map<string, Uint8Array>();
  const uvs = percpuStride ? percpuStride * 2 : vs;
  const norm = (v: Uint8Array): Uint8Array => {
    if (!percpuStride) return v.slice(0, vs);
    return v.slice(0, uvs);
  };
  return {
    keySize: ks,
    valueSize: uvs,
    lookup: (k, o, f = 0) => {
      if (f) return -E.EINVAL;
      const v = m.get(hex(k));
      if (!v) return -E.ENOENT;
      o.set(v);
      return 0;
    },
    update: (k, v, f = 0) => {
      if (f & 4) return -E.EINVAL;
      if (f > 2) return -E.EINVAL;
      const has = m.has(hex(k));
      if (has && f === 1) return -E.EEXIST;
      if (!has && f === 2) return -E.ENOENT;
      if (!has && m.size >= max) return -E.E2BIG;
      m.set(hex(k), norm(v));
      return 0;
    },
    delete: (k) => (m.delete(hex(k)) ? 0 : -E.ENOENT),
    getNextKey: (k, n) => {
      const keys = [...m.keys()].sort();
      const i = k ? keys.indexOf(hex(k)) : -1;
      const next = i < 0 ? keys[0] : keys[i + 1];
      if (next === undefined) return -E.ENOENT;
      n.set(Buffer.from(next, "hex"));
      return 0;
    },
    lookupAndDelete: (k, o, f = 0) => {
      if (f) return -E.EINVAL;
      const v = m.get(hex(k));
      if (!v) return -E.ENOENT;
      o.set(v);
      m.delete(hex(k));
      return 0;
    },
    batch: () => -E.ENOTSUPP,
    freeze: () => 0,
    close: () => {},
  };
}

describe("jhash", () => {
  test("jhash and jhash2 agree on word-multiple lengths, and match known kernel values", () => {
    const b = bytes(16, (i) => i * 7 + 1);
    const w = new Int32Array(b.buffer);
    expect(jhashBytes(b, 0, 16, 0)).toBe(jhashWords(w, 0, 4, 0));
    expect(jhashBytes(b, 0, 12, 42)).toBe(jhashWords(w, 0, 3, 42));
    // lookup3's published test vector: hashlittle("", 0, 0) = 0xdeadbeef; ("Four score...") checked elsewhere.
    expect(jhashBytes(new Uint8Array(0), 0, 0, 0) >>> 0).toBe(0xdeadbeef);
  });
});

describe("hash map", () => {
  test("update flags: BPF_NOEXIST on an existing key is EEXIST, BPF_EXIST on a missing key ENOENT", () => {
    const m = createMap(newSpace(), { mapType: T.HASH, keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(m.sysUpdate(u32(1), u32(10), 2)).toBe(-E.ENOENT);
    expect(m.sysUpdate(u32(1), u32(10), 1)).toBe(0);
    expect(m.sysUpdate(u32(1), u32(11), 1)).toBe(-E.EEXIST);
    expect(m.sysUpdate(u32(1), u32(12), 2)).toBe(0);
    expect(m.lookup(u32(1))).toEqual(u32(12));
  });

  test("a preallocated map is full at max_entries: a new key is E2BIG, an existing one still updates", () => {
    for (const flags of [0, BPF_F_NO_PREALLOC]) {
      const m = createMap(newSpace(), { mapType: T.HASH, keySize: 4, valueSize: 4, maxEntries: 2, mapFlags: flags });
      m.update(u32(1), u32(1));
      m.update(u32(2), u32(2));
      expect(m.sysUpdate(u32(3), u32(3))).toBe(-E.E2BIG);
      expect(m.sysUpdate(u32(3), u32(3), 2)).toBe(-E.ENOENT);
      expect(m.sysUpdate(u32(2), u32(5))).toBe(0);
      expect(m.lookup(u32(2))).toEqual(u32(5));
    }
  });

  test("program side: lookup by address, per-CPU values per CPU, 16-byte keys", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: T.PERCPU_HASH, keySize: 16, valueSize: 4, maxEntries: 8 }, { ncpus: 3 });
    const key = space.alloc(16);
    const val = space.alloc(8);
    space.u8.set(bytes(16, (i) => i), key);
    space.u32[val >>> 2] = 99;
    expect(m.updateElem(key, val, 0, 1)).toBe(0);
    const v1 = m.lookupElem(key, 1);
    expect(space.u32[v1 >>> 2]).toBe(99);
    expect(space.u32[m.lookupElem(key, 0) >>> 2]).toBe(0);
    expect(m.lookupPercpuElem(key, 3)).toBe(0);
    // User space sees round_up(4, 8) bytes per CPU.
    const all = m.lookup(bytes(16, (i) => i))!;
    expect(all.length).toBe(24);
    expect(hex(all)).toBe("00000000000000006300000000000000" + "0000000000000000");
  });

  test("replacing a key moves it to its bucket's head (kernel order) and gives the program a new value address", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: T.HASH, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: BPF_F_ZERO_SEED }) as HashMap;
    const k = space.alloc(8);
    const v = space.alloc(8);
    space.u32[k >>> 2] = 5;
    m.updateElem(k, v, 0, 0);
    const a1 = m.lookupElem(k, 0);
    m.updateElem(k, v, 0, 0);
    const a2 = m.lookupElem(k, 0);
    expect(a2).not.toBe(a1);
  });

  test("property: 5000 random operations agree with a Map model (hash, percpu_hash, no_prealloc)", () => {
    for (const [type, flags] of [[T.HASH, 0], [T.HASH, BPF_F_NO_PREALLOC], [T.PERCPU_HASH, 0]] as const) {
      const rnd = prng(3 + type + flags);
      const vm = vmTarget(createMap(newSpace(), { mapType: type, keySize: 6, valueSize: 5, maxEntries: 9, mapFlags: flags }, { ncpus: 2 }));
      const model = hashModel(6, 5, 9, type === T.PERCPU_HASH ? 8 : 0);
      runDiff(vm, model, {
        key: () => bytes(6, (i) => (i === 0 ? rnd.int(14) : 0)),
        value: () => bytes(vm.valueSize, () => rnd.int(256)),
        updateFlags: [0, 0, 0, 1, 2, 3, 4],
      }, rnd, { steps: 5000, seed: 3, dumpEvery: 50, unordered: true, noNextKey: true });
    }
  });
});

describeKernel("hash maps vs the kernel", () => {
  const cases: [string, number, number, number][] = [
    ["hash", T.HASH, 0, 16],
    ["hash no_prealloc", T.HASH, BPF_F_NO_PREALLOC, 16],
    ["hash 5-byte keys", T.HASH, 0, 5],
    ["percpu_hash", T.PERCPU_HASH, 0, 8],
    ["percpu_hash no_prealloc", T.PERCPU_HASH, BPF_F_NO_PREALLOC, 4],
  ];
  for (const [name, type, flags, ks] of cases) {
    test(`${name}: 4000 random operations give the kernel's results, contents and get_next_key order (BPF_F_ZERO_SEED)`, () => {
      const rnd = prng(11 + type + flags + ks);
      const { vm, k } = mapPair(newSpace(), { mapType: type, keySize: ks, valueSize: 12, maxEntries: 13, mapFlags: flags | BPF_F_ZERO_SEED });
      try {
        const stats = runDiff(vm, k, {
          key: () => bytes(ks, (i) => (i === 1 ? rnd.int(20) : i === 0 ? 3 : 0)),
          value: () => bytes(vm.valueSize, () => rnd.int(256)),
          updateFlags: [0, 0, 0, 0, 1, 2, 3, 4],
          lookupFlags: [0, 0, 0, 4],
          batches: ["lookup", "lookup_and_delete", "update", "delete"],
          batchTokenSize: 4,
        }, rnd, { steps: 4000, seed: 11, dumpEvery: 20 });
        if (process.env.MAPS_STATS) console.log(name, JSON.stringify(stats));
      } finally {
        k.close();
      }
    });
  }
});

describe("maps across memory growth", () => {
  test("on-demand hash and lpm elements keep their bytes while the address space grows under them", () => {
    const space = newSpace();
    const h = createMap(space, { mapType: T.HASH, keySize: 8, valueSize: 64, maxEntries: 40000, mapFlags: BPF_F_NO_PREALLOC });
    const l = createMap(space, { mapType: T.LPM_TRIE, keySize: 8, valueSize: 64, maxEntries: 40000, mapFlags: BPF_F_NO_PREALLOC });
    const before = space.byteLength;
    const key = (i: number): Uint8Array => bytes(8, (j) => (j < 4 ? [32, 0, 0, 0][j] : (i >>> (8 * (7 - j))) & 0xff));
    for (let i = 0; i < 30000; i++) {
      h.update(key(i), bytes(64, (j) => i + j));
      l.update(key(i), bytes(64, (j) => i * 3 + j));
    }
    expect(space.byteLength).toBeGreaterThan(before);
    for (let i = 0; i < 30000; i += 997) {
      expect(h.lookup(key(i))).toEqual(bytes(64, (j) => i + j));
      expect(l.lookup(key(i))).toEqual(bytes(64, (j) => i * 3 + j));
    }
  });
});
