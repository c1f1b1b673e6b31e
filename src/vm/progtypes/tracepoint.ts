/**
 * BPF_PROG_TYPE_TRACEPOINT. kernel/trace/bpf_trace.c: tp_prog_is_valid_access —
 * the ctx is the tracepoint's record (its format file), read-only, aligned loads
 * below PERF_MAX_TRACE_SIZE; the first 8 bytes (the common fields pointer
 * slot) are refused. The kernel compares `off < sizeof(void *)` as unsigned, so
 * negative offsets pass that test and only meet `off >= PERF_MAX_TRACE_SIZE`:
 * the kernel accepts them, and so do we. tp_prog_func_proto: perf_event_output,
 * get_stackid, get_stack, get_attach_cookie, then bpf_tracing_func_proto. Any
 * return value.
 */
import { BPF_PROG_TYPE_TRACEPOINT, PERF_MAX_TRACE_SIZE } from "./constants.js";
import { defineProgType } from "./define.js";
import { TRACE_FUNCS } from "./funcs.js";
import { DENY, isPow2, SCALAR } from "./tracing-access.js";

export const tracepoint = defineProgType({
  id: BPF_PROG_TYPE_TRACEPOINT,
  name: "tracepoint",
  uapiName: "BPF_PROG_TYPE_TRACEPOINT",
  ctxStruct: "trace_event_raw_*",
  ctxSize: PERF_MAX_TRACE_SIZE,
  attachTypes: [0],
  isValidAccess: (off, size, write) =>
    !write && isPow2(size) && Number.isInteger(off) && (off < 0 || off >= 8) && off < PERF_MAX_TRACE_SIZE && off % size === 0 ? SCALAR : DENY,
  helpers: () => TRACE_FUNCS,
  returnRange: () => undefined,
  packetAccess: { read: false, write: false },
});
