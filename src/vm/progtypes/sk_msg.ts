/**
 * BPF_PROG_TYPE_SK_MSG. net/core/filter.c: sk_msg_is_valid_access (read-only;
 * data/data_end are 64-bit packet pointers; u32 fields full-size only; sk a
 * PTR_TO_SOCKET), sk_msg_func_proto (msg_* helpers, redirects, sk storage).
 * Any return value (SK_PASS/SK_DROP). Direct packet read and write.
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT } from "./constants.js";
import { skMsgMd } from "./ctx/sk_msg_md.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";

const e = { read: "exact" } as const;
const rows = accessRows(skMsgMd, {
  data: { read: "exact", load: "pkt" }, data_end: { read: "exact", load: "pkt_end" },
  family: e, remote_ip4: e, local_ip4: e, remote_ip6: e, local_ip6: e, remote_port: e, local_port: e, size: e,
  sk: { read: "exact", load: "sock" },
});
const helpers = helperSet(SK_BASE_FUNCS, [25, 60, 61, 62, 63, 71, 90, 91, 107, 108, 122]);

export const skMsg = defineProgType({
  id: BPF_PROG_TYPE_SK_MSG,
  name: "sk_msg",
  uapiName: "BPF_PROG_TYPE_SK_MSG",
  ctxStruct: "sk_msg_md",
  ctxSize: skMsgMd.size,
  ctxLayout: skMsgMd,
  attachTypes: [BPF_SK_MSG_VERDICT],
  access: () => rows,
  helpers: () => helpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: true },
});
