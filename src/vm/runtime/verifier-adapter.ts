/**
 * The vm kernel's verifier: the runtime's objects (maps, helper registry, the
 * object's BTF) described to src/vm/verifier through its small interfaces.
 */
import type { Btf } from "../../btf/btf.js";
import type { BtfType } from "../../btf/types.js";
import type { LinkedFunction, ProgramFuncInfo, ProgramLineInfo } from "../../object/types.js";
import { BPF_FUNC_tail_call } from "../engine.js";
import { ArrayMap } from "../maps/array.js";
import { ArrayOfMapsMap, HashOfMapsMap, type InnerMapMeta } from "../maps/map_in_map.js";
import type { BpfMap, ValueField } from "../maps/map.js";
import { helperProtos } from "../helpers/protos.js";
import type { ProgTypeVerifierInfo } from "../progtypes/types.js";
import { type FuncInfo, type LineInfo, type VerifierMapInfo, verify } from "../verifier/index.js";
import type { ProgramVerifier, VerifyOutcome, VerifyRequest } from "./verify.js";

/** BTF_FUNC_GLOBAL. include/uapi/linux/btf.h, enum btf_func_linkage. */
const BTF_FUNC_GLOBAL = 1;

/** What the loader passes as ProgLoadAttrs.debugInfo: the program's BTF info from its object. */
export interface ProgramDebugInfo {
  readonly btf?: Btf;
  readonly funcInfo: readonly ProgramFuncInfo[];
  readonly lineInfo: readonly ProgramLineInfo[];
  readonly functions: readonly LinkedFunction[];
}

export interface VerifyOptions {
  /** CAP_BPF + CAP_PERFMON (default true). */
  readonly privileged?: boolean;
  /** Add the kernel's BPF_LOG_STATS lines ("verification time", "stack depth") to the log. */
  readonly logStats?: boolean;
}

export function vmVerifier(options: VerifyOptions = {}): ProgramVerifier {
  return (req: VerifyRequest): VerifyOutcome => {
    const infos = new Map<BpfMap, VerifierMapInfo>();
    const info = (m: BpfMap): VerifierMapInfo => {
      let i = infos.get(m);
      if (!i) infos.set(m, (i = mapInfo(m)));
      return i;
    };
    const debug = req.debugInfo as ProgramDebugInfo | undefined;
    // bpf_tail_call has no registry entry: the engines perform it themselves
    // (env.tailCallTarget), so it is implemented wherever the type allows it.
    const progType = onlyImplementedHelpers(req.progType, (id) => id === BPF_FUNC_tail_call || req.helpers.has(id));
    const result = verify({
      code: req.code,
      progType,
      expectedAttachType: req.attachType,
      helper: (id) => helperProtos.get(id),
      maps: (handle) => {
        const m = req.maps(handle);
        return m ? info(m) : undefined;
      },
      license: req.license,
      logLevel: Math.min(2, Math.max(0, req.logLevel)) as 0 | 1 | 2,
      privileged: options.privileged ?? true,
      logStats: options.logStats ?? false,
      mode: "strict",
      ...(req.ncpus ? { nrCpuIds: req.ncpus } : {}),
      ...(debug ? { funcInfo: funcInfo(debug, req.progType), lineInfo: lineInfo(debug) } : {}),
    });
    return {
      accepted: result.accepted,
      log: result.log,
      ...(result.error ? { error: result.error } : {}),
      processedInsns: result.stats.processedInsns,
      xlated: result.xlated,
      xlatedOrigin: result.xlatedOrigin,
      aux: result.aux,
      stats: result.stats,
      stackDepth: result.stackDepth,
      maxCtxOffset: result.maxCtxOffset,
      minCtxOffset: result.minCtxOffset,
    };
  };
}

/**
 * The kernel's get_func_proto chain, narrowed to what this vm implements: a
 * helper the kernel has but the vm lacks is one "this program type cannot use".
 */
function onlyImplementedHelpers(t: ProgTypeVerifierInfo, implemented: (id: number) => boolean): ProgTypeVerifierInfo {
  const narrowed: ProgTypeVerifierInfo = Object.create(t);
  Object.defineProperty(narrowed, "allowsHelper", {
    value: (id: number, attachType: number, ...rest: unknown[]) =>
      implemented(id) && (t.allowsHelper as (...a: unknown[]) => boolean).call(t, id, attachType, ...rest),
  });
  return narrowed;
}

/** btf_field_type_name() of the special fields the verifier gets as `otherFields`. */
const OTHER_FIELD_NAMES: Readonly<Partial<Record<ValueField["kind"], string>>> = {
  wq: "bpf_wq", kptr: "kptr", list_head: "bpf_list_head", rb_root: "bpf_rb_root", refcount: "bpf_refcount",
};

