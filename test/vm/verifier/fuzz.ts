/**
 * Fuzzing the verifier for soundness: random programs and mutations of the
 * recorded corpus (flipped opcodes, registers, offsets and immediates, inserted
 * and deleted instructions, perturbed jumps, swapped bounds checks). Every program
 * the verifier accepts is loaded into a VmKernel and run under *checked*
 * execution (EngineEnv.checked: every access, helper argument and jump checked)
 * on both engines, the interpreter and the JIT, on several random inputs: through
 * the program type's test run with a random packet where it has one, else with a
 * random context region. A fault means the verifier accepted an unsafe program.
 * Accepted programs can also be cross-checked against the kernel (`kernelJudge`):
 * accepting what the kernel rejects is a false accept.
 *
 * Used by scripts/fuzz-verifier.ts (10^5 programs) and fuzz.test.ts (a seeded sample).
 */
import { BpfCommandError, ProgramFault, TsbpfError, VerifierError } from "../../../src/errors.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { disassemble } from "../../../src/isa/disasm.js";
import type { RawInsn } from "../../../src/isa/instruction.js";
import type { Engine, EngineEnv } from "../../../src/vm/engine.js";
import { type EngineKind, createEngine } from "../../../src/vm/engines.js";
import { RunMemory } from "../../../src/vm/progtypes/runtime/common.js";
import { progTypeById } from "../../../src/vm/progtypes/index.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";
import type { VmProgram } from "../../../src/vm/runtime/program.js";
import { valueFields } from "../../../src/vm/loader.js";
import { Rng } from "../jit/gen.js";
import {
  ADD, AND, ARSH, B, DIV, DW, F, H, JEQ, JGE, JGT, JLE, JLT, JNE, JSET, JSGE, JSGT, JSLE, JSLT, LSH, MOD, MUL, OR, PT, RSH, SUB,
  W, XOR, alu32i, alu32r, alu64i, alu64r, atomic, call, exit, ja, jmp32i, jmpi, jmpr, ldMap, ldx, mov64i, mov64r, st, stx,
} from "./asm.js";
import { corpus } from "./corpus.js";
import type { KernelMapSpec } from "./kernel-load.js";
import { objectFiles, objectSpec } from "./programs.js";

export { Rng };

/** A map of a fuzzed program; `valueFields` (bpf_spin_lock...) come from an object's BTF. */
export type FuzzMap = KernelMapSpec;

/** A program as the fuzzer handles it: map references are indices into `maps`. */
export interface FuzzProg {
  /** Where it came from: "random", a corpus name, plus the mutations applied. */
  readonly origin: string;
  readonly code: Bytecode;
  readonly progType: number;
  readonly maps: readonly FuzzMap[];
  readonly funcInfo?: readonly { readonly insn: number; readonly name: string }[];
  readonly license?: string;
  readonly attach?: number;
}

// ---------------------------------------------------------------- seeds

let seedCache: FuzzProg[] | undefined;

/** The corpus (hand-written and object programs) as fuzz seeds. */
export function seedPrograms(): FuzzProg[] {
  if (seedCache) return seedCache;
  const out: FuzzProg[] = corpus
    .filter((c) => !/bounded loop (10000|200000)|unbounded counter/.test(c.name))
    .map((c) => ({ origin: c.name, code: c.code, progType: c.progType, maps: c.maps ?? [], funcInfo: c.funcInfo, license: c.license, attach: c.attach }));
  for (const file of objectFiles()) {
    const spec = objectSpec(file);
    for (const p of spec.programs.values()) {
      if (p.coreRelocations.length || p.relocations.some((r) => r.kind === "kconfig" || r.kind === "ksym")) continue;
      // The benchmark loops run 10^5 instructions per verification: too slow to mutate by the thousand.
      if (/alu_lcg|bpf2bpf_call|stack_memops|xdp_csum/.test(p.name)) continue;
      const code = p.instructions.clone();
      const names: string[] = [];
      for (const r of p.relocations) {
        if (r.kind !== "map" && r.kind !== "map_value") continue;
        let h = names.indexOf(r.target);
        if (h < 0) h = names.push(r.target) - 1;
        code.src[r.insnIndex] = r.kind === "map" ? 1 : 2;
        code.imm[r.insnIndex] = h;
        code.imm[r.insnIndex + 1] = r.kind === "map" ? 0 : r.offset;
      }
      const maps = names.map((n): FuzzMap => {
        const m = spec.maps.get(n)!;
        const fields = spec.btf && m.btfValueTypeId ? valueFields(spec.btf, m.btfValueTypeId) : [];
        // PERF_EVENT_ARRAY: libbpf sizes it to the CPU count; big ring buffers are costly to create by the thousand.
        const maxEntries = m.type === 4 && !m.maxEntries ? 2 : m.type === 27 ? Math.min(m.maxEntries, 1 << 16) : m.maxEntries;
        return { type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries, flags: m.flags, name: m.kernelName, ...(fields.length ? { valueFields: fields } : {}) };
      });
      out.push({
        origin: `${file}:${p.name}`, code, progType: p.type, maps, license: p.license, attach: p.expectedAttachType,
        ...(p.functions.length > 1 ? { funcInfo: p.functions.map((f) => ({ insn: f.insnIndex, name: f.name })) } : {}),
      });
    }
  }
  return (seedCache = out);
}

