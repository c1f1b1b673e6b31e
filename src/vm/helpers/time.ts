/**
 * Clock helpers. Ids: include/uapi/linux/bpf.h, enum bpf_func_id (checked
 * against this kernel's BTF, /sys/kernel/btf/vmlinux).
 */
import type { HostEnv } from "../host.js";
import type { HelperDef } from "./abi.js";
import { ret } from "./proto.js";

export const BPF_FUNC_ktime_get_ns = 5;
export const BPF_FUNC_jiffies64 = 118;
export const BPF_FUNC_ktime_get_boot_ns = 125;
export const BPF_FUNC_ktime_get_coarse_ns = 160;
export const BPF_FUNC_ktime_get_tai_ns = 208;

const clock = (id: number, name: string, read: () => number): HelperDef => ({
  id,
  name,
  proto: { args: [], ret: ret.integer },
  fn: (call) => call.ret(read()),
});

export function timeHelpers(host: HostEnv): HelperDef[] {
  return [
    clock(BPF_FUNC_ktime_get_ns, "ktime_get_ns", () => host.monotonicNs()),
    clock(BPF_FUNC_jiffies64, "jiffies64", () => host.jiffies()),
    clock(BPF_FUNC_ktime_get_boot_ns, "ktime_get_boot_ns", () => host.bootNs()),
    clock(BPF_FUNC_ktime_get_coarse_ns, "ktime_get_coarse_ns", () => host.coarseNs()),
    clock(BPF_FUNC_ktime_get_tai_ns, "ktime_get_tai_ns", () => host.taiNs()),
  ];
}
