import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import {
  ArrayMap, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_MAP_TYPE, createMap,
} from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { type Target, bytes, mapPair, newSpace, prng, u32, vmTarget } from "./util.js";

const E = ERRNO;
const ARRAY = BPF_MAP_TYPE.ARRAY;

/** A plain model of an array map's user-space semantics. */
function arrayModel(max: number, vs: number): Target {
  const vals = Array.from({ length: max }, () => new Uint8Array(vs));
  let frozen = false;
  const idx = (k: Uint8Array | null): number => (k ? new DataView(k.buffer, k.byteOffset).getUint32(0, true) : 0xffffffff);
  return {
    keySize: 4,
    valueSize: vs,
    lookup: (k, o, f = 0) => {
      if (f) return -E.EINVAL;
      const i = idx(k);
      if (i >= max) return -E.ENOENT;
      o.set(vals[i]);
      return 0;
    },
    update: (k, v, f = 0) => {
      if (frozen) return -E.EPERM;
      if (f & 4) return -E.EINVAL;
      if (f > 2) return -E.EINVAL;
      const i = idx(k);
      if (i >= max) return -E.E2BIG;
      if (f === 1) return -E.EEXIST;
      vals[i] = v.slice(0, vs);
      return 0;
    },
    delete: () => (frozen ? -E.EPERM : -E.EINVAL),
    getNextKey: (k, n) => {
      const i = idx(k);
      if (!k || i >= max) { n.set(u32(0)); return 0; }
      if (i === max - 1) return -E.ENOENT;
      n.set(u32(i + 1));
      return 0;
    },
    lookupAndDelete: (_k, _o, f = 0) => (f & ~4 ? -E.EINVAL : frozen ? -E.EPERM : f & 4 ? -E.EINVAL : -E.ENOTSUPP),
    batch: () => -E.ENOTSUPP,
    freeze: () => (frozen ? -E.EPERM : ((frozen = true), 0)),
    close: () => {},
  };
}

