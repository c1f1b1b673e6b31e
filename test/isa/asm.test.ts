import { describe, expect, test } from "vitest";
import { AsmError } from "../../src/errors.js";
import { assemble, assembleBytecode, detectDialect } from "../../src/isa/asm.js";

const hex = (text: string, dialect?: "ubpf" | "pseudoc"): string =>
  Array.from(assembleBytecode(text, { dialect }).toBytes(), (b) => b.toString(16).padStart(2, "0")).join(" ");

// Expected bytes come from `llvm-mc-19 -triple bpfel -mcpu=v4 -show-encoding` where
// LLVM 19 accepts the text; the rest follow src/isa/asm-pseudoc.ts's documented choices.
const PSEUDO_C: ReadonlyArray<readonly [string, string]> = [
  ["r0 = *(u32 *)(r10 - 4)", "61 a0 fc ff 00 00 00 00"],
  ["w0 = *(u32 *)(r10 - 0x4)", "61 a0 fc ff 00 00 00 00"],
  ["*(u64 *)(r10 - 8) = r1", "7b 1a f8 ff 00 00 00 00"],
  ["*(u32 *)(r1 + 0) = 5", "62 01 00 00 05 00 00 00"],
  ["*(u16 *)(r10 -2) = w3", "6b 3a fe ff 00 00 00 00"],
  ["if r1 s> 5 goto +2", "65 01 02 00 05 00 00 00"],
  ["if w1 == w2 goto -3", "1e 21 fd ff 00 00 00 00"],
  ["if r1 == 0xffffffff goto pc+1", "15 01 01 00 ff ff ff ff"],
  ["r1 = 0x1234 ll", "18 01 00 00 34 12 00 00 00 00 00 00 00 00 00 00"],
  ["r1 = -1 ll", "18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff"],
  ["r1 = -0x789abcdeedcba988 ll", "18 01 00 00 78 56 34 12 00 00 00 00 21 43 65 87"],
  ["w0 += w1", "0c 10 00 00 00 00 00 00"],
  ["r0 = -r0", "87 00 00 00 00 00 00 00"],
  ["w3 = -w3", "84 03 00 00 00 00 00 00"],
  ["r0 = -5", "b7 00 00 00 fb ff ff ff"],
  ["w1 = 0xffffffff", "b4 01 00 00 ff ff ff ff"],
  ["r1 = (s8)r2", "bf 21 08 00 00 00 00 00"],
  ["w1 = (s16)w2", "bc 21 10 00 00 00 00 00"],
  ["r0 = *(s16 *)(r1 + 2)", "89 10 02 00 00 00 00 00"],
  ["r1 s/= 3", "37 01 01 00 03 00 00 00"],
  ["w1 s%= w2", "9c 21 01 00 00 00 00 00"],
  ["r1 = be16 r1", "dc 01 00 00 10 00 00 00"],
  ["r1 = le32 r1", "d4 01 00 00 20 00 00 00"],
  ["r1 = bswap64 r1", "d7 01 00 00 40 00 00 00"],
  ["lock *(u64 *)(r1 + 8) += r2", "db 21 08 00 00 00 00 00"],
  ["lock *(u32 *)(r1 +8) ^= r2", "c3 21 08 00 a0 00 00 00"],
  ["r0 = atomic_fetch_add((u64 *)(r1 + 8), r0)", "db 01 08 00 01 00 00 00"],
  ["w0 = atomic_fetch_or((u32 *)(r1 + 8), w0)", "c3 01 08 00 41 00 00 00"],
  ["r2 = atomic64_fetch_and((u64 *)(r1 +8), r2)", "db 21 08 00 51 00 00 00"],
  ["r0 = xchg_64(r1 + 8, r0)", "db 01 08 00 e1 00 00 00"],
  ["r2 = atomic_xchg((u32 *)(r1 +8), r2)", "c3 21 08 00 e1 00 00 00"],
  ["r0 = cmpxchg_64(r1 + 8, r0, r2)", "db 21 08 00 f1 00 00 00"],
  ["w0 = cmpxchg32_32(r1 + 8, w0, w2)", "c3 21 08 00 f1 00 00 00"],
  ["r0 = atomic64_cmpxchg((u64 *)(r1 +8), r0, r2)", "db 21 08 00 f1 00 00 00"],
  ["r0 = load_acquire((u64 *)(r1 + 8))", "db 10 08 00 00 01 00 00"],
  ["w0 = load_acquire((u8 *)(r1 + 0))", "d3 10 00 00 00 01 00 00"],
  ["store_release((u32 *)(r1 + 4), w2)", "c3 21 04 00 10 01 00 00"],
  ["store_release((u64 *)(r1 +8), r2)", "db 21 08 00 10 01 00 00"],
  ["goto +5", "05 00 05 00 00 00 00 00"],
  ["goto pc-1", "05 00 ff ff 00 00 00 00"],
  ["gotol +70000", "06 00 00 00 70 11 01 00"],
  ["may_goto +3", "e5 00 03 00 00 00 00 00"],
  ["call 1", "85 00 00 00 01 00 00 00"],
  ["call 0x7", "85 00 00 00 07 00 00 00"],
  ["call bpf_map_lookup_elem", "85 00 00 00 01 00 00 00"],
  ["call map_update_elem", "85 00 00 00 02 00 00 00"],
  ["call bpf_map_lookup_elem#1", "85 00 00 00 01 00 00 00"],
  ["call __htab_map_lookup_elem#330864", "85 00 00 00 70 0c 05 00"],
  ["call pc+3", "85 10 00 00 03 00 00 00"],
  ["call pc+5#bpf_prog_e0952f3ef8ab7df9_sub", "85 10 00 00 05 00 00 00"],
  ["call -1", "85 10 00 00 ff ff ff ff"],
  ["call +0x3", "85 10 00 00 03 00 00 00"],
  ["call kfunc 0x7b, 0x2", "85 20 02 00 7b 00 00 00"],
  ["call kernel-function#123", "85 20 00 00 7b 00 00 00"],
  ["callx r2", "8d 02 00 00 00 00 00 00"],
  ["exit", "95 00 00 00 00 00 00 00"],
  ["r0 = *(u8 *)skb[12]", "30 00 00 00 0c 00 00 00"],
  ["r0 = *(u16 *)skb[r1 + 12]", "48 10 00 00 0c 00 00 00"],
  ["r0 = *(u16 *)skb[r1]", "48 10 00 00 00 00 00 00"],
  ["r0 = *(u32 *)skb[r3 + -2]", "40 30 00 00 fe ff ff ff"],
  ["r1 = addr_space_cast(r2, 0, 1)", "bf 21 01 00 01 00 00 00"],
  ["r1 = addr_space_cast(r2, 0x1, 0x0)", "bf 21 01 00 00 00 01 00"],
  ["   0: (b7) r0 = 42", "b7 00 00 00 2a 00 00 00"],
  ["   3: (18) r1 = map[id:5]", "18 11 00 00 05 00 00 00 00 00 00 00 00 00 00 00"],
  ["r1 = map[id:5][0]+16", "18 21 00 00 05 00 00 00 00 00 00 00 10 00 00 00"],
  ["r2 = subprog[-3]", "18 42 00 00 fd ff ff ff 00 00 00 00 00 00 00 00"],
  ["ld_pseudo\tr1, 0x2, 0x1000000005", "18 21 00 00 05 00 00 00 00 00 00 00 10 00 00 00"],
  ["   7: (18) r1 = 0x5", "18 01 00 00 05 00 00 00 00 00 00 00 00 00 00 00"],
  ["0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()", "bf 16 00 00 00 00 00 00"],
  ["      10:\t15 00 02 00 00 00 00 00\tif r0 == 0x0 goto +0x2 <prog+0x58>", "15 00 02 00 00 00 00 00"],
];

