import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import {
  type ArrayOfMapsMap, BPF_F_INNER_MAP, BPF_F_NO_PREALLOC, BPF_MAP_TYPE, type BpfMap, type HashOfMapsMap, type MapAttrs, createMap, tryCreateMap,
} from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { kClose, kLookup, kMapCreate, kUpdate } from "./kernel-maps.js";
import { newSpace, u32 } from "./util.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

const innerShapes: MapAttrs[] = [
  { mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
  { mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 5 },
  { mapType: T.ARRAY, keySize: 4, valueSize: 16, maxEntries: 4 },
  { mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 9, mapFlags: BPF_F_INNER_MAP },
  { mapType: T.HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
  { mapType: T.HASH, keySize: 4, valueSize: 8, maxEntries: 7 },
  { mapType: T.HASH, keySize: 4, valueSize: 8, maxEntries: 4, mapFlags: BPF_F_NO_PREALLOC },
  { mapType: T.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
];

describe("maps of maps", () => {
  test("a program's lookup returns the inner map's descriptor address; user space sees map ids", () => {
    const space = newSpace();
    const inner = createMap(space, { mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    inner.id = 42;
    const outer = createMap(space, { mapType: T.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner }, {
      resolver: { map: (fd) => (fd === 3 ? inner : undefined) },
    }) as ArrayOfMapsMap;
    expect(outer.sysUpdate(u32(1), u32(3))).toBe(0);
    const k = space.allocBytes(u32(1));
    expect(outer.lookupElem(k)).toBe(inner.addr);
    const out = new Uint8Array(4);
    expect(outer.sysLookup(u32(1), out)).toBe(0);
    expect(out).toEqual(u32(42));
    const h = createMap(space, { mapType: T.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner }, {
      resolver: { map: (fd) => (fd === 3 ? inner : undefined) },
    }) as HashOfMapsMap;
    expect(h.sysUpdate(u32(7), u32(3))).toBe(0);
    expect(h.lookupElem(space.allocBytes(u32(7)), 0)).toBe(inner.addr);
    expect(h.sysLookup(u32(7), out)).toBe(0);
    expect(out).toEqual(u32(42));
    expect(h.inner(u32(7))).toBe(inner);
    expect(h.sysUpdate(u32(8), u32(4))).toBe(-E.EBADF);
  });

  test("creation: inner map required (EBADF), no nesting (EINVAL), value_size 4", () => {
    const space = newSpace();
    const inner = createMap(space, { mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(tryCreateMap(space, { mapType: T.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2 })).toBe(-E.EBADF);
    expect(tryCreateMap(space, { mapType: T.ARRAY_OF_MAPS, keySize: 4, valueSize: 8, maxEntries: 2, innerMap: inner })).toBe(-E.EINVAL);
    const outer = createMap(space, { mapType: T.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner });
    expect(tryCreateMap(space, { mapType: T.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: outer })).toBe(-E.EINVAL);
  });
});

describeKernel("maps of maps vs the kernel", () => {
  test("inner map compatibility (type, sizes, flags, max_entries for arrays unless BPF_F_INNER_MAP) matches", () => {
    for (const outerType of [T.ARRAY_OF_MAPS, T.HASH_OF_MAPS]) {
      for (const tmpl of innerShapes) {
        const space = newSpace();
        const vmMaps: BpfMap[] = [];
        const kfds: number[] = [];
        for (const s of innerShapes) {
          vmMaps.push(createMap(space, s));
          kfds.push(kMapCreate({ ...s, mapExtra: undefined }));
        }
        const ti = innerShapes.indexOf(tmpl);
        const vm = tryCreateMap(space, { mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 8, innerMap: vmMaps[ti] }, {
          resolver: { map: (fd) => vmMaps[fd - 1000] },
        });
        const kfd = kMapCreate({ mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 8, innerMapFd: kfds[ti] });
        try {
          if (typeof vm === "number") throw new Error(`vm create ${vm}`);
          expect(kfd).toBeGreaterThan(0);
          innerShapes.forEach((s, i) => {
            const rv = vm.sysUpdate(u32(i), u32(1000 + i));
            const rk = kUpdate(kfd, u32(i), u32(kfds[i]));
            expect(rv, `outer ${outerType} template ${JSON.stringify(tmpl)} inner ${JSON.stringify(s)}`).toBe(rk);
            expect(vm.sysLookup(u32(i), new Uint8Array(4)) < 0).toBe(kLookup(kfd, u32(i), new Uint8Array(4)) < 0);
          });
        } finally {
          kClose(kfd);
          kfds.forEach(kClose);
        }
      }
    }
  });
});
