// The JIT against the reference interpreter, family by family: every case runs
// on both engines (unchecked, checked, and for atomics on a shared memory too)
// and must agree on r0, faults, the buffer, the stack and the instruction count.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { ProgramFault } from "../../../src/errors.js";
import { assembleUbpf } from "../../../src/isa/asm-ubpf.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { Instruction, RawInsn } from "../../../src/isa/instruction.js";
import { BPF_PSEUDO_FUNC } from "../../../src/isa/opcodes.js";
import { HelperRegistry } from "../../../src/vm/helpers/abi.js";
import { Interpreter } from "../../../src/vm/interp/interpreter.js";
import { compileCached, JitEngine, JitLimitError } from "../../../src/vm/jit/engine.js";
import { createEngine } from "../../../src/vm/engines.js";
import { printWat } from "../../../src/vm/jit/wat.js";
import { AddressSpace } from "../../../src/vm/memory.js";
import type { EngineEnv } from "../../../src/vm/engine.js";
import { BENCH_PROGRAMS, xdpSetup } from "../../../bench/jit-progs.js";
import { BPF_FUNC_loop, FUZZ_HELPER, type DiffCase, type Outcome, compareOutcomes, runOn } from "./gen.js";

const asm = (text: string): Bytecode => Bytecode.fromInstructions(assembleUbpf(text));
const insns = (list: Instruction[]): Bytecode => Bytecode.fromInstructions(list);

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);

type Mode = "unchecked" | "checked" | "shared";

/** Runs on both engines; asserts they agree; returns the interpreter's outcome. */
function agree(code: Bytecode, mode: Mode, extra: Partial<DiffCase> = {}): Outcome {
  const c: DiffCase = { code, buffer: pattern(512), checked: mode === "checked", shared: mode === "shared", ...extra };
  const a = runOn("interp", c);
  const b = runOn("jit", c);
  expect(compareOutcomes(a, b), `interp ${a.fault ?? a.error ?? a.r0} / jit ${b.fault ?? b.error ?? b.r0}`).toEqual([]);
  return a;
}

const MODES: Mode[] = ["unchecked", "checked"];

const VALUES = [
  0n, 1n, 2n, 0x7fn, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x123456789abcdef0n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 31n, 32n, 33n, 63n, 64n, 0xffffffff80000000n,
];
const IMMS = [0, 1, -1, 2, 7, 31, 32, 33, 63, 64, 0x7fffffff, -0x80000000, -2, 0x10000];
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** A program computing `op` over all value pairs, storing each result to the buffer. */
function aluProgram(op: string, wide: boolean, form: "X" | "K"): Bytecode {
  const lines: string[] = [];
  let slot = 0;
  const sfx = wide ? "" : "32";
  if (form === "X") {
    for (const a of VALUES) {
      for (const b of VALUES.slice(0, 12)) {
        lines.push(`lddw %r3, ${hex(a)}`, `lddw %r4, ${hex(b)}`, `${op}${sfx} %r3, %r4`, `stxdw [%r1+${8 * slot++}], %r3`);
      }
    }
  } else {
    for (const a of VALUES) {
      for (const k of IMMS) lines.push(`lddw %r3, ${hex(a)}`, `${op}${sfx} %r3, ${k}`, `stxdw [%r1+${8 * slot++}], %r3`);
    }
  }
  lines.push("mov %r0, %r3", "exit");
  return asm(lines.join("\n"));
}

const BIG = 8 * 20 * 20;

