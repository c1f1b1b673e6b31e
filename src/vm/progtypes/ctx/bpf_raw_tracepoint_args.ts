/**
 * struct bpf_raw_tracepoint_args, 0 bytes. The context of raw_tracepoint programs: __u64 args[], as many as the tracepoint has (at most MAX_BPF_FUNC_ARGS = 12).
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfRawTracepointArgs = layout("bpf_raw_tracepoint_args", 0, [
  ["args", 0, 8, "__u64", 0],
]);