// ---------------------------------------------------------------- random programs

const FUZZ_MAPS: FuzzMap[] = [
  { type: 2, keySize: 4, valueSize: 48, maxEntries: 4, name: "fz_array" },
  { type: 1, keySize: 8, valueSize: 16, maxEntries: 16, name: "fz_hash" },
  { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "fz_rb" },
];

const ALU_OPS = [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, ARSH];
const JMP_OPS = [JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE];
const SIZES = [B, H, W, DW];
const sizeBytes = (s: number): number => [4, 2, 1, 8][s >> 3];

/** Program types the generator writes for, with their packet layout (data, data_end offsets in ctx) and return range. */
const GEN_TYPES: ReadonlyArray<{ type: number; pkt?: [number, number]; ret: number; ctxReads: number[] }> = [
  { type: PT.XDP, pkt: [0, 4], ret: 3, ctxReads: [0, 4, 12, 16] },
  { type: PT.SCHED_CLS, pkt: [76, 80], ret: 3, ctxReads: [0, 4, 8, 16, 76, 80] },
  { type: PT.SOCKET_FILTER, ret: 0x7fff, ctxReads: [0, 4, 8, 16] },
  { type: PT.CGROUP_SKB, pkt: [76, 80], ret: 2, ctxReads: [0, 4, 16] },
  { type: PT.KPROBE, ret: 0x7fff, ctxReads: [0, 8, 104, 112, 160] },
  { type: PT.TRACEPOINT, ret: 0x7fff, ctxReads: [8, 16, 24, 32] },
  { type: 17 /* raw_tracepoint */, ret: 0x7fff, ctxReads: [0, 8, 16, 88] },
];

/**
 * A random program made of blocks that are mostly valid (so most are accepted
 * and run): ALU on scalars, context reads, packet reads behind bounds checks
 * (fixed and variable offsets), map lookups with NULL checks and value accesses
 * (constant and bounded variable offsets), stack stores and loads, helper
 * calls, ring buffer records, bounded loops and forward branches. Offsets and
 * bounds are drawn near their limits, so a good share is off by one.
 */
