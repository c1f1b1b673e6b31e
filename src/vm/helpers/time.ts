/**
 * Clock helpers (kernel/bpf/helpers.c). Ids: include/uapi/linux/bpf.h, enum
 * bpf_func_id (checked against this kernel's BTF, /sys/kernel/btf/vmlinux).
 * The clocks are the host's (HostEnv), so tests can fix them.
 */
import type { HostEnv } from "../host.js";
import type { DirectHelper, HelperDef } from "./abi.js";
import { def } from "./util.js";

export const BPF_FUNC_ktime_get_ns = 5;
export const BPF_FUNC_jiffies64 = 118;
export const BPF_FUNC_ktime_get_boot_ns = 125;
export const BPF_FUNC_ktime_get_coarse_ns = 160;
export const BPF_FUNC_ktime_get_tai_ns = 208;

/** A clock helper and its direct form: no arguments, the reading as r0. */
function clock(id: number, read: () => number): HelperDef {
  const direct: DirectHelper = { args: [], result: "i53", fn: read };
  return def(id, (call) => call.ret(read()), () => direct);
}

export function timeHelpers(host: HostEnv): HelperDef[] {
  return [
    // ktime_get_mono_fast_ns(): CLOCK_MONOTONIC.
    clock(BPF_FUNC_ktime_get_ns, () => host.monotonicNs()),
    clock(BPF_FUNC_jiffies64, () => host.jiffies()),
    // ktime_get_boot_fast_ns(): CLOCK_BOOTTIME.
    clock(BPF_FUNC_ktime_get_boot_ns, () => host.bootNs()),
    // ktime_get_coarse_ns(): CLOCK_MONOTONIC at tick resolution.
    clock(BPF_FUNC_ktime_get_coarse_ns, () => host.coarseNs()),
    // ktime_get_tai_fast_ns(): CLOCK_TAI.
    clock(BPF_FUNC_ktime_get_tai_ns, () => host.taiNs()),
  ];
}