describe("jit: ALU", () => {
  const ops = ["add", "sub", "mul", "div", "sdiv", "mod", "smod", "or", "and", "xor", "lsh", "rsh", "arsh", "mov"];
  for (const mode of MODES) {
    for (const wide of [true, false]) {
      test.each(ops.flatMap((op) => (["X", "K"] as const).map((f) => [op, f] as const)))(
        `${mode} ${wide ? "alu64" : "alu32"} %s (%s) matches the interpreter on edge values`,
        (op, form) => {
          agree(aluProgram(op, wide, form), mode, { buffer: pattern(BIG) });
        },
      );
    }
  }

  test("division by zero gives 0, modulo by zero keeps dst (32-bit zero-extends), INT_MIN / -1 wraps", () => {
    const out = agree(asm(`
      lddw %r3, 0x1234567890
      div %r3, 0
      stxdw [%r1], %r3
      lddw %r3, 0x1234567890
      mov %r4, 0
      mod %r3, %r4
      stxdw [%r1+8], %r3
      lddw %r3, 0xffffffff00000005
      mod32 %r3, %r4
      stxdw [%r1+16], %r3
      lddw %r3, 0x8000000000000000
      sdiv %r3, -1
      stxdw [%r1+24], %r3
      lddw %r3, 0x8000000000000000
      mov %r4, -1
      smod %r3, %r4
      stxdw [%r1+32], %r3
      mov32 %r3, -0x80000000
      sdiv32 %r3, -1
      mov %r0, %r3
      exit`), "unchecked");
    const dv = new DataView(out.buffer.buffer);
    expect(dv.getBigUint64(0, true)).toBe(0n);
    expect(dv.getBigUint64(8, true)).toBe(0x1234567890n);
    expect(dv.getBigUint64(16, true)).toBe(5n);
    expect(dv.getBigUint64(24, true)).toBe(0x8000000000000000n);
    expect(dv.getBigUint64(32, true)).toBe(0n);
    expect(out.r0).toBe(0x80000000n);
  });

  for (const mode of MODES) {
    test(`${mode}: neg, movsx, bswap, le and be on edge values`, () => {
      const lines: string[] = [];
      let slot = 0;
      const unary = ["neg %r3", "neg32 %r3", "movsx864 %r3, %r3", "movsx1664 %r3, %r3", "movsx3264 %r3, %r3",
        "movsx832 %r3, %r3", "movsx1632 %r3, %r3", "bswap16 %r3", "bswap32 %r3", "bswap64 %r3", "le16 %r3", "le32 %r3",
        "le64 %r3", "be16 %r3", "be32 %r3", "be64 %r3"];
      for (const u of unary) {
        for (const a of VALUES) lines.push(`lddw %r3, ${hex(a)}`, u, `stxdw [%r1+${8 * slot++}], %r3`);
      }
      lines.push("mov %r0, %r3", "exit");
      agree(asm(lines.join("\n")), mode, { buffer: pattern(8 * slot) });
    });
  }
});

describe("jit: jumps", () => {
  const jops = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jset", "jsgt", "jsge", "jslt", "jsle"];
  for (const mode of MODES) {
    test.each(jops)(`${mode}: %s in all widths and forms matches the interpreter`, (jop) => {
      const lines: string[] = [];
      let slot = 0;
      for (const sfx of ["", "32"]) {
        for (const a of VALUES) {
          for (const b of VALUES.slice(0, 10)) {
            lines.push(`lddw %r3, ${hex(a)}`, `lddw %r4, ${hex(b)}`, "mov %r5, 0", `${jop}${sfx} %r3, %r4, +1`, "mov %r5, 1",
              `stxb [%r1+${slot++}], %r5`);
          }
          for (const k of IMMS) {
            lines.push(`lddw %r3, ${hex(a)}`, "mov %r5, 0", `${jop}${sfx} %r3, ${k}, +1`, "mov %r5, 1", `stxb [%r1+${slot++}], %r5`);
          }
        }
      }
      lines.push("mov %r0, %r5", "exit");
      agree(asm(lines.join("\n")), mode, { buffer: pattern(slot) });
    });
  }

  for (const mode of MODES) {
    test(`${mode}: loops, nested loops and ja32 (gotol)`, () => {
      const out = agree(asm(`
        mov %r0, 0
        mov %r6, 10
      outer:
        mov %r7, 20
      inner:
        add %r0, %r7
        add %r7, -1
        jne %r7, 0, inner
        ja32 +0
        sub %r6, 1
        jsgt %r6, 0, outer
        exit`), mode);
      expect(out.r0).toBe(2100n);
    });
  }

  test("an irreducible loop (two entries) runs through the dispatcher", () => {
    expect(compileCached(asm("jeq %r1, 0, b\na:\nadd %r0, 3\nb:\nadd %r6, -1\njsgt %r6, 0, a\nexit"), false, false, 1)
      .functions[0].reducible).toBe(false);
    for (const mode of MODES) {
      const out = agree(asm(`
        mov %r0, 0
        mov %r6, 5
        jeq %r1, 0, b
      a:
        add %r0, 3
      b:
        add %r0, 1
        add %r6, -1
        jsgt %r6, 0, a
        exit`), mode);
      expect(out.r0).toBe(20n);
    }
  });

  test("many sequential diamonds compile without deep recursion", () => {
    const lines = ["mov %r0, 0"];
    for (let i = 0; i < 3000; i++) lines.push(`jset %r0, ${1 << (i % 16)}, +2`, `add %r0, ${i}`, "ja +1", `xor %r0, ${i}`);
    lines.push("exit");
    agree(asm(lines.join("\n")), "unchecked");
  });

  test("may_goto is never taken", () => {
    const out = agree(insns([
      { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "imm", imm: 1 } },
      { kind: "may_goto", off: 1 },
      { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "imm", imm: 2 } },
      { kind: "exit" },
    ]), "checked");
    expect(out.r0).toBe(2n);
  });
});

