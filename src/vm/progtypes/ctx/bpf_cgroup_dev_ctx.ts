/**
 * struct bpf_cgroup_dev_ctx, 12 bytes. The context of cgroup_device programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfCgroupDevCtx = layout("bpf_cgroup_dev_ctx", 12, [
  ["access_type", 0, 4, "__u32"],
  ["major", 4, 4, "__u32"],
  ["minor", 8, 4, "__u32"],
]);
