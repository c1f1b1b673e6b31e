/**
 * Verifier cases the corpus cannot express (frozen read-only maps, a global
 * function taking ctx) or that were accepted by the vm while the kernel refuses
 * them: each runs through the kernel and our verifier, which must agree on the
 * verdict, the error line, the processed count and the level-1 log.
 */
import { describe, expect, test } from "vitest";
import { BpfCommandError } from "../../../src/errors.js";
import type { Bytecode } from "../../../src/isa/bytecode.js";
import { addressOf, bpfSyscall } from "../../../src/linux/syscall.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";
import { verify } from "../../../src/vm/verifier/index.js";
import type { FuncInfo, VerifierMapInfo } from "../../../src/vm/verifier/types.js";
import { describeKernel } from "../../helpers/kernel.js";
import { ADD, AND, B, DW, JEQ, JNE, PT, W, alu64i, call, callLocal, exit, ja, jmpi, ldx, lookup, mov64i, mov64r, prog, st } from "./asm.js";
import { errorLine, normalize } from "./differential.js";
import { helper, progType } from "./harness.js";
import { btfBlob, closeFdSafe, kernelCreateMap, kernelLoad, type KernelMapSpec } from "./kernel-load.js";

const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_FREEZE = 22;
const FROM_MEM = 197;
const DYNPTR_DATA = 203;
const PRANDOM = 7;

interface Case {
  readonly code: Bytecode;
  readonly progType: number;
  readonly maps?: readonly (KernelMapSpec & { frozenValue?: Uint8Array })[];
  /** The kernel's BTF and func_info records (type ids into it), with our verifier's view of the same functions. */
  readonly btf?: { blob: Uint8Array; records: { insn: number; typeId: number }[]; funcs: FuncInfo[] };
}

function kernelSide(c: Case): { accepted: boolean; log: string } {
  const fds = (c.maps ?? []).map((m) => {
    const fd = kernelCreateMap(m);
    if (m.frozenValue) {
      const key = Buffer.alloc(4);
      const val = Buffer.from(m.frozenValue);
      const a = Buffer.alloc(32);
      a.writeUInt32LE(fd, 0);
      a.writeBigUInt64LE(addressOf(key), 8);
      a.writeBigUInt64LE(addressOf(val), 16);
      if (bpfSyscall(BPF_MAP_UPDATE_ELEM, a).ret < 0) throw new Error("map update failed");
      const f = Buffer.alloc(8);
      f.writeUInt32LE(fd, 0);
      if (bpfSyscall(BPF_MAP_FREEZE, f).ret < 0) throw new Error("map freeze failed");
    }
    return fd;
  });
  try {
    const code = c.code.clone();
    for (let i = 0; i < code.length; i++) {
      if (code.opcode[i] === 0x18 && [1, 2].includes(code.src[i])) code.imm[i] = fds[code.imm[i]];
      if (code.opcode[i] === 0x18) i++;
    }
    const r = kernelLoad(code, {
      progType: c.progType, logLevel: 1, ...(c.btf ? { btf: c.btf.blob, funcInfo: c.btf.records } : {}),
    });
    closeFdSafe(r.fd);
    return { accepted: r.accepted, log: r.log };
  } finally {
    fds.forEach(closeFdSafe);
  }
}

function ourSide(c: Case): { accepted: boolean; log: string } {
  const maps: VerifierMapInfo[] = (c.maps ?? []).map((m) => ({
    type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags ?? 0, btf: false,
    name: m.name ?? "",
    ...(m.frozenValue ? { frozen: true } : {}),
    // As the vm's adapter describes maps: the value is known for a frozen one-element array.
    ...(m.frozenValue && m.type === 2 && m.maxEntries === 1 ? { readOnlyValue: m.frozenValue } : {}),
  }));
  const r = verify({
    code: c.code, progType: progType(c.progType), helper, maps: (h) => maps[h], license: "GPL", logLevel: 1,
    ...(c.btf ? { funcInfo: c.btf.funcs } : {}),
  });
  return { accepted: r.accepted, log: r.log };
}

function agree(c: Case): void {
  const k = kernelSide(c);
  const o = ourSide(c);
  expect({ accepted: o.accepted, error: o.accepted ? "" : errorLine(o.log) }).toEqual({ accepted: k.accepted, error: k.accepted ? "" : errorLine(k.log) });
  expect(normalize(o.log)).toBe(normalize(k.log));
}

const fp = (r: number, off: number) => [mov64r(r, 10), alu64i(ADD, r, off)];
const ARRAY48 = { type: 2, keySize: 4, valueSize: 48, maxEntries: 1, name: "array_48b" };

