import { describe, expect, test } from "vitest";
import { runRaw } from "../../src/conformance/run.js";
import { assembleBytecode } from "../../src/isa/asm.js";
import { BuilderError, FP, ProgramBuilder, R0, R1, R2, R3, R6 } from "../../src/isa/builder.js";
import { disassemble } from "../../src/isa/disasm.js";

describe("instruction builder", () => {
  test("builds the same bytes as the equivalent assembly", () => {
    const b = new ProgramBuilder()
      .mov(R6, R1)
      .mov32(R0, 0)
      .st(4, FP, -4, 7)
      .ldx(4, R2, FP, -4)
      .label("loop")
      .add32(R0, R2)
      .sub(R2, 1)
      .jne(R2, 0, "loop")
      .ldxs(1, R3, R6, 0)
      .movsx(R3, R3, 8)
      .be(R3, 16)
      .atomic("add", 8, FP, -16, R3)
      .xchg(8, FP, -16, R3)
      .cmpxchg(4, FP, -4, R3)
      .loadAcquire(8, R1, FP, -16)
      .storeRelease(4, FP, -4, R1)
      .ldImm64(R1, 0x1122334455667788n)
      .ldAbs(2, 12)
      .ldInd(1, R2, 3)
      .jmp32("jsgt", R0, -1, "out")
      .ja("out")
      .label("out")
      .exit();
    const asm = `
        r6 = r1
        w0 = 0
        *(u32 *)(r10 - 4) = 7
        w2 = *(u32 *)(r10 - 4)
      loop:
        w0 += w2
        r2 -= 1
        if r2 != 0 goto loop
        r3 = *(s8 *)(r6 + 0)
        r3 = (s8)r3
        r3 = be16 r3
        lock *(u64 *)(r10 - 16) += r3
        r3 = xchg_64(r10 - 16, r3)
        w0 = cmpxchg32_32(r10 - 4, w0, w3)
        r1 = load_acquire((u64 *)(r10 - 16))
        store_release((u32 *)(r10 - 4), w1)
        r1 = 0x1122334455667788 ll
        r0 = *(u16 *)skb[12]
        r0 = *(u8 *)skb[r2 + 3]
        if w0 s> -1 goto out
        goto out
      out:
        exit`;
    expect(disassemble(b.build().code)).toBe(disassemble(assembleBytecode(asm)));
  });

  test("records map references by slot and leaves their imm for the loader", () => {
    const { code, mapReferences, instructions } = new ProgramBuilder()
      .mov(R0, 0)
      .ldMapFd(R1, "counters")
      .ldMapValue(R2, ".rodata", 16)
      .ldMapFd(R3, "counters")
      .exit()
      .build();
    expect(mapReferences).toEqual([
      { insnIndex: 1, symbol: "counters" },
      { insnIndex: 3, symbol: ".rodata" },
      { insnIndex: 5, symbol: "counters" },
    ]);
    expect(instructions[2]).toEqual({ kind: "ld_imm64", dst: 2, pseudo: 2, lo: 0, hi: 16 });
    expect(code.length).toBe(8);
    expect([code.src[1], code.src[3], code.src[5]]).toEqual([1, 2, 1]);
  });

  test("calls helpers by name or id and local functions by symbol", () => {
    const { instructions, funcReferences } = new ProgramBuilder()
      .call("bpf_map_lookup_elem")
      .call("get_prandom_u32")
      .call(5)
      .callLocal("f")
      .ldFunc(R2, "f")
      .exit()
      .label("f")
      .mov(R0, 1)
      .exit()
      .build();
    expect(instructions.slice(0, 5)).toEqual([
      { kind: "call", target: "helper", imm: 1, off: 0 },
      { kind: "call", target: "helper", imm: 7, off: 0 },
      { kind: "call", target: "helper", imm: 5, off: 0 },
      { kind: "call", target: "local", imm: 3, off: 0 },
      // BPF_PSEUDO_FUNC counts from the slot after the first half, as calls do
      // (kernel/bpf/verifier.c looks up the subprogram at i + imm + 1).
      { kind: "ld_imm64", dst: 2, pseudo: 4, lo: 2, hi: 0 },
    ]);
    expect(funcReferences).toEqual([{ insnIndex: 3, symbol: "f" }, { insnIndex: 4, symbol: "f" }]);
  });

  test("a program built with a bpf-to-bpf call runs on the interpreter", () => {
    const { code } = new ProgramBuilder()
      .mov(R1, 20)
      .callLocal("double")
      .add(R0, 2)
      .exit()
      .label("double")
      .mov(R0, R1)
      .lsh(R0, 1)
      .exit()
      .build();
    expect(runRaw(code, new Uint8Array())).toBe(42n);
  });

  test("undefined labels fail; external functions are left to a linker when asked", () => {
    expect(() => new ProgramBuilder().ja("nowhere").exit().build()).toThrow(new BuilderError("undefined label 'nowhere' (instruction 0)"));
    expect(() => new ProgramBuilder().callLocal("ext").exit().build()).toThrow(BuilderError);
    const built = new ProgramBuilder().callLocal("ext").exit().build({ externalFunctions: true });
    expect(built.instructions[0]).toEqual({ kind: "call", target: "local", imm: -1, off: 0 });
    expect(built.funcReferences).toEqual([{ insnIndex: 0, symbol: "ext" }]);
  });

  test("misuse is a BuilderError", () => {
    expect(() => new ProgramBuilder().label("a").label("a")).toThrow(/duplicate label 'a'/);
    expect(() => new ProgramBuilder().call("bpf_no_such_helper")).toThrow(/unknown helper 'bpf_no_such_helper'/);
    expect(() => new ProgramBuilder().add(R1, 0x80000000)).toThrow(/does not fit in a signed 32-bit field/);
    expect(() => new ProgramBuilder().add32(R1, 0xffffffff)).not.toThrow();
    expect(() => new ProgramBuilder().ldx(4, R1, R2, 40000)).toThrow(/offset 40000 does not fit in 16 bits/);
    expect(() => new ProgramBuilder().mov(R1, 1.5)).toThrow(BuilderError);
  });

  test("a jump too far for 16 bits asks for gotol", () => {
    const b = new ProgramBuilder().ja("far");
    for (let i = 0; i < 40000; i++) b.mov(R0, i);
    expect(() => b.label("far").exit().build()).toThrow(/use gotol/);
    const g = new ProgramBuilder().gotol("far");
    for (let i = 0; i < 40000; i++) g.mov(R0, i);
    expect(g.label("far").exit().build().instructions[0]).toEqual({ kind: "gotol", imm: 40000 });
  });
});
