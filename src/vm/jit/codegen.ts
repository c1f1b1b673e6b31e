/**
 * eBPF -> WebAssembly. One wasm function per BPF function (entry 0, every
 * bpf-to-bpf call target, every callback target), registers as i64 locals, the
 * control flow rebuilt as structured blocks and loops (Ramsey, "Beyond Relooper:
 * recursive translation of unstructured control flow to structured control
 * flow", ICFP 2022) so that hot loops stay real wasm loops; a function whose CFG
 * is irreducible falls back to a loop around a br_table over its blocks.
 *
 * Semantics mirror the reference interpreter (src/vm/interp/interpreter.ts)
 * opcode by opcode, including its answers for encodings the verifier would
 * reject, so checked (unverified) runs fault where it faults.
 */
import type { Bytecode } from "../../isa/bytecode.js";
import { BPF_PSEUDO_FUNC, MAX_BPF_STACK } from "../../isa/opcodes.js";
import {
  type Block, type Edge, type FunctionCfg, Kind, type ProgramInfo, analyzeProgram, functionCfg, kindAt, targetOf,
} from "./cfg.js";
import { type Signatures, computeSignatures, usesDefs } from "./liveness.js";
import type { DirectHelper, InlineFastPath } from "../helpers/abi.js";
import { BPF_RB_NO_WAKEUP, BPF_RINGBUF_HDR_SZ } from "../maps/uapi.js";
import { CALLBACK_AREA, CALL_AREA, Fault, JIT_BUDGET, JIT_REGS } from "./layout.js";
import {
  AtomicOp, F64, FuncBody, type FuncType, I32, I64, MiscOp, ModuleWriter, Op, RMW_I64, RMW_I64_32U, type ValType, alignOf,
} from "./wasm.js";

/** A helper call site, as offered to the runtime's inlining hook. */
export interface HelperSite {
  readonly pc: number;
  readonly helperId: number;
  /** r1 when the same block loads it with a constant (a map address, usually), as i32 words. */
  readonly r1?: { readonly lo: number; readonly hi: number };
}

/**
 * A helper call the JIT may replace. `array_lookup` is bpf_map_lookup_elem on
 * an array map, inline, as the kernel's array_map_gen_lookup does it:
 * r0 = key < maxEntries ? base + key * stride : 0, key = *(u32 *)r2.
 * `direct` calls the helper's specialised form for the site (an import of its
 * own taking i32 arguments), bypassing the call area.
 */
export type InlineHelper =
  | {
    readonly kind: "array_lookup";
    readonly base: number;
    readonly stride: number;
    readonly maxEntries: number;
  }
  | ({ readonly kind: "direct" } & DirectHelper);

/** The runtime's say on helper call sites (only consulted for verified, unchecked programs). */
export type InlineHook = (site: HelperSite) => InlineHelper | undefined;

export interface CompileOptions {
  /** Checked mode: access checks, budget, depth checks (EngineEnv.checked). */
  readonly checked: boolean;
  /** The memory is shared between agents: BPF atomics become wasm atomics. */
  readonly shared: boolean;
  /** Maximum pages of the memory (a shared memory import must declare it). */
  readonly maxPages: number;
  /** Helper call sites to inline (from planInlining; honoured only when unchecked). */
  readonly inlineSites?: ReadonlyMap<number, InlineHelper>;
  /** Emit the bytes only (no WebAssembly.Module): for measuring the code generator. */
  readonly skipModule?: boolean;
}

/** Asks the hook about every helper call site of the program (in reachable code). */
export function planInlining(code: Bytecode, hook: InlineHook): Map<number, InlineHelper> {
  const prog = analyzeProgram(code);
  const out = new Map<number, InlineHelper>();
  for (const b of prog.blocks.values()) {
    const pc = b.pcs[b.pcs.length - 1];
    if (b.lastKind !== Kind.call_helper || out.has(pc)) continue;
    const how = hook({ pc, helperId: code.imm[pc], r1: constR1(code, b, pc) });
    if (how) out.set(pc, how);
  }
  return out;
}

/** A compiled program: the module and what the engine needs to link and drive it. */
export interface CompiledProgram {
  readonly bytes: Uint8Array;
  readonly module: WebAssembly.Module;
  /** Helper ids, in the order of their imports (`h<id>`). */
  readonly helperIds: readonly number[];
  /** Callback entry pc -> dispatcher index (the `cb` export). */
  readonly callbackIndex: ReadonlyMap<number, number>;
  /** Registers the entry reads from JIT_REGS (bit r). */
  readonly entryParams: number;
  /** r0 / r6..r9 that helper calls store to JIT_REGS for callbacks. */
  readonly cbSpill: number;
  /** The module exports `repeat` (see compileProgram). */
  readonly hasRepeat: boolean;
  readonly checked: boolean;
  /** Program length in slots (for fault messages). */
  readonly length: number;
  /** For mapping a trap back to an instruction: per defined function, body offsets and pcs. */
  readonly pcMap: PcMap;
  /** Functions: entry pc and wasm function index. */
  readonly functions: ReadonlyArray<{ readonly entry: number; readonly index: number; readonly reducible: boolean }>;
  /** Wasm bytes per BPF instruction, for reports. */
  readonly stats: { readonly insns: number; readonly codeBytes: number };
}

export class PcMap {
  constructor(
    readonly importedFuncs: number,
    /** Per defined function: module offsets (ascending) and the pc emitted there. */
    readonly offsets: ReadonlyArray<Int32Array>,
    readonly pcs: ReadonlyArray<Int32Array>,
    /** Per defined function: [start, end) of its code in the module. */
    readonly ranges: ReadonlyArray<readonly [number, number]> = [],
  ) {}

