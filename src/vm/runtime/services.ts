/**
 * What the vm kernel offers helper implementations and program-type runtimes: the
 * address space, the host environment, maps by address, the trace pipe, and the
 * state of the program run in progress. Helpers are built per runtime by
 * factories taking these services (`(services) => HelperDef[]`), so a helper's
 * closure reaches the runtime without globals.
 */
import type { BpfMap } from "../maps/map.js";
import type { HostEnv } from "../host.js";
import type { AddressSpace } from "../memory.js";
import type { TracePipe } from "./trace-pipe.js";

/** The running program as helpers see it. */
export interface RunningProgram {
  readonly id: number;
  readonly name: string;
  /** BPF_PROG_TYPE_*. */
  readonly progType: number;
  /** BPF_* attach type (expected_attach_type). */
  readonly attachType: number;
  /** Runs unverified (checked mode): helpers must check the pointers they are given. */
  readonly checked: boolean;
  /** License is GPL-compatible (gpl_only helpers). */
  readonly gplCompatible: boolean;
  /**
   * The lowest context offset the verifier let it read (0 unless below the
   * context: tracepoint programs may read before their record, as the kernel lets them).
   */
  readonly minCtxOffset?: number;
}

/**
 * State a program type's runtime keeps for one run (an xdp_buff's bounds, an
 * sk_buff's fields...). Each program-type runtime defines its own kinds.
 */
export interface ProgTypeRunState {
  readonly kind: string;
}

/** One program execution. Runs nest (a helper may fire a hook), so the runtime keeps a stack. */
export interface RunState {
  readonly program: RunningProgram;
  readonly cpu: number;
  /** Address of the context (r1 at entry). */
  readonly ctx: number;
  readonly typeState?: ProgTypeRunState;
  /** bpf_get_attach_cookie: the cookie of the link that fired, as (lo, hi) words. */
  readonly attachCookieLo?: number;
  readonly attachCookieHi?: number;
  /** bpf_get_func_ip: the address of the traced function, where the hook has one. */
  readonly funcIp?: number;
}

export interface VmServices {
  readonly space: AddressSpace;
  readonly host: HostEnv;
  /** CPUs of the vm (per-CPU maps, bpf_get_smp_processor_id ranges). */
  readonly ncpus: number;
  readonly tracePipe: TracePipe;
  /** The map whose descriptor is at `addr` (a program's map pointer), if any. */
  mapAt(addr: number): BpfMap | undefined;
  /**
   * The innermost run in progress; throws when called outside a run. The
   * object is reused for later runs: copy it to keep it past this run.
   */
  current(): RunState;
  /**
   * In checked mode, checks that a program-supplied pointer range is mapped
   * (and writable when `write`), faulting at the helper call otherwise; a no-op
   * for verified programs, whose arguments the verifier proved.
   */
  checkMem(addr: number, len: number, write: boolean, pc: number): void;
  /**
   * Runs `fn` with `run` as the current run: for work a helper defers past the
   * run that asked for it (bpf_timer callbacks), so the helpers called from it
   * see that program (its checked mode, its CPU). Optional: without it deferred
   * callbacks run outside any run state.
   */
  withRun?<T>(run: RunState, fn: () => T): T;
}
