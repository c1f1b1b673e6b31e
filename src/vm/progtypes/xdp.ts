/**
 * BPF_PROG_TYPE_XDP. net/core/filter.c: xdp_is_valid_access (read-only; data,
 * data_end, data_meta give packet pointers; the other u32 fields full-size only;
 * egress_ifindex only for BPF_XDP_DEVMAP programs), xdp_func_proto. Any return
 * value (XDP_ABORTED..XDP_REDIRECT; unknown values act as XDP_ABORTED at run
 * time). Direct packet read and write.
 */
import { accessRows } from "./access.js";
import { BPF_PROG_TYPE_XDP, BPF_XDP, BPF_XDP_CPUMAP, BPF_XDP_DEVMAP } from "./constants.js";
import { xdpMd } from "./ctx/xdp_md.js";
import { anyReturn, defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";

const base = {
  data: { read: "exact", load: "pkt" },
  data_end: { read: "exact", load: "pkt_end" },
  data_meta: { read: "exact", load: "pkt_meta" },
  ingress_ifindex: { read: "exact" },
  rx_queue_index: { read: "exact" },
} as const;
const rows = accessRows(xdpMd, base);
const devmapRows = accessRows(xdpMd, { ...base, egress_ifindex: { read: "exact" } });

/**
 * xdp_func_proto: redirect(_map), adjust head/meta/tail, csum_diff, fib_lookup,
 * socket lookups, syncookies, check_mtu, buff_len, load/store bytes, perf output.
 */
const helpers = helperSet(SK_BASE_FUNCS, [23, 25, 28, 44, 51, 54, 65, 69, 84, 85, 86, 99, 100, 110, 163, 188, 189, 190, 204, 205, 206, 207]);

export const xdp = defineProgType({
  id: BPF_PROG_TYPE_XDP,
  name: "xdp",
  uapiName: "BPF_PROG_TYPE_XDP",
  ctxStruct: "xdp_md",
  ctxSize: xdpMd.size,
  ctxLayout: xdpMd,
  attachTypes: [0, BPF_XDP, BPF_XDP_DEVMAP, BPF_XDP_CPUMAP],
  access: (at) => (at === BPF_XDP_DEVMAP ? devmapRows : rows),
  helpers: () => helpers,
  returnRange: anyReturn,
  packetAccess: { read: true, write: true },
});
