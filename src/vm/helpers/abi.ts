/**
 * How engines call helpers: one calling convention for the interpreter and the
 * JIT, with no BigInt on the path. An engine stores r1..r5 into the call area
 * (a fixed place inside the never-allocated guard page, so no program can reach
 * it), calls the helper, and reads r0 back from the same area. A helper reads its
 * arguments and writes its result through a HelperCall.
 */
import { ProgramFault } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import type { HelperProto } from "./proto.js";

/** Address of r0..r5 (8 bytes each, little-endian) during a helper call. */
export const CALL_AREA = 0x100;
/** Address of the callback argument area (r1..r5 for a callback an engine runs for a helper). */
export const CALLBACK_AREA = 0x140;

/**
 * What a running program offers its helpers: the engine-independent part of one
 * program execution. The runtime provides the implementation (src/vm/runtime).
 */
export interface Execution {
  /** The CPU this execution runs on (per-CPU maps, get_smp_processor_id). */
  readonly cpu: number;
  /** Address of the program's context. */
  readonly ctx: number;
  /**
   * Runs the subprogram at absolute instruction index `fnPc` (a BPF_PSEUDO_FUNC
   * value) with r1..r5 as given and returns its r0 (the low 53 bits as a number).
   */
  invokeCallback(fnPc: number, r1: number, r2: number, r3: number, r4: number, r5: number): number;
}

/**
 * One helper invocation's registers. Engines keep one HelperCall per address
 * space and re-point `exec` per run; helpers must read their arguments before
 * running callbacks (a callback's own helper calls reuse the area).
 */
export class HelperCall {
  exec!: Execution;
  /** Instruction index of the call (for faults). */
  pc = 0;

  constructor(readonly space: AddressSpace) {}

  /** Low 32 bits of argument register n (1..5), unsigned. */
  u32(n: number): number {
    return this.space.u32[(CALL_AREA >> 2) + 2 * n];
  }

  /** Low 32 bits of argument register n, signed. */
  i32(n: number): number {
    return this.space.i32[(CALL_AREA >> 2) + 2 * n];
  }

  /** High 32 bits of argument register n, unsigned. */
  hi(n: number): number {
    return this.space.u32[(CALL_AREA >> 2) + 2 * n + 1];
  }

  /** Argument n as an unsigned number; exact below 2^53. */
  num(n: number): number {
    return this.hi(n) * 4294967296 + this.u32(n);
  }

  /** Argument n as a signed number; exact within ±2^53. */
  int(n: number): number {
    return this.space.i32[(CALL_AREA >> 2) + 2 * n + 1] * 4294967296 + this.u32(n);
  }

  /** Argument n as an unsigned 64-bit bigint (not for hot paths). */
  big(n: number): bigint {
    return (BigInt(this.hi(n)) << 32n) | BigInt(this.u32(n));
  }

  /**
   * Argument n as an address in the space. A pointer with upper bits set cannot
   * point into a wasm32 memory: that is a fault, not a truncation.
   */
  addr(n: number): number {
    if (this.hi(n) !== 0) {
      throw new ProgramFault(this.pc, `helper argument r${n} is not an address in the vm (0x${this.big(n).toString(16)})`);
    }
    return this.u32(n);
  }

  /** Sets r0 from a signed integer number (exact within ±2^53). */
  ret(v: number): void {
    const base = CALL_AREA >> 2;
    const lo = v >>> 0;
    this.space.u32[base] = lo;
    this.space.u32[base + 1] = Math.floor((v - lo) / 4294967296) >>> 0;
  }

  /** Sets r0 from two 32-bit words. */
  ret64(lo: number, hi: number): void {
    const base = CALL_AREA >> 2;
    this.space.u32[base] = lo >>> 0;
    this.space.u32[base + 1] = hi >>> 0;
  }

  /** Sets r0 from a bigint (wrapped to 64 bits). */
  retBig(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.ret64(Number(u & 0xffffffffn), Number(u >> 32n));
  }
}

