/**
 * Programs of an object spec loaded into the kernel (libbpf.c,
 * bpf_object__relocate_data, bpf_object_load_prog, libbpf_prepare_prog_load):
 * CO-RE patches applied, symbolic relocations turned into what BPF_PROG_LOAD
 * takes (map fds, map values, kconfig, ksyms), func_info / line_info passed
 * along with the object's BTF, attach BTF ids found for tp_btf / fentry /
 * fexit / fmod_ret / lsm / iter, expected_attach_type set (or dropped for
 * optional ones where the kernel has no such thing), and the verifier's
 * refusal reported with its log, the failing instruction and the source line.
 */
import type { Bytecode } from "../../isa/bytecode.js";
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, OP_CALL, OP_LD_IMM64,
} from "../../isa/opcodes.js";
import { BpfCommandError, LoadError, NotSupportedError, VerifierError } from "../../errors.js";
import { BPF_CORE_POISON_HELPER, type CorePatch, type CoreResolution, applyCoreRelocations } from "../../object/core.js";
import type { ProgramLineInfo, ProgramSpec } from "../../object/types.js";
import { AttachType, BPF_OBJ_NAME_LEN, ProgType } from "../constants.js";
import { BtfKind, vmlinuxBtf } from "../kernel-btf.js";
import { LinuxProgram, type ProgramBtf } from "../program.js";
import { FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE, encodeFuncInfo, encodeLineInfo } from "./btf.js";
import type { KsymResolution } from "./ksyms.js";
import type { CreatedMap } from "./maps.js";

