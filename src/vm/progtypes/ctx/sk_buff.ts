/**
 * struct __sk_buff, 192 bytes. The context of socket filter, tc (sched_cls/sched_act), cgroup_skb, lwt_*, sk_skb and flow dissector programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const skBuff = layout("__sk_buff", 192, [
  ["len", 0, 4, "__u32"],
  ["pkt_type", 4, 4, "__u32"],
  ["mark", 8, 4, "__u32"],
  ["queue_mapping", 12, 4, "__u32"],
  ["protocol", 16, 4, "__u32"],
  ["vlan_present", 20, 4, "__u32"],
  ["vlan_tci", 24, 4, "__u32"],
  ["vlan_proto", 28, 4, "__u32"],
  ["priority", 32, 4, "__u32"],
  ["ingress_ifindex", 36, 4, "__u32"],
  ["ifindex", 40, 4, "__u32"],
  ["tc_index", 44, 4, "__u32"],
  ["cb", 48, 4, "__u32", 5],
  ["hash", 68, 4, "__u32"],
  ["tc_classid", 72, 4, "__u32"],
  ["data", 76, 4, "__u32"],
  ["data_end", 80, 4, "__u32"],
  ["napi_id", 84, 4, "__u32"],
  ["family", 88, 4, "__u32"],
  ["remote_ip4", 92, 4, "__u32"],
  ["local_ip4", 96, 4, "__u32"],
  ["remote_ip6", 100, 4, "__u32", 4],
  ["local_ip6", 116, 4, "__u32", 4],
  ["remote_port", 132, 4, "__u32"],
  ["local_port", 136, 4, "__u32"],
  ["data_meta", 140, 4, "__u32"],
  ["flow_keys", 144, 8, "struct bpf_flow_keys *"],
  ["tstamp", 152, 8, "__u64"],
  ["wire_len", 160, 4, "__u32"],
  ["gso_segs", 164, 4, "__u32"],
  ["sk", 168, 8, "struct bpf_sock *"],
  ["gso_size", 176, 4, "__u32"],
  ["tstamp_type", 180, 1, "__u8"],
  ["hwtstamp", 184, 8, "__u64"],
], ["data", "data_end", "data_meta"]);