describeKernel("verifier vs kernel: cases outside the corpus", () => {
  test("bpf_dynptr_from_mem over the stack", () => {
    agree({ progType: PT.XDP, code: prog(st(DW, 10, -48, 0), ...fp(1, -48), mov64i(2, 8), mov64i(3, 0), ...fp(4, -16), call(FROM_MEM), mov64i(0, 0), exit()) });
  });

  // Two local dynptrs; a slice of one or the other reaches the same instruction, where a
  // state is kept; then the first dynptr is overwritten, which invalidates its slices only.
  // The states differ only in the slice's dynptr_id, which the kernel compares.
  for (const [first, second] of [[-32, -16], [-16, -32]]) {
    test(`slices of two dynptrs at one checkpoint (fp${first} explored first)`, () => {
      const pad = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => mov64i(8, k));
      agree({ progType: PT.XDP, maps: [ARRAY48], code: prog(
        ...lookup(0, 4), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit(), mov64r(9, 0),
        mov64r(1, 9), mov64i(2, 8), mov64i(3, 0), ...fp(4, -16), call(FROM_MEM),
        mov64r(1, 9), mov64i(2, 8), mov64i(3, 0), ...fp(4, -32), call(FROM_MEM),
        // (r7 &= 1: no scalar id, so no linked registers to sync at the branch)
        call(PRANDOM), mov64r(7, 0), alu64i(AND, 7, 1),
        jmpi(JEQ, 7, 0, 14),
        ...fp(1, first), mov64i(2, 0), mov64i(3, 8), call(DYNPTR_DATA), ...pad, ja(5),
        ...fp(1, second), mov64i(2, 0), mov64i(3, 8), call(DYNPTR_DATA),
        jmpi(JEQ, 0, 0, 4), mov64r(6, 0), st(DW, 10, -16, 0), ldx(B, 0, 6, 0), exit(),
        mov64i(0, 0), exit(),
      ) });
    });
  }

  // bpf_strncmp(s1, 1, s2) with s2 a constant string in a frozen read-only map.
  const strncmp = prog(...lookup(0, 4), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit(), mov64r(3, 0), st(DW, 10, -16, 0), ...fp(1, -16), mov64i(2, 1),
    call(182), exit());
  const str = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.padEnd(8, "\0"), "latin1"));
  for (const [name, type, maxEntries, value] of [
    ["a one-element array", 2, 1, "hi"], ["a two-element array", 2, 2, "hi"], ["a hash map", 1, 2, "hi"], ["no NUL", 2, 1, "hihihihi"],
  ] as const) {
    test(`constant string in ${name}`, () => {
      agree({ progType: PT.XDP, code: strncmp, maps: [{ type, keySize: 4, valueSize: 8, maxEntries, flags: 1 << 7, name: "ro", frozenValue: str(value) }] });
    });
  }

  // A global function int f(struct xdp_md *ctx) called with ctx or ctx + 8.
  const strs = ["", "int", "xdp_md", "ctx", "main", "f"];
  const so = (s: string): number => Buffer.from(strs.slice(0, strs.indexOf(s)).map((x) => x + "\0").join(""), "latin1").length;
  const words = [
    so("int"), 1 << 24, 4, (1 << 24) | 32, // 1: int
    so("xdp_md"), 4 << 24, 24, // 2: struct xdp_md
    0, 2 << 24, 2, // 3: struct xdp_md *
    0, (13 << 24) | 1, 1, so("ctx"), 3, // 4: int (struct xdp_md *ctx)
    0, 13 << 24, 1, // 5: int (void)
    so("main"), 12 << 24, 5, // 6: static main
    so("f"), (12 << 24) | 1, 4, // 7: global f
  ];
  const blob = btfBlob(words, strs);
  for (const add of [0, 8]) {
    test(`global function taking ctx, called with ctx + ${add}`, () => {
      const main = [alu64i(ADD, 1, add), callLocal(2), mov64i(0, 2), exit()];
      const start = main.length;
      agree({
        progType: PT.XDP, code: prog(...main, ldx(W, 0, 1, 16), mov64i(0, 0), exit()),
        btf: {
          blob, records: [{ insn: 0, typeId: 6 }, { insn: start, typeId: 7 }],
          funcs: [{ insn: 0, name: "main" }, { insn: start, name: "f", global: true, params: [{ kind: "ctx" }] }],
        },
      });
    });
  }
});

describe("vm kernel: special fields of inner maps", () => {
  // The kernel's inner_map_meta keeps the inner maps' btf_record, so values found through
  // a map of maps have their bpf_spin_lock checked like any other map's (checked against
  // Linux 6.18: "bpf_spin_lock cannot be accessed directly by load/store").
  const load = (storeOff: number): unknown => {
    const k = new VmKernel();
    const inner = k.mapCreate({
      mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, valueFields: [{ kind: "spin_lock", offset: 0, size: 4 }],
    });
    const outer = k.mapCreate({ mapType: BPF_MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, innerMapFd: inner });
    const code = prog(...lookup(0, 4), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit(),
      mov64r(1, 0), st(W, 10, -4, 0), ...fp(2, -4), call(1), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit(),
      st(W, 0, storeOff, 1), mov64i(0, 0), exit());
    code.imm[3] = outer;
    try {
      return k.progLoad({ progType: PT.SCHED_CLS, insns: code, license: "GPL" });
    } catch (e) {
      return e;
    }
  };
  test("a store into the lock is refused, one next to it is not", () => {
    const e = load(0);
    expect(e).toBeInstanceOf(BpfCommandError);
    expect(String(((e as Error).cause as Error).message)).toMatch(/bpf_spin_lock cannot be accessed directly by load\/store/);
    expect(load(8)).not.toBeInstanceOf(Error);
  });
});