  /** The instruction whose code holds module offset `offset` in wasm function `funcIndex`. */
  lookup(funcIndex: number, offset: number): number | undefined {
    const i = funcIndex - this.importedFuncs;
    const offs = this.offsets[i];
    if (!offs || offs.length === 0) return undefined;
    let lo = 0;
    let hi = offs.length - 1;
    if (offset < offs[0]) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offs[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.pcs[i][lo];
  }

  /** The instruction whose code holds module offset `offset`, in whichever function it lies. */
  lookupOffset(offset: number): number | undefined {
    const i = this.ranges.findIndex(([a, b]) => offset >= a && offset < b);
    return i < 0 ? undefined : this.lookup(i + this.importedFuncs, offset);
  }
}

/** Imported function names (module "jit"). */
export const IMPORT = {
  fault: "fault",
  callx: "callx",
  tail: "tail",
  ldpkt: "ldpkt",
  check: "check",
  helper: (id: number): string => `h${id}`,
  /** The direct helper of the call site at pc. */
  direct: (pc: number): string => `d${pc}`,
} as const;

/** Records up to this size are written by inline ring buffer output; bigger ones by the helper. */
const RINGBUF_INLINE_MAX = 256;
/** log2(PAGE_SIZE) on x86-64: a ring buffer header's pg_off counts 4 KiB pages. */
const PAGE_SHIFT = 12;

const mask = (regs: number): number[] => {
  const out: number[] = [];
  for (let r = 0; r <= 10; r++) if (regs & (1 << r)) out.push(r);
  return out;
};

/** Compiles a program. Throws nothing for odd code: what cannot run becomes a fault at run time. */
export function compileProgram(code: Bytecode, options: CompileOptions): CompiledProgram {
  const prog = analyzeProgram(code);
  const cfgs = new Map<number, FunctionCfg>();
  for (const e of prog.entries) cfgs.set(e, functionCfg(prog, e));
  const sigs = computeSignatures(prog, cfgs);

  const mod = new ModuleWriter({ shared: options.shared, maxPages: options.maxPages });
  const i32s = (k: number): ValType[] => new Array<ValType>(k).fill(I32);
  const imp = {
    fault: mod.importFunc("jit", IMPORT.fault, { params: i32s(3), results: [] }),
    callx: -1,
    tail: -1,
    ldpkt: -1,
    check: -1,
    helpers: new Map<number, number>(),
    direct: new Map<number, number>(),
  };
  // Helper imports: one per distinct id, so the engine resolves each once.
  const inlineSites: ReadonlyMap<number, InlineHelper> = options.checked ? new Map() : options.inlineSites ?? new Map();
  let usesCallx = false;
  let usesTail = false;
  let usesPkt = false;
  for (const e of prog.entries) {
    for (const b of cfgs.get(e)!.order) {
      for (const pc of b.pcs) {
        const k = kindAt(code, pc);
        if (k === Kind.call_helper) {
          const id = code.imm[pc];
          if (inlineSites.has(pc)) continue;
          if (!imp.helpers.has(id)) imp.helpers.set(id, -1);
        } else if (k === Kind.callx) usesCallx = true;
        else if (k === Kind.tail_call) usesTail = true;
        else if (k === Kind.ld_pkt) usesPkt = true;
      }
    }
  }
  const helperIds = [...imp.helpers.keys()].sort((a, b) => a - b);
  for (const id of helperIds) imp.helpers.set(id, mod.importFunc("jit", IMPORT.helper(id), { params: i32s(2), results: [] }));
  for (const [pc, how] of [...inlineSites].sort((a, b) => a[0] - b[0])) {
    if (how.kind !== "direct") continue;
    imp.direct.set(pc, mod.importFunc("jit", IMPORT.direct(pc), { params: i32s(how.args.length), results: [how.result === "i53" ? F64 : I32] }));
  }
  if (usesCallx) imp.callx = mod.importFunc("jit", IMPORT.callx, { params: i32s(3), results: [] });
  if (usesTail) imp.tail = mod.importFunc("jit", IMPORT.tail, { params: i32s(2), results: [I32] });
  if (usesPkt) imp.ldpkt = mod.importFunc("jit", IMPORT.ldpkt, { params: i32s(4), results: [I32] });
  if (options.checked) imp.check = mod.importFunc("jit", IMPORT.check, { params: i32s(5), results: [] });

  const g = {
    stackLo: mod.importGlobal("jit", "stack_lo", I32),
    stackHi: mod.importGlobal("jit", "stack_hi", I32),
    rdS: -1, rdE: -1, wrS: -1, wrE: -1,
  };
  if (options.checked) {
    // Last region hit by a read / by a write: [start, end). Empty is start = end = 2^32-1.
    g.rdS = mod.addGlobal(I32, true, -1);
    g.rdE = mod.addGlobal(I32, true, -1);
    g.wrS = mod.addGlobal(I32, true, -1);
    g.wrE = mod.addGlobal(I32, true, -1);
    mod.export("rdS", "global", g.rdS);
    mod.export("rdE", "global", g.rdE);
    mod.export("wrS", "global", g.wrS);
    mod.export("wrE", "global", g.wrE);
  }

  // Function indices are known before bodies are emitted (calls may go forward).
  const funcIndex = new Map<number, number>();
  const firstFunc = mod.nextFuncIndex;
  prog.entries.forEach((e, i) => funcIndex.set(e, firstFunc + i));
  const fnType = (e: number): FuncType => ({
    params: [I32, ...mask(sigs.params.get(e)!).map((): ValType => I64)],
    results: [I64, ...mask(sigs.results.get(e)!).map((): ValType => I64)],
  });

  const offsets: Int32Array[] = [];
  const pcs: Int32Array[] = [];
  const functions: Array<{ entry: number; index: number; reducible: boolean }> = [];
  for (const e of prog.entries) {
    const cfg = cfgs.get(e)!;
    const em = new FunctionEmitter(prog, cfg, sigs, options, imp, g, funcIndex, inlineSites);
    em.emit();
    mod.addFunc({ type: fnType(e), locals: em.localTypes, body: em.body, name: `f${e}` });
    offsets.push(Int32Array.from(em.mapOffsets));
    pcs.push(Int32Array.from(em.mapPcs));
    functions.push({ entry: e, index: funcIndex.get(e)!, reducible: cfg.reducible });
  }

  // entry(fp) -> low word of r0; registers from JIT_REGS, r0 back there.
  const entryParams = sigs.params.get(0)!;
  {
    const body = new FuncBody();
    if (options.checked) resetCaches(body, g);
    body.localGet(0);
    for (const r of mask(entryParams)) body.i32(0).mem(Op.i64_load, 3, JIT_REGS + 8 * r);
    body.call(funcIndex.get(0)!);
    for (let k = mask(sigs.results.get(0)!).length; k > 0; k--) body.op(Op.drop);
    body.localSet(1);
    body.i32(0).localGet(1).mem(Op.i64_store, 3, JIT_REGS);
    body.localGet(1).op(Op.i32_wrap_i64);
    const idx = mod.addFunc({ type: { params: [I32], results: [I32] }, locals: [I64], body, name: "entry" });
    mod.export("entry", "func", idx);
  }
  // repeat(fp, ctx, n): n >= 1 runs with r1 = ctx and the other registers 0, as n
  // entry calls would do; the last r0 to JIT_REGS, its low word returned. Only
  // where a run needs nothing from the engine between runs: no tail-call count
  // to reset, no LD_ABS abort to catch, no budget.
  const hasRepeat = !options.checked && !usesTail && !usesPkt;
  if (hasRepeat) {
    const body = new FuncBody();
    body.loop();
    body.localGet(0);
    for (const r of mask(entryParams)) {
      if (r === 1) body.localGet(1).op(Op.i64_extend_i32_u);
      else body.i64(0);
    }
    body.call(funcIndex.get(0)!);
    for (let k = mask(sigs.results.get(0)!).length; k > 0; k--) body.op(Op.drop);
    body.localSet(3);
    body.localGet(2).i32(1).op(Op.i32_sub).localTee(2).brIf(0);
    body.end();
    body.i32(0).localGet(3).mem(Op.i64_store, 3, JIT_REGS);
    body.localGet(3).op(Op.i32_wrap_i64);
    const idx = mod.addFunc({ type: { params: [I32, I32, I32], results: [I32] }, locals: [I64], body, name: "repeat" });
    mod.export("repeat", "func", idx);
  }
  // cb(index, fp): runs a callback; r1..r5 from CALLBACK_AREA, r0 back there.
  const callbackIndex = new Map<number, number>();
  {
    const cbs = prog.entries.filter((e) => prog.callbackEntries.has(e));
    cbs.forEach((e, i) => callbackIndex.set(e, i));
    const body = new FuncBody();
    for (let i = 0; i <= cbs.length; i++) body.block();
    body.localGet(0).brTable(cbs.map((_, i) => i), cbs.length);
    cbs.forEach((e) => {
      body.end();
      body.localGet(1);
      for (const r of mask(sigs.params.get(e)!)) {
        const at = r >= 1 && r <= 5 ? CALLBACK_AREA + 8 * r : JIT_REGS + 8 * r;
        body.i32(0).mem(Op.i64_load, 3, at);
      }
      body.call(funcIndex.get(e)!);
      for (let k = mask(sigs.results.get(e)!).length; k > 0; k--) body.op(Op.drop);
      body.localSet(2);
      body.i32(0).localGet(2).mem(Op.i64_store, 3, CALLBACK_AREA);
      body.op(Op.return);
    });
    body.end();
    body.op(Op.unreachable);
    const idx = mod.addFunc({ type: { params: [I32, I32], results: [] }, locals: [I64], body, name: "cb" });
    mod.export("cb", "func", idx);
  }

  const { bytes, placements } = mod.finish();
  const moduleOffsets = offsets.map((offs, i) => {
    const base = placements[i].codeStart;
    return offs.map((o) => o + base);
  });
  const ranges = offsets.map((_, i): [number, number] => [placements[i].codeStart, placements[i].codeStart + mod.funcs[i].body.offset]);
  const module = options.skipModule ? (undefined as unknown as WebAssembly.Module) : new WebAssembly.Module(bytes);
  let codeBytes = 0;
  for (const f of mod.funcs) codeBytes += f.body.offset;
  return {
    bytes, module, helperIds, callbackIndex, entryParams, cbSpill: sigs.cbSpill, hasRepeat, checked: options.checked,
    length: code.length,
    pcMap: new PcMap(mod.importedFuncs.length, moduleOffsets, pcs, ranges),
    functions,
    stats: { insns: code.length, codeBytes },
  };
}

function resetCaches(body: FuncBody, g: { rdS: number; rdE: number; wrS: number; wrE: number }): void {
  for (const x of [g.rdS, g.rdE, g.wrS, g.wrE]) body.i32(-1).globalSet(x);
}

/** r1 as a constant when the block sets it with LD_IMM64 or MOV64 K before the call at `callPc`. */
function constR1(code: Bytecode, b: Block, callPc: number): { lo: number; hi: number } | undefined {
  let v: { lo: number; hi: number } | undefined;
  for (const pc of b.pcs) {
    if (pc === callPc) break;
    const op = code.opcode[pc];
    const k = kindAt(code, pc);
    if (op === 0x18 && code.dst[pc] === 1) {
      v = code.src[pc] === BPF_PSEUDO_FUNC ? { lo: pc + 1 + code.imm[pc], hi: 0 } : { lo: code.imm[pc], hi: pc + 1 < code.length ? code.imm[pc + 1] : 0 };
    } else if (op === 0xb7 && code.dst[pc] === 1) {
      v = { lo: code.imm[pc], hi: code.imm[pc] >> 31 };
    } else if ((k === Kind.alu || k === Kind.ldx || k === Kind.ld_imm64) && code.dst[pc] === 1) {
      v = undefined;
    } else if (k === Kind.atomic && code.src[pc] === 1) {
      v = undefined;
    }
  }
  return v;
}

type Ctx =
  | { readonly kind: "block"; readonly follow: number }
  | { readonly kind: "loop"; readonly header: number }
  | { readonly kind: "if" }
  | { readonly kind: "dispatch" };

/** One operand width of the ALU code: how to read, write and make values, and its opcodes. */
interface Width {
  readonly type: ValType;
  /** A scratch local of this type. */
  readonly tmp: number;
  get(reg: number): void;
  set(reg: number): void;
  konst(value: number): void;
  readonly eqz: number;
  readonly eq: number;
  readonly sub: number;
  readonly divS: number;
  readonly divU: number;
  readonly remS: number;
  readonly remU: number;
}

/** A small loop made of a straight chain of blocks, emitted `copies` times per wasm loop iteration. */
interface Chain {
  readonly nodes: readonly number[];
  readonly copies: number;
  /** The exit is not a merge node (one edge leaves the loop): a block of its own around the loop. */
  readonly exitBlock: boolean;
}

type Task =
  | { readonly t: "tree"; readonly node: number }
  | { readonly t: "within"; readonly node: number; readonly ys: readonly number[]; readonly i: number; readonly chain?: Chain }
  | { readonly t: "end" }
  | { readonly t: "else" }
  | { readonly t: "branch"; readonly from: number; readonly edge: Edge; readonly pc: number };

interface Imports {
  readonly fault: number;
  readonly callx: number;
  readonly tail: number;
  readonly ldpkt: number;
  readonly check: number;
  readonly helpers: ReadonlyMap<number, number>;
  /** Direct helper imports by call-site pc. */
  readonly direct: ReadonlyMap<number, number>;
}

interface Globals {
  readonly stackLo: number;
  readonly stackHi: number;
  readonly rdS: number;
  readonly rdE: number;
  readonly wrS: number;
  readonly wrE: number;
}

/** Emits one BPF function as one wasm function body. */
class FunctionEmitter {
  readonly body = new FuncBody();
  readonly localTypes: ValType[] = [];
  readonly mapOffsets: number[] = [];
  readonly mapPcs: number[] = [];
  private readonly code: Bytecode;
  private readonly n: number;
  /** Local index of r0..r10 (r10 only when the program writes it). */
  private readonly reg = new Int32Array(11).fill(-1);
  private readonly params: number[];
  private readonly results: number[];
  private readonly fp = 0;
  private readonly fb: number;
  private readonly t64a: number;
  private readonly t64b: number;
  private readonly ea: number;
  private readonly bud: number;
  private readonly t32a: number;
  private readonly t32b: number;
  private readonly label: number;
  /** The 64- and 32-bit flavours of division and modulo. */
  private readonly w64: Width;
  private readonly w32: Width;
  /** i32 shadows of registers used as addresses (unchecked mode): see computeShadows. */
  private readonly shadow = new Int32Array(11).fill(-1);
  private shadowAfter: Int32Array | undefined;
  private shadowStart = new Int32Array(0);
  private shadowUseForm = new Uint8Array(0);
  private shadowVia = new Uint8Array(0);
  /** Index (into the per-instruction shadow arrays) of the instruction being emitted, or -1. */
  private curAt = -1;
  private shadowEntry = 0;
  private readonly ctx: Ctx[] = [];
  private readonly tasks: Task[] = [];
  private readonly checked: boolean;
  private readonly atomics: boolean;
  private readonly fpReg: boolean;

