/**
 * BPF_PROG_TYPE_RAW_TRACEPOINT and RAW_TRACEPOINT_WRITABLE.
 * kernel/trace/bpf_trace.c: raw_tp_prog_is_valid_access — read-only aligned
 * loads inside u64 args[MAX_BPF_FUNC_ARGS] (96 bytes; the real bound is the
 * tracepoint's argument count, checked at attach); raw_tp_writable_prog_is_valid_access
 * makes args[0] a u64-only load of PTR_TO_TP_BUFFER (the writable buffer).
 * raw_tp_prog_func_proto: perf_event_output, get_stackid, get_stack,
 * get_attach_cookie, then bpf_tracing_func_proto. Any return value.
 */
import { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_TRACE_RAW_TP, MAX_BPF_FUNC_ARGS } from "./constants.js";
import { bpfRawTracepointArgs } from "./ctx/bpf_raw_tracepoint_args.js";
import { defineProgType } from "./define.js";
import { TRACE_FUNCS } from "./funcs.js";
import type { CtxAccessResult } from "./types.js";
import { DENY, isPow2, SCALAR } from "./tracing-access.js";

const ARGS_SIZE = 8 * MAX_BPF_FUNC_ARGS;

const rawAccess = (off: number, size: number, write: boolean): CtxAccessResult =>
  !write && isPow2(size) && off >= 0 && off + size <= ARGS_SIZE && off % size === 0 ? SCALAR : DENY;

const common = {
  ctxStruct: "bpf_raw_tracepoint_args",
  ctxSize: ARGS_SIZE,
  ctxLayout: bpfRawTracepointArgs,
  attachTypes: [0, BPF_TRACE_RAW_TP],
  helpers: () => TRACE_FUNCS,
  returnRange: () => undefined,
  packetAccess: { read: false, write: false },
} as const;

export const rawTracepoint = defineProgType({
  ...common,
  id: BPF_PROG_TYPE_RAW_TRACEPOINT,
  name: "raw_tracepoint",
  uapiName: "BPF_PROG_TYPE_RAW_TRACEPOINT",
  isValidAccess: rawAccess,
});

export const rawTracepointWritable = defineProgType({
  ...common,
  id: BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
  name: "raw_tracepoint_writable",
  uapiName: "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
  isValidAccess: (off, size, write) => {
    if (off === 0) return !write && size === 8 ? { ok: true, regType: "tp_buffer" } : DENY;
    return rawAccess(off, size, write);
  },
});
