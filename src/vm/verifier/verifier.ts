/**
 * The verifier: abstract interpretation of a BPF program over every path, with
 * the safety rules, state pruning, precision tracking and log of Linux 6.18's
 * kernel/bpf/verifier.c (do_check, is_state_visited, check_mem_access,
 * check_helper_call, check_cond_jmp_op, __mark_chain_precision, ...).
 * Messages are the kernel's wording. Facts carry over; the code is our own.
 *
 * Out of scope (documented in README of this folder): speculative-execution
 * (Spectre) sanitation, kfuncs, iterators, BTF-typed pointers beyond their
 * names, arenas, exceptions. Spin locks and timers in map values and helper
 * dynptrs are modelled (process_spin_lock, process_timer_func with async
 * callbacks, process_dynptr_func and its stack slots).
 */
import { VerifierError } from "../../errors.js";
import type { Bytecode } from "../../isa/bytecode.js";
import { bprintfCheckFormat } from "../helpers/bprintf.js";
import type { ArgSpec, HelperProto } from "../helpers/proto.js";
import { type SockPointer, sockReadOk } from "../progtypes/sock-access.js";
import {
  CHANGES_PKT_DATA, CfgError, type CfgInfo, checkCfg, checkSubprogs, computeLiveRegs, computeScc, findSubprogs, successors,
} from "./cfg.js";
import { disasmInsn } from "./disasm.js";
import {
  AT_PKT_END, BEYOND_PKT_END, MAYBE_NULL, MEM_RDONLY, MEM_RINGBUF, Reg, S32_MAX, S32_MIN, S64_MAX, S64_MIN, T,
  type ScalarAluOp, U32_MAX, base, boundsSane, boundsSync, coerceSubregToSizeSx, coerceToSize, coerceToSizeSx, isConst,
  isNull, isPktAny, isPktPointer, isPointer, markConstZero, markKnown, markKnownZero, markNotInit, markUnknown,
  markUnknownImprecise, mark32Unbounded, markUnbounded, mayBeNull, rangeWithin, regConstValue, regIsConst, regWidth, safeToCompute,
  sameBounds, sameShape, scalarAlu, setKnown, zext32To64,
} from "./reg.js";
import { Frame, type HistEntry, SLOT_CHAR, STACK_DYNPTR, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, StackSlot, VState } from "./state.js";
import {
  U32, U64, tnumConst, tnumEquals, tnumIn, tnumIsAligned, tnumIsConst, tnumIsUnknown, tnumOr, tnumAnd, tnumStr,
  tnumSubreg, tnumWithSubreg, tnumAdd, tnumSub, type Tnum, TNUM_UNKNOWN,
} from "./tnum.js";
import type { InsnAux, VerifierInput, VerifierMapInfo } from "./types.js";

/** kernel/bpf/verifier.c limits. */
const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;
const BPF_COMPLEXITY_LIMIT_JMP_SEQ = 8192;
const BPF_COMPLEXITY_LIMIT_STATES = 64;
const MAX_BPF_STACK = 512;
const MAX_CALL_FRAMES = 8;
const BPF_MAX_VAR_OFF = 1 << 29;
const BPF_MAX_VAR_SIZ = 1 << 29;
const MAX_PACKET_OFF = 0xffff;
const BPF_REG_FP = 10;
/** include/uapi/linux/bpf.h, enum bpf_func_id. */
const BPF_FUNC_spin_lock = 93;
const BPF_FUNC_spin_unlock = 94;
const BPF_FUNC_timer_set_callback = 170;
/**
 * is_ptr_cast_function: tcp_sock, sk_fullsock and the skc_to_* casts, whose
 * result carries the argument's reference (ref_obj_id).
 */
const PTR_CAST_FUNCS: ReadonlySet<number> = new Set([96, 95, 137, 136, 140, 196, 138, 139]);
/** sizeof(struct bpf_flow_keys): what check_flow_keys_access allows. include/uapi/linux/bpf.h. */
const BPF_FLOW_KEYS_SIZE = 56;
const BPF_FUNC_snprintf = 165;
const BPF_FUNC_get_smp_processor_id = 8;
/** include/linux/err.h, MAX_ERRNO. */
const MAX_ERRNO = 4095n;
/** get_stack, get_task_stack, probe_read_str, probe_read_kernel_str, probe_read_user_str: do_refine_retval_range. */
const RETURNS_SIZE_OR_ERRNO: ReadonlySet<number> = new Set([67, 141, 45, 115, 114]);
const BPF_FUNC_dynptr_from_mem = 197;

/** A verification failure: the kernel's message and errno name. */
class Reject extends Error {
  constructor(readonly kmsg: string, readonly errno: string = "EACCES", readonly noNewline = false) {
    super(kmsg);
  }
}

const PROCESS_EXIT = 1;

/** Map types (enum bpf_map_type). */
const MAP = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, STACK_TRACE: 7,
  CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13,
  DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, QUEUE: 22, STACK: 23, DEVMAP_HASH: 25,
  RINGBUF: 27, BLOOM_FILTER: 30, USER_RINGBUF: 31,
  CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20, PERCPU_CGROUP_STORAGE: 21, SK_STORAGE: 24, INODE_STORAGE: 28,
  TASK_STORAGE: 29, CGRP_STORAGE: 32,
} as const;

const BPF_F_RDONLY_PROG = 1 << 7;
const BPF_F_WRONLY_PROG = 1 << 8;

const ALU_NAMES = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];

interface PushedState {
  st: VState;
  insn: number;
  prev: number;
  logPos: number;
}

interface CallMeta {
  /** The first dynptr argument's id and reference (for bpf_dynptr_data's slice), and a dynptr to release. */
  dynptrId?: number;
  dynptrRef?: number;
  releaseDynptr?: number;
  map: VerifierMapInfo | null;
  mapHandle: number;
  mapRegs: number;
  rawMode: boolean;
  accessSize: number;
  regno: number;
  memSize: number;
  refObjId: number;
  releaseRegno: number;
  subprogno: number;
  constMapKey: bigint;
  msizeMaxValue: bigint;
}

/** Backtracking state for precision (struct backtrack_state). */
class Backtrack {
  frame = 0;
  regMasks = new Array<number>(MAX_CALL_FRAMES).fill(0);
  stackMasks = new Array<bigint>(MAX_CALL_FRAMES).fill(0n);
  reset(): void {
    this.regMasks.fill(0);
    this.stackMasks.fill(0n);
  }
  empty(): boolean {
    for (let i = 0; i <= this.frame; i++) if (this.regMasks[i] || this.stackMasks[i]) return false;
    return true;
  }
  isReg(r: number): boolean { return (this.regMasks[this.frame] & (1 << r)) !== 0; }
  setReg(r: number): void { this.regMasks[this.frame] |= 1 << r; }
  clearReg(r: number): void { this.regMasks[this.frame] &= ~(1 << r); }
  setFrameReg(f: number, r: number): void { this.regMasks[f] |= 1 << r; }
  isSlot(f: number, spi: number): boolean { return (this.stackMasks[f] & (1n << BigInt(spi))) !== 0n; }
  setSlot(f: number, spi: number): void { this.stackMasks[f] |= 1n << BigInt(spi); }
  clearSlot(f: number, spi: number): void { this.stackMasks[f] &= ~(1n << BigInt(spi)); }
}

/** The verifier log as a byte stream with the kernel's positions (bpf_vlog_reset truncates to a byte offset). */
class Log {
  readonly chunks: string[] = [];
  /** Total length (the kernel's log->end_pos). */
  end = 0;
  constructor(readonly level: number) {}
  get on(): boolean {
    return this.level > 0;
  }
  add(s: string): void {
    if (this.level > 0) {
      this.chunks.push(s);
      this.end += s.length;
    }
  }
  get pos(): number {
    return this.end;
  }
  reset(p: number): void {
    while (this.chunks.length && this.end - this.chunks[this.chunks.length - 1].length >= p) {
      this.end -= this.chunks.pop()!.length;
    }
    if (this.end > p) {
      const last = this.chunks.length - 1;
      this.chunks[last] = this.chunks[last].slice(0, this.chunks[last].length - (this.end - p));
      this.end = p;
    }
  }
  text(): string {
    return this.chunks.join("");
  }
}

/** reg_type_str's base names (kernel/bpf/log.c). */
const REG_TYPE_NAMES: Readonly<Record<number, string>> = {
  [T.NOT_INIT]: "?", [T.SCALAR]: "scalar", [T.CTX]: "ctx", [T.MAP_PTR]: "map_ptr", [T.MAP_VALUE]: "map_value",
  [T.STACK]: "fp", [T.PKT]: "pkt", [T.PKT_META]: "pkt_meta", [T.PKT_END]: "pkt_end", [T.MEM]: "mem",
  [T.FUNC]: "func", [T.MAP_KEY]: "map_key", [T.SOCKET]: "sock", [T.SOCK_COMMON]: "sock_common", [T.BTF_ID]: "ptr_",
  [T.FLOW_KEYS]: "flow_keys", [T.TP_BUFFER]: "tp_buffer", [T.BUF]: "buf", [T.TRUSTED_BTF_ID]: "trusted_ptr_",
  [T.DYNPTR]: "dynptr_ptr", [T.TCP_SOCK]: "tcp_sock", [T.XDP_SOCK]: "xdp_sock",
};

const s64str = (v: bigint): string => v.toString();
const snum = (v: bigint): string => (v >= -32768n && v <= 32767n ? v.toString() : "0x" + BigInt.asUintN(64, v).toString(16));
const unum = (v: bigint): string => (v <= 32767n ? v.toString() : "0x" + v.toString(16));

export class Verifier {
  readonly code: Bytecode;
  readonly n: number;
  readonly priv: boolean;
  readonly log: Log;
  readonly aux: InsnAux[];
  cfg!: CfgInfo;
  stackDepth: number[] = [0];
  /** prog->aux->max_ctx_offset: check_ctx_access records the end of every valid access. */
  maxCtxOffset = 0;
  /** tp_prog_is_valid_access lets tracepoint programs read before the record (see progtypes/tracepoint.ts). */
  minCtxOffset = 0;
  /** Subprogram index -> is global (verified on its own). */
  globalSub: boolean[] = [false];

  private cur!: VState;
  private stack: PushedState[] = [];
  private explored = new Map<number, VState[]>();
  private insnIdx = 0;
  private prevInsnIdx = -1;
  private insnProcessed = 0;
  private jmpsProcessed = 0;
  private prevJmpsProcessed = 0;
  private prevInsnProcessed = 0;
  totalStates = 0;
  peakStates = 0;
  private exploredCount = 0;
  private freeListSize = 0;
  maxStatesPerInsn = 0;
  private idGen = 0;
  private readonly insnLimit: number;
  private readonly bt = new Backtrack();
  private curHist: HistEntry | null = null;
  /** Map infos reached through a map-in-map lookup (their values have a map_uid the kernel tracks). */
  private readonly innerMaps = new WeakSet<VerifierMapInfo>();
  private sccVisits = new Map<string, { entry: VState; backedges: { state: VState; equal: VState }[] }>();
  private precChanged = false;
  // Log bookkeeping (env->prev_log_pos, prev_insn_print_pos, scratch marks, prev_linfo).
  private prevLogPos = -1;
  private prevInsnPrintLen = 0;
  private scratchedRegs = 0;
  private scratchedStack = 0n;
  private prevLinfo = -1;
  // Stack liveness (kernel/bpf/liveness.c, joined over call chains).
  private mayRead: bigint[];
  private mustWrite: (bigint | null)[];
  private liveBefore: bigint[];
  private liveDirty = false;
  private writeAcc = 0n;
  private writeAccFrame = -1;
  private readonly lines: ReadonlyArray<{ insn: number; file: string; line: number; text: string }>;
  private readonly helperCache = new Map<number, { name: string; proto: HelperProto } | undefined>();
  private readonly gpl: boolean;
  private readonly attach: number;

  constructor(readonly input: VerifierInput) {
    this.code = input.code;
    this.n = input.code.length;
    this.priv = input.privileged ?? true;
    this.log = new Log(input.logLevel ?? 0);
    this.insnLimit = input.insnLimit ?? BPF_COMPLEXITY_LIMIT_INSNS;
    this.aux = Array.from({ length: this.n }, () => ({ seen: false, liveRegsBefore: 0 }));
    this.mayRead = new Array<bigint>(this.n).fill(0n);
    this.mustWrite = new Array<bigint | null>(this.n).fill(null);
    this.liveBefore = new Array<bigint>(this.n).fill(0n);
    this.lines = [...(input.lineInfo ?? [])].sort((a, b) => a.insn - b.insn);
    this.gpl = licenseIsGplCompatible(input.license ?? "");
    this.attach = input.expectedAttachType ?? 0;
  }

  helper(id: number): { name: string; proto: HelperProto } | undefined {
    if (!this.helperCache.has(id)) {
      const h = this.input.helper(id);
      const variant = h && this.input.progType.helperProto?.(id, this.input.expectedAttachType ?? 0);
      this.helperCache.set(id, h && variant ? { name: h.name, proto: variant } : h);
    }
    return this.helperCache.get(id);
  }

  get processed(): number {
    return this.insnProcessed;
  }

  // ------------------------------------------------------------------ top level

  /** Runs every check; returns the rejection (kernel message) or null. */
  run(): { msg: string; insn: number; logText: string; errno: string } | null {
    try {
      if (this.n === 0) throw new Reject("empty program", "EINVAL");
      const starts = findSubprogs(this.code, this.priv);
      if (this.log.level >= 2) starts.forEach((s, i) => this.log.add(`func#${i} @${s}\n`));
      const { subprogOf, hasTailCall, hasLdAbs } = checkSubprogs(this.code, starts);
      this.checkFuncInfo(starts);
      // check_btf_func -> check_abnormal_return: without BTF func_info the kernel
      // cannot tell what a subprogram that leaves abnormally returns.
      if (!this.input.funcInfo?.length && !this.input.lineInfo?.length) {
        for (let i = 1; i < starts.length; i++) {
          if (hasLdAbs[i]) throw new Reject("LD_ABS is not allowed in subprogs without BTF", "EINVAL");
          if (hasTailCall[i]) throw new Reject("tail_call is not allowed in subprogs without BTF", "EINVAL");
        }
      }
      this.checkOpcodes();
      this.checkResolveLdImm64();
      const cf = checkCfg(this.code, this.priv);
      const live = computeLiveRegs(this.code, cf.imm64Tail, (id) => this.helper(id)?.proto);
      const scc = computeScc(this.code, cf.imm64Tail);
      this.cfg = { subprogStarts: starts, subprogOf, ...cf, liveRegs: live, scc, hasTailCall, hasLdAbs };
      for (let i = 0; i < this.n; i++) this.aux[i].liveRegsBefore = live[i];
      this.stackDepth = starts.map(() => 0);
      this.globalSub = starts.map((s) => this.input.funcInfo?.find((f) => f.insn === s)?.global === true && s !== 0);
      if (this.log.level >= 2) this.printLiveRegs();
      this.doCheckMain();
      // Global functions are verified on their own, once, after the main program.
      for (let i = 1; i < starts.length; i++) if (this.globalSub[i]) this.doCheckGlobal(i);
      this.checkMaxStackDepth();
      return null;
    } catch (e) {
      if (e instanceof Reject || e instanceof CfgError) {
        const msg = e instanceof Reject ? e.kmsg : e.kernelMessage;
        const logText = !msg ? "" : msg.endsWith("\n") || (e instanceof Reject && e.noNewline) ? msg : msg + "\n";
        this.log.add(logText);
        const errno = e.errno;
        return { msg, insn: e instanceof CfgError ? e.insn : this.insnIdx, logText, errno };
      }
      throw e;
    }
  }

  /**
   * check_btf_func_early / check_btf_func: func_info records start at 0, increase,
   * and name exactly the subprograms the calls define.
   */
  private checkFuncInfo(starts: readonly number[]): void {
    const fi = this.input.funcInfo;
    if (!fi?.length) return;
    if (fi[0].insn !== 0) throw new Reject(`nonzero insn_off ${fi[0].insn} for the first func info record`, "EINVAL");
    for (let i = 1; i < fi.length; i++) {
      if (fi[i].insn <= fi[i - 1].insn) {
        throw new Reject(`same or smaller insn offset (${fi[i].insn}) than previous func info record (${fi[i - 1].insn})`, "EINVAL");
      }
    }
    if (fi.length !== starts.length) throw new Reject("number of funcs in func_info doesn't match number of subprogs", "EINVAL");
    for (let i = 0; i < fi.length; i++) {
      if (fi[i].insn !== starts[i]) throw new Reject("func_info BTF section doesn't match subprog layout in BPF program", "EINVAL");
    }
  }

  printStats(stats: boolean, timeUs: number): void {
    if (!this.log.on) return;
    if (stats) {
      this.log.add(`verification time ${timeUs} usec\n`);
      this.log.add(`stack depth ${this.stackDepth.join("+")}\n`);
    }
    this.log.add(
      `processed ${this.insnProcessed} insns (limit ${BPF_COMPLEXITY_LIMIT_INSNS}) max_states_per_insn ${this.maxStatesPerInsn} total_states ${this.totalStates} peak_states ${this.peakStates} mark_read 0\n`,
    );
  }

  /** bpf_opcode_in_insntable: the basic opcode sanity check done while resolving LD_IMM64. */
  private checkOpcodes(): void {
    const c = this.code;
    for (let i = 0; i < this.n; i++) {
      const op = c.opcode[i];
      if ((op & 7) === 1 && (((op & 0xe0) !== 0x60 && (op & 0xe0) !== 0x80) || c.imm[i] !== 0)) {
        throw new Reject("BPF_LDX uses reserved fields", "EINVAL");
      }
      if (op === 0x18) { i++; continue; }
      if (!VALID_OPCODES.has(op)) throw new Reject(`unknown opcode ${op.toString(16).padStart(2, "0")}`, "EINVAL");
    }
  }