describe("jit: loads and stores", () => {
  for (const mode of ["unchecked", "checked", "shared"] as const) {
    test(`${mode}: every size, signed loads, negative offsets, stack and buffer`, () => {
      const lines = ["mov %r6, %r1", "add %r6, 64"];
      let slot = 0;
      for (const [ld, sz] of [["ldxb", 1], ["ldxh", 2], ["ldxw", 4], ["ldxdw", 8], ["ldxsb", 1], ["ldxsh", 2], ["ldxsw", 4]] as const) {
        for (const off of [-64, -13, -1, 0, 3, 17]) {
          lines.push(`${ld} %r3, [%r6${off < 0 ? off : `+${off}`}]`, `stxdw [%r1+${256 + 8 * slot++}], %r3`);
        }
        void sz;
      }
      for (const [st, v] of [["stb", -1], ["sth", 0x8001], ["stw", -2], ["stdw", -0x12345678]] as const) {
        lines.push(`${st} [%r10-40], ${v}`, "ldxdw %r3, [%r10-40]", `stxdw [%r1+${256 + 8 * slot++}], %r3`);
      }
      lddwStores: for (const [stx] of [["stxb"], ["stxh"], ["stxw"], ["stxdw"]]) {
        lines.push("lddw %r4, 0x8899aabbccddeeff", `${stx} [%r10-16], %r4`, "ldxdw %r3, [%r10-16]", `stxdw [%r1+${256 + 8 * slot++}], %r3`);
        continue lddwStores;
      }
      lines.push("ldxdw %r0, [%r1+256]", "exit");
      agree(asm(lines.join("\n")), mode);
    });
  }
});

describe("jit: atomics", () => {
  for (const mode of ["unchecked", "checked", "shared"] as const) {
    test(`${mode}: every operation, fetch or not, 32 and 64 bits`, () => {
      const lines: string[] = [];
      let slot = 0;
      const ops = ["add", "or", "and", "xor"];
      for (const sz of ["", "32"]) {
        for (const fetch of ["", "fetch "]) {
          for (const op of ops) {
            lines.push("lddw %r3, 0xf0f0f0f0aaaaaaaa", `stxdw [%r10-8], %r3`, "lddw %r4, 0x0123456789abcdef",
              `lock ${fetch}${op}${sz} [%r10-8], %r4`, "ldxdw %r3, [%r10-8]", `stxdw [%r1+${8 * slot++}], %r3`, `stxdw [%r1+${8 * slot++}], %r4`);
          }
        }
        lines.push("lddw %r3, 0xf0f0f0f0aaaaaaaa", "stxdw [%r1+400], %r3", "lddw %r4, 0x1111", `lock xchg${sz} [%r1+400], %r4`,
          "ldxdw %r3, [%r1+400]", `stxdw [%r1+${8 * slot++}], %r3`, `stxdw [%r1+${8 * slot++}], %r4`);
        // cmpxchg: equal, unequal, and (32-bit) equal low words with r0's upper bits set.
        for (const r0 of ["0xf0f0f0f0aaaaaaaa", "0x5", "0x12345678aaaaaaaa"]) {
          lines.push("lddw %r3, 0xf0f0f0f0aaaaaaaa", "stxdw [%r1+408], %r3", `lddw %r0, ${r0}`, "lddw %r4, 0x77",
            `lock cmpxchg${sz} [%r1+408], %r4`, "ldxdw %r3, [%r1+408]", `stxdw [%r1+${8 * slot++}], %r3`, `stxdw [%r1+${8 * slot++}], %r0`);
        }
      }
      lines.push("exit");
      agree(asm(lines.join("\n")), mode);
    });

    test(`${mode}: load-acquire and store-release of every size`, () => {
      const list: Instruction[] = [
        { kind: "ld_imm64", dst: 3, pseudo: 0, lo: 0x89abcdef | 0, hi: 0x01234567 },
        { kind: "stx", size: 8, dst: 10, src: 3, off: -8 },
      ];
      for (const size of [1, 2, 4, 8] as const) {
        list.push({ kind: "load_acquire", size, dst: 4, src: 10, off: -8 });
        list.push({ kind: "stx", size: 8, dst: 1, src: 4, off: 8 * size });
        list.push({ kind: "store_release", size, dst: 1, src: 3, off: 128 + 8 * size });
      }
      list.push({ kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "reg", reg: 4 } }, { kind: "exit" });
      agree(insns(list), mode);
    });
  }
});

