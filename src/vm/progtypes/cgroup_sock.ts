/**
 * BPF_PROG_TYPE_CGROUP_SOCK. net/core/filter.c: sock_filter_is_valid_access and
 * bpf_sock_is_valid_access: on sock create/release, bound_dev_if, mark and
 * priority are readable and writable (u32 only); on post_bind4/6 the source
 * address and port are readable instead; dst_port (__be16) also reads as a u32;
 * family, type, protocol, state, rx_queue_mapping and src_port allow narrow
 * loads only at the field's first byte.
 * sock_filter_func_proto: the ctx-taking sk_storage_get variant, cookies,
 * get_local_storage, get/set_retval. Returns 0 or 1 (check_return_code).
 */
import { accessRows, type FieldAccess } from "./access.js";
import {
  BPF_CGROUP_INET4_POST_BIND, BPF_CGROUP_INET6_POST_BIND, BPF_CGROUP_INET_SOCK_CREATE,
  BPF_CGROUP_INET_SOCK_RELEASE, BPF_PROG_TYPE_CGROUP_SOCK,
} from "./constants.js";
import { bpfSock } from "./ctx/bpf_sock.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { BASE_FUNCS, CGROUP_COMMON, helperSet } from "./funcs.js";

const r = { read: "narrow" } as const satisfies FieldAccess;
/** family, type, protocol, state, rx_queue_mapping, src_port: narrow loads only at the field's start. */
const rs = { read: "narrowStart" } as const satisfies FieldAccess;
const common: Readonly<Record<string, FieldAccess>> = {
  family: rs, type: rs, protocol: rs, dst_port: { read: { narrowOr: 4 } }, dst_ip4: r, dst_ip6: r, state: rs, rx_queue_mapping: rs,
};
const rw = { read: "exact", write: "exact" } as const satisfies FieldAccess;
const createRows = accessRows(bpfSock, { bound_dev_if: rw, mark: rw, priority: rw, ...common });
const postBind4Rows = accessRows(bpfSock, { ...common, src_ip4: r, src_port: rs });
const postBind6Rows = accessRows(bpfSock, { ...common, src_ip6: r, src_port: rs });

const helpers = helperSet(BASE_FUNCS, [25, 46, 122, 160, ...CGROUP_COMMON], { 107: { variant: "cg_sock" } });

export const cgroupSock = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_SOCK,
  name: "cgroup_sock",
  uapiName: "BPF_PROG_TYPE_CGROUP_SOCK",
  ctxStruct: "bpf_sock",
  ctxSize: bpfSock.size,
  ctxLayout: bpfSock,
  attachTypes: [BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_INET_SOCK_RELEASE, BPF_CGROUP_INET4_POST_BIND, BPF_CGROUP_INET6_POST_BIND],
  access: (at) => (at === BPF_CGROUP_INET4_POST_BIND ? postBind4Rows : at === BPF_CGROUP_INET6_POST_BIND ? postBind6Rows : createRows),
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
