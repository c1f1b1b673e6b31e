/**
 * The run-time half of a program type: how the vm builds a program's context
 * in its memory and runs BPF_PROG_TEST_RUN the way net/bpf/test_run.c does for
 * that type (the kernel's bpf_prog_ops.test_run). The verifier half lives in
 * src/vm/progtypes/<type>.ts.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import type { ProgTypeRunState, RunningProgram, VmServices } from "../../runtime/services.js";

/** What a program-type runtime needs from the runtime to run a program. */
export interface TestRunTarget {
  readonly services: VmServices;
  readonly program: RunningProgram;
  /**
   * The highest context offset the verifier saw the program access, plus the
   * access size (prog->aux->max_ctx_offset): raw_tracepoint and syscall runs
   * refuse a smaller ctx_size_in. 0 when unknown (unverified programs).
   */
  readonly maxCtxOffset?: number;
  /**
   * Runs the program once with r1 = ctx as the current run (typeState pushed
   * for helpers), on `cpu` (default: the runtime's current CPU); returns r0's
   * low 32 bits, unsigned.
   */
  run(ctx: number, typeState?: ProgTypeRunState, cpu?: number): number;
  /**
   * `n` runs (n >= 1) as `n` calls of run(ctx, typeState, cpu) would do them;
   * returns the last one's result.
   */
  runRepeat?(ctx: number, typeState: ProgTypeRunState | undefined, n: number, cpu?: number): number;
}

/**
 * Bounds for the legacy LD_ABS / LD_IND loads (EngineEnv.packetBounds): the
 * linear data [data, end). `head`, `mac` and `net` serve the negative offsets
 * SKF_LL_OFF / SKF_NET_OFF (bpf_internal_load_pointer_neg_helper in
 * net/core/filter.c: a load relative to the MAC or network header must stay in
 * [head, end)); `mac` is absent when the skb has no MAC header.
 */
export interface PacketBounds {
  readonly data: number;
  readonly end: number;
  readonly head?: number;
  readonly mac?: number;
  readonly net?: number;
}

export interface ProgTypeRuntime {
  /** BPF_PROG_TYPE_*. */
  readonly progType: number;
  /**
   * The ctx_out size a test run uses when ctx is given and ctxOutSize is not:
   * the context struct the kernel copies back (xdp_md, __sk_buff, ...), or 0
   * when the type never copies one back.
   */
  readonly ctxOutDefault: number;
  /**
   * BPF_PROG_TEST_RUN. Throws BpfCommandError with the kernel's errno for bad
   * input, and TestRunNoSpaceError (ENOSPC, carrying what the kernel still
   * copied out) when data_out or ctx_out is too small.
   */
  testRun(target: TestRunTarget, options: RunOptions): RunResult;
  /** Packet bounds for LD_ABS / LD_IND, for the skb program types. */
  packetBounds?(state: ProgTypeRunState): PacketBounds | undefined;
}

/**
 * Where bpf_redirect / bpf_redirect_map / bpf_clone_redirect sent a packet
 * (struct bpf_redirect_info). The vm has no devices to deliver to: a test run
 * only reports the verdict, as the kernel's does; hooks hand this to the host.
 */
export interface RedirectTarget {
  /** Target ifindex (or map key for a map redirect). */
  readonly ifindex: number;
  /** BPF_F_INGRESS, BPF_F_BROADCAST... as passed. */
  readonly flags: number;
  /** The map a bpf_redirect_map used, by its vm id. */
  readonly mapId?: number;
}