  constructor(
    private readonly prog: ProgramInfo,
    private readonly cfg: FunctionCfg,
    private readonly sigs: Signatures,
    options: CompileOptions,
    private readonly imp: Imports,
    private readonly g: Globals,
    private readonly funcIndex: ReadonlyMap<number, number>,
    private readonly inlineSites: ReadonlyMap<number, InlineHelper>,
  ) {
    this.code = prog.code;
    this.n = prog.n;
    this.checked = options.checked;
    // Unchecked programs are verified, hence aligned: real atomics on a shared memory.
    this.atomics = options.shared && !options.checked;
    // Without writes to r10, r10 is the frame pointer parameter itself.
    this.fpReg = !prog.writesR10;
    this.params = mask(sigs.params.get(cfg.entry)!);
    this.results = mask(sigs.results.get(cfg.entry)!);
    let next = 1;
    for (const r of this.params) this.reg[r] = next++;
    const local = (t: ValType): number => {
      this.localTypes.push(t);
      return next++;
    };
    for (let r = 0; r <= 9; r++) if (this.reg[r] < 0) this.reg[r] = local(I64);
    if (!this.fpReg) this.reg[10] = local(I64);
    this.t64a = local(I64);
    this.t64b = local(I64);
    this.ea = local(I64);
    this.bud = local(I64);
    this.fb = local(I32);
    this.t32a = local(I32);
    this.t32b = local(I32);
    this.label = local(I32);
    this.w64 = {
      type: I64, tmp: this.t64a, get: (r) => this.get(r), set: (r) => this.set(r), konst: (v) => this.body.i64(v),
      eqz: Op.i64_eqz, eq: Op.i64_eq, sub: Op.i64_sub, divS: Op.i64_div_s, divU: Op.i64_div_u, remS: Op.i64_rem_s, remU: Op.i64_rem_u,
    };
    this.w32 = {
      type: I32, tmp: this.t32a, get: (r) => this.get32(r), set: (r) => this.set32(r), konst: (v) => this.body.i32(v),
      eqz: Op.i32_eqz, eq: Op.i32_eq, sub: Op.i32_sub, divS: Op.i32_div_s, divU: Op.i32_div_u, remS: Op.i32_rem_s, remU: Op.i32_rem_u,
    };
    if (!this.checked) {
      this.computeShadows();
      for (let r = 0; r <= 9; r++) if (this.shadowUsed & (1 << r)) this.shadow[r] = local(I32);
    }
  }

  private shadowUsed = 0;

  /**
   * Memory addresses are the low 32 bits of base + off (RFC 9669 §5; the interpreter's
   * `(L[s] + off) >>> 0`), and the low 32 bits of add, sub, mul, logic ops and 32-bit
   * ALU results depend only on the low 32 bits of their operands. So a register used
   * as a base gets an i32 shadow computed alongside, and the access indexes memory
   * with it: V8 then needs no zero-extension per access and folds the arithmetic
   * into one lea. Backward dataflow finds where a shadow is needed; every def of a
   * register whose shadow is needed afterwards updates it, so a shadow is valid
   * wherever it is read. Whatever V8 finds unused (the i64 or the i32 form) it drops.
   */
  private computeShadows(): void {
    const { cfg, code, n } = this;
    const m = cfg.order.length;
    // Position of each block's first instruction in the per-instruction arrays.
    const startIdx = new Int32Array(m);
    let total = 0;
    cfg.order.forEach((b, i) => {
      startIdx[i] = total;
      total += b.pcs.length;
    });
    const succ: number[][] = cfg.order.map((b) => b.succs.filter((e) => e.to >= 0 && e.to < n).map((e) => cfg.rpo.get(e.to)!));
    const ownResults = this.sigs.results.get(cfg.entry) ?? 0;
    const ud = { use: 0, def: 0 };

    // 1. Strong liveness of the i64 values, addresses not counting as uses (they read
    //    shadows): a pure ALU instruction's operands are live only if its result is.
    const liveAfter = new Int32Array(total);
    const liveIn = new Int32Array(m);
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = m - 1; i >= 0; i--) {
        let live = 0;
        for (const j of succ[i]) live |= liveIn[j];
        const pcs = cfg.order[i].pcs;
        for (let q = pcs.length - 1; q >= 0; q--) {
          const pc = pcs[q];
          liveAfter[startIdx[i] + q] = live;
          usesDefs(code, pc, this.sigs, ownResults, ud);
          let use = ud.use;
          const base = addressBase(code, pc);
          // The base is read through its shadow, unless the instruction also stores or combines it as a value.
          if (base !== undefined && base !== 10 && !valueUsesBase(code, pc, base)) use &= ~(1 << base);
          const k = kindAt(code, pc);
          const pure = k === Kind.alu || k === Kind.ld_imm64;
          if (pure && (live & ud.def) === 0) use = 0;
          live = (live & ~ud.def) | use;
        }
        if (live !== liveIn[i]) {
          liveIn[i] = live;
          changed = true;
        }
      }
    }

