import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_MAP_TYPE, type ProgArrayMap, type ProgramRef, createMap } from "../../../src/vm/maps/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { kClose, kDelete, kGetNextKey, kLookup, kMapCreate, kUpdate } from "./kernel-maps.js";
import { newSpace, u32 } from "./util.js";

const E = ERRNO;
const progs: Record<number, ProgramRef> = { 10: { id: 100, progType: 1 }, 11: { id: 101, progType: 1 }, 12: { id: 102, progType: 2 } };

function progArray(max = 4): ProgArrayMap {
  const space = newSpace();
  const other = createMap(space, { mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  return createMap(space, { mapType: BPF_MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: max }, {
    resolver: { program: (fd) => progs[fd], map: (fd) => (fd === 20 ? other : undefined) },
  }) as ProgArrayMap;
}

describe("prog array", () => {
  test("slots hold programs for tail calls; user space reads program ids", () => {
    const m = progArray();
    expect(m.tailCallTarget(1)).toBeUndefined();
    expect(m.sysUpdate(u32(1), u32(10))).toBe(0);
    expect(m.tailCallTarget(1)).toBe(progs[10]);
    expect(m.tailCallTarget(4)).toBeUndefined();
    const out = new Uint8Array(4);
    expect(m.sysLookup(u32(1), out)).toBe(0);
    expect(out).toEqual(u32(100));
    expect(m.sysLookup(u32(0), out)).toBe(-E.ENOENT);
  });

  test("errno: EBADF for no object, EINVAL for a map fd, a flag or another program type, E2BIG past the end", () => {
    const m = progArray();
    expect(m.sysUpdate(u32(0), u32(99))).toBe(-E.EBADF);
    expect(m.sysUpdate(u32(0), u32(20))).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(0), u32(10), 1)).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(4), u32(10))).toBe(-E.E2BIG);
    expect(m.sysUpdate(u32(0), u32(10))).toBe(0);
    expect(m.sysUpdate(u32(1), u32(12))).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(1), u32(11))).toBe(0);
    expect(m.sysDelete(u32(4))).toBe(-E.E2BIG);
    expect(m.sysDelete(u32(1))).toBe(0);
    expect(m.sysDelete(u32(1))).toBe(-E.ENOENT);
  });
});

describeKernel("prog array vs the kernel", () => {
  test("empty-slot lookup, delete, get_next_key and bad fds agree", () => {
    const m = progArray(3);
    const fd = kMapCreate({ mapType: BPF_MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 });
    try {
      for (const i of [0, 2, 3, 9]) {
        expect(m.sysLookup(u32(i), new Uint8Array(4)), `lookup ${i}`).toBe(kLookup(fd, u32(i), new Uint8Array(4)));
        expect(m.sysDelete(u32(i)), `delete ${i}`).toBe(kDelete(fd, u32(i)));
        const a = new Uint8Array(4);
        const b = new Uint8Array(4);
        expect([m.sysGetNextKey(u32(i), a), a]).toEqual([kGetNextKey(fd, u32(i), b), b]);
        expect(m.sysUpdate(u32(i), u32(99), 1), `update ${i}`).toBe(kUpdate(fd, u32(i), u32(999), 1));
      }
      expect(m.sysUpdate(u32(0), u32(99))).toBe(kUpdate(fd, u32(0), u32(999)));
      expect(m.sysUpdate(u32(5), u32(99))).toBe(kUpdate(fd, u32(5), u32(999)));
      expect(m.sysUpdate(u32(0), u32(20))).toBe(kUpdate(fd, u32(0), u32(fd)));
    } finally {
      kClose(fd);
    }
  });
});