  /** resolve_pseudo_ldimm64: LD_IMM64 shape and map references. */
  private checkResolveLdImm64(): void {
    const c = this.code;
    for (let i = 0; i < this.n; i++) {
      const op = c.opcode[i];
      if (op !== 0x18) continue;
      if (i === this.n - 1 || c.opcode[i + 1] !== 0 || c.dst[i + 1] !== 0 || c.src[i + 1] !== 0 || c.off[i + 1] !== 0) {
        throw new Reject("invalid bpf_ld_imm64 insn", "EINVAL");
      }
      const src = c.src[i];
      if (src === 0 || src === 4) { i++; continue; }
      if (src === 3) throw new Reject("kernel BTF variables (BPF_PSEUDO_BTF_ID) are not supported", "EINVAL");
      if (src !== 1 && src !== 2 && src !== 5 && src !== 6) throw new Reject("unrecognized bpf_ld_imm64 insn", "EINVAL");
      const map = this.input.maps?.(c.imm[i]);
      if (!map) {
        throw new Reject(src === 5 || src === 6 ? `fd_idx without fd_array is invalid` : `fd ${c.imm[i]} is not pointing to valid bpf_map`, "EBADF");
      }
      this.checkMapProgCompatibility(map);
      if (src === 2 || src === 6) {
        const off = c.imm[i + 1] >>> 0;
        if (map.type !== MAP.ARRAY || map.maxEntries !== 1) throw new Reject("map_direct_value_addr is not supported for this map type", "EINVAL");
        if (off >= map.valueSize) throw new Reject(`invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, "EINVAL");
      }
      i++;
    }
  }

  /** check_map_prog_compatibility: which program types may use maps with special fields. */
  private checkMapProgCompatibility(map: VerifierMapInfo): void {
    const t = this.input.progType.id;
    // is_tracing_prog_type: kprobe, tracepoint, perf_event, raw_tracepoint(_writable).
    const tracing = t === 2 || t === 5 || t === 7 || t === 17 || t === 24;
    if (map.spinLockOff !== undefined) {
      if (t === 1) throw new Reject("socket filter progs cannot use bpf_spin_lock yet", "EINVAL");
      if (tracing) throw new Reject("tracing progs cannot use bpf_spin_lock yet", "EINVAL");
    }
    if (map.timerOff !== undefined && tracing) throw new Reject("tracing progs cannot use bpf_timer yet", "EINVAL");
  }

  private printLiveRegs(): void {
    this.log.add("Live regs before insn:\n");
    for (let i = 0; i < this.n; i++) {
      const scc = this.cfg.scc[i];
      let s = scc ? `${String(scc).padStart(3)} ` : "    ";
      s += `${String(i).padStart(3)}: `;
      for (let r = 0; r < 10; r++) s += this.cfg.liveRegs[i] & (1 << r) ? String(r) : ".";
      this.log.add(`${s} ${this.disasm(i)}\n`);
      if (this.code.opcode[i] === 0x18) i++;
    }
  }

  disasm(pc: number): string {
    return disasmInsn(this.code, pc, {
      helperName: (id) => this.helper(id)?.name,
      imm64: (p, v) => {
        const src = this.code.src[p];
        if (src === 1 || src === 2 || src === 5 || src === 6) {
          const m = this.input.maps?.(this.code.imm[p]);
          const addr = m?.logAddress ?? 0xffff888100000000n + BigInt(this.code.imm[p] >>> 0) * 0x400n;
          return "0x" + (src === 2 || src === 6 ? addr + BigInt(this.code.imm[p + 1] >>> 0) : addr).toString(16);
        }
        return undefined;
      },
    });
  }

  // ------------------------------------------------------------------ main walk

  private initState(subprog: number): VState {
    const st = new VState();
    const f = new Frame();
    f.callsite = -1;
    f.frameno = 0;
    f.subprogno = subprog;
    for (const r of f.regs) markNotInit(r);
    st.frames = [f];
    st.curframe = 0;
    st.insnIdx = this.cfg.subprogStarts[subprog];
    st.firstInsnIdx = st.insnIdx;
    const fp = f.regs[BPF_REG_FP];
    markKnownZero(fp);
    fp.type = T.STACK;
    fp.frameno = 0;
    return st;
  }

  private doCheckMain(): void {
    const st = this.initState(0);
    const r1 = st.frames[0].regs[1];
    markKnownZero(r1);
    r1.type = T.CTX;
    this.doCheckCommon(st);
  }

  private doCheckGlobal(sub: number): void {
    const fi = this.input.funcInfo?.find((f) => f.insn === this.cfg.subprogStarts[sub]);
    const st = this.initState(sub);
    const params = fi?.params ?? [];
    for (let i = 0; i < 5; i++) {
      const r = st.frames[0].regs[i + 1];
      const p = params[i];
      if (!p) continue;
      if (p.kind === "ctx") { markKnownZero(r); r.type = T.CTX; }
      else if (p.kind === "mem") {
        markKnownZero(r);
        r.type = T.MEM | (p.nullable ? MAYBE_NULL : 0);
        r.memSize = p.size;
        if (p.nullable) r.id = ++this.idGen;
      } else markUnknown(r, this.priv);
    }
    this.doCheckCommon(st, `Validating ${fi?.name ?? "func"}() func#${sub}...\n`);
    if (this.log.on) this.log.add(`Func#${sub} ('${fi?.name ?? ""}') is safe for any args that match its prototype\n`);
  }

  private doCheckCommon(st: VState, banner = ""): void {
    this.cur = st;
    this.insnIdx = st.insnIdx;
    this.prevInsnIdx = -1;
    this.stack = [];
    this.explored = new Map();
    this.markAllScratched();
    const logStart = this.log.pos;
    if (banner) this.log.add(banner);
    this.doCheck();
    // Level 1 keeps only the failing path: a success empties the log (do_check_common:
    // bpf_vlog_reset(&env->log, 0)), so of the global functions' "is safe" lines only the last stays.
    if (this.log.level === 1) this.log.reset(0);
  }

  private doCheck(): void {
    const popLog = this.log.level < 2;
    let doPrintState = false;
    let prevIdx = this.prevInsnIdx;
    for (;;) {
      this.curHist = null;
      this.prevInsnIdx = prevIdx;
      const idx = this.insnIdx;
      if (idx >= this.n) throw new Reject(`invalid insn idx ${idx} insn_cnt ${this.n}`, "EFAULT");
      if (++this.insnProcessed > this.insnLimit) {
        throw new Reject(`BPF program is too large. Processed ${this.insnProcessed} insn`, "E2BIG");
      }
      const st = this.cur;
      st.lastInsnIdx = this.prevInsnIdx;
      st.insnIdx = idx;
      let exit = false;
      if (this.cfg.prunePoint[idx]) {
        if (this.isStateVisited(idx)) {
          if (this.log.on) {
            if (doPrintState) this.log.add(`\nfrom ${this.prevInsnIdx} to ${idx}: safe\n`);
            else this.log.add(`${idx}: safe\n`);
          }
          exit = true;
        }
      }
      if (!exit) {
        if (this.cfg.jmpPoint[idx]) this.pushHist(0, 0);
        if (this.log.level >= 2 && doPrintState) {
          this.log.add(`\nfrom ${this.prevInsnIdx} to ${idx}:` + this.stateStr(this.cur, this.cur.curframe, true));
          doPrintState = false;
        }
        if (this.log.on) {
          if (this.scratchedRegs || this.scratchedStack) this.printInsnState(this.cur, this.cur.curframe);
          this.verboseLinfo(idx);
          const line = `${idx}: ${this.disasm(idx)}\n`;
          this.log.add(line);
          this.prevInsnPrintLen = line.length;
          this.prevLogPos = this.log.pos;
        }
        this.aux[idx].seen = true;
        prevIdx = idx;
        this.writeAcc = 0n;
        this.writeAccFrame = -1;
        const r = this.doCheckInsn();
        this.commitWrites(idx);
        if (r === PROCESS_EXIT) exit = true;
        else {
          if (r === 2) doPrintState = true;
          continue;
        }
      }
      // process_bpf_exit
      this.markAllScratched();
      this.updateBranchCounts(this.cur);
      const top = this.stack.pop();
      if (!top) break;
      if (popLog) this.log.reset(top.logPos);
      this.cur = top.st;
      this.insnIdx = top.insn;
      prevIdx = top.prev;
      doPrintState = true;
    }
  }

  // ------------------------------------------------------------------ log helpers

  private markAllScratched(): void {
    this.scratchedRegs = 0x7ff;
    this.scratchedStack = (1n << 64n) - 1n;
  }

  private scratchReg(r: number): void {
    this.scratchedRegs |= 1 << r;
  }

  private scratchSlot(spi: number): void {
    this.scratchedStack |= 1n << BigInt(spi);
  }

  private printInsnState(st: VState, frameno: number): void {
    if (this.prevLogPos === this.log.pos && this.prevLogPos > 0) {
      this.log.reset(this.prevLogPos - 1); // remove the newline
      const pos = this.prevInsnPrintLen;
      const pad = Math.ceil(Math.max(pos + 4, 40) / 8) * 8 - pos - 1;
      this.log.add(" ".repeat(Math.max(pad, 1)) + ";");
    } else {
      this.log.add(`${this.insnIdx}:`);
    }
    this.log.add(this.stateStr(st, frameno, false));
  }

  private verboseLinfo(idx: number): void {
    if (this.lines.length === 0) return;
    let lo = 0, hi = this.lines.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.lines[mid].insn <= idx) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0 || found === this.prevLinfo) return;
    const l = this.lines[found];
    if (this.prevLinfo >= 0) {
      const p = this.lines[this.prevLinfo];
      if (p.file === l.file && p.line === l.line) return;
    }
    // The kernel prints the file's base name (kernel/bpf/log.c, verbose_linfo: kbasename).
    this.log.add(`; ${l.text.trimStart()} @ ${l.file.slice(l.file.lastIndexOf("/") + 1)}:${l.line}\n`);
    this.prevLinfo = found;
  }

  regTypeStr(t: number): string {
    const b = base(t);
    const pre = (t & MEM_RDONLY ? "rdonly_" : "") + (t & MEM_RINGBUF ? "ringbuf_" : "");
    const post = t & MAYBE_NULL ? (b === T.BTF_ID ? "or_null_" : "_or_null") : "";
    return pre + REG_TYPE_NAMES[b] + post;
  }

  private regStr(frame: Frame, r: Reg): string {
    const t = r.type;
    let out = "";
    if (t === T.SCALAR && r.precise) out += "P";
    if (t === T.SCALAR && tnumIsConst(r.varOff)) return out + snum(BigInt.asIntN(64, r.varOff.value));
    out += this.regTypeStr(t);
    if (t === T.STACK) {
      if (frame.frameno !== r.frameno) out += `[${r.frameno}]`;
      if (tnumIsConst(r.varOff)) return out + snum(BigInt.asIntN(64, r.varOff.value) + BigInt(r.off));
    }
    if (base(t) === T.BTF_ID || base(t) === T.TRUSTED_BTF_ID) out += r.btfType;
    const parts: string[] = [];
    if (r.id) parts.push(`id=${r.id}`);
    if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
    if ((base(t) === T.MAP_PTR || base(t) === T.MAP_VALUE || base(t) === T.MAP_KEY) && r.map) {
      if (r.map.name) parts.push(`map=${r.map.name}`);
      parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
    }
    if (t !== T.SCALAR && r.off) parts.push(`off=${snum(BigInt(r.off))}`);
    if (isPktPointer(base(t))) parts.push(`r=${unum(BigInt.asUintN(64, BigInt(r.range)))}`);
    if (base(t) === T.MEM) parts.push(`sz=${unum(BigInt(r.memSize))}`);
    if (t === T.DYNPTR) parts.push(`type=${r.dynptrType}`);
    if (tnumIsConst(r.varOff)) {
      if (r.varOff.value) parts.push(`imm=${snum(BigInt.asIntN(64, r.varOff.value))}`);
    } else {
      parts.push(...scalarRanges(r));
      if (!tnumIsUnknown(r.varOff)) parts.push(`var_off=${tnumStr(r.varOff)}`);
    }
    return `${out}(${parts.join(",")})`;
  }

  /** print_verifier_state: " R1=ctx() R10=fp0 fp-8=..." and a newline. */
  stateStr(st: VState, frameno: number, printAll: boolean): string {
    const f = st.frames[frameno];
    let s = f.frameno ? ` frame${f.frameno}:` : "";
    for (let i = 0; i < 11; i++) {
      const r = f.regs[i];
      if (r.type === T.NOT_INIT) continue;
      if (!printAll && !(this.scratchedRegs & (1 << i))) continue;
      s += ` R${i}=${this.regStr(f, r)}`;
    }
    for (let i = 0; i < f.stack.length; i++) {
      if (!printAll && !(this.scratchedStack & (1n << BigInt(i)))) continue;
      const slot = f.stack[i];
      let valid = false;
      let types = "";
      for (let j = 0; j < 8; j++) {
        if (slot.types[j] !== STACK_INVALID) valid = true;
        types += SLOT_CHAR[slot.types[j]];
      }
      if (!valid) continue;
      if (slot.types[7] === STACK_DYNPTR) {
        // print_verifier_state: a dynptr prints once, at its first (higher) slot.
        if (!slot.spilled.dynptrFirst) continue;
        const r = slot.spilled;
        // In struct bpf_reg_state, dynptr_id shares a union with dynptr.first_slot: a first slot prints dynptr_id=1.
        const attrs = [r.id ? `id=${r.id}` : "", r.refObjId ? `ref_id=${r.refObjId}` : "", "dynptr_id=1"].filter(Boolean);
        s += ` fp${(-i - 1) * 8}=dynptr_${r.dynptrType}(${attrs.join(",")})`;
        continue;
      }
      if (slot.types[7] === STACK_SPILL) {
        let j = 0;
        while (j < 8 && slot.types[j] !== STACK_SPILL) j++;
        s += ` fp${(-i - 1) * 8}=${types.slice(0, j)}${this.regStr(f, slot.spilled)}`;
      } else {
        s += ` fp${(-i - 1) * 8}=${types}`;
      }
    }
    // print_verifier_state prints refs only when the first has an id (a lock on a map value without one has none).
    if (st.refs.length && st.refs[0].id) s += ` refs=${st.refs.map((r) => r.id).filter((id) => id).join(",")}`;
    if (f.inCallbackFn) s += " cb";
    if (f.inAsyncCallbackFn) s += " async_cb";
    if (!printAll) {
      this.scratchedRegs = 0;
      this.scratchedStack = 0n;
    }
    return s + "\n";
  }

  // ------------------------------------------------------------------ registers

  private get regs(): Reg[] {
    return this.cur.frames[this.cur.curframe].regs;
  }

  private get frame(): Frame {
    return this.cur.frames[this.cur.curframe];
  }

  /** check_reg_arg with SRC_OP. */
  private checkSrc(r: number): void {
    if (r >= 11) throw new Reject(`R${r} is invalid`, "EINVAL");
    this.scratchReg(r);
    if (this.regs[r].type === T.NOT_INIT) throw new Reject(`R${r} !read_ok`);
  }

  /** check_reg_arg with DST_OP / DST_OP_NO_MARK. */
  private checkDst(r: number, mark: boolean): void {
    if (r >= 11) throw new Reject(`R${r} is invalid`, "EINVAL");
    this.scratchReg(r);
    if (r === BPF_REG_FP) throw new Reject("frame pointer is read only");
    if (mark) markUnknown(this.regs[r], this.priv);
  }

  private isPtr(r: number): boolean {
    return !this.priv && isPointer(this.regs[r]);
  }

  private unknown(r: Reg): void {
    markUnknown(r, this.priv);
  }

  // ------------------------------------------------------------------ instructions

  /** Returns 0 to continue at this.insnIdx (already advanced), PROCESS_EXIT, or 2 after a function-exit jump. */
  private doCheckInsn(): number {
    const c = this.code;
    const idx = this.insnIdx;
    const op = c.opcode[idx];
    const cls = op & 7;
    if (cls === 4 || cls === 7) {
      this.checkAlu(idx);
    } else if (cls === 1) {
      const signed = (op & 0xe0) === 0x80;
      this.checkSrc(c.src[idx]);
      this.checkDst(c.dst[idx], false);
      const srcType = this.regs[c.src[idx]].type;
      this.checkMemAccess(c.src[idx], c.off[idx], sizeOf(op), false, c.dst[idx], false, signed);
      this.saveAuxPtrType(idx, srcType);
    } else if (cls === 3) {
      if ((op & 0xe0) === 0xc0) {
        this.checkAtomic(idx);
      } else {
        if ((op & 0xe0) !== 0x60 || c.imm[idx] !== 0) throw new Reject("BPF_STX uses reserved fields", "EINVAL");
        this.checkSrc(c.src[idx]);
        this.checkSrc(c.dst[idx]);
        const t = this.regs[c.dst[idx]].type;
        this.checkMemAccess(c.dst[idx], c.off[idx], sizeOf(op), true, c.src[idx], false, false);
        this.saveAuxPtrType(idx, t);
      }
    } else if (cls === 2) {
      if ((op & 0xe0) !== 0x60 || c.src[idx] !== 0) throw new Reject("BPF_ST uses reserved fields", "EINVAL");
      this.checkSrc(c.dst[idx]);
      const t = this.regs[c.dst[idx]].type;
      this.checkMemAccess(c.dst[idx], c.off[idx], sizeOf(op), true, -1, false, false, c.imm[idx]);
      this.saveAuxPtrType(idx, t);
    } else if (cls === 5 || cls === 6) {
      this.jmpsProcessed++;
      const jop = op & 0xf0;
      if (jop === 0x80) {
        if ((op & 8) !== 0 || (c.src[idx] !== 2 && c.off[idx] !== 0) || (c.src[idx] > 2) || c.dst[idx] !== 0 || cls === 6) {
          throw new Reject("BPF_CALL uses reserved fields", "EINVAL");
        }
        if (this.cur.activeLocks && c.src[idx] === 0 && c.imm[idx] !== BPF_FUNC_spin_unlock) {
          throw new Reject("function calls are not allowed while holding a lock", "EINVAL");
        }
        if (c.src[idx] === 1) {
          this.checkFuncCall(idx);
          this.scratchReg(0);
          return 0;
        }
        if (c.src[idx] === 2) throw new Reject("calling kernel function is not supported", "EINVAL");
        this.checkHelperCall(idx);
        this.scratchReg(0);
        if (c.imm[idx] === 12 && this.cur.curframe > 0) return this.tailCallInSubprog(idx);
      } else if (jop === 0x00) {
        if ((op & 8) || c.src[idx] !== 0 || c.dst[idx] !== 0 || (cls === 5 && c.imm[idx] !== 0) || (cls === 6 && c.off[idx] !== 0)) {
          throw new Reject("BPF_JA uses reserved fields", "EINVAL");
        }
        this.insnIdx += (cls === 5 ? c.off[idx] : c.imm[idx]) + 1;
        return 0;
      } else if (jop === 0x90) {
        if ((op & 8) || c.imm[idx] !== 0 || c.src[idx] !== 0 || c.dst[idx] !== 0 || cls === 6) {
          throw new Reject("BPF_EXIT uses reserved fields", "EINVAL");
        }
        return this.processExit();
      } else if (jop === 0xe0) {
        return this.checkMayGoto(idx);
      } else {
        if (jop === 0xf0) throw new Reject(`invalid BPF_JMP/JMP32 opcode ${(jop).toString(16)}`, "EINVAL");
        this.checkCondJmp(idx);
      }
    } else {
      // BPF_LD
      const mode = op & 0xe0;
      if (mode === 0x20 || mode === 0x40) this.checkLdAbs(idx);
      else if (mode === 0) {
        this.checkLdImm(idx);
        this.insnIdx++;
        this.aux[this.insnIdx].seen = true;
      } else throw new Reject("invalid BPF_LD mode", "EINVAL");
    }
    this.insnIdx++;
    return 0;
  }

  private saveAuxPtrType(idx: number, t: number): void {
    const a = this.aux[idx];
    const mismatchOk = (x: number): boolean => ![T.CTX, T.SOCKET, T.SOCK_COMMON, T.TCP_SOCK, T.XDP_SOCK, T.BTF_ID].includes(base(x) as T);
    if (a.ptrType === undefined) {
      a.ptrType = this.regTypeStr(t);
      prevTypes.set(a, t);
      return;
    }
    const prev = prevTypes.get(a)!;
    if (prev !== t && (!mismatchOk(t) || !mismatchOk(prev))) {
      throw new Reject("same insn cannot be used with different pointers", "EINVAL");
    }
  }

  private checkAlu(idx: number): void {
    const c = this.code;
    const op = c.opcode[idx];
    const alu32 = (op & 7) === 4;
    const aop = op & 0xf0;
    const d = c.dst[idx], s = c.src[idx], off = c.off[idx], imm = c.imm[idx];
    const isX = (op & 8) !== 0;
    const regs = this.regs;
    if (aop === 0xd0 || aop === 0x80) {
      if (aop === 0x80) {
        if (isX || s !== 0 || off !== 0 || imm !== 0) throw new Reject("BPF_NEG uses reserved fields", "EINVAL");
      } else if (s !== 0 || off !== 0 || (imm !== 16 && imm !== 32 && imm !== 64) || (!alu32 && isX)) {
        throw new Reject("BPF_END uses reserved fields", "EINVAL");
      }
      this.checkSrc(d);
      if (this.isPtr(d)) throw new Reject(`R${d} pointer arithmetic prohibited`);
      if (regs[d].type === T.SCALAR) {
        this.checkDst(d, false);
        if (aop === 0x80) scalarAlu(regs[d], regs[d], "neg", alu32);
        else this.byteSwap(regs[d], imm, alu32 ? (isX ? "be" : "le") : "bswap");
      } else {
        this.checkDst(d, true);
      }
    } else if (aop === 0xb0) {
      if (isX) {
        if (alu32) {
          if ((off !== 0 && off !== 8 && off !== 16) || imm) throw new Reject("BPF_MOV uses reserved fields", "EINVAL");
        } else if (off === 1) {
          throw new Reject("addr_space_cast insn can only be used in a program that has an associated arena", "EINVAL");
        } else if ((off !== 0 && off !== 8 && off !== 16 && off !== 32) || imm) {
          throw new Reject("BPF_MOV uses reserved fields", "EINVAL");
        }
        this.checkSrc(s);
      } else if (s !== 0 || off !== 0) {
        throw new Reject("BPF_MOV uses reserved fields", "EINVAL");
      }
      this.checkDst(d, false);
      if (isX) {
        const src = regs[s], dst = regs[d];
        if (!alu32) {
          if (off === 0) {
            this.assignIdBeforeMov(src);
            dst.copyFrom(src);
          } else if (this.isPtr(s)) {
            throw new Reject(`R${s} sign-extension part of pointer`);
          } else if (src.type === T.SCALAR) {
            const noSext = src.umax < 1n << BigInt(off - 1);
            if (noSext) this.assignIdBeforeMov(src);
            dst.copyFrom(src);
            if (!noSext) dst.id = 0;
            coerceToSizeSx(dst, off >> 3);
          } else {
            this.unknown(dst);
          }
        } else {
          if (this.isPtr(s)) throw new Reject(`R${s} partial copy of pointer`);
          if (src.type === T.SCALAR) {
            if (off === 0) {
              const u32src = regWidth(src) <= 32;
              if (u32src) this.assignIdBeforeMov(src);
              dst.copyFrom(src);
              if (!u32src) dst.id = 0;
            } else {
              const noSext = src.umax < 1n << BigInt(off - 1);
              if (noSext) this.assignIdBeforeMov(src);
              dst.copyFrom(src);
              if (!noSext) dst.id = 0;
              coerceSubregToSizeSx(dst, off >> 3);
            }
          } else {
            this.unknown(dst);
          }
          zext32To64(dst);
          boundsSync(dst);
        }
      } else {
        this.unknown(regs[d]);
        markKnown(regs[d], alu32 ? BigInt(imm >>> 0) : BigInt.asUintN(64, BigInt(imm)));
      }
    } else if (aop > 0xd0) {
      throw new Reject(`invalid BPF_ALU opcode ${(aop >> 4).toString(16)}`, "EINVAL");
    } else {
      const divmod = aop === 0x30 || aop === 0x90;
      if (isX) {
        if (imm !== 0 || (off !== 0 && off !== 1) || (off === 1 && !divmod)) throw new Reject("BPF_ALU uses reserved fields", "EINVAL");
        this.checkSrc(s);
      } else if (s !== 0 || (off !== 0 && off !== 1) || (off === 1 && !divmod)) {
        throw new Reject("BPF_ALU uses reserved fields", "EINVAL");
      }
      this.checkSrc(d);
      if (divmod && !isX && imm === 0) throw new Reject("div by zero", "EINVAL");
      if ((aop === 0x60 || aop === 0x70 || aop === 0xc0) && !isX) {
        const size = alu32 ? 32 : 64;
        if (imm < 0 || imm >= size) throw new Reject(`invalid shift ${imm}`, "EINVAL");
      }
      this.checkDst(d, false);
      if (divmod && isX) this.aux[idx].divByReg = true;
      this.adjustRegMinMax(idx, aop, alu32, isX);
    }
    if (!boundsSane(regs[d])) throw new Reject(`REG INVARIANTS VIOLATION (alu): range bounds violation`, "EFAULT");
  }

  /** BPF_END / bswap on a scalar: track the tnum through the byte swap. */
  private byteSwap(r: Reg, bits: number, kind: "le" | "be" | "bswap"): void {
    const bytes = bits / 8;
    const m = (1n << BigInt(bits)) - 1n;
    let v = r.varOff.value & m, k = r.varOff.mask & m;
    if (kind !== "le") {
      const sw = (x: bigint): bigint => {
        let o = 0n;
        for (let i = 0; i < bytes; i++) o = (o << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
        return o;
      };
      v = sw(v);
      k = sw(k);
    }
    const wasConst = isConst(r);
    markUnbounded(r);
    r.varOff = { value: v, mask: k };
    r.id = 0;
    if (wasConst) setKnown(r, v);
    else boundsSync(r);
  }

  private assignIdBeforeMov(src: Reg): void {
    if (src.type === T.SCALAR && !src.id && !isConst(src)) src.id = ++this.idGen;
  }

  /** adjust_reg_min_max_vals. */
  private adjustRegMinMax(idx: number, aop: number, alu32: boolean, isX: boolean): void {
    const c = this.code;
    const regs = this.regs;
    const d = c.dst[idx];
    const dst = regs[d];
    let src: Reg;
    let ptrReg: Reg | null = dst.type !== T.SCALAR ? dst : null;
    if (isX) {
      src = regs[c.src[idx]];
      if (src.type !== T.SCALAR) {
        if (dst.type !== T.SCALAR) {
          if (aop === 0x10 && this.priv) { this.unknown(dst); return; }
          throw new Reject(`R${d} pointer ${ALU_NAMES[aop >> 4]} pointer prohibited`);
        }
        this.markChainPrecision(d);
        this.adjustPtrMinMax(idx, aop, alu32, src, dst, dst);
        return;
      } else if (ptrReg) {
        this.markChainPrecision(c.src[idx]);
        this.adjustPtrMinMax(idx, aop, alu32, dst, src, dst);
        return;
      } else if (dst.precise) {
        this.markChainPrecision(c.src[idx]);
      }
    } else {
      src = new Reg();
      src.type = T.SCALAR;
      setKnown(src, BigInt.asUintN(64, BigInt(c.imm[idx])));
      if (ptrReg) {
        this.adjustPtrMinMax(idx, aop, alu32, ptrReg, src, dst);
        return;
      }
    }
    const op = scalarOp(aop, c.off[idx]);
    if (op === null || !safeToCompute(op, src, alu32)) {
      this.unknown(dst);
      return;
    }
    scalarAlu(dst, src, op as ScalarAluOp, alu32);
    dst.id = 0;
  }

  /** adjust_ptr_min_max_vals: pointer += / -= scalar. */
  private adjustPtrMinMax(idx: number, aop: number, alu32: boolean, ptr: Reg, off: Reg, dst: Reg): void {
    const d = this.code.dst[idx];
    const known = tnumIsConst(off.varOff);
    const { smin: sminVal, smax: smaxVal, umin: uminVal, umax: umaxVal } = off;
    if ((known && (sminVal !== smaxVal || uminVal !== umaxVal)) || sminVal > smaxVal || uminVal > umaxVal) {
      this.unknown(dst);
      return;
    }
    if (alu32) {
      if (aop === 0x10 && this.priv) { this.unknown(dst); return; }
      throw new Reject(`R${d} 32-bit pointer arithmetic prohibited`);
    }
    if (mayBeNull(ptr.type)) {
      throw new Reject(`R${d} pointer arithmetic on ${this.regTypeStr(ptr.type)} prohibited, null-check it first`);
    }
    const b = base(ptr.type);
    const okType = b === T.CTX || b === T.MAP_VALUE || b === T.MAP_KEY || b === T.STACK || b === T.PKT_META || b === T.PKT ||
      b === T.MEM || b === T.BTF_ID || (b === T.FLOW_KEYS && known) || (b === T.MAP_PTR && known && sminVal === 0n && aop === 0x00);
    if (!okType) throw new Reject(`R${d} pointer arithmetic on ${this.regTypeStr(ptr.type)} prohibited`);
    const p = ptr.clone();
    this.checkRegSaneOffset(off, ptr.type);
    this.checkRegSaneOffset(p, ptr.type);
    const r = dst;
    r.type = p.type;
    r.id = p.id;
    r.map = p.map; r.mapHandle = p.mapHandle; r.range = p.range; r.memSize = p.memSize; r.frameno = p.frameno; r.btfType = p.btfType;
    r.refObjId = p.refObjId; r.precise = false; r.subprogno = 0;
    mark32Unbounded(r);
    const s32ok = (v: bigint): boolean => v === BigInt.asIntN(32, v);
    if (aop === 0x00) {
      if (known && s32ok(BigInt(p.off) + sminVal)) {
        r.smin = p.smin; r.smax = p.smax; r.umin = p.umin; r.umax = p.umax; r.varOff = p.varOff;
        r.off = p.off + Number(sminVal);
      } else {
        const a = p.smin + sminVal, b = p.smax + smaxVal;
        if (a !== BigInt.asIntN(64, a) || b !== BigInt.asIntN(64, b)) { r.smin = S64_MIN; r.smax = S64_MAX; } else { r.smin = a; r.smax = b; }
        const e = p.umin + uminVal, f = p.umax + umaxVal;
        if (e > U64 || f > U64) { r.umin = 0n; r.umax = U64; } else { r.umin = e; r.umax = f; }
        r.varOff = tnumAdd(p.varOff, off.varOff);
        r.off = p.off;
        if (isPktPointer(p.type)) { r.id = ++this.idGen; r.range = 0; }
      }
    } else if (aop === 0x10) {
      if (dst === off) throw new Reject(`R${d} tried to subtract pointer from scalar`);
      if (p.type === T.STACK) throw new Reject(`R${d} subtraction from stack pointer prohibited`);
      if (known && s32ok(BigInt(p.off) - sminVal)) {
        r.smin = p.smin; r.smax = p.smax; r.umin = p.umin; r.umax = p.umax; r.varOff = p.varOff;
        r.id = p.id;
        r.off = p.off - Number(sminVal);
      } else {
        const a = p.smin - smaxVal, b = p.smax - sminVal;
        if (a !== BigInt.asIntN(64, a) || b !== BigInt.asIntN(64, b)) { r.smin = S64_MIN; r.smax = S64_MAX; } else { r.smin = a; r.smax = b; }
        if (p.umin < umaxVal) { r.umin = 0n; r.umax = U64; } else { r.umin = p.umin - umaxVal; r.umax = p.umax - uminVal; }
        r.varOff = tnumSub(p.varOff, off.varOff);
        r.off = p.off;
        if (isPktPointer(p.type)) { r.id = ++this.idGen; if (sminVal < 0n) r.range = 0; }
      }
    } else if (aop === 0x40 || aop === 0x50 || aop === 0xa0) {
      throw new Reject(`R${d} bitwise operator ${ALU_NAMES[aop >> 4]} on pointer prohibited`);
    } else {
      throw new Reject(`R${d} pointer arithmetic with ${ALU_NAMES[aop >> 4]} operator prohibited`);
    }
    this.checkRegSaneOffset(r, p.type);
    boundsSync(r);
    if (!this.priv) this.sanitizeCheckBounds(r, d);
  }

  /** sanitize_check_bounds for unprivileged programs: the pointer must stay within its object. */
  private sanitizeCheckBounds(r: Reg, d: number): void {
    if (r.type === T.STACK) {
      if (!tnumIsConst(r.varOff)) {
        throw new Reject(`R${d} variable stack access prohibited for !root, var_off=${tnumStr(r.varOff)} off=${r.off}`);
      }
      const off = r.off + Number(BigInt.asIntN(64, r.varOff.value));
      if (off < -MAX_BPF_STACK || off >= 0) throw new Reject(`R${d} stack pointer arithmetic goes out of range, prohibited for !root`);
    } else if (r.type === T.MAP_VALUE) {
      const vs = r.map?.valueSize ?? 0;
      if (r.smin + BigInt(r.off) < 0n || r.umax + BigInt(r.off) > BigInt(vs)) {
        throw new Reject(`R${d} pointer arithmetic of map value goes out of range, prohibited for !root`);
      }
    }
  }

  private checkRegSaneOffset(r: Reg, t: number): void {
    const known = tnumIsConst(r.varOff);
    const val = BigInt.asIntN(64, r.varOff.value);
    const name = (): string => this.regTypeStr(t);
    if (known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF)) throw new Reject(`math between ${name()} pointer and ${val} is not allowed`);
    if (r.off >= BPF_MAX_VAR_OFF || r.off <= -BPF_MAX_VAR_OFF) throw new Reject(`${name()} pointer offset ${r.off} is not allowed`);
    if (r.smin === S64_MIN) throw new Reject(`math between ${name()} pointer and register with unbounded min value is not allowed`);
    if (r.smin >= BPF_MAX_VAR_OFF || r.smin <= -BPF_MAX_VAR_OFF) throw new Reject(`value ${r.smin} makes ${name()} pointer be out of bounds`);
  }

  // ------------------------------------------------------------------ memory

  /** check_mem_access. `valueReg` is the register loaded into / stored from (-1 for none; BPF_ST passes imm). */
  private checkMemAccess(regno: number, insnOff: number, size: number, write: boolean, valueReg: number, strictOnce: boolean, ldsx: boolean, stImm?: number): void {
    const regs = this.regs;
    const reg = regs[regno];
    this.checkPtrAlignment(reg, insnOff, size, strictOnce);
    const off = insnOff + reg.off;
    const t = reg.type;
    const leak = (where: string): void => {
      if (write && valueReg >= 0 && this.isPtr(valueReg)) throw new Reject(`R${valueReg} leaks addr into ${where}`);
    };
    if (t === T.MAP_KEY) {
      if (write) throw new Reject(`write to change key R${regno} not allowed`);
      this.checkMemRegion(regno, off, size, reg.map!.keySize, false);
      if (valueReg >= 0) this.unknown(regs[valueReg]);
    } else if (t === T.MAP_VALUE) {
      leak("map");
      const map = reg.map!;
      if (write && map.flags & BPF_F_RDONLY_PROG) throw new Reject(`write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
      if (!write && map.flags & BPF_F_WRONLY_PROG) throw new Reject(`read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
      this.checkMemRegion(regno, off, size, map.valueSize, false);
      this.checkMapFields(reg, off, size);
      if (!write && valueReg >= 0) {
        const ro = map.flags & BPF_F_RDONLY_PROG && map.frozen && map.readOnlyValue;
        if (tnumIsConst(reg.varOff) && ro) {
          const at = off + Number(reg.varOff.value);
          let v = 0n;
          for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(map.readOnlyValue![at + i] ?? 0);
          if (ldsx) v = BigInt.asUintN(64, BigInt.asIntN(size * 8, v));
          regs[valueReg].type = T.SCALAR;
          markKnown(regs[valueReg], v);
          regs[valueReg].precise = !this.priv;
        } else {
          this.unknown(regs[valueReg]);
        }
      }
    } else if (base(t) === T.MEM && !mayBeNull(t)) {
      const rdonly = (t & MEM_RDONLY) !== 0;
      if (write && rdonly) throw new Reject(`R${regno} cannot write into ${this.regTypeStr(t)}`);
      leak("mem");
      this.checkMemRegion(regno, off, size, reg.memSize, false);
      if (valueReg >= 0 && (!write || rdonly)) this.unknown(regs[valueReg]);
    } else if (t === T.CTX) {
      leak("ctx");
      this.checkPtrOffReg(reg, regno, false);
      const res = this.input.progType.isValidAccess(off, size, write, this.attach);
      if (!res.ok) throw new Reject(`invalid bpf_context access off=${off} size=${size}`);
      this.aux[this.insnIdx].ctx = { off, size, write, regType: res.regType };
      if (this.maxCtxOffset < off + size) this.maxCtxOffset = off + size;
      if (off < this.minCtxOffset) this.minCtxOffset = off;
      if (!write && valueReg >= 0) {
        const v = regs[valueReg];
        if (res.regType === "scalar") this.unknown(v);
        else {
          markKnownZero(v);
          v.type = ctxLoadType(res.regType, res.nullable ?? false);
          if (mayBeNull(v.type)) v.id = ++this.idGen;
          if (res.regType === "btf_id") v.btfType = res.btfType ?? "";
          return; // pointer loads are not coerced
        }
      }
    } else if (t === T.STACK) {
      this.checkStackAccessWithinBounds(regno, off, size, write);
      if (write) this.checkStackWrite(regno, off, size, valueReg, stImm);
      else this.checkStackRead(regno, off, size, valueReg);
    } else if (isPktPointer(t)) {
      if (write && !this.input.progType.packetAccess.write) throw new Reject("cannot write into packet");
      if (!write && !this.input.progType.packetAccess.read) throw new Reject(`R${regno} invalid mem access '${this.regTypeStr(t)}'`);
      leak("packet");
      this.checkPacketAccess(regno, off, size, false);
      if (!write && valueReg >= 0) this.unknown(regs[valueReg]);
    } else if (t === T.FLOW_KEYS) {
      leak("flow keys");
      // check_flow_keys_access: anywhere inside struct bpf_flow_keys, reads and writes alike.
      if (size < 0 || off < 0 || off + size > BPF_FLOW_KEYS_SIZE) throw new Reject(`invalid access to flow keys off=${off} size=${size}`);
      if (!write && valueReg >= 0) this.unknown(regs[valueReg]);
    } else if (sockPointer(t) !== undefined) {
      if (write) throw new Reject(`R${regno} cannot write into ${this.regTypeStr(t)}`);
      this.checkSockAccess(regno, off, size);
      if (valueReg >= 0) this.unknown(regs[valueReg]);
    } else {
      throw new Reject(`R${regno} invalid mem access '${this.regTypeStr(t)}'`);
    }
    if (!write && valueReg >= 0 && size < 8 && regs[valueReg].type === T.SCALAR) {
      if (!ldsx) coerceToSize(regs[valueReg], size);
      else coerceToSizeSx(regs[valueReg], size);
    }
  }

  /** check_sock_access: loads through socket pointers follow the uapi struct's rules (progtypes/sock-access.ts). */
  private checkSockAccess(regno: number, off: number, size: number): void {
    const reg = this.regs[regno];
    if (reg.smin < 0n) throw new Reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    if (!sockReadOk(sockPointer(reg.type)!, off, size)) {
      throw new Reject(`R${regno} invalid ${this.regTypeStr(reg.type)} access off=${off} size=${size}`);
    }
  }

  /**
   * check_map_access: no load, store or helper access may touch a bpf_spin_lock
   * (4 bytes) or bpf_timer (16 bytes) in the value.
   */
  private checkMapFields(reg: Reg, off: number, size: number): void {
    const map = reg.map;
    if (!map) return;
    const fields: Array<[number | undefined, number, string]> = [[map.spinLockOff, 4, "bpf_spin_lock"], [map.timerOff, 16, "bpf_timer"]];
    for (const f of map.otherFields ?? []) fields.push([f.offset, f.size, f.name]);
    for (const [p, fsize, name] of fields) {
      if (p === undefined) continue;
      if (reg.smin + BigInt(off) < BigInt(p + fsize) && BigInt(p) < reg.umax + BigInt(off + size)) {
        // check_map_access lets kptr fields be loaded as typed pointers; the vm has no kptrs.
        if (name === "kptr") throw new Reject("kptr fields are not supported by the vm verifier", "ENOTSUPP");
        throw new Reject(`${name} cannot be accessed directly by load/store`);
      }
    }
  }

  private checkPtrAlignment(reg: Reg, off: number, size: number, strictOnce: boolean): void {
    let strict = strictOnce;
    let desc = "";
    switch (reg.type) {
      case T.PKT: case T.PKT_META: {
        if (!strict || size === 1) return;
        const ro = tnumAdd(reg.varOff, tnumConst(BigInt(2 + reg.off + off)));
        if (!tnumIsAligned(ro, size)) {
          throw new Reject(`misaligned packet access off 2+${varOffStr(reg.varOff)}+${reg.off}+${off} size ${size}`);
        }
        return;
      }
      case T.FLOW_KEYS: desc = "flow keys "; break;
      case T.MAP_KEY: desc = "key "; break;
      case T.MAP_VALUE: desc = "value "; break;
      case T.CTX: desc = "context "; break;
      case T.STACK: desc = "stack "; strict = true; break;
      case T.SOCKET: desc = "sock "; break;
      case T.SOCK_COMMON: desc = "sock_common "; break;
      case T.TCP_SOCK: desc = "tcp_sock "; break;
      case T.XDP_SOCK: desc = "xdp_sock "; break;
      default: break;
    }
    if (!strict || size === 1) return;
    const ro = tnumAdd(reg.varOff, tnumConst(BigInt.asUintN(64, BigInt(reg.off + off))));
    if (!tnumIsAligned(ro, size)) {
      throw new Reject(`misaligned ${desc}access off ${varOffStr(reg.varOff)}+${reg.off}+${off} size ${size}`);
    }
  }

  private checkPtrOffReg(reg: Reg, regno: number, fixedOk: boolean): void {
    const name = (): string => this.regTypeStr(reg.type);
    if (reg.off < 0) throw new Reject(`negative offset ${name()} ptr R${regno} off=${reg.off} disallowed`);
    if (!fixedOk && reg.off) throw new Reject(`dereference of modified ${name()} ptr R${regno} off=${reg.off} disallowed`);
    if (!tnumIsConst(reg.varOff) || reg.varOff.value) throw new Reject(`variable ${name()} access var_off=${tnumStr(reg.varOff)} disallowed`);
  }

  private memAccessErr(regno: number, off: number, size: number, memSize: number): string {
    const reg = this.regs[regno];
    switch (base(reg.type)) {
      case T.MAP_KEY: return `invalid access to map key, key_size=${memSize} off=${off} size=${size}`;
      case T.MAP_VALUE: return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
      case T.PKT: case T.PKT_META: case T.PKT_END:
        return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})`;
      default: return `invalid access to memory, mem_size=${memSize >>> 0} off=${off} size=${size}`;
    }
  }

  private checkMemAccessRaw(regno: number, off: number, size: number, memSize: number, zeroOk: boolean): string | null {
    const sizeOk = size > 0 || (size === 0 && zeroOk);
    if (off >= 0 && sizeOk && off + size <= memSize) return null;
    return this.memAccessErr(regno, off, size, memSize);
  }

  /** check_mem_region_access. */
  private checkMemRegion(regno: number, off: number, size: number, memSize: number, zeroOk: boolean): void {
    const reg = this.regs[regno];
    const o = BigInt(off);
    if (reg.smin < 0n && (reg.smin === S64_MIN || o + reg.smin !== BigInt.asIntN(32, o + reg.smin) || reg.smin + o < 0n)) {
      throw new Reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    }
    let e = this.checkMemAccessRaw(regno, Number(reg.smin + o), size, memSize, zeroOk);
    if (e) throw new Reject(`${e}\nR${regno} min value is outside of the allowed memory range`);
    if (reg.umax >= BigInt(BPF_MAX_VAR_OFF)) {
      throw new Reject(`R${regno} unbounded memory access, make sure to bounds check any such access`);
    }
    e = this.checkMemAccessRaw(regno, Number(reg.umax + o), size, memSize, zeroOk);
    if (e) throw new Reject(`${e}\nR${regno} max value is outside of the allowed memory range`);
  }

  private checkPacketAccess(regno: number, off: number, size: number, zeroOk: boolean): void {
    const reg = this.regs[regno];
    if (reg.smin < 0n) throw new Reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    const e = reg.range < 0 ? "" : this.checkMemAccessRaw(regno, off, size, reg.range, zeroOk);
    if (e !== null) throw new Reject(`${e ? e + "\n" : ""}R${regno} offset is outside of the packet`);
  }

  private checkStackAccessWithinBounds(regno: number, off: number, size: number, write: boolean): void {
    const reg = this.regs[regno];
    const extra = write ? " write to" : " read from";
    let minOff: number, maxOff: number;
    if (tnumIsConst(reg.varOff)) {
      minOff = Number(BigInt.asIntN(64, reg.varOff.value)) + off;
      maxOff = minOff + size;
    } else {
      if (reg.smax >= BPF_MAX_VAR_OFF || reg.smin <= -BPF_MAX_VAR_OFF) {
        throw new Reject(`invalid unbounded variable-offset${extra} stack R${regno}`);
      }
      minOff = Number(reg.smin) + off;
      maxOff = Number(reg.smax) + off + size;
    }
    const st = this.cur.frames[reg.frameno];
    const minValid = write || this.priv ? -MAX_BPF_STACK : -st.allocated;
    let bad = minOff < minValid || minOff > -1 || maxOff > 0 || size < 0;
    if (bad) {
      if (tnumIsConst(reg.varOff)) throw new Reject(`invalid${extra} stack R${regno} off=${off} size=${size}`);
      throw new Reject(`invalid variable-offset${extra} stack R${regno} var_off=${tnumStr(reg.varOff)} off=${off} size=${size}`);
    }
    this.growStack(st, -minOff);
  }

  private growStack(f: Frame, bytes: number): void {
    const size = Math.ceil(bytes / 8) * 8;
    if (f.allocated >= size) return;
    f.grow(size);
    if (this.stackDepth[f.subprogno] < size) this.stackDepth[f.subprogno] = size;
  }

  /** Records a read of stack slots (liveness.c bpf_mark_stack_read), attributed to the frame's own instruction. */
  private markStackRead(frameno: number, spi: number): void {
    const st = this.cur;
    const at = frameno === st.curframe ? this.insnIdx : st.frames[frameno + 1].callsite;
    const bit = 1n << BigInt(spi);
    if (!(this.mayRead[at] & bit)) {
      this.mayRead[at] |= bit;
      this.liveDirty = true;
    }
  }

  private markStackWrite(frameno: number, spi: number): void {
    if (frameno !== this.cur.curframe) return;
    this.writeAccFrame = frameno;
    this.writeAcc |= 1n << BigInt(spi);
  }

  private commitWrites(idx: number): void {
    const prev = this.mustWrite[idx];
    const mask = this.writeAccFrame >= 0 ? this.writeAcc : 0n;
    const next = prev === null ? mask : prev & mask;
    if (next !== prev) {
      this.mustWrite[idx] = next;
      this.liveDirty = true;
    }
  }

  private updateLiveStack(): void {
    if (!this.liveDirty) return;
    this.liveDirty = false;
    const n = this.n;
    const lb = this.liveBefore;
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = n - 1; i >= 0; i--) {
        if (this.cfg.imm64Tail[i]) continue;
        let after = 0n;
        for (const s of successors(this.code, i)) if (s < n) after |= lb[s];
        const mw = this.mustWrite[i] ?? 0n;
        const v = (after & ~mw) | this.mayRead[i];
        if (v !== lb[i]) { lb[i] = v; changed = true; }
      }
    }
  }

  private slotAlive(st: VState, frameno: number, spi: number): boolean {
    const bit = 1n << BigInt(spi);
    if (frameno === st.curframe) return (this.liveBefore[st.insnIdx] & bit) !== 0n;
    const cs = st.frames[frameno + 1].callsite;
    if (this.cfg.callsCallback[cs]) return (this.liveBefore[cs] & bit) !== 0n;
    return ((this.liveBefore[cs + 1] | this.mayRead[cs]) & bit) !== 0n;
  }

  private checkStackWrite(regno: number, off: number, size: number, valueReg: number, stImm?: number): void {
    const ptr = this.regs[regno];
    const f = this.cur.frames[ptr.frameno];
    if (tnumIsConst(ptr.varOff)) this.checkStackWriteFixed(f, off + Number(BigInt.asIntN(64, ptr.varOff.value)), size, valueReg, stImm);
    else this.checkStackWriteVar(f, ptr, off, size, valueReg, stImm);
  }

  private checkStackWriteFixed(f: Frame, off: number, size: number, valueReg: number, stImm?: number): void {
    const slot = -off - 1;
    const spi = Math.floor(slot / 8);
    const s = f.stack[spi];
    const curFrame = this.frame;
    const reg = valueReg >= 0 ? curFrame.regs[valueReg] : null;
    if (!this.priv && s.isSpilled() && !s.isSpilledScalar() && size !== 8) {
      throw new Reject("attempt to corrupt spilled pointer on stack");
    }
    this.destroyIfDynptr(f, spi);
    this.scratchSlot(spi);
    let histFlags = true;
    if (reg && off % 8 === 0 && reg.type === T.SCALAR && this.priv) {
      const fits = regWidth(reg) <= size * 8;
      if (fits) this.assignIdBeforeMov(reg);
      this.saveRegisterState(s, reg, size);
      if (!fits) s.spilled.id = 0;
    } else if (!reg && off % 8 === 0 && stImm !== undefined && this.priv) {
      const tmp = new Reg();
      tmp.type = T.SCALAR;
      markKnown(tmp, BigInt.asUintN(64, BigInt(stImm)));
      tmp.precise = false;
      this.saveRegisterState(s, tmp, size);
    } else if (reg && isPointer(reg)) {
      if (size !== 8) {
        throw new Reject("invalid size of register spill");
      }
      if (f !== curFrame && reg.type === T.STACK) throw new Reject("cannot spill pointers to stack into stack frame of the caller", "EINVAL");
      this.saveRegisterState(s, reg, size);
    } else {
      let type = STACK_MISC;
      s.spilled.type = T.NOT_INIT;
      if (s.types[7] === STACK_SPILL) for (let i = 0; i < 8; i++) if (s.types[i] !== STACK_ZERO) s.types[i] = STACK_MISC;
      if ((reg && isNull(reg)) || (!reg && stImm === 0)) {
        // A zero that is no longer a spill (unaligned, or unprivileged): the
        // register it came from must be precise for STACK_ZERO to stay correct in
        // later states (check_stack_write_fixed_off, mark_chain_precision).
        if (reg) this.markChainPrecision(valueReg);
        type = STACK_ZERO;
      }
      for (let i = 0; i < size; i++) s.types[(slot - i) % 8] = type;
      histFlags = false;
    }
    if (size === 8) this.markStackWrite(f.frameno, spi);
    if (histFlags) this.pushHist(f.frameno, spi + 1);
  }

  private saveRegisterState(s: StackSlot, reg: Reg, size: number): void {
    s.spilled.copyFrom(reg);
    let i = 8;
    for (; i > 8 - size; i--) s.types[i - 1] = STACK_SPILL;
    for (; i > 0; i--) {
      const t = s.types[i - 1];
      if (t === STACK_ZERO) continue;
      if (this.priv && t === STACK_INVALID) continue;
      s.types[i - 1] = STACK_MISC;
    }
  }

  private checkStackWriteVar(f: Frame, ptr: Reg, off: number, size: number, valueReg: number, stImm?: number): void {
    const minOff = Number(ptr.smin) + off;
    const maxOff = Number(ptr.smax) + off + size;
    const vreg = valueReg >= 0 ? this.regs[valueReg] : null;
    const writingZero = (vreg && isNull(vreg)) || (!vreg && stImm === 0);
    let zeroUsed = false;
    for (let i = minOff; i < maxOff; i++) this.destroyIfDynptr(f, Math.floor((-i - 1) / 8));
    for (let i = minOff; i < maxOff; i++) {
      const slot = -i - 1;
      const spi = Math.floor(slot / 8);
      const s = f.stack[spi];
      const idx = slot % 8;
      this.scratchSlot(spi);
      const t = s.types[idx];
      if (!this.priv && t !== STACK_MISC && t !== STACK_ZERO) {
        throw new Reject(`spilled ptr in range of var-offset stack write; insn ${this.insnIdx}, ptr off: ${i}`, "EINVAL");
      }
      if (writingZero && t === STACK_SPILL && s.isSpilledScalar() && tnumIsConst(s.spilled.varOff) && s.spilled.varOff.value === 0n) {
        zeroUsed = true;
        continue;
      }
      s.spilled.type = T.NOT_INIT;
      let nt = STACK_MISC;
      if (writingZero && t === STACK_ZERO) { nt = STACK_ZERO; zeroUsed = true; }
      if (t === STACK_INVALID && !this.priv) {
        throw new Reject(`uninit stack in range of var-offset write prohibited for !root; insn ${this.insnIdx}, off: ${i}`, "EINVAL");
      }
      s.types[idx] = nt;
    }
    if (zeroUsed && valueReg >= 0) this.markChainPrecision(valueReg);
  }

  private checkStackRead(regno: number, off: number, size: number, dst: number): void {
    const ptr = this.regs[regno];
    const f = this.cur.frames[ptr.frameno];
    if (tnumIsConst(ptr.varOff)) {
      this.checkStackReadFixed(f, off + Number(BigInt.asIntN(64, ptr.varOff.value)), size, dst);
    } else {
      this.checkStackRangeInitialized(regno, off, size, false, false, null);
      this.markRegStackRead(f, Number(ptr.smin) + off, Number(ptr.smax) + off + size, dst);
    }
  }

  private checkStackReadFixed(f: Frame, off: number, size: number, dst: number): void {
    const slot = -off - 1;
    const spi = Math.floor(slot / 8);
    const s = f.stack[spi];
    const stype = s.types;
    const reg = s.spilled;
    const regs = this.regs;
    this.scratchSlot(spi);
    this.markStackRead(f.frameno, spi);
    let histFlags = true;
    if (s.isSpilled()) {
      let spillSize = 1;
      for (let i = 7; i > 0 && stype[i - 1] === STACK_SPILL; i--) spillSize++;
      if (size !== 8 || spillSize !== 8) {
        if (reg.type !== T.SCALAR) throw new Reject("invalid size of register fill");
        if (dst < 0) return;
        if (size <= spillSize && narrowAccessOk(off, size, spillSize)) {
          if (this.priv && size === 4 && spillSize === 4 && regWidth(reg) <= 32) this.assignIdBeforeMov(reg);
          regs[dst].copyFrom(reg);
          if (regWidth(reg) > size * 8) regs[dst].id = 0;
        } else {
          let spillCnt = 0, zeroCnt = 0;
          for (let i = 0; i < size; i++) {
            const t = stype[(slot - i) % 8];
            if (t === STACK_SPILL) { spillCnt++; continue; }
            if (t === STACK_MISC) continue;
            if (t === STACK_ZERO) { zeroCnt++; continue; }
            if (t === STACK_INVALID && this.priv) continue;
            throw new Reject(`invalid read from stack off ${off}+${i} size ${size}`);
          }
          if (spillCnt === size && tnumIsConst(reg.varOff) && reg.varOff.value === 0n) {
            markConstZero(regs[dst], this.priv);
          } else if (zeroCnt === size) {
            markConstZero(regs[dst], this.priv);
            histFlags = false;
          } else {
            this.unknown(regs[dst]);
            histFlags = false;
          }
        }
      } else if (dst >= 0) {
        if (this.priv) this.assignIdBeforeMov(reg);
        regs[dst].copyFrom(reg);
      } else if (isPointer(reg) && !this.priv) {
        throw new Reject(`leaking pointer from stack off ${off}`);
      }
    } else {
      for (let i = 0; i < size; i++) {
        const t = stype[(slot - i) % 8];
        if (t === STACK_MISC || t === STACK_ZERO) continue;
        if (t === STACK_INVALID && this.priv) continue;
        throw new Reject(`invalid read from stack off ${off}+${i} size ${size}`);
      }
      if (dst >= 0) this.markRegStackRead(f, off, off + size, dst);
      histFlags = false;
    }
    if (histFlags) this.pushHist(f.frameno, spi + 1);
  }

  private markRegStackRead(f: Frame, minOff: number, maxOff: number, dst: number): void {
    let zeros = 0;
    for (let i = minOff; i < maxOff; i++) {
      const slot = -i - 1;
      const spi = Math.floor(slot / 8);
      this.scratchSlot(spi);
      if (f.stack[spi].types[slot % 8] !== STACK_ZERO) break;
      zeros++;
    }
    if (zeros === maxOff - minOff) markConstZero(this.regs[dst], this.priv);
    else this.unknown(this.regs[dst]);
  }

  /** check_stack_range_initialized (helper memory arguments and var-off reads). */
  private checkStackRangeInitialized(regno: number, off: number, size: number, zeroOk: boolean, write: boolean, meta: CallMeta | null): void {
    const reg = this.regs[regno];
    const f = this.cur.frames[reg.frameno];
    if (size === 0 && !zeroOk) throw new Reject("invalid zero-sized read");
    this.checkStackAccessWithinBounds(regno, off, size, write);
    let minOff: number, maxOff: number;
    if (tnumIsConst(reg.varOff)) {
      minOff = maxOff = Number(BigInt.asIntN(64, reg.varOff.value)) + off;
    } else {
      if (!this.priv) {
        throw new Reject(`R${regno} variable offset stack access prohibited for !root, var_off=${tnumStr(reg.varOff)}`);
      }
      if (meta && meta.rawMode) meta = null;
      minOff = Number(reg.smin) + off;
      maxOff = Number(reg.smax) + off;
    }
    if (meta && meta.rawMode) {
      for (let i = minOff; i < maxOff + size; i++) {
        const slot = -i - 1;
        if (f.allocated <= slot) continue;
        if (f.stack[Math.floor(slot / 8)].types[slot % 8] === STACK_DYNPTR) throw new Reject(`potential write to dynptr at off=${i} disallowed`);
      }
      meta.accessSize = size;
      meta.regno = regno;
      return;
    }
    for (let i = minOff; i < maxOff + size; i++) {
      const slot = -i - 1;
      const spi = Math.floor(slot / 8);
      if (f.allocated <= slot) throw new Reject("allocated_stack too small", "EFAULT");
      const s = f.stack[spi];
      const t = s.types[slot % 8];
      let ok = false;
      if (t === STACK_MISC) ok = true;
      else if (t === STACK_ZERO || (t === STACK_INVALID && this.priv)) {
        if (write) s.types[slot % 8] = STACK_MISC;
        ok = true;
      } else if (s.isSpilled() && (s.spilled.type === T.SCALAR || this.priv)) {
        if (write) {
          markUnknown(s.spilled, this.priv);
          for (let j = 0; j < 8; j++) if (s.types[j] !== STACK_ZERO) s.types[j] = STACK_MISC;
        }
        ok = true;
      }
      if (!ok) {
        if (tnumIsConst(reg.varOff)) throw new Reject(`invalid read from stack R${regno} off ${minOff}+${i - minOff} size ${size}`);
        throw new Reject(`invalid read from stack R${regno} var_off ${tnumStr(reg.varOff)}+${i - minOff} size ${size}`);
      }
      this.markStackRead(f.frameno, spi);
    }
  }

  private checkAtomic(idx: number): void {
    const c = this.code;
    const op = c.opcode[idx];
    const imm = c.imm[idx];
    const size = sizeOf(op);
    const d = c.dst[idx], s = c.src[idx];
    if (imm === 0x100 || imm === 0x110) {
      // load-acquire / store-release
      if (imm === 0x100) {
        this.checkSrc(s);
        this.checkDst(d, false);
        const t = this.regs[s].type;
        this.checkMemAccess(s, c.off[idx], size, false, d, true, false);
        this.saveAuxPtrType(idx, t);
      } else {
        this.checkSrc(s);
        this.checkSrc(d);
        const t = this.regs[d].type;
        this.checkMemAccess(d, c.off[idx], size, true, s, true, false);
        this.saveAuxPtrType(idx, t);
      }
      return;
    }
    const valid = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
    if (!valid.includes(imm)) throw new Reject(`BPF_ATOMIC uses invalid atomic opcode ${(imm >>> 0).toString(16).padStart(2, "0")}`, "EINVAL");
    if (size !== 4 && size !== 8) throw new Reject("invalid atomic operand size", "EINVAL");
    this.checkSrc(s);
    this.checkSrc(d);
    if (imm === 0xf1) {
      this.checkSrc(0);
      if (this.isPtr(0)) throw new Reject("R0 leaks addr into mem");
    }
    if (this.isPtr(s)) throw new Reject(`R${s} leaks addr into mem`);
    const dt = this.regs[d].type;
    if (dt === T.CTX || isPktAny(dt) || dt === T.FLOW_KEYS || sockPointer(dt) !== undefined) {
      throw new Reject(`BPF_ATOMIC stores into R${d} ${this.regTypeStr(dt)} is not allowed`);
    }
    let loadReg = -1;
    if (imm & 1) {
      loadReg = imm === 0xf1 ? 0 : s;
      this.checkDst(loadReg, true);
    }
    this.checkMemAccess(d, c.off[idx], size, false, -1, true, false);
    if (loadReg >= 0) this.checkMemAccess(d, c.off[idx], size, false, loadReg, true, false);
    this.checkMemAccess(d, c.off[idx], size, true, -1, true, false);
  }

  // ------------------------------------------------------------------ LD

  private checkLdImm(idx: number): void {
    const c = this.code;
    if ((c.opcode[idx] & 0x18) !== 0x18) throw new Reject("invalid BPF_LD_IMM insn", "EINVAL");
    if (c.off[idx] !== 0) throw new Reject("BPF_LD_IMM64 uses reserved fields", "EINVAL");
    const d = c.dst[idx];
    this.checkDst(d, true);
    const r = this.regs[d];
    const src = c.src[idx];
    if (src === 0) {
      r.type = T.SCALAR;
      markKnown(r, (BigInt(c.imm[idx + 1] >>> 0) << 32n) | BigInt(c.imm[idx] >>> 0));
      return;
    }
    markKnownZero(r);
    if (src === 4) {
      if (!this.input.funcInfo) throw new Reject("missing btf func_info", "EINVAL");
      const sub = this.cfg.subprogStarts.indexOf(idx + c.imm[idx] + 1);
      if (this.globalSub[sub]) throw new Reject("callback function not static", "EINVAL");
      r.type = T.FUNC;
      r.subprogno = sub;
      return;
    }
    const map = this.input.maps!(c.imm[idx])!;
    r.map = map;
    r.mapHandle = c.imm[idx];
    if (src === 2 || src === 6) {
      r.type = T.MAP_VALUE;
      r.off = c.imm[idx + 1] >>> 0;
    } else {
      r.type = T.MAP_PTR;
    }
  }

  private checkLdAbs(idx: number): void {
    const c = this.code;
    const op = c.opcode[idx];
    const id = this.input.progType.id;
    if (id !== 1 && id !== 3 && id !== 4) throw new Reject("BPF_LD_[ABS|IND] instructions not allowed for this program type", "EINVAL");
    if (c.dst[idx] !== 0 || c.off[idx] !== 0 || (op & 0x18) === 0x18 || ((op & 0xe0) === 0x20 && c.src[idx] !== 0)) {
      throw new Reject("BPF_LD_[ABS|IND] uses reserved fields", "EINVAL");
    }
    this.checkSrc(6);
    this.checkResourceLeak("BPF_LD_[ABS|IND]", true);
    if (this.regs[6].type !== T.CTX) throw new Reject("at the time of BPF_LD_ABS|IND R6 != pointer to skb", "EINVAL");
    if ((op & 0xe0) === 0x40) this.checkSrc(c.src[idx]);
    this.checkPtrOffReg(this.regs[6], 6, false);
    for (let i = 0; i <= 5; i++) { markNotInit(this.regs[i]); this.scratchReg(i); }
    this.unknown(this.regs[0]);
  }

  // ------------------------------------------------------------------ jumps

  private checkCondJmp(idx: number): void {
    const c = this.code;
    const op = c.opcode[idx];
    const jop = op & 0xf0;
    const is32 = (op & 7) === 6;
    const isX = (op & 8) !== 0;
    const d = c.dst[idx];
    this.checkSrc(d);
    const regs = this.regs;
    const dst = regs[d];
    let src: Reg;
    let dstStack = false, srcStack = false;
    if (isX) {
      if (c.imm[idx] !== 0) throw new Reject("BPF_JMP/JMP32 uses reserved fields", "EINVAL");
      this.checkSrc(c.src[idx]);
      src = regs[c.src[idx]];
      if (!(isPktAny(base(dst.type)) && isPktAny(base(src.type))) && this.isPtr(c.src[idx])) {
        throw new Reject(`R${c.src[idx]} pointer comparison prohibited`);
      }
      if (src.type === T.STACK) srcStack = true;
    } else {
      if (c.src[idx] !== 0) throw new Reject("BPF_JMP/JMP32 uses reserved fields", "EINVAL");
      src = new Reg();
      src.type = T.SCALAR;
      setKnown(src, BigInt.asUintN(64, BigInt(c.imm[idx])));
      if (dst.type === T.STACK) dstStack = true;
    }
    if (dstStack || srcStack) {
      this.pushHist(0, 0);
      this.curHist!.dstIsStack ||= dstStack;
      this.curHist!.srcIsStack ||= srcStack;
    }
    const pred = isBranchTaken(dst, src, jop, is32);
    if (pred >= 0) {
      if (!isPointer(dst)) this.markChainPrecision(d);
      if (isX && !isPointer(src)) this.markChainPrecision(c.src[idx]);
    }
    if (pred === 1) {
      if (this.log.on) this.printInsnState(this.cur, this.cur.curframe);
      this.insnIdx += c.off[idx];
      return;
    }
    if (pred === 0) {
      if (this.log.on) this.printInsnState(this.cur, this.cur.curframe);
      return;
    }
    // Linked scalars refined together: recorded so precision flows between them.
    const linked: number[] = [];
    if (isX && src.type === T.SCALAR && src.id) this.collectLinked(src.id, linked);
    if (dst.type === T.SCALAR && dst.id) this.collectLinked(dst.id, linked);
    if (linked.length > 1) {
      this.pushHist(0, 0);
      this.curHist!.linked = linked;
    }
    const other = this.pushStack(idx + c.off[idx] + 1, idx);
    const oregs = other.frames[other.curframe].regs;
    if (isX) {
      this.regSetMinMax(oregs[d], oregs[c.src[idx]], dst, src, jop, is32);
    } else {
      const f0 = src.clone();
      this.regSetMinMax(oregs[d], src, dst, f0, jop, is32);
    }
    if (isX && src.type === T.SCALAR && src.id) {
      this.syncLinked(this.cur, src, linked);
      this.syncLinked(other, oregs[c.src[idx]], linked);
    }
    if (dst.type === T.SCALAR && dst.id) {
      this.syncLinked(this.cur, dst, linked);
      this.syncLinked(other, oregs[d], linked);
    }
    if (!is32 && isX && isPointer(src) && isPointer(dst) && mayBeNull(src.type) !== mayBeNull(dst.type)) {
      // JEQ/JNE of a maybe-null pointer against a non-null one: not null where equal.
      if (jop === 0x10 || jop === 0x50) {
        const nullReg = mayBeNull(src.type) ? c.src[idx] : d;
        if (jop === 0x10) this.markPtrOrNullRegs(other, nullReg, false);
        else this.markPtrOrNullRegs(this.cur, nullReg, false);
      }
    }
    if (!is32 && !isX && c.imm[idx] === 0 && (jop === 0x10 || jop === 0x50) && mayBeNull(dst.type)) {
      this.markPtrOrNullRegs(this.cur, d, jop === 0x50);
      this.markPtrOrNullRegs(other, d, jop === 0x10);
    } else if (!this.tryMatchPktPointers(idx, dst, isX ? regs[c.src[idx]] : src, other) && this.isPtr(d)) {
      throw new Reject(`R${d} pointer comparison prohibited`);
    }
    if (this.log.on) this.printInsnState(this.cur, this.cur.curframe);
  }

  /**
   * collect_linked_regs: the live registers (live_regs_before at the frame's
   * current instruction, or its call site in a caller) and spilled slots sharing
   * scalar id `id`, innermost frame first, appended to `out`, which holds at most
   * LINKED_REGS_MAX (6); an extra one loses its id. Positions: frame * 128 +
   * regno, or + 16 + spi.
   */
  private collectLinked(id: number, out: number[]): void {
    const st = this.cur;
    const add = (r: Reg, pos: number): void => {
      if (r.type !== T.SCALAR || r.id !== id) return;
      if (out.length >= 6) { r.id = 0; return; }
      out.push(pos);
    };
    for (let fr = st.curframe; fr >= 0; fr--) {
      const f = st.frames[fr];
      const live = this.aux[fr === st.curframe ? this.insnIdx : st.frames[fr + 1].callsite].liveRegsBefore;
      for (let j = 0; j < 10; j++) if (live & (1 << j)) add(f.regs[j], fr * 128 + j);
      for (let j = 0; j < f.stack.length; j++) if (f.stack[j].isSpilled()) add(f.stack[j].spilled, fr * 128 + 16 + j);
    }
  }

  /** sync_linked_regs: the collected registers sharing the known one's id take its refined bounds. */
  private syncLinked(st: VState, known: Reg, linked: readonly number[]): void {
    for (const e of linked) {
      const f = st.frames[Math.floor(e / 128)];
      const k = e % 128;
      const r = k < 16 ? f.regs[k] : f.stack[k - 16].spilled;
      if (r === known || r.type !== T.SCALAR || r.id !== known.id) continue;
      r.copyFrom(known);
    }
  }

  /** reg_set_min_max: refine both branches from the comparison. */
  private regSetMinMax(t1: Reg, t2: Reg, f1: Reg, f2: Reg, jop: number, is32: boolean): void {
    if (f1.type !== T.SCALAR || f2.type !== T.SCALAR) return;
    refineCondOp(f1, f2, revOpcode(jop), is32);
    boundsSync(f1);
    boundsSync(f2);
    refineCondOp(t1, t2, jop, is32);
    boundsSync(t1);
    boundsSync(t2);
    // A refinement that contradicts the 32-bit view (a branch that cannot happen) leaves the
    // kernel's register with its 32-bit bounds re-derived from the 64-bit ones; a total
    // contradiction leaves it unbounded (reg_bounds_sanity_check). Both only lose facts.
    for (const r of [t1, t2, f1, f2]) {
      if (boundsSane(r)) continue;
      mark32Unbounded(r);
      boundsSync(r);
      if (!boundsSane(r)) {
        markUnbounded(r);
        boundsSync(r);
      }
    }
  }

  private markPtrOrNullRegs(st: VState, regno: number, isNullBranch: boolean): void {
    const regs = st.frames[st.curframe].regs;
    const id = regs[regno].id;
    const refObj = regs[regno].refObjId;
    if (refObj && refObj === id && isNullBranch) st.refs = st.refs.filter((r) => r.id !== id);
    if (!id) return;
    st.forEachReg((r) => {
      if (!mayBeNull(r.type) || r.id !== id) return;
      if (isNullBranch) {
        r.type = T.SCALAR;
        r.id = 0;
        r.refObjId = 0;
        r.map = null; r.mapHandle = -1; r.memSize = 0; r.range = 0; r.off = 0; r.btfType = "";
        return;
      }
      if (base(r.type) === T.MAP_VALUE && r.map && (r.map.type === MAP.ARRAY_OF_MAPS || r.map.type === MAP.HASH_OF_MAPS)) {
        r.type = T.MAP_PTR;
        r.map = r.map.inner ?? r.map;
        this.innerMaps.add(r.map);
      } else {
        r.type &= ~MAYBE_NULL;
      }
      // reg_may_point_to_spin_lock: the id names the lock's value for bpf_spin_unlock.
      if (!(r.type === T.MAP_VALUE && r.map?.spinLockOff !== undefined)) r.id = 0;
    });
  }

  private tryMatchPktPointers(idx: number, dst: Reg, src: Reg, other: VState): boolean {
    const c = this.code;
    const op = c.opcode[idx];
    if (!(op & 8) || (op & 7) === 6) return false;
    const jop = op & 0xf0;
    const d = c.dst[idx], s = c.src[idx];
    const isInitPkt = (r: Reg): boolean => r.type === T.PKT && r.off === 0 && tnumEquals(r.varOff, tnumConst(0n));
    const dstPkt = (dst.type === T.PKT && src.type === T.PKT_END) || (dst.type === T.PKT_META && isInitPkt(src));
    const srcPkt = (dst.type === T.PKT_END && src.type === T.PKT) || (isInitPkt(dst) && src.type === T.PKT_META);
    const thisB = this.cur;
    const regOf = (st: VState, r: number): Reg => st.frames[st.curframe].regs[r];
    switch (jop) {
      case 0x20: // >
        if (dstPkt) { this.findGoodPkt(thisB, dst, dst.type, false); markPktEnd(other, d, true); }
        else if (srcPkt) { this.findGoodPkt(other, regOf(other, s), src.type, true); markPktEnd(thisB, s, false); }
        else return false;
        break;
      case 0xa0: // <
        if (dstPkt) { this.findGoodPkt(other, regOf(other, d), dst.type, true); markPktEnd(thisB, d, false); }
        else if (srcPkt) { this.findGoodPkt(thisB, src, src.type, false); markPktEnd(other, s, true); }
        else return false;
        break;
      case 0x30: // >=
        if (dstPkt) { this.findGoodPkt(thisB, dst, dst.type, true); markPktEnd(other, d, false); }
        else if (srcPkt) { this.findGoodPkt(other, regOf(other, s), src.type, false); markPktEnd(thisB, s, true); }
        else return false;
        break;
      case 0xb0: // <=
        if (dstPkt) { this.findGoodPkt(other, regOf(other, d), dst.type, false); markPktEnd(thisB, d, true); }
        else if (srcPkt) { this.findGoodPkt(thisB, src, src.type, true); markPktEnd(other, s, false); }
        else return false;
        break;
      default:
        return false;
    }
    return true;
  }

  /** find_good_pkt_pointers. */
  private findGoodPkt(st: VState, dst: Reg, type: number, rightOpen: boolean): void {
    if (dst.off < 0 || (dst.off === 0 && rightOpen)) return;
    if (dst.umax > BigInt(MAX_PACKET_OFF) || dst.umax + BigInt(dst.off) > BigInt(MAX_PACKET_OFF)) return;
    let range = dst.off;
    if (rightOpen) range++;
    const id = dst.id;
    st.forEachReg((r) => {
      if (r.type === type && r.id === id) r.range = Math.max(r.range, range);
    });
  }

  private checkMayGoto(idx: number): number {
    const c = this.code;
    if (c.opcode[idx] !== 0xe5 || c.src[idx] !== 0 || c.dst[idx] !== 0 || c.imm[idx] !== 0) {
      throw new Reject(`invalid may_goto imm ${c.imm[idx]}`, "EINVAL");
    }
    // The fall-through (one more iteration) is queued with a deeper may_goto count; the
    // current path takes the jump (the budget is spent), as the kernel's check_cond_jmp_op does.
    const prev = this.cur.parent ? this.findPrevEntry(this.cur.parent, idx) : null;
    const queued = this.pushStack(idx + 1, idx);
    queued.mayGotoDepth++;
    if (prev) this.widenImprecise(prev, queued);
    this.insnIdx += c.off[idx] + 1;
    return 0;
  }

  // ------------------------------------------------------------------ calls

  /**
   * check_resource_leak: no bpf_spin_lock held (where `checkLock`), and no acquired
   * pointer unreleased (main frame only) at an exit, tail call or LD_ABS.
   */
  private checkResourceLeak(prefix: string, checkLock: boolean): void {
    if (checkLock && this.cur.activeLocks) throw new Reject(`${prefix} cannot be used inside bpf_spin_lock-ed region`, "EINVAL");
    if (this.cur.curframe !== 0) return;
    const refs = this.cur.refs.filter((r) => r.type !== "lock");
    if (refs.length) {
      const msg = refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insn}`).join("\n");
      throw new Reject(`${msg}\n${prefix} would lead to reference leak`, "EINVAL");
    }
  }

  private checkFuncCall(idx: number): void {
    const target = idx + this.code.imm[idx] + 1;
    const sub = this.cfg.subprogStarts.indexOf(target);
    if (sub < 0) throw new Reject(`verifier bug: target of func call at insn ${idx} is not a program`, "EFAULT");
    const st = this.cur;
    const caller = this.frame;
    if (this.globalSub[sub]) {
      const fi = this.input.funcInfo!.find((f) => f.insn === target)!;
      if (st.activeLocks) throw new Reject("global function calls are not allowed while holding a lock,\nuse static function instead", "EINVAL");
      this.checkGlobalArgs(fi.params ?? [], sub, fi.name);
      if (this.log.on) this.log.add(`Func#${sub} ('${fi.name}') is global and assumed valid.\n`);
      for (let i = 0; i <= 5; i++) { markNotInit(caller.regs[i]); this.scratchReg(i); }
      this.unknown(caller.regs[0]);
      this.insnIdx++;
      return;
    }
    if (st.curframe + 1 >= MAX_CALL_FRAMES) {
      throw new Reject(`the call stack of ${st.curframe + 2} frames is too deep`, "E2BIG");
    }
    const callee = new Frame();
    for (const r of callee.regs) markNotInit(r);
    callee.callsite = idx;
    callee.frameno = st.curframe + 1;
    callee.subprogno = sub;
    const fp = callee.regs[BPF_REG_FP];
    markKnownZero(fp);
    fp.type = T.STACK;
    fp.frameno = callee.frameno;
    for (let i = 1; i <= 5; i++) callee.regs[i].copyFrom(caller.regs[i]);
    st.frames[st.curframe + 1] = callee;
    st.curframe++;
    for (let i = 0; i <= 5; i++) markNotInit(caller.regs[i]);
    this.insnIdx = this.cfg.subprogStarts[sub];
    if (this.log.on) {
      this.log.add("caller:\n" + this.stateStr(st, st.curframe - 1, true));
      this.log.add("callee:\n" + this.stateStr(st, st.curframe, true));
    }
    this.markAllScratched();
  }

  /**
   * btf_check_func_arg_match for a global function: each argument against its BTF
   * type. A pointer to memory must be readable and writable for the pointee's size
   * (check_mem_reg: the callee may write it, so the caller's copy is clobbered);
   * NULL passes. A failure is logged, then reported as the caller's.
   */
  private checkGlobalArgs(params: readonly ({ kind: string; size?: number; nullable?: boolean })[], sub: number, name: string): void {
    const regs = this.regs;
    try {
      for (let i = 0; i < params.length; i++) {
        const p = params[i];
        const regno = i + 1;
        const r = regs[regno];
        if (p.kind === "scalar") {
          if (r.type !== T.SCALAR) throw new Reject(`R${regno} is not a scalar`);
        } else if (p.kind === "ctx") {
          // check_func_arg_reg_off first: the callee is verified with an unmodified ctx pointer.
          this.checkFuncArgRegOff(r, regno, { type: "ctx" }, false);
          if (r.type !== T.CTX) throw new Reject(`arg#${i} expects pointer to ctx`);
        } else if (p.kind === "mem") {
          this.checkFuncArgRegOff(r, regno, { type: "mem" }, false);
          if (isNull(r)) continue;
          const saved = r.clone();
          r.type &= ~MAYBE_NULL;
          try {
            this.checkHelperMemAccess(regno, p.size ?? 0, false, true, null);
            this.checkHelperMemAccess(regno, p.size ?? 0, true, true, null);
          } finally {
            r.copyFrom(saved);
          }
          if (!p.nullable && mayBeNull(r.type)) throw new Reject(`arg#${i} is expected to be non-NULL`);
        }
      }
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      this.log.add(e.noNewline || e.kmsg.endsWith("\n") ? e.kmsg : e.kmsg + "\n");
      throw new Reject(`Caller passes invalid args into func#${sub} ('${name}')`, "EINVAL");
    }
  }

  /**
   * A bpf_tail_call in a subprogram: if it fails, execution goes on after it
   * (queued, packet pointers intact); if it succeeds, the tail-called program's
   * return value comes back to the subprogram's caller, and that program may
   * have changed the packet. The kernel explores both (Linux 6.18; the corpus's
   * "tail call in subprog" cases show the two paths in its log).
   */
  private tailCallInSubprog(idx: number): number {
    this.pushStack(idx + 1, idx);
    this.clearAllPktPointers();
    this.unknown(this.regs[0]);
    this.updateLiveStack();
    this.prepareFuncExit();
    // Unlike BPF_EXIT, no "from N to M:" state line follows in the level-2 log.
    return 0;
  }

  private processExit(): number {
    const st = this.cur;
    this.checkResourceLeak("BPF_EXIT instruction in main prog", st.curframe === 0);
    if (st.curframe) {
      this.updateLiveStack();
      this.prepareFuncExit();
      return 2;
    }
    this.checkReturnCode();
    return PROCESS_EXIT;
  }

  private checkReturnCode(): void {
    const st = this.cur;
    const isSub = st.frames[0].subprogno !== 0;
    const fi = isSub ? this.input.funcInfo?.find((f) => f.insn === this.cfg.subprogStarts[st.frames[0].subprogno]) : undefined;
    if (isSub && fi?.returnsVoid) return;
    this.checkSrc(0);
    if (this.isPtr(0)) throw new Reject("R0 leaks addr as return value");
    const r0 = this.regs[0];
    if (st.frames[0].inAsyncCallbackFn) {
      // Timer callbacks return 0.
      const f = st.frames[0];
      if (r0.type !== T.SCALAR) throw new Reject(`At async callback return the register R0 is not a known value (${this.regTypeStr(r0.type)})`, "EINVAL");
      this.markChainPrecision(0);
      if (!(r0.smin >= BigInt(f.callbackRetMin) && r0.smax <= BigInt(f.callbackRetMax))) {
        throw new Reject(invalidScalarMsg(r0, [f.callbackRetMin, f.callbackRetMax], "At async callback return", "R0"), "EINVAL");
      }
      return;
    }
    if (isSub) {
      if (r0.type !== T.SCALAR) throw new Reject(`At subprogram exit the register R0 is not a scalar value (${this.regTypeStr(r0.type)})`, "EINVAL");
      return;
    }
    const range = this.input.progType.returnRange(this.attach);
    if (!range) return;
    if (r0.type !== T.SCALAR) throw new Reject(`At program exit the register R0 is not a known value (${this.regTypeStr(r0.type)})`, "EINVAL");
    this.markChainPrecision(0);
    if (!(r0.smin >= BigInt(range[0]) && r0.smax <= BigInt(range[1]))) {
      throw new Reject(invalidScalarMsg(r0, range, "At program exit", "R0"), "EINVAL");
    }
  }

  private prepareFuncExit(): void {
    const st = this.cur;
    const callee = st.frames[st.curframe];
    const r0 = callee.regs[0];
    if (r0.type === T.STACK) throw new Reject("cannot return stack pointer to the caller", "EINVAL");
    const caller = st.frames[st.curframe - 1];
    if (callee.inCallbackFn) {
      if (r0.type !== T.SCALAR) throw new Reject("R0 not a scalar value");
      this.markChainPrecision(0);
      if (!(r0.smin >= BigInt(callee.callbackRetMin) && r0.smax <= BigInt(callee.callbackRetMax))) {
        throw new Reject(invalidScalarMsg(r0, [callee.callbackRetMin, callee.callbackRetMax], "At callback return", "R0"), "EINVAL");
      }
    } else {
      caller.regs[0].copyFrom(r0);
    }
    const inCb = callee.inCallbackFn;
    this.insnIdx = inCb ? callee.callsite : callee.callsite + 1;
    if (this.log.on) {
      this.log.add("returning from callee:\n" + this.stateStr(st, st.curframe, true));
      this.log.add(`to caller at ${this.insnIdx}:\n` + this.stateStr(st, st.curframe - 1, true));
    }
    st.frames.length = st.curframe;
    st.curframe--;
    if (inCb) {
      // widen_imprecise_scalars against the previous visit of the callsite.
      const prev = this.findPrevEntry(st, this.insnIdx);
      if (prev) this.widenImprecise(prev, st);
    }
  }

  private findPrevEntry(st: VState, idx: number): VState | null {
    for (const s of this.explored.get(this.bucket(idx, st)) ?? []) {
      if (s.insnIdx === idx && s.branches > 0 && this.sameCallsites(s, st) && s.dfsDepth < st.dfsDepth) return s;
    }
    return null;
  }

  /** widen_imprecise_scalars: scalars that changed between two visits of a loop head and matter to no one become unknown. */
  private widenImprecise(old: VState, cur: VState): void {
    const idmap = new IdMap(this.idGen);
    for (let fr = old.curframe; fr >= 0; fr--) {
      const fo = old.frames[fr], fc = cur.frames[fr];
      for (let i = 0; i < 11; i++) widenReg(fo.regs[i], fc.regs[i], this.priv, idmap);
      for (let i = 0; i < fo.stack.length && i < fc.stack.length; i++) {
        if (fo.stack[i].isSpilled() && fc.stack[i].isSpilled()) widenReg(fo.stack[i].spilled, fc.stack[i].spilled, this.priv, idmap);
      }
    }
  }

  private helperAllowed(id: number): boolean {
    return this.input.progType.allowsHelper(id, this.attach);
  }

  /** check_helper_call. */
  private checkHelperCall(idx: number): void {
    const id = this.code.imm[idx];
    const h = this.helper(id);
    if (!h) throw new Reject(`invalid func unknown#${id}`, "EINVAL");
    if (!this.helperAllowed(id)) throw new Reject(`program of this type cannot use helper bpf_${h.name}#${id}`, "EINVAL");
    const fn = h.proto;
    if (!this.gpl && fn.gplOnly) throw new Reject("cannot call GPL-restricted function from non-GPL compatible program", "EINVAL");
    const meta: CallMeta = {
      map: null, mapHandle: -1, mapRegs: 0, rawMode: false, accessSize: 0, regno: -1, memSize: 0, refObjId: 0, releaseRegno: 0,
      subprogno: -1, constMapKey: -1n, msizeMaxValue: 0n,
    };
    for (let i = 0; i < 5; i++) this.checkFuncArg(i, meta, fn, id);
    this.recordFuncMap(idx, meta, id);
    if (id === 12) this.recordFuncKey(idx, meta);
    // Helpers writing to uninitialised stack (raw mode) make the bytes STACK_MISC.
    for (let i = 0; i < meta.accessSize; i++) this.checkMemAccess(meta.regno, i, 1, true, -1, false, false);
    const regs = this.regs;
    if (meta.releaseDynptr !== undefined) {
      this.unmarkDynptr(meta.releaseDynptr);
    } else if (fn.releasesArg !== undefined) {
      const rr = regs[fn.releasesArg];
      if (meta.refObjId) this.releaseReference(meta.refObjId);
      else if (!isNull(rr)) throw new Reject(`func bpf_${h.name}#${id} reference has not been acquired before`, "EINVAL");
    }
    if (id === 12) this.checkResourceLeak("tail_call", true);
    if (id === BPF_FUNC_snprintf) this.checkSnprintfCall();
    // check_helper_call: a local dynptr's memory must be a map value (not the stack, a packet...).
    if (id === BPF_FUNC_dynptr_from_mem && regs[1].type !== T.MAP_VALUE) {
      throw new Reject(`Unsupported reg type ${this.regTypeStr(regs[1].type)} for bpf_dynptr_from_mem data`);
    }
    if (fn.callback && meta.subprogno >= 0) {
      if (id === 181) {
        this.updateLoopInlineState(idx, meta.subprogno);
        this.markChainPrecision(1);
        if (this.frame.callbackDepth < regs[1].umax) {
          this.pushCallbackCall(idx, meta, fn);
        } else {
          this.frame.callbackDepth = 0;
          if (this.log.level >= 2) this.log.add(`frame${this.cur.curframe} bpf_loop iteration limit reached\n`);
        }
      } else if (id === BPF_FUNC_timer_set_callback) {
        this.pushAsyncCallback(idx, meta);
      } else {
        this.pushCallbackCall(idx, meta, fn);
      }
    }
    this.finishHelperCall(idx, id, fn, meta);
  }

  private finishHelperCall(idx: number, id: number, fn: HelperProto, meta: CallMeta): void {
    const regs = this.regs;
    for (let i = 0; i <= 5; i++) { markNotInit(regs[i]); this.scratchReg(i); }
    const r0 = regs[0];
    const ret = fn.ret;
    switch (ret.type) {
      case "integer":
        this.unknown(r0);
        break;
      case "void":
        r0.type = T.NOT_INIT;
        break;
      case "map_value": {
        markKnownZero(r0);
        if (!meta.map) throw new Reject("kernel subsystem misconfigured verifier", "EINVAL");
        let nullable = ret.nullable;
        if (id === 1 && (meta.map.type === MAP.ARRAY || meta.map.type === MAP.PERCPU_ARRAY) && meta.constMapKey >= 0n && meta.constMapKey < BigInt(meta.map.maxEntries)) {
          nullable = false;
        }
        r0.map = meta.map;
        r0.mapHandle = meta.mapHandle;
        r0.type = T.MAP_VALUE | (nullable ? MAYBE_NULL : 0);
        if (!nullable && meta.map.spinLockOff !== undefined) r0.id = ++this.idGen;
        break;
      }
      case "mem":
        markKnownZero(r0);
        r0.type = T.MEM | (ret.nullable ? MAYBE_NULL : 0) | (ret.ringbuf ? MEM_RINGBUF : 0) | (ret.readonly ? MEM_RDONLY : 0);
        r0.memSize = ret.size ?? meta.memSize;
        break;
      case "btf_id":
        markKnownZero(r0);
        // RET_PTR_TO_BTF_ID_TRUSTED (bpf_get_current_task_btf): PTR_TO_BTF_ID | PTR_TRUSTED.
        r0.type = (ret.trusted ? T.TRUSTED_BTF_ID : T.BTF_ID) | (ret.nullable ? MAYBE_NULL : 0);
        r0.btfType = ret.btfType;
        break;
      case "socket":
        markKnownZero(r0);
        r0.type = T.SOCKET | (ret.nullable ? MAYBE_NULL : 0);
        break;
      case "tcp_sock":
        markKnownZero(r0);
        r0.type = T.TCP_SOCK | (ret.nullable ? MAYBE_NULL : 0);
        break;
      case "sock_common":
        markKnownZero(r0);
        r0.type = T.SOCK_COMMON | (ret.nullable ? MAYBE_NULL : 0);
        break;
      case "dynptr_mem":
        // A slice of the dynptr's data (RET_PTR_TO_DYNPTR_MEM_OR_NULL): dies with the dynptr.
        markKnownZero(r0);
        r0.type = T.MEM | (ret.nullable ? MAYBE_NULL : 0);
        r0.memSize = meta.memSize;
        r0.dynptrId = meta.dynptrId ?? 0;
        r0.refObjId = meta.dynptrRef ?? 0;
        break;
      case "mem_or_btf_id":
      case "kptr":
        throw new Reject(`helper bpf_${this.helper(id)?.name}#${id} returns ${ret.type}, which this verifier does not model`, "ENOTSUPP");
    }
    if (mayBeNull(r0.type)) r0.id = ++this.idGen;
    // A cast of a referenced socket is released with it (release_reference finds it by ref_obj_id).
    if (PTR_CAST_FUNCS.has(id)) r0.refObjId = meta.refObjId;
    // bpf_ringbuf_reserve_dynptr's reference is the dynptr's (mark_stack_slots_dynptr), not r0's.
    const acquires = (fn.acquires === true && !fn.args.some((a) => a.type === "dynptr")) || (ret.type === "socket" && ret.acquires) ||
      (ret.type === "sock_common" && ret.acquires);
    if (acquires) {
      const rid = ++this.idGen;
      this.cur.refs.push({ id: rid, insn: idx });
      r0.id = rid;
      r0.refObjId = rid;
    }
    if (ret.type === "integer") this.refineRetvalRange(id, meta);
    this.checkMapFuncCompat(meta.map, id);
    if (CHANGES_PKT_DATA.has(id) || fn.changesPktData) this.clearAllPktPointers();
  }

  /**
   * do_refine_retval_range: what some integer-returning helpers are known to
   * return — string and stack copies at most the buffer size (or -errno), the
   * CPU number below nr_cpu_ids (when the vm says how many it has).
   */
  private refineRetvalRange(id: number, meta: CallMeta): void {
    const r0 = this.regs[0];
    if (RETURNS_SIZE_OR_ERRNO.has(id)) {
      r0.smax = meta.msizeMaxValue;
      r0.s32max = Number(BigInt.asIntN(32, meta.msizeMaxValue));
      r0.smin = -MAX_ERRNO;
      r0.s32min = -Number(MAX_ERRNO);
    } else if (id === BPF_FUNC_get_smp_processor_id && this.input.nrCpuIds) {
      const max = this.input.nrCpuIds - 1;
      r0.umin = 0n; r0.umax = BigInt(max); r0.smin = 0n; r0.smax = BigInt(max);
      r0.u32min = 0; r0.u32max = max; r0.s32min = 0; r0.s32max = max;
    } else return;
    boundsSync(r0);
    if (!boundsSane(r0)) throw new Reject("REG INVARIANTS VIOLATION (retval)", "EFAULT");
  }

  /**
   * push_async_cb + set_timer_callback_state: a timer callback runs later, on its
   * own: it is explored from a fresh state with one frame (no caller), R1 the
   * timer's map, R2 a key and R3 a value of it, and must return 0.
   */
  private pushAsyncCallback(idx: number, meta: CallMeta): void {
    const sub = meta.subprogno;
    const st = new VState();
    const f = new Frame();
    for (const r of f.regs) markNotInit(r);
    f.callsite = -1;
    f.frameno = 0;
    f.subprogno = sub;
    f.inAsyncCallbackFn = true;
    f.callbackRetMin = 0;
    f.callbackRetMax = 0;
    const fp = f.regs[BPF_REG_FP];
    markKnownZero(fp);
    fp.type = T.STACK;
    const [r1, r2, r3] = [f.regs[1], f.regs[2], f.regs[3]];
    markKnownZero(r1); r1.type = T.MAP_PTR; r1.map = meta.map;
    markKnownZero(r2); r2.type = T.MAP_KEY; r2.map = meta.map;
    markKnownZero(r3); r3.type = T.MAP_VALUE; r3.map = meta.map;
    st.frames = [f];
    st.curframe = 0;
    st.insnIdx = this.cfg.subprogStarts[sub];
    // push_async_cb starts from a zeroed state: first_insn_idx is 0, not the callback's start.
    st.firstInsnIdx = 0;
    this.stack.push({ st, insn: st.insnIdx, prev: idx, logPos: this.log.pos });
    if (this.stack.length > BPF_COMPLEXITY_LIMIT_JMP_SEQ) {
      throw new Reject(`The sequence of ${this.stack.length} jumps is too complex for async cb.`, "E2BIG");
    }
    // As for other callbacks, the log then shows the caller's whole state.
    this.markAllScratched();
  }

  /** push_callback_call: the callback body is explored later, from a copy with a callback frame. */
  private pushCallbackCall(idx: number, meta: CallMeta, fn: HelperProto): void {
    const cb = fn.callback!;
    const sub = meta.subprogno;
    const cbState = this.pushStack(this.cfg.subprogStarts[sub], idx);
    if (cbState.curframe + 1 >= MAX_CALL_FRAMES) throw new Reject(`the call stack of ${cbState.curframe + 2} frames is too deep`, "E2BIG");
    const caller = cbState.frames[cbState.curframe];
    const callee = new Frame();
    for (const r of callee.regs) markNotInit(r);
    callee.callsite = idx;
    callee.frameno = cbState.curframe + 1;
    callee.subprogno = sub;
    callee.inCallbackFn = true;
    callee.callbackRetMin = cb.retRange[0];
    callee.callbackRetMax = cb.retRange[1];
    const fp = callee.regs[BPF_REG_FP];
    markKnownZero(fp);
    fp.type = T.STACK;
    fp.frameno = callee.frameno;
    cb.params.forEach((p, i) => {
      const r = callee.regs[i + 1];
      if (p === "scalar") markUnknown(r, this.priv);
      else if (p === "callback_ctx") r.copyFrom(caller.regs[3]);
      else if (p === "map_ptr") r.copyFrom(caller.regs[1]);
      else if (p === "dynptr") {
        // mark_dynptr_cb_reg: a const pointer to a local dynptr the kernel owns.
        markKnownZero(r);
        r.type = T.DYNPTR;
        r.id = ++this.idGen;
        r.dynptrType = "local";
        r.dynptrFirst = true;
      }
      else if (p === "map_key" || p === "map_value") {
        markKnownZero(r);
        r.type = p === "map_key" ? T.MAP_KEY : T.MAP_VALUE;
        r.map = meta.map;
      } else r.copyFrom(caller.regs[1]);
    });
    cbState.frames[cbState.curframe + 1] = callee;
    cbState.curframe++;
    cbState.callbackUnrollDepth++;
    caller.callbackDepth++;
    this.frame.callbackDepth = 0;
    this.markAllScratched();
  }

  private releaseReference(id: number): void {
    const st = this.cur;
    const before = st.refs.length;
    st.refs = st.refs.filter((r) => r.id !== id);
    if (st.refs.length === before) throw new Reject("verifier internal error: reference not found", "EFAULT");
    st.forEachReg((r) => {
      if (r.refObjId === id) {
        if (this.priv) markUnknown(r, this.priv);
        else markNotInit(r);
      }
    });
  }

  private clearAllPktPointers(): void {
    this.cur.forEachReg((r) => {
      if (isPktAny(base(r.type))) markUnknown(r, this.priv);
    });
  }

  /** record_func_map: the map at a helper call site, poisoned when several reach it. */
  private recordFuncMap(idx: number, meta: CallMeta, id: number): void {
    const mapHelpers = [1, 2, 3, 12, 87, 88, 89, 164, 195];
    if (!mapHelpers.includes(id)) return;
    if (!meta.map) return;
    if (meta.map.flags & BPF_F_RDONLY_PROG && [2, 3, 87, 88].includes(id)) throw new Reject("write into map forbidden");
    const a = this.aux[idx];
    if (a.map === undefined && !a.mapPoisoned) {
      a.map = meta.map;
      a.mapHandle = meta.mapHandle;
    } else if (a.map !== meta.map) {
      a.mapPoisoned = true;
      a.map = undefined;
      a.mapHandle = undefined;
    }
    if (id === 1) {
      a.inlineArrayLookup = !a.mapPoisoned && a.map !== undefined && a.map.type === MAP.ARRAY;
    }
  }

  /** update_loop_inline_state: bpf_loop with a constant callback and zero flags could be inlined. */
  private updateLoopInlineState(idx: number, sub: number): void {
    const flagZero = (): boolean => {
      const z = isNull(this.regs[4]);
      if (z) this.markChainPrecision(4);
      return z;
    };
    const a = this.aux[idx];
    if (a.loopInline === undefined) {
      a.loopInline = { fit: flagZero(), subprog: sub };
      return;
    }
    if (!a.loopInline.fit) return;
    a.loopInline = { fit: flagZero() && a.loopInline.subprog === sub, subprog: sub };
  }

  /** record_func_key: a constant tail call index is made precise (and remembered for direct jumps). */
  private recordFuncKey(idx: number, meta: CallMeta): void {
    // The kernel's message has no newline here.
    if (!meta.map || meta.map.type !== MAP.PROG_ARRAY) throw new Reject("expected prog array map for tail call", "EINVAL", true);
    const r3 = this.regs[3];
    if (!(regIsConst(r3, false) && r3.varOff.value < BigInt(meta.map.maxEntries))) return;
    this.markChainPrecision(3);
    void idx;
  }

  private checkMapFuncCompat(map: VerifierMapInfo | null, id: number): void {
    const name = this.helper(id)?.name ?? "unknown";
    const bad = (): never => {
      throw new Reject(`cannot pass map_type ${map!.type} into func bpf_${name}#${id}`, "EINVAL");
    };
    if (!map) return;
    // check_map_func_compatibility, first from the map's side...
    const only = (ids: readonly number[]): void => {
      if (!ids.includes(id)) bad();
    };
    switch (map.type) {
      case MAP.PROG_ARRAY: only([12]); break;
      case MAP.PERF_EVENT_ARRAY: only([22, 25, 111, 55, 121]); break;
      case MAP.RINGBUF: only([130, 131, 134, 198, 199, 200]); break;
      case MAP.USER_RINGBUF: only([209]); break;
      case MAP.STACK_TRACE: only([27]); break;
      case MAP.CGROUP_ARRAY: only([33, 37]); break;
      case MAP.CGROUP_STORAGE: case MAP.PERCPU_CGROUP_STORAGE: only([81]); break;
      case MAP.DEVMAP: case MAP.DEVMAP_HASH: only([51, 1]); break;
      case MAP.CPUMAP: only([51]); break;
      case MAP.XSKMAP: only([51, 1]); break;
      case MAP.ARRAY_OF_MAPS: case MAP.HASH_OF_MAPS: only([1]); break;
      // SOCKMAP/SOCKHASH also allow map updates/deletes from some program types (may_update_sockmap): refuse those here.
      case MAP.SOCKMAP: only([52, 53, 60, 82, 1]); break;
      case MAP.SOCKHASH: only([72, 70, 71, 82, 1]); break;
      case MAP.REUSEPORT_SOCKARRAY: only([82]); break;
      case MAP.QUEUE: case MAP.STACK: only([87, 88, 89]); break;
      case MAP.SK_STORAGE: only([107, 108, 194]); break;
      case MAP.INODE_STORAGE: only([145, 146, 194]); break;
      case MAP.TASK_STORAGE: only([156, 157, 194]); break;
      case MAP.CGRP_STORAGE: only([210, 211, 194]); break;
      case MAP.BLOOM_FILTER: only([87, 89]); break;
      default: break;
    }
    // ... then from the function's.
    const needs = (types: readonly number[]): void => {
      if (!types.includes(map.type)) bad();
    };
    switch (id) {
      case 12: needs([MAP.PROG_ARRAY]); break;
      case 22: case 25: case 55: case 111: case 121: needs([MAP.PERF_EVENT_ARRAY]); break;
      case 130: case 131: case 134: case 198: case 199: case 200: needs([MAP.RINGBUF]); break;
      case 209: needs([MAP.USER_RINGBUF]); break;
      case 27: needs([MAP.STACK_TRACE]); break;
      case 33: case 37: needs([MAP.CGROUP_ARRAY]); break;
      case 51: needs([MAP.DEVMAP, MAP.DEVMAP_HASH, MAP.CPUMAP, MAP.XSKMAP]); break;
      case 52: case 53: case 60: needs([MAP.SOCKMAP]); break;
      case 70: case 71: case 72: needs([MAP.SOCKHASH]); break;
      case 81: needs([MAP.CGROUP_STORAGE, MAP.PERCPU_CGROUP_STORAGE]); break;
      case 82: needs([MAP.REUSEPORT_SOCKARRAY, MAP.SOCKMAP, MAP.SOCKHASH]); break;
      case 88: needs([MAP.QUEUE, MAP.STACK]); break;
      case 87: case 89: needs([MAP.QUEUE, MAP.STACK, MAP.BLOOM_FILTER]); break;
      case 195: needs([MAP.PERCPU_ARRAY, MAP.PERCPU_HASH, MAP.LRU_PERCPU_HASH]); break;
      case 107: case 108: needs([MAP.SK_STORAGE]); break;
      case 145: case 146: needs([MAP.INODE_STORAGE]); break;
      case 156: case 157: needs([MAP.TASK_STORAGE]); break;
      case 210: case 211: needs([MAP.CGRP_STORAGE]); break;
      default: break;
    }
  }

  /**
   * process_spin_lock: the pointer is to the value's struct bpf_spin_lock, at a
   * constant offset; one lock at a time; unlock the lock that is held (same map,
   * same value id). Locks are references of their own kind in the state.
   */
  private processSpinLock(regno: number, isLock: boolean): void {
    const reg = this.regs[regno];
    const st = this.cur;
    if (!tnumIsConst(reg.varOff)) {
      throw new Reject(`R${regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`, "EINVAL");
    }
    const map = reg.map!;
    if (map.spinLockOff === undefined) {
      if (map.btf === false) throw new Reject(`map '${map.name}' has to have BTF in order to use bpf_spin_lock`, "EINVAL");
      throw new Reject(`map '${map.name}' has no valid bpf_spin_lock`, "EINVAL");
    }
    const at = BigInt.asIntN(64, reg.varOff.value) + BigInt(reg.off);
    if (at !== BigInt(map.spinLockOff)) {
      throw new Reject(`off ${at} doesn't point to 'struct bpf_spin_lock' that is at ${map.spinLockOff}`, "EINVAL");
    }
    if (isLock) {
      if (st.activeLocks && st.refs.some((r) => r.type === "lock")) throw new Reject("Locking two bpf_spin_locks are not allowed", "EINVAL");
      st.refs.push({ id: reg.id, insn: this.insnIdx, type: "lock", ptr: map });
      st.activeLocks++;
      st.activeLockId = reg.id;
      st.activeLockPtr = map;
      return;
    }
    if (!st.activeLocks) throw new Reject("bpf_spin_unlock without taking a lock", "EINVAL");
    const i = st.refs.findIndex((r) => r.type === "lock" && r.id === reg.id && r.ptr === map);
    if (i < 0) throw new Reject("bpf_spin_unlock of different lock", "EINVAL");
    if (reg.id !== st.activeLockId || map !== st.activeLockPtr) throw new Reject("bpf_spin_unlock cannot be out of order", "EINVAL");
    st.refs.splice(i, 1);
    st.activeLocks--;
    const prev = st.refs.slice(0, i).filter((r) => r.type === "lock").pop();
    st.activeLockId = prev?.id ?? 0;
    st.activeLockPtr = prev?.ptr ?? null;
  }

  /**
   * process_timer_func -> check_map_field_pointer: the pointer is to the value's
   * struct bpf_timer, at a constant offset; the timer's map becomes the call's.
   */
  private processTimerFunc(regno: number, meta: CallMeta): void {
    const reg = this.regs[regno];
    if (!tnumIsConst(reg.varOff)) throw new Reject(`R${regno} doesn't have constant offset. bpf_timer has to be at the constant offset`, "EINVAL");
    const map = reg.map!;
    if (map.timerOff === undefined) {
      if (map.btf === false) throw new Reject(`map '${map.name}' has to have BTF in order to use bpf_timer`, "EINVAL");
      throw new Reject(`map '${map.name}' has no valid bpf_timer`, "EINVAL");
    }
    const at = BigInt.asIntN(64, reg.varOff.value) + BigInt(reg.off);
    if (at !== BigInt(map.timerOff)) throw new Reject(`off ${at} doesn't point to 'struct bpf_timer' that is at ${map.timerOff}`, "EINVAL");
    if (meta.map) throw new Reject("verifier bug: Two map pointers in a timer helper", "EFAULT");
    // Values of inner maps (map-in-map) carry a map_uid the vm does not track: refuse their timers.
    if (this.innerMaps.has(map)) throw new Reject("timers in inner maps are not supported by the vm verifier", "ENOTSUPP");
    meta.map = map;
  }

  // ------------------------------------------------------------------ dynptrs

  /**
   * stack_slot_obj_get_spi for a dynptr: the slot index of its first (higher) 8
   * bytes; -1 (after logging why) for a bad offset, -2 (ERANGE) when the stack
   * is not allocated that far yet.
   */
  private dynptrSpi(reg: Reg): number {
    if (!tnumIsConst(reg.varOff)) {
      this.log.add("dynptr has to be at a constant offset\n");
      return -1;
    }
    const off = reg.off + Number(BigInt.asIntN(64, reg.varOff.value));
    if (off % 8) {
      this.log.add(`cannot pass in dynptr at an offset=${off}\n`);
      return -1;
    }
    const spi = Math.floor((-off - 1) / 8);
    if (spi + 1 < 2) {
      this.log.add(`cannot pass in dynptr at an offset=${off}\n`);
      return -1;
    }
    const f = this.cur.frames[reg.frameno];
    if (spi >= f.stack.length) return -2;
    return spi;
  }

  /** is_dynptr_reg_valid_init: both slots are STACK_DYNPTR and `spi` is the first. */
  private dynptrValidInit(reg: Reg): boolean {
    const spi = this.dynptrSpi(reg);
    if (spi < 0) return false;
    const st = this.cur.frames[reg.frameno].stack;
    if (!st[spi].spilled.dynptrFirst) return false;
    for (let i = 0; i < 8; i++) if (st[spi].types[i] !== STACK_DYNPTR || st[spi - 1].types[i] !== STACK_DYNPTR) return false;
    return true;
  }

  /**
   * check_func_arg for ARG_PTR_TO_DYNPTR: a release first needs an acquired
   * dynptr; then process_dynptr_func: MEM_UNINIT makes a new one on the stack
   * (two slots, an id, a reference for ring buffer records), otherwise it must be
   * an initialised one of the expected kind.
   */
  private checkDynptrArg(regno: number, spec: ArgSpec, meta: CallMeta, fn: HelperProto): void {
    const reg = this.regs[regno];
    if (reg.type !== T.STACK && reg.type !== T.DYNPTR) {
      throw new Reject(`arg#${regno - 1} expected pointer to stack or const struct bpf_dynptr`, "EINVAL");
    }
    if (reg.type === T.DYNPTR) {
      // CONST_PTR_TO_DYNPTR (a callback's dynptr): the kernel's, read-only, at offset 0.
      this.checkPtrOffReg(reg, regno, false);
      if (fn.releasesArg === regno) throw new Reject("cannot release unowned const bpf_dynptr", "EINVAL");
      if (spec.uninit) throw new Reject("Dynptr has to be an uninitialized dynptr", "EINVAL");
      if (!spec.readonly) throw new Reject("cannot pass pointer to const bpf_dynptr, the helper mutates it", "EINVAL");
      if (spec.dynptrType && reg.dynptrType !== spec.dynptrType) {
        throw new Reject(`Expected a dynptr of type ${spec.dynptrType} as arg #${regno - 1}`, "EINVAL");
      }
      if (meta.dynptrId === undefined) {
        meta.dynptrId = reg.id;
        meta.dynptrRef = reg.refObjId;
      }
      return;
    }
    if (fn.releasesArg === regno) {
      const spi = this.dynptrSpi(reg);
      if (spi < 0 || !this.cur.frames[reg.frameno].stack[spi].spilled.refObjId) throw new Reject(`arg ${regno} is an unacquired reference`, "EINVAL");
      meta.releaseDynptr = regno;
    }
    if (spec.uninit) {
      const spi0 = this.dynptrSpi(reg);
      if (spi0 === -1) throw new Reject("Dynptr has to be an uninitialized dynptr", "EINVAL");
      // "we write BPF_DW bits (8 bytes) at a time": bounds, stack growth, old dynptrs destroyed.
      for (let i = 0; i < 16; i += 8) this.checkMemAccess(regno, i, 8, true, -1, false, false);
      const spi = this.dynptrSpi(reg);
      const f = this.cur.frames[reg.frameno];
      this.destroyIfDynptr(f, spi);
      this.destroyIfDynptr(f, spi - 1);
      const id = ++this.idGen;
      for (const [k, first] of [[spi, true], [spi - 1, false]] as const) {
        const s = f.stack[k];
        s.types.fill(STACK_DYNPTR);
        markKnownZero(s.spilled);
        s.spilled.type = T.DYNPTR;
        s.spilled.id = id;
        s.spilled.dynptrType = spec.dynptrType ?? "local";
        s.spilled.dynptrFirst = first;
      }
      if (spec.dynptrType === "ringbuf") {
        const ref = ++this.idGen;
        this.cur.refs.push({ id: ref, insn: this.insnIdx });
        f.stack[spi].spilled.refObjId = ref;
        f.stack[spi - 1].spilled.refObjId = ref;
      }
      this.markStackWrite(f.frameno, spi);
      this.markStackWrite(f.frameno, spi - 1);
      return;
    }
    if (!this.dynptrValidInit(reg)) throw new Reject(`Expected an initialized dynptr as arg #${regno - 1}`, "EINVAL");
    const spi = this.dynptrSpi(reg);
    const slot = this.cur.frames[reg.frameno].stack[spi].spilled;
    if (spec.dynptrType && slot.dynptrType !== spec.dynptrType) {
      throw new Reject(`Expected a dynptr of type ${spec.dynptrType} as arg #${regno - 1}`, "EINVAL");
    }
    this.markStackRead(reg.frameno, spi);
    this.markStackRead(reg.frameno, spi - 1);
    if (reg.frameno === this.cur.curframe) {
      this.scratchSlot(spi);
      this.scratchSlot(spi - 1);
    }
    if (meta.dynptrId === undefined) {
      meta.dynptrId = slot.id;
      meta.dynptrRef = slot.refObjId;
    }
  }

  /**
   * destroy_if_dynptr_stack_slot: a write over a dynptr's slot destroys it (and
   * its slices), unless it holds a reference, which must be released instead.
   */
  private destroyIfDynptr(f: Frame, spi: number): void {
    if (spi < 0 || spi >= f.stack.length || f.stack[spi].types[0] !== STACK_DYNPTR) return;
    if (!f.stack[spi].spilled.dynptrFirst) spi++;
    if (f.stack[spi].spilled.dynptrType === "ringbuf") throw new Reject("cannot overwrite referenced dynptr", "EINVAL");
    this.scratchSlot(spi);
    this.scratchSlot(spi - 1);
    const id = f.stack[spi].spilled.id;
    this.invalidateDynptr(f, spi);
    this.cur.forEachReg((r) => {
      if (base(r.type) === T.MEM && (r.type & ~MAYBE_NULL) === T.MEM && r.dynptrId === id) {
        if (this.priv) markUnknownImprecise(r);
        else markNotInit(r);
      }
    });
  }

  /** invalidate_dynptr: both slots back to STACK_INVALID. */
  private invalidateDynptr(f: Frame, spi: number): void {
    for (const k of [spi, spi - 1]) {
      f.stack[k].types.fill(STACK_INVALID);
      markNotInit(f.stack[k].spilled);
    }
    this.markStackWrite(f.frameno, spi);
    this.markStackWrite(f.frameno, spi - 1);
  }

  /** unmark_stack_slots_dynptr: a ring buffer dynptr's reference is released, with its slices and copies. */
  private unmarkDynptr(regno: number): void {
    const reg = this.regs[regno];
    const f = this.cur.frames[reg.frameno];
    const spi = this.dynptrSpi(reg);
    if (spi < 0) throw new Reject("verifier internal error: dynptr release", "EFAULT");
    if (f.stack[spi].spilled.dynptrType !== "ringbuf") {
      this.invalidateDynptr(f, spi);
      return;
    }
    const ref = f.stack[spi].spilled.refObjId;
    this.releaseReference(ref);
    for (let i = 1; i < f.stack.length; i++) {
      const s = f.stack[i];
      if (s.types[0] === STACK_DYNPTR && s.spilled.refObjId === ref && s.spilled.dynptrFirst) this.invalidateDynptr(f, i);
    }
  }

  /**
   * check_reg_type's btf_struct_ids_match for a helper's BTF pointer argument:
   * the pointer's struct must be the one the prototype names. The kernel also
   * takes a pointer to a struct whose first member (at any depth) is that one;
   * the vm keeps no struct layouts, so it refuses an offset rather than guess.
   */
  private checkBtfIdArg(reg: Reg, regno: number, want: string): void {
    if (reg.off !== 0) throw new Reject(`R${regno}: BTF pointer arguments at an offset are not supported by the vm verifier`, "ENOTSUPP");
    if (reg.btfType !== want) throw new Reject(`R${regno} is of type ${reg.btfType} but ${want} is expected`);
  }

  /** check_func_arg. */
  private checkFuncArg(i: number, meta: CallMeta, fn: HelperProto, id: number): void {
    const spec: ArgSpec | undefined = fn.args[i];
    if (!spec) return;
    const regno = i + 1;
    this.checkSrc(regno);
    const reg = this.regs[regno];
    const at = spec.type;
    // Kptr state is not tracked here: refuse rather than accept unchecked.
    if (at === "kptr_xchg_dest" || at === "percpu_btf_id") {
      throw new Reject(`helper bpf_${this.helper(id)?.name}#${id}: ${at} arguments are not supported by the vm verifier`, "ENOTSUPP");
    }
    if (at === "anything") {
      if (this.isPtr(regno)) throw new Reject(`R${regno} leaks addr into helper function`);
      return;
    }
    if (isPktPointer(reg.type) && !(this.input.progType.packetAccess.read && fn.pktAccess)) {
      throw new Reject("helper access to the packet is not allowed");
    }
    if (at === "dynptr") {
      this.checkDynptrArg(regno, spec, meta, fn);
      return;
    }
    const sizeArg = at === "const_size" || at === "const_size_or_zero" || at === "const_alloc_size_or_zero";
    if (!(isNull(reg) && spec.nullable)) {
      this.checkRegType(regno, spec);
      if (at === "btf_id") this.checkBtfIdArg(reg, regno, spec.btfType ?? "");
      if (!sizeArg) this.checkFuncArgRegOff(reg, regno, spec, fn.releasesArg === regno);
    }
    if (fn.releasesArg === regno && !isNull(reg)) {
      if (!reg.refObjId) throw new Reject(`R${regno} must be referenced when passed to release function`, "EINVAL");
    }
    if (reg.refObjId) {
      if (meta.refObjId) throw new Reject(`more than one arg with ref_obj_id R${regno} ${reg.refObjId} ${meta.refObjId}`);
      meta.refObjId = reg.refObjId;
    }
    switch (at) {
      case "spin_lock":
        if (id === BPF_FUNC_spin_lock) this.processSpinLock(regno, true);
        else if (id === BPF_FUNC_spin_unlock) this.processSpinLock(regno, false);
        else throw new Reject("verifier internal error", "EFAULT");
        break;
      case "timer":
        this.processTimerFunc(regno, meta);
        break;
      case "const_map_ptr":
        // bpf_timer_init(&v->timer, map): the timer's own map (map_uid tells inner maps apart).
        if (meta.map && (meta.map !== reg.map || this.innerMaps.has(reg.map!))) {
          throw new Reject(`timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0`, "EINVAL");
        }
        meta.map = reg.map;
        meta.mapHandle = reg.mapHandle;
        break;
      case "map_key":
        if (!meta.map) throw new Reject("invalid map_ptr to access map->key", "EACCES");
        this.checkHelperMemAccess(regno, meta.map.keySize, false, false, null);
        if (meta.map.type === MAP.ARRAY || meta.map.type === MAP.PERCPU_ARRAY) meta.constMapKey = this.constantMapKey(reg, meta.map.keySize);
        break;
      case "map_value":
        if (spec.nullable && isNull(reg)) return;
        if (!meta.map) throw new Reject("invalid map_ptr to access map->value", "EACCES");
        meta.rawMode = !!spec.uninit;
        this.checkHelperMemAccess(regno, meta.map.valueSize, !!spec.write, false, meta);
        // Observed on Linux 6.18 (corpus "peek into a bloom filter*"): peek on a bloom
        // filter takes uninitialised stack like a queue's, but leaves the slots untouched.
        if (meta.map.type === MAP.BLOOM_FILTER) meta.accessSize = 0;
        break;
      case "func":
        meta.subprogno = reg.subprogno;
        break;
      case "mem":
        meta.rawMode = !!spec.uninit;
        if (spec.fixedSize !== undefined) this.checkHelperMemAccess(regno, spec.fixedSize, !!spec.write, false, meta);
        break;
      case "const_size":
      case "const_size_or_zero": {
        const prev = fn.args[i - 1];
        this.checkMemSizeReg(reg, regno, !!prev?.write, at === "const_size_or_zero", meta);
        break;
      }
      case "const_alloc_size_or_zero":
        if (!tnumIsConst(reg.varOff)) throw new Reject(`R${regno} is not a known constant'`);
        meta.memSize = Number(reg.varOff.value);
        this.markChainPrecision(regno);
        break;
      case "const_str":
        this.checkConstStr(reg, regno);
        break;
      default:
        break;
    }
    void id;
  }

  private constantMapKey(key: Reg, keySize: number): bigint {
    if (!this.priv || key.type !== T.STACK || !tnumIsConst(key.varOff)) return -1n;
    const f = this.cur.frames[key.frameno];
    const stackOff = key.off + Number(BigInt.asIntN(64, key.varOff.value));
    const slot = -stackOff - 1;
    const spi = Math.floor(slot / 8);
    const off = slot % 8;
    const s = f.stack[spi];
    let zero = 0;
    for (let i = off; i >= 0 && s.types[i] === STACK_ZERO; i--) zero++;
    if (zero >= keySize) return 0n;
    if (!s.isSpilledScalar()) return -1n;
    let spill = 0;
    for (let i = off; i >= 0 && s.types[i] === STACK_SPILL; i--) spill++;
    if (spill !== keySize) return -1n;
    if (!tnumIsConst(s.spilled.varOff)) return -1n;
    this.bt.reset();
    this.bt.frame = this.cur.curframe;
    this.bt.setSlot(key.frameno, spi);
    this.markChainPrecisionBatch(this.cur);
    return s.spilled.varOff.value;
  }

  /**
   * check_bpf_snprintf_call: the constant format (R3, in a frozen read-only map)
   * must be one bpf_snprintf accepts with R5 / 8 arguments.
   */
  private checkSnprintfCall(): void {
    const fmtReg = this.regs[3];
    const dataLen = this.regs[5].varOff.value;
    if (dataLen % 8n) throw new Reject("", "EINVAL", true);
    const value = fmtReg.map?.readOnlyValue;
    if (!value) return;
    const start = fmtReg.off + Number(fmtReg.varOff.value);
    if (bprintfCheckFormat(value.subarray(start), Number(dataLen / 8n)) < 0) throw new Reject("Invalid format string", "EINVAL");
  }

  private checkConstStr(reg: Reg, regno: number): void {
    if (reg.type !== T.MAP_VALUE || !reg.map) return;
    const map = reg.map;
    if (!(map.flags & BPF_F_RDONLY_PROG && map.frozen)) throw new Reject(`R${regno} does not point to a readonly map'`);
    if (!tnumIsConst(reg.varOff)) throw new Reject(`R${regno} is not a constant address'`);
    // map->ops->map_direct_value_addr: array maps only, and only with one element (array_map_direct_value_addr).
    if (map.type !== MAP.ARRAY) throw new Reject("no direct value access support for this map type");
    this.checkMemRegion(regno, reg.off, 1, map.valueSize, false);
    if (map.maxEntries !== 1) throw new Reject("direct value access on string failed", "ENOTSUPP");
    const start = reg.off + Number(reg.varOff.value);
    const v = map.readOnlyValue;
    if (v && v.subarray(start).indexOf(0) < 0) throw new Reject("string is not zero-terminated");
  }

  private checkRegType(regno: number, spec: ArgSpec): void {
    const reg = this.regs[regno];
    let t = reg.type;
    const types = compatibleTypes(spec);
    if (spec.readonly) t &= ~MEM_RDONLY;
    if (spec.nullable) t &= ~MAYBE_NULL;
    if (types.includes(t)) {
      // The kernel takes a BTF pointer here when its struct starts with a sock_common (btf_struct_ids_match).
      if (spec.type === "btf_id_sock_common" && (base(t) === T.BTF_ID || base(t) === T.TRUSTED_BTF_ID)) {
        throw new Reject(`R${regno} type=${this.regTypeStr(reg.type)}: BTF-typed socket arguments are not supported by the vm verifier`, "ENOTSUPP");
      }
      return;
    }
    const names = types.map((x) => this.regTypeStr(x));
    // btf_id_types ends with PTR_TO_BTF_ID | MEM_RCU, a type the vm never gives a register.
    if (spec.type === "btf_id") names.push("rcu_ptr_");
    throw new Reject(`R${regno} type=${this.regTypeStr(reg.type)} expected=${names.join(", ")}`);
  }

  private checkFuncArgRegOff(reg: Reg, regno: number, spec: ArgSpec, release: boolean): void {
    if (release && reg.type !== T.SCALAR) {
      if (reg.off) throw new Reject(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`, "EINVAL");
      this.checkPtrOffReg(reg, regno, false);
      return;
    }
    const b = base(reg.type);
    if (b === T.STACK || b === T.PKT || b === T.PKT_META || b === T.MAP_KEY || b === T.MAP_VALUE || b === T.MEM || b === T.SCALAR) return;
    if (b === T.BTF_ID || b === T.TRUSTED_BTF_ID) { this.checkPtrOffReg(reg, regno, true); return; }
    void spec;
    this.checkPtrOffReg(reg, regno, false);
  }

  private checkHelperMemAccess(regno: number, size: number, write: boolean, zeroOk: boolean, meta: CallMeta | null): void {
    const reg = this.regs[regno];
    switch (base(reg.type)) {
      case T.PKT: case T.PKT_META:
        this.checkPacketAccess(regno, reg.off, size, zeroOk);
        return;
      case T.MAP_KEY:
        if (write) throw new Reject(`R${regno} cannot write into ${this.regTypeStr(reg.type)}`);
        this.checkMemRegion(regno, reg.off, size, reg.map!.keySize, false);
        return;
      case T.MAP_VALUE: {
        const map = reg.map!;
        if (write && map.flags & BPF_F_RDONLY_PROG) throw new Reject(`write into map forbidden, value_size=${map.valueSize} off=${reg.off} size=${size}`);
        if (!write && map.flags & BPF_F_WRONLY_PROG) throw new Reject(`read from map forbidden, value_size=${map.valueSize} off=${reg.off} size=${size}`);
        this.checkMemRegion(regno, reg.off, size, map.valueSize, zeroOk);
        this.checkMapFields(reg, reg.off, size);
        return;
      }
      case T.MEM:
        if (reg.type & MEM_RDONLY && write) throw new Reject(`R${regno} cannot write into ${this.regTypeStr(reg.type)}`);
        this.checkMemRegion(regno, reg.off, size, reg.memSize, zeroOk);
        return;
      case T.STACK:
        this.checkStackRangeInitialized(regno, reg.off, size, zeroOk, write, meta);
        return;
      default:
        if (zeroOk && size === 0 && isNull(reg)) return;
        throw new Reject(`R${regno} type=${this.regTypeStr(reg.type)} expected=fp`);
    }
  }

  private checkMemSizeReg(reg: Reg, regno: number, write: boolean, zeroOk: boolean, meta: CallMeta): void {
    meta.msizeMaxValue = reg.umax;
    const m = tnumIsConst(reg.varOff) ? meta : null;
    if (reg.smin < 0n) throw new Reject(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
    if (reg.umin === 0n && !zeroOk) throw new Reject(`R${regno} invalid zero-sized read: u64=[${BigInt.asIntN(64, reg.umin)},${BigInt.asIntN(64, reg.umax)}]`);
    if (reg.umax >= BigInt(BPF_MAX_VAR_SIZ)) throw new Reject(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
    if (!m) meta.rawMode = false;
    this.checkHelperMemAccess(regno - 1, Number(reg.umax), write, zeroOk, m);
    this.markChainPrecision(regno);
  }

  // ------------------------------------------------------------------ branches and states

  private pushStack(insn: number, prev: number): VState {
    const st = this.cur.clone();
    this.stack.push({ st, insn, prev, logPos: this.log.pos });
    if (this.stack.length > BPF_COMPLEXITY_LIMIT_JMP_SEQ) {
      throw new Reject(`The sequence of ${this.stack.length} jumps is too complex.`, "E2BIG");
    }
    if (st.parent) st.parent.branches++;
    return st;
  }

  private updateBranchCounts(st: VState | null): void {
    while (st) {
      const br = --st.branches;
      if (br) break;
      if (st.inFreeList) { st.inFreeList = false; this.freeListSize--; }
      if (st.inList || st.parent === null) this.maybeExitScc(st);
      st = st.parent;
    }
  }

  private pushHist(stackFrame: number, spiPlus1: number): void {
    if (this.curHist && this.curHist.idx === this.insnIdx) {
      if (spiPlus1) {
        this.curHist.stackFrame = stackFrame;
        this.curHist.stackSpi = spiPlus1 - 1;
      }
      return;
    }
    const e: HistEntry = {
      idx: this.insnIdx, prevIdx: this.prevInsnIdx, stackFrame: spiPlus1 ? stackFrame : -1, stackSpi: spiPlus1 - 1,
      dstIsStack: false, srcIsStack: false, linked: null,
    };
    this.cur.hist.push(e);
    this.curHist = e;
  }

  private bucket(idx: number, st: VState): number {
    return ((idx ^ st.frames[st.curframe].callsite) >>> 0) % this.n;
  }

  private sameCallsites(a: VState, b: VState): boolean {
    if (a.curframe !== b.curframe) return false;
    for (let i = a.curframe; i >= 0; i--) if (a.frames[i].callsite !== b.frames[i].callsite) return false;
    return true;
  }

  /** is_state_visited. Returns true when the current state is pruned. */
  private isStateVisited(idx: number): boolean {
    const cur = this.cur;
    const force = this.cfg.forceCheckpoint[idx] === 1 || cur.hist.length > 40;
    let addNew = force;
    if (this.jmpsProcessed - this.prevJmpsProcessed >= 2 && this.insnProcessed - this.prevInsnProcessed >= 8) addNew = true;
    const key = this.bucket(idx, cur);
    let list = this.explored.get(key);
    if (!list) { list = []; this.explored.set(key, list); }
    // clean_live_states: fully explored states drop dead registers and stack slots.
    for (const sl of list) {
      if (sl.branches || sl.insnIdx !== idx || sl.cleaned || !this.sameCallsites(sl, cur)) continue;
      if (this.incompleteLoop(sl)) continue;
      this.updateLiveStack();
      this.cleanState(sl);
    }
    let statesCnt = 0;
    for (let k = 0; k < list.length; k++) {
      const sl = list[k];
      statesCnt++;
      if (sl.insnIdx !== idx) continue;
      if (sl.branches) {
        let skip = false;
        if (this.cfg.callsCallback[idx]) {
          if (this.statesEqual(sl, cur, "range")) return this.hit(sl, idx, true);
          skip = true;
        }
        if (!skip && idx < this.n && this.code.opcode[idx] === 0xe5 && sl.mayGotoDepth !== cur.mayGotoDepth && this.statesEqual(sl, cur, "range")) {
          return this.hit(sl, idx, true);
        }
        if (!skip && statesMaybeLooping(sl, cur) && this.statesEqual(sl, cur, "exact") && sl.mayGotoDepth === cur.mayGotoDepth &&
            sl.callbackUnrollDepth === cur.callbackUnrollDepth) {
          this.verboseLinfo(idx);
          let m = `infinite loop detected at insn ${idx}`;
          // The states are part of the kernel's message (and of rejectMessage at every level).
          m += "\ncur state:" + this.stateStr(cur, cur.curframe, true).trimEnd() + "\nold state:" + this.stateStr(sl, cur.curframe, true).trimEnd();
          throw new Reject(m, "EINVAL");
        }
        if (!force && this.jmpsProcessed - this.prevJmpsProcessed < 20 && this.insnProcessed - this.prevInsnProcessed < 100) addNew = false;
      } else {
        const loop = this.incompleteLoop(sl);
        if (this.statesEqual(sl, cur, loop ? "range" : "not_exact")) return this.hit(sl, idx, loop);
      }
      if (addNew) sl.missCnt++;
      const nMiss = this.cfg.forceCheckpoint[idx] && sl.branches > 0 ? 64 : 3;
      if (sl.missCnt > sl.hitCnt * nMiss + nMiss) {
        list.splice(k, 1);
        k--;
        sl.inList = false;
        this.exploredCount--;
        // Evicted states stay allocated (env->free_list) until their subtree is done.
        if (sl.branches > 0) { sl.inFreeList = true; this.freeListSize++; }
      }
    }
    if (this.maxStatesPerInsn < statesCnt) this.maxStatesPerInsn = statesCnt;
    if (!this.priv && statesCnt > BPF_COMPLEXITY_LIMIT_STATES) return false;
    if (!addNew) return false;
    this.totalStates++;
    this.exploredCount++;
    this.updatePeak();
    this.prevJmpsProcessed = this.jmpsProcessed;
    this.prevInsnProcessed = this.insnProcessed;
    if (this.priv) this.markAllScalarsImprecise(cur);
    const nw = cur.clone();
    nw.insnIdx = idx;
    nw.inList = true;
    cur.parent = nw;
    cur.firstInsnIdx = idx;
    cur.dfsDepth = nw.dfsDepth + 1;
    cur.hist = [];
    this.curHist = null;
    list.unshift(nw);
    this.maybeEnterScc(nw);
    return false;
  }

  /** update_peak_states: explored + evicted-but-alive states + recorded back-edges. */
  private updatePeak(): void {
    let backedges = 0;
    for (const x of this.sccVisits.values()) backedges += x.backedges.length;
    const n = this.exploredCount + this.freeListSize + backedges;
    if (n > this.peakStates) this.peakStates = n;
  }

  /** compute_scc_callchain: the loop a state is in, keyed by the call sites above it. */
  private sccKey(st: VState): string | null {
    let key = "";
    for (let i = 0; i <= st.curframe; i++) {
      const ip = i === st.curframe ? st.insnIdx : st.frames[i + 1].callsite;
      const scc = this.cfg.scc[ip];
      if (scc) return `${key}:${scc}`;
      if (i < st.curframe) key += `${ip},`;
      else return null;
    }
    return null;
  }

  /** incomplete_read_marks: the state's loop visit has back-edges whose precision is not propagated yet. */
  private incompleteLoop(sl: VState): boolean {
    const k = this.sccKey(sl);
    if (k === null) return false;
    const v = this.sccVisits.get(k);
    return !!v && v.backedges.length > 0;
  }

  private maybeEnterScc(st: VState): void {
    const k = this.sccKey(st);
    if (k === null || this.sccVisits.has(k)) return;
    this.sccVisits.set(k, { entry: st, backedges: [] });
    if (this.log.level >= 2) this.log.add(`SCC enter ${sccKeyStr(k)}\n`);
  }

  private maybeExitScc(st: VState): void {
    if (!this.cfg.scc[st.insnIdx] && st.curframe === 0) return;
    const k = this.sccKey(st);
    if (k === null) return;
    const v = this.sccVisits.get(k);
    if (!v || v.entry !== st) return;
    // propagate_backedges: precision marks flow through every back-edge until stable.
    let changed = true;
    for (let iter = 0; changed && iter < 64; iter++) {
      this.precChanged = false;
      for (const b of v.backedges) this.propagatePrecision(b.equal, b.state);
      changed = this.precChanged;
    }
    this.sccVisits.delete(k);
    if (this.log.level >= 2) this.log.add(`SCC exit ${sccKeyStr(k)}\n`);
  }

  private hit(sl: VState, idx: number, loop: boolean): boolean {
    sl.hitCnt++;
    if (this.cfg.jmpPoint[idx]) this.pushHist(0, 0);
    this.propagatePrecision(sl, this.cur);
    if (loop) {
      const k = this.sccKey(sl);
      const v = k === null ? undefined : this.sccVisits.get(k);
      if (v) {
        const b = this.cur.clone();
        b.insnIdx = idx;
        v.backedges.push({ state: b, equal: sl });
        if (this.log.level >= 2) this.log.add(`SCC backedge ${sccKeyStr(k!)}\n`);
        this.updatePeak();
      } else {
        this.markAllScalarsPrecise(this.cur);
      }
    }
    return true;
  }

  private cleanState(st: VState): void {
    st.cleaned = true;
    for (let fr = 0; fr <= st.curframe; fr++) {
      const f = st.frames[fr];
      const ip = fr === st.curframe ? st.insnIdx : st.frames[fr + 1].callsite;
      const live = this.cfg.liveRegs[ip];
      for (let i = 0; i < 10; i++) if (!(live & (1 << i))) markNotInit(f.regs[i]);
      for (let i = 0; i < f.stack.length; i++) {
        if (!this.slotAlive(st, fr, i)) {
          markNotInit(f.stack[i].spilled);
          f.stack[i].types.fill(STACK_INVALID);
        }
      }
    }
  }

  private statesEqual(old: VState, cur: VState, exact: "exact" | "not_exact" | "range"): boolean {
    if (old.curframe !== cur.curframe) return false;
    const idmap = new IdMap(this.idGen);
    if (!refsafe(old, cur, idmap)) return false;
    for (let i = 0; i <= old.curframe; i++) {
      if (old.frames[i].callsite !== cur.frames[i].callsite) return false;
      const ip = i === old.curframe ? old.insnIdx : old.frames[i + 1].callsite;
      if (!this.funcStatesEqual(old.frames[i], cur.frames[i], ip, exact, idmap)) return false;
    }
    return true;
  }

  private funcStatesEqual(old: Frame, cur: Frame, ip: number, exact: "exact" | "not_exact" | "range", idmap: IdMap): boolean {
    if (old.callbackDepth > cur.callbackDepth) return false;
    const live = this.cfg.liveRegs[ip];
    for (let i = 0; i < 11; i++) {
      if ((live & (1 << i)) && !this.regsafe(old.regs[i], cur.regs[i], idmap, exact)) return false;
    }
    return this.stacksafe(old, cur, idmap, exact);
  }

  private regsafe(o: Reg, c: Reg, idmap: IdMap, exact: "exact" | "not_exact" | "range"): boolean {
    if (exact === "exact") return regsExact(o, c, idmap);
    if (o.type === T.NOT_INIT) return true;
    if (o.type !== c.type) return false;
    switch (base(o.type)) {
      case T.SCALAR:
        if (!o.precise && exact === "not_exact") return true;
        return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff) && idmap.checkScalar(o.id, c.id);
      case T.MAP_KEY: case T.MAP_VALUE: case T.MEM:
        return sameShape(o, c) && rangeWithin(o, c) && tnumIn(o.varOff, c.varOff) && idmap.check(o.id, c.id) && idmap.check(o.refObjId, c.refObjId);
      case T.PKT: case T.PKT_META:
        if (o.range > c.range) return false;
        if (o.off !== c.off) return false;
        if (!idmap.check(o.id, c.id)) return false;
        return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff);
      case T.STACK:
        return regsExact(o, c, idmap) && o.frameno === c.frameno;
      default:
        return regsExact(o, c, idmap);
    }
  }

  private stacksafe(old: Frame, cur: Frame, idmap: IdMap, exact: "exact" | "not_exact" | "range"): boolean {
    const oa = old.allocated, ca = cur.allocated;
    for (let i = 0; i < oa; i++) {
      const spi = i >> 3;
      const ot = old.stack[spi].types[i & 7];
      if (exact === "exact" && (i >= ca || ot !== cur.stack[spi].types[i & 7])) return false;
      if (ot === STACK_INVALID) continue;
      if (this.priv && ot === STACK_MISC) continue;
      if (i >= ca) return false;
      const os = old.stack[spi], cs = cur.stack[spi];
      const oreg = this.scalarRegForStack(os), creg = this.scalarRegForStack(cs);
      if (oreg && creg) {
        if (!this.regsafe(oreg, creg, idmap, exact)) return false;
        i += 7 - (i & 7);
        continue;
      }
      const ct = cs.types[i & 7];
      if (ot === STACK_MISC && ct === STACK_ZERO) continue;
      if (ot !== ct) return false;
      if ((i & 7) !== 7) continue;
      if (os.types[7] === STACK_SPILL) {
        if (!this.regsafe(os.spilled, cs.spilled, idmap, exact)) return false;
      } else if (os.types[7] === STACK_DYNPTR) {
        const o = os.spilled, c = cs.spilled;
        if (o.dynptrType !== c.dynptrType || o.dynptrFirst !== c.dynptrFirst || !idmap.check(o.refObjId, c.refObjId)) return false;
      }
    }
    return true;
  }

  private scalarRegForStack(s: StackSlot): Reg | null {
    if (s.isSpilledScalar64()) return s.spilled;
    for (let i = 0; i < 8; i++) {
      const t = s.types[i];
      if (t === STACK_MISC || (t === STACK_INVALID && this.priv)) continue;
      return null;
    }
    return UNBOUND_REG;
  }

  private markAllScalarsImprecise(st: VState): void {
    st.forEachReg((r) => {
      if (r.type === T.SCALAR) r.precise = false;
    });
  }

  /** mark_all_scalars_precise on a state and its parents. */
  private markAllScalarsPrecise(st: VState): void {
    for (let s: VState | null = st; s; s = s.parent) {
      s.forEachReg((r) => {
        if (r.type === T.SCALAR) r.precise = true;
      });
    }
  }

  // ------------------------------------------------------------------ precision

  private markChainPrecision(regno: number): void {
    if (!this.priv) return;
    const st = this.cur;
    this.bt.reset();
    this.bt.frame = st.curframe;
    // __mark_chain_precision's sanity check: precision is for scalars only. The kernel
    // reaches it with a pointer when, e.g., bpf_loop's nr_loops is one, and refuses.
    if (st.frames[st.curframe].regs[regno].type !== T.SCALAR) throw new Reject("verifier bug: backtracking misuse", "EFAULT");
    this.bt.setReg(regno);
    this.markChainPrecisionBatch(st);
  }

  /** __mark_chain_precision with the backtrack masks already set. */
  private markChainPrecisionBatch(start: VState): void {
    if (!this.priv) return;
    const bt = this.bt;
    bt.frame = start.curframe;
    if (bt.empty()) return;
    let st: VState | null = start;
    let firstIdx = st.firstInsnIdx;
    let lastIdx = start.insnIdx;
    let subseqIdx = -1;
    let skipFirst = true;
    for (;;) {
      let history = st.hist.length;
      if (this.log.level >= 2) this.log.add(`mark_precise: frame${bt.frame}: last_idx ${lastIdx} first_idx ${firstIdx} subseq_idx ${subseqIdx} \n`);
      if (lastIdx < 0) {
        // Entry of a global subprogram: its arguments are whatever the caller passes.
        if (st.curframe === 0 && st.frames[0].subprogno > 0 && st.frames[0].callsite === -1 && bt.stackMasks[0] === 0n && (bt.regMasks[0] & ~0x3e) === 0) {
          for (let i = 0; i < 11; i++) {
            if (bt.regMasks[0] & (1 << i) && st.frames[0].regs[i].type === T.SCALAR) st.frames[0].regs[i].precise = true;
          }
          bt.reset();
          return;
        }
        this.markAllScalarsPrecise(start);
        bt.reset();
        return;
      }
      for (let i = lastIdx; ;) {
        if (skipFirst) {
          skipFirst = false;
        } else {
          const h = history > 0 && st.hist[history - 1].idx === i ? st.hist[history - 1] : null;
          const r = this.backtrackInsn(i, subseqIdx, h);
          if (r === "notsupp") {
            this.markAllScalarsPrecise(start);
            bt.reset();
            return;
          }
        }
        if (bt.empty()) return;
        subseqIdx = i;
        // get_prev_insn_idx
        if (i === st.firstInsnIdx) {
          if (history === 0) break;
          if (history === 1 && st.hist[0].idx === i) break;
        }
        if (history > 0 && st.hist[history - 1].idx === i) {
          i = st.hist[history - 1].prevIdx;
          history--;
        } else {
          i--;
        }
        if (i < 0) break;
      }
      st = st.parent;
      if (!st) break;
      for (let fr = bt.frame; fr >= 0; fr--) {
        const f = st.frames[fr];
        if (!f) { bt.regMasks[fr] = 0; bt.stackMasks[fr] = 0n; continue; }
        for (let i = 0; i < 11; i++) {
          if (!(bt.regMasks[fr] & (1 << i))) continue;
          const r = f.regs[i];
          if (r.type !== T.SCALAR || r.precise) bt.regMasks[fr] &= ~(1 << i);
          else { r.precise = true; this.precChanged = true; }
        }
        for (let spi = 0; spi < 64 && bt.stackMasks[fr] !== 0n; spi++) {
          if (!(bt.stackMasks[fr] & (1n << BigInt(spi)))) continue;
          if (spi >= f.stack.length || !f.stack[spi].isSpilledScalar()) { bt.clearSlot(fr, spi); continue; }
          const r = f.stack[spi].spilled;
          if (r.precise) bt.clearSlot(fr, spi);
          else { r.precise = true; this.precChanged = true; }
        }
        if (this.log.level >= 2) {
          this.log.add(`mark_precise: frame${fr}: parent state regs=${fmtRegMask(bt.regMasks[fr])} stack=${fmtStackMask(bt.stackMasks[fr])}: ` + this.stateStr(st, fr, true));
        }
      }
      if (bt.empty()) return;
      subseqIdx = firstIdx;
      lastIdx = st.lastInsnIdx;
      firstIdx = st.firstInsnIdx;
    }
    if (!bt.empty()) {
      this.markAllScalarsPrecise(start);
      bt.reset();
    }
  }

  private syncLinkedBt(h: HistEntry | null): void {
    if (!h || !h.linked) return;
    const bt = this.bt;
    let any = false;
    for (const e of h.linked) {
      const fr = Math.floor(e / 128), k = e % 128;
      if (k < 16 ? bt.regMasks[fr] & (1 << k) : bt.isSlot(fr, k - 16)) any = true;
    }
    if (!any) return;
    for (const e of h.linked) {
      const fr = Math.floor(e / 128), k = e % 128;
      if (k < 16) bt.regMasks[fr] |= 1 << k;
      else bt.setSlot(fr, k - 16);
    }
  }

  /** backtrack_insn. */
  private backtrackInsn(idx: number, subseqIdx: number, h: HistEntry | null): "ok" | "notsupp" {
    const c = this.code;
    const bt = this.bt;
    const op = c.opcode[idx];
    if (op === 0) return "ok";
    if (this.log.level >= 2) {
      this.log.add(`mark_precise: frame${bt.frame}: regs=${fmtRegMask(bt.regMasks[bt.frame])} stack=${fmtStackMask(bt.stackMasks[bt.frame])} before ${idx}: ${this.disasm(idx)}\n`);
    }
    this.syncLinkedBt(h);
    const cls = op & 7;
    const dreg = c.dst[idx], sreg = c.src[idx];
    const aop = op & 0xf0;
    if (cls === 4 || cls === 7) {
      if (!bt.isReg(dreg)) return "ok";
      if (aop === 0xd0 || aop === 0x80) return "ok";
      if (aop === 0xb0) {
        if (op & 8) { bt.clearReg(dreg); if (sreg !== BPF_REG_FP) bt.setReg(sreg); }
        else bt.clearReg(dreg);
      } else if (op & 8) {
        if (sreg !== BPF_REG_FP) bt.setReg(sreg);
      }
    } else if (cls === 1 || (cls === 3 && (op & 0xe0) === 0xc0 && c.imm[idx] === 0x100)) {
      const d = cls === 1 ? dreg : dreg;
      if (!bt.isReg(d)) return "ok";
      bt.clearReg(d);
      if (!h || h.stackFrame < 0) return "ok";
      bt.setSlot(h.stackFrame, h.stackSpi);
    } else if (cls === 3 || cls === 2) {
      if (bt.isReg(dreg)) return "notsupp";
      if (!h || h.stackFrame < 0) return "ok";
      if (!bt.isSlot(h.stackFrame, h.stackSpi)) return "ok";
      bt.clearSlot(h.stackFrame, h.stackSpi);
      if (cls === 3) bt.setReg(sreg);
    } else if (cls === 5 || cls === 6) {
      if (op === 0x85 && sreg === 1) {
        const sub = this.cfg.subprogStarts.indexOf(idx + c.imm[idx] + 1);
        if (this.globalSub[sub]) {
          bt.clearReg(0);
          return "ok";
        }
        // Leaving the callee, going back into the caller.
        for (let i = 1; i <= 5; i++) {
          if (bt.isReg(i)) { bt.clearReg(i); bt.setFrameReg(bt.frame - 1, i); }
        }
        bt.regMasks[bt.frame] = 0;
        bt.stackMasks[bt.frame] = 0n;
        bt.frame--;
        return "ok";
      } else if (op === 0x85 && this.cfg.callsCallback[idx] && idx !== subseqIdx - 1) {
        for (let i = 1; i <= 5; i++) bt.clearReg(i);
        bt.regMasks[bt.frame] = 0;
        bt.stackMasks[bt.frame] = 0n;
        bt.frame--;
        return "ok";
      } else if (aop === 0x80) {
        if (sreg === 2 && c.imm[idx] === 0) return "notsupp";
        bt.clearReg(0);
        if (bt.regMasks[bt.frame] & 0x3e) return "notsupp";
      } else if (aop === 0x90) {
        if (subseqIdx >= 0 && this.cfg.callsCallback[subseqIdx]) for (let i = 1; i <= 5; i++) bt.clearReg(i);
        if (bt.regMasks[bt.frame] & 0x3e) return "notsupp";
        const r0Precise = subseqIdx - 1 >= 0 && c.opcode[subseqIdx - 1] === 0x85 && c.src[subseqIdx - 1] === 1 && bt.isReg(0);
        bt.clearReg(0);
        bt.frame++;
        if (bt.frame >= MAX_CALL_FRAMES) return "notsupp";
        bt.regMasks[bt.frame] = 0;
        bt.stackMasks[bt.frame] = 0n;
        if (r0Precise) bt.setReg(0);
        return "ok";
      } else if (op & 8) {
        if (!bt.isReg(dreg) && !bt.isReg(sreg)) return "ok";
        if (!h || !h.srcIsStack) bt.setReg(sreg);
        if (!h || !h.dstIsStack) bt.setReg(dreg);
      }
    } else if (cls === 0) {
      if (!bt.isReg(dreg) && !((op & 0xe0) !== 0 && bt.isReg(0))) return "ok";
      bt.clearReg(dreg);
      if ((op & 0xe0) === 0x20 || (op & 0xe0) === 0x40) return "notsupp";
    }
    this.syncLinkedBt(h);
    return "ok";
  }

  private propagatePrecision(old: VState, cur: VState): void {
    const bt = this.bt;
    bt.reset();
    let any = false;
    for (let fr = old.curframe; fr >= 0; fr--) {
      const f = old.frames[fr];
      const names: string[] = [];
      for (let i = 0; i < BPF_REG_FP; i++) {
        const r = f.regs[i];
        if (r.type !== T.SCALAR || !r.precise) continue;
        bt.setFrameReg(fr, i);
        names.push(`r${i}`);
        any = true;
      }
      for (let i = 0; i < f.stack.length; i++) {
        if (!f.stack[i].isSpilled()) continue;
        const r = f.stack[i].spilled;
        if (r.type !== T.SCALAR || !r.precise) continue;
        bt.setSlot(fr, i);
        names.push(`fp${(-i - 1) * 8}`);
        any = true;
      }
      if (names.length && this.log.level >= 2) this.log.add(`frame ${fr}: propagating ${names.join(",")}\n`);
    }
    if (any) this.markChainPrecisionBatch(cur);
  }

  // ------------------------------------------------------------------ after the walk

  /** check_max_stack_depth: the combined stack of every call chain fits MAX_BPF_STACK. */
  private checkMaxStackDepth(): void {
    const starts = this.cfg.subprogStarts;
    // round_up_stack_depth: JITed programs (x86-64 has the JIT on) round each frame to 16 bytes.
    const round = (d: number): number => Math.ceil(d / 16) * 16;
    const calls: number[][] = starts.map(() => []);
    for (let i = 0; i < this.n; i++) {
      if ((this.code.opcode[i] === 0x85 && this.code.src[i] === 1) || (this.code.opcode[i] === 0x18 && this.code.src[i] === 4)) {
        const t = starts.indexOf(i + this.code.imm[i] + 1);
        if (t >= 0 && !calls[this.cfg.subprogOf[i]].includes(t)) calls[this.cfg.subprogOf[i]].push(t);
      }
    }
    const walk = (sub: number, depth: number, frames: number, chain: number[]): void => {
      const total = depth + round(this.stackDepth[sub]);
      if (total > MAX_BPF_STACK) {
        throw new Reject(`combined stack size of ${frames} calls is ${total}. Too large`, "EACCES");
      }
      if (frames > MAX_CALL_FRAMES) throw new Reject(`the call stack of ${frames} frames is too deep !`, "E2BIG");
      for (const t of calls[sub]) if (!chain.includes(t) && !this.globalSub[t]) walk(t, total, frames + 1, [...chain, t]);
    };
    walk(0, 0, 1, [0]);
    for (let i = 1; i < starts.length; i++) if (this.globalSub[i]) walk(i, 0, 1, [i]);
  }
}

const prevTypes = new WeakMap<InsnAux, number>();

/** The opcodes the kernel knows (kernel/bpf/core.c, BPF_INSN_MAP plus the verifier-only ones). */
const VALID_OPCODES: ReadonlySet<number> = (() => {
  const s = new Set<number>();
  for (const cls of [0x04, 0x07]) {
    for (const op of [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0]) { s.add(cls | op); s.add(cls | op | 8); }
    s.add(cls | 0x80);
  }
  s.add(0xd4); s.add(0xdc); s.add(0xd7);
  for (const cls of [0x05, 0x06]) {
    for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]) { s.add(cls | op); s.add(cls | op | 8); }
    s.add(cls);
  }
  s.add(0x85); s.add(0x95); s.add(0xe5);
  for (const sz of [0x00, 0x08, 0x10]) { s.add(0x20 | sz); s.add(0x40 | sz); s.add(0x80 | 0x01 | sz); }
  for (const sz of [0x00, 0x08, 0x10, 0x18]) { s.add(0x61 | sz); s.add(0x62 | sz); s.add(0x63 | sz); }
  for (const sz of [0x00, 0x08, 0x10, 0x18]) s.add(0xc3 | sz);
  return s;
})();

const UNBOUND_REG: Reg = (() => {
  const r = new Reg();
  markUnknownImprecise(r);
  return r;
})();

class IdMap {
  private readonly old: number[] = [];
  private readonly cur: number[] = [];
  constructor(private tmp: number) {}
  check(o: number, c: number): boolean {
    if (!!o !== !!c) return false;
    if (!o) return true;
    for (let i = 0; i < this.old.length; i++) {
      if (this.old[i] === o) return this.cur[i] === c;
      if (this.cur[i] === c) return false;
    }
    this.old.push(o);
    this.cur.push(c);
    return true;
  }
  checkScalar(o: number, c: number): boolean {
    return this.check(o || ++this.tmp, c || ++this.tmp);
  }
}

function regsExact(o: Reg, c: Reg, idmap: IdMap): boolean {
  return sameShape(o, c) && sameBounds(o, c) && idmap.check(o.id, c.id) && idmap.check(o.refObjId, c.refObjId);
}

function refsafe(old: VState, cur: VState, idmap: IdMap): boolean {
  if (old.refs.length !== cur.refs.length) return false;
  if (old.activeLocks !== cur.activeLocks) return false;
  if (!idmap.check(old.activeLockId, cur.activeLockId) || old.activeLockPtr !== cur.activeLockPtr) return false;
  for (let i = 0; i < old.refs.length; i++) {
    const o = old.refs[i], c = cur.refs[i];
    if (!idmap.check(o.id, c.id) || o.type !== c.type || o.ptr !== c.ptr) return false;
  }
  return true;
}

function statesMaybeLooping(old: VState, cur: VState): boolean {
  if (old.curframe !== cur.curframe) return false;
  const fo = old.frames[old.curframe], fc = cur.frames[cur.curframe];
  for (let i = 0; i < 11; i++) {
    const a = fo.regs[i], b = fc.regs[i];
    if (!(sameShape(a, b) && sameBounds(a, b) && a.id === b.id && a.refObjId === b.refObjId)) return false;
  }
  return true;
}

/** maybe_widen_reg. */
function widenReg(o: Reg, c: Reg, priv: boolean, idmap: IdMap): void {
  if (o.type !== T.SCALAR || o.type !== c.type) return;
  if (o.precise || c.precise || regsExact(o, c, idmap)) return;
  markUnknown(c, priv);
}

const sizeOf = (op: number): number => [4, 2, 1, 8][(op >> 3) & 3];

function narrowAccessOk(off: number, size: number, spillSize: number): boolean {
  // bpf_stack_narrow_access_ok: little-endian, the low bytes sit at the spill's start.
  void spillSize;
  return (off & 7) === 0 || size === 0 ? true : false;
}

function ctxLoadType(t: string, nullable: boolean): number {
  switch (t) {
    case "pkt": return T.PKT;
    case "pkt_meta": return T.PKT_META;
    case "pkt_end": return T.PKT_END;
    case "sock_or_null": return T.SOCKET | MAYBE_NULL;
    case "sock_common_or_null": return T.SOCK_COMMON | MAYBE_NULL;
    case "btf_id": return T.BTF_ID | (nullable ? MAYBE_NULL : 0);
    case "sock": return T.SOCKET;
    case "flow_keys": return T.FLOW_KEYS;
    case "tp_buffer": return T.TP_BUFFER;
    default: return T.SCALAR;
  }
}

function markPktEnd(st: VState, regno: number, open: boolean): void {
  const r = st.frames[st.curframe].regs[regno];
  if (r.type !== T.PKT) return;
  r.range = open ? BEYOND_PKT_END : AT_PKT_END;
}

function compatibleTypes(spec: ArgSpec): number[] {
  switch (spec.type) {
    case "map_key": case "map_value": case "mem":
      return [T.STACK, T.PKT, T.PKT_META, T.MAP_KEY, T.MAP_VALUE, T.MEM, T.MEM | MEM_RINGBUF, T.BUF, T.TRUSTED_BTF_ID];
    case "const_size": case "const_size_or_zero": case "const_alloc_size_or_zero":
      return [T.SCALAR];
    case "ctx": return [T.CTX];
    case "const_map_ptr": return [T.MAP_PTR];
    case "stack": return [T.STACK];
    case "func": return [T.FUNC];
    case "const_str": return [T.MAP_VALUE];
    case "spin_lock": case "timer": return [T.MAP_VALUE];
    case "ringbuf_mem": return [T.MEM | MEM_RINGBUF];
    // btf_id_types: PTR_TO_BTF_ID, plain or PTR_TRUSTED (the vm has no MEM_RCU pointers).
    case "btf_id": return [T.BTF_ID, T.TRUSTED_BTF_ID];
    case "socket": return [T.SOCKET];
    // sock_types; btf_id_sock_common_types also names PTR_TO_BTF_ID (| PTR_TRUSTED) of a sock_common-based struct,
    // which checkRegType leaves out (the vm does not match BTF struct ids).
    case "sock_common": return [T.SOCK_COMMON, T.SOCKET, T.TCP_SOCK, T.XDP_SOCK];
    case "btf_id_sock_common": return [T.SOCK_COMMON, T.SOCKET, T.TCP_SOCK, T.XDP_SOCK, T.BTF_ID, T.TRUSTED_BTF_ID];
    case "dynptr": return [T.STACK, T.DYNPTR];
    default: return [T.SCALAR];
  }
}

function scalarOp(aop: number, off: number): string | null {
  switch (aop) {
    case 0x00: return "add";
    case 0x10: return "sub";
    case 0x20: return "mul";
    case 0x40: return "or";
    case 0x50: return "and";
    case 0x60: return "lsh";
    case 0x70: return "rsh";
    case 0xa0: return "xor";
    case 0xc0: return "arsh";
    default: void off; return null;
  }
}

function revOpcode(op: number): number {
  switch (op) {
    case 0x10: return 0x50;
    case 0x50: return 0x10;
    case 0x40: return 0x48; // JSET | X: the negation
    case 0x20: return 0xb0;
    case 0xb0: return 0x20;
    case 0x30: return 0xa0;
    case 0xa0: return 0x30;
    case 0x60: return 0xd0;
    case 0xd0: return 0x60;
    case 0x70: return 0xc0;
    case 0xc0: return 0x70;
    default: return op;
  }
}

function flipOpcode(op: number): number {
  switch (op) {
    case 0x20: return 0xa0;
    case 0xa0: return 0x20;
    case 0x30: return 0xb0;
    case 0xb0: return 0x30;
    case 0x60: return 0xc0;
    case 0xc0: return 0x60;
    case 0x70: return 0xd0;
    case 0xd0: return 0x70;
    default: return op;
  }
}

/** regs_refine_cond_op. */
function refineCondOp(r1: Reg, r2: Reg, op: number, is32: boolean): void {
  if (op === 0x30 || op === 0x20 || op === 0x70 || op === 0x60) {
    op = flipOpcode(op);
    [r1, r2] = [r2, r1];
  }
  const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
  switch (op) {
    case 0x10:
      if (is32) {
        r1.u32min = Math.max(r1.u32min, r2.u32min); r1.u32max = Math.min(r1.u32max, r2.u32max);
        r1.s32min = Math.max(r1.s32min, r2.s32min); r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min; r2.u32max = r1.u32max; r2.s32min = r1.s32min; r2.s32max = r1.s32max;
        const t = intersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = r1.umin > r2.umin ? r1.umin : r2.umin; r1.umax = r1.umax < r2.umax ? r1.umax : r2.umax;
        r1.smin = r1.smin > r2.smin ? r1.smin : r2.smin; r1.smax = r1.smax < r2.smax ? r1.smax : r2.smax;
        r2.umin = r1.umin; r2.umax = r1.umax; r2.smin = r1.smin; r2.smax = r1.smax;
        r1.varOff = intersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case 0x50: {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      if (is32) {
        const v = Number(val);
        if (r1.u32min === v) r1.u32min++;
        if (r1.u32max === v) r1.u32max--;
        if (r1.s32min === s32(val)) r1.s32min++;
        if (r1.s32max === s32(val)) r1.s32max--;
      } else {
        if (r1.umin === val) r1.umin++;
        if (r1.umax === val) r1.umax--;
        if (r1.smin === BigInt.asIntN(64, val)) r1.smin++;
        if (r1.smax === BigInt.asIntN(64, val)) r1.smax--;
      }
      break;
    }
    case 0x40: {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      if (val === 0n || (val & (val - 1n)) !== 0n) break;
      if (is32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(val)));
      else r1.varOff = tnumOr(r1.varOff, tnumConst(val));
      break;
    }
    case 0x48: {
      if (!regIsConst(r2, is32)) [r1, r2] = [r2, r1];
      if (!regIsConst(r2, is32)) break;
      const val = regConstValue(r2, is32);
      markUnbounded(r1);
      if (is32) r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), tnumConst(~val & U64)));
      else r1.varOff = tnumAnd(r1.varOff, tnumConst(~val & U64));
      break;
    }
    case 0xb0:
      if (is32) { r1.u32max = Math.min(r1.u32max, r2.u32max); r2.u32min = Math.max(r1.u32min, r2.u32min); }
      else { r1.umax = r1.umax < r2.umax ? r1.umax : r2.umax; r2.umin = r1.umin > r2.umin ? r1.umin : r2.umin; }
      break;
    case 0xa0:
      if (is32) { r1.u32max = Math.min(r1.u32max, (r2.u32max - 1) >>> 0); r2.u32min = Math.max((r1.u32min + 1) >>> 0, r2.u32min); }
      else {
        const a = BigInt.asUintN(64, r2.umax - 1n), b = BigInt.asUintN(64, r1.umin + 1n);
        r1.umax = r1.umax < a ? r1.umax : a; r2.umin = b > r2.umin ? b : r2.umin;
      }
      break;
    case 0xd0:
      if (is32) { r1.s32max = Math.min(r1.s32max, r2.s32max); r2.s32min = Math.max(r1.s32min, r2.s32min); }
      else { r1.smax = r1.smax < r2.smax ? r1.smax : r2.smax; r2.smin = r1.smin > r2.smin ? r1.smin : r2.smin; }
      break;
    case 0xc0:
      if (is32) { r1.s32max = Math.min(r1.s32max, (r2.s32max - 1) | 0); r2.s32min = Math.max((r1.s32min + 1) | 0, r2.s32min); }
      else {
        const a = BigInt.asIntN(64, r2.smax - 1n), b = BigInt.asIntN(64, r1.smin + 1n);
        r1.smax = r1.smax < a ? r1.smax : a; r2.smin = b > r2.smin ? b : r2.smin;
      }
      break;
    default:
      break;
  }
}

function intersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** is_branch_taken: 1 taken, 0 not taken, -1 unknown. */
function isBranchTaken(r1: Reg, r2: Reg, op: number, is32: boolean): number {
  if (isPktAny(base(r1.type)) && isPktAny(base(r2.type)) && !is32) {
    let pkt: Reg;
    if (r2.type === T.PKT_END) pkt = r1;
    else if (r1.type === T.PKT_END) { pkt = r2; op = flipOpcode(op); }
    else return -1;
    if (pkt.range >= 0) return -1;
    switch (op) {
      case 0xb0: case 0x20:
        if (pkt.range === BEYOND_PKT_END) return op === 0x20 ? 1 : 0;
        break;
      case 0xa0: case 0x30:
        if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return op === 0x30 ? 1 : 0;
        break;
    }
    return -1;
  }
  if (isPointer(r1) || isPointer(r2)) {
    if (is32) return -1;
    if (!regIsConst(r2, is32)) {
      op = flipOpcode(op);
      [r1, r2] = [r2, r1];
    }
    if (!regIsConst(r2, is32)) return -1;
    if (!regNotNull(r1)) return -1;
    if (regConstValue(r2, is32) !== 0n) return -1;
    if (op === 0x10) return 0;
    if (op === 0x50) return 1;
    return -1;
  }
  const t1 = is32 ? tnumSubreg(r1.varOff) : r1.varOff;
  const t2 = is32 ? tnumSubreg(r2.varOff) : r2.varOff;
  const umin1 = is32 ? BigInt(r1.u32min) : r1.umin, umax1 = is32 ? BigInt(r1.u32max) : r1.umax;
  const smin1 = is32 ? BigInt(r1.s32min) : r1.smin, smax1 = is32 ? BigInt(r1.s32max) : r1.smax;
  const umin2 = is32 ? BigInt(r2.u32min) : r2.umin, umax2 = is32 ? BigInt(r2.u32max) : r2.umax;
  const smin2 = is32 ? BigInt(r2.s32min) : r2.smin, smax2 = is32 ? BigInt(r2.s32max) : r2.smax;
  switch (op) {
    case 0x10:
      if (t1.mask === 0n && t2.mask === 0n) return t1.value === t2.value ? 1 : 0;
      if (umin1 > umax2 || umax1 < umin2) return 0;
      if (smin1 > smax2 || smax1 < smin2) return 0;
      if (!is32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return 0;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return 0;
      }
      break;
    case 0x50:
      if (t1.mask === 0n && t2.mask === 0n) return t1.value !== t2.value ? 1 : 0;
      if (umin1 > umax2 || umax1 < umin2) return 1;
      if (smin1 > smax2 || smax1 < smin2) return 1;
      if (!is32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return 1;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return 1;
      }
      break;
    case 0x40: {
      let a = t1, b = t2, rb = r2;
      if (!regIsConst(rb, is32)) { a = t2; b = t1; rb = r1; }
      if (!regIsConst(rb, is32)) return -1;
      if ((~a.mask & a.value) & b.value) return 1;
      if (!((a.mask | a.value) & b.value)) return 0;
      break;
    }
    case 0x20: if (umin1 > umax2) return 1; if (umax1 <= umin2) return 0; break;
    case 0x60: if (smin1 > smax2) return 1; if (smax1 <= smin2) return 0; break;
    case 0xa0: if (umax1 < umin2) return 1; if (umin1 >= umax2) return 0; break;
    case 0xc0: if (smax1 < smin2) return 1; if (smin1 >= smax2) return 0; break;
    case 0x30: if (umin1 >= umax2) return 1; if (umax1 < umin2) return 0; break;
    case 0x70: if (smin1 >= smax2) return 1; if (smax1 < smin2) return 0; break;
    case 0xb0: if (umax1 <= umin2) return 1; if (umin1 > umax2) return 0; break;
    case 0xd0: if (smax1 <= smin2) return 1; if (smin1 > smax2) return 0; break;
  }
  return -1;
}

/** reg_not_null: pointer types that are never NULL (ctx, stack and packet pointers are not on the kernel's list). */
function regNotNull(r: Reg): boolean {
  const t = r.type;
  if (mayBeNull(t)) return false;
  const b = base(t);
  return b === T.SOCKET || b === T.TCP_SOCK || b === T.MAP_VALUE || b === T.MAP_KEY || b === T.SOCK_COMMON || b === T.MEM || b === T.MAP_PTR;
}

/** type_is_sk_pointer: the struct a socket pointer type points to (exact type: a maybe-NULL one is none). */
function sockPointer(t: number): SockPointer | undefined {
  switch (t) {
    case T.SOCK_COMMON: return "sock_common";
    case T.SOCKET: return "sock";
    case T.TCP_SOCK: return "tcp_sock";
    case T.XDP_SOCK: return "xdp_sock";
    default: return undefined;
  }
}

/** print_scalar_ranges' merged "smin=smin32=0,smax=umax=..." fields. */
function scalarRanges(r: Reg): string[] {
  const dec = (v: bigint): boolean => v >= -32768n && v <= 32767n;
  const items: { name: string; val: bigint; omit: boolean }[] = [
    { name: "smin", val: BigInt.asUintN(64, r.smin), omit: r.smin === S64_MIN },
    { name: "smax", val: BigInt.asUintN(64, r.smax), omit: r.smax === S64_MAX },
    { name: "umin", val: r.umin, omit: r.umin === 0n },
    { name: "umax", val: r.umax, omit: r.umax === U64 },
    { name: "smin32", val: dec(BigInt(r.s32min)) ? BigInt.asUintN(64, BigInt(r.s32min)) : BigInt(r.s32min >>> 0), omit: r.s32min === S32_MIN },
    { name: "smax32", val: dec(BigInt(r.s32max)) ? BigInt.asUintN(64, BigInt(r.s32max)) : BigInt(r.s32max >>> 0), omit: r.s32max === S32_MAX },
    { name: "umin32", val: BigInt(r.u32min), omit: r.u32min === 0 },
    { name: "umax32", val: BigInt(r.u32max), omit: r.u32max === U32_MAX },
  ];
  const out: string[] = [];
  for (let a = 0; a < items.length; a++) {
    const m1 = items[a];
    if (m1.omit) continue;
    const neg1 = m1.name[0] === "s" && BigInt.asIntN(64, m1.val) < 0n;
    let s = `${m1.name}=`;
    for (let b = a + 2; b < items.length; b += 2) {
      const m2 = items[b];
      if (m2.omit || m2.val !== m1.val) continue;
      const neg2 = m2.name[0] === "s" && BigInt.asIntN(64, m2.val) < 0n;
      if (neg2 !== neg1) continue;
      m2.omit = true;
      s += `${m2.name}=`;
    }
    s += m1.name[0] === "s" ? snum(BigInt.asIntN(64, m1.val)) : unum(m1.val);
    out.push(s);
  }
  return out;
}

function invalidScalarMsg(r: Reg, range: readonly [number, number], ctx: string, name: string): string {
  let s = `${ctx} the register ${name} has`;
  let unknown = true;
  if (r.smin > S64_MIN) { s += ` smin=${s64str(r.smin)}`; unknown = false; }
  if (r.smax < S64_MAX) { s += ` smax=${s64str(r.smax)}`; unknown = false; }
  if (unknown) s += " unknown scalar value";
  return `${s} should have been in [${range[0]}, ${range[1]}]`;
}

/** How the alignment messages print a var_off: the value when constant, the tnum otherwise. */
function varOffStr(t: Tnum): string {
  return tnumIsConst(t) ? BigInt.asIntN(64, t.value).toString() : tnumStr(t);
}

/** format_callchain: "(callsite,...,scc)". */
function sccKeyStr(k: string): string {
  const [sites, scc] = k.split(":");
  return `(${sites}${scc})`;
}

function fmtRegMask(m: number): string {
  const out: string[] = [];
  for (let i = 0; i < 11; i++) if (m & (1 << i)) out.push(`r${i}`);
  return out.join(",");
}

function fmtStackMask(m: bigint): string {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if (m & (1n << BigInt(i))) out.push(`${(-i - 1) * 8}`);
  return out.join(",");
}

/** license_is_gpl_compatible (include/linux/license.h). */
export function licenseIsGplCompatible(l: string): boolean {
  return ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"].includes(l);
}

export { Reject };
export type { VerifierError };
