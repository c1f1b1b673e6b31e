/**
 * BPF_PROG_TYPE_CGROUP_SOCKOPT. kernel/bpf/cgroup.c: cg_sockopt_is_valid_access
 * (sk a PTR_TO_SOCKET; optval/optval_end packet pointers over the option buffer;
 * getsockopt may write optlen and retval, setsockopt level, optname and optlen
 * and cannot see retval), cg_sockopt_func_proto (setsockopt/getsockopt on the
 * BTF socket only from setsockopt hooks). Returns 0 or 1. Direct access to
 * optval: read and write (may_access_direct_pkt_data).
 */
import { accessRows } from "./access.js";
import { BPF_CGROUP_GETSOCKOPT, BPF_CGROUP_SETSOCKOPT, BPF_PROG_TYPE_CGROUP_SOCKOPT } from "./constants.js";
import { bpfSockopt } from "./ctx/bpf_sockopt.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { BASE_FUNCS, CGROUP_COMMON, helperSet } from "./funcs.js";

const ptrs = {
  sk: { read: "exact", load: "sock" },
  optval: { read: "exact", load: "pkt" },
  optval_end: { read: "exact", load: "pkt_end" },
} as const;
const rw = { read: "exact", write: "exact" } as const;
const getRows = accessRows(bpfSockopt, { ...ptrs, level: { read: "exact" }, optname: { read: "exact" }, optlen: rw, retval: rw });
const setRows = accessRows(bpfSockopt, { ...ptrs, level: rw, optname: rw, optlen: rw });
const helpers = helperSet(BASE_FUNCS, [25, 96, 107, 108, 122, ...CGROUP_COMMON], {
  49: { variant: "sk", attach: [BPF_CGROUP_SETSOCKOPT] },
  57: { variant: "sk", attach: [BPF_CGROUP_SETSOCKOPT] },
});

export const cgroupSockopt = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_SOCKOPT,
  name: "cgroup_sockopt",
  uapiName: "BPF_PROG_TYPE_CGROUP_SOCKOPT",
  ctxStruct: "bpf_sockopt",
  ctxSize: bpfSockopt.size,
  ctxLayout: bpfSockopt,
  attachTypes: [BPF_CGROUP_GETSOCKOPT, BPF_CGROUP_SETSOCKOPT],
  access: (at) => (at === BPF_CGROUP_SETSOCKOPT ? setRows : getRows),
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: true, write: true },
});
