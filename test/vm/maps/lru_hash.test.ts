/**
 * LRU hash maps. The vm runs the kernel's LRU algorithm (kernel/bpf/bpf_lru_list.c)
 * node for node, so with every operation on one CPU (the test pins itself to CPU 0
 * and the vm's user-space CPU is 0) eviction order, get_next_key order and every
 * errno equal the kernel's; the differential tests below check exactly that.
 */
import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_ZERO_SEED, BPF_MAP_TYPE, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { pinToCpu } from "./kernel-maps.js";
import { bytes, mapPair, newSpace, prng, u32 } from "./util.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

describe("lru hash map", () => {
  test("never fails for lack of room: the least recently used element is evicted", () => {
    const m = createMap(newSpace(), { mapType: T.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 8, mapFlags: BPF_F_ZERO_SEED }, { ncpus: 1 });
    for (let i = 0; i < 100; i++) expect(m.sysUpdate(u32(i), u32(i))).toBe(0);
    const keys = [...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true));
    expect(keys.length).toBeLessThanOrEqual(8);
    expect(keys.length).toBeGreaterThan(0);
    // The most recent insertion survives.
    expect(keys).toContain(99);
  });

  test("a program's lookup sets the reference bit: the referenced key outlives unreferenced ones", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: T.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 4, mapFlags: BPF_F_ZERO_SEED }, { ncpus: 1 });
    const key = space.alloc(8);
    for (let i = 0; i < 4; i++) m.update(u32(i), u32(i));
    for (let round = 0; round < 20; round++) {
      space.u32[key >>> 2] = 0;
      expect(m.lookupElem(key, 0)).not.toBe(0);
      m.update(u32(100 + round), u32(round));
    }
    expect(m.lookup(u32(0))).toEqual(u32(0));
  });

  test("property: 5000 random operations keep the deterministic promises (no resurrection, last write wins, never over max_entries)", () => {
    for (const [type, flags] of [[T.LRU_HASH, 0], [T.LRU_HASH, BPF_F_NO_COMMON_LRU], [T.LRU_PERCPU_HASH, 0]] as const) {
      const rnd = prng(100 + type + flags);
      const space = newSpace();
      const m = createMap(space, { mapType: type, keySize: 4, valueSize: 8, maxEntries: 16, mapFlags: flags }, { ncpus: 2 });
      const model = new Map<number, string>(); // what may still be there, with its last value
      const vs = m.userValueSize;
      const keyAddr = space.alloc(8);
      for (let step = 0; step < 5000; step++) {
        const k = rnd.int(40);
        const op = rnd.int(10);
        if (op < 5) {
          const v = bytes(vs, () => rnd.int(256));
          const f = rnd.pick([0, 0, 1, 2]);
          const r = m.sysUpdate(u32(k), v, f);
          if (r === 0) model.set(k, Buffer.from(v).toString("hex"));
          else expect([-E.EEXIST, -E.ENOENT]).toContain(r);
        } else if (op < 7) {
          const r = m.sysDelete(u32(k));
          if (r === 0) expect(model.has(k)).toBe(true);
          model.delete(k);
        } else if (op < 8) {
          space.u32[keyAddr >>> 2] = k;
          m.lookupElem(keyAddr, rnd.int(2)); // sets the reference bit
        } else {
          const out = new Uint8Array(vs);
          const r = m.sysLookup(u32(k), out);
          if (r === 0) expect(Buffer.from(out).toString("hex")).toBe(model.get(k));
          else model.delete(k); // evicted (or never there)
        }
        const keys = [...m.keys()].map((x) => new DataView(x.buffer).getUint32(0, true));
        expect(keys.length).toBeLessThanOrEqual(m.maxEntries);
        for (const x of keys) expect(model.has(x), `key ${x} present but deleted or never written`).toBe(true);
      }
    }
  });

  test("BPF_F_NO_PREALLOC is ENOTSUPP for LRU maps; BPF_F_NO_COMMON_LRU rounds max_entries to the CPUs", () => {
    expect(tryCreateMap(newSpace(), { mapType: T.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 8, mapFlags: BPF_F_NO_PREALLOC })).toBe(-E.ENOTSUPP);
    expect(tryCreateMap(newSpace(), { mapType: T.HASH, keySize: 4, valueSize: 4, maxEntries: 8, mapFlags: BPF_F_NO_COMMON_LRU })).toBe(-E.EINVAL);
    const m = createMap(newSpace(), { mapType: T.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 7, mapFlags: BPF_F_NO_COMMON_LRU }, { ncpus: 4 });
    expect(m.maxEntries).toBe(8);
  });
});

describeKernel("lru hash maps vs the kernel (pinned to CPU 0)", () => {
  const cases: [string, number, number, number][] = [
    ["lru_hash", T.LRU_HASH, 0, 16],
    ["lru_hash small", T.LRU_HASH, 0, 5],
    ["lru_hash no_common_lru", T.LRU_HASH, BPF_F_NO_COMMON_LRU, 16],
    ["lru_percpu_hash", T.LRU_PERCPU_HASH, 0, 16],
    ["lru_percpu_hash no_common_lru", T.LRU_PERCPU_HASH, BPF_F_NO_COMMON_LRU, 12],
    ["lru_hash large", T.LRU_HASH, 0, 600],
  ];
  for (const [name, type, flags, max] of cases) {
    test(`${name}: 4000 operations give the kernel's results, evictions and order`, () => {
      expect(pinToCpu(0)).toBe(true);
      const rnd = prng(21 + type + flags + max);
      const { vm, k } = mapPair(newSpace(), { mapType: type, keySize: 8, valueSize: 8, maxEntries: max, mapFlags: flags | BPF_F_ZERO_SEED }, { userCpu: 0 });
      try {
        const stats = runDiff(vm, k, {
          key: () => bytes(8, (i) => (i === 0 ? rnd.int(Math.ceil(max * 2.5)) : i === 1 ? rnd.int(max > 255 ? 4 : 1) : 0)),
          value: () => bytes(vm.valueSize, () => rnd.int(256)),
          updateFlags: [0, 0, 0, 0, 0, 1, 2, 3],
          batches: ["lookup", "lookup_and_delete", "update", "delete"],
          batchTokenSize: 4,
        }, rnd, { steps: 4000, seed: 21, dumpEvery: Number(process.env.DUMP_EVERY ?? 10) });
        if (process.env.MAPS_STATS) console.log(name, JSON.stringify(stats));
      } finally {
        k.close();
      }
    });
  }
});
