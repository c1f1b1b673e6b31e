/**
 * The verifier's inputs and outputs. The verifier sees maps, helpers and program
 * types only through these small interfaces, so it depends on no runtime object.
 */
import type { VerifierError } from "../../errors.js";
import type { Bytecode } from "../../isa/bytecode.js";
import type { HelperProto } from "../helpers/proto.js";
import type { ProgTypeVerifierInfo } from "../progtypes/types.js";

/** What the verifier needs to know about a map (the kernel's struct bpf_map fields it reads). */
export interface VerifierMapInfo {
  /** BPF_MAP_TYPE_*, include/uapi/linux/bpf.h. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** map_flags (BPF_F_RDONLY_PROG = 1 << 7, BPF_F_WRONLY_PROG = 1 << 8, ...). */
  readonly flags: number;
  /** Frozen by user space (BPF_MAP_FREEZE): values are read-only constants for the program. */
  readonly frozen?: boolean;
  /** As the log prints it (map=NAME); empty for none. */
  readonly name: string;
  /** Created with BTF for its key and value (false: without; undefined: not said). */
  readonly btf?: boolean;
  /** Offset of struct bpf_spin_lock in the value, if any. */
  readonly spinLockOff?: number;
  /** Offset of struct bpf_timer in the value, if any. */
  readonly timerOff?: number;
  /**
   * The value's other special fields (bpf_wq, kptrs, bpf_list_head, bpf_rb_root,
   * bpf_refcount, ...: the map's btf_record). Loads and stores must not touch them.
   */
  readonly otherFields?: ReadonlyArray<{ readonly name: string; readonly offset: number; readonly size: number }>;
  /** For map-in-map types: what the inner maps look like. */
  readonly inner?: VerifierMapInfo;
  /**
   * The value printed for an LD_IMM64 of this map in the log (the kernel prints
   * the map's kernel address to privileged users). Default: a fixed pseudo address.
   */
  readonly logAddress?: bigint;
  /** Read-only initial contents of the value (frozen .rodata), for constant loads and const strings. */
  readonly readOnlyValue?: Uint8Array;
  /**
   * Array maps: bytes from the map pointer (what LD_IMM64 of the map yields at run
   * time) to element 0's value. When set, bpf_map_lookup_elem is inlined as the
   * kernel's array_map_gen_lookup does (the kernel's offset is
   * offsetof(struct bpf_array, value), 312 on x86-64 6.18).
   */
  readonly inlineValueOffset?: number;
}

/** A helper as the verifier sees it: its name (without "bpf_") and kernel prototype. */
export interface VerifierHelper {
  readonly name: string;
  readonly proto: HelperProto;
}

/** A BTF line_info record with its resolved strings (BTF.ext .line_info). */
export interface LineInfo {
  /** Instruction index (slot) the record starts at. */
  readonly insn: number;
  readonly file: string;
  readonly line: number;
  readonly col?: number;
  /** The source line's text. */
  readonly text: string;
}

/** A BTF func_info record: where a function starts, its name and linkage. */
export interface FuncInfo {
  readonly insn: number;
  readonly name: string;
  /** BTF_FUNC_GLOBAL functions are verified once, on their own, against `params`. */
  readonly global?: boolean;
  /**
   * A global function's parameters as the kernel's btf_prepare_func_args sees
   * them: a scalar, a pointer to ctx, or a pointer to `size` bytes of memory (maybe NULL).
   */
  readonly params?: readonly ({ kind: "scalar" } | { kind: "ctx" } | { kind: "mem"; size: number; nullable?: boolean })[];
  /** The function returns void (a global function then returns nothing in R0). */
  readonly returnsVoid?: boolean;
}

export type VerifierMode = "strict" | "warn" | "off";

