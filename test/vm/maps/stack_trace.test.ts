import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, BPF_MAP_TYPE, type StackTraceMap, createMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { kClose, kDelete, kGetNextKey, kLookup, kMapCreate, kUpdate } from "./kernel-maps.js";
import { newSpace, u32 } from "./util.js";

const E = ERRNO;

function stackMap(max = 4, depth = 3): StackTraceMap {
  return createMap(newSpace(), { mapType: BPF_MAP_TYPE.STACK_TRACE, keySize: 4, valueSize: depth * 8, maxEntries: max }) as StackTraceMap;
}
const ips = (...xs: number[]): Uint32Array => new Uint32Array(xs.flatMap((x) => [x >>> 0, Math.floor(x / 2 ** 32)]));

describe("stack trace map", () => {
  test("the same stack gets the same id; user space reads it back zero-padded; skip drops frames", () => {
    const m = stackMap();
    const id = m.getStackId(ips(0x1000, 0x2000), 0);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(m.getStackId(ips(0x1000, 0x2000), 0)).toBe(id);
    const v = new Uint8Array(24);
    expect(m.sysLookup(u32(id), v)).toBe(0);
    expect([...new Uint32Array(v.buffer)]).toEqual([0x1000, 0, 0x2000, 0, 0, 0]);
    expect(m.getStackId(ips(0xdead, 0x1000, 0x2000), 1)).toBe(id);
    expect(m.getStackId(ips(0x1), 1)).toBe(-E.EFAULT);
    expect(m.getStackId(ips(0x1), 1 << 12)).toBe(-E.EINVAL);
  });

  test("a different stack in an occupied bucket: EEXIST, replaced with BPF_F_REUSE_STACKID, trusted with FAST_STACK_CMP", () => {
    const m = stackMap(1); // one bucket: every stack collides
    const a = m.getStackId(ips(1, 2), 0);
    expect(m.getStackId(ips(3, 4), 0)).toBe(-E.EEXIST);
    expect(m.getStackId(ips(3, 4), BPF_F_REUSE_STACKID)).toBe(a);
    const v = new Uint8Array(24);
    m.sysLookup(u32(a), v);
    expect(v[0]).toBe(3);
    expect(m.getStackId(ips(3, 4), BPF_F_FAST_STACK_CMP)).toBe(a);
  });

  test("buckets are preallocated: ENOMEM when every one is in use", () => {
    const m = stackMap(3); // 4 buckets, 3 preallocated stacks
    const ids = new Set<number>();
    let err = 0;
    for (let i = 1; i < 200 && !err; i++) {
      const r = m.getStackId(ips(i * 7919), 0);
      if (r === -E.ENOMEM) err = r;
      else if (r >= 0) ids.add(r);
    }
    expect(err).toBe(-E.ENOMEM);
    expect(ids.size).toBe(3);
  });
});

describeKernel("stack trace map vs the kernel", () => {
  test("user-space operations on an empty map agree", () => {
    const m = stackMap(4, 1);
    const fd = kMapCreate({ mapType: BPF_MAP_TYPE.STACK_TRACE, keySize: 4, valueSize: 8, maxEntries: 4 });
    try {
      for (const i of [0, 3, 4, 9]) {
        expect(m.sysLookup(u32(i), new Uint8Array(8))).toBe(kLookup(fd, u32(i), new Uint8Array(8)));
        expect(m.sysDelete(u32(i))).toBe(kDelete(fd, u32(i)));
        expect(m.sysUpdate(u32(i), new Uint8Array(8))).toBe(kUpdate(fd, u32(i), new Uint8Array(8)));
        expect(m.sysGetNextKey(u32(i), new Uint8Array(4))).toBe(kGetNextKey(fd, u32(i), new Uint8Array(4)));
      }
      expect(m.sysGetNextKey(null, new Uint8Array(4))).toBe(kGetNextKey(fd, null, new Uint8Array(4)));
    } finally {
      kClose(fd);
    }
  });
});
