/**
 * struct bpf_sk_lookup, 72 bytes. The context of sk_lookup programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfSkLookup = layout("bpf_sk_lookup", 72, [
  ["sk", 0, 8, "struct bpf_sock *"],
  ["cookie", 0, 8, "__u64"],
  ["family", 8, 4, "__u32"],
  ["protocol", 12, 4, "__u32"],
  ["remote_ip4", 16, 4, "__u32"],
  ["remote_ip6", 20, 4, "__u32", 4],
  ["remote_port", 36, 2, "__be16"],
  ["local_ip4", 40, 4, "__u32"],
  ["local_ip6", 44, 4, "__u32", 4],
  ["local_port", 60, 4, "__u32"],
  ["ingress_ifindex", 64, 4, "__u32"],
]);
