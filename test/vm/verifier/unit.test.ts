/**
 * Unit tests of the verifier: its domains (tnum, bounds), the messages of rules
 * the kernel cannot be asked about here (unprivileged loads are disabled on this
 * machine), adversarial programs, modes, errors with source lines, aux data and
 * the xlated fix-ups.
 */
import { describe, expect, test } from "vitest";
import { VerifierError } from "../../../src/errors.js";
import { Reg, T, boundsSync, markUnknown, scalarAlu, setKnown } from "../../../src/vm/verifier/reg.js";
import { TNUM_UNKNOWN, tnumAdd, tnumConst, tnumMul, tnumRange, tnumStr } from "../../../src/vm/verifier/tnum.js";
import {
  ADD, AND, B, DIV, DW, F, JEQ, JGT, JLT, MOD, PT, W, alu32r, alu64i, alu64r, atomic, call, callLocal, exit, jmpi, jmpr, ldMap,
  ldx, lookup, mov64i, mov64r, prog, st, stx,
} from "./asm.js";
import { M } from "./corpus.js";
import { type Prog, objectProg, runVerifier } from "./harness.js";

const reject = (p: Prog, priv = true): string => {
  const r = runVerifier(p, { privileged: priv, logLevel: 1 });
  expect(r.accepted).toBe(false);
  return r.error!.message;
};

describe("tnum", () => {
  test("range, add and mul follow kernel/bpf/tnum.c", () => {
    expect(tnumStr(tnumRange(0n, 255n))).toBe("(0x0; 0xff)");
    expect(tnumStr(tnumRange(16n, 31n))).toBe("(0x10; 0xf)");
    expect(tnumStr(tnumAdd(tnumConst(1n), tnumRange(0n, 3n)))).toBe("(0x0; 0x7)");
    expect(tnumStr(tnumMul(tnumRange(0n, 255n), tnumConst(3n)))).toBe("(0x0; 0x3ff)");
    expect(tnumMul(TNUM_UNKNOWN, tnumConst(0n))).toEqual(tnumConst(0n));
  });
});

describe("scalar bounds", () => {
  const byte = (): Reg => {
    const r = new Reg();
    markUnknown(r, true);
    r.umax = 255n;
    boundsSync(r);
    return r;
  };
  test("and with a constant bounds an unknown value", () => {
    const r = new Reg();
    markUnknown(r, true);
    const k = new Reg();
    k.type = T.SCALAR;
    setKnown(k, 15n);
    scalarAlu(r, k, "and", false);
    expect([r.umin, r.umax, r.smin, r.smax]).toEqual([0n, 15n, 0n, 15n]);
  });
  test("32-bit add wraps into the 64-bit view through zero extension", () => {
    const r = byte();
    const k = new Reg();
    k.type = T.SCALAR;
    setKnown(k, 0xffffffffn);
    scalarAlu(r, k, "add", true);
    expect(r.umax).toBe(0xffffffffn);
    expect(r.umin).toBe(0n);
  });
});

describe("unprivileged rules (kernel.unprivileged_bpf_disabled forbids asking the kernel)", () => {
  test("a pointer stored into a map value leaks", () => {
    expect(reject({ code: prog(lookup(0), jmpi(JEQ, 0, 0, 1), stx(DW, 0, 10, 0), mov64i(0, 0), exit()), progType: PT.SOCKET_FILTER, maps: [M.hash8] }, false))
      .toMatch(/^R10 leaks addr into map/);
  });
  test("returning a pointer leaks", () => {
    expect(reject({ code: prog(mov64r(0, 10), exit()), progType: PT.SOCKET_FILTER }, false)).toMatch(/^R0 leaks addr as return value/);
  });
  test("pointer comparisons are prohibited", () => {
    expect(reject({ code: prog(mov64i(0, 0), jmpi(JEQ, 1, 0, 0), exit()), progType: PT.SOCKET_FILTER }, false)).toMatch(/^R1 pointer comparison prohibited/);
  });
  test("uninitialised stack is not readable", () => {
    expect(reject({ code: prog(ldx(DW, 0, 10, -8), exit()), progType: PT.SOCKET_FILTER }, false)).toMatch(/^invalid read from stack R10 off=-8 size=8/);
  });
  test("back-edges need bounded-loop support", () => {
    expect(reject({ code: prog(mov64i(0, 0), alu64i(ADD, 0, 1), jmpi(JLT, 0, 4, -2), exit()), progType: PT.SOCKET_FILTER }, false))
      .toMatch(/^back-edge from insn 2 to 1/);
  });
  test("bpf-to-bpf calls need CAP_BPF (EPERM, as add_subprog_and_kfunc returns)", () => {
    expect(reject({ code: prog(callLocal(1), exit(), mov64i(0, 0), exit()), progType: PT.SOCKET_FILTER }, false)).toMatch(/CAP_BPF/);
    const r = runVerifier({ code: prog(callLocal(1), exit(), mov64i(0, 0), exit()), progType: PT.SOCKET_FILTER }, { privileged: false });
    expect(r.error?.errno).toBe("EPERM");
  });
  test("pointer arithmetic leaving the map value is refused", () => {
    expect(reject({ code: prog(lookup(0), jmpi(JEQ, 0, 0, 1), alu64i(ADD, 0, 64), mov64i(0, 0), exit()), progType: PT.SOCKET_FILTER, maps: [M.hash8] }, false))
      .toMatch(/pointer arithmetic of map value goes out of range/);
  });
});

