import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Btf } from "../../src/btf/btf.js";
import { BtfBuilder, encodeBtf } from "../../src/btf/encode.js";
import { formatBtfC } from "../../src/btf/dump-c.js";
import { formatBtfRaw } from "../../src/btf/dump-raw.js";
import { BTF_FUNC_GLOBAL, BTF_INT_BOOL, BTF_INT_SIGNED, BTF_VAR_GLOBAL_ALLOCATED } from "../../src/btf/kinds.js";
import { isRawBtf, loadBtf } from "../../src/btf/load.js";
import { ElfFile } from "../../src/elf/reader.js";
import { BtfError } from "../../src/errors.js";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/object/${name}`, import.meta.url)));
const kinds = (): Btf => loadBtf(fixture("btf_kinds.bpf.o")).btf;

describe("BTF types decode to the discriminated union", () => {
  // Ids as bpftool numbers them in test/btf/golden/btf_kinds.bpf.raw.txt.
  test.each([
    { id: 1, type: { kind: "int", name: "int", size: 4, encoding: BTF_INT_SIGNED, bitsOffset: 0, bits: 32 } },
    { id: 72, type: { kind: "int", name: "_Bool", size: 1, encoding: BTF_INT_BOOL, bits: 8 } },
    { id: 2, type: { kind: "ptr", name: "", type: 3 } },
    { id: 3, type: { kind: "struct", name: "bits", size: 24, kindFlag: true } },
    { id: 4, type: { kind: "decl_tag", name: "bits_struct", type: 3, componentIdx: -1 } },
    { id: 12, type: { kind: "decl_tag", name: "arg_tag", type: 11, componentIdx: 0 } },
    { id: 11, type: { kind: "func", name: "tagged_func", type: 10, linkage: BTF_FUNC_GLOBAL } },
    { id: 10, type: { kind: "func_proto", returnType: 1, params: [{ name: "x", type: 1 }, { name: "b", type: 2 }] } },
    { id: 19, type: { kind: "array", type: 7, indexType: 20, nelems: 4 } },
    { id: 21, type: { kind: "var", name: "LICENSE", type: 19, linkage: BTF_VAR_GLOBAL_ALLOCATED } },
    { id: 22, type: { kind: "enum64", name: "big", size: 8, signed: false, values: [{ name: "BIG_A", value: 1n }, { name: "BIG_B", value: 0x1ffffffffn }] } },
    { id: 26, type: { kind: "const", type: 27 } },
    { id: 27, type: { kind: "volatile", type: 1 } },
    { id: 28, type: { kind: "restrict", type: 29 } },
    { id: 34, type: { kind: "fwd", name: "opaque", union: false } },
    { id: 36, type: { kind: "fwd", name: "opaque_u", union: true } },
    { id: 37, type: { kind: "typedef", name: "callback_t", type: 38 } },
    { id: 50, type: { kind: "union", name: "", size: 4 } },
    { id: 54, type: { kind: "enum", name: "color", size: 4, signed: true, values: [{ name: "RED", value: 0 }, { name: "GREEN", value: 5 }, { name: "BLUE", value: -1 }] } },
    { id: 55, type: { kind: "enum", name: "tiny", size: 1, signed: false } },
    { id: 61, type: { kind: "float", name: "float", size: 4 } },
    { id: 67, type: { kind: "type_tag", name: "user", type: 1, kindFlag: false } },
    { id: 79, type: { kind: "datasec", name: ".bss", size: 0, vars: [{ type: 74, offset: 0, size: 288 }, { type: 75, offset: 0, size: 24 }, { type: 78, offset: 0, size: 8 }] } },
  ])("[$id] $type.kind", ({ id, type }) => {
    expect(kinds().type(id)).toMatchObject({ id, ...type });
  });

  test("bitfield members carry their width; plain members have 0", () => {
    const bits = kinds().find("struct", "bits");
    expect(bits?.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([
      ["a", 0, 3], ["b", 3, 5], ["c", 8, 7], ["d", 15, 40], ["e", 56, 0], ["f", 64, 2], ["g", 128, 0],
    ]);
  });

  test("id 0 is void; ids past the end are a BtfError", () => {
    const btf = kinds();
    expect(btf.type(0)).toEqual({ id: 0, name: "", kind: "void" });
    expect(() => btf.type(btf.typeCount)).toThrow(BtfError);
  });
});

describe("the type graph", () => {
  test.each([
    { name: "int", size: 4, align: 4 },
    { name: "struct bits", size: 24, align: 8 },
    { name: "struct packed", size: 7, align: 1 },
    { name: "struct padded", size: 48, align: 8 },
    { name: "union number", size: 8, align: 8 },
    { name: "struct kitchen_sink", size: 288, align: 8 },
    { name: "typedef u64_alias2", size: 8, align: 8 },
    { name: "typedef callback_t", size: 8, align: 8 },
    { name: "enum tiny", size: 1, align: 1 },
    { name: "enum big", size: 8, align: 8 },
  ])("sizeof/alignof $name = $size/$align", ({ name, size, align }) => {
    const btf = kinds();
    const [kw, n] = name.includes(" ") ? name.split(" ") : ["int", name];
    const kind = kw === "typedef" ? "typedef" : kw === "struct" ? "struct" : kw === "union" ? "union" : kw === "enum" ? (n === "big" ? "enum64" : "enum") : "int";
    const t = btf.find(kind, n);
    expect(t).toBeDefined();
    expect(btf.sizeof(t?.id ?? 0)).toBe(size);
    expect(btf.alignof(t?.id ?? 0)).toBe(align);
  });

  test("arrays multiply out, variables and qualifiers resolve through", () => {
    const btf = kinds();
    expect(btf.sizeof(49)).toBe(48); // int matrix[3][4]
    expect(btf.sizeof(74)).toBe(288); // VAR sink
    expect(btf.sizeof(26)).toBe(4); // const volatile int
  });

  test("void, functions and forward declarations have no size", () => {
    const btf = kinds();
    for (const id of [0, 11, 34, 47]) expect(() => btf.sizeof(id)).toThrow(BtfError);
  });

  test("skipModsAndTypedefs and skipModifiers", () => {
    const btf = kinds();
    expect(btf.skipModsAndTypedefs(65)).toMatchObject({ kind: "int", name: "unsigned long long" });
    expect(btf.skipModifiers(26)).toMatchObject({ kind: "int", name: "int" });
    expect(btf.skipModifiers(65).kind).toBe("typedef");
  });

  test("lookup by kind and name, and by name alone", () => {
    const btf = kinds();
    expect(btf.find("struct", "bits")?.id).toBe(3);
    expect(btf.find("union", "bits")).toBeUndefined();
    expect(btf.findAny("opaque")?.kind).toBe("fwd");
    expect(btf.idsByName("__u32")).toEqual([16]);
    expect(btf.describe(3)).toBe("[3] STRUCT 'bits'");
    expect(btf.describe(2)).toBe("[2] PTR '(anon)'");
  });

  test("pointer size: 8 for BPF objects, guessed from 'long' for raw BTF", () => {
    expect(kinds().pointerSize).toBe(8);
    const b = new BtfBuilder();
    b.addInt("long int", 4, BTF_INT_SIGNED);
    expect(b.build().pointerSize).toBe(4);
  });
});

describe("loading", () => {
  test("raw blobs and ELF objects both load", () => {
    const elf = fixture("maps.bpf.o");
    const raw = ElfFile.parse(elf).section(".BTF")?.data ?? new Uint8Array();
    expect(isRawBtf(raw)).toBe(true);
    expect(isRawBtf(elf)).toBe(false);
    const a = loadBtf(elf);
    const b = loadBtf(raw);
    expect(a.format).toBe("elf");
    expect(a.ext).toBeDefined();
    expect(b.format).toBe("raw");
    expect(b.btf.types).toEqual(a.btf.types);
  });

  test("split BTF continues its base's ids and strings", () => {
    const base = kinds();
    const b = new BtfBuilder({ base });
    const p = b.addPtr(3);
    const s = b.addStruct("module_thing", 16, [
      { name: "bits", type: p, bitOffset: 0, bitfieldSize: 0 },
      { name: "count", type: 1, bitOffset: 64, bitfieldSize: 0 },
    ]);
    const bytes = b.encode();
    const split = Btf.parse(bytes, { base });
    expect(split.startId).toBe(base.typeCount);
    expect(p).toBe(base.typeCount);
    expect(split.type(s)).toMatchObject({ kind: "struct", name: "module_thing" });
    expect(split.type(3).name).toBe("bits");
    expect(split.find("struct", "bits")?.id).toBe(3);
    expect(split.sizeof(s)).toBe(16);
    expect(formatBtfRaw(split)).toBe(
      `[${p}] PTR '(anon)' type_id=3\n[${s}] STRUCT 'module_thing' size=16 vlen=2\n\t'bits' type_id=${p} bits_offset=0\n\t'count' type_id=1 bits_offset=64\n`,
    );
    // bpftool prints base and split types alike for C: everything needed to compile.
    expect(formatBtfC(split, { header: false })).toContain("struct module_thing {\n\tstruct bits *bits;\n\tint count;\n};\n\n");
    // Names already in the base ("bits") are not stored again.
    expect(new TextDecoder().decode(split.strings.bytes)).toBe("module_thing\0count\0");
    expect(encodeBtf(split)).toEqual(bytes);
  });
});

/** A valid BTF blob to break. */
function blob(): Uint8Array {
  const b = new BtfBuilder();
  const i = b.addInt("int", 4, BTF_INT_SIGNED);
  b.addStruct("s", 8, [{ name: "a", type: i, bitOffset: 0, bitfieldSize: 0 }, { name: "b", type: i, bitOffset: 32, bitfieldSize: 0 }]);
  return b.encode();
}
const mut = (f: (v: DataView, b: Uint8Array) => void): Uint8Array => {
  const b = blob();
  f(new DataView(b.buffer), b);
  return b;
};

describe("malformed BTF gets one BtfError", () => {
  // Layout of blob(): header (24), INT (16 bytes) at 24, STRUCT (12 + 2*12) at 40, strings at 76.
  test.each([
    { name: "too short", bytes: () => new Uint8Array(10), error: /header not found/ },
    { name: "bad magic", bytes: () => mut((v) => v.setUint16(0, 0x1234, true)), error: /invalid BTF magic/ },
    { name: "bad version", bytes: () => mut((v) => v.setUint8(2, 2)), error: /version 2/ },
    { name: "header longer than data", bytes: () => mut((v) => v.setUint32(4, 9999, true)), error: /header length 9999/ },
    { name: "header too short", bytes: () => mut((v) => v.setUint32(4, 12, true)), error: /shorter than 24/ },
    { name: "strings past the end", bytes: () => mut((v) => v.setUint32(20, 500, true)), error: /invalid BTF total size/ },
    { name: "types overlap strings", bytes: () => mut((v) => v.setUint32(12, 60, true)), error: /section layout/ },
    { name: "unaligned type section", bytes: () => mut((v) => { v.setUint32(8, 2, true); v.setUint32(12, 50, true); }), error: /4-byte aligned/ },
    { name: "string section not NUL-terminated", bytes: () => mut((v, b) => (b[b.length - 1] = 0x41)), error: /not NUL-terminated/ },
    { name: "string section without leading empty string", bytes: () => mut((v, b) => (b[76] = 0x41)), error: /empty string/ },
    { name: "unknown kind", bytes: () => mut((v) => v.setUint32(28, 25 << 24, true)), error: /unsupported kind 25/ },
    { name: "truncated type", bytes: () => mut((v) => v.setUint32(44, (4 << 24) | 9, true)), error: /truncated/ },
    { name: "trailing bytes", bytes: () => mut((v) => { v.setUint32(12, 48, true); }), error: /trailing bytes|truncated/ },
    { name: "name offset outside strings", bytes: () => mut((v) => v.setUint32(24, 999, true)), error: /name offset 999/ },
    { name: "member of a type that does not exist", bytes: () => mut((v) => v.setUint32(56, 77, true)), error: /refers to type \[77\]/ },
  ])("$name", ({ bytes, error }) => {
    let thrown: unknown;
    try {
      Btf.parse(bytes());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BtfError);
    expect((thrown as Error).message).toMatch(error);
  });

  test("the blob itself is fine", () => {
    expect(Btf.parse(blob()).find("struct", "s")?.members).toHaveLength(2);
  });

  test("an ELF without .BTF is a BtfError", () => {
    expect(() => loadBtf(fixture("maps.bpf.o").slice(0, 3))).toThrow(BtfError);
  });
});
