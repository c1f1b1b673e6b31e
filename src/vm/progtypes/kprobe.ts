/**
 * BPF_PROG_TYPE_KPROBE (kprobes, uprobes, kprobe/uprobe multi and session).
 * kernel/trace/bpf_trace.c: kprobe_prog_is_valid_access — read-only, any
 * aligned load inside struct pt_regs (x86-64: 168 bytes); kprobe_prog_func_proto
 * (perf_event_output, get_stackid, get_stack, override_return with
 * CONFIG_BPF_KPROBE_OVERRIDE, get_func_ip, get_attach_cookie, then
 * bpf_tracing_func_proto). check_return_code: any value, except 0 or 1 for the
 * session attach types.
 */
import {
  BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, BPF_TRACE_KPROBE_SESSION, BPF_TRACE_UPROBE_MULTI, BPF_TRACE_UPROBE_SESSION,
} from "./constants.js";
import { ptRegs } from "./ctx/pt_regs.js";
import { defineProgType } from "./define.js";
import { helperSet, TRACE_FUNCS } from "./funcs.js";
import { DENY, isPow2, SCALAR } from "./tracing-access.js";

/** bpf_probe_write_user needs CAP_SYS_ADMIN and no lockdown (LOCKDOWN_BPF_WRITE_USER is in lockdown's integrity level). */
export const kprobeHelpers = helperSet(TRACE_FUNCS, {
  58: { config: "CONFIG_BPF_KPROBE_OVERRIDE" },
  36: { config: "CAP_SYS_ADMIN without lockdown" },
});

export const kprobe = defineProgType({
  id: BPF_PROG_TYPE_KPROBE,
  name: "kprobe",
  uapiName: "BPF_PROG_TYPE_KPROBE",
  ctxStruct: "pt_regs",
  ctxSize: ptRegs.size,
  ctxLayout: ptRegs,
  attachTypes: [0, BPF_TRACE_KPROBE_MULTI, BPF_TRACE_UPROBE_MULTI, BPF_TRACE_KPROBE_SESSION, BPF_TRACE_UPROBE_SESSION],
  isValidAccess: (off, size, write) =>
    !write && isPow2(size) && off >= 0 && off + size <= ptRegs.size && off % size === 0 ? SCALAR : DENY,
  helpers: () => kprobeHelpers,
  returnRange: (at) => (at === BPF_TRACE_KPROBE_SESSION || at === BPF_TRACE_UPROBE_SESSION ? [0, 1] : undefined),
  packetAccess: { read: false, write: false },
});
