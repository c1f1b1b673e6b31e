/**
 * struct bpf_perf_event_data, 184 bytes. The context of perf_event programs (regs is x86-64 struct pt_regs).
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfPerfEventData = layout("bpf_perf_event_data", 184, [
  ["regs", 0, 168, "bpf_user_pt_regs_t"],
  ["sample_period", 168, 8, "__u64"],
  ["addr", 176, 8, "__u64"],
]);