describe("jit: ld_imm64", () => {
  test("plain and BPF_PSEUDO_FUNC (the absolute pc of the subprogram)", () => {
    for (const mode of MODES) {
      const out = agree(insns([
        { kind: "ld_imm64", dst: 3, pseudo: 0, lo: -1, hi: 0x7fffffff },
        { kind: "ld_imm64", dst: 0, pseudo: BPF_PSEUDO_FUNC, lo: 2, hi: 0 },
        { kind: "alu", op: "xor", wide: true, dst: 0, src: { kind: "reg", reg: 3 } },
        { kind: "exit" },
        { kind: "exit" },
        { kind: "exit" },
      ]), mode);
      expect(out.r0).toBe(0x7fffffffffffffffn ^ 5n);
    }
  });
});

describe("jit: bpf-to-bpf calls", () => {
  for (const mode of MODES) {
    test(`${mode}: r1..r5 in, r0 out, r6..r9 preserved, own 512-byte frames`, () => {
      const out = agree(asm(`
        mov %r6, 6
        mov %r7, 7
        stdw [%r10-8], 100
        mov %r1, 1
        mov %r2, 2
        call local f
        ldxdw %r3, [%r10-8]
        add %r0, %r3
        add %r0, %r6
        add %r0, %r7
        exit
      f:
        stdw [%r10-8], 1000
        mov %r6, 60
        ldxdw %r0, [%r10-8]
        add %r0, %r1
        add %r0, %r2
        call local g
        add %r0, %r6
        exit
      g:
        mov %r7, 70
        add %r0, 5
        exit`), mode);
      expect(out.r0).toBe(100n + 1000n + 1n + 2n + 5n + 60n + 6n + 7n);
    });

    test(`${mode}: a callee sees the caller's r0 and r6, the caller sees the callee's r1..r5 (one register file)`, () => {
      agree(asm(`
        mov %r0, 40
        mov %r6, 2
        call local f
        add %r0, %r1
        add %r0, %r5
        exit
      f:
        add %r0, %r6
        mov %r1, 100
        mov %r5, 1000
        exit`), mode);
    });

    test(`${mode}: recursion stops at 8 frames with the interpreter's fault`, () => {
      const out = agree(asm(`
        mov %r0, 0
      f:
        add %r0, 1
        call local f
        exit`), mode);
      expect(out.fault).toMatch(/call depth exceeds 8 frames/);
    });
  }
});

