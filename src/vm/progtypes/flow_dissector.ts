/**
 * BPF_PROG_TYPE_FLOW_DISSECTOR. net/core/filter.c: flow_dissector_is_valid_access
 * (only data, data_end and flow_keys, read-only; flow_keys gives PTR_TO_FLOW_KEYS,
 * a struct bpf_flow_keys the program fills), flow_dissector_func_proto
 * (skb_load_bytes, then bpf_sk_base_func_proto). Any return value (BPF_OK,
 * BPF_DROP, BPF_FLOW_DISSECTOR_CONTINUE). Direct packet reads only.
 */
import { accessRows } from "./access.js";
import { BPF_FLOW_DISSECTOR, BPF_PROG_TYPE_FLOW_DISSECTOR } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { data, dataEnd } from "./skb-fields.js";

const rows = accessRows(skBuff, { data, data_end: dataEnd, flow_keys: { read: "exact", load: "flow_keys" } });
const helpers = helperSet(SK_BASE_FUNCS, [26]);

export const flowDissector = defineProgType({
  id: BPF_PROG_TYPE_FLOW_DISSECTOR,
  name: "flow_dissector",
  uapiName: "BPF_PROG_TYPE_FLOW_DISSECTOR",
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  attachTypes: [BPF_FLOW_DISSECTOR],
  access: () => rows,
  helpers: () => helpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: false },
});