    // 2. Where shadows are needed: backward from address uses; a def computes its
    //    shadow from operand shadows (the shadow form) only when its i64 result is
    //    dead, otherwise as wrap(result) (free in V8), which needs nothing earlier.
    const after = new Int32Array(total);
    const useForm = new Uint8Array(total);
    const viaShadow = new Uint8Array(total);
    const needIn = new Int32Array(m);
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = m - 1; i >= 0; i--) {
        let need = 0;
        for (const j of succ[i]) need |= needIn[j];
        const pcs = cfg.order[i].pcs;
        for (let q = pcs.length - 1; q >= 0; q--) {
          const pc = pcs[q];
          const at = startIdx[i] + q;
          after[at] = need;
          usesDefs(code, pc, this.sigs, ownResults, ud);
          const form = shadowForm(code, pc);
          const d = code.dst[pc];
          if (form !== undefined && need & (1 << d) && !(liveAfter[at] & (1 << d))) {
            useForm[at] = 1;
            need &= ~(1 << d);
            if (form.self) need |= 1 << d;
            if (form.x !== undefined && form.x !== 10) need |= 1 << form.x;
          } else {
            useForm[at] = 0;
            need &= ~ud.def;
          }
          // Read the base through its shadow only where its i64 value is dead afterwards: a
          // live one (say, a pointer also compared each iteration) would make the shadow a
          // second loop-carried value, costlier than the zero-extension it saves.
          const base = addressBase(code, pc);
          if (base !== undefined && base !== 10 && !(liveAfter[at] & (1 << base)) && !valueUsesBase(code, pc, base)) {
            need |= 1 << base;
            viaShadow[at] = 1;
          } else viaShadow[at] = 0;
          need &= 0x3ff;
        }
        if (need !== needIn[i]) {
          needIn[i] = need;
          changed = true;
        }
      }
    }
    let used = needIn[0];
    for (let q = 0; q < total; q++) used |= after[q];
    this.shadowUsed = used;
    this.shadowAfter = after;
    this.shadowUseForm = useForm;
    this.shadowVia = viaShadow;
    this.shadowEntry = needIn[0];
    this.shadowStart = startIdx;
  }

  /** After instruction q of node x: update the shadows of the registers it wrote that are needed later. */
  private updateShadows(x: number, q: number): void {
    if (!this.shadowAfter) return;
    const pc = this.cfg.order[x].pcs[q];
    const at = this.shadowStart[x] + q;
    const need = this.shadowAfter[at];
    if (need === 0) return;
    const { code, body } = this;
    const ud = { use: 0, def: 0 };
    usesDefs(code, pc, this.sigs, this.sigs.results.get(this.cfg.entry) ?? 0, ud);
    const form = this.shadowUseForm[at] ? shadowForm(code, pc) : undefined;
    const d = code.dst[pc];
    for (let r = 0; r <= 9; r++) {
      if (!(need & (1 << r))) continue;
      if (form !== undefined && r === d) {
        this.shadowValue(pc, form);
        body.localSet(this.shadow[r]);
      } else if (ud.def & (1 << r)) {
        this.get(r);
        body.op(Op.i32_wrap_i64).localSet(this.shadow[r]);
      }
    }
  }

  /** The i32 operand y as a shadow: the frame pointer itself for r10. */
  private shadowGet(y: number): void {
    if (y === 10) {
      if (this.fpReg) this.body.localGet(this.fp);
      else this.body.localGet(this.reg[10]).op(Op.i32_wrap_i64);
    } else this.body.localGet(this.shadow[y]);
  }

  /** Leaves the low 32 bits of the result of the ALU instruction at pc, computed from shadows. */
  private shadowValue(pc: number, form: ShadowForm): void {
    const { code, body } = this;
    const d = code.dst[pc];
    const imm = code.imm[pc];
    if (form.op === undefined) {
      // mov: K or X
      if (form.x !== undefined) this.shadowGet(form.x);
      else body.i32(form.k ?? imm);
      return;
    }
    if (form.op === Op.i32_sub && form.neg) {
      body.i32(0);
      this.shadowGet(d);
      body.op(Op.i32_sub);
      return;
    }
    this.shadowGet(d);
    if (form.x !== undefined) this.shadowGet(form.x);
    else body.i32(imm);
    body.op(form.op);
  }

  private initShadows(): void {
    for (let r = 0; r <= 9; r++) {
      if (this.shadowEntry & (1 << r)) {
        this.get(r);
        this.body.op(Op.i32_wrap_i64).localSet(this.shadow[r]);
      }
    }
  }

  emit(): void {
    const b = this.body;
    // fb = fp - 512: r10-relative accesses become fb + (512 + off), a constant memarg offset.
    b.localGet(this.fp).i32(MAX_BPF_STACK).op(Op.i32_sub).localSet(this.fb);
    if (!this.fpReg) b.localGet(this.fp).op(Op.i64_extend_i32_u).localSet(this.reg[10]);
    this.budgetIn();
    this.initShadows();
    if (this.cfg.reducible) {
      this.tasks.push({ t: "tree", node: 0 });
      this.run();
    } else {
      this.emitDispatch();
    }
    b.op(Op.unreachable);
  }

  // ---------------- structure ----------------

  private run(): void {
    const { tasks, cfg, body } = this;
    while (tasks.length > 0) {
      const task = tasks.pop()!;
      switch (task.t) {
        case "tree": {
          const x = task.node;
          const ys = cfg.children[x].filter((c) => cfg.mergeNode[c] === 1).sort((a, b) => b - a);
          const unroll = ys.length === 0 ? this.unrollFactor(x) : 1;
          if (unroll > 1) {
            this.emitUnrolled(x, unroll);
            break;
          }
          const chain = this.chainLoop(x, ys);
          if (cfg.loopHeader[x] && !chain) {
            body.loop();
            this.ctx.push({ kind: "loop", header: x });
            tasks.push({ t: "end" });
          }
          tasks.push({ t: "within", node: x, ys, i: 0, chain });
          break;
        }
        case "within": {
          if (task.i === task.ys.length) {
            if (task.chain) this.emitChain(task.chain);
            else this.emitNode(task.node);
            break;
          }
          const y = task.ys[task.i];
          body.block();
          this.ctx.push({ kind: "block", follow: y });
          tasks.push({ t: "tree", node: y });
          tasks.push({ t: "end" });
          tasks.push({ t: "within", node: task.node, ys: task.ys, i: task.i + 1, chain: task.chain });
          break;
        }
        case "end":
          body.end();
          this.ctx.pop();
          break;
        case "else":
          body.else();
          break;
        case "branch":
          this.branch(task.from, task.edge, task.pc);
          break;
      }
    }
  }

  /**
   * How many copies of a loop to emit per wasm loop iteration. V8 checks for
   * interrupts (a stack-limit load and compare) at every wasm loop header; in a
   * loop of a few instructions that costs about a fifth of the time, so small
   * loops made of one block that branches back to itself run 2 or 4 copies per
   * check (unchecked mode; checked code charges the budget per block anyway).
   */
  private unrollFactor(x: number): number {
    const { cfg } = this;
    if (this.checked || !cfg.loopHeader[x]) return 1;
    const blk = cfg.order[x];
    if (blk.lastKind !== Kind.jcc) return 1;
    const [a, b] = blk.succs;
    if ((a.to === blk.start) === (b.to === blk.start)) return 1;
    // The block must be its own only back-edge source.
    if (cfg.backEdgeSources[x] !== 1) return 1;
    const len = blk.pcs.length;
    return len <= 8 ? 4 : len <= 16 ? 2 : 1;
  }

  /**
   * The loop headed by x when it is a chain of blocks x -> c1 -> ... -> x (each
   * one's only other way out a branch to the same merge node, which encloses the
   * loop as a block) short enough to unroll: a loop that checks its bound
   * before its body, as compilers emit `for` loops, is two blocks.
   */
  private chainLoop(x: number, ys: readonly number[]): Chain | undefined {
    const { cfg } = this;
    if (this.checked || !cfg.loopHeader[x] || cfg.backEdgeSources[x] !== 1 || this.unrollFactor(x) > 1) return undefined;
    const nodes = [x];
    let exitTo = -1;
    let insns = 0;
    for (let cur = x; ; ) {
      const blk = cfg.order[cur];
      insns += blk.pcs.length;
      if (insns > 16 || nodes.length > 4) return undefined;
      let next: number | undefined;
      if (blk.lastKind === Kind.jcc) {
        const [a, b] = blk.succs;
        if (!this.inRange(a.to) || !this.inRange(b.to)) return undefined;
        const inChain = (e: Edge): boolean => {
          const n = cfg.rpo.get(e.to)!;
          return n === x || (cfg.idom[n] === cur && !cfg.mergeNode[n] && this.reaches(n, x));
        };
        const stay = inChain(a) && !inChain(b) ? a : inChain(b) && !inChain(a) ? b : undefined;
        if (!stay) return undefined;
        const exit = stay === a ? b : a;
        if (exitTo >= 0 && exit.to !== exitTo) return undefined;
        exitTo = exit.to;
        next = cfg.rpo.get(stay.to)!;
      } else if (blk.lastKind === Kind.alu || blk.lastKind === Kind.ja) {
        if (!this.inRange(blk.succs[0].to)) return undefined;
        next = cfg.rpo.get(blk.succs[0].to)!;
      } else return undefined;
      if (next === x) break;
      if (cfg.mergeNode[next] || cfg.loopHeader[next] || cfg.idom[next] !== cur) return undefined;
      nodes.push(next);
      cur = next;
    }
    if (nodes.length < 2 || exitTo < 0) return undefined;
    const t = cfg.rpo.get(exitTo)!;
    // The exit is a block around the loop (a merge node's, or one of its own); nothing else hangs below the chain.
    const exitBlock = !cfg.mergeNode[t];
    if (!exitBlock && !ys.includes(t)) return undefined;
    for (const n of nodes) {
      for (const c of cfg.children[n]) if (c !== t && !nodes.includes(c)) return undefined;
    }
    return { nodes, copies: insns <= 12 ? 4 : 2, exitBlock };
  }

  /** Is there a path from node `from` to node `to`? */
  private reaches(from: number, to: number): boolean {
    const { cfg } = this;
    const seen = new Set<number>([from]);
    const work = [from];
    while (work.length > 0) {
      const n = work.pop()!;
      if (n === to) return true;
      for (const e of cfg.order[n].succs) {
        if (!this.inRange(e.to)) continue;
        const m = cfg.rpo.get(e.to)!;
        if (!seen.has(m)) {
          seen.add(m);
          work.push(m);
        }
      }
    }
    return false;
  }

  /** loop { (chain, leaving at every exit) x copies, the last copy's back edge a br_if loop }; then the exit. */
  private emitChain(chain: Chain): void {
    const { body, cfg } = this;
    const x = chain.nodes[0];
    if (chain.exitBlock) {
      body.block();
      this.ctx.push({ kind: "block", follow: -1 });
    }
    body.loop();
    this.ctx.push({ kind: "loop", header: x });
    let exit: Edge | undefined;
    let lastPc = cfg.order[x].start;
    for (let k = 0; k < chain.copies; k++) {
      for (let j = 0; j < chain.nodes.length; j++) {
        const n = chain.nodes[j];
        const blk = cfg.order[n];
        const terminated = blk.lastKind !== Kind.alu;
        const bodyCount = terminated ? blk.pcs.length - 1 : blk.pcs.length;
        for (let i = 0; i < bodyCount; i++) {
          this.curAt = this.shadowAfter ? this.shadowStart[n] + i : -1;
          this.emitInsn(blk.pcs[i]);
          this.updateShadows(n, i);
        }
        this.curAt = -1;
        const last = blk.pcs[blk.pcs.length - 1];
        lastPc = last;
        const closing = k === chain.copies - 1 && j === chain.nodes.length - 1;
        if (terminated) this.mark(last);
        if (blk.lastKind !== Kind.jcc) {
          if (closing) body.br(0);
          continue;
        }
        const stayTo = cfg.order[j === chain.nodes.length - 1 ? x : chain.nodes[j + 1]].start;
        const stayTaken = blk.succs[0].to === stayTo;
        exit = stayTaken ? blk.succs[1] : blk.succs[0];
        this.condition(last);
        // On the stack: "the jump is taken".
        if (closing) {
          if (!stayTaken) body.op(Op.i32_eqz);
          body.brIf(0);
        } else {
          if (stayTaken) body.op(Op.i32_eqz);
          body.brIf(chain.exitBlock ? 1 : this.brDepth(n, exit)!);
        }
      }
    }
    body.end();
    this.ctx.pop();
    if (chain.exitBlock) {
      body.end();
      this.ctx.pop();
    }
    this.branch(x, exit!, lastPc);
  }

  /** block $exit { loop { (body; exit if not looping) x (k-1); body; br_if loop } }; then the exit edge. */
  private emitUnrolled(x: number, copies: number): void {
    const { body } = this;
    const blk = this.cfg.order[x];
    const last = blk.pcs[blk.pcs.length - 1];
    const backTaken = blk.succs[0].to === blk.start;
    const exit = backTaken ? blk.succs[1] : blk.succs[0];
    body.block();
    this.ctx.push({ kind: "block", follow: -1 });
    body.loop();
    this.ctx.push({ kind: "loop", header: x });
    for (let k = 0; k < copies; k++) {
      for (let i = 0; i < blk.pcs.length - 1; i++) {
        this.curAt = this.shadowAfter ? this.shadowStart[x] + i : -1;
        this.emitInsn(blk.pcs[i]);
        this.updateShadows(x, i);
      }
      this.curAt = -1;
      this.mark(last);
      this.condition(last);
      // On the stack: "the jump is taken"; stay in the loop when that is the back edge.
      const stayIsTrue = backTaken;
      if (k < copies - 1) {
        if (stayIsTrue) body.op(Op.i32_eqz);
        body.brIf(1);
      } else {
        if (!stayIsTrue) body.op(Op.i32_eqz);
        body.brIf(0);
      }
    }
    body.end();
    this.ctx.pop();
    body.end();
    this.ctx.pop();
    this.branch(x, exit, last);
  }

  private depthOf(pred: (c: Ctx) => boolean): number {
    for (let i = this.ctx.length - 1; i >= 0; i--) if (pred(this.ctx[i])) return this.ctx.length - 1 - i;
    throw new Error("jit: branch target not in scope (internal error)");
  }

  private inRange(t: number): boolean {
    return t >= 0 && t < this.n;
  }

  /** Can `edge` from node `from` be a plain br (loop continue, or exit of the block a merge node follows)? */
  private brDepth(from: number, edge: Edge): number | undefined {
    if (!this.inRange(edge.to)) return undefined;
    const t = this.cfg.rpo.get(edge.to)!;
    if (this.ctx.length > 0 && this.ctx[0].kind === "dispatch") return undefined;
    if (t <= from) return this.depthOf((c) => c.kind === "loop" && c.header === t);
    if (this.cfg.mergeNode[t]) return this.depthOf((c) => c.kind === "block" && c.follow === t);
    return undefined;
  }

  /** Transfers control along `edge` (a br, inline code, or a fault for targets outside the program). */
  private branch(from: number, edge: Edge, pc: number): void {
    if (!this.inRange(edge.to)) {
      this.outOfRange(edge, pc);
      return;
    }
    const t = this.cfg.rpo.get(edge.to)!;
    if (this.ctx.length > 0 && this.ctx[0].kind === "dispatch") {
      // The dispatch loop is the outermost construct.
      this.body.i32(t).localSet(this.label).br(this.ctx.length - 1);
      return;
    }
    const d = this.brDepth(from, edge);
    if (d !== undefined) this.body.br(d);
    else this.tasks.push({ t: "tree", node: t });
  }

  /** A jump or fall-through leaving the program: the interpreter's fault for it. */
  private outOfRange(edge: Edge, pc: number): void {
    if ((edge.jump && this.checked) || edge.to < 0) this.fault(Fault.jumpOutside, pc, edge.to);
    else this.fault(Fault.fellOff, edge.to, 0);
  }

  /** Two-way branch on the i32 condition on the stack: taken -> a, else -> b. */
  private branch2(from: number, a: Edge, b: Edge, pc: number): void {
    const body = this.body;
    const da = this.brDepth(from, a);
    if (da !== undefined) {
      body.brIf(da);
      this.branch(from, b, pc);
      return;
    }
    const db = this.brDepth(from, b);
    if (db !== undefined) {
      body.op(Op.i32_eqz).brIf(db);
      this.branch(from, a, pc);
      return;
    }
    body.if();
    this.ctx.push({ kind: "if" });
    this.tasks.push({ t: "end" }, { t: "branch", from, edge: b, pc }, { t: "else" }, { t: "branch", from, edge: a, pc });
  }

  /** Irreducible CFG: loop { block* { br_table label } node code ... }. */
  private emitDispatch(): void {
    const body = this.body;
    const m = this.cfg.order.length;
    body.loop();
    this.ctx.push({ kind: "dispatch" });
    for (let i = 0; i < m; i++) {
      body.block();
      this.ctx.push({ kind: "block", follow: -1 });
    }
    body.localGet(this.label).brTable(Array.from({ length: m }, (_, i) => i), m - 1);
    for (let i = 0; i < m; i++) {
      body.end();
      this.ctx.pop();
      this.emitNode(i);
      this.run();
    }
    body.end();
    this.ctx.pop();
  }

  // ---------------- blocks ----------------

  private mark(pc: number): void {
    this.mapOffsets.push(this.body.offset);
    this.mapPcs.push(pc);
  }

  private emitNode(x: number): void {
    const blk = this.cfg.order[x];
    const { code } = this;
    const pcsList = blk.pcs;
    const last = pcsList[pcsList.length - 1];
    const terminated = blk.lastKind !== Kind.alu && isTerminator(blk.lastKind);
    const bodyCount = terminated ? pcsList.length - 1 : pcsList.length;
    if (this.checked) this.chargeBudget(blk, bodyCount);
    for (let i = 0; i < bodyCount; i++) {
      this.curAt = this.shadowAfter ? this.shadowStart[x] + i : -1;
      this.emitInsn(pcsList[i]);
      this.updateShadows(x, i);
    }
    this.curAt = -1;
    if (!terminated) {
      this.branch(x, blk.succs[0], last);
      return;
    }
    this.mark(last);
    const body = this.body;
    switch (blk.lastKind) {
      case Kind.ja:
        this.branch(x, blk.succs[0], last);
        return;
      case Kind.jcc:
        this.condition(last);
        this.branch2(x, blk.succs[0], blk.succs[1], last);
        return;
      case Kind.exit:
        this.emitReturn();
        return;
      case Kind.call_local:
        this.callLocal(last);
        this.updateShadows(x, pcsList.length - 1);
        break;
      case Kind.call_helper:
        this.callHelper(last);
        this.updateShadows(x, pcsList.length - 1);
        break;
      case Kind.callx:
        this.spillForHelper();
        this.budgetOut();
        this.get32(code.dst[last]);
        body.i32(last).localGet(this.fp).call(this.imp.callx);
        this.afterHelper();
        this.updateShadows(x, pcsList.length - 1);
        break;
      case Kind.tail_call:
        this.tailCall(last);
        break;
      case Kind.kfunc:
        this.fault(Fault.kfunc, last, 0);
        return;
      default:
        this.fault(Fault.invalidOpcode, last, code.opcode[last]);
        return;
    }
    this.branch(x, blk.succs[0], last);
  }

  /**
   * Checked mode: charge the block's instructions to the budget before it runs.
   * When fewer remain, replay the block one instruction at a time up to the one
   * the interpreter would stop at, so faults and stores before it still happen.
   */
  private chargeBudget(blk: Block, bodyCount: number): void {
    const body = this.body;
    const c = blk.count;
    body.localGet(this.bud).i64(c).op(Op.i64_lt_u);
    body.if();
    this.ctx.push({ kind: "if" });
    let touchesMemory = false;
    for (let i = 0; i < bodyCount; i++) {
      const k = kindAt(this.code, blk.pcs[i]);
      if (k === Kind.ldx || k === Kind.st || k === Kind.stx || k === Kind.atomic || k === Kind.ld_pkt) touchesMemory = true;
    }
    if (!touchesMemory) {
      body.i32(Fault.budgetInBlock).i32(blk.start).localGet(this.bud).op(Op.i32_wrap_i64).call(this.imp.fault);
    } else {
      for (let i = 0; i < c; i++) {
        body.localGet(this.bud).i64(i).op(Op.i64_eq).if();
        this.ctx.push({ kind: "if" });
        this.fault(Fault.budget, blk.pcs[i], 0);
        body.end();
        this.ctx.pop();
        if (i < bodyCount && i < c - 1) this.emitInsn(blk.pcs[i]);
      }
    }
    body.op(Op.unreachable);
    body.end();
    this.ctx.pop();
    body.localGet(this.bud).i64(c).op(Op.i64_sub).localSet(this.bud);
  }

  /**
   * Checked mode keeps the remaining budget in a local (a register in the loop)
   * and hands it over through JIT_BUDGET around everything that may run other
   * BPF code or end the run: calls, helpers, tail calls, LD_ABS, return.
   */
  private budgetOut(): void {
    if (this.checked) this.body.i32(0).localGet(this.bud).mem(Op.i64_store, 3, JIT_BUDGET);
  }

  private budgetIn(): void {
    if (this.checked) this.body.i32(0).mem(Op.i64_load, 3, JIT_BUDGET).localSet(this.bud);
  }

  private fault(kind: number, pc: number, arg: number): void {
    this.body.i32(kind).i32(pc).i32(arg).call(this.imp.fault).op(Op.unreachable);
  }

  private emitReturn(): void {
    this.budgetOut();
    this.get(0);
    for (const r of this.results) this.get(r);
    this.body.op(Op.return);
  }

  // ---------------- registers ----------------

  private get(r: number): void {
    if (r === 10 && this.fpReg) this.body.localGet(this.fp).op(Op.i64_extend_i32_u);
    else this.body.localGet(this.reg[r]);
  }

  private set(r: number): void {
    if (r === 10 && this.fpReg) {
      // Unreachable: a write to r10 anywhere turns fpReg off. Keep the stack balanced anyway.
      this.body.op(Op.drop);
      return;
    }
    this.body.localSet(this.reg[r]);
  }

  private get32(r: number): void {
    if (r === 10 && this.fpReg) this.body.localGet(this.fp);
    else this.body.localGet(this.reg[r]).op(Op.i32_wrap_i64);
  }

  /** Zero-extends the i32 on the stack into r (32-bit results clear the upper half, RFC 9669 §4.1). */
  private set32(r: number): void {
    this.body.op(Op.i64_extend_i32_u);
    this.set(r);
  }

  // ---------------- instructions ----------------

  private emitInsn(pc: number): void {
    this.mark(pc);
    const { code, body } = this;
    const op = code.opcode[pc];
    const d = code.dst[pc];
    const s = code.src[pc];
    const imm = code.imm[pc];
    const off = code.off[pc];
    switch (kindAt(code, pc)) {
      case Kind.alu:
        this.alu(op, d, s, imm, off);
        return;
      case Kind.ldx: {
        const size = sizeOfLdx(op);
        this.address(s, off, size, false, pc);
        body.mem(loadOp(op), alignOf(size), this.memOffset);
        this.set(d);
        return;
      }
      case Kind.st: {
        const size = sizeOfStore(op);
        this.address(d, off, size, true, pc);
        if (size === 8) body.i64(imm);
        else body.i32(imm);
        body.mem(size === 8 ? Op.i64_store : size === 4 ? Op.i32_store : size === 2 ? Op.i32_store16 : Op.i32_store8, alignOf(size), this.memOffset);
        return;
      }
      case Kind.stx: {
        const size = sizeOfStore(op);
        this.address(d, off, size, true, pc);
        this.get(s);
        body.mem(size === 8 ? Op.i64_store : size === 4 ? Op.i64_store32 : size === 2 ? Op.i64_store16 : Op.i64_store8, alignOf(size), this.memOffset);
        return;
      }
      case Kind.atomic:
        this.atomic(op, d, s, off, imm, pc);
        return;
      case Kind.ld_imm64:
        if (s === BPF_PSEUDO_FUNC) body.i64(pc + 1 + imm, 0);
        else body.i64(imm, pc + 1 < this.n ? code.imm[pc + 1] : 0);
        this.set(d);
        return;
      case Kind.ld_pkt: {
        // r0 = ntoh(packet[off]); outside the packet the engine ends the run with r0 = 0.
        const size = (op & 0x18) === 0x00 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
        this.get32(6);
        if ((op & 0xe0) === 0x40) {
          this.get32(s);
          body.i32(imm).op(Op.i32_add);
        } else body.i32(imm);
        // Outside the packet the run ends here: leave the count where the engine reads it.
        this.budgetOut();
        body.i32(size).i32(pc).call(this.imp.ldpkt);
        this.set32(0);
        return;
      }
      case Kind.may_goto:
        // The vm grants no loop budget beyond the verifier's: never taken, as in the interpreter.
        return;
      default:
        throw new Error(`jit: instruction ${pc} cannot appear inside a block (internal error)`);
    }
  }

  private alu(op: number, d: number, s: number, imm: number, off: number): void {
    const body = this.body;
    const bin64 = (wop: number): void => {
      this.get(d);
      if ((op & 0x08) !== 0) this.get(s);
      else body.i64(imm);
      body.op(wop);
      this.set(d);
    };
    const bin32 = (wop: number): void => {
      this.get32(d);
      if ((op & 0x08) !== 0) this.get32(s);
      else body.i32(imm);
      body.op(wop);
      this.set32(d);
    };
    switch (op) {
      case 0x07: case 0x0f: bin64(Op.i64_add); return;
      case 0x17: case 0x1f: bin64(Op.i64_sub); return;
      case 0x27: case 0x2f: bin64(Op.i64_mul); return;
      case 0x47: case 0x4f: bin64(Op.i64_or); return;
      case 0x57: case 0x5f: bin64(Op.i64_and); return;
      case 0xa7: case 0xaf: bin64(Op.i64_xor); return;
      // wasm shifts take the count modulo the width, as BPF does (RFC 9669 §4.1).
      case 0x67: case 0x6f: bin64(Op.i64_shl); return;
      case 0x77: case 0x7f: bin64(Op.i64_shr_u); return;
      case 0xc7: case 0xcf: bin64(Op.i64_shr_s); return;
      case 0x37: case 0x3f: this.div(this.w64, op === 0x3f, off === 1, d, s, imm); return;
      case 0x97: case 0x9f: this.mod(this.w64, op === 0x9f, off === 1, d, s, imm); return;
      case 0x87:
        body.i64(0);
        this.get(d);
        body.op(Op.i64_sub);
        this.set(d);
        return;
      case 0xb7:
        body.i64(imm);
        this.set(d);
        return;
      case 0xbf:
        this.get(s);
        // off 0 is mov; 1 is addr_space_cast, a plain move in one flat space; 8/16/32 sign-extend.
        if (off === 8) body.op(Op.i64_extend8_s);
        else if (off === 16) body.op(Op.i64_extend16_s);
        else if (off !== 0 && off !== 1) body.op(Op.i64_extend32_s);
        this.set(d);
        return;
      case 0xd7:
        if (imm === 16) {
          this.get32(d);
          this.bswap16();
          this.set32(d);
        } else if (imm === 32) {
          this.get32(d);
          this.bswap32();
          this.set32(d);
        } else {
          this.get(d);
          this.bswap64();
          this.set(d);
        }
        return;

      case 0x04: case 0x0c: bin32(Op.i32_add); return;
      case 0x14: case 0x1c: bin32(Op.i32_sub); return;
      case 0x24: case 0x2c: bin32(Op.i32_mul); return;
      case 0x44: case 0x4c: bin32(Op.i32_or); return;
      case 0x54: case 0x5c: bin32(Op.i32_and); return;
      case 0xa4: case 0xac: bin32(Op.i32_xor); return;
      case 0x64: case 0x6c: bin32(Op.i32_shl); return;
      case 0x74: case 0x7c: bin32(Op.i32_shr_u); return;
      case 0xc4: case 0xcc: bin32(Op.i32_shr_s); return;
      case 0x34: case 0x3c: this.div(this.w32, op === 0x3c, off === 1, d, s, imm); return;
      case 0x94: case 0x9c: this.mod(this.w32, op === 0x9c, off === 1, d, s, imm); return;
      case 0x84:
        body.i32(0);
        this.get32(d);
        body.op(Op.i32_sub);
        this.set32(d);
        return;
      case 0xb4:
        body.i64(imm, 0);
        this.set(d);
        return;
      case 0xbc:
        this.get32(s);
        if (off === 8) body.op(Op.i32_extend8_s);
        else if (off === 16) body.op(Op.i32_extend16_s);
        this.set32(d);
        return;
      case 0xd4: // to little endian on a little-endian vm: truncate
        if (imm === 16) {
          this.get32(d);
          body.i32(0xffff).op(Op.i32_and);
          this.set32(d);
        } else if (imm === 32) {
          this.get32(d);
          this.set32(d);
        }
        return;
      case 0xdc: // to big endian
        if (imm === 16) {
          this.get32(d);
          this.bswap16();
          this.set32(d);
        } else if (imm === 32) {
          this.get32(d);
          this.bswap32();
          this.set32(d);
        } else {
          this.get(d);
          this.bswap64();
          this.set(d);
        }
        return;
      default:
        throw new Error(`jit: opcode 0x${op.toString(16)} is not ALU (internal error)`);
    }
  }

  /**
   * Division by zero gives 0; INT_MIN / -1 wraps (RFC 9669 §4.1; wasm would
   * trap on both).
   */
  private div(w: Width, reg: boolean, signed: boolean, d: number, s: number, imm: number): void {
    const body = this.body;
    if (!reg) {
      if (imm === 0) w.konst(0);
      else if (signed && imm === -1) {
        w.konst(0);
        w.get(d);
        body.op(w.sub);
      } else {
        w.get(d);
        w.konst(imm);
        body.op(signed ? w.divS : w.divU);
      }
      w.set(d);
      return;
    }
    w.get(s);
    body.localTee(w.tmp).op(w.eqz).ifResult(w.type);
    w.konst(0);
    body.else();
    if (signed) {
      body.localGet(w.tmp);
      w.konst(-1);
      body.op(w.eq).ifResult(w.type);
      w.konst(0);
      w.get(d);
      body.op(w.sub).else();
      w.get(d);
      body.localGet(w.tmp).op(w.divS).end();
    } else {
      w.get(d);
      body.localGet(w.tmp).op(w.divU);
    }
    body.end();
    w.set(d);
  }

  /**
   * Modulo by zero leaves dst unchanged (zero-extended by the 32-bit form);
   * wasm's rem_s gives 0 for INT_MIN % -1, as BPF.
   */
  private mod(w: Width, reg: boolean, signed: boolean, d: number, s: number, imm: number): void {
    const body = this.body;
    const rem = signed ? w.remS : w.remU;
    if (!reg) {
      if (imm === 0 && w.type === I64) return;
      w.get(d);
      if (imm !== 0) {
        w.konst(imm);
        body.op(rem);
      }
      w.set(d);
      return;
    }
    w.get(s);
    body.localTee(w.tmp).op(w.eqz).ifResult(w.type);
    w.get(d);
    body.else();
    w.get(d);
    body.localGet(w.tmp).op(rem).end();
    w.set(d);
  }

  /** i32 on the stack -> its low 16 bits byte-swapped, zero-extended. */
  private bswap16(): void {
    const t = this.t32b;
    this.body.localTee(t).i32(0xff).op(Op.i32_and).i32(8).op(Op.i32_shl)
      .localGet(t).i32(8).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and).op(Op.i32_or);
  }

  /** i32 on the stack -> byte-swapped: swap bytes within halves, then the halves. */
  private bswap32(): void {
    const t = this.t32b;
    this.body.localTee(t).i32(8).op(Op.i32_shr_u).i32(0x00ff00ff).op(Op.i32_and)
      .localGet(t).i32(0x00ff00ff).op(Op.i32_and).i32(8).op(Op.i32_shl).op(Op.i32_or)
      .i32(16).op(Op.i32_rotl);
  }

  /** i64 on the stack -> byte-swapped (bytes, then 16-bit lanes, then halves). */
  private bswap64(): void {
    const t = this.t64b;
    this.body.localTee(t).i64(8).op(Op.i64_shr_u).i64(0x00ff00ff, 0x00ff00ff).op(Op.i64_and)
      .localGet(t).i64(0x00ff00ff, 0x00ff00ff).op(Op.i64_and).i64(8).op(Op.i64_shl).op(Op.i64_or)
      .localTee(t).i64(16).op(Op.i64_shr_u).i64(0x0000ffff, 0x0000ffff).op(Op.i64_and)
      .localGet(t).i64(0x0000ffff, 0x0000ffff).op(Op.i64_and).i64(16).op(Op.i64_shl).op(Op.i64_or)
      .i64(32).op(Op.i64_rotl);
  }

  /** Leaves the jcc condition at pc on the stack as an i32. */
  private condition(pc: number): void {
    const { code, body } = this;
    const op = code.opcode[pc];
    const d = code.dst[pc];
    const wide = (op & 0x07) === 0x05;
    const x = (op & 0x08) !== 0;
    const imm = code.imm[pc];
    const jop = op & 0xf0;
    if (wide) {
      this.get(d);
      if (x) this.get(code.src[pc]);
      else body.i64(imm);
      if (jop === 0x40) {
        body.op(Op.i64_and).op(Op.i64_eqz).op(Op.i32_eqz);
        return;
      }
      body.op(CMP64[jop]);
    } else {
      this.get32(d);
      if (x) this.get32(code.src[pc]);
      else body.i32(imm);
      if (jop === 0x40) {
        body.op(Op.i32_and); // non-zero is true
        return;
      }
      body.op(CMP32[jop]);
    }
  }

  // ---------------- memory ----------------

  /** memarg offset for the access whose address `address()` just left on the stack. */
  private memOffset = 0;

  /**
   * Leaves the i32 address of [reg + off] on the stack and sets memOffset. In
   * checked mode the full 64-bit address is checked against the stack, then the
   * last region hit, then (slow path) the address space's region table.
   */
  private address(r: number, off: number, size: number, write: boolean, pc: number): void {
    const body = this.body;
    if (r === 10 && this.fpReg && off >= -MAX_BPF_STACK && (!this.checked || off + size <= 0)) {
      // Inside this frame: no check can fail. fb = fp - 512.
      body.localGet(this.fb);
      this.memOffset = MAX_BPF_STACK + off;
      return;
    }
    if (!this.checked) {
      // Verified: the address is the low 32 bits of reg + off (wasm32 memory).
      if (this.curAt >= 0 && this.shadowVia[this.curAt]) body.localGet(this.shadow[r]);
      else this.get32(r);
      if (off >= 0) this.memOffset = off;
      else {
        body.i32(off).op(Op.i32_add);
        this.memOffset = 0;
      }
      return;
    }
    const { g, ea } = this;
    this.get(r);
    if (off !== 0) body.i64(off).op(Op.i64_add);
    body.localSet(ea);
    body.block();
    const within = (lo: number, hi: number): void => {
      body.localGet(ea).globalGet(lo).op(Op.i64_extend_i32_u).op(Op.i64_ge_u)
        .localGet(ea).globalGet(hi).op(Op.i64_extend_i32_u).i64(size).op(Op.i64_sub).op(Op.i64_le_u)
        .op(Op.i32_and).brIf(0);
    };
    within(g.stackLo, g.stackHi);
    if (write) within(g.wrS, g.wrE);
    else within(g.rdS, g.rdE);
    body.localGet(ea).op(Op.i32_wrap_i64)
      .localGet(ea).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64)
      .i32(size).i32(write ? 1 : 0).i32(pc).call(this.imp.check);
    body.end();
    body.localGet(ea).op(Op.i32_wrap_i64);
    this.memOffset = 0;
  }

  private atomic(op: number, d: number, s: number, off: number, imm: number, pc: number): void {
    const body = this.body;
    const size = op === 0xdb ? 8 : op === 0xc3 ? 4 : op === 0xcb ? 2 : 1;
    const align = alignOf(size);
    if (imm === 0x100) { // load-acquire: dst = *(src + off), zero-extended
      this.address(s, off, size, false, pc);
      if (this.atomics) {
        body.atomic(size === 8 ? AtomicOp.i64_load : size === 4 ? AtomicOp.i64_load32_u : size === 2 ? AtomicOp.i64_load16_u : AtomicOp.i64_load8_u, align, this.memOffset);
      } else body.mem(size === 8 ? Op.i64_load : size === 4 ? Op.i64_load32_u : size === 2 ? Op.i64_load16_u : Op.i64_load8_u, align, this.memOffset);
      this.set(d);
      return;
    }
    if (imm === 0x110) { // store-release: *(dst + off) = src
      this.address(d, off, size, true, pc);
      this.get(s);
      if (this.atomics) {
        body.atomic(size === 8 ? AtomicOp.i64_store : size === 4 ? AtomicOp.i64_store32 : size === 2 ? AtomicOp.i64_store16 : AtomicOp.i64_store8, align, this.memOffset);
      } else body.mem(size === 8 ? Op.i64_store : size === 4 ? Op.i64_store32 : size === 2 ? Op.i64_store16 : Op.i64_store8, align, this.memOffset);
      return;
    }
    if (size !== 4 && size !== 8) {
      this.fault(Fault.atomicSize, pc, imm);
      return;
    }
    const base = ATOMIC_RMW.get(imm);
    this.address(d, off, size, true, pc);
    if (base === undefined) {
      body.op(Op.drop);
      this.fault(Fault.atomicOp, pc, imm);
      return;
    }
    const fetch = (imm & 1) !== 0;
    if (this.atomics) {
      const sub = base + (size === 8 ? RMW_I64 : RMW_I64_32U);
      if (imm === 0xf1) { // cmpxchg: compare with r0, r0 = old
        this.get(0);
        this.get(s);
        body.atomic(sub, align, this.memOffset);
        this.set(0);
        return;
      }
      this.get(s);
      body.atomic(sub, align, this.memOffset);
      if (fetch) this.set(s);
      else body.op(Op.drop);
      return;
    }
    // Single agent: a plain read-modify-write is atomic, and needs no alignment.
    const mo = this.memOffset;
    const a = this.t32a;
    const old = this.t64a;
    body.localTee(a).mem(size === 8 ? Op.i64_load : Op.i64_load32_u, align, mo).localSet(old);
    body.localGet(a);
    if (imm === 0xf1) {
      // new = (old == r0, compared at the access width) ? src : old; r0 = old
      this.get(s);
      body.localGet(old);
      body.localGet(old);
      this.get(0);
      if (size === 4) body.i64(-1, 0).op(Op.i64_and);
      body.op(Op.i64_eq).op(Op.select);
      body.mem(size === 8 ? Op.i64_store : Op.i64_store32, align, mo);
      body.localGet(old);
      this.set(0);
      return;
    }
    if (imm === 0xe1) this.get(s);
    else {
      body.localGet(old);
      this.get(s);
      body.op(base === AtomicOp.rmw_add ? Op.i64_add : base === AtomicOp.rmw_or ? Op.i64_or : base === AtomicOp.rmw_and ? Op.i64_and : Op.i64_xor);
    }
    body.mem(size === 8 ? Op.i64_store : Op.i64_store32, align, mo);
    if (fetch) {
      body.localGet(old);
      this.set(s);
    }
  }

  // ---------------- calls ----------------

  private callLocal(pc: number): void {
    const body = this.body;
    const t = targetOf(this.code, pc);
    if (!this.inRange(t) && this.checked) {
      this.fault(Fault.jumpOutside, pc, t);
      return;
    }
    // Frames as the interpreter lays them out: frame k's r10 = stack top - 512 k, at most 8 frames.
    body.localGet(this.fp).globalGet(this.g.stackLo).i32(2 * MAX_BPF_STACK).op(Op.i32_add).op(Op.i32_lt_u).if();
    this.fault(Fault.callDepth, pc, 0);
    body.end();
    if (!this.inRange(t)) {
      this.fault(Fault.fellOff, t, 0);
      return;
    }
    this.budgetOut();
    body.localGet(this.fp).i32(MAX_BPF_STACK).op(Op.i32_sub);
    for (const r of mask(this.sigs.params.get(t)!)) this.get(r);
    body.call(this.funcIndex.get(t)!);
    this.budgetIn();
    const res = mask(this.sigs.results.get(t)!);
    for (let i = res.length - 1; i >= 0; i--) this.set(res[i]);
    this.set(0);
    // The interpreter restores r10 to this frame on return.
    if (!this.fpReg) body.localGet(this.fp).op(Op.i64_extend_i32_u).localSet(this.reg[10]);
  }

  /** Stores r1..r5 (and what callbacks read) for a helper. */
  private spillForHelper(): void {
    const body = this.body;
    for (let r = 1; r <= 5; r++) {
      body.i32(0);
      this.get(r);
      body.mem(Op.i64_store, 3, CALL_AREA + 8 * r);
    }
    for (const r of mask(this.sigs.cbSpill)) {
      body.i32(0);
      this.get(r);
      body.mem(Op.i64_store, 3, JIT_REGS + 8 * r);
    }
  }

  /** r0 from the call area; in checked mode the helper may have changed the regions. */
  private afterHelper(): void {
    this.body.i32(0).mem(Op.i64_load, 3, CALL_AREA);
    this.set(0);
    this.budgetIn();
    if (this.checked) resetCaches(this.body, this.g);
  }

  private callHelper(pc: number): void {
    const body = this.body;
    const inline = this.inlineSites.get(pc);
    if (inline?.kind === "direct") {
      if (inline.fast?.kind === "ringbuf_output") {
        this.ringbufOutput(pc, inline.fast);
        return;
      }
      for (const a of inline.args) {
        if (a.as === "sat") this.getSat(a.reg);
        else this.get32(a.reg);
      }
      body.call(this.imp.direct.get(pc)!);
      if (inline.result === "u32") body.op(Op.i64_extend_i32_u);
      else if (inline.result === "s32") body.op(Op.i64_extend_i32_s);
      else body.misc(MiscOp.i64_trunc_sat_f64_s);
      this.set(0);
      return;
    }
    if (inline) {
      // array_map_gen_lookup: r0 = key < max_entries ? base + key * stride : NULL
      this.get32(2);
      body.mem(Op.i32_load, 2, 0).localTee(this.t32a).i32(inline.maxEntries).op(Op.i32_lt_u).ifResult(I64)
        .localGet(this.t32a).op(Op.i64_extend_i32_u).i64(inline.stride, 0).op(Op.i64_mul).i64(inline.base, 0).op(Op.i64_add)
        .else().i64(0).end();
      this.set(0);
      return;
    }
    this.spillForHelper();
    this.budgetOut();
    body.i32(pc).localGet(this.fp).call(this.imp.helpers.get(this.code.imm[pc])!);
    this.afterHelper();
  }

  /** A scratch local declared on first use (past the ones the constructor declared). */
  private extraLocal(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length;
  }

  private rbLocals: { d: number; s: number; f: number; l: number; o: number; i: number; p: number; n: number; c: number } | undefined;

  /** r (1..5) as the helpers read a u64 size or flags argument: its low word, or 0xffffffff when the high one is set. */
  private getSat(r: number): void {
    this.get32(r);
    this.body.i32(-1).localGet(this.reg[r]).i64(32).op(Op.i64_shr_u).op(Op.i64_eqz).op(Op.select);
  }

  /**
   * bpf_ringbuf_output on a known ring (InlineFastPath "ringbuf_output"), as
   * RingBufMap.output does it when nothing is reserved, the record does not
   * wrap and no wakeup is due; everything else goes to the helper's direct
   * function, which reads the same positions.
   */
  private ringbufOutput(pc: number, f: Extract<InlineFastPath, { kind: "ringbuf_output" }>): void {
    const body = this.body;
    const t = (this.rbLocals ??= {
      d: this.extraLocal(I32), s: this.extraLocal(I32), f: this.extraLocal(I32), l: this.extraLocal(I32),
      o: this.extraLocal(I32), i: this.extraLocal(I32), p: this.extraLocal(I64), n: this.extraLocal(I64), c: this.extraLocal(I64),
    });
    const mask = f.size - 1;
    const rec = f.dataAddr + BPF_RINGBUF_HDR_SZ;
    this.get32(2);
    body.localSet(t.d);
    this.getSat(3);
    body.localSet(t.s);
    this.getSat(4);
    body.localSet(t.f);
    body.block(); // $done
    body.block(); // $slow
    // flags 0 or BPF_RB_NO_WAKEUP; a small record: len = round_up(size + 8, 8)
    body.localGet(t.f).i32(~BPF_RB_NO_WAKEUP).op(Op.i32_and).brIf(0);
    body.localGet(t.s).i32(RINGBUF_INLINE_MAX).op(Op.i32_gt_u).brIf(0);
    body.localGet(t.s).i32(BPF_RINGBUF_HDR_SZ + 7).op(Op.i32_add).i32(-8).op(Op.i32_and).localSet(t.l);
    // Nothing reserved: pending_pos == producer_pos.
    body.i32(0).mem(Op.i64_load, 3, f.prodAddr).localTee(t.p).i32(0).mem(Op.i64_load, 3, f.pendAddr).op(Op.i64_ne).brIf(0);
    // Room: next - consumer_pos <= mask.
    body.localGet(t.p).localGet(t.l).op(Op.i64_extend_i32_u).op(Op.i64_add).localTee(t.n);
    body.i32(0).mem(Op.i64_load, 3, f.consAddr).localTee(t.c).op(Op.i64_sub).i64(mask, 0).op(Op.i64_gt_u).brIf(0);
    // No wrap: off + len <= size.
    body.localGet(t.p).op(Op.i32_wrap_i64).i32(mask).op(Op.i32_and).localTee(t.o)
      .localGet(t.l).op(Op.i32_add).i32(f.size).op(Op.i32_gt_u).brIf(0);
    // No wakeup due: with flags 0, the consumer must not be waiting at this record.
    body.localGet(t.f).op(Op.i32_eqz).localGet(t.c).op(Op.i32_wrap_i64).i32(mask).op(Op.i32_and).localGet(t.o).op(Op.i32_eq)
      .op(Op.i32_and).brIf(0);
    // The sample: 8 bytes at a time, then the odd ones.
    body.i32(0).localSet(t.i);
    body.block().loop();
    body.localGet(t.i).i32(8).op(Op.i32_add).localGet(t.s).op(Op.i32_gt_u).brIf(1);
    body.localGet(t.o).localGet(t.i).op(Op.i32_add);
    body.localGet(t.d).localGet(t.i).op(Op.i32_add).mem(Op.i64_load, 0, 0);
    body.mem(Op.i64_store, 0, rec);
    body.localGet(t.i).i32(8).op(Op.i32_add).localSet(t.i).br(0);
    body.end().end();
    body.block().loop();
    body.localGet(t.i).localGet(t.s).op(Op.i32_ge_u).brIf(1);
    body.localGet(t.o).localGet(t.i).op(Op.i32_add);
    body.localGet(t.d).localGet(t.i).op(Op.i32_add).mem(Op.i32_load8_u, 0, 0);
    body.mem(Op.i32_store8, 0, rec);
    body.localGet(t.i).i32(1).op(Op.i32_add).localSet(t.i).br(0);
    body.end().end();
    // The header, committed: len, then pg_off (pages from the ring's start).
    body.localGet(t.o).localGet(t.s).mem(Op.i32_store, 2, f.dataAddr);
    body.localGet(t.o).localGet(t.o).i32(PAGE_SHIFT).op(Op.i32_shr_u).i32(f.dataPgOff).op(Op.i32_add).mem(Op.i32_store, 2, f.dataAddr + 4);
    // producer_pos and pending_pos move past it.
    body.i32(0).localGet(t.n).mem(Op.i64_store, 3, f.prodAddr);
    body.i32(0).localGet(t.n).mem(Op.i64_store, 3, f.pendAddr);
    body.i64(0);
    this.set(0);
    body.br(1);
    body.end(); // $slow
    body.localGet(t.d).localGet(t.s).localGet(t.f).call(this.imp.direct.get(pc)!).op(Op.i64_extend_i32_s);
    this.set(0);
    body.end(); // $done
  }

  private tailCall(pc: number): void {
    const body = this.body;
    for (let r = 0; r <= 9; r++) {
      body.i32(0);
      this.get(r);
      body.mem(Op.i64_store, 3, JIT_REGS + 8 * r);
    }
    this.budgetOut();
    body.i32(pc).localGet(this.fp).call(this.imp.tail).if();
    this.ctx.push({ kind: "if" });
    // The target ran in this frame and exited: so does this function, with its r0.
    body.i32(0).mem(Op.i64_load, 3, JIT_REGS);
    for (const r of this.results) this.get(r);
    body.op(Op.return);
    body.end();
    this.ctx.pop();
    this.budgetIn();
    if (this.checked) resetCaches(body, this.g);
  }
}

