import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Btf } from "../../src/btf/btf.js";
import {
  BPF_CORE_ENUMVAL_EXISTS, BPF_CORE_ENUMVAL_VALUE, BPF_CORE_FIELD_BYTE_OFFSET, BPF_CORE_FIELD_BYTE_SIZE,
  BPF_CORE_FIELD_EXISTS, BPF_CORE_FIELD_LSHIFT_U64, BPF_CORE_FIELD_RSHIFT_U64, BPF_CORE_FIELD_SIGNED,
  BPF_CORE_TYPE_EXISTS, BPF_CORE_TYPE_ID_LOCAL, BPF_CORE_TYPE_ID_TARGET, BPF_CORE_TYPE_MATCHES, BPF_CORE_TYPE_SIZE,
  CoreResolver, coreReloKindName, coreTypesMatch, essentialNameLength, findCoreCandidates,
} from "../../src/btf/core.js";
import { BtfBuilder } from "../../src/btf/encode.js";
import { BTF_INT_SIGNED } from "../../src/btf/kinds.js";
import { loadBtf } from "../../src/btf/load.js";
import { BtfError } from "../../src/errors.js";

const local = (): Btf => loadBtf(new Uint8Array(readFileSync(new URL("../fixtures/object/core.bpf.o", import.meta.url)))).btf;

/**
 * A target "kernel" whose task_struct is laid out differently from
 * vmlinux-lite.h: fields moved, comm longer, the bitfields elsewhere, no
 * tsbpf_* types, and BPF_MAP_TYPE_RINGBUF with another value.
 */
function target(): { btf: Btf; ids: Record<string, number> } {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, BTF_INT_SIGNED);
  const uint = b.addInt("unsigned int", 4);
  const char = b.addInt("char", 1, BTF_INT_SIGNED);
  const idx = b.addInt("__ARRAY_SIZE_TYPE__", 4);
  const pidt = b.addTypedef("pid_t", int);
  const lhFwd = b.addFwd("list_head");
  const lhPtr = b.addPtr(lhFwd);
  const listHead = b.addStruct("list_head", 16, [
    { name: "next", type: lhPtr, bitOffset: 0, bitfieldSize: 0 },
    { name: "prev", type: lhPtr, bitOffset: 64, bitfieldSize: 0 },
  ]);
  const comm = b.addArray(char, idx, 32);
  const tsFwd = b.addFwd("task_struct");
  const tsPtr = b.addPtr(tsFwd);
  const anon = b.addStruct("", 8, [
    { name: "pid", type: pidt, bitOffset: 0, bitfieldSize: 0 },
    { name: "tgid", type: pidt, bitOffset: 32, bitfieldSize: 0 },
  ]);
  const ts = b.addStruct("task_struct", 512, [
    { name: "__state", type: uint, bitOffset: 0, bitfieldSize: 0 },
    { name: "prio", type: uint, bitOffset: 32, bitfieldSize: 0 },
    { name: "sched_reset_on_fork", type: uint, bitOffset: 64, bitfieldSize: 1 },
    { name: "sched_contributes_to_load", type: uint, bitOffset: 65, bitfieldSize: 1 },
    { name: "sched_migrated", type: uint, bitOffset: 94, bitfieldSize: 4 },
    // pid and tgid inside an anonymous struct: CO-RE looks through it.
    { name: "", type: anon, bitOffset: 128, bitfieldSize: 0 },
    { name: "real_parent", type: tsPtr, bitOffset: 256, bitfieldSize: 0 },
    { name: "children", type: listHead, bitOffset: 384, bitfieldSize: 0 },
    { name: "comm", type: comm, bitOffset: 1024, bitfieldSize: 0 },
  ]);
  const mt = b.addEnum("bpf_map_type", 4, [
    { name: "BPF_MAP_TYPE_UNSPEC", value: 0 }, { name: "BPF_MAP_TYPE_HASH", value: 1 },
    { name: "BPF_MAP_TYPE_RINGBUF", value: 30 },
  ]);
  return { btf: b.build(), ids: { task_struct: ts, list_head: listHead, bpf_map_type: mt } };
}

const id = (btf: Btf, kind: "struct" | "enum", name: string): number => btf.find(kind, name)?.id ?? -1;

