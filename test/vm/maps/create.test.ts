import { describe, expect, test } from "vitest";
import { ERRNO, MapError, NotSupportedError } from "../../../src/errors.js";
import { BPF_MAP_TYPE, type MapAttrs, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { kClose, kMapCreate } from "./kernel-maps.js";
import { newSpace } from "./util.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

/** Shapes per type: a valid one and some invalid ones. */
const shapes: Record<string, [number, number, number][]> = {
  kv: [[4, 8, 4], [0, 8, 4], [4, 0, 4], [4, 8, 0], [8, 8, 4], [513, 8, 4], [3, 5, 7]],
  array: [[4, 8, 4], [8, 8, 4], [4, 0, 4], [4, 8, 0], [4, 40000, 2]],
  fd: [[4, 4, 4], [4, 8, 4], [8, 4, 4], [4, 4, 0]],
  lpm: [[8, 4, 4], [4, 4, 4], [5, 4, 4], [260, 4, 4], [261, 4, 4], [8, 0, 4], [8, 4, 0]],
  qs: [[0, 4, 4], [4, 4, 4], [0, 0, 4], [0, 4, 0]],
  ring: [[0, 0, 4096], [0, 0, 8192], [0, 0, 12288], [0, 0, 100], [4, 0, 4096], [0, 4, 4096], [0, 0, 0]],
  stack: [[4, 8, 4], [4, 12, 4], [4, 4, 4], [8, 8, 4], [4, 127 * 8, 4], [4, 128 * 8, 4], [4, 8, 0]],
  storage: [[4, 8, 0], [4, 8, 1], [8, 8, 0], [4, 0, 0]],
};

const types: [string, number, keyof typeof shapes][] = [
  ["hash", T.HASH, "kv"], ["percpu_hash", T.PERCPU_HASH, "kv"], ["lru_hash", T.LRU_HASH, "kv"],
  ["lru_percpu_hash", T.LRU_PERCPU_HASH, "kv"], ["array", T.ARRAY, "array"], ["percpu_array", T.PERCPU_ARRAY, "array"],
  ["prog_array", T.PROG_ARRAY, "fd"], ["perf_event_array", T.PERF_EVENT_ARRAY, "fd"], ["lpm_trie", T.LPM_TRIE, "lpm"],
  ["queue", T.QUEUE, "qs"], ["stack", T.STACK, "qs"], ["bloom_filter", T.BLOOM_FILTER, "qs"],
  ["ringbuf", T.RINGBUF, "ring"], ["user_ringbuf", T.USER_RINGBUF, "ring"], ["stack_trace", T.STACK_TRACE, "stack"],
  ["task_storage", T.TASK_STORAGE, "storage"], ["sk_storage", T.SK_STORAGE, "storage"],
];

/** Every attribute combination the table covers. */
function* cases(): Generator<[string, MapAttrs]> {
  for (const [name, type, shape] of types) {
    for (const [ks, vs, max] of shapes[shape]) {
      for (let bit = -1; bit <= 19; bit++) {
        const flags = bit < 0 ? 0 : 1 << bit;
        yield [`${name} k${ks} v${vs} n${max} flags=0x${flags.toString(16)}`, { mapType: type, keySize: ks, valueSize: vs, maxEntries: max, mapFlags: flags }];
      }
      // Type-specific flag pairs.
      for (const flags of [0x1 | 0x40, 0x1 | 0x2, 0x8 | 0x10, 0x80 | 0x100, 0x1 | 0x400]) {
        yield [`${name} k${ks} v${vs} n${max} flags=0x${flags.toString(16)}`, { mapType: type, keySize: ks, valueSize: vs, maxEntries: max, mapFlags: flags }];
      }
    }
    for (const extra of [1, 5, 15, 16]) {
      yield [`${name} map_extra=${extra}`, { mapType: type, keySize: shape === "qs" ? 0 : 4, valueSize: 8, maxEntries: 4, mapExtra: extra }];
    }
    yield [`${name} numa_node=1`, { mapType: type, keySize: 4, valueSize: 8, maxEntries: 4, mapFlags: 4, numaNode: 1 }];
  }
  yield ["unknown map type", { mapType: 200, keySize: 4, valueSize: 4, maxEntries: 1 }];
  yield ["bad name", { mapType: T.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "a-b" }];
  yield ["long name", { mapType: T.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "abcdefghijklmnop" }];
  yield ["good name", { mapType: T.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "my_map.1" }];
  yield ["btf key without value", { mapType: T.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, btfKeyTypeId: 1 }];
}

const vmErrno = (a: MapAttrs): number => {
  const r = tryCreateMap(newSpace(), a, { ncpus: 2 });
  if (typeof r === "number") return r;
  r.dispose();
  return 0;
};

describe("map creation", () => {
  test("createMap throws MapError with the errno name; unimplemented types are NotSupportedError", () => {
    expect(() => createMap(newSpace(), { mapType: T.HASH, keySize: 0, valueSize: 4, maxEntries: 1 })).toThrow(MapError);
    try {
      createMap(newSpace(), { mapType: T.HASH, keySize: 0, valueSize: 4, maxEntries: 1 });
    } catch (e) {
      expect((e as MapError).code).toBe("EINVAL");
    }
    expect(() => createMap(newSpace(), { mapType: T.DEVMAP, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(NotSupportedError);
  });

  test("an exhausted address space is ENOMEM", () => {
    expect(vmErrno({ mapType: T.ARRAY, keySize: 4, valueSize: 1 << 20, maxEntries: 1 << 14 })).toBe(-E.ENOMEM);
  });
});

describeKernel("map creation vs the kernel", () => {
  test("every attribute combination in the table gets the kernel's errno", () => {
    const mismatches: string[] = [];
    let n = 0;
    for (const [label, a] of cases()) {
      const fd = kMapCreate({ ...a, mapExtra: a.mapExtra === undefined ? undefined : Number(a.mapExtra) });
      const k = fd < 0 ? fd : 0;
      kClose(fd);
      const v = vmErrno(a);
      n++;
      if (k !== v) mismatches.push(`${label}: kernel ${k}, vm ${v}`);
    }
    expect(n).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
  });
});