export function randomProgram(rng: Rng): FuzzProg {
  const gt = rng.pick(GEN_TYPES);
  const out: RawInsn[] = [];
  const emit = (...xs: Array<RawInsn | RawInsn[]>): void => {
    for (const x of xs) Array.isArray(x) ? out.push(...x) : out.push(x);
  };
  const near = (limit: number): number => limit + rng.pick([-9, -8, -4, -2, -1, 0, 0, 1, 2]) - (rng.chance(0.5) ? rng.int(limit + 1) : 0);
  const scalarRegs = [0, 1, 2, 3, 4, 5];
  const initialised = new Set<number>();
  emit(mov64r(6, 1));
  if (gt.pkt) emit(ldx(W, 7, 1, gt.pkt[0]), ldx(W, 8, 1, gt.pkt[1]));
  let hasPkt = gt.pkt !== undefined;
  let valueReg = -1; // r9 holds a map value pointer (48 bytes) after a checked lookup
  const blocks = 2 + rng.int(8);
  for (let b = 0; b < blocks; b++) {
    const kind = rng.int(12);
    const r = rng.pick(scalarRegs);
    switch (kind) {
      case 0: { // scalar ALU
        emit(mov64i(r, rng.chance(0.5) ? rng.int(256) : rng.u32() | 0));
        for (let i = rng.int(4); i > 0; i--) {
          const op = rng.pick(ALU_OPS);
          const imm = op === LSH || op === RSH || op === ARSH ? rng.int(64) : op === DIV || op === MOD ? 1 + rng.int(100) : rng.int(1 << 16) - 100;
          emit(rng.chance(0.5) ? alu64i(op, r, imm) : alu32i(op === LSH || op === RSH || op === ARSH ? op : op, r, op === LSH || op === RSH || op === ARSH ? imm & 31 : imm));
        }
        initialised.add(r);
        break;
      }
      case 1: // context read
        emit(ldx(rng.chance(0.8) ? W : rng.pick(SIZES), r, 6, rng.chance(0.85) ? rng.pick(gt.ctxReads) : near(64)));
        initialised.add(r);
        break;
      case 2: case 3: { // packet read behind a check
        if (!hasPkt) break;
        const n = 1 + rng.int(40);
        const size = rng.pick(SIZES);
        const off = rng.chance(0.8) ? rng.int(Math.max(1, n - sizeBytes(size) + 1)) : near(n - sizeBytes(size) + 1);
        const write = rng.chance(0.2) && gt.type !== PT.CGROUP_SKB;
        emit(mov64r(1, 7), alu64i(ADD, 1, n), jmpr(rng.chance(0.9) ? JGT : JGE, 1, 8, 1), write ? st(size, 7, off, rng.int(256)) : ldx(size, 0, 7, off));
        initialised.add(1);
        if (!write) initialised.add(0);
        break;
      }
      case 4: { // variable-offset packet read
        if (!hasPkt) break;
        const mask = rng.pick([3, 7, 15, 31, 63, 255]);
        const n = 1 + rng.int(8);
        emit(mov64r(1, 7), alu64i(ADD, 1, 1), jmpr(JGT, 1, 8, 7), ldx(B, 2, 7, 0), alu64i(AND, 2, rng.chance(0.9) ? mask : 0xffff),
          mov64r(3, 7), alu64r(ADD, 3, 2), mov64r(4, 3), alu64i(ADD, 4, n), jmpr(JGT, 4, 8, 1), ldx(rng.pick([B, H]), 0, 3, rng.int(n)));
        for (const x of [0, 1, 2, 3, 4]) initialised.add(x);
        break;
      }
      case 5: case 6: { // map lookup, NULL check, value access
        const useHash = rng.chance(0.3);
        const key = rng.chance(0.8) ? rng.int(4) : near(4);
        emit(useHash ? st(DW, 10, -8, key) : st(W, 10, -4, key), mov64r(2, 10), alu64i(ADD, 2, useHash ? -8 : -4),
          ldMap(1, useHash ? 1 : 0), call(F.map_lookup_elem));
        const vsize = useHash ? 16 : 48;
        const check = rng.chance(0.95);
        if (check) emit(jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit());
        emit(mov64r(9, 0));
        valueReg = vsize;
        for (const x of [0, 1, 2, 3, 4, 5]) initialised.delete(x);
        initialised.add(0);
        break;
      }
      case 7: { // value access, constant or bounded variable offset
        if (valueReg < 0) break;
        const size = rng.pick(SIZES);
        if (rng.chance(0.5)) {
          const off = rng.chance(0.8) ? rng.int(valueReg - sizeBytes(size) + 1) : near(valueReg - sizeBytes(size) + 1);
          emit(rng.chance(0.7) ? ldx(size, r, 9, off) : stx(size, 9, initialised.has(r) ? r : 10, off));
          if (!initialised.has(r)) emit(mov64i(r, 0));
        } else {
          const bound = rng.chance(0.8) ? valueReg - sizeBytes(size) : near(valueReg - sizeBytes(size));
          emit(ldx(B, 2, 9, 0), jmpi(rng.pick([JGT, JGE, JSGT]), 2, bound, 3), mov64r(3, 9), alu64r(ADD, 3, 2), ldx(size, r, 3, 0));
          if (r !== 0) emit(mov64i(0, 0));
          initialised.add(2).add(3);
        }
        initialised.add(r);
        break;
      }
      case 8: { // stack
        const off = -8 * (1 + rng.int(8)) + (rng.chance(0.1) ? rng.int(8) : 0);
        const size = rng.pick(SIZES);
        if (rng.chance(0.5)) emit(st(size, 10, off, rng.u32() | 0));
        else emit(stx(rng.chance(0.8) ? DW : size, 10, initialised.has(r) ? r : 6, off));
        if (rng.chance(0.6)) { emit(ldx(size, r, 10, off)); initialised.add(r); }
        break;
      }
      case 9: { // helper call
        const which = rng.int(4);
        if (which === 0) emit(call(F.ktime_get_ns));
        else if (which === 1) emit(call(F.get_prandom_u32));
        else if (which === 2) emit(st(DW, 10, -16, 1), st(DW, 10, -24, 2), ldMap(1, 2), mov64r(2, 10), alu64i(ADD, 2, -24),
          mov64i(3, rng.chance(0.9) ? 8 * (1 + rng.int(2)) : near(16)), mov64i(4, 0), call(F.ringbuf_output));
        else emit(call(F.get_smp_processor_id));
        for (const x of [1, 2, 3, 4, 5]) initialised.delete(x);
        initialised.add(0);
        if (gt.type === PT.XDP || gt.type === PT.SCHED_CLS) hasPkt = hasPkt && true;
        break;
      }
      case 10: { // ring buffer record
        const size = 8 * (1 + rng.int(4));
        const off = rng.chance(0.85) ? 8 * rng.int(size / 8) : near(size - 8);
        emit(ldMap(1, 2), mov64i(2, size), mov64i(3, 0), call(F.ringbuf_reserve), jmpi(JEQ, 0, 0, 4), st(DW, 0, off, 7),
          mov64r(1, 0), mov64i(2, 0), call(rng.chance(0.5) ? F.ringbuf_submit : F.ringbuf_discard));
        for (const x of [0, 1, 2, 3, 4, 5]) initialised.delete(x);
        break;
      }
      case 11: { // bounded loop over a scalar
        const n = 1 + rng.int(20);
        emit(mov64i(5, 0), mov64i(r === 5 ? 0 : r, 0), alu64i(ADD, r === 5 ? 0 : r, rng.int(10)), alu64i(ADD, 5, 1), jmpi(JLT, 5, n, -3));
        initialised.add(5).add(r === 5 ? 0 : r);
        break;
      }
    }
    // Sometimes skip the next block on a condition.
    if (rng.chance(0.15) && initialised.size) {
      const rr = rng.pick([...initialised]);
      out.push(rng.chance(0.5) ? jmpi(rng.pick(JMP_OPS), rr, rng.int(64), 0) : jmp32i(rng.pick(JMP_OPS), rr, rng.int(64), 0));
      // The offset is patched to skip what the next block emits.
      const at = out.length - 1;
      const before = out.length;
      b++;
      if (b < blocks) {
        emit(mov64i(rng.pick(scalarRegs), rng.int(10)));
        initialised.clear();
      }
      out[at] = { ...out[at], off: out.length - before };
    }
  }
  emit(mov64i(0, rng.int(gt.ret + 1)), exit());
  return { origin: `random ${progTypeById(gt.type)?.name}`, code: Bytecode.fromRaw(out), progType: gt.type, maps: FUZZ_MAPS };
}

