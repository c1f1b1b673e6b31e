/** BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: defined beside raw_tracepoint, whose rules it extends. */
export { rawTracepointWritable } from "./raw_tracepoint.js";
