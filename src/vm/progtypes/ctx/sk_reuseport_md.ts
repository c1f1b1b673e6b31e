/**
 * struct sk_reuseport_md, 56 bytes. The context of sk_reuseport programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const skReuseportMd = layout("sk_reuseport_md", 56, [
  ["data", 0, 8, "void *"],
  ["data_end", 8, 8, "void *"],
  ["len", 16, 4, "__u32"],
  ["eth_protocol", 20, 4, "__u32"],
  ["ip_protocol", 24, 4, "__u32"],
  ["bind_inany", 28, 4, "__u32"],
  ["hash", 32, 4, "__u32"],
  ["sk", 40, 8, "struct bpf_sock *"],
  ["migrating_sk", 48, 8, "struct bpf_sock *"],
]);