export type HelperFn = (call: HelperCall) => void;

/**
 * How a direct helper receives argument register r: its low 32 bits (an
 * address in the space, or a u32), or `sat`: the low 32 bits when the upper
 * ones are clear, 0xffffffff otherwise (the generic helpers' reading of u64
 * flags and sizes, which refuses both alike).
 */
export type DirectArg = { readonly reg: 1 | 2 | 3 | 4 | 5; readonly as: "lo" | "sat" };

/**
 * How a direct helper's number becomes r0: `u32` zero-extended (a pointer or
 * NULL), `s32` sign-extended (0 or -errno), `i53` an integer within ±2^53 (a
 * clock), which crosses as a double, never as a BigInt.
 */
export type DirectResult = "u32" | "s32" | "i53";

/** A direct helper's implementation: the arguments in DirectHelper.args order. */
export type DirectFn = (a: number, b: number, c: number, d: number, e: number) => number;

/**
 * A helper specialised for one call site of a verified program: the engine
 * passes the arguments as numbers and takes r0 back, with no call area, no
 * map resolution and no argument checks (the verifier proved them). It must
 * do exactly what the helper does for such arguments, faults included.
 */
export interface DirectHelper {
  readonly args: readonly DirectArg[];
  readonly result: DirectResult;
  readonly fn: DirectFn;
  /** A fast path the JIT may emit inline, calling `fn` only when it does not apply. */
  readonly fast?: InlineFastPath;
}

/**
 * Inline fast paths. `ringbuf_output`: bpf_ringbuf_output(ring, data, size,
 * flags) with args [data, size, flags] on a ring whose positions (u64s)
 * are at the given addresses (src/vm/maps/ringbuf.ts), the data area at
 * `dataAddr`, `size` bytes long, its first page `dataPgOff` pages from the
 * ring's start (a header's pg_off): when no record is still reserved, the
 * record fits without wrapping, flags are 0 or BPF_RB_NO_WAKEUP and no
 * wakeup is due, the record is written and committed inline (the header's
 * len and pg_off, producer_pos and pending_pos), r0 = 0.
 */
export type InlineFastPath = {
  readonly kind: "ringbuf_output";
  readonly consAddr: number;
  readonly prodAddr: number;
  readonly pendAddr: number;
  readonly dataAddr: number;
  readonly dataPgOff: number;
  readonly size: number;
};

/** A call site as a helper's `direct` factory sees it. */
export interface DirectSite {
  /** Instruction index of the call. */
  readonly pc: number;
  /** r1 when the code sets it to a constant right before the call (a map address, usually), as i32 words. */
  readonly r1?: { readonly lo: number; readonly hi: number };
}

/** A helper: kernel id and name, its prototype (for the verifier) and its implementation. */
export interface HelperDef {
  /** include/uapi/linux/bpf.h, enum bpf_func_id. */
  readonly id: number;
  /** Without the "bpf_" prefix, as in the uapi's ___BPF_FUNC_MAPPER (e.g. "map_lookup_elem"). */
  readonly name: string;
  readonly proto: HelperProto;
  readonly fn: HelperFn;
  /**
   * The helper's direct form for a call site of a verified program, when it
   * has one for that site (e.g. bpf_map_lookup_elem on a known map). `exec`
   * is the execution the site runs in (its CPU).
   */
  readonly direct?: (site: DirectSite, exec: Execution) => DirectHelper | undefined;
}

/** Helpers by kernel id. */
export class HelperRegistry {
  private readonly byId = new Map<number, HelperDef>();

  constructor(defs: Iterable<HelperDef> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: HelperDef): this {
    this.byId.set(def.id, def);
    return this;
  }

  get(id: number): HelperDef | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  [Symbol.iterator](): IterableIterator<HelperDef> {
    return this.byId.values();
  }
}
