/**
 * BPF_PROG_TYPE_LWT_IN / LWT_OUT / LWT_XMIT / LWT_SEG6LOCAL. net/core/filter.c:
 * lwt_is_valid_access (writes to mark, priority, cb; packet pointers; no
 * tc_classid, socket fields, data_meta or timestamps), lwt_out_func_proto and the
 * in/xmit/seg6local extensions (net/ipv6/seg6_local.c). Any return value
 * (BPF_OK, BPF_DROP, BPF_REDIRECT, BPF_LWT_REROUTE). Direct packet reads; lwt_xmit
 * may also write (may_access_direct_pkt_data).
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_LWT_IN, BPF_PROG_TYPE_LWT_OUT, BPF_PROG_TYPE_LWT_SEG6LOCAL, BPF_PROG_TYPE_LWT_XMIT } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { data, dataEnd, r, rw, sk, SKB_BASIC } from "./skb-fields.js";

const rows = accessRows(skBuff, { ...SKB_BASIC, mark: rw, priority: rw, data, data_end: dataEnd, napi_id: r, gso_segs: r, sk, gso_size: r });

/** lwt_out_func_proto: skb_load_bytes, pull_data, csum_diff, cgroup classid (skb), route realm, hash, under_cgroup, perf output. */
const outHelpers = helperSet(SK_BASE_FUNCS, [24, 25, 26, 28, 33, 34, 39], { 17: {} });
/** lwt_in_func_proto: + lwt_push_encap. */
const inHelpers = helperSet(outHelpers, [73]);
/** lwt_xmit_func_proto: + redirects, store_bytes, csums, tunnel keys/opts, change_tail/head, csum_level. */
const xmitHelpers = helperSet(outHelpers, [9, 10, 11, 13, 20, 21, 23, 29, 30, 38, 40, 41, 43, 73, 135]);
/** lwt_seg6local_func_proto (net/core/filter.c): + lwt_seg6_store_bytes / adjust_srh / action. */
const seg6Helpers = helperSet(outHelpers, [74, 75, 76]);

const common = {
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  attachTypes: [0],
  access: () => rows,
  returnRange: anyReturn,
} as const;

export const lwtIn = defineProgType({ ...common, id: BPF_PROG_TYPE_LWT_IN, name: "lwt_in", uapiName: "BPF_PROG_TYPE_LWT_IN", helpers: () => inHelpers, packetAccess: { read: true, write: false } });
export const lwtOut = defineProgType({ ...common, id: BPF_PROG_TYPE_LWT_OUT, name: "lwt_out", uapiName: "BPF_PROG_TYPE_LWT_OUT", helpers: () => outHelpers, packetAccess: { read: true, write: false } });
export const lwtXmit = defineProgType({ ...common, id: BPF_PROG_TYPE_LWT_XMIT, name: "lwt_xmit", uapiName: "BPF_PROG_TYPE_LWT_XMIT", helpers: () => xmitHelpers, packetAccess: { read: true, write: true } });
export const lwtSeg6local = defineProgType({ ...common, id: BPF_PROG_TYPE_LWT_SEG6LOCAL, name: "lwt_seg6local", uapiName: "BPF_PROG_TYPE_LWT_SEG6LOCAL", helpers: () => seg6Helpers, packetAccess: { read: true, write: false } });
