/**
 * BPF_PROG_TYPE_SOCKET_FILTER. net/core/filter.c: sk_filter_is_valid_access
 * (no packet pointers, no tc_classid, no socket fields, no timestamps; writes
 * only to cb[]), sk_filter_func_proto (skb_load_bytes(_relative), socket
 * cookie/uid, perf_event_output, netns cookie, then bpf_sk_base_func_proto).
 * Any return value (the kernel truncates it to a packet length).
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_SOCKET_FILTER } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { r, sk, SKB_BASIC } from "./skb-fields.js";

const rows = accessRows(skBuff, { ...SKB_BASIC, napi_id: r, gso_segs: r, sk, gso_size: r });
const helpers = helperSet(SK_BASE_FUNCS, [25, 26, 46, 47, 68, 122]);

export const socketFilter = defineProgType({
  id: BPF_PROG_TYPE_SOCKET_FILTER,
  name: "socket_filter",
  uapiName: "BPF_PROG_TYPE_SOCKET_FILTER",
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  attachTypes: [0],
  access: () => rows,
  helpers: () => helpers,
  returnRange: anyReturn,
  // may_access_direct_pkt_data (kernel/bpf/verifier.c) has no case for socket filters.
  packetAccess: { read: false, write: false },
});