// ---------------------------------------------------------------- mutations

const isLdImm64 = (code: Bytecode, i: number): boolean => code.opcode[i] === 0x18;
const isJump = (op: number): boolean => ((op & 7) === 5 || (op & 7) === 6) && (op & 0xf0) !== 0x80 && (op & 0xf0) !== 0x90;
const isCall = (op: number): boolean => op === 0x85;

/** Instruction slots that start an instruction (not the second half of an LD_IMM64). */
function starts(code: Bytecode): number[] {
  const out: number[] = [];
  for (let i = 0; i < code.length; i++) {
    out.push(i);
    if (isLdImm64(code, i)) i++;
  }
  return out;
}

/** Rewrites jumps (and local calls) so that they keep their targets after slots [at, at+n) were inserted (n > 0) or removed (n < 0). */
function fixJumps(code: Bytecode, at: number, n: number): void {
  for (let i = 0; i < code.length; i++) {
    const op = code.opcode[i];
    const local = isCall(op) && (code.src[i] === 1);
    const ldFunc = isLdImm64(code, i) && code.src[i] === 4;
    if (!isJump(op) && !local && !ldFunc) {
      if (isLdImm64(code, i)) i++;
      continue;
    }
    const wide = (op === 0x06) || local || ldFunc;
    const rel = wide ? code.imm[i] : code.off[i];
    // Positions in the new code: i itself, and the old target.
    const oldI = i >= at + Math.max(n, 0) ? i - n : i;
    const oldT = oldI + rel + 1;
    const newT = oldT >= at ? oldT + n : oldT;
    const nr = newT - i - 1;
    if (wide) code.imm[i] = nr;
    else if (nr >= -32768 && nr <= 32767) code.off[i] = nr;
    if (ldFunc) i++;
  }
}