describe("jit: helpers, callbacks, tail calls", () => {
  for (const mode of MODES) {
    test(`${mode}: a helper gets r1..r5, r0 defaults to 0, r1..r5 survive`, () => {
      agree(asm(`
        mov %r1, 11
        lddw %r2, 0x1234567890
        mov %r3, -3
        call ${FUZZ_HELPER}
        add %r0, %r1
        add %r0, %r3
        exit`), mode);
    });

    test(`${mode}: callx calls the helper whose id is in the register; an unknown id faults`, () => {
      agree(asm(`
        mov %r6, ${FUZZ_HELPER}
        call %r6
        exit`), mode);
      const out = agree(asm(`
        mov %r6, 9999
        call %r6
        exit`), mode);
      expect(out.fault).toMatch(/unknown helper 9999/);
    });

    test(`${mode}: bpf_loop runs callbacks (nested, with r6 read by the callback)`, () => {
      const list: Instruction[] = [
        { kind: "alu", op: "mov", wide: true, dst: 6, src: { kind: "imm", imm: 1000 } },
        { kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "imm", imm: 5 } },
        { kind: "ld_imm64", dst: 2, pseudo: BPF_PSEUDO_FUNC, lo: 4, hi: 0 }, // -> cb1 at 8
        { kind: "alu", op: "mov", wide: true, dst: 3, src: { kind: "reg", reg: 10 } },
        { kind: "alu", op: "mov", wide: true, dst: 4, src: { kind: "imm", imm: 0 } },
        { kind: "call", target: "helper", imm: BPF_FUNC_loop, off: 0 },
        { kind: "ldx", size: 8, signed: false, dst: 3, src: 10, off: -8 },
        { kind: "exit" },
        // cb1 (pc 8): *(fp0 - 8) += i + r6; runs bpf_loop(2, cb2)
        { kind: "ldx", size: 8, signed: false, dst: 4, src: 2, off: -8 },
        { kind: "alu", op: "add", wide: true, dst: 4, src: { kind: "reg", reg: 1 } },
        { kind: "alu", op: "add", wide: true, dst: 4, src: { kind: "reg", reg: 6 } },
        { kind: "stx", size: 8, dst: 2, src: 4, off: -8 },
        { kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "imm", imm: 2 } },
        { kind: "ld_imm64", dst: 2, pseudo: BPF_PSEUDO_FUNC, lo: 4, hi: 0 }, // -> cb2 at 19
        { kind: "alu", op: "mov", wide: true, dst: 3, src: { kind: "imm", imm: 0 } },
        { kind: "alu", op: "mov", wide: true, dst: 4, src: { kind: "imm", imm: 0 } },
        { kind: "call", target: "helper", imm: BPF_FUNC_loop, off: 0 },
        { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "imm", imm: 0 } },
        { kind: "exit" },
        // cb2 (pc 19)
        { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "reg", reg: 6 } },
        { kind: "exit" },
      ];
      agree(insns(list), mode);
    });

    test(`${mode}: a callback that loops on itself stops at the call depth limit`, () => {
      const out = agree(insns([
        { kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "imm", imm: 1 } },
        { kind: "ld_imm64", dst: 2, pseudo: BPF_PSEUDO_FUNC, lo: -2, hi: 0 }, // -> pc 0: the program itself
        { kind: "alu", op: "mov", wide: true, dst: 3, src: { kind: "imm", imm: 0 } },
        { kind: "alu", op: "mov", wide: true, dst: 4, src: { kind: "imm", imm: 0 } },
        { kind: "call", target: "helper", imm: BPF_FUNC_loop, off: 0 },
        { kind: "exit" },
      ]), mode);
      expect(out.fault).toMatch(/callback exceeds the call depth limit/);
    });

    test(`${mode}: tail calls replace the program, stop after 33, and fall through on an empty slot`, () => {
      // Slot 0 and 1 hold the target (it tail-calls itself); slot 2 is empty (index % 3 === 2).
      const target = asm(`
        add %r6, 1
        mov %r0, %r6
        mov %r2, 1
        mov %r3, 1
        call 12
        exit`);
      const out = agree(asm(`
        mov %r6, 0
        mov %r0, 77
        mov %r2, 1
        mov %r3, 2
        call 12
        mov %r3, 0
        call 12
        exit`), mode, { targets: [target] });
      expect(out.r0).toBe(33n);
    });

    test(`${mode}: LD_ABS / LD_IND read big-endian; outside the packet the run returns 0`, () => {
      const ok = agree(asm(`
        mov %r6, %r1
        ldabsw 4
        mov %r7, %r0
        mov %r3, 7
        ldindh %r3, 3
        add %r0, %r7
        exit`), mode);
      expect(ok.r0).toBe(BigInt(new DataView(pattern(512).buffer).getUint32(4, false) + new DataView(pattern(512).buffer).getUint16(10, false)));
      const out = agree(asm(`
        mov %r6, %r1
        stdw [%r1], 7
        call local f
        mov %r0, 5
        exit
      f:
        ldabsb 100000
        exit`), mode);
      expect(out.r0).toBe(0n);
    });
  }
});

