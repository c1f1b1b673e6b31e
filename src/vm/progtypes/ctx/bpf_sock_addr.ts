/**
 * struct bpf_sock_addr, 72 bytes. The context of cgroup_sock_addr programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfSockAddr = layout("bpf_sock_addr", 72, [
  ["user_family", 0, 4, "__u32"],
  ["user_ip4", 4, 4, "__u32"],
  ["user_ip6", 8, 4, "__u32", 4],
  ["user_port", 24, 4, "__u32"],
  ["family", 28, 4, "__u32"],
  ["type", 32, 4, "__u32"],
  ["protocol", 36, 4, "__u32"],
  ["msg_src_ip4", 40, 4, "__u32"],
  ["msg_src_ip6", 44, 4, "__u32", 4],
  ["sk", 64, 8, "struct bpf_sock *"],
]);