function splice(code: Bytecode, at: number, remove: number, insert: readonly RawInsn[]): Bytecode {
  const raws: RawInsn[] = [];
  for (let i = 0; i < code.length; i++) raws.push(code.raw(i));
  raws.splice(at, remove, ...insert);
  const out = Bytecode.fromRaw(raws);
  fixJumps(out, at, insert.length - remove);
  return out;
}

function interestingImm(rng: Rng, old: number): number {
  return rng.pick([0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 47, 48, 63, 64, 255, 256, 4095, 4096, 0x7fffffff, -0x80000000, old + 1, old - 1,
    old * 2, -old, old + 8, old - 8, rng.u32() | 0]) | 0;
}

const FLIP_JMP: Readonly<Record<number, number>> = {
  [JGT]: JLE, [JLE]: JGT, [JGE]: JLT, [JLT]: JGE, [JSGT]: JSLE, [JSLE]: JSGT, [JSGE]: JSLT, [JSLT]: JSGE, [JEQ]: JNE, [JNE]: JEQ,
};
const LOOSEN: Readonly<Record<number, number>> = { [JGT]: JGE, [JGE]: JGT, [JLT]: JLE, [JLE]: JLT, [JSGT]: JSGE, [JSGE]: JSGT };

/** One random mutation; returns the new code and what was done. */
export function mutate(p: FuzzProg, rng: Rng): FuzzProg {
  let code = p.code.clone();
  let at = -1;
  const ss = starts(code);
  const i = rng.pick(ss);
  const op = code.opcode[i];
  const cls = op & 7;
  let what = "";
  switch (rng.int(9)) {
    case 0: { // flip the opcode within its class
      if (cls === 4 || cls === 7) {
        code.opcode[i] = (op & 0x0f) | rng.pick([...ALU_OPS, 0xb0, 0x80]);
        if (rng.chance(0.3)) code.opcode[i] ^= 0x03; // ALU32 <-> ALU64
      } else if (isJump(op)) {
        code.opcode[i] = (op & 0x0f) | rng.pick(JMP_OPS);
        if (rng.chance(0.2)) code.opcode[i] ^= 0x03; // JMP <-> JMP32
      } else if (cls === 1 || cls === 2 || cls === 3) {
        code.opcode[i] = (op & ~0x18) | rng.pick(SIZES);
      } else {
        code.opcode[i] = rng.int(256);
      }
      what = `opcode@${i}`;
      break;
    }
    case 1: // registers
      if (rng.chance(0.5)) code.dst[i] = rng.int(11);
      else code.src[i] = rng.int(11);
      what = `reg@${i}`;
      break;
    case 2: // offset
      code.off[i] = rng.chance(0.6) ? code.off[i] + rng.pick([-8, -4, -2, -1, 1, 2, 4, 8]) : rng.pick([0, -1, -8, -512, 48, 64, rng.int(65536) - 32768]);
      what = `off@${i}`;
      break;
    case 3: // immediate
      if (isCall(op) && code.src[i] === 0) code.imm[i] = rng.pick([1, 2, 3, 5, 7, 12, 14, 25, 26, 44, 51, 65, 130, 131, 132, 133, 181]);
      else code.imm[i] = interestingImm(rng, code.imm[i]);
      what = `imm@${i}`;
      break;
    case 4: { // insert an instruction
      const r = rng.int(10);
      const ins = rng.pick<() => RawInsn>([
        () => alu64i(rng.pick(ALU_OPS), r, interestingImm(rng, 0)), () => alu32r(rng.pick(ALU_OPS), r, rng.int(11)),
        () => mov64i(r, interestingImm(rng, 0)), () => mov64r(r, rng.int(11)), () => ldx(rng.pick(SIZES), r, rng.int(11), rng.int(64) - 8),
        () => stx(rng.pick(SIZES), rng.int(11), r, rng.int(64) - 32), () => jmpi(rng.pick(JMP_OPS), r, rng.int(64), rng.int(4)),
        () => ja(rng.int(3)), () => call(rng.pick([1, 5, 7, 12, 131, 132])), () => exit(), () => atomic(DW, rng.int(11), r, -8, rng.pick([0, 1, 0xe1])),
      ])();
      code = splice(code, i, 0, [ins]);
      at = i;
      what = `insert@${i}`;
      break;
    }
    case 5: // delete an instruction
      if (code.length > 2) {
        code = splice(code, i, isLdImm64(code, i) ? 2 : 1, []);
        at = i;
        what = `delete@${i}`;
      }
      break;
    case 6: { // perturb a jump
      const js = ss.filter((k) => isJump(code.opcode[k]));
      if (!js.length) break;
      const k = rng.pick(js);
      if (code.opcode[k] === 0x06) code.imm[k] += rng.pick([-2, -1, 1, 2]);
      else if (rng.chance(0.5)) code.off[k] += rng.pick([-3, -2, -1, 1, 2, 3]);
      else {
        const jop = code.opcode[k] & 0xf0;
        if (FLIP_JMP[jop] !== undefined) code.opcode[k] = (code.opcode[k] & 0x0f) | FLIP_JMP[jop];
      }
      what = `jump@${k}`;
      break;
    }
    case 7: { // swap a bounds check: operands, strictness, or the constant before it
      const js = ss.filter((k) => isJump(code.opcode[k]) && (code.opcode[k] & 0xf0) !== 0);
      if (!js.length) break;
      const k = rng.pick(js);
      const jop = code.opcode[k] & 0xf0;
      const choice = rng.int(3);
      if (choice === 0 && code.opcode[k] & 8) { const d = code.dst[k]; code.dst[k] = code.src[k]; code.src[k] = d; }
      else if (choice === 1 && LOOSEN[jop] !== undefined) code.opcode[k] = (code.opcode[k] & 0x0f) | LOOSEN[jop];
      else {
        // The nearest `rX += K` before the check (pkt + K > data_end), or the compared constant.
        let a = k - 1;
        while (a >= 0 && !((code.opcode[a] & 0xf7) === 0x07 && (code.opcode[a] & 0xf0) === 0)) a--;
        if (a >= 0 && k - a < 4) code.imm[a] += rng.pick([-4, -1, 1, 4]);
        else if (!(code.opcode[k] & 8)) code.imm[k] += rng.pick([-1, 1, 8]);
      }
      what = `bounds@${k}`;
      break;
    }
    case 8: { // duplicate an instruction
      if (isLdImm64(code, i)) break;
      code = splice(code, i, 0, [code.raw(i)]);
      at = i;
      what = `dup@${i}`;
      break;
    }
  }
  const d = code.length - p.code.length;
  // Function starts after an inserted or deleted slot move with it, as jump targets do (fixJumps).
  const funcInfo = p.funcInfo && d !== 0 ? p.funcInfo.map((f) => ({ ...f, insn: f.insn > at || (d > 0 && f.insn === at && at > 0) ? f.insn + d : f.insn })) : p.funcInfo;
  return { ...p, origin: what ? `${p.origin} +${what}` : p.origin, code, ...(funcInfo ? { funcInfo } : {}) };
}

