/**
 * __sk_buff access rules shared by the skb-based program types. The kernel's
 * bpf_skb_is_valid_access (net/core/filter.c) is the common core: u32 fields
 * allow narrow loads, cb[] any aligned access, data/data_end/data_meta and the
 * IPv4/IPv6 addresses full-size loads only, tstamp and hwtstamp u64 only, sk a
 * u64 load giving PTR_TO_SOCK_COMMON_OR_NULL. Each type then narrows the set
 * (sk_filter_is_valid_access, tc_cls_act_is_valid_access, cg_skb_is_valid_access,
 * lwt_is_valid_access, sk_skb_is_valid_access, flow_dissector_is_valid_access).
 */
import type { FieldAccess } from "./access.js";

export const r = { read: "narrow" } as const satisfies FieldAccess;
export const rw = { read: "narrow", write: "exact" } as const satisfies FieldAccess;
export const cbRw = { read: "any", write: "any" } as const satisfies FieldAccess;
export const cbR = { read: "any" } as const satisfies FieldAccess;
export const data = { read: "exact", load: "pkt" } as const satisfies FieldAccess;
export const dataEnd = { read: "exact", load: "pkt_end" } as const satisfies FieldAccess;
export const dataMeta = { read: "exact", load: "pkt_meta" } as const satisfies FieldAccess;
export const exactR = { read: "exact" } as const satisfies FieldAccess;
export const sk = { read: "exact", load: "sock_common_or_null" } as const satisfies FieldAccess;

/** len .. tc_index minus the ones a type makes writable: all narrow-readable. */
export const SKB_BASIC: Readonly<Record<string, FieldAccess>> = {
  len: r, pkt_type: r, mark: r, queue_mapping: r, protocol: r, vlan_present: r, vlan_tci: r,
  vlan_proto: r, priority: r, ingress_ifindex: r, ifindex: r, tc_index: r, cb: cbRw, hash: r,
};

/** The socket fields (family .. local_port) cgroup_skb and sk_skb may read. */
export const SKB_SOCK_FIELDS: Readonly<Record<string, FieldAccess>> = {
  family: r, remote_ip4: exactR, local_ip4: exactR, remote_ip6: exactR, local_ip6: exactR,
  remote_port: r, local_port: r,
};