describe("adversarial programs are rejected", () => {
  const cases: Array<[string, Prog]> = [
    ["out-of-bounds map value access through an unbounded index", { code: prog(lookup(0, 4), jmpi(JEQ, 0, 0, 4), ldx(W, 1, 0, 0), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.array48] }],
    ["index bounded one past the value", { code: prog(lookup(0, 4), jmpi(JEQ, 0, 0, 5), ldx(W, 1, 0, 0), jmpi(JGT, 1, 48, 3), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.array48] }],
    ["packet access without a data_end check", { code: prog(ldx(W, 2, 1, 0), ldx(W, 0, 2, 0), exit()), progType: PT.XDP }],
    ["packet access one byte past the checked range", { code: prog(ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 4), jmpr(JGT, 4, 3, 1), ldx(W, 0, 2, 1), mov64i(0, 0), exit()), progType: PT.XDP }],
    ["stack write below the frame", { code: prog(st(DW, 10, -520, 0), mov64i(0, 0), exit()), progType: PT.XDP }],
    ["stack write above the frame", { code: prog(st(DW, 10, 0, 0), mov64i(0, 0), exit()), progType: PT.XDP }],
    ["read of an uninitialised register", { code: prog(mov64r(0, 5), exit()), progType: PT.XDP }],
    ["null check on the wrong lookup's id", { code: prog(lookup(0), mov64r(6, 0), lookup(0), jmpi(JEQ, 0, 0, 1), ldx(DW, 0, 6, 0), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.hash8] }],
    ["a loop without a bound", { code: prog(mov64i(0, 0), ldx(W, 1, 1, 0), alu64i(ADD, 1, 1), jmpi(JGT, 1, 0, -2), exit()), progType: PT.XDP }],
    ["a ring buffer record never submitted", { code: prog(ldMap(1, 0), mov64i(2, 8), mov64i(3, 0), call(F.ringbuf_reserve), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.ringbuf] }],
    ["an atomic add into the context", { code: prog(mov64i(2, 1), atomic(W, 1, 2, 0, 0), mov64i(0, 0), exit()), progType: PT.XDP }],
    ["division of a pointer", { code: prog(alu64i(DIV, 1, 2), mov64i(0, 0), exit()), progType: PT.XDP }],
  ];
  for (const [name, p] of cases) {
    test(name, () => {
      const r = runVerifier(p);
      expect(r.accepted).toBe(false);
      expect(r.error).toBeInstanceOf(VerifierError);
    });
  }
  test("unreleased references name the id and the allocating instruction", () => {
    expect(reject({ code: prog(ldMap(1, 0), mov64i(2, 8), mov64i(3, 0), call(F.ringbuf_reserve), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.ringbuf] }))
      .toMatch(/^Unreleased reference id=2 alloc_insn=4; BPF_EXIT instruction in main prog would lead to reference leak \(insn 6\)$/);
    const r = runVerifier({ code: prog(ldMap(1, 0), mov64i(2, 8), mov64i(3, 0), call(F.ringbuf_reserve), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.ringbuf] }, { logLevel: 1 });
    expect(r.log).toContain("Unreleased reference id=2 alloc_insn=4\n");
  });
});

