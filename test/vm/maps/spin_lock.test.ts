/**
 * Values holding a struct bpf_spin_lock: BPF_F_LOCK lookups and updates, and the
 * rule that the lock word never travels between user space and the map (it reads
 * as zero, writes leave it alone), checked against the kernel with a hand-made BTF.
 */
import { expect, test } from "vitest";
import { BPF_F_LOCK, BPF_F_ZERO_SEED, BPF_MAP_TYPE, type MapAttrs, type ValueField, createMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { runDiff } from "./diff.js";
import { kClose, kLoadSpinLockBtf, kMapCreate } from "./kernel-maps.js";
import { bytes, kernelTargetFor, newSpace, prng, u32, vmTarget } from "./util.js";

const lock: ValueField[] = [{ kind: "spin_lock", offset: 0, size: 4 }];

describeKernel("spin-lock values vs the kernel", () => {
  for (const [name, type, max] of [["array", BPF_MAP_TYPE.ARRAY, 6], ["hash", BPF_MAP_TYPE.HASH, 6]] as const) {
    test(`${name}: BPF_F_LOCK operations and the lock word agree with the kernel (4000 operations)`, () => {
      const btf = kLoadSpinLockBtf();
      expect(btf).toBeGreaterThan(0);
      const attrs: MapAttrs = { mapType: type, keySize: 4, valueSize: 12, maxEntries: max, mapFlags: type === BPF_MAP_TYPE.HASH ? BPF_F_ZERO_SEED : 0 };
      const fd = kMapCreate({ ...attrs, mapExtra: undefined, btfFd: btf, btfKeyTypeId: 1, btfValueTypeId: 3 });
      expect(fd).toBeGreaterThan(0);
      const map = createMap(newSpace(), { ...attrs, valueFields: lock }, { ncpus: 2, hashSeed: 0 });
      const rnd = prng(type * 31);
      try {
        runDiff(vmTarget(map), kernelTargetFor(fd, 4, 12), {
          key: () => u32(rnd.int(max + 3)),
          value: () => bytes(12, () => rnd.int(256)),
          updateFlags: [0, 0, BPF_F_LOCK, BPF_F_LOCK, 1, 2, 1 | BPF_F_LOCK, 2 | BPF_F_LOCK, 8],
          lookupFlags: [0, BPF_F_LOCK, 8],
          batches: ["lookup", "update", "delete", "lookup_and_delete"],
          batchTokenSize: 4,
        }, rnd, { steps: 4000, seed: 1, dumpEvery: 10 });
        expect(map.sysFreeze()).toBe(-524);
      } finally {
        kClose(fd);
        kClose(btf);
      }
    });
  }
});

test("a program's lock word survives user-space updates", () => {
  const space = newSpace();
  const m = createMap(space, { mapType: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 12, maxEntries: 2, valueFields: lock });
  m.update(u32(1), bytes(12, () => 0xff));
  const v = m.lookupElem(space.allocBytes(u32(1)), 0);
  expect(space.u32[v >>> 2]).toBe(0); // a fresh element's lock starts unlocked
  space.u32[v >>> 2] = 1;
  m.update(u32(1), bytes(12, () => 0xee), BPF_F_LOCK);
  expect(space.u32[v >>> 2]).toBe(1);
  expect(m.lookup(u32(1), BPF_F_LOCK)).toEqual(new Uint8Array([0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]));
});
