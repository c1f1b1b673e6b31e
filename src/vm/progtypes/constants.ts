/**
 * Program types and attach types. include/uapi/linux/bpf.h, enum bpf_prog_type and
 * enum bpf_attach_type (Linux 6.18), checked against the running kernel's BTF in
 * test/vm/progtypes/constants.test.ts.
 */

export const BPF_PROG_TYPE_UNSPEC = 0;
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_SCHED_ACT = 4;
export const BPF_PROG_TYPE_TRACEPOINT = 5;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_PROG_TYPE_PERF_EVENT = 7;
export const BPF_PROG_TYPE_CGROUP_SKB = 8;
export const BPF_PROG_TYPE_CGROUP_SOCK = 9;
export const BPF_PROG_TYPE_LWT_IN = 10;
export const BPF_PROG_TYPE_LWT_OUT = 11;
export const BPF_PROG_TYPE_LWT_XMIT = 12;
export const BPF_PROG_TYPE_SOCK_OPS = 13;
export const BPF_PROG_TYPE_SK_SKB = 14;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_PROG_TYPE_SK_MSG = 16;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18;
export const BPF_PROG_TYPE_LWT_SEG6LOCAL = 19;
export const BPF_PROG_TYPE_LIRC_MODE2 = 20;
export const BPF_PROG_TYPE_SK_REUSEPORT = 21;
export const BPF_PROG_TYPE_FLOW_DISSECTOR = 22;
export const BPF_PROG_TYPE_CGROUP_SYSCTL = 23;
export const BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24;
export const BPF_PROG_TYPE_CGROUP_SOCKOPT = 25;
export const BPF_PROG_TYPE_TRACING = 26;
export const BPF_PROG_TYPE_STRUCT_OPS = 27;
export const BPF_PROG_TYPE_EXT = 28;
export const BPF_PROG_TYPE_LSM = 29;
export const BPF_PROG_TYPE_SK_LOOKUP = 30;
export const BPF_PROG_TYPE_SYSCALL = 31;
export const BPF_PROG_TYPE_NETFILTER = 32;

export const BPF_CGROUP_INET_INGRESS = 0;
export const BPF_CGROUP_INET_EGRESS = 1;
export const BPF_CGROUP_INET_SOCK_CREATE = 2;
export const BPF_CGROUP_SOCK_OPS = 3;
export const BPF_SK_SKB_STREAM_PARSER = 4;
export const BPF_SK_SKB_STREAM_VERDICT = 5;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_SK_MSG_VERDICT = 7;
export const BPF_CGROUP_INET4_BIND = 8;
export const BPF_CGROUP_INET6_BIND = 9;
export const BPF_CGROUP_INET4_CONNECT = 10;
export const BPF_CGROUP_INET6_CONNECT = 11;
export const BPF_CGROUP_INET4_POST_BIND = 12;
export const BPF_CGROUP_INET6_POST_BIND = 13;
export const BPF_CGROUP_UDP4_SENDMSG = 14;
export const BPF_CGROUP_UDP6_SENDMSG = 15;
export const BPF_LIRC_MODE2 = 16;
export const BPF_FLOW_DISSECTOR = 17;
export const BPF_CGROUP_SYSCTL = 18;
export const BPF_CGROUP_UDP4_RECVMSG = 19;
export const BPF_CGROUP_UDP6_RECVMSG = 20;
export const BPF_CGROUP_GETSOCKOPT = 21;
export const BPF_CGROUP_SETSOCKOPT = 22;
export const BPF_TRACE_RAW_TP = 23;
export const BPF_TRACE_FENTRY = 24;
export const BPF_TRACE_FEXIT = 25;
export const BPF_MODIFY_RETURN = 26;
export const BPF_LSM_MAC = 27;
export const BPF_TRACE_ITER = 28;
export const BPF_CGROUP_INET4_GETPEERNAME = 29;
export const BPF_CGROUP_INET6_GETPEERNAME = 30;
export const BPF_CGROUP_INET4_GETSOCKNAME = 31;
export const BPF_CGROUP_INET6_GETSOCKNAME = 32;
export const BPF_XDP_DEVMAP = 33;
export const BPF_CGROUP_INET_SOCK_RELEASE = 34;
export const BPF_XDP_CPUMAP = 35;
export const BPF_SK_LOOKUP = 36;
export const BPF_XDP = 37;
export const BPF_SK_SKB_VERDICT = 38;
export const BPF_SK_REUSEPORT_SELECT = 39;
export const BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40;
export const BPF_PERF_EVENT = 41;
export const BPF_TRACE_KPROBE_MULTI = 42;
export const BPF_LSM_CGROUP = 43;
export const BPF_STRUCT_OPS = 44;
export const BPF_NETFILTER = 45;
export const BPF_TCX_INGRESS = 46;
export const BPF_TCX_EGRESS = 47;
export const BPF_TRACE_UPROBE_MULTI = 48;
export const BPF_CGROUP_UNIX_CONNECT = 49;
export const BPF_CGROUP_UNIX_SENDMSG = 50;
export const BPF_CGROUP_UNIX_RECVMSG = 51;
export const BPF_CGROUP_UNIX_GETPEERNAME = 52;
export const BPF_CGROUP_UNIX_GETSOCKNAME = 53;
export const BPF_NETKIT_PRIMARY = 54;
export const BPF_NETKIT_PEER = 55;
export const BPF_TRACE_KPROBE_SESSION = 56;
export const BPF_TRACE_UPROBE_SESSION = 57;

/** Program limits that shape context access. */
/** Most arguments a BPF function (and a raw tracepoint) has. include/linux/bpf.h, MAX_BPF_FUNC_ARGS. */
export const MAX_BPF_FUNC_ARGS = 12;
/** Largest tracepoint record. include/linux/trace_events.h, PERF_MAX_TRACE_SIZE. */
export const PERF_MAX_TRACE_SIZE = 8192;
