/**
 * BPF_PROG_TYPE_SK_SKB (sockmap stream parser / verdict). net/core/filter.c:
 * sk_skb_is_valid_access (cb[] read-only, writes to priority and tc_index, no
 * mark, tc_classid, data_meta or timestamps; socket fields readable),
 * sk_skb_func_proto. Any return value (SK_PASS/SK_DROP; the parser returns a
 * length). Direct packet read and write.
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, BPF_SK_SKB_STREAM_VERDICT, BPF_SK_SKB_VERDICT } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { cbR, data, dataEnd, r, rw, sk, SKB_BASIC, SKB_SOCK_FIELDS } from "./skb-fields.js";

const { mark: _mark, ...basicNoMark } = SKB_BASIC;
void _mark;
const rows = accessRows(skBuff, {
  ...basicNoMark, cb: cbR, priority: rw, tc_index: rw,
  data, data_end: dataEnd, napi_id: r, ...SKB_SOCK_FIELDS, gso_segs: r, sk, gso_size: r,
});

/** sk_skb_func_proto: store/load bytes, pull, change tail/head, adjust_room, sk_redirect_map/hash, socket lookups. */
const helpers = helperSet(SK_BASE_FUNCS, [9, 25, 26, 38, 39, 43, 46, 47, 50, 52, 72, 84, 85, 86, 99]);

export const skSkb = defineProgType({
  id: BPF_PROG_TYPE_SK_SKB,
  name: "sk_skb",
  uapiName: "BPF_PROG_TYPE_SK_SKB",
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  attachTypes: [BPF_SK_SKB_STREAM_PARSER, BPF_SK_SKB_STREAM_VERDICT, BPF_SK_SKB_VERDICT],
  access: () => rows,
  helpers: () => helpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: true },
});
