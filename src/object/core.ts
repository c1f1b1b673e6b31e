/**
 * Applies CO-RE relocations to programs at load time: each record is resolved
 * once against the target BTF (src/btf/core.ts) and every program that holds
 * a copy of the instruction gets it patched the way libbpf patches it
 * (tools/lib/bpf/relo_core.c, bpf_core_patch_insn): ALU immediates, memory
 * access offsets (and sizes), LD_IMM64 constants; an unresolvable relocation
 * turns its instruction into a call to helper 0xbad2310, which the verifier
 * rejects only if the instruction is reachable.
 */
import type { Btf } from "../btf/btf.js";
import { type CoreResult, CoreResolver, coreReloKindName } from "../btf/core.js";
import { BtfError } from "../errors.js";
import type { Bytecode } from "../isa/bytecode.js";
import {
  BPF_ALU, BPF_ALU64, BPF_B, BPF_DW, BPF_H, BPF_K, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_W, OP_CALL, OP_LD_IMM64,
  classOf, sizeFieldOf, srcFlagOf,
} from "../isa/opcodes.js";
import type { ObjectSpec } from "./spec.js";
import type { ProgramSpec } from "./types.js";

/** The helper id a poisoned instruction calls: "bad relo" (relo_core.c, bpf_core_poison_insn). */
export const BPF_CORE_POISON_HELPER = 0xbad2310;

/** One patched (or poisoned) instruction, for logs and tests. */
export interface CorePatch {
  insnIndex: number;
  kind: number;
  result: CoreResult;
  /** "patched insn #2 (ALU/ALU64) imm 20 -> 2416" style description. */
  description: string;
}

/** Resolved CO-RE records of an object, by .BTF.ext record index. */
export type CoreResolution = Map<number, CoreResult>;

/**
 * Resolves every CO-RE record that the given programs (default: all with
 * autoload) use, in .BTF.ext order, each once. `targets` is the kernel's BTF
 * (vmlinux first, then modules), or a synthesized BTF for the vm.
 */
export function resolveCoreRelocations(spec: ObjectSpec, targets: readonly Btf[], programs?: readonly ProgramSpec[]): CoreResolution {
  const progs = programs ?? [...spec.programs.values()].filter((p) => p.autoload);
  const wanted = new Map<number, { typeId: number; accessString: string; kind: number; where: string }>();
  for (const p of progs) {
    for (const c of p.coreRelocations) {
      if (!wanted.has(c.recordIndex)) wanted.set(c.recordIndex, { ...c, where: `prog '${p.name}': relo #${c.recordIndex}` });
    }
  }
  const out: CoreResolution = new Map();
  if (wanted.size === 0) return out;
  if (!spec.btf) throw new BtfError(`object '${spec.name}' has CO-RE relocations but no BTF`);
  const resolver = new CoreResolver(spec.btf, targets);
  for (const idx of [...wanted.keys()].sort((a, b) => a - b)) {
    const w = wanted.get(idx);
    if (w) out.set(idx, resolver.resolve(w, w.where));
  }
  return out;
}

/**
 * A copy of the program's instructions with its CO-RE relocations applied.
 * Throws BtfError when an instruction does not have the form its relocation
 * expects (the object and its BTF disagree).
 */
export function applyCoreRelocations(program: ProgramSpec, resolution: CoreResolution): { instructions: Bytecode; patches: CorePatch[] } {
  const code = program.instructions.clone();
  const patches: CorePatch[] = [];
  for (const c of program.coreRelocations) {
    const res = resolution.get(c.recordIndex);
    if (!res) throw new BtfError(`prog '${program.name}': CO-RE record #${c.recordIndex} was not resolved`);
    const description = patchInsn(program.name, code, c.insnIndex, c.recordIndex, c.kind, res);
    patches.push({ insnIndex: c.insnIndex, kind: c.kind, result: res, description });
  }
  return { instructions: code, patches };
}

/** Resolves and applies in one step, for every program; returns patched instructions by program name. */
export function relocateCore(spec: ObjectSpec, targets: readonly Btf[]): Map<string, { instructions: Bytecode; patches: CorePatch[] }> {
  const progs = [...spec.programs.values()];
  const resolution = resolveCoreRelocations(spec, targets, progs);
  return new Map(progs.map((p) => [p.name, applyCoreRelocations(p, resolution)]));
}

function poison(code: Bytecode, i: number): void {
  code.opcode[i] = OP_CALL;
  code.dst[i] = 0;
  code.src[i] = 0;
  code.off[i] = 0;
  code.imm[i] = BPF_CORE_POISON_HELPER;
}

