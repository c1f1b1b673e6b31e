/**
 * BPF_PROG_TYPE_SOCK_OPS. net/core/filter.c: sock_ops_is_valid_access (reply and
 * sk_txhash writable; u32 fields full-size; bytes_* u64; skb_data/skb_data_end
 * 64-bit packet pointers; sk a PTR_TO_SOCKET_OR_NULL; skb_tcp_flags narrow),
 * sock_ops_func_proto. Returns 0 or 1 (check_return_code). The packet pointers
 * are read through the ctx, not may_access_direct_pkt_data.
 */
import { accessRows, type FieldAccess } from "./access.js";
import { BPF_CGROUP_SOCK_OPS, BPF_PROG_TYPE_SOCK_OPS } from "./constants.js";
import { bpfSockOps } from "./ctx/bpf_sock_ops.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";

const e = { read: "exact" } as const satisfies FieldAccess;
const u32Fields = [
  "family", "remote_ip4", "local_ip4", "remote_ip6", "local_ip6", "remote_port", "local_port", "is_fullsock",
  "snd_cwnd", "srtt_us", "bpf_sock_ops_cb_flags", "state", "rtt_min", "snd_ssthresh", "rcv_nxt", "snd_nxt",
  "snd_una", "mss_cache", "ecn_flags", "rate_delivered", "rate_interval_us", "packets_out", "retrans_out",
  "total_retrans", "segs_in", "data_segs_in", "segs_out", "data_segs_out", "lost_out", "sacked_out",
];
const rows = accessRows(bpfSockOps, {
  op: e,
  reply: { read: "exact", write: "exact" },
  args: e,
  ...Object.fromEntries(u32Fields.map((n) => [n, e])),
  sk_txhash: { read: "exact", write: "exact" },
  bytes_received: e, bytes_acked: e,
  sk: { read: "exact", load: "sock_or_null" },
  skb_data: { read: "exact", load: "pkt" }, skb_data_end: { read: "exact", load: "pkt_end" },
  skb_len: e, skb_tcp_flags: { read: "narrowStart" }, skb_hwtstamp: e,
});
/** sock_ops_func_proto: setsockopt/getsockopt, sockmap updates, cb flags, header options, tcp_sock, sk storage. */
const helpers = helperSet(SK_BASE_FUNCS, [25, 46, 49, 53, 57, 59, 70, 81, 96, 107, 108, 122, 142, 143, 144]);

export const sockOps = defineProgType({
  id: BPF_PROG_TYPE_SOCK_OPS,
  name: "sock_ops",
  uapiName: "BPF_PROG_TYPE_SOCK_OPS",
  ctxStruct: "bpf_sock_ops",
  ctxSize: bpfSockOps.size,
  ctxLayout: bpfSockOps,
  attachTypes: [BPF_CGROUP_SOCK_OPS],
  access: () => rows,
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