export interface VerifierInput {
  /** The program as loaded (subprograms appended, map references as handles). */
  readonly code: Bytecode;
  readonly progType: ProgTypeVerifierInfo;
  /** BPF_PROG_LOAD's expected_attach_type. */
  readonly expectedAttachType?: number;
  /** Helper by kernel id, or undefined when the id is unknown. */
  helper(id: number): VerifierHelper | undefined;
  /** Resolves the imm of an LD_IMM64 map reference (fd, or fd_array index for MAP_IDX). */
  maps?(handle: number): VerifierMapInfo | undefined;
  readonly license?: string;
  readonly funcInfo?: readonly FuncInfo[];
  readonly lineInfo?: readonly LineInfo[];
  /** 0 (default), 1 (trace of the failing path), 2 (everything). */
  readonly logLevel?: 0 | 1 | 2;
  /** Also print the stats lines ("verification time", "stack depth"); the kernel's BPF_LOG_STATS. */
  readonly logStats?: boolean;
  /** CAP_BPF + CAP_PERFMON (default true): bounded loops, pointer leaks, uninit stack reads. */
  readonly privileged?: boolean;
  readonly mode?: VerifierMode;
  /** Program name, for messages. */
  readonly name?: string;
  /** Stop after this many processed instructions (default BPF_COMPLEXITY_LIMIT_INSNS). */
  readonly insnLimit?: number;
  /** nr_cpu_ids: bpf_get_smp_processor_id returns less (unset: no bound assumed). */
  readonly nrCpuIds?: number;
}

/** How the program touches its context at one instruction (for ctx rewriting by the loader/JIT). */
export interface CtxAccess {
  readonly off: number;
  readonly size: number;
  readonly write: boolean;
  /** What the load produced (scalar, pkt, pkt_end, ...). */
  readonly regType: string;
}

/** Per-instruction facts the loader and JIT need (the kernel's bpf_insn_aux_data). */
export interface InsnAux {
  /** Visited by the verifier (unvisited code is dead and removed from xlated). */
  seen: boolean;
  /** Helper call sites: the map passed in R1 (undefined if several different maps reach it). */
  map?: VerifierMapInfo;
  /** Several different maps reach this call site (BPF_MAP_PTR_POISON). */
  mapPoisoned?: boolean;
  /** Map handle (imm of the LD_IMM64) of `map`, when known. */
  mapHandle?: number;
  /** A bpf_map_lookup_elem of an array map that may be inlined (array_map_gen_lookup). */
  inlineArrayLookup?: boolean;
  /** Context access kind at ctx loads/stores. */
  ctx?: CtxAccess;
  /** Kind of pointer dereferenced at this load/store (ctx, stack, map_value, pkt, mem, ...). */
  ptrType?: string;
  /** The divisor of a div/mod by register may be zero (the kernel patches a guard). */
  divByReg?: boolean;
  /** bpf_loop call sites: the callback and whether flags are always zero (the kernel could inline the loop). */
  loopInline?: { fit: boolean; subprog: number };
  /** Liveness: registers live before this instruction (bit i = ri). */
  liveRegsBefore: number;
}

export interface VerifierStats {
  readonly processedInsns: number;
  readonly maxStatesPerInsn: number;
  readonly totalStates: number;
  readonly peakStates: number;
  /** Always 0 on Linux 6.18, kept for the log line's shape. */
  readonly markRead: number;
  readonly timeUs: number;
}

export interface VerifierResult {
  readonly accepted: boolean;
  /** The log, in the kernel's format for the requested level ("" at level 0). */
  readonly log: string;
  readonly stats: VerifierStats;
  /** Stack bytes per subprogram (the kernel's stack_depth, rounded to 8). */
  readonly stackDepth: readonly number[];
  /** The end of the furthest context access (the kernel's prog->aux->max_ctx_offset). */
  readonly maxCtxOffset: number;
  /** The lowest context offset accessed, or 0: only tracepoint programs may read before their record. */
  readonly minCtxOffset: number;
  /** Subprogram start instructions. */
  readonly subprogs: readonly number[];
  readonly error?: VerifierError;
  /**
   * The rejection as the kernel's log ends with it (before the statistics), at
   * every log level: one or more lines, with no final newline where the kernel
   * prints none.
   */
  readonly rejectMessage?: string;
  /** Indexed by instruction slot of the input program. */
  readonly aux: readonly InsnAux[];
  /** The program after the kernel's fix-ups (what `bpftool prog dump xlated` shows). */
  readonly xlated: Bytecode;
  /** xlated slot -> original slot (or -1 for inserted instructions). */
  readonly xlatedOrigin: readonly number[];
  /** The fix-ups applied, one line each (for diagnostics). */
  readonly fixups: readonly string[];
}
