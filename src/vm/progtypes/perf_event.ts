/**
 * BPF_PROG_TYPE_PERF_EVENT. kernel/trace/bpf_trace.c: pe_prog_is_valid_access —
 * read-only; regs (x86-64 pt_regs) as whole u64 words; sample_period and addr
 * allow narrow loads. pe_prog_func_proto: perf_event_output, get_stackid,
 * get_stack, perf_prog_read_value, read_branch_records, get_attach_cookie, then
 * bpf_tracing_func_proto. Any return value.
 */
import { accessRows, span } from "./access.js";
import { BPF_PERF_EVENT, BPF_PROG_TYPE_PERF_EVENT } from "./constants.js";
import { bpfPerfEventData } from "./ctx/bpf_perf_event_data.js";
import { ptRegs } from "./ctx/pt_regs.js";
import { defineProgType } from "./define.js";
import { helperSet, TRACE_FUNCS } from "./funcs.js";

const rows = accessRows(
  bpfPerfEventData,
  { regs_words: { read: "exact" }, sample_period: { read: "narrow" }, addr: { read: "narrow" } },
  [span("regs_words", 0, 8, ptRegs.size / 8)],
);
const helpers = helperSet(TRACE_FUNCS, [56, 119]);

export const perfEvent = defineProgType({
  id: BPF_PROG_TYPE_PERF_EVENT,
  name: "perf_event",
  uapiName: "BPF_PROG_TYPE_PERF_EVENT",
  ctxStruct: "bpf_perf_event_data",
  ctxSize: bpfPerfEventData.size,
  ctxLayout: bpfPerfEventData,
  attachTypes: [0, BPF_PERF_EVENT],
  access: () => rows,
  helpers: () => helpers,
  returnRange: () => undefined,
  packetAccess: { read: false, write: false },
});