/**
 * The program for one fuzz seed: random (a third), else a corpus program with 1-3
 * mutations; with `only`, always a mutation of a corpus program whose name matches.
 */
export function fuzzCase(seed: number, only?: RegExp): { prog: FuzzProg; rng: Rng } {
  const rng = new Rng(seed * 2654435761);
  let p: FuzzProg;
  if (!only && rng.chance(0.35)) {
    p = randomProgram(rng);
    if (rng.chance(0.3)) p = mutate(p, rng);
  } else {
    p = rng.pick(only ? seedPrograms().filter((x) => only.test(x.origin)) : seedPrograms());
    for (let n = 1 + rng.int(3); n > 0; n--) p = mutate(p, rng);
  }
  return { prog: p, rng };
}

// ---------------------------------------------------------------- checked execution

export type Verdict =
  | { kind: "rejected"; error: string }
  /** Refused before verification (bad map reference, too many instructions...). */
  | { kind: "invalid"; error: string }
  | { kind: "accepted"; runs: number; faults: Fault[]; budget: number };

export interface Fault {
  readonly engine: EngineKind;
  readonly input: Uint8Array;
  readonly message: string;
}

/** Instructions one checked run may execute: verified programs end far sooner. */
const BUDGET = 2_000_000;
/** Program types run through their test run, with a random packet (the flow dissector's fills its flow_keys pointer). */
const PACKET_TYPES: ReadonlySet<number> = new Set([PT.XDP, PT.SCHED_CLS, PT.SOCKET_FILTER, PT.CGROUP_SKB, PT.FLOW_DISSECTOR]);