/** How the low 32 bits of an ALU result follow from the low 32 bits of its operands. */
interface ShadowForm {
  /** i32 operation, or undefined for a move. */
  readonly op?: number;
  /** Reads dst's old value. */
  readonly self: boolean;
  /** Register operand. */
  readonly x?: number;
  /** Constant result (a move of a known value). */
  readonly k?: number;
  readonly neg?: boolean;
}

const SHADOW_BIN: Record<number, number> = {
  0x00: Op.i32_add, 0x10: Op.i32_sub, 0x20: Op.i32_mul, 0x40: Op.i32_or, 0x50: Op.i32_and, 0xa0: Op.i32_xor,
  0x60: Op.i32_shl, 0x70: Op.i32_shr_u, 0xc0: Op.i32_shr_s,
};

function shadowForm(code: Bytecode, pc: number): ShadowForm | undefined {
  const op = code.opcode[pc];
  const cls = op & 0x07;
  if (cls !== 0x07 && cls !== 0x04) return undefined;
  const wide = cls === 0x07;
  const code4 = op & 0xf0;
  const x = (op & 0x08) !== 0 ? code.src[pc] : undefined;
  const off = code.off[pc];
  if (code4 === 0xb0) { // mov
    if (x === undefined) return { self: false, k: wide ? code.imm[pc] : code.imm[pc] };
    if (wide ? off === 0 || off === 1 : off === 0) return { self: false, x };
    return undefined;
  }
  if (code4 === 0x80) return x === undefined ? { op: Op.i32_sub, self: true, neg: true } : undefined;
  const bin = SHADOW_BIN[code4];
  if (bin === undefined || off !== 0) return undefined;
  if (wide) {
    // 64-bit right shifts bring high bits down; 64-bit shift counts are taken mod 64, not 32.
    if (code4 === 0x70 || code4 === 0xc0) return undefined;
    if (code4 === 0x60) {
      if (x !== undefined) return undefined;
      return (code.imm[pc] & 63) >= 32 ? { self: false, k: 0 } : { op: bin, self: true };
    }
  }
  return { op: bin, self: true, x };
}