describe("CO-RE resolution against a synthesized target", () => {
  const cases = [
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:7", origVal: 20n, newVal: 16n, what: "pid (through an anonymous struct)" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:8", origVal: 24n, newVal: 20n, what: "tgid" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:9", origVal: 32n, newVal: 32n, what: "real_parent" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:11:1", origVal: 56n, newVal: 56n, what: "children.prev" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:12", origVal: 64n, newVal: 128n, what: "comm" },
    { kind: BPF_CORE_FIELD_BYTE_SIZE, type: "task_struct", access: "0:12", origVal: 16n, newVal: 32n, what: "sizeof comm" },
    { kind: BPF_CORE_FIELD_EXISTS, type: "task_struct", access: "0:2", origVal: 1n, newVal: 1n, what: "prio exists" },
    { kind: BPF_CORE_FIELD_SIGNED, type: "task_struct", access: "0:2", origVal: 1n, newVal: 0n, what: "prio became unsigned" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct", access: "0:6", origVal: 16n, newVal: 8n, what: "bitfield load offset" },
    { kind: BPF_CORE_FIELD_BYTE_SIZE, type: "task_struct", access: "0:6", origVal: 4n, newVal: 8n, what: "bitfield straddling 32 bits needs a u64 load" },
    { kind: BPF_CORE_FIELD_LSHIFT_U64, type: "task_struct", access: "0:6", origVal: 61n, newVal: 30n, what: "bitfield lshift" },
    { kind: BPF_CORE_FIELD_RSHIFT_U64, type: "task_struct", access: "0:6", origVal: 63n, newVal: 60n, what: "bitfield rshift" },
    { kind: BPF_CORE_TYPE_EXISTS, type: "task_struct", access: "0", origVal: 1n, newVal: 1n, what: "type exists" },
    { kind: BPF_CORE_TYPE_SIZE, type: "task_struct", access: "0", origVal: 80n, newVal: 512n, what: "type size" },
    { kind: BPF_CORE_TYPE_ID_TARGET, type: "task_struct", access: "0", origVal: 7n, newVal: -1n, what: "target type id" },
    { kind: BPF_CORE_TYPE_ID_LOCAL, type: "task_struct", access: "0", origVal: 7n, newVal: 7n, what: "local type id" },
    { kind: BPF_CORE_TYPE_MATCHES, type: "list_head", access: "0", origVal: 1n, newVal: 1n, what: "list_head matches" },
    { kind: BPF_CORE_TYPE_EXISTS, type: "tsbpf_not_in_kernel", access: "0", origVal: 1n, newVal: 0n, what: "missing type" },
    { kind: BPF_CORE_ENUMVAL_EXISTS, enumType: "bpf_map_type", access: "4", origVal: 1n, newVal: 1n, what: "enum value exists" },
    { kind: BPF_CORE_ENUMVAL_VALUE, enumType: "bpf_map_type", access: "4", origVal: 27n, newVal: 30n, what: "enum value moved" },
    { kind: BPF_CORE_ENUMVAL_EXISTS, enumType: "tsbpf_states", access: "1", origVal: 1n, newVal: 0n, what: "missing enum" },
    { kind: BPF_CORE_FIELD_EXISTS, type: "task_struct___v1", access: "0:1", origVal: 1n, newVal: 0n, what: "flavor field missing" },
    { kind: BPF_CORE_FIELD_BYTE_OFFSET, type: "task_struct___v1", access: "0:0", origVal: 0n, newVal: 16n, what: "flavor field found" },
  ];
  test.each(cases)("<$kind> $what", (c) => {
    const l = local();
    const { btf: t, ids } = target();
    const typeId = "enumType" in c ? id(l, "enum", c.enumType ?? "") : id(l, "struct", c.type ?? "");
    const r = new CoreResolver(l, [t]).resolve({ typeId, accessString: c.access, kind: c.kind });
    expect(r.poison).toBe(false);
    expect(r.origVal).toBe(c.origVal);
    expect(r.newVal).toBe(c.newVal === -1n ? BigInt(ids.task_struct) : c.newVal);
  });

  test.each([
    { what: "a field the target lacks", type: "task_struct___v1", access: "0:1", kind: BPF_CORE_FIELD_BYTE_OFFSET },
    { what: "a type the target lacks", type: "tsbpf_not_in_kernel", access: "0:1", kind: BPF_CORE_FIELD_BYTE_OFFSET },
  ])("reading $what poisons the instruction", ({ type, access, kind }) => {
    const l = local();
    const r = new CoreResolver(l, [target().btf]).resolve({ typeId: id(l, "struct", type), accessString: access, kind });
    expect(r.poison).toBe(true);
  });

  test("enum values the target lacks are poisoned, their existence is 0", () => {
    const l = local();
    const e = id(l, "enum", "tsbpf_states");
    const res = new CoreResolver(l, [target().btf]);
    expect(res.resolve({ typeId: e, accessString: "1", kind: BPF_CORE_ENUMVAL_VALUE }).poison).toBe(true);
    expect(res.resolve({ typeId: e, accessString: "1", kind: BPF_CORE_ENUMVAL_EXISTS })).toMatchObject({ poison: false, newVal: 0n });
  });

  test("field offset ambiguity between candidates is a BtfError", () => {
    const l = local();
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, BTF_INT_SIGNED);
    b.addStruct("task_struct", 8, [{ name: "pid", type: int, bitOffset: 0, bitfieldSize: 0 }]);
    b.addStruct("task_struct___2", 8, [{ name: "pid", type: int, bitOffset: 32, bitfieldSize: 0 }]);
    const res = new CoreResolver(l, [b.build()]);
    expect(() => res.resolve({ typeId: id(l, "struct", "task_struct___v1"), accessString: "0:0", kind: BPF_CORE_FIELD_BYTE_OFFSET }))
      .toThrow(/field offset ambiguity/);
  });

  test.each([
    { access: "", error: /empty access string/ },
    { access: ":1", error: /empty access string/ },
    { access: "0:x", error: /bad access index/ },
    { access: "0:99", error: /out of range/ },
    { access: "0:7:1", error: /neither struct, union nor array/ },
  ])("malformed access string '$access' is a BtfError", ({ access, error }) => {
    const l = local();
    const res = new CoreResolver(l, [target().btf]);
    expect(() => res.resolve({ typeId: id(l, "struct", "task_struct"), accessString: access, kind: BPF_CORE_FIELD_BYTE_OFFSET })).toThrow(error);
  });

  test("relocations against anonymous local types are refused", () => {
    const l = local();
    const anonId = l.types.find((t) => t.kind === "struct" && t.name === "")?.id;
    const b = new BtfBuilder();
    const int = b.addInt("int", 4);
    b.addStruct("s", 4, [{ name: "x", type: int, bitOffset: 0, bitfieldSize: 0 }]);
    const l2 = b.build();
    expect(() => new CoreResolver(l2, [l2]).resolve({ typeId: int, accessString: "0", kind: BPF_CORE_TYPE_EXISTS })).not.toThrow();
    if (anonId !== undefined) expect(() => new CoreResolver(l, [l]).resolve({ typeId: anonId, accessString: "0", kind: BPF_CORE_TYPE_EXISTS })).toThrow(BtfError);
  });
});

describe("CO-RE helpers", () => {
  test.each([
    ["task_struct", 11], ["task_struct___v1", 11], ["task_struct___v1___2", 16], ["a___b", 1], ["___x", 4], ["x___", 4],
    ["a____b", 6], ["abc", 3],
  ])("essential name length of %s is %i", (name, len) => {
    expect(essentialNameLength(name)).toBe(len);
  });

  test("candidates: same essential name and compatible kind, base first", () => {
    const l = local();
    const { btf } = target();
    const cands = findCoreCandidates(l, id(l, "struct", "task_struct___v1"), [btf]);
    expect(cands.map((c) => btf.type(c.id).name)).toEqual(["task_struct"]);
  });

  test("types match follows pointers loosely, values strictly", () => {
    const l = local();
    const { btf, ids } = target();
    expect(coreTypesMatch(l, id(l, "struct", "list_head"), btf, ids.list_head, false, 32)).toBe(true);
    expect(coreTypesMatch(l, id(l, "struct", "task_struct"), btf, ids.task_struct, false, 32)).toBe(false);
  });

  test("kind names", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(coreReloKindName)).toEqual([
      "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64", "local_type_id", "target_type_id",
      "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches", "unknown",
    ]);
  });
});
