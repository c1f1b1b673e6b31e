import { describe, expect, test } from "vitest";
import { assemble, assembleBytecode } from "../../src/isa/asm.js";
import { Bytecode } from "../../src/isa/bytecode.js";
import { disassemble, disassembleLines } from "../../src/isa/disasm.js";
import type { AluOp, AtomicOp, Instruction, JmpOp, Size } from "../../src/isa/instruction.js";

/** mulberry32: a small seeded generator, so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALU_OPS: AluOp[] = ["add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh"];
const JMP_OPS: JmpOp[] = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"];
const KINDS = [
  "alu", "neg", "movsx", "addr_space_cast", "endian", "jcc", "ja", "gotol", "may_goto", "helper", "local", "kfunc",
  "callx", "exit", "ld_imm64", "ld_abs", "ld_ind", "ldx", "st", "stx", "atomic", "load_acquire", "store_release",
] as const;

/** A random valid instruction of every kind, with edge values mixed into the fields. */
function generator(seed: number): () => Instruction {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const reg = (): number => Math.floor(r() * 11);
  const i32 = (): number => pick([0, 1, -1, 0x7fffffff, -0x80000000, (r() * 2 ** 32) | 0, (r() * 256) | 0, -((r() * 256) | 0)]);
  const i16 = (): number => pick([0, 1, -1, 32767, -32768, ((r() * 65536) | 0) - 32768, ((r() * 64) | 0) - 32]);
  const size = (): Size => pick([1, 2, 4, 8] as const);
  return (): Instruction => {
    const kind = pick(KINDS);
    switch (kind) {
      case "alu": {
        const src = r() < 0.5 ? { kind: "reg" as const, reg: reg() } : { kind: "imm" as const, imm: i32() };
        return { kind, op: pick(ALU_OPS), wide: r() < 0.5, dst: reg(), src };
      }
      case "neg":
        return { kind, wide: r() < 0.5, dst: reg() };
      case "movsx": {
        const wide = r() < 0.5;
        return { kind, wide, bits: wide ? pick([8, 16, 32] as const) : pick([8, 16] as const), dst: reg(), src: reg() };
      }
      case "addr_space_cast":
        return { kind, dst: reg(), src: reg(), imm: pick([1, 0x10000, i32()]) };
      case "endian":
        return { kind, order: pick(["le", "be", "bswap"] as const), bits: pick([16, 32, 64] as const), dst: reg() };
      case "jcc": {
        const src = r() < 0.5 ? { kind: "reg" as const, reg: reg() } : { kind: "imm" as const, imm: i32() };
        return { kind, op: pick(JMP_OPS), wide: r() < 0.5, dst: reg(), src, off: i16() };
      }
      case "ja":
      case "may_goto":
        return { kind, off: i16() };
      case "gotol":
        return { kind, imm: i32() };
      case "helper":
        return { kind: "call", target: "helper", imm: pick([1, 12, 211, 212, 0x7fffffff, (r() * 300) | 0]), off: 0 };
      case "local":
        return { kind: "call", target: "local", imm: i32(), off: 0 };
      case "kfunc":
        return { kind: "call", target: "kfunc", imm: i32(), off: pick([0, i16()]) };
      case "callx":
        return { kind, reg: reg() };
      case "exit":
        return { kind };
      case "ld_imm64":
        return { kind, dst: reg(), pseudo: Math.floor(r() * 7), lo: i32(), hi: pick([0, i32()]) };
      case "ld_abs":
        return { kind, size: pick([1, 2, 4] as const), imm: i32() };
      case "ld_ind":
        return { kind, size: pick([1, 2, 4] as const), src: reg(), imm: i32() };
      case "ldx": {
        const sz = size();
        return { kind, size: sz, signed: sz < 8 && r() < 0.5, dst: reg(), src: reg(), off: i16() };
      }
      case "st":
        return { kind, size: size(), dst: reg(), off: i16(), imm: i32() };
      case "stx":
        return { kind, size: size(), dst: reg(), src: reg(), off: i16() };
      case "atomic": {
        const op: AtomicOp = pick(["add", "or", "and", "xor", "xchg", "cmpxchg"] as const);
        const fetch = op === "xchg" || op === "cmpxchg" || r() < 0.5;
        return { kind, op, fetch, size: pick([4, 8] as const), dst: reg(), src: reg(), off: i16() };
      }
      case "load_acquire":
      case "store_release":
        return { kind, size: size(), dst: reg(), src: reg(), off: i16() };
    }
  };
}

const COUNT = 12_000;
const SEED = 0x7b9f;

describe("encode -> decode -> disasm -> asm -> encode", () => {
  const next = generator(SEED);
  const insns = Array.from({ length: COUNT }, next);
  const encoded = Bytecode.fromInstructions(insns);
  const decoded = encoded.decodeAll().map(([, insn]) => insn);

  test(`${COUNT} random instructions cover every kind and every LD_IMM64 pseudo src (seed ${SEED})`, () => {
    const kinds = new Set(decoded.map((i) => (i.kind === "call" ? i.target : i.kind)));
    expect([...kinds].sort()).toEqual([...KINDS].sort());
    const pseudos = new Set(decoded.flatMap((i) => (i.kind === "ld_imm64" ? [i.pseudo] : [])));
    expect([...pseudos].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(decoded).toHaveLength(COUNT);
  });

  test.each(["llvm", "xlated"] as const)("the %s style gives back the same bytes, program-wide", (style) => {
    const text = disassemble(decoded, { style });
    const back = assembleBytecode(text);
    expect(back.length).toBe(encoded.length);
    // Line by line first, so a failure names the instruction.
    const insnOf = new Map(disassembleLines(encoded).map((l) => [l.pc, l.insn]));
    for (const line of text.trimEnd().split("\n")) {
      const pc = Number(/^\s*(\d+):/.exec(line)![1]);
      const want = Bytecode.fromInstructions([insnOf.get(pc)!]).toBytes();
      const got = Bytecode.fromInstructions(assemble(line)).toBytes();
      if (want.join() !== got.join()) expect.fail(`slot ${pc}: '${line}' assembled to ${got.join()} not ${want.join()}`);
    }
    expect(back.toBytes()).toEqual(encoded.toBytes());
  });

  test("big-endian encoding decodes back to the same instructions", () => {
    const be = Bytecode.fromBytes(encoded.toBytes("be"), "be");
    expect(be.decodeAll().map(([, i]) => i)).toEqual(decoded);
  });
});
