/**
 * Links .text subprograms into each entry program that calls them, the way
 * libbpf does (libbpf.c, bpf_object__reloc_code and friends): each called
 * subprogram is appended once per entry program, depth first in call order;
 * calls and BPF_PSEUDO_FUNC loads are re-pointed at the copies; relocations,
 * CO-RE records, func_info and line_info of the subprogram move with it.
 */
import type { BtfExt } from "../btf/ext.js";
import { LoadError } from "../errors.js";
import { Bytecode } from "../isa/bytecode.js";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, OP_CALL, OP_LD_IMM64 } from "../isa/opcodes.js";
import type { CoreRelocation, LinkedFunction, ProgramFuncInfo, ProgramLineInfo, Relocation } from "./types.js";

/** A relocation as collected from the ELF, relative to its function's first instruction. */
export type RawReloc =
  | { kind: "call"; insnIdx: number; symOff: number }
  | { kind: "subprog_addr"; insnIdx: number; symOff: number }
  | { kind: "map" | "map_value" | "kconfig" | "ksym"; insnIdx: number; target: string; offset: number };

/** One function of the object (an entry program or a subprogram), before linking. */
export interface RawProgram {
  name: string;
  secIdx: number;
  secName: string;
  /** First instruction's index within its section. */
  secInsnOff: number;
  insns: Bytecode;
  relocs: RawReloc[];
  core: CoreRelocation[];
  isSubprog: boolean;
}

export interface LinkedProgram {
  instructions: Bytecode;
  functions: LinkedFunction[];
  relocations: Relocation[];
  coreRelocations: CoreRelocation[];
  funcInfo: ProgramFuncInfo[];
  lineInfo: ProgramLineInfo[];
}

interface LinkContext {
  readonly textIdx: number;
  /** .text functions sorted by offset. */
  readonly text: readonly RawProgram[];
  readonly ext?: BtfExt;
  readonly sectionName: (idx: number) => string;
}

const isSubprogCall = (code: Bytecode, i: number): boolean =>
  code.opcode[i] === OP_CALL && code.src[i] === BPF_PSEUDO_CALL && code.dst[i] === 0 && code.off[i] === 0;
const isPseudoFunc = (code: Bytecode, i: number): boolean => code.opcode[i] === OP_LD_IMM64 && code.src[i] === BPF_PSEUDO_FUNC;

/** find_prog_by_sec_insn within .text. */
function findTextFunction(ctx: LinkContext, insnIdx: number): RawProgram | undefined {
  for (const p of ctx.text) {
    if (insnIdx >= p.secInsnOff && insnIdx < p.secInsnOff + p.insns.length) return p;
  }
  return undefined;
}

