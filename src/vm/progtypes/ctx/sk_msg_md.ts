/**
 * struct sk_msg_md, 80 bytes. The context of sk_msg programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const skMsgMd = layout("sk_msg_md", 80, [
  ["data", 0, 8, "void *"],
  ["data_end", 8, 8, "void *"],
  ["family", 16, 4, "__u32"],
  ["remote_ip4", 20, 4, "__u32"],
  ["local_ip4", 24, 4, "__u32"],
  ["remote_ip6", 28, 4, "__u32", 4],
  ["local_ip6", 44, 4, "__u32", 4],
  ["remote_port", 60, 4, "__u32"],
  ["local_port", 64, 4, "__u32"],
  ["size", 68, 4, "__u32"],
  ["sk", 72, 8, "struct bpf_sock *"],
]);
