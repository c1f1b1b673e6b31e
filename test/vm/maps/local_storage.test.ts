import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_NO_PREALLOC, BPF_LOCAL_STORAGE_GET_F_CREATE, BPF_MAP_TYPE, type LocalStorageMap, createMap, tryCreateMap } from "../../../src/vm/maps/index.js";
import { newSpace, u32 } from "./util.js";

const E = ERRNO;
const attrs = { mapType: BPF_MAP_TYPE.TASK_STORAGE, keySize: 4, valueSize: 8, maxEntries: 0, mapFlags: BPF_F_NO_PREALLOC, btfKeyTypeId: 1, btfValueTypeId: 2 };

describe("local storage maps", () => {
  test("creation: BPF_F_NO_PREALLOC, max_entries 0, int keys and BTF are required", () => {
    const s = newSpace();
    expect(tryCreateMap(s, { ...attrs, mapFlags: 0 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { ...attrs, maxEntries: 1 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { ...attrs, keySize: 8 })).toBe(-E.EINVAL);
    expect(tryCreateMap(s, { ...attrs, btfValueTypeId: 0 })).toBe(-E.EINVAL);
    expect(typeof tryCreateMap(s, attrs)).toBe("object");
  });

  test("storage_get creates on demand with F_CREATE (from the init value), otherwise NULL; delete is ENOENT when absent", () => {
    const space = newSpace();
    const m = createMap(space, attrs) as LocalStorageMap;
    expect(m.storageGet(7, 0, 0)).toBe(0);
    const init = space.allocBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const v = m.storageGet(7, init, BPF_LOCAL_STORAGE_GET_F_CREATE);
    expect(v).not.toBe(0);
    expect(space.regionOf(v, 8)?.kind).toBe("map_value");
    expect(m.storageGet(7, 0, 0)).toBe(v);
    expect(m.storageGet(7, 0, 2)).toBe(0);
    expect(m.lookup(u32(7))).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(m.storageDelete(7)).toBe(0);
    expect(m.storageDelete(7)).toBe(-E.ENOENT);
  });

  test("user space: update flags as a hash map, get_next_key ENOTSUPP", () => {
    const m = createMap(newSpace(), attrs);
    expect(m.sysUpdate(u32(1), new Uint8Array(8), 2)).toBe(-E.ENOENT);
    expect(m.sysUpdate(u32(1), new Uint8Array(8), 1)).toBe(0);
    expect(m.sysUpdate(u32(1), new Uint8Array(8), 1)).toBe(-E.EEXIST);
    expect(m.sysUpdate(u32(1), new Uint8Array(8), 4)).toBe(-E.EINVAL);
    expect(m.sysGetNextKey(null, new Uint8Array(4))).toBe(-E.ENOTSUPP);
    expect(m.sysDelete(u32(1))).toBe(0);
  });
});
