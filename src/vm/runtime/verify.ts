/**
 * How the kernel asks its verifier. The verifier itself lives in src/vm/verifier;
 * this is the seam, so the runtime does not depend on its internals.
 */
import type { VerifierError } from "../../errors.js";
import type { Bytecode } from "../../isa/bytecode.js";
import type { HelperRegistry } from "../helpers/abi.js";
import type { BpfMap } from "../maps/map.js";
import type { ProgTypeVerifierInfo } from "../progtypes/types.js";
import type { InsnAux, VerifierStats } from "../verifier/types.js";

/**
 * strict: reject what the verifier rejects (the default, as the kernel);
 * warn: log the verdict but load anyway, running the program checked;
 * off: no verification, run checked (like uBPF).
 */
export type VerifierMode = "strict" | "warn" | "off";

export interface VerifyRequest {
  readonly code: Bytecode;
  readonly progType: ProgTypeVerifierInfo;
  readonly attachType: number;
  /** The map an LD_IMM64 handle (fd or fd_array index) names. */
  readonly maps: (handle: number) => BpfMap | undefined;
  readonly license: string;
  readonly gplCompatible: boolean;
  readonly logLevel: number;
  readonly helpers: HelperRegistry;
  readonly debugInfo?: unknown;
  /** The kernel's CPU count (nr_cpu_ids): bpf_get_smp_processor_id returns less. */
  readonly ncpus?: number;
}

export interface VerifyOutcome {
  readonly accepted: boolean;
  readonly log: string;
  readonly error?: VerifierError;
  readonly processedInsns: number;
  /** The program after the verifier's fix-ups (map handles still as in the input). */
  readonly xlated: Bytecode;
  /** xlated slot -> slot of the loaded program (-1 for inserted instructions). */
  readonly xlatedOrigin?: readonly number[];
  /** Per-instruction facts of the loaded program (the kernel's insn_aux_data). */
  readonly aux?: readonly InsnAux[];
  /** Verification statistics, as the kernel's log reports them. */
  readonly stats?: VerifierStats;
  /** Stack bytes per subprogram. */
  readonly stackDepth?: readonly number[];
  /** The end of the furthest context access (prog->aux->max_ctx_offset). */
  readonly maxCtxOffset?: number;
  /** The lowest context offset accessed (negative only for tracepoint programs). */
  readonly minCtxOffset?: number;
}

export type ProgramVerifier = (request: VerifyRequest) => VerifyOutcome;

/**
 * license_is_gpl_compatible(): include/linux/license.h. The kernel compares
 * whole strings.
 */
export function isGplCompatible(license: string): boolean {
  return ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"].includes(license);
}