describe("modes and errors", () => {
  const bad: Prog = { code: prog(lookup(0), ldx(DW, 0, 0, 0), exit()), progType: PT.XDP, maps: [M.hash8] };
  test("strict rejects with the kernel's line, the instruction and the whole log", () => {
    const r = runVerifier(bad, { logLevel: 1 });
    expect(r.error!.message).toBe("R0 invalid mem access 'map_value_or_null' (insn 6)");
    expect(r.error!.insnIndex).toBe(6);
    expect(r.error!.log).toBe(r.log);
  });
  test("warn logs the failure but accepts (the program then runs checked)", () => {
    const r = runVerifier(bad, { mode: "warn", logLevel: 1 });
    expect(r.accepted).toBe(true);
    expect(r.error).toBeInstanceOf(VerifierError);
  });
  test("off skips verification", () => {
    const r = runVerifier(bad, { mode: "off" });
    expect(r.accepted).toBe(true);
    expect(r.stats.processedInsns).toBe(0);
  });
  test("errors carry the source line from BTF line info", () => {
    const p = objectProg("null_deref.bpf.o", { counts: { type: 1, keySize: 4, valueSize: 8, maxEntries: 16, name: "counts" } });
    const r = runVerifier(p, { logLevel: 1 });
    expect(r.error!.message).toMatch(/^R0 invalid mem access 'map_value_or_null' \(insn \d+, null_deref\.bpf\.c:19\)$/);
    expect(r.error!.sourceLine).toBe("null_deref.bpf.c:19");
    // The kernel prints the base name (kernel/bpf/log.c, verbose_linfo).
    expect(r.log).toContain("; return *v; @ null_deref.bpf.c:19\n7: (79) r0 = *(u64 *)(r0 +0)");
  });
  test("a C program with a bounded loop and an array counter is accepted", () => {
    const p = objectProg("bounded_loop.bpf.o", { hist: { type: 2, keySize: 4, valueSize: 8, maxEntries: 4, name: "hist" } });
    const r = runVerifier(p);
    expect(r.error?.message).toBeUndefined();
    expect(r.accepted).toBe(true);
  });
});

describe("aux data and xlated fix-ups", () => {
  test("div and mod by a register get the kernel's zero guards", () => {
    const r = runVerifier({ code: prog(mov64i(0, 10), ldx(W, 1, 1, 16), alu64r(DIV, 0, 1), alu32r(MOD, 0, 1), exit()), progType: PT.XDP });
    expect(r.accepted).toBe(true);
    const ops = Array.from(r.xlated.opcode);
    // 64-bit div: jne r1,0,+2; w0 ^= w0; ja +1; div. 32-bit mod: jeq w1,0,+2; mod; ja +1; w0 = w0.
    expect(ops).toEqual([0xb7, 0x61, 0x55, 0xac, 0x05, 0x3f, 0x16, 0x9c, 0x05, 0xbc, 0x95]);
    expect(r.aux[2].divByReg).toBe(true);
  });
  test("dead branches are hard-wired and removed for privileged programs", () => {
    const r = runVerifier({ code: prog(mov64i(0, 0), jmpi(JEQ, 0, 1, 1), exit(), mov64i(0, 5), exit()), progType: PT.XDP });
    expect(r.xlated.length).toBe(2);
    expect(r.fixups.join("\n")).toMatch(/dead/);
  });
  test("dead code is trapped for unprivileged programs", () => {
    const r = runVerifier({ code: prog(mov64i(0, 0), jmpi(JEQ, 0, 1, 1), exit(), mov64i(0, 5), exit()), progType: PT.SOCKET_FILTER }, { privileged: false });
    expect(r.accepted).toBe(true);
    expect(r.xlated.length).toBe(5);
    expect(r.xlated.opcode[3]).toBe(0x05);
    expect(r.xlated.off[3]).toBe(-1);
  });
  test("helper call sites record their map; context loads their kind", () => {
    const p: Prog = { code: prog(ldx(W, 2, 1, 0), lookup(0), mov64i(0, 0), exit()), progType: PT.XDP, maps: [M.hash8] };
    const r = runVerifier(p);
    expect(r.aux[6].map?.name).toBe("hash_8b");
    expect(r.aux[0].ctx).toEqual({ off: 0, size: 4, write: false, regType: "pkt" });
  });
  test("a bpf-to-bpf call's stack depth is per subprogram", () => {
    const r = runVerifier({ code: prog(st(DW, 10, -16, 0), callLocal(2), mov64i(0, 0), exit(), st(W, 10, -4, 0), mov64i(0, 0), exit()), progType: PT.XDP });
    expect(r.stackDepth).toEqual([16, 8]);
    expect(r.subprogs).toEqual([0, 4]);
  });
  test("r0 AND mask bounds a return value for cgroup_skb", () => {
    const r = runVerifier({ code: prog(ldx(W, 0, 1, 0), alu64i(AND, 0, 1), exit()), progType: PT.CGROUP_SKB });
    expect(r.accepted).toBe(true);
  });
});
