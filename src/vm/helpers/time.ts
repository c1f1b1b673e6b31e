/**
 * Clock helpers (kernel/bpf/helpers.c). Ids: include/uapi/linux/bpf.h, enum
 * bpf_func_id (checked against this kernel's BTF, /sys/kernel/btf/vmlinux).
 * The clocks are the host's (HostEnv), so tests can fix them.
 */
import type { HostEnv } from "../host.js";
import type { HelperDef } from "./abi.js";
import { def } from "./util.js";

export const BPF_FUNC_ktime_get_ns = 5;
export const BPF_FUNC_jiffies64 = 118;
export const BPF_FUNC_ktime_get_boot_ns = 125;
export const BPF_FUNC_ktime_get_coarse_ns = 160;
export const BPF_FUNC_ktime_get_tai_ns = 208;

export function timeHelpers(host: HostEnv): HelperDef[] {
  return [
    // ktime_get_mono_fast_ns(): CLOCK_MONOTONIC.
    def(BPF_FUNC_ktime_get_ns, (call) => call.ret(host.monotonicNs())),
    def(BPF_FUNC_jiffies64, (call) => call.ret(host.jiffies())),
    // ktime_get_boot_fast_ns(): CLOCK_BOOTTIME.
    def(BPF_FUNC_ktime_get_boot_ns, (call) => call.ret(host.bootNs())),
    // ktime_get_coarse_ns(): CLOCK_MONOTONIC at tick resolution.
    def(BPF_FUNC_ktime_get_coarse_ns, (call) => call.ret(host.coarseNs())),
    // ktime_get_tai_fast_ns(): CLOCK_TAI.
    def(BPF_FUNC_ktime_get_tai_ns, (call) => call.ret(host.taiNs())),
  ];
}
