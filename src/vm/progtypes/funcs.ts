/**
 * Helper availability as data: the kernel's get_func_proto chains. Each program
 * type's func_proto answers its own helpers first and falls back to a shared
 * chain; these sets are those chains, with the privilege tier each helper needs
 * and the proto variant the type gets (src/vm/helpers/protos.ts).
 */

/** Which capability the kernel asks for before returning the proto (bpf_token_capable). */
export type Tier = "unpriv" | "bpf" | "perfmon";

export interface HelperEntry {
  /** Variant name in helperProtoVariants, when the type gets a non-default proto. */
  readonly variant?: string;
  /** Capability needed (default: none beyond loading the program type). */
  readonly tier?: Tier;
  /** A kernel config option the helper needs (absent configs make the kernel return NULL). */
  readonly config?: string;
  /** Attach types the helper is limited to (expected_attach_type checks in the func_proto). */
  readonly attach?: readonly number[];
  /** Attach types the helper is refused for. */
  readonly notAttach?: readonly number[];
}

export type HelperSet = ReadonlyMap<number, HelperEntry>;

type Part = HelperSet | readonly number[] | Readonly<Record<number, HelperEntry>>;

/** Union of parts; later parts override earlier ones, as a type's own switch overrides the base chain. */
export function helperSet(...parts: readonly Part[]): HelperSet {
  const out = new Map<number, HelperEntry>();
  for (const part of parts) {
    if (part instanceof Map) for (const [id, e] of part) out.set(id, e);
    else if (Array.isArray(part)) for (const id of part as readonly number[]) out.set(id, {});
    else for (const [id, e] of Object.entries(part as Readonly<Record<number, HelperEntry>>)) out.set(Number(id), e);
  }
  return out;
}

const tiered = (tier: Tier, ids: readonly number[]): Record<number, HelperEntry> =>
  Object.fromEntries(ids.map((id) => [id, { tier }]));

/**
 * bpf_base_func_proto, kernel/bpf/helpers.c (Linux 6.18, after "bpf: Allow some
 * trace helpers for all prog types"): three switches, the second behind
 * CAP_BPF, the third behind CAP_PERFMON.
 */
export const BASE_FUNCS: HelperSet = helperSet(
  // No capability: map ops, prandom, cpu/numa ids, tail calls, clocks, ring buffer,
  // strncmp/strtol/strtoul, pid/tgid, uid/gid.
  tiered("unpriv", [1, 2, 3, 87, 88, 89, 195, 7, 8, 42, 12, 5, 125, 208, 130, 131, 132, 133, 134, 182, 105, 106, 14, 120, 15]),
  // CAP_BPF: spin locks, jiffies, per-cpu pointers, timers, kptr_xchg, for_each/loop,
  // user ring buffer, dynptrs, cgroup storage and ids, classid (curr), task storage.
  tiered("bpf", [93, 94, 118, 153, 154, 169, 170, 171, 172, 194, 164, 181, 209, 198, 199, 200, 197, 201, 202, 203, 210, 211, 80, 123, 37, 156, 157]),
  { 17: { tier: "bpf", variant: "curr", config: "CONFIG_CGROUP_NET_CLASSID" } },
  // CAP_PERFMON: printk, current task, comm, probe_read_{user,kernel}[_str],
  // snprintf(_btf), task_pt_regs, vprintk, perf event reads, signals, task stacks,
  // copy_from_user(_task) (sleepable only), branch snapshot, find_vma.
  tiered("perfmon", [6, 35, 158, 16, 112, 113, 114, 115, 149, 165, 175, 177, 55, 22, 109, 117, 141, 148, 191, 176, 180]),
);

/**
 * bpf_sk_base_func_proto, net/core/filter.c: the networking types' fallback.
 * Adds the skc_to_* casts (CAP_PERFMON) and ktime_get_coarse_ns, then the base.
 */
export const SK_BASE_FUNCS: HelperSet = helperSet(
  BASE_FUNCS,
  tiered("perfmon", [136, 137, 138, 139, 140, 178, 196]),
  [160],
);

/**
 * The tracing types' own helpers (kprobe_prog_func_proto, tp_prog_func_proto,
 * raw_tp_prog_func_proto in kernel/trace/bpf_trace.c, on top of bpf_tracing_func_proto):
 * probe_read(_str) (compat), perf_event_output, get_stackid, get_stack,
 * get_func_ip, get_attach_cookie.
 */
export const TRACE_FUNCS: HelperSet = helperSet(BASE_FUNCS, [4, 25, 27, 45, 67, 173, 174]);

/** Networking cgroup hooks' common helpers (cgroup_common_func_proto, kernel/bpf/cgroup.c): get_local_storage, get_retval, set_retval. */
export const CGROUP_COMMON = [81, 186, 187] as const;
