import { describe, expect, test } from "vitest";
import { InvalidInstructionError } from "../../src/errors.js";
import { assembleBytecode } from "../../src/isa/asm.js";
import { Bytecode } from "../../src/isa/bytecode.js";
import { disassemble } from "../../src/isa/disasm.js";
import { BPF_FUNC_MAX_ID, HELPER_NAMES, helperId, helperName } from "../../src/isa/helper-names.js";

const fromHex = (hex: string): Uint8Array => Uint8Array.from(hex.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

// Encodings from `llvm-mc-19 -show-encoding` with -triple bpfel and -triple bpfeb.
const BYTE_ORDER: ReadonlyArray<readonly [string, string, string]> = [
  ["r1 = r2", "bf 21 00 00 00 00 00 00", "bf 12 00 00 00 00 00 00"],
  ["*(u32 *)(r10 - 8) = 16909060", "62 0a f8 ff 04 03 02 01", "62 a0 ff f8 01 02 03 04"],
  ["r3 = 1234605616436508552 ll", "18 03 00 00 88 77 66 55 00 00 00 00 44 33 22 11", "18 30 00 00 55 66 77 88 00 00 00 00 11 22 33 44"],
  ["if r1 > r2 goto +258", "2d 21 02 01 00 00 00 00", "2d 12 01 02 00 00 00 00"],
];

describe("byte order", () => {
  test.each(BYTE_ORDER)("%s encodes as llvm-mc does for bpfel and bpfeb", (text, le, be) => {
    const code = assembleBytecode(text);
    expect(toHex(code.toBytes("le"))).toBe(le);
    expect(toHex(code.toBytes("be"))).toBe(be);
    expect(Bytecode.fromBytes(fromHex(be), "be").decodeAll()).toEqual(code.decodeAll());
    expect(Bytecode.fromBytes(fromHex(le), "le").decodeAll()).toEqual(code.decodeAll());
  });
});

describe("invalid bytecode", () => {
  test.each([
    ["an unknown ALU operation", "e7 01 00 00 00 00 00 00", 0, 0xe7],
    ["BPF_LD | BPF_IMM without BPF_DW", "b7 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 1, 0x00],
    ["an LD_IMM64 missing its second slot", "b7 00 00 00 00 00 00 00 18 01 00 00 00 00 00 00", 1, 0x18],
    ["a byte swap of 8 bits", "dc 01 00 00 08 00 00 00", 0, 0xdc],
    ["an unknown atomic operation", "b7 00 00 00 00 00 00 00 db 21 00 00 02 00 00 00", 1, 0xdb],
    ["an 8-byte sign-extending load", "99 10 00 00 00 00 00 00", 0, 0x99],
    ["a call in the JMP32 class", "86 00 00 00 01 00 00 00", 0, 0x86],
  ] as const)("%s is an InvalidInstructionError naming the index and opcode", (_what, hex, index, opcode) => {
    const code = Bytecode.fromBytes(fromHex(hex));
    let error: unknown;
    try {
      disassemble(code);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInstructionError);
    expect(error).toMatchObject({ index, opcode });
    expect((error as Error).message).toMatch(new RegExp(`^invalid instruction ${index}: opcode 0x${opcode.toString(16).padStart(2, "0")}: `));
  });

  test("bytecode whose length is not a multiple of 8 names the partial slot", () => {
    expect(() => Bytecode.fromBytes(new Uint8Array(12))).toThrow(InvalidInstructionError);
    expect(() => Bytecode.fromBytes(new Uint8Array(12))).toThrow(/^invalid instruction 1: /);
  });
});

describe("helper names", () => {
  test("cover every bpf_func_id of Linux 6.18, in order", () => {
    expect(BPF_FUNC_MAX_ID).toBe(212);
    expect(HELPER_NAMES).toHaveLength(212);
    expect([HELPER_NAMES[0], HELPER_NAMES[1], HELPER_NAMES[12], HELPER_NAMES[211]]).toEqual([
      "bpf_unspec", "bpf_map_lookup_elem", "bpf_tail_call", "bpf_cgrp_storage_delete",
    ]);
  });

  test("look up both ways, with or without the bpf_ prefix", () => {
    expect(helperName(130)).toBe("bpf_ringbuf_output");
    expect(helperName(212)).toBeUndefined();
    expect(helperName(-1)).toBeUndefined();
    expect(helperId("bpf_ringbuf_output")).toBe(130);
    expect(helperId("ringbuf_output")).toBe(130);
    expect(helperId("no_such_helper")).toBeUndefined();
  });
});
