/**
 * BPF_PROG_TYPE_SK_REUSEPORT. net/core/filter.c: sk_reuseport_is_valid_access
 * (read-only; data/data_end packet pointers; eth_protocol at least a u16; hash a
 * full u32; sk a PTR_TO_SOCKET; migrating_sk a PTR_TO_SOCK_COMMON_OR_NULL),
 * sk_reuseport_func_proto (sk_select_reuseport, its own skb_load_bytes(_relative),
 * the BTF-socket get_socket_cookie, then bpf_base_func_proto). Any return value
 * (SK_PASS/SK_DROP). Direct packet reads only.
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE } from "./constants.js";
import { skReuseportMd } from "./ctx/sk_reuseport_md.js";
import { anyReturn, defineProgType } from "./define.js";
import { BASE_FUNCS, helperSet } from "./funcs.js";

const rows = accessRows(skReuseportMd, {
  data: { read: "exact", load: "pkt" }, data_end: { read: "exact", load: "pkt_end" },
  len: { read: "narrow" }, eth_protocol: { read: { narrowMin: 2 } }, ip_protocol: { read: "narrow" },
  bind_inany: { read: "narrow" }, hash: { read: "exact" },
  sk: { read: "exact", load: "sock" }, migrating_sk: { read: "exact", load: "sock_common_or_null" },
});
const helpers = helperSet(BASE_FUNCS, [26, 68, 82, 160], { 46: { variant: "ptr" } });

export const skReuseport = defineProgType({
  id: BPF_PROG_TYPE_SK_REUSEPORT,
  name: "sk_reuseport",
  uapiName: "BPF_PROG_TYPE_SK_REUSEPORT",
  ctxStruct: "sk_reuseport_md",
  ctxSize: skReuseportMd.size,
  ctxLayout: skReuseportMd,
  attachTypes: [BPF_SK_REUSEPORT_SELECT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE],
  access: () => rows,
  helpers: () => helpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: false },
});
