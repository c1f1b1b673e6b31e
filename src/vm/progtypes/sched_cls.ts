/**
 * BPF_PROG_TYPE_SCHED_CLS (tc classifier, tcx, netkit). net/core/filter.c:
 * tc_cls_act_is_valid_access (writes to mark, queue_mapping, priority, tc_index,
 * cb, tc_classid, tstamp; packet pointers incl. data_meta; no socket fields),
 * tc_cls_act_func_proto. Any return value (TC_ACT_*). Direct packet read and write.
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_SCHED_ACT, BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_EGRESS, BPF_TCX_INGRESS, BPF_NETKIT_PRIMARY, BPF_NETKIT_PEER } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { data, dataEnd, dataMeta, r, rw, sk, SKB_BASIC } from "./skb-fields.js";

export const tcRows = accessRows(skBuff, {
  ...SKB_BASIC,
  mark: rw, queue_mapping: rw, priority: rw, tc_index: rw, tc_classid: rw,
  data, data_end: dataEnd, napi_id: r, data_meta: dataMeta,
  tstamp: { read: "exact", write: "exact" }, wire_len: r, gso_segs: r, sk, gso_size: r,
  // A u8 read only: tstamp_type is set through bpf_skb_set_tstamp.
  tstamp_type: { read: "exact" },
  hwtstamp: { read: "exact" },
});

/**
 * tc_cls_act_func_proto: skb_store_bytes, csum helpers, redirects, vlan, tunnel
 * keys/options, change_proto/type/tail/head, adjust_room, fib_lookup, socket
 * lookups (sk_lookup_*, skc_lookup_tcp, sk_release), sk_assign, syncookies,
 * check_mtu, tstamp, ... then bpf_sk_base_func_proto. get_cgroup_classid takes the skb here.
 */
export const tcHelpers = helperSet(SK_BASE_FUNCS, [
  9, 10, 11, 13, 18, 19, 20, 21, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 38, 39, 40, 41, 43, 46, 47, 48, 50,
  66, 68, 69, 79, 83, 84, 85, 86, 95, 96, 97, 98, 99, 100, 107, 108, 110, 122, 124, 135, 151, 152, 155, 163, 192,
  204, 205, 206, 207,
], { 17: {} });

const spec = {
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  access: () => tcRows,
  helpers: () => tcHelpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: true },
} as const;

export const schedCls = defineProgType({
  ...spec,
  id: BPF_PROG_TYPE_SCHED_CLS,
  name: "sched_cls",
  uapiName: "BPF_PROG_TYPE_SCHED_CLS",
  attachTypes: [0, BPF_TCX_INGRESS, BPF_TCX_EGRESS, BPF_NETKIT_PRIMARY, BPF_NETKIT_PEER],
});

/** BPF_PROG_TYPE_SCHED_ACT: tc actions share tc_cls_act_verifier_ops with classifiers. */
export const schedAct = defineProgType({
  ...spec,
  id: BPF_PROG_TYPE_SCHED_ACT,
  name: "sched_act",
  uapiName: "BPF_PROG_TYPE_SCHED_ACT",
  attachTypes: [0],
});