/** The value's special fields other than the spin lock and the timer, as the verifier takes them. */
function otherFields(fields: readonly ValueField[]): VerifierMapInfo["otherFields"] {
  const out = fields.flatMap((f) => {
    const name = OTHER_FIELD_NAMES[f.kind];
    return name ? [{ name, offset: f.offset, size: f.size }] : [];
  });
  return out.length ? out : undefined;
}

function mapInfo(m: BpfMap): VerifierMapInfo {
  const timer = m.valueFields.find((f) => f.kind === "timer");
  const others = otherFields(m.valueFields);
  // Array lookups are inlined as array_map_gen_lookup does when the value area
  // is within reach of a 32-bit immediate from the map pointer.
  const inlineOffset = m instanceof ArrayMap ? m.base - m.addr : undefined;
  const rodata = m instanceof ArrayMap && m.frozen && m.maxEntries === 1 && !m.progCanWrite;
  return {
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    frozen: m.frozen,
    name: m.name,
    ...(m.spinLockOff >= 0 ? { spinLockOff: m.spinLockOff } : {}),
    ...(timer ? { timerOff: timer.offset } : {}),
    ...(others ? { otherFields: others } : {}),
    ...(inlineOffset !== undefined && Math.abs(inlineOffset) < 2 ** 31 ? { inlineValueOffset: inlineOffset } : {}),
    ...(rodata ? { readOnlyValue: m.space.read((m as ArrayMap).base, m.valueSize) } : {}),
    logAddress: BigInt(m.addr),
    ...(m instanceof ArrayOfMapsMap || m instanceof HashOfMapsMap ? { inner: innerInfo(m.meta) } : {}),
  };
}

/**
 * What a lookup in a map of maps yields to the verifier: the inner map template
 * (the kernel's inner_map_meta, which has no name), so a second map helper on
 * the result is checked against the inner maps' key and value sizes.
 */
function innerInfo(meta: InnerMapMeta): VerifierMapInfo {
  // The template keeps the inner maps' special fields (the kernel's inner_map_meta has their btf_record):
  // loads and stores must not touch their bpf_spin_lock or bpf_timer either.
  const fields = JSON.parse(meta.fields) as ValueField[];
  const lock = fields.find((f) => f.kind === "spin_lock");
  const timer = fields.find((f) => f.kind === "timer");
  const others = otherFields(fields);
  return {
    type: meta.mapType, keySize: meta.keySize, valueSize: meta.valueSize, maxEntries: meta.maxEntries, flags: meta.mapFlags, name: "",
    ...(lock ? { spinLockOff: lock.offset } : {}),
    ...(timer ? { timerOff: timer.offset } : {}),
    ...(others ? { otherFields: others } : {}),
  };
}

function lineInfo(d: ProgramDebugInfo): LineInfo[] {
  return d.lineInfo.map((l) => ({ insn: l.insnIndex, file: l.fileName, line: l.line, col: l.column, text: l.lineText }));
}

/** func_info with what the verifier needs of global functions (btf_prepare_func_args). */
function funcInfo(d: ProgramDebugInfo, progType: ProgTypeVerifierInfo): FuncInfo[] {
  const btf = d.btf;
  return d.funcInfo.map((f, i) => {
    const name = d.functions[i]?.name ?? `func#${i}`;
    if (!btf) return { insn: f.insnIndex, name };
    const fn = btf.type(f.typeId);
    if (fn.kind !== "func") return { insn: f.insnIndex, name };
    const proto = btf.type(fn.type);
    const global = fn.linkage === BTF_FUNC_GLOBAL && i > 0;
    if (proto.kind !== "func_proto" || !global) return { insn: f.insnIndex, name: fn.name, global };
    const params = proto.params.map((p) => paramKind(btf, p.type, progType));
    return { insn: f.insnIndex, name: fn.name, global, params, returnsVoid: proto.returnType === 0 };
  });
}

function paramKind(btf: Btf, typeId: number, progType: ProgTypeVerifierInfo): NonNullable<FuncInfo["params"]>[number] {
  const t: BtfType = btf.skipModsAndTypedefs(typeId);
  if (t.kind !== "ptr") return { kind: "scalar" };
  const target = btf.skipModsAndTypedefs(t.type);
  if ((target.kind === "struct" || target.kind === "union") && target.name === progType.ctxStruct.replace(/^struct /, "")) {
    return { kind: "ctx" };
  }
  let size = 0;
  try {
    size = btf.sizeof(target.id);
  } catch {
    size = 0;
  }
  return { kind: "mem", size, nullable: true };
}
