/**
 * struct bpf_flow_keys, 56 bytes. What __sk_buff.flow_keys points to in flow dissector programs (PTR_TO_FLOW_KEYS).
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfFlowKeys = layout("bpf_flow_keys", 56, [
  ["nhoff", 0, 2, "__u16"],
  ["thoff", 2, 2, "__u16"],
  ["addr_proto", 4, 2, "__u16"],
  ["is_frag", 6, 1, "__u8"],
  ["is_first_frag", 7, 1, "__u8"],
  ["is_encap", 8, 1, "__u8"],
  ["ip_proto", 9, 1, "__u8"],
  ["n_proto", 10, 2, "__be16"],
  ["sport", 12, 2, "__be16"],
  ["dport", 14, 2, "__be16"],
  ["ipv4_src", 16, 4, "__be32"],
  ["ipv4_dst", 20, 4, "__be32"],
  ["ipv6_src", 16, 4, "__u32", 4],
  ["ipv6_dst", 32, 4, "__u32", 4],
  ["flags", 48, 4, "__u32"],
  ["flow_label", 52, 4, "__be32"],
]);