describe("array map", () => {
  test("every index exists and starts zeroed; lookup past max_entries is ENOENT", () => {
    const m = createMap(newSpace(), { mapType: ARRAY, keySize: 4, valueSize: 6, maxEntries: 3 });
    expect(m.lookup(u32(2))).toEqual(new Uint8Array(6));
    expect(m.lookup(u32(3))).toBeUndefined();
    expect([...m.keys()].map((k) => k[0])).toEqual([0, 1, 2]);
  });

  test("update with BPF_NOEXIST fails with EEXIST; past max_entries E2BIG; delete EINVAL", () => {
    const m = createMap(newSpace(), { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(m.sysUpdate(u32(0), u32(1), 1)).toBe(-E.EEXIST);
    expect(m.sysUpdate(u32(5), u32(1), 1)).toBe(-E.E2BIG);
    expect(m.sysUpdate(u32(0), u32(1), 3)).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(0), u32(1), BPF_F_LOCK)).toBe(-E.EINVAL);
    expect(m.sysDelete(u32(0))).toBe(-E.EINVAL);
    expect(m.sysLookupAndDelete(u32(0), new Uint8Array(4))).toBe(-E.ENOTSUPP);
  });

  test("program side: lookup returns base + index * round_up(value_size, 8), the inline parameters agree", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 12, maxEntries: 4 }) as ArrayMap;
    const key = space.alloc(8);
    space.u32[key >>> 2] = 3;
    const v = m.lookupElem(key);
    expect(v).toBe(m.inline.base + 3 * 16);
    expect(m.inline.elemSize).toBe(16);
    space.u32[v >>> 2] = 0xdeadbeef;
    expect(m.lookup(u32(3))!.slice(0, 4)).toEqual(u32(0xdeadbeef));
    space.u32[key >>> 2] = 4;
    expect(m.lookupElem(key)).toBe(0);
    // Values are a checked-mode region.
    expect(space.regionOf(v, 12)?.kind).toBe("map_value");
  });

  test("frozen: user writes fail with EPERM, programs still write; freezing twice is EPERM", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(m.sysFreeze()).toBe(0);
    expect(m.sysUpdate(u32(0), u32(1))).toBe(-E.EPERM);
    expect(m.sysFreeze()).toBe(-E.EPERM);
    const k = space.alloc(8);
    const v = space.alloc(8);
    space.u32[v >>> 2] = 7;
    expect(m.updateElem(k, v, 0, 0)).toBe(0);
    expect(m.lookup(u32(0))).toEqual(u32(7));
  });

  test("BPF_F_RDONLY / BPF_F_WRONLY gate user space; BPF_F_RDONLY_PROG makes the region read-only", () => {
    const space = newSpace();
    const ro = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: BPF_F_RDONLY });
    expect(ro.sysUpdate(u32(0), u32(1))).toBe(-E.EPERM);
    expect(ro.sysFreeze()).toBe(-E.EPERM);
    const wo = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: BPF_F_WRONLY });
    expect(wo.sysLookup(u32(0), new Uint8Array(4))).toBe(-E.EPERM);
    expect(wo.sysGetNextKey(null, new Uint8Array(4))).toBe(-E.EPERM);
    const rp = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG }) as ArrayMap;
    expect(space.regionOf(rp.base, 4)?.writable).toBe(false);
  });

  test("spin lock fields are never copied to or from user space; BPF_F_LOCK works with one", () => {
    const space = newSpace();
    const m = createMap(space, {
      mapType: ARRAY, keySize: 4, valueSize: 8, maxEntries: 1,
      valueFields: [{ kind: "spin_lock", offset: 0, size: 4 }],
    }) as ArrayMap;
    space.u32[m.base >>> 2] = 1; // "locked"
    expect(m.sysUpdate(u32(0), bytes(8, (i) => i + 1), BPF_F_LOCK)).toBe(0);
    expect(space.u32[m.base >>> 2]).toBe(1);
    expect(m.lookup(u32(0), BPF_F_LOCK)).toEqual(new Uint8Array([0, 0, 0, 0, 5, 6, 7, 8]));
    expect(m.sysFreeze()).toBe(-E.ENOTSUPP);
  });

  test("BPF_F_MMAPABLE: a page-aligned view of the values; a writable mapping blocks freeze (EBUSY)", () => {
    const space = newSpace();
    const m = createMap(space, { mapType: ARRAY, keySize: 4, valueSize: 4, maxEntries: 3, mapFlags: BPF_F_MMAPABLE }) as ArrayMap;
    const mm = m.mmap(true);
    if (typeof mm === "number") throw new Error(`mmap ${mm}`);
    expect(mm.addr % 4096).toBe(0);
    expect(mm.size).toBe(4096);
    mm.bytes().set(u32(42), 8);
    expect(m.lookup(u32(1))).toEqual(u32(42));
    expect(m.sysFreeze()).toBe(-E.EBUSY);
    mm.unmap();
    expect(m.sysFreeze()).toBe(0);
    expect(m.mmap(true)).toBe(-E.EPERM);
    expect(typeof m.mmap(false)).toBe("object");
  });

  test("property: 5000 random operations agree with a model", () => {
    const rnd = prng(1);
    const vm = vmTarget(createMap(newSpace(), { mapType: ARRAY, keySize: 4, valueSize: 5, maxEntries: 7 }));
    const model = arrayModel(7, 5);
    runDiff(vm, model, {
      key: () => u32(rnd.int(10)),
      value: () => bytes(5, () => rnd.int(256)),
      updateFlags: [0, 0, 0, 1, 2, 3, 4],
      lookupFlags: [0, 0, 0, 4, 8],
    }, rnd, { steps: 5000, seed: 1, dumpEvery: 50 });
  });
});

describeKernel("array map vs the kernel", () => {
  for (const [name, type] of [["array", ARRAY], ["percpu_array", BPF_MAP_TYPE.PERCPU_ARRAY]] as const) {
    test(`${name}: 4000 random operations (batches included) give the kernel's results and contents`, () => {
      const rnd = prng(7);
      const { vm, k } = mapPair(newSpace(), { mapType: type, keySize: 4, valueSize: 12, maxEntries: 9 });
      try {
        const stats = runDiff(vm, k, {
          key: () => u32(rnd.chance(0.1) ? rnd.int(1 << 30) : rnd.int(12)),
          value: () => bytes(vm.valueSize, () => rnd.int(256)),
          updateFlags: [0, 0, 0, 1, 2, 3, 4, 8],
          lookupFlags: [0, 0, 0, 4, 8],
          batches: ["lookup", "update", "delete", "lookup_and_delete"],
        }, rnd, { steps: 4000, seed: 7, dumpEvery: 100 });
        if (process.env.MAPS_STATS) console.log(name, JSON.stringify(stats));
        expect(vm.freeze()).toBe(k.freeze());
        expect(vm.update(u32(0), new Uint8Array(vm.valueSize))).toBe(k.update(u32(0), new Uint8Array(vm.valueSize)));
        expect(vm.freeze()).toBe(k.freeze());
      } finally {
        k.close();
      }
    });
  }
});