/** Links one entry program. */
export function linkProgram(main: RawProgram, ctx: LinkContext): LinkedProgram {
  let code = main.insns.clone();
  const placed = new Map<RawProgram, number>([[main, 0]]);
  const out: LinkedProgram = {
    instructions: code, functions: [{ name: main.name, insnIndex: 0, length: main.insns.length }],
    relocations: [], coreRelocations: [], funcInfo: [], lineInfo: [],
  };
  // func_info/line_info are kept only if the entry program has them (reloc_prog_func_and_line_info).
  let funcInfoOn = true;
  let lineInfoOn = true;

  const carry = (p: RawProgram, base: number): void => {
    for (const r of p.relocs) {
      if (r.kind === "call" || r.kind === "subprog_addr") continue;
      out.relocations.push({ insnIndex: base + r.insnIdx, kind: r.kind, target: r.target, offset: r.offset });
    }
    for (const c of p.core) out.coreRelocations.push({ ...c, insnIndex: base + c.insnIndex });
  };

  const extInfo = (p: RawProgram, base: number): void => {
    const ext = ctx.ext;
    if (!ext) {
      funcInfoOn = lineInfoOn = false;
      return;
    }
    const sec = ctx.sectionName(p.secIdx);
    const lo = p.secInsnOff;
    const hi = p.secInsnOff + p.insns.length;
    const adj = base - p.secInsnOff;
    if (funcInfoOn) {
      const recs = ext.funcInfo.filter((s) => s.section === sec).flatMap((s) => s.records)
        .filter((r) => Math.floor(r.insnOff / 8) >= lo && Math.floor(r.insnOff / 8) < hi);
      if (recs.length) for (const r of recs) out.funcInfo.push({ insnIndex: Math.floor(r.insnOff / 8) + adj, typeId: r.typeId });
      else if (p === main) funcInfoOn = false;
      else throw new LoadError(`prog '${main.name}': missing .BTF.ext function info for subprogram '${p.name}'`);
    }
    if (lineInfoOn) {
      const recs = ext.lineInfo.filter((s) => s.section === sec).flatMap((s) => s.records)
        .filter((r) => Math.floor(r.insnOff / 8) >= lo && Math.floor(r.insnOff / 8) < hi);
      if (recs.length) {
        for (const r of recs) {
          out.lineInfo.push({
            insnIndex: Math.floor(r.insnOff / 8) + adj, fileNameOff: r.fileNameOff, lineOff: r.lineOff, line: r.line,
            column: r.column, fileName: r.fileName, lineText: r.lineText,
          });
        }
      } else if (p === main) lineInfoOn = false;
      else throw new LoadError(`prog '${main.name}': missing .BTF.ext line info for subprogram '${p.name}'`);
    }
  };

  const relocCode = (p: RawProgram, depth: number): void => {
    if (depth > 10_000) throw new LoadError(`prog '${main.name}': subprogram calls nest too deep`);
    const base = placed.get(p) ?? 0;
    extInfo(p, base);
    for (let i = 0; i < p.insns.length; i++) {
      const pos = base + i;
      if (!isSubprogCall(code, pos) && !isPseudoFunc(code, pos)) continue;
      const relo = p.relocs.find((r) => r.insnIdx === i);
      // kfunc calls are resolved by the loader.
      if (relo && relo.kind === "ksym") continue;
      if (relo && relo.kind !== "call" && relo.kind !== "subprog_addr") {
        throw new LoadError(`prog '${p.name}': unexpected ${relo.kind} relocation for call insn #${i}`);
      }
      let subIdx: number;
      if (relo && relo.kind === "call") {
        // Static callees are relocated against the section symbol, imm holding the offset.
        subIdx = relo.symOff / 8 + code.imm[pos] + 1;
      } else if (relo && relo.kind === "subprog_addr") {
        subIdx = (relo.symOff + code.imm[pos]) / 8;
      } else if (isPseudoFunc(code, pos)) {
        throw new LoadError(`prog '${p.name}': missing subprog addr relo for insn #${i}`);
      } else {
        // A call within the same section needs no relocation: imm is relative already.
        subIdx = p.secInsnOff + i + code.imm[pos] + 1;
      }
      const sub = findTextFunction(ctx, subIdx);
      if (!sub) throw new LoadError(`prog '${p.name}': no .text function at instruction ${subIdx} for the call at insn #${i}`);
      if (sub.secInsnOff !== subIdx) throw new LoadError(`prog '${p.name}': call at insn #${i} jumps into the middle of '${sub.name}'`);
      if (!placed.has(sub)) {
        const at = code.length;
        placed.set(sub, at);
        code = Bytecode.concat([code, sub.insns]);
        out.functions.push({ name: sub.name, insnIndex: at, length: sub.insns.length });
        carry(sub, at);
        relocCode(sub, depth + 1);
      }
      const target = placed.get(sub) ?? 0;
      code.imm[pos] = target - pos - 1;
      out.relocations.push({ insnIndex: pos, kind: isPseudoFunc(code, pos) ? "func_ptr" : "subprog", target: sub.name, offset: target });
    }
  };

  carry(main, 0);
  relocCode(main, 0);
  out.instructions = code;
  if (!funcInfoOn) out.funcInfo = [];
  if (!lineInfoOn) out.lineInfo = [];
  const byIndex = (a: { insnIndex: number }, b: { insnIndex: number }): number => a.insnIndex - b.insnIndex;
  out.relocations.sort(byIndex);
  out.coreRelocations.sort(byIndex);
  return out;
}