/** One VmKernel for many programs (maps and programs are closed after each). */
export class FuzzRunner {
  private kernel = new VmKernel();
  private uses = 0;

  /** Verifies `p` in the vm; if accepted, runs it checked on both engines with `inputs` random inputs. */
  check(p: FuzzProg, rng: Rng, inputs = 3): Verdict {
    if (++this.uses > 2000) {
      this.kernel = new VmKernel();
      this.uses = 0;
    }
    const k = this.kernel;
    const fds: number[] = [];
    let progFd = -1;
    try {
      for (const m of p.maps) {
        try {
          fds.push(k.mapCreate({
            mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags ?? 0, name: m.name ?? "",
            ...(m.valueFields ? { valueFields: m.valueFields } : {}),
          }));
        } catch (e) {
          return { kind: "invalid", error: `map: ${(e as Error).message}` };
        }
      }
      fillMaps(k, p, fds, rng);
      const code = p.code.clone();
      for (let i = 0; i + 1 < code.length; i++) {
        if (code.opcode[i] !== 0x18) continue;
        if ((code.src[i] === 1 || code.src[i] === 2) && code.imm[i] >= 0 && code.imm[i] < fds.length) code.imm[i] = fds[code.imm[i]];
        i++;
      }
      const funcs = p.funcInfo && p.funcInfo.length > 1 ? p.funcInfo : undefined;
      try {
        progFd = k.progLoad({
          progType: p.progType, expectedAttachType: p.attach ?? 0, insns: code, license: p.license ?? "GPL", logLevel: 0, verifierMode: "strict",
          ...(funcs ? { debugInfo: { funcInfo: funcs.map((f) => ({ insnIndex: f.insn, typeId: 0 })), lineInfo: [], functions: funcs.map((f) => ({ name: f.name, insnIndex: f.insn, length: 0 })) } } : {}),
        }).fd;
      } catch (e) {
        // The verifier's refusal, with the errno the kernel would give it (EACCES, EINVAL...).
        if (e instanceof BpfCommandError && (e.code === "EACCES" || e.cause instanceof VerifierError)) return { kind: "rejected", error: rootMessage(e) };
        if (e instanceof TsbpfError) return { kind: "invalid", error: rootMessage(e) };
        throw e;
      }
      const prog = k.program(progFd, "fuzz");
      return this.runChecked(k, prog, progFd, p, rng, inputs);
    } finally {
      if (progFd >= 0) k.close(progFd);
      for (const fd of fds) k.close(fd);
    }
  }

  private runChecked(k: VmKernel, prog: VmProgram, fd: number, p: FuzzProg, rng: Rng, inputs: number): Verdict {
    // Helpers check their memory arguments for programs that are `checked`, as for unverified ones.
    Object.defineProperty(prog, "checked", { value: true, configurable: true });
    const unchecked = prog.engine;
    const env: EngineEnv = { ...prog.env, checked: true, budget: BUDGET };
    const faults: Fault[] = [];
    let runs = 0, budget = 0;
    const inputsList = Array.from({ length: inputs }, () => randomInput(rng, p.progType));
    for (const kind of ["interp", "jit"] as const) {
      let engine: Engine;
      try {
        engine = createEngine(kind, prog.code, env);
      } catch (e) {
        faults.push({ engine: kind, input: new Uint8Array(), message: `engine refused the verified program: ${(e as Error).message}` });
        continue;
      }
      prog.engine = engine;
      try {
        for (const input of inputsList) {
          runs++;
          try {
            runOnce(k, prog, fd, p.progType, input);
          } catch (e) {
            if (e instanceof ProgramFault) {
              if (e.reason.includes("budget")) budget++;
              else faults.push({ engine: kind, input, message: e.message });
            } else if (!(e instanceof BpfCommandError)) {
              faults.push({ engine: kind, input, message: `run threw: ${(e as Error).stack ?? e}` });
            }
          }
        }
      } finally {
        engine.dispose();
      }
    }
    prog.engine = unchecked;
    return { kind: "accepted", runs, faults, budget };
  }
}