/** The base register of a memory access at pc, if it is one. */
function addressBase(code: Bytecode, pc: number): number | undefined {
  switch (kindAt(code, pc)) {
    case Kind.ldx:
      return code.src[pc];
    case Kind.st:
    case Kind.stx:
      return code.dst[pc];
    case Kind.atomic:
      return code.imm[pc] === 0x100 ? code.src[pc] : code.dst[pc];
    default:
      return undefined;
  }
}

/** Does the memory instruction at pc also read its base register as a value (stx [r], r; atomics)? */
function valueUsesBase(code: Bytecode, pc: number, base: number): boolean {
  const k = kindAt(code, pc);
  if (k === Kind.stx) return code.src[pc] === base;
  if (k === Kind.atomic) {
    const imm = code.imm[pc];
    if (imm === 0x100) return false;
    return code.src[pc] === base || (imm === 0xf1 && base === 0);
  }
  return false;
}

function isTerminator(k: number): boolean {
  return k === Kind.ja || k === Kind.jcc || k === Kind.exit || k === Kind.call_local || k === Kind.call_helper ||
    k === Kind.callx || k === Kind.tail_call || k === Kind.kfunc || k === Kind.invalid;
}

const sizeOfLdx = (op: number): 1 | 2 | 4 | 8 => {
  switch (op & 0x18) {
    case 0x00: return 4;
    case 0x08: return 2;
    case 0x10: return 1;
    default: return 8;
  }
};
const sizeOfStore = sizeOfLdx;

