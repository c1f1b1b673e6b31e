/**
 * BPF_PROG_TYPE_CGROUP_SOCK_ADDR. net/core/filter.c: sock_addr_is_valid_access —
 * user_ip4 for the IPv4 hooks, user_ip6 (also as u64 pairs) for the IPv6 hooks,
 * msg_src_ip4/6 for the UDP sendmsg hooks, none of them for AF_UNIX hooks;
 * user_port everywhere; family/type/protocol read-only u32; sk a PTR_TO_SOCKET.
 * sock_addr_func_proto: bind only from connect hooks; get/set_retval not from the
 * recvmsg/getpeername/getsockname hooks (cgroup_common_func_proto).
 * check_return_code: recvmsg, getpeername, getsockname hooks must return 1; bind
 * hooks 0..3; the rest 0 or 1.
 */
import { accessRows, type FieldAccess } from "./access.js";
import {
  BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET4_GETSOCKNAME,
  BPF_CGROUP_INET6_BIND, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_INET6_GETSOCKNAME,
  BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_RECVMSG, BPF_CGROUP_UDP6_SENDMSG,
  BPF_CGROUP_UNIX_CONNECT, BPF_CGROUP_UNIX_GETPEERNAME, BPF_CGROUP_UNIX_GETSOCKNAME, BPF_CGROUP_UNIX_RECVMSG,
  BPF_CGROUP_UNIX_SENDMSG, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
} from "./constants.js";
import { bpfSockAddr } from "./ctx/bpf_sock_addr.js";
import { defineProgType } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";

const INET4 = [BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET4_GETSOCKNAME];
const INET6 = [BPF_CGROUP_INET6_BIND, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_UDP6_RECVMSG, BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_INET6_GETSOCKNAME];
const UNIX = [BPF_CGROUP_UNIX_CONNECT, BPF_CGROUP_UNIX_SENDMSG, BPF_CGROUP_UNIX_RECVMSG, BPF_CGROUP_UNIX_GETPEERNAME, BPF_CGROUP_UNIX_GETSOCKNAME];
/** Hooks that run after the address is known and must return 1. */
const MUST_RETURN_ONE = [
  BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_UDP6_RECVMSG, BPF_CGROUP_UNIX_RECVMSG,
  BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_UNIX_GETPEERNAME,
  BPF_CGROUP_INET4_GETSOCKNAME, BPF_CGROUP_INET6_GETSOCKNAME, BPF_CGROUP_UNIX_GETSOCKNAME,
];

const addr4 = { read: "narrow", write: "exact" } as const satisfies FieldAccess;
const addr6 = { read: "any", write: "wide" } as const satisfies FieldAccess;
const r4 = { read: "exact" } as const satisfies FieldAccess;
const always: Readonly<Record<string, FieldAccess>> = {
  user_family: r4, user_port: addr4, family: r4, type: r4, protocol: r4, sk: { read: "exact", load: "sock" },
};

function rowsFor(at: number) {
  const extra: Record<string, FieldAccess> = {};
  if (INET4.includes(at)) extra.user_ip4 = addr4;
  if (INET6.includes(at)) extra.user_ip6 = addr6;
  if (at === BPF_CGROUP_UDP4_SENDMSG) extra.msg_src_ip4 = addr4;
  if (at === BPF_CGROUP_UDP6_SENDMSG) extra.msg_src_ip6 = addr6;
  return accessRows(bpfSockAddr, { ...always, ...extra });
}

const helpers = helperSet(SK_BASE_FUNCS, [25, 46, 49, 57, 81, 84, 85, 86, 99, 107, 108, 122], {
  64: { attach: [BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT] },
  186: { notAttach: MUST_RETURN_ONE },
  187: { notAttach: MUST_RETURN_ONE },
});

export const cgroupSockAddr = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
  name: "cgroup_sock_addr",
  uapiName: "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
  ctxStruct: "bpf_sock_addr",
  ctxSize: bpfSockAddr.size,
  ctxLayout: bpfSockAddr,
  attachTypes: [...INET4, ...INET6, ...UNIX].sort((a, b) => a - b),
  access: rowsFor,
  helpers: () => helpers,
  returnRange: (at) =>
    MUST_RETURN_ONE.includes(at) ? [1, 1] : at === BPF_CGROUP_INET4_BIND || at === BPF_CGROUP_INET6_BIND ? [0, 3] : [0, 1],
  packetAccess: { read: false, write: false },
});