const sizeBytes = (opcode: number): number => {
  switch (sizeFieldOf(opcode)) {
    case BPF_DW: return 8;
    case BPF_W: return 4;
    case BPF_H: return 2;
    default: return 1;
  }
};

const sizeField = (bytes: number): number | undefined =>
  bytes === 8 ? BPF_DW : bytes === 4 ? BPF_W : bytes === 2 ? BPF_H : bytes === 1 ? BPF_B : undefined;

/** bpf_core_patch_insn. Returns a description of what changed. */
function patchInsn(prog: string, code: Bytecode, i: number, relo: number, kind: number, res: CoreResult): string {
  const where = `prog '${prog}': relo #${relo} (${coreReloKindName(kind)})`;
  if (i < 0 || i >= code.length) throw new BtfError(`${where}: instruction #${i} is outside the program`);
  const op = code.opcode[i];
  const cls = classOf(op);
  const doPoison = (): string => {
    // Poison both halves of an LD_IMM64 so the verifier reports the call, not a bad opcode.
    if (op === OP_LD_IMM64 && i + 1 < code.length) poison(code, i + 1);
    poison(code, i);
    return `substituting insn #${i} w/ invalid insn`;
  };
  if (res.poison) return doPoison();
  const orig = res.origVal;
  const next = res.newVal;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if (srcFlagOf(op) !== BPF_K) throw new BtfError(`${where}: insn #${i} (ALU/ALU64) takes a register, not an immediate`);
      if (res.validate && BigInt.asUintN(64, BigInt(code.imm[i])) !== orig && BigInt(code.imm[i]) !== orig) {
        throw new BtfError(`${where}: unexpected insn #${i} (ALU/ALU64) value: got ${code.imm[i]}, exp ${orig} -> ${next}`);
      }
      const old = code.imm[i];
      code.imm[i] = Number(BigInt.asIntN(32, next));
      return `patched insn #${i} (ALU/ALU64) imm ${old} -> ${next}`;
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && BigInt(code.off[i]) !== orig) {
        throw new BtfError(`${where}: unexpected insn #${i} (LDX/ST/STX) value: got ${code.off[i]}, exp ${orig} -> ${next}`);
      }
      if (next > 0x7fffn) throw new BtfError(`${where}: insn #${i} (LDX/ST/STX) value too big: ${next}`);
      if (res.failMemszAdjust) return doPoison();
      const old = code.off[i];
      code.off[i] = Number(next);
      let d = `patched insn #${i} (LDX/ST/STX) off ${old} -> ${next}`;
      if (res.newSize !== res.origSize) {
        const have = sizeBytes(op);
        if (have !== res.origSize) throw new BtfError(`${where}: insn #${i} (LDX/ST/STX) unexpected mem size: got ${have}, exp ${res.origSize}`);
        const sf = sizeField(res.newSize);
        if (sf === undefined) throw new BtfError(`${where}: insn #${i} (LDX/ST/STX) invalid new mem size: ${res.newSize}`);
        code.opcode[i] = (op & 0xe0) | sf | cls;
        d += `, mem_sz ${res.origSize} -> ${res.newSize}`;
      }
      return d;
    }
    case BPF_LD: {
      if (op !== OP_LD_IMM64 || i + 1 >= code.length || code.src[i] !== 0 || code.off[i] !== 0 ||
        code.opcode[i + 1] !== 0 || code.dst[i + 1] !== 0 || code.src[i + 1] !== 0 || code.off[i + 1] !== 0) {
        throw new BtfError(`${where}: insn #${i} (LDIMM64) has unexpected form`);
      }
      const imm = (BigInt(code.imm[i + 1] >>> 0) << 32n) | BigInt(code.imm[i] >>> 0);
      if (res.validate && imm !== BigInt.asUintN(64, orig)) {
        throw new BtfError(`${where}: unexpected insn #${i} (LDIMM64) value: got ${imm}, exp ${orig} -> ${next}`);
      }
      const u = BigInt.asUintN(64, next);
      code.imm[i] = Number(BigInt.asIntN(32, u & 0xffffffffn));
      code.imm[i + 1] = Number(BigInt.asIntN(32, u >> 32n));
      return `patched insn #${i} (LDIMM64) imm64 ${imm} -> ${next}`;
    }
    default:
      throw new BtfError(`${where}: trying to relocate unrecognized insn #${i}, code:0x${op.toString(16)}`);
  }
}