describe("jit: checked mode faults", () => {
  test.each([
    ["read outside every region", "mov %r3, 0x8000\nldxb %r0, [%r3+0]\nexit"],
    ["null pointer write", "mov %r3, 0\nstxw [%r3+16], %r3\nexit"],
    ["address with upper bits", "lddw %r3, 0x100000000\nldxdw %r0, [%r3+0]\nexit"],
    ["access straddling the buffer end", "ldxdw %r0, [%r1+508]\nexit"],
    ["below the stack and the buffer", "ldxdw %r0, [%r10-5000]\nexit"],
    ["stack above frame 0 (outside the region)", "ldxb %r0, [%r10+0]\nexit"],
    ["kfunc call", "call kfunc 5\nexit"],
    ["unknown helper", "call 4242\nexit"],
    ["fall off the end", "mov %r0, 1"],
    ["jump out of the program", "ja +5\nexit"],
  ])("%s: same fault, same pc", (_name, text) => {
    const out = agree(asm(text), "checked");
    expect(out.fault).toBeDefined();
  });

  test("a jump into the second slot of an LD_IMM64 executes that slot (invalid opcode 0x00)", () => {
    const out = agree(Bytecode.fromRaw([
      { opcode: 0x05, dst: 0, src: 0, off: 1, imm: 0 },
      { opcode: 0x18, dst: 0, src: 0, off: 0, imm: 5 },
      { opcode: 0x00, dst: 0, src: 0, off: 0, imm: 6 },
      { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ] satisfies RawInsn[]), "checked");
    expect(out.fault).toMatch(/invalid opcode 0x00/);
  });

  test("writes to r10 are honoured (unverified code) and restored on return", () => {
    agree(asm(`
      mov %r6, %r10
      call local f
      sub %r6, %r10
      mov %r0, %r6
      exit
    f:
      mov %r10, %r1
      add %r10, 64
      stxdw [%r10-8], %r10
      exit`), "checked");
  });

  test("the budget stops the run at the interpreter's instruction, stores before it kept", () => {
    for (let budget = 1; budget < 60; budget++) {
      const out = agree(asm(`
        mov %r3, 0
      loop:
        stxb [%r1+0], %r3
        add %r3, 1
        stxb [%r1+1], %r3
        mov %r4, %r3
        jne %r3, 1000, loop
        exit`), "checked", { budget });
      expect(out.fault).toMatch(/budget/);
    }
  });

  test("executed counts every instruction, as the interpreter does", () => {
    const code = BENCH_PROGRAMS[1].code;
    const a = xdpSetup(BENCH_PROGRAMS[1].packet, true);
    const b = xdpSetup(BENCH_PROGRAMS[1].packet, true);
    const i = new Interpreter(code, a.env);
    const j = new JitEngine(code, b.env);
    expect(j.run(b.ctx)).toBe(i.run(a.ctx));
    expect(j.executed).toBe(i.executed);
  });
});

describe("jit: unrolled loops", () => {
  // Small loops run 2 or 4 copies per wasm loop iteration (unchecked code only):
  // every trip count leaves the loop from a different copy.
  const shapes: Record<string, (n: number) => string> = {
    "check, then body ending in ja": (n) => `mov %r0, 0\nmov %r3, 0\nmov %r4, ${n}\nloop:\njge %r3, %r4, out\nldxb %r5, [%r1+0]\nadd %r0, %r5\nadd %r1, 1\nadd %r3, 1\nja loop\nout:\nexit`,
    "check, body with an exit, conditional back edge": (n) => `mov %r0, 0\nmov %r3, 0\nmov %r4, ${n}\nloop:\njge %r3, %r4, out\nldxb %r5, [%r1+0]\nadd %r0, %r5\njeq %r5, 0x6e, out\nadd %r1, 1\nadd %r3, 1\njlt %r3, 7, loop\nout:\nexit`,
    "32-bit counter, back edge taken on not-equal": (n) => `mov32 %r0, 0\nmov32 %r3, 0\nloop:\njge %r3, ${n}, out\nldxb %r5, [%r1+0]\nlsh32 %r5, %r3\nadd32 %r0, %r5\nadd %r1, 1\nadd32 %r3, 1\njne %r3, 6, loop\nout:\nexit`,
    "exits to two places (not unrolled)": (n) => `mov %r0, 0\nmov %r3, 0\nloop:\njge %r3, ${n}, out\nldxb %r5, [%r1+0]\nadd %r0, %r5\njeq %r5, 0x6e, other\nadd %r1, 1\nadd %r3, 1\nja loop\nother:\nmov %r0, 99\nout:\nexit`,
    "three blocks, the middle one entered from outside (not unrolled)": (n) => `mov %r0, 0\nmov %r3, 0\njeq %r1, 0, mid\nloop:\njge %r3, ${n}, out\nadd %r0, 1\nmid:\nadd %r0, %r3\nadd %r3, 1\nja loop\nout:\nexit`,
  };
  for (const [name, text] of Object.entries(shapes)) {
    test(name, () => {
      for (let n = 0; n <= 9; n++) agree(asm(text(n)), "unchecked");
    });
  }

  test("which of them are unrolled", () => {
    const { env } = xdpSetup(BENCH_PROGRAMS[1].packet);
    const copies = (name: string): number =>
      printWat(new JitEngine(asm(shapes[name](3)), env).compiled.bytes).match(/i64.load8_u/g)?.length ?? 0;
    expect(copies("check, then body ending in ja")).toBe(4);
    expect(copies("check, body with an exit, conditional back edge")).toBe(4);
    expect(copies("32-bit counter, back edge taken on not-equal")).toBe(4);
    expect(copies("exits to two places (not unrolled)")).toBe(1);
  });
});

describe("jit: unrolled loops, more shapes", () => {
  // Chains the unrolling admits beyond the ones above: an inner loop leaving to the outer
  // loop's header (a back edge as the exit), a rotated loop whose back edge is a fall-through,
  // three exits to one merge node, an exit from the middle block to a block of its own, and
  // address shadows carried across copies. Each is checked to be unrolled (4 copies).
  const shapes: Record<string, (n: number) => string> = {
    "inner loop leaving to the outer loop's header": (n) => `mov %r0, 0\nmov %r6, 0\nouter:\nadd %r6, 1\njgt %r6, 3, out\nmov %r3, 0\ninner:\njge %r3, ${n}, outer\nldxb %r5, [%r1+0]\nadd %r0, %r5\nadd %r1, 1\nadd %r3, 1\nja inner\nout:\nexit`,
    "rotated loop, back edge by fall-through": (n) => `mov %r0, 0\nmov %r3, 0\nja check\nbody:\nldxb %r5, [%r1+0]\nadd %r0, %r5\nadd %r1, 1\nadd %r3, 1\ncheck:\njlt %r3, ${n}, body\nexit`,
    "four blocks, three exits to one merge node": (n) => `mov %r0, 0\nmov %r3, 0\nloop:\njge %r3, ${n}, out\nldxb %r5, [%r1+0]\njeq %r5, 0x6e, out\nadd %r0, %r5\nadd %r1, 1\njgt %r0, 900, out\nadd %r3, 1\nja loop\nout:\nadd %r0, %r3\nexit`,
    "exit from the middle block to a block of its own": (n) => `mov %r0, 0\nmov %r3, 0\nloop:\nadd %r0, 1\nja mid\nback:\nadd %r1, 1\nadd %r3, 1\nja loop\nmid:\njge %r3, ${n}, out\nldxb %r5, [%r1+0]\nadd %r0, %r5\nja back\nout:\nmul %r0, 3\nexit`,
    "pointer shadows across copies": (n) => `mov %r0, 0\nmov %r6, %r1\nmov %r3, 0\nloop:\njge %r3, ${n}, out\nldxb %r5, [%r6+3]\nstxb [%r6+100], %r5\nadd %r0, %r5\nadd %r6, 2\nadd %r3, 1\nja loop\nout:\nldxb %r4, [%r6+0]\nadd %r0, %r4\nexit`,
  };
  for (const [name, text] of Object.entries(shapes)) {
    test(name, () => {
      for (let n = 0; n <= 9; n++) agree(asm(text(n)), "unchecked");
      const { env } = xdpSetup(BENCH_PROGRAMS[1].packet);
      const loads = printWat(new JitEngine(asm(text(3)), env).compiled.bytes).match(/i64.load8_u/g)?.length ?? 0;
      expect(loads).toBeGreaterThanOrEqual(4);
    });
  }
});

describe("jit: engine contract", () => {
  test("a trap in unchecked code is a ProgramFault naming the instruction", () => {
    const space = new AddressSpace({ maxBytes: 4 * 65536 });
    const env: EngineEnv = { space, helpers: new HelperRegistry(), checked: false, budget: 1, cpu: 0 };
    const e = new JitEngine(asm("mov %r0, 0\nlddw %r3, 0x7ffffff0\nldxdw %r0, [%r3+0]\nexit"), env);
    expect(() => e.run(0)).toThrow(ProgramFault);
    try {
      e.run(0);
    } catch (err) {
      expect((err as ProgramFault).pc).toBe(3);
    }
  });

  test("the bench programs return their expected values", () => {
    for (const p of BENCH_PROGRAMS) {
      const { env, ctx } = xdpSetup(p.packet);
      const e = new JitEngine(p.code, env);
      expect(e.run(ctx), p.name).toBe(p.expected);
      expect(e.lastR0()).toBe(BigInt(p.expected));
      e.dispose();
    }
  });

  test("a program too big for V8 runs on the interpreter through createEngine", () => {
    const raws: RawInsn[] = [];
    raws.push({ opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 7 });
    // *(u64 *)(r10 - 8) = r0, a million times: about 8 MB of wasm in one function.
    for (let i = 0; i < 1_000_000; i++) raws.push({ opcode: 0x7b, dst: 10, src: 0, off: -8, imm: 0 });
    raws.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
    const code = Bytecode.fromRaw(raws);
    const env: EngineEnv = { space: new AddressSpace(), helpers: new HelperRegistry(), checked: false, budget: 1, cpu: 0 };
    expect(() => new JitEngine(code, env)).toThrow(JitLimitError);
    const e = createEngine("jit", code, env);
    expect(e).toBeInstanceOf(Interpreter);
    expect(e.run(0)).toBe(7);
  }, 120_000);

  test("modules are compiled once per bytecode and options", () => {
    const code = BENCH_PROGRAMS[0].code;
    expect(compileCached(code, false, false, 65536)).toBe(compileCached(code, false, false, 65536));
    expect(compileCached(code, true, false, 65536)).not.toBe(compileCached(code, false, false, 65536));
  });

  test("an inlined array-map lookup behaves as the helper it replaces", () => {
    const space = new AddressSpace();
    const values = space.alloc(16 * 4);
    space.mapRegion(values, 64, "map_value", true, "array");
    const mapAddr = 0x1000_0000;
    const lookup = (maxEntries: number) => ({
      id: 1, name: "map_lookup_elem", proto: { args: [], ret: { kind: "integer" } } as never,
      fn: (call: { u32(n: number): number; ret(v: number): void; space: AddressSpace }) => {
        const key = call.space.u32[call.u32(2) >> 2];
        call.ret(key < maxEntries ? values + key * 16 : 0);
      },
    });
    const code = asm(`
      stw [%r10-4], 3
      lddw %r1, ${mapAddr}
      mov %r2, %r10
      add %r2, -4
      call 1
      mov %r6, %r0
      stw [%r10-4], 9
      lddw %r1, ${mapAddr}
      mov %r2, %r10
      add %r2, -4
      call 1
      add %r0, %r6
      exit`);
    const env: EngineEnv = { space, helpers: new HelperRegistry([lookup(4) as never]), checked: false, budget: 1, cpu: 0 };
    const plain = new JitEngine(code, env).run(0);
    let asked = 0;
    const inlined = new JitEngine(code, env, {
      inlineHelper: (site) => {
        asked++;
        return site.helperId === 1 && site.r1?.lo === mapAddr ? { kind: "array_lookup", base: values, stride: 16, maxEntries: 4 } : undefined;
      },
    });
    expect(inlined.run(0)).toBe(plain);
    expect(plain).toBe(values + 3 * 16);
    expect(asked).toBe(2);
    expect(inlined.compiled.helperIds).toEqual([]);
  });
});

describe("jit: WAT printer", () => {
  const golden = fileURLToPath(new URL("./golden/csum.wat", import.meta.url));
  test("prints the module of xdp_csum as in the golden file", () => {
    const { env } = xdpSetup(BENCH_PROGRAMS[1].packet);
    const e = new JitEngine(BENCH_PROGRAMS[1].code, env);
    const text = printWat(e.compiled.bytes, { pcMap: e.compiled.pcMap });
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, "utf8"));
    expect(text).toContain(";; insn 15");
    expect(text).toMatch(/\(func \$f0 /);
  });
});
