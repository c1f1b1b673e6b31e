import { existsSync, rmSync } from "node:fs";
import { afterAll, expect, test } from "vitest";
import { MapError } from "../../src/errors.js";
import { BPF_EXIST, BPF_NOEXIST, MapFlags, MapType } from "../../src/linux/constants.js";
import { possibleCpus } from "../../src/linux/fs.js";
import { LinuxMap, MapIncompatibleError, u32, u64 } from "../../src/linux/map.js";
import { describeKernel } from "../helpers/kernel.js";

const PIN_DIR = `/sys/fs/bpf/tsbpf-test-map-${process.pid}`;
afterAll(() => rmSync(PIN_DIR, { recursive: true, force: true }));

const hash = (maxEntries = 16) =>
  LinuxMap.create({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries, name: "t_hash" });

describeKernel("linux maps", () => {
  test("hash map: create reports its shape and a kernel id", () => {
    using m = hash();
    expect(m.id).toBeGreaterThan(0);
    expect(m.info()).toMatchObject({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16, name: "t_hash" });
  });

  test("hash map: update, lookup, delete; a missing key looks up as undefined", () => {
    using m = hash();
    m.update(u32(1), u64(100n));
    expect(m.lookup(u32(1))?.readBigUInt64LE()).toBe(100n);
    expect(m.lookup(u32(2))).toBeUndefined();
    m.delete(u32(1));
    expect(m.lookup(u32(1))).toBeUndefined();
  });

  test("hash map: update with BPF_NOEXIST on an existing key fails with EEXIST", () => {
    using m = hash();
    m.update(u32(1), u64(1n));
    expect(() => m.update(u32(1), u64(2n), BPF_NOEXIST)).toThrow(expect.objectContaining({ code: "EEXIST", errno: 17 }));
    try {
      m.update(u32(1), u64(2n), BPF_NOEXIST);
    } catch (e) {
      expect(e).toBeInstanceOf(MapError);
    }
  });

  test("hash map: update with BPF_EXIST on a missing key fails with ENOENT", () => {
    using m = hash();
    expect(() => m.update(u32(5), u64(1n), BPF_EXIST)).toThrow(/ENOENT/);
  });

  test("hash map: delete of a missing key fails with ENOENT", () => {
    using m = hash();
    expect(() => m.delete(u32(9))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });

  test("hash map: a full map refuses a new key with E2BIG", () => {
    using m = hash(2);
    m.update(u32(1), u64(1n));
    m.update(u32(2), u64(2n));
    expect(() => m.update(u32(3), u64(3n))).toThrow(expect.objectContaining({ code: "E2BIG" }));
  });

  test("a key of the wrong size is one clear EINVAL error and the map is untouched", () => {
    using m = hash();
    m.update(u32(1), u64(1n));
    expect(() => m.lookup(Buffer.alloc(3))).toThrow(/key is 3 bytes, key_size is 4: EINVAL/);
    expect(() => m.update(u32(1), Buffer.alloc(4))).toThrow(/value is 4 bytes, need 8/);
    expect(m.lookup(u32(1))?.readBigUInt64LE()).toBe(1n);
  });

  test("iteration visits every key once (BPF_MAP_GET_NEXT_KEY)", () => {
    using m = hash();
    for (let i = 0; i < 10; i++) m.update(u32(i), u64(BigInt(i * i)));
    const seen = [...m.entries()].map(([k, v]) => [k.readUInt32LE(), Number(v.readBigUInt64LE())]).sort((a, b) => a[0] - b[0]);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => [i, i * i]));
  });

  test("batch update, lookup and delete", () => {
    using m = hash(1024);
    const keys = Array.from({ length: 300 }, (_, i) => u32(i));
    const values = keys.map((_, i) => u64(BigInt(i) * 3n));
    expect(m.updateBatch(keys, values)).toBe(300);
    const got = m.lookupBatch({ chunk: 64 });
    expect(got.length).toBe(300);
    expect(new Set(got.map(([k, v]) => `${k.readUInt32LE()}=${v.readBigUInt64LE()}`))).toEqual(
      new Set(keys.map((_, i) => `${i}=${BigInt(i) * 3n}`)),
    );
    expect(m.deleteBatch(keys.slice(0, 100))).toBe(100);
    expect([...m.keys()].length).toBe(200);
    const taken = m.lookupBatch({ andDelete: true, chunk: 50 });
    expect(taken.length).toBe(200);
    expect([...m.keys()].length).toBe(0);
  });

  test("array map: batch lookup walks every index", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 10 });
    m.update(u32(3), u32(33));
    const got = m.lookupBatch({ chunk: 4 });
    expect(got.length).toBe(10);
    expect(got[3][1].readUInt32LE()).toBe(33);
  });

  test("per-CPU array: one value per possible CPU", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    const n = possibleCpus();
    expect(m.valueBytes).toBe(8 * n);
    m.updatePerCpu(u32(1), Array.from({ length: n }, (_, i) => u32(10 + i)));
    expect(m.lookupPerCpu(u32(1))!.map((b) => b.readUInt32LE())).toEqual(Array.from({ length: n }, (_, i) => 10 + i));
  });

  test("queue map: push and pop without a key, pop of an empty queue is undefined", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_QUEUE, keySize: 0, valueSize: 4, maxEntries: 4 });
    m.update(null, u32(1));
    m.update(null, u32(2));
    expect(m.lookup(null)?.readUInt32LE()).toBe(1);
    expect(m.lookupAndDelete()?.readUInt32LE()).toBe(1);
    expect(m.lookupAndDelete()?.readUInt32LE()).toBe(2);
    expect(m.lookupAndDelete()).toBeUndefined();
  });

  test("freeze: user space writes fail with EPERM afterwards", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    m.update(u32(0), u32(7));
    m.freeze();
    expect(() => m.update(u32(0), u32(8))).toThrow(expect.objectContaining({ code: "EPERM" }));
    expect(m.lookup(u32(0))?.readUInt32LE()).toBe(7);
  });

  test("mmap of a BPF_F_MMAPABLE array is a zero-copy view both ways", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlags.BPF_F_MMAPABLE });
    using view = m.mmap();
    const dv = new DataView(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength);
    dv.setBigUint64(2 * 8, 0xdeadbeefn, true);
    expect(m.lookup(u32(2))?.readBigUInt64LE()).toBe(0xdeadbeefn);
    m.update(u32(1), u64(42n));
    expect(dv.getBigUint64(8, true)).toBe(42n);
  });

  test("a view kept after close stays readable (unmapped only once unreachable, never a crash)", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlags.BPF_F_MMAPABLE });
    m.update(u32(0), u64(9n));
    const view = m.mmap();
    const bytes = view.bytes;
    view.close();
    expect(bytes[0]).toBe(9);
  });

  test("mmap of an array without BPF_F_MMAPABLE is refused", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(() => m.mmap()).toThrow(/BPF_F_MMAPABLE/);
  });

  test("pin, open by pin and by id: the same kernel map", () => {
    using m = hash();
    m.update(u32(1), u64(5n));
    const path = `${PIN_DIR}/pinned`;
    m.pin(path);
    expect(existsSync(path)).toBe(true);
    using again = LinuxMap.fromPin(path);
    expect(again.id).toBe(m.id);
    expect(again.lookup(u32(1))?.readBigUInt64LE()).toBe(5n);
    using byId = LinuxMap.fromId(m.id);
    byId.update(u32(2), u64(6n));
    expect(m.lookup(u32(2))?.readBigUInt64LE()).toBe(6n);
  });

  test("reuse by pin: a compatible pinned map is reused, an incompatible one names every mismatch", () => {
    const path = `${PIN_DIR}/reuse`;
    const opts = { type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16 };
    using first = LinuxMap.createOrReusePinned(opts, path);
    first.update(u32(1), u64(1n));
    using second = LinuxMap.createOrReusePinned(opts, path);
    expect(second.id).toBe(first.id);
    const bad = { ...opts, keySize: 8, maxEntries: 32, flags: MapFlags.BPF_F_NO_PREALLOC };
    let err: unknown;
    try {
      LinuxMap.createOrReusePinned(bad, path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapIncompatibleError);
    expect((err as Error).message).toBe(`pinned map ${path} is incompatible: key_size 4 != 8, max_entries 16 != 32, map_flags 0x0 != 0x1`);
  });

  test("close is idempotent and use after close is EBADF, not a stale fd", () => {
    const m = hash();
    m.close();
    m.close();
    expect(() => m.lookup(u32(1))).toThrow(/used after close: EBADF/);
  });
});
