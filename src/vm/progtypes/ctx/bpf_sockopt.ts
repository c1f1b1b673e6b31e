/**
 * struct bpf_sockopt, 40 bytes. The context of cgroup_sockopt programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfSockopt = layout("bpf_sockopt", 40, [
  ["sk", 0, 8, "struct bpf_sock *"],
  ["optval", 8, 8, "void *"],
  ["optval_end", 16, 8, "void *"],
  ["level", 24, 4, "__s32"],
  ["optname", 28, 4, "__s32"],
  ["optlen", 32, 4, "__s32"],
  ["retval", 36, 4, "__s32"],
]);