describe("pseudo-C assembler", () => {
  test.each(PSEUDO_C)("%s", (text, bytes) => {
    expect(hex(text, "pseudoc")).toBe(bytes);
  });

  test("r = IMM outside a signed 32-bit immediate becomes an LD_IMM64 of exactly IMM", () => {
    expect(hex("r2 = 0xffffffff")).toBe("18 02 00 00 ff ff ff ff 00 00 00 00 00 00 00 00");
    expect(hex("r3 = 0x100000000")).toBe("18 03 00 00 00 00 00 00 00 00 00 00 01 00 00 00");
    expect(hex("r3 = -0x80000000")).toBe("b7 03 00 00 00 00 00 80");
  });

  test("labels resolve forwards and backwards, for goto, gotol, jumps, calls and may_goto", () => {
    const insns = assemble(`
      LBB0_1:
        r1 += -1
        if r1 != 0 goto LBB0_1
        may_goto LBB0_3
        gotol LBB0_3
        call sub
      LBB0_3: exit
      sub:
        r0 = 1 ll
        goto LBB0_1
    `);
    expect(insns).toEqual([
      { kind: "alu", op: "add", wide: true, dst: 1, src: { kind: "imm", imm: -1 } },
      { kind: "jcc", op: "jne", wide: true, dst: 1, src: { kind: "imm", imm: 0 }, off: -2 },
      { kind: "may_goto", off: 2 },
      { kind: "gotol", imm: 1 },
      { kind: "call", target: "local", imm: 1, off: 0 },
      { kind: "exit" },
      { kind: "ld_imm64", dst: 0, pseudo: 0, lo: 1, hi: 0 },
      { kind: "ja", off: -9 },
    ]);
  });

  test("a label named like a helper is called as a local function", () => {
    expect(assemble("call bpf_get_prandom_u32\nexit\nbpf_get_prandom_u32:\nexit")[0]).toEqual({ kind: "call", target: "local", imm: 1, off: 0 });
  });

  test("llvm-objdump headers define labels; file, section and relocation lines are skipped", () => {
    const text = [
      "x.o:\tfile format elf64-bpf",
      "",
      "Disassembly of section xdp:",
      "",
      "0000000000000000 <prog>:",
      "       0:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x0 ll",
      "\t\t0000000000000000:  R_BPF_64_64\tarr",
      "       2:\t85 10 00 00 ff ff ff ff\tcall -0x1",
      "       3:\t05 00 fc ff 00 00 00 00\tgoto -0x4 <prog>",
    ].join("\n");
    expect(hex(text)).toBe("18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 85 10 00 00 ff ff ff ff 05 00 fc ff 00 00 00 00");
  });

  test("bpftool's BTF lines (function signatures, ; source) are skipped", () => {
    const text = "int prog(struct xdp_md * ctx):\n; return XDP_PASS;\n   0: (b4) w0 = 2\n; }\n   1: (95) exit\n";
    expect(hex(text)).toBe("b4 00 00 00 02 00 00 00 95 00 00 00 00 00 00 00");
  });

  test("comments: ';', '//' and '#' at the start of a word; directives are ignored", () => {
    expect(hex("\t.text\n\t.globl f # comment\nf: # %bb.0:\n  r0 = 0 // zero\n  exit ; done")).toBe("b7 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
  });
});

const ERRORS: ReadonlyArray<readonly [string, number, number, RegExp]> = [
  ["r0 = 1\nr11 = 2", 2, 1, /expected a register r0\.\.r10/],
  ["exit\n  w1 += r2", 2, 9, /does not match the 32-bit operation/],
  ["r1 = *(u32 *)(r2 + 0x8000)", 1, 20, /offset 32768 does not fit in 16 bits/],
  ["goto LBB9", 1, 6, /undefined label 'LBB9'/],
  ["a:\nexit\na:\nexit", 3, 1, /duplicate label 'a'/],
  ["call nosuchthing", 1, 6, /neither a label nor a known helper/],
  ["if r1 ~ r2 goto +1", 1, 7, /unexpected character '~'/],
  ["if r1 = r2 goto +1", 1, 7, /expected a comparison/],
  ["r1 += 0x80000000", 1, 7, /does not fit in a signed 32-bit immediate/],
  ["r1 = r2 r3", 1, 9, /unexpected 'r3' after the instruction/],
  ["r0 = atomic_fetch_add((u64 *)(r1 + 8), r2)", 1, 40, /fetched value goes to the source register/],
  ["r1 = cmpxchg_64(r1 + 8, r0, r2)", 1, 1, /cmpxchg writes r0/],
  ["r0 = cmpxchg_64(r1 + 8, r3, r2)", 1, 25, /cmpxchg compares with r0/],
  ["r1 = be16 r2", 1, 11, /same register on both sides/],
  ["r1 = *(u8 *)skb[12]", 1, 1, /packet loads write r0/],
  ["   4: (bf) r1 = 5", 1, 7, /opcode \(bf\) does not match the instruction, which encodes as \(b7\)/],
  ["  ...", 1, 3, /elided zero bytes/],
  [".quad 0x95", 1, 1, /data directive '.quad' is not supported/],
  ["r1 = map[id:5][1]+0", 1, 16, /\[0\]\+offset/],
  ["frobnicate r1", 1, 1, /unknown instruction 'frobnicate'/],
];

describe("assembler errors name line and column", () => {
  test.each(ERRORS)("%j -> %i:%i", (text, line, column, message) => {
    let error: unknown;
    try {
      assemble(text, { dialect: "pseudoc", source: "t.s" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AsmError);
    const e = error as AsmError;
    expect(e.message).toMatch(message);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message.startsWith(`t.s:${line}:${column}: `)).toBe(true);
  });

  test("uBPF dialect errors carry line and column too", () => {
    expect(() => assemble("mov %r0, 1\nfoo %r1", { dialect: "ubpf" })).toThrow(expect.objectContaining({ line: 2, column: 1 }));
  });
});

describe("dialect detection", () => {
  test.each([
    ["mov %r0, 1\nexit", "ubpf"],
    ["exit\nmov32 r0, 1", "ubpf"],
    ["# comment\nlddw r1, 5", "ubpf"],
    ["r0 = 1\nexit", "pseudoc"],
    ["exit", "pseudoc"],
    ["LBB0_1:\n  if r1 > 2 goto LBB0_1", "pseudoc"],
    ["   0: (95) exit", "pseudoc"],
    ["ja +1\nexit", "ubpf"],
  ] as const)("%j is %s", (text, dialect) => {
    expect(detectDialect(text)).toBe(dialect);
  });

  test("auto assembles either dialect to the same bytes", () => {
    expect(hex("mov32 %r0, 2\nadd %r0, %r1\nexit")).toBe(hex("w0 = 2\nr0 += r1\nexit"));
  });
});
