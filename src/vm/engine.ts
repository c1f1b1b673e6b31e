/**
 * What an execution engine (interpreter or JIT) needs from the runtime around
 * it, and what every engine offers. Engines know instructions, memory and the
 * helper ABI; maps, program types and objects stay in the runtime.
 */
import type { Bytecode } from "../isa/bytecode.js";
import type { HelperRegistry } from "./helpers/abi.js";
import type { AddressSpace } from "./memory.js";

/** A program an engine can start (a tail-call target). */
export interface ExecutableCode {
  readonly code: Bytecode;
}

export interface EngineEnv {
  readonly space: AddressSpace;
  readonly helpers: HelperRegistry;
  /**
   * Checked mode, for programs not proven safe by the verifier: every memory
   * access is checked against the mapped regions, calls and jumps are checked,
   * and `budget` bounds the instructions of one run. A fault is a ProgramFault.
   */
  readonly checked: boolean;
  /** Instructions one run may execute in checked mode. */
  readonly budget: number;
  /** The CPU executions run on (per-CPU maps, bpf_get_smp_processor_id). */
  cpu: number;
  /** Resolves bpf_tail_call(ctx, map, index): the program in the slot, or undefined. */
  tailCallTarget?(mapAddr: number, index: number): ExecutableCode | undefined;
  /**
   * Packet bounds for legacy LD_ABS / LD_IND loads (socket filters, tc), taken
   * from the context in r6.
   */
  packetBounds?(ctx: number): { data: number; end: number } | undefined;
}

/** Default instruction budget of a checked run. */
export const DEFAULT_BUDGET = 1_000_000_000;

/** Helper id of bpf_tail_call, which engines implement themselves. include/uapi/linux/bpf.h. */
export const BPF_FUNC_tail_call = 12;

export interface Engine {
  /** Runs from instruction 0 with r1..r5 as given (unsigned, below 2^53); returns r0's low 32 bits, unsigned. */
  run(r1: number, r2?: number, r3?: number, r4?: number, r5?: number): number;
  /**
   * `n` runs (n >= 1) with r1 as given and r2..r5 = 0, exactly as `n` calls of
   * run(r1); returns the last one's result. For engines with a faster loop
   * than the caller's (a test run with repeat).
   */
  runRepeat?(r1: number, n: number): number;
  /** r0 of the last run, all 64 bits. */
  lastR0(): bigint;
  /** Instructions the last run executed (the interpreter counts exactly; a JIT may not). */
  readonly executed: number;
  /** Releases the engine's stack region. */
  dispose(): void;
}