function loadOp(op: number): number {
  switch (op) {
    case 0x61: return Op.i64_load32_u;
    case 0x69: return Op.i64_load16_u;
    case 0x71: return Op.i64_load8_u;
    case 0x79: return Op.i64_load;
    case 0x81: return Op.i64_load32_s;
    case 0x89: return Op.i64_load16_s;
    default: return Op.i64_load8_s; // 0x91
  }
}

const CMP64: Record<number, number> = {
  0x10: Op.i64_eq, 0x50: Op.i64_ne, 0x20: Op.i64_gt_u, 0x30: Op.i64_ge_u, 0xa0: Op.i64_lt_u, 0xb0: Op.i64_le_u,
  0x60: Op.i64_gt_s, 0x70: Op.i64_ge_s, 0xc0: Op.i64_lt_s, 0xd0: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  0x10: Op.i32_eq, 0x50: Op.i32_ne, 0x20: Op.i32_gt_u, 0x30: Op.i32_ge_u, 0xa0: Op.i32_lt_u, 0xb0: Op.i32_le_u,
  0x60: Op.i32_gt_s, 0x70: Op.i32_ge_s, 0xc0: Op.i32_lt_s, 0xd0: Op.i32_le_s,
};

/** Atomic imm -> wasm rmw base opcode (include/uapi/linux/bpf.h: BPF_ADD/OR/AND/XOR [| BPF_FETCH], BPF_XCHG, BPF_CMPXCHG). */
const ATOMIC_RMW: ReadonlyMap<number, number> = new Map([
  [0x00, AtomicOp.rmw_add], [0x01, AtomicOp.rmw_add],
  [0x40, AtomicOp.rmw_or], [0x41, AtomicOp.rmw_or],
  [0x50, AtomicOp.rmw_and], [0x51, AtomicOp.rmw_and],
  [0xa0, AtomicOp.rmw_xor], [0xa1, AtomicOp.rmw_xor],
  [0xe1, AtomicOp.rmw_xchg],
  [0xf1, AtomicOp.rmw_cmpxchg],
]);