function rootMessage(e: unknown): string {
  let m = e instanceof Error ? e.message : String(e);
  let c: unknown = e instanceof Error ? e.cause : undefined;
  while (c instanceof Error) {
    m = c.message;
    c = c.cause;
  }
  return m;
}

/** Hash maps get a few entries (keys 0..3 and 0xff..), arrays random values: the lookups then succeed. */
function fillMaps(k: VmKernel, p: FuzzProg, fds: number[], rng: Rng): void {
  p.maps.forEach((m, i) => {
    if (m.type !== 1 && m.type !== 2 && m.type !== 5 && m.type !== 6 && m.type !== 9) return;
    if (m.keySize > 64 || m.valueSize > 4096) return;
    for (let n = 0; n < Math.min(4, m.maxEntries); n++) {
      const key = new Uint8Array(m.keySize);
      key[0] = n;
      const value = new Uint8Array(m.valueSize * (m.type === 5 || m.type === 6 ? k.ncpus : 1));
      for (let j = 0; j < value.length; j++) value[j] = rng.chance(0.5) ? rng.int(256) : rng.int(64);
      try {
        k.mapUpdateElem(fds[i], key, value, 0);
      } catch {
        // full map, key out of range: fine
      }
    }
  });
}

function randomInput(rng: Rng, progType: number): Uint8Array {
  const len = PACKET_TYPES.has(progType) ? 14 + rng.int(rng.chance(0.3) ? 1500 : 80) : 0;
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = rng.chance(0.7) ? rng.int(256) : rng.pick([0, 8, 6, 17, 0x45, 0x86, 0xdd, 0x81, 0xff]);
  if (len >= 14 && rng.chance(0.5)) { b[12] = 0x08; b[13] = 0x00; }
  return b;
}

/** Runs the program once (its engine already set): a test run for packet types, else a direct run on a random ctx. */
function runOnce(k: VmKernel, prog: VmProgram, fd: number, progType: number, input: Uint8Array): void {
  if (PACKET_TYPES.has(progType)) {
    k.progTestRun(fd, { data: input });
    return;
  }
  const info = progTypeById(progType);
  const size = Math.max(8, Math.min(info?.ctxSize ?? 64, 4096));
  const memory = new RunMemory(k.space);
  try {
    // Tracepoint programs may read before their record (zeros there, as the hook gives them).
    const before = -prog.minCtxOffset;
    const base = memory.alloc(before + size);
    const ctx = base + before;
    const u8 = k.space.u8;
    for (let j = 0; j < size; j++) u8[ctx + j] = (j * 131 + input.length) & 0xff;
    memory.region("ctx", false, "ctx", base, ctx + size);
    k.runProgram(prog, ctx);
  } finally {
    memory.dispose();
  }
}

// ---------------------------------------------------------------- reports

/** A fault reproducer: the smallest program (instructions replaced by `ja +0`) that still faults the same way. */
export function minimize(p: FuzzProg, stillBad: (q: FuzzProg) => boolean): FuzzProg {
  let cur = p;
  for (let i = 0; i < cur.code.length; i++) {
    if (cur.code.opcode[i] === 0x05 && cur.code.off[i] === 0) continue;
    if (isLdImm64(cur.code, i) || (i > 0 && isLdImm64(cur.code, i - 1))) continue;
    const code = cur.code.clone();
    code.set(i, ja(0));
    const q = { ...cur, code };
    if (stillBad(q)) cur = q;
  }
  return cur;
}

export function describe(p: FuzzProg): string {
  const hex = Array.from(p.code.toBytes("le"), (b) => b.toString(16).padStart(2, "0")).join("");
  return [
    `origin: ${p.origin}`,
    `type: ${progTypeById(p.progType)?.name ?? p.progType}${p.attach ? ` (attach ${p.attach})` : ""}, license ${p.license ?? "GPL"}`,
    `maps: ${JSON.stringify(p.maps)}`,
    ...(p.funcInfo ? [`funcs: ${JSON.stringify(p.funcInfo)}`] : []),
    disassemble(p.code).trimEnd(),
    `bytes: ${hex}`,
  ].join("\n");
}

/**
 * The kernel judges a program here when its maps can be recreated: value fields
 * other than spin locks and timers (kptrs, list heads...) need the object's BTF.
 */
export const kernelCanJudge = (p: FuzzProg): boolean =>
  p.maps.every((m) => (m.valueFields ?? []).every((f) => f.kind === "spin_lock" || f.kind === "timer"));
