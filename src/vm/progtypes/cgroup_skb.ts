/**
 * BPF_PROG_TYPE_CGROUP_SKB. net/core/filter.c: cg_skb_is_valid_access (socket
 * fields readable; writes to mark, priority, cb and, with CAP_SYS_ADMIN, tstamp;
 * no tc_classid, data_meta or wire_len), cg_skb_func_proto. Returns 0/1 on
 * ingress; egress may also return 2/3 (congestion notification bit), per
 * check_return_code in kernel/bpf/verifier.c. Direct packet reads only.
 */
import { accessRows } from "./access.js";
import { BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_INGRESS, BPF_PROG_TYPE_CGROUP_SKB } from "./constants.js";
import { skBuff } from "./ctx/sk_buff.js";
import { defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";
import { data, dataEnd, r, rw, sk, SKB_BASIC, SKB_SOCK_FIELDS } from "./skb-fields.js";

const rows = accessRows(skBuff, {
  ...SKB_BASIC, mark: rw, priority: rw,
  data, data_end: dataEnd, napi_id: r, ...SKB_SOCK_FIELDS,
  tstamp: { read: "exact", write: "exact" }, gso_segs: r, sk, gso_size: r, hwtstamp: { read: "exact" },
});

/** cg_skb_func_proto: get_local_storage, socket lookups and casts, cgroup ids, sk storage, ecn. */
const helpers = helperSet(SK_BASE_FUNCS, [25, 26, 46, 47, 68, 79, 81, 83, 84, 85, 86, 95, 96, 97, 98, 99, 107, 108, 122, 128, 129]);

export const cgroupSkb = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_SKB,
  name: "cgroup_skb",
  uapiName: "BPF_PROG_TYPE_CGROUP_SKB",
  ctxStruct: "__sk_buff",
  ctxSize: skBuff.size,
  ctxLayout: skBuff,
  attachTypes: [BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS],
  access: () => rows,
  helpers: () => helpers,
  returnRange: (at) => (at === BPF_CGROUP_INET_EGRESS ? [0, 3] : [0, 1]),
  packetAccess: { read: true, write: false },
});
