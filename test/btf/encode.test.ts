import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Btf } from "../../src/btf/btf.js";
import { formatBtfC } from "../../src/btf/dump-c.js";
import { formatBtfRaw } from "../../src/btf/dump-raw.js";
import { BtfBuilder, encodeBtf } from "../../src/btf/encode.js";
import { BTF_FUNC_GLOBAL, BTF_INT_SIGNED, BTF_VAR_GLOBAL_ALLOCATED } from "../../src/btf/kinds.js";
import { ALL_BTF_FEATURES, needsSanitizing, sanitizeBtf } from "../../src/btf/sanitize.js";
import { ElfFile } from "../../src/elf/reader.js";
import { BtfError } from "../../src/errors.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const objects = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => ({ name: f, url: new URL(f, d) })));
const btfSection = (url: URL): Uint8Array => ElfFile.parse(new Uint8Array(readFileSync(url))).section(".BTF")?.data ?? new Uint8Array();

describe("encoding BTF", () => {
  test.each(objects)("$name: parse then encode gives back the same bytes", ({ url }) => {
    const raw = btfSection(url);
    const btf = Btf.parse(raw);
    expect(encodeBtf(btf)).toEqual(raw);
  });

  test.each(objects)("$name: the other byte order and a fresh string table decode to the same types", ({ url }) => {
    const btf = Btf.parse(btfSection(url));
    const other = btf.byteOrder === "le" ? "be" : "le";
    const swapped = Btf.parse(encodeBtf(btf, { byteOrder: other }));
    expect(swapped.byteOrder).toBe(other);
    expect(swapped.types).toEqual(btf.types);
    expect(Btf.parse(encodeBtf(btf, { keepStrings: false })).types).toEqual(btf.types);
  });

  test("the builder makes BTF the C printer and the kernel's rules understand", () => {
    // A context struct the vm might describe for its programs.
    const b = new BtfBuilder();
    const u32 = b.addInt("unsigned int", 4);
    const u32t = b.addTypedef("__u32", u32);
    const i64 = b.addInt("long long int", 8, BTF_INT_SIGNED);
    const md = b.addStruct("xdp_md", 24, ["data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex"]
      .map((name, i) => ({ name, type: u32t, bitOffset: i * 32, bitfieldSize: 0 })));
    const flags = b.addStruct("flags", 8, [
      { name: "a", type: u32, bitOffset: 0, bitfieldSize: 3 },
      { name: "b", type: u32, bitOffset: 3, bitfieldSize: 9 },
      { name: "wide", type: i64, bitOffset: 32, bitfieldSize: 20 },
    ]);
    const e = b.addEnum("xdp_action", 4, [{ name: "XDP_ABORTED", value: 0 }, { name: "XDP_PASS", value: 2 }]);
    const ptr = b.addPtr(md);
    const proto = b.addFuncProto(e, [{ name: "ctx", type: ptr }]);
    b.addFunc("prog", proto, BTF_FUNC_GLOBAL);
    const v = b.addVar("counter", i64, BTF_VAR_GLOBAL_ALLOCATED);
    b.addDatasec(".data", 8, [{ type: v, offset: 0, size: 8 }]);
    b.addEnum64("wide_enum", 8, [{ name: "W", value: -5n }], true);
    b.addFloat("double", 8);
    b.addDeclTag("tag", md, -1);
    b.addTypeTag("user", ptr);
    const btf = b.build();
    expect(btf.find("struct", "flags")?.kindFlag).toBe(true);
    expect(btf.type(flags)).toMatchObject({ kind: "struct", members: [{ bitfieldSize: 3 }, { bitfieldSize: 9 }, { bitfieldSize: 20 }] });
    expect(formatBtfC(btf, { header: false })).toBe(
      [
        "typedef unsigned int __u32;\n\n",
        "struct xdp_md {\n\t__u32 data;\n\t__u32 data_end;\n\t__u32 data_meta;\n\t__u32 ingress_ifindex;\n\t__u32 rx_queue_index;\n\t__u32 egress_ifindex;\n};\n\n",
        "struct flags {\n\tunsigned int a: 3;\n\tunsigned int b: 9;\n\tint: 20;\n\tlong long int wide: 20;\n};\n\n",
        "enum xdp_action {\n\tXDP_ABORTED = 0,\n\tXDP_PASS = 2,\n};\n\n",
        "enum wide_enum {\n\tW = -5LL,\n};\n\n",
      ].join(""),
    );
    expect(formatBtfRaw(btf)).toContain("[12] ENUM64 'wide_enum' encoding=SIGNED size=8 vlen=1\n\t'W' val=-5LL\n");
    expect(btf.sizeof(md)).toBe(24);
    expect(b.addString("fixtures/x.bpf.c")).toBeGreaterThan(0);
  });

  test("values that do not fit the encoding are a BtfError", () => {
    const b = new BtfBuilder();
    const i = b.addInt("int", 4);
    b.addStruct("big", 4, [{ name: "x", type: i, bitOffset: 1 << 25, bitfieldSize: 3 }]);
    expect(() => b.encode()).toThrow(BtfError);
  });
});

describe("sanitizing for older kernels (libbpf's bpf_object__sanitize_btf)", () => {
  const kinds = (): Btf => Btf.parse(btfSection(new URL("../fixtures/object/btf_kinds.bpf.o", import.meta.url)));

  test("a kernel with every feature gets the BTF unchanged", () => {
    const btf = kinds();
    expect(needsSanitizing(ALL_BTF_FEATURES)).toBe(false);
    expect(sanitizeBtf(btf, ALL_BTF_FEATURES)).toBe(btf);
  });

  test("missing kinds are replaced, keeping ids and sizes", () => {
    const btf = kinds();
    const old = sanitizeBtf(btf, { func: false, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false });
    const kindsLeft = new Set(old.types.map((t) => t.kind));
    for (const k of ["func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64"]) expect(kindsLeft.has(k as never)).toBe(false);
    expect(old.typeCount).toBe(btf.typeCount + 1); // enum64_placeholder
    expect(old.type(old.typeCount - 1)).toMatchObject({ kind: "int", name: "enum64_placeholder", size: 1 });
    expect(old.type(79)).toMatchObject({ kind: "struct", name: "_bss", members: [{ name: "sink", bitOffset: 0 }, { name: "bits_var" }, { name: "vararg_count" }] });
    expect(old.type(61)).toMatchObject({ kind: "struct", name: "", size: 4, members: [] });
    expect(old.type(22)).toMatchObject({ kind: "union", name: "big", size: 8 });
    expect(old.type(54)).toMatchObject({ kind: "enum", signed: false });
    expect(old.type(67)).toMatchObject({ kind: "const", name: "", type: 1 });
    expect(old.type(11)).toMatchObject({ kind: "typedef", name: "tagged_func" });
    for (const t of btf.types) {
      if (t.kind === "struct" || t.kind === "union" || t.kind === "int") expect(old.sizeof(t.id)).toBe(btf.sizeof(t.id));
    }
  });

  test("only global functions downgraded when just BTF_FUNC_GLOBAL is missing", () => {
    const btf = kinds();
    const s = sanitizeBtf(btf, { ...ALL_BTF_FEATURES, funcGlobal: false });
    expect(s.type(11)).toMatchObject({ kind: "func", linkage: 0 });
    expect(s.types.filter((t) => t.kind !== "func")).toEqual(btf.types.filter((t) => t.kind !== "func"));
  });
});
