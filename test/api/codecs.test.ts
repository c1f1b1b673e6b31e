import { describe, expect, test } from "vitest";
import {
  array, bool, btfCodec, bytes, cstring, f64, i16, i32, i64, i8, struct, u16, u16be, u32, u32be, u64, u8,
} from "../../src/api/codecs.js";
import { typedMap } from "../../src/api/typed-map.js";
import type { MapHandle, MapInfo } from "../../src/api/types.js";
import { BtfBuilder } from "../../src/btf/encode.js";
import { BTF_INT_CHAR, BTF_INT_SIGNED } from "../../src/btf/kinds.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("codecs: integers, floats, bytes, strings", () => {
  test.each([
    [u8, 0xab, "ab"], [i8, -2, "fe"], [u16, 0x1234, "3412"], [i16, -2, "feff"], [u32, 0xdeadbeef, "efbeadde"],
    [i32, -1, "ffffffff"], [u16be, 0x1234, "1234"], [u32be, 0x0a000001, "0a000001"],
  ] as const)("%#: little-endian unless named be", (codec, value, want) => {
    expect(hex(codec.encode(value))).toBe(want);
    expect(codec.decode(codec.encode(value))).toBe(value);
  });

  test("64-bit values are bigint; out-of-range values are RangeErrors", () => {
    expect(hex(u64.encode(0x0102030405060708n))).toBe("0807060504030201");
    expect(i64.decode(i64.encode(-5n))).toBe(-5n);
    expect(() => u64.encode(-1n)).toThrow(RangeError);
    expect(() => u8.encode(256)).toThrow(RangeError);
    expect(() => u32.encode(1.5)).toThrow(RangeError);
    expect(() => u32.decode(new Uint8Array(3))).toThrow(RangeError);
  });

  test("bool, f64, fixed bytes, NUL-padded strings", () => {
    expect(bool.decode(Uint8Array.of(7))).toBe(true);
    expect(f64.decode(f64.encode(1.25))).toBe(1.25);
    expect(hex(bytes(4).encode(Uint8Array.of(1, 2)))).toBe("01020000");
    expect(cstring(8).decode(new TextEncoder().encode("bash\0xyz"))).toBe("bash");
    expect(hex(cstring(4).encode("ab"))).toBe("61620000");
    expect(() => cstring(4).encode("abcd")).toThrow(/needs 5 bytes/);
  });
});

describe("codecs: C structs and arrays", () => {
  test("fields are aligned and the size padded as C lays them out", () => {
    const S = struct({ a: u8, b: u32, c: u16, d: u64 });
    expect(S.size).toBe(24);
    expect(S.offsets).toEqual({ a: 0, b: 4, c: 8, d: 16 });
    const v = { a: 1, b: 2, c: 3, d: 4n };
    expect(S.decode(S.encode(v))).toEqual(v);
    expect(struct({ a: u8, b: u32 }, { packed: true }).size).toBe(5);
    expect(struct({ a: u32, tail: u8 }).size).toBe(8);
  });

  test("nested structs and arrays; missing fields encode as zeros", () => {
    const Inner = struct({ x: u16, y: u8 });
    const S = struct({ n: u8, inner: Inner, list: array(u32, 3), name: cstring(5) });
    expect(S.offsets).toEqual({ n: 0, inner: 2, list: 8, name: 20 });
    expect(S.size).toBe(28);
    const out = S.decode(S.encode({ n: 1, inner: { x: 2, y: 3 }, list: [4, 5], name: "hi" } as never));
    expect(out).toEqual({ n: 1, inner: { x: 2, y: 3 }, list: [4, 5, 0], name: "hi" });
  });
});

describe("codecs: from BTF", () => {
  // struct ev { int pid; unsigned flags:3, mode:5; char comm[8]; union { unsigned long long a; unsigned b; }; long long arr[2]; };
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, BTF_INT_SIGNED);
  const uint = b.addInt("unsigned int", 4, 0);
  const ull = b.addInt("unsigned long long", 8, 0);
  const ll = b.addInt("long long", 8, BTF_INT_SIGNED);
  const char = b.addInt("char", 1, BTF_INT_CHAR | BTF_INT_SIGNED);
  const comm = b.addArray(char, int, 8);
  const arr = b.addArray(ll, int, 2);
  const un = b.addUnion("", 8, [{ name: "a", type: ull, bitOffset: 0, bitfieldSize: 0 }, { name: "b", type: uint, bitOffset: 0, bitfieldSize: 0 }]);
  const ev = b.addStruct("ev", 40, [
    { name: "pid", type: int, bitOffset: 0, bitfieldSize: 0 },
    { name: "flags", type: uint, bitOffset: 32, bitfieldSize: 3 },
    { name: "mode", type: uint, bitOffset: 35, bitfieldSize: 5 },
    { name: "comm", type: comm, bitOffset: 64, bitfieldSize: 0 },
    { name: "", type: un, bitOffset: 128, bitfieldSize: 0 },
    { name: "arr", type: arr, bitOffset: 192, bitfieldSize: 0 },
  ]);
  const btf = b.build();

  test("structs decode to objects: bitfields, char arrays as strings, anonymous unions flattened, 64-bit as bigint", () => {
    const c = btfCodec(btf, ev);
    expect(c.size).toBe(40);
    const bytesIn = c.encode({ pid: -7, flags: 5, mode: 17, comm: "bash", a: 0x1_0000_0002n, arr: [-1n, 2n] });
    expect(new DataView(bytesIn.buffer).getUint8(4)).toBe(5 | (17 << 3));
    expect(c.decode(bytesIn)).toEqual({ pid: -7, flags: 5, mode: 17, comm: "bash", a: 0x1_0000_0002n, b: 2, arr: [-1n, 2n] });
  });
});

describe("typedMap over any MapHandle", () => {
  test("keys and values go through the codecs; a key codec of the wrong size is refused", () => {
    const store = new Map<string, Uint8Array>();
    const info: MapInfo = { id: 1, name: "m", type: "hash", typeId: 1, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0, frozen: false };
    const fake: Pick<MapHandle, "name" | "info" | "lookup" | "update" | "delete" | "keys" | "entries"> = {
      name: "m", info,
      lookup: (k) => store.get(hex(k)),
      update: (k, v) => void store.set(hex(k), v),
      delete: (k) => store.delete(hex(k)),
      *keys() { for (const k of store.keys()) yield Buffer.from(k, "hex"); },
      *entries() { for (const [k, v] of store) yield [Buffer.from(k, "hex"), v] as [Uint8Array, Uint8Array]; },
    };
    const m = typedMap(fake as MapHandle, u32, u64);
    m.set(7, 70n);
    m.set(8, 80n);
    expect(m.get(7)).toBe(70n);
    expect(m.get(9)).toBeUndefined();
    expect([...m]).toEqual([[7, 70n], [8, 80n]]);
    expect([...m.keys()]).toEqual([7, 8]);
    expect(m.delete(7)).toBe(true);
    expect(() => typedMap(fake as MapHandle, u16, u64)).toThrow(/key codec is 2 bytes, key_size is 4/);
  });
});
