import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_EXIST, BPF_MAP_TYPE, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { type Target, bytes, mapPair, newSpace, prng, u32, vmTarget } from "./util.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

/** Queue / stack as a JS array. */
function model(stack: boolean, max: number, vs: number): Target {
  const xs: Uint8Array[] = [];
  const take = (o: Uint8Array, del: boolean): number => {
    if (!xs.length) return -E.ENOENT;
    const v = stack ? xs[xs.length - 1] : xs[0];
    o.set(v);
    if (del) {
      if (stack) xs.pop();
      else xs.shift();
    }
    return 0;
  };
  return {
    keySize: 0,
    valueSize: vs,
    lookup: (_k, o, f = 0) => (f ? -E.EINVAL : take(o, false)),
    update: (_k, v, f = 0) => {
      if (f & 1 || f > 2) return -E.EINVAL;
      if (xs.length === max) {
        if (!(f & BPF_EXIST)) return -E.E2BIG;
        xs.shift();
      }
      xs.push(v.slice(0, vs));
      return 0;
    },
    delete: () => -E.EINVAL,
    getNextKey: () => -E.EINVAL,
    lookupAndDelete: (_k, o, f = 0) => (f ? -E.EINVAL : take(o, true)),
    batch: () => -E.ENOTSUPP,
    freeze: () => 0,
    close: () => {},
  };
}

describe("queue and stack maps", () => {
  test("creation: key_size must be 0, value_size and max_entries nonzero", () => {
    const s = newSpace();
    expect(tryCreateMap(s, { mapType: T.QUEUE, keySize: 4, valueSize: 4, maxEntries: 4 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: T.STACK, keySize: 0, valueSize: 0, maxEntries: 4 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { mapType: T.STACK, keySize: 0, valueSize: 4, maxEntries: 0 })).toBe(-E.EINVAL);
  });

  test("program side: push, peek, pop; pop on empty is ENOENT and zeroes the buffer", () => {
    const space = newSpace();
    const q = createMap(space, { mapType: T.QUEUE, keySize: 0, valueSize: 4, maxEntries: 2 });
    const v = space.alloc(8);
    space.u32[v >>> 2] = 1;
    expect(q.pushElem(v, 0, 0)).toBe(0);
    space.u32[v >>> 2] = 2;
    expect(q.pushElem(v, 0, 0)).toBe(0);
    space.u32[v >>> 2] = 3;
    expect(q.pushElem(v, 0, 0)).toBe(-E.E2BIG);
    expect(q.pushElem(v, BPF_EXIST, 0)).toBe(0); // overwrites the oldest (1)
    expect(q.peekElem(v, 0)).toBe(0);
    expect(space.u32[v >>> 2]).toBe(2);
    expect(q.popElem(v, 0)).toBe(0);
    expect(q.popElem(v, 0)).toBe(0);
    expect(space.u32[v >>> 2]).toBe(3);
    space.u32[v >>> 2] = 77;
    expect(q.popElem(v, 0)).toBe(-E.ENOENT);
    expect(space.u32[v >>> 2]).toBe(0);
  });

  for (const [name, type] of [["queue", T.QUEUE], ["stack", T.STACK]] as const) {
    test(`${name}: property: 5000 random operations agree with an array model`, () => {
      const rnd = prng(type);
      const vm = vmTarget(createMap(newSpace(), { mapType: type, keySize: 0, valueSize: 3, maxEntries: 5 }));
      runDiff(vm, model(type === T.STACK, 5, 3), {
        key: () => new Uint8Array(0),
        value: () => bytes(3, () => rnd.int(256)),
        updateFlags: [0, 0, 0, 1, 2, 2, 3, 4],
        lookupFlags: [0, 0, 0, 4],
        nullKey: true,
      }, rnd, { steps: 5000, seed: type, dumpEvery: 1 });
    });
  }
});

describeKernel("queue and stack vs the kernel", () => {
  for (const [name, type] of [["queue", T.QUEUE], ["stack", T.STACK]] as const) {
    test(`${name}: 4000 random operations give the kernel's results`, () => {
      const rnd = prng(40 + type);
      const { vm, k } = mapPair(newSpace(), { mapType: type, keySize: 0, valueSize: 6, maxEntries: 7 });
      try {
        runDiff(vm, k, {
          key: () => new Uint8Array(0),
          value: () => bytes(6, () => rnd.int(256)),
          updateFlags: [0, 0, 0, 1, 2, 2, 3, 4],
          lookupFlags: [0, 0, 0, 4],
          nullKey: true,
          batches: ["lookup", "update"],
        }, rnd, { steps: 4000, seed: 1, dumpEvery: 1 });
        expect(vm.freeze()).toBe(k.freeze());
        expect(vm.lookupAndDelete(null, new Uint8Array(6))).toBe(k.lookupAndDelete(null, new Uint8Array(6)));
      } finally {
        k.close();
      }
    });
  }
});