/** libbpf.c, POISON_CALL_KFUNC_BASE: calls of unresolved weak kfuncs become "call unknown#2002000000 + i". */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/** A program the kernel refused: the summary names the program; `log` is the verifier's whole log. */
export class ProgramLoadError extends LoadError {
  constructor(
    message: string,
    readonly program: string,
    readonly log: string,
    readonly insnIndex: number | undefined,
    readonly sourceLine: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

export interface ProgramLoadContext {
  readonly maps: ReadonlyMap<string, CreatedMap>;
  /** The object's BTF in the kernel (func/line info need it), if it loaded. */
  readonly btfFd?: number;
  /** The uploaded BTF still has FUNC kinds (func_info records name them). */
  readonly btfHasFuncs: boolean;
  readonly core: CoreResolution;
  readonly ksyms: ReadonlyMap<string, KsymResolution>;
  readonly ksymIndex: ReadonlyMap<string, number>;
  readonly kconfigMap?: string;
  readonly logLevel: number;
  /** The kernel takes expected_attach_type at load (4.17; libbpf's FEAT_EXP_ATTACH_TYPE). */
  readonly expectedAttachType: boolean;
  readonly kernVersion: number;
}

/** The program's instructions ready for BPF_PROG_LOAD, and what CO-RE did to them. */
export function relocateProgram(p: ProgramSpec, ctx: ProgramLoadContext): { insns: Bytecode; patches: CorePatch[] } {
  const { instructions: code, patches } = p.coreRelocations.length
    ? applyCoreRelocations(p, ctx.core)
    : { instructions: p.instructions.clone(), patches: [] };
  const mapFd = (name: string, why: string): number => {
    const m = ctx.maps.get(name);
    if (!m) throw new LoadError(`prog '${p.name}': ${why} refers to map '${name}', which was not created`);
    return m.map.fd.value;
  };
  for (const r of p.relocations) {
    const i = r.insnIndex;
    const isLd = code.opcode[i] === OP_LD_IMM64;
    switch (r.kind) {
      case "map":
        code.src[i] = BPF_PSEUDO_MAP_FD;
        code.imm[i] = mapFd(r.target, `insn ${i}`);
        code.imm[i + 1] = 0;
        break;
      case "map_value":
        code.src[i] = BPF_PSEUDO_MAP_VALUE;
        code.imm[i] = mapFd(r.target, `insn ${i}`);
        code.imm[i + 1] = r.offset;
        break;
      case "kconfig":
        if (!ctx.kconfigMap) throw new LoadError(`prog '${p.name}': kconfig extern '${r.target}' without a .kconfig map`);
        code.src[i] = BPF_PSEUDO_MAP_VALUE;
        code.imm[i] = mapFd(ctx.kconfigMap, `kconfig extern '${r.target}'`);
        code.imm[i + 1] = r.offset;
        break;
      case "ksym": {
        const k = ctx.ksyms.get(r.target);
        if (!k) throw new LoadError(`prog '${p.name}': extern '${r.target}' was not resolved`);
        if (code.opcode[i] === OP_CALL) {
          if (k.kind === "btf") {
            code.src[i] = BPF_PSEUDO_KFUNC_CALL;
            code.imm[i] = k.btfId;
            // Index into fd_array of the module BTF; 0 is vmlinux.
            code.off[i] = 0;
          } else {
            // Unresolved weak kfunc: a call the verifier refuses only if it is reachable.
            code.src[i] = 0;
            code.dst[i] = 0;
            code.off[i] = 0;
            code.imm[i] = POISON_CALL_KFUNC_BASE + (ctx.ksymIndex.get(r.target) ?? 0);
          }
        } else if (isLd) {
          if (k.kind === "btf") {
            code.src[i] = BPF_PSEUDO_BTF_ID;
            code.imm[i] = k.btfId;
            code.imm[i + 1] = k.btfObjFd;
          } else {
            const addr = k.kind === "addr" ? k.addr : 0n;
            code.src[i] = 0;
            code.imm[i] = Number(addr & 0xffff_ffffn);
            code.imm[i + 1] = Number(addr >> 32n);
          }
        } else {
          throw new LoadError(`prog '${p.name}': ksym relocation at insn ${i} is neither a call nor a 64-bit load`);
        }
        break;
      }
      case "subprog":
      case "func_ptr":
        // Linked when the spec was read: nothing depends on the kernel.
        break;
    }
  }
  return { insns: code, patches };
}

/** The attach_btf_id the section asks for, looked up in vmlinux BTF (libbpf.c, libbpf_find_attach_btf_id). */
export function attachBtfId(p: ProgramSpec): number | undefined {
  if (!p.attachBtf) return undefined;
  if (p.type === ProgType.BPF_PROG_TYPE_EXT) {
    throw new NotSupportedError(`freplace program '${p.name}'`, "needs a target program; not supported by the linux loader yet");
  }
  if (!p.attachTarget) throw new LoadError(`prog '${p.name}': section '${p.sectionName}' names no attach target`);
  let name: string;
  let kind: number = BtfKind.FUNC;
  switch (p.expectedAttachType) {
    case AttachType.BPF_TRACE_RAW_TP:
      // Raw tracepoints are described by typedef btf_trace_<name> (include/trace/bpf_probe.h).
      name = `btf_trace_${p.attachTarget}`;
      kind = BtfKind.TYPEDEF;
      break;
    case AttachType.BPF_LSM_MAC:
    case AttachType.BPF_LSM_CGROUP:
      name = `bpf_lsm_${p.attachTarget}`;
      break;
    case AttachType.BPF_TRACE_ITER:
      name = `bpf_iter_${p.attachTarget}`;
      break;
    default:
      name = p.attachTarget;
  }
  const id = vmlinuxBtf().find(name, kind);
  if (id === undefined) {
    throw new LoadError(`prog '${p.name}': attach target '${name}' not found in kernel BTF (/sys/kernel/btf/vmlinux)`);
  }
  return id;
}

/** "file.bpf.c:41" for the last line_info record at or before insn. */
export function sourceLineOf(lines: readonly ProgramLineInfo[], insn: number): string | undefined {
  let best: ProgramLineInfo | undefined;
  for (const l of lines) if (l.insnIndex <= insn && (!best || l.insnIndex >= best.insnIndex)) best = l;
  if (!best) return undefined;
  const file = best.fileName.slice(best.fileName.lastIndexOf("/") + 1);
  return `${file}:${best.line}`;
}

/** A clearer summary for refusals caused by the loader's own poisoning (unresolved CO-RE, weak kfuncs). */
function explain(summary: string, patches: readonly CorePatch[], ksymIndex: ReadonlyMap<string, number>): string {
  const m = /unknown#(\d+)/.exec(summary);
  if (!m) return summary;
  const id = Number(m[1]);
  if (id === BPF_CORE_POISON_HELPER) {
    const bad = patches.filter((x) => x.result.poison).map((x) => `insn ${x.insnIndex}`);
    return `${summary} (a CO-RE relocation failed to resolve against kernel BTF and its instruction is reachable${bad.length ? `: ${bad.join(", ")}` : ""})`;
  }
  if (id >= POISON_CALL_KFUNC_BASE && id < POISON_CALL_KFUNC_BASE + 1_000_000) {
    const name = [...ksymIndex].find(([, i]) => i === id - POISON_CALL_KFUNC_BASE)?.[0] ?? "?";
    return `${summary} (call to weak kfunc '${name}', which the kernel does not have)`;
  }
  return summary;
}

/** BPF_PROG_LOAD of one program spec. */
export function loadProgram(p: ProgramSpec, ctx: ProgramLoadContext): LinuxProgram {
  const what = `load program ${p.name}`;
  if (p.type === 0) throw new LoadError(`${what}: section '${p.sectionName}' does not name a program type libbpf knows`);
  if (p.type === ProgType.BPF_PROG_TYPE_STRUCT_OPS) {
    throw new NotSupportedError(`struct_ops program '${p.name}'`, "the linux backend does not register struct_ops yet");
  }
  const attachBtf = attachBtfId(p);
  const { insns, patches } = relocateProgram(p, ctx);
  let btf: ProgramBtf | undefined;
  if (ctx.btfFd !== undefined) {
    const funcInfo = ctx.btfHasFuncs && p.funcInfo.length ? encodeFuncInfo(p.funcInfo) : undefined;
    // line_info without func_info is refused by the kernel (check_btf_line needs the subprog boundaries).
    const lineInfo = funcInfo && p.lineInfo.length ? encodeLineInfo(p.lineInfo) : undefined;
    btf = {
      fd: ctx.btfFd,
      ...(funcInfo ? { funcInfo, funcInfoRecSize: FUNC_INFO_REC_SIZE } : {}),
      ...(lineInfo ? { lineInfo, lineInfoRecSize: LINE_INFO_REC_SIZE } : {}),
    };
  }
  const expected = p.attachTypeOptional && !ctx.expectedAttachType ? 0 : p.expectedAttachType;
  try {
    return LinuxProgram.load({
      type: p.type,
      insns: insns.toBytes(),
      license: p.license,
      name: p.name.slice(0, BPF_OBJ_NAME_LEN - 1),
      expectedAttachType: expected,
      ...(attachBtf !== undefined ? { attachBtfId: attachBtf } : {}),
      flags: p.flags,
      kernVersion: p.kernelVersion || ctx.kernVersion,
      ...(btf ? { btf } : {}),
      logLevel: ctx.logLevel,
    });
  } catch (e) {
    if (e instanceof VerifierError) {
      const src = e.insnIndex !== undefined ? sourceLineOf(p.lineInfo, e.insnIndex) : undefined;
      const summary = explain(e.message, patches, ctx.ksymIndex);
      const where = e.insnIndex !== undefined ? ` (insn ${e.insnIndex}${src ? `, ${src}` : ""})` : "";
      const cause = new VerifierError(summary, e.log, e.insnIndex, src);
      throw new ProgramLoadError(`${what}: ${summary}${where}`, p.name, e.log, e.insnIndex, src, { cause });
    }
    if (e instanceof BpfCommandError) {
      // Refused before verification: bad attributes (EINVAL), missing privilege or lockdown (EPERM).
      throw new ProgramLoadError(`${what}: BPF_PROG_LOAD failed with ${e.code}`, p.name, "", undefined, undefined, { cause: e });
    }
    throw e;
  }
}
