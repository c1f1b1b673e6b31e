/**
 * struct bpf_sysctl, 8 bytes. The context of cgroup_sysctl programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfSysctl = layout("bpf_sysctl", 8, [
  ["write", 0, 4, "__u32"],
  ["file_pos", 4, 4, "__u32"],
]);
