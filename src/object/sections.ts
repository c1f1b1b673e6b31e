/**
 * libbpf's SEC() name table (tools/lib/bpf/libbpf.c, section_defs): which
 * program type, expected attach type and load flags a section name implies.
 * Matching rules (sec_def_matches): "type/" needs a "type/..." name; "type+"
 * takes "type" or "type/..."; anything else must match exactly. First match
 * wins, so order matters ("sk_reuseport/migrate" before "sk_reuseport").
 */
import { AttachType as A, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ProgType as P } from "./uapi.js";

// Section flags (libbpf.c, enum sec_def_flags).
/** The expected attach type may be dropped on kernels that reject it (SEC_EXP_ATTACH_OPT). */
export const SEC_EXP_ATTACH_OPT = 1;
/** Attachable through BPF_PROG_ATTACH (SEC_ATTACHABLE). */
export const SEC_ATTACHABLE = 2;
export const SEC_ATTACHABLE_OPT = SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT;
/** The part after '/' names a BTF type/function to attach to (SEC_ATTACH_BTF). */
export const SEC_ATTACH_BTF = 4;
/** Sleepable program: BPF_F_SLEEPABLE (SEC_SLEEPABLE). */
export const SEC_SLEEPABLE = 8;
/** XDP multi-buffer: BPF_F_XDP_HAS_FRAGS (SEC_XDP_FRAGS). */
export const SEC_XDP_FRAGS = 16;
/** USDT probe (SEC_USDT). */
export const SEC_USDT = 32;

export interface SectionDef {
  /** The pattern as libbpf writes it: "kprobe+", "tc/ingress", "xdp". */
  readonly pattern: string;
  readonly progType: number;
  readonly expectedAttachType: number;
  /** SEC_* flags. */
  readonly flags: number;
}

const def = (pattern: string, progType: number, expectedAttachType: number, flags = 0): SectionDef =>
  ({ pattern, progType, expectedAttachType, flags });

/** libbpf.c, section_defs[] (libbpf 1.5 plus the session entries of later versions), in order. */
export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", P.BPF_PROG_TYPE_SOCKET_FILTER, 0),
  def("sk_reuseport/migrate", P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, SEC_ATTACHABLE),
  def("sk_reuseport", P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT, SEC_ATTACHABLE),
  def("kprobe+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("uprobe+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("uprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_SLEEPABLE),
  def("kretprobe+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("uretprobe+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("uretprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_SLEEPABLE),
  def("kprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI),
  def("kretprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI),
  def("kprobe.session+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_SESSION),
  def("uprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI),
  def("uretprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI),
  def("uprobe.session+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_SESSION),
  def("uprobe.multi.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, SEC_SLEEPABLE),
  def("uretprobe.multi.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, SEC_SLEEPABLE),
  def("uprobe.session.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_SESSION, SEC_SLEEPABLE),
  def("ksyscall+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("kretsyscall+", P.BPF_PROG_TYPE_KPROBE, 0),
  def("usdt+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_USDT),
  def("usdt.s+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_USDT | SEC_SLEEPABLE),
  def("tc/ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS), // alias for tcx
  def("tc/egress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS),
  def("tcx/ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS),
  def("tcx/egress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS),
  def("tc", P.BPF_PROG_TYPE_SCHED_CLS, 0), // legacy, use tcx
  def("classifier", P.BPF_PROG_TYPE_SCHED_CLS, 0),
  def("action", P.BPF_PROG_TYPE_SCHED_ACT, 0),
  def("netkit/primary", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PRIMARY),
  def("netkit/peer", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PEER),
  def("tracepoint+", P.BPF_PROG_TYPE_TRACEPOINT, 0),
  def("tp+", P.BPF_PROG_TYPE_TRACEPOINT, 0),
  def("raw_tracepoint+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0),
  def("raw_tp+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0),
  def("raw_tracepoint.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0),
  def("raw_tp.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0),
  def("tp_btf+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_RAW_TP, SEC_ATTACH_BTF),
  def("fentry+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, SEC_ATTACH_BTF),
  def("fmod_ret+", P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, SEC_ATTACH_BTF),
  def("fexit+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, SEC_ATTACH_BTF),
  def("fentry.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("fmod_ret.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("fexit.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("freplace+", P.BPF_PROG_TYPE_EXT, 0, SEC_ATTACH_BTF),
  def("lsm+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, SEC_ATTACH_BTF),
  def("lsm.s+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("lsm_cgroup+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_CGROUP, SEC_ATTACH_BTF),
  def("iter+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, SEC_ATTACH_BTF),
  def("iter.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def("syscall", P.BPF_PROG_TYPE_SYSCALL, 0, SEC_SLEEPABLE),
  def("xdp.frags/devmap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, SEC_XDP_FRAGS),
  def("xdp/devmap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, SEC_ATTACHABLE),
  def("xdp.frags/cpumap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, SEC_XDP_FRAGS),
  def("xdp/cpumap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, SEC_ATTACHABLE),
  def("xdp.frags", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, SEC_XDP_FRAGS),
  def("xdp", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, SEC_ATTACHABLE_OPT),
  def("perf_event", P.BPF_PROG_TYPE_PERF_EVENT, 0),
  def("lwt_in", P.BPF_PROG_TYPE_LWT_IN, 0),
  def("lwt_out", P.BPF_PROG_TYPE_LWT_OUT, 0),
  def("lwt_xmit", P.BPF_PROG_TYPE_LWT_XMIT, 0),
  def("lwt_seg6local", P.BPF_PROG_TYPE_LWT_SEG6LOCAL, 0),
  def("sockops", P.BPF_PROG_TYPE_SOCK_OPS, A.BPF_CGROUP_SOCK_OPS, SEC_ATTACHABLE_OPT),
  def("sk_skb/stream_parser", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_PARSER, SEC_ATTACHABLE_OPT),
  def("sk_skb/stream_verdict", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_VERDICT, SEC_ATTACHABLE_OPT),
  def("sk_skb/verdict", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_VERDICT, SEC_ATTACHABLE_OPT),
  def("sk_skb", P.BPF_PROG_TYPE_SK_SKB, 0),
  def("sk_msg", P.BPF_PROG_TYPE_SK_MSG, A.BPF_SK_MSG_VERDICT, SEC_ATTACHABLE_OPT),
  def("lirc_mode2", P.BPF_PROG_TYPE_LIRC_MODE2, A.BPF_LIRC_MODE2, SEC_ATTACHABLE_OPT),
  def("flow_dissector", P.BPF_PROG_TYPE_FLOW_DISSECTOR, A.BPF_FLOW_DISSECTOR, SEC_ATTACHABLE_OPT),
  def("cgroup_skb/ingress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_INGRESS, SEC_ATTACHABLE_OPT),
  def("cgroup_skb/egress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_EGRESS, SEC_ATTACHABLE_OPT),
  def("cgroup/skb", P.BPF_PROG_TYPE_CGROUP_SKB, 0),
  def("cgroup/sock_create", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, SEC_ATTACHABLE),
  def("cgroup/sock_release", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_RELEASE, SEC_ATTACHABLE),
  def("cgroup/sock", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, SEC_ATTACHABLE_OPT),
  def("cgroup/post_bind4", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET4_POST_BIND, SEC_ATTACHABLE),
  def("cgroup/post_bind6", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET6_POST_BIND, SEC_ATTACHABLE),
  def("cgroup/bind4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_BIND, SEC_ATTACHABLE),
  def("cgroup/bind6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_BIND, SEC_ATTACHABLE),
  def("cgroup/connect4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_CONNECT, SEC_ATTACHABLE),
  def("cgroup/connect6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_CONNECT, SEC_ATTACHABLE),
  def("cgroup/connect_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_CONNECT, SEC_ATTACHABLE),
  def("cgroup/sendmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP4_SENDMSG, SEC_ATTACHABLE),
  def("cgroup/sendmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP6_SENDMSG, SEC_ATTACHABLE),
  def("cgroup/sendmsg_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_SENDMSG, SEC_ATTACHABLE),
  def("cgroup/recvmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP4_RECVMSG, SEC_ATTACHABLE),
  def("cgroup/recvmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP6_RECVMSG, SEC_ATTACHABLE),
  def("cgroup/recvmsg_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_RECVMSG, SEC_ATTACHABLE),
  def("cgroup/getpeername4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_GETPEERNAME, SEC_ATTACHABLE),
  def("cgroup/getpeername6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_GETPEERNAME, SEC_ATTACHABLE),
  def("cgroup/getpeername_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_GETPEERNAME, SEC_ATTACHABLE),
  def("cgroup/getsockname4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_GETSOCKNAME, SEC_ATTACHABLE),
  def("cgroup/getsockname6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_GETSOCKNAME, SEC_ATTACHABLE),
  def("cgroup/getsockname_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_GETSOCKNAME, SEC_ATTACHABLE),
  def("cgroup/sysctl", P.BPF_PROG_TYPE_CGROUP_SYSCTL, A.BPF_CGROUP_SYSCTL, SEC_ATTACHABLE),
  def("cgroup/getsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_GETSOCKOPT, SEC_ATTACHABLE),
  def("cgroup/setsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_SETSOCKOPT, SEC_ATTACHABLE),
  def("cgroup/dev", P.BPF_PROG_TYPE_CGROUP_DEVICE, A.BPF_CGROUP_DEVICE, SEC_ATTACHABLE_OPT),
  def("struct_ops+", P.BPF_PROG_TYPE_STRUCT_OPS, 0),
  def("struct_ops.s+", P.BPF_PROG_TYPE_STRUCT_OPS, 0, SEC_SLEEPABLE),
  def("sk_lookup", P.BPF_PROG_TYPE_SK_LOOKUP, A.BPF_SK_LOOKUP, SEC_ATTACHABLE),
  def("netfilter", P.BPF_PROG_TYPE_NETFILTER, A.BPF_NETFILTER),
];

/** sec_def_matches. */
export function sectionDefMatches(d: SectionDef, name: string): boolean {
  const p = d.pattern;
  const last = p[p.length - 1];
  if (last === "/") return name.startsWith(p);
  if (last === "+") {
    const pfx = p.slice(0, -1);
    if (!name.startsWith(pfx)) return false;
    return name.length === pfx.length || name[pfx.length] === "/";
  }
  return name === p;
}

/** The first section definition that matches (find_sec_def), or undefined. */
export function findSectionDef(name: string): SectionDef | undefined {
  return SECTION_DEFS.find((d) => sectionDefMatches(d, name));
}

export interface ProgramKind {
  readonly progType: number;
  readonly expectedAttachType: number;
  /** SEC_EXP_ATTACH_OPT: a kernel that rejects the attach type may get 0 instead. */
  readonly attachTypeOptional: boolean;
  /** BPF_PROG_LOAD prog_flags the section implies (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS). */
  readonly progFlags: number;
  /** SEC_ATTACH_BTF: `attachTarget` names a kernel BTF function/type (fentry/, lsm/, tp_btf/, iter/...). */
  readonly attachBtf: boolean;
  /** What follows "prefix/" in the section name ("do_unlinkat" in "kprobe/do_unlinkat"); "" if nothing. */
  readonly attachTarget: string;
  /** The matching pattern, or undefined when libbpf would not know the section. */
  readonly pattern?: string;
  readonly secFlags: number;
}

/** Program type, attach type and flags for a section name (libbpf_prepare_prog_load and friends). */
export function programKindForSection(name: string): ProgramKind {
  const d = findSectionDef(name);
  if (!d) {
    return { progType: 0, expectedAttachType: 0, attachTypeOptional: false, progFlags: 0, attachBtf: false, attachTarget: "", secFlags: 0 };
  }
  let progFlags = 0;
  if (d.flags & SEC_SLEEPABLE) progFlags |= BPF_F_SLEEPABLE;
  if ((d.flags & SEC_XDP_FRAGS) && d.progType === P.BPF_PROG_TYPE_XDP) progFlags |= BPF_F_XDP_HAS_FRAGS;
  const slash = name.indexOf("/");
  return {
    progType: d.progType,
    expectedAttachType: d.expectedAttachType,
    attachTypeOptional: (d.flags & SEC_EXP_ATTACH_OPT) !== 0,
    progFlags,
    attachBtf: (d.flags & SEC_ATTACH_BTF) !== 0,
    attachTarget: slash >= 0 ? name.slice(slash + 1) : "",
    pattern: d.pattern,
    secFlags: d.flags,
  };
}
