/**
 * Every program type's verifier facts, by id and by name. See types.ts for what a
 * ProgTypeVerifierInfo holds, ctx/ for the context layouts, funcs.ts for the
 * helper chains and ../helpers/protos.ts for the helper prototypes.
 */
import { cgroupDevice } from "./cgroup_device.js";
import { cgroupSkb } from "./cgroup_skb.js";
import { cgroupSock } from "./cgroup_sock.js";
import { cgroupSockAddr } from "./cgroup_sock_addr.js";
import { cgroupSockopt } from "./cgroup_sockopt.js";
import { cgroupSysctl } from "./cgroup_sysctl.js";
import { flowDissector } from "./flow_dissector.js";
import { kprobe } from "./kprobe.js";
import { lsm } from "./lsm.js";
import { lwtIn, lwtOut, lwtSeg6local, lwtXmit } from "./lwt.js";
import { netfilter } from "./netfilter.js";
import { perfEvent } from "./perf_event.js";
import { rawTracepoint, rawTracepointWritable } from "./raw_tracepoint.js";
import { schedAct, schedCls } from "./sched_cls.js";
import { skLookup } from "./sk_lookup.js";
import { skMsg } from "./sk_msg.js";
import { skReuseport } from "./sk_reuseport.js";
import { skSkb } from "./sk_skb.js";
import { socketFilter } from "./socket_filter.js";
import { sockOps } from "./sock_ops.js";
import { syscall } from "./syscall.js";
import { tracepoint } from "./tracepoint.js";
import { tracing } from "./tracing.js";
import { xdp } from "./xdp.js";
import type { ProgTypeVerifierInfo } from "./types.js";

export * from "./constants.js";
export type { ProgTypeVerifierInfo, CtxAccessResult, CtxLoadType, HelperOptions } from "./types.js";
export type { CtxLayout, CtxField } from "./ctx/layout.js";
export type { FieldAccessRow, SizeRule } from "./access.js";

/** In BPF_PROG_TYPE_* order. */
export const progTypes: readonly ProgTypeVerifierInfo[] = [
  socketFilter, kprobe, schedCls, schedAct, tracepoint, xdp, perfEvent, cgroupSkb, cgroupSock,
  lwtIn, lwtOut, lwtXmit, sockOps, skSkb, cgroupDevice, skMsg, rawTracepoint, cgroupSockAddr,
  lwtSeg6local, skReuseport, flowDissector, cgroupSysctl, rawTracepointWritable, cgroupSockopt,
  tracing, lsm, skLookup, syscall, netfilter,
];

const byId = new Map(progTypes.map((t) => [t.id, t]));
const byName = new Map(progTypes.map((t) => [t.name, t]));

export function progTypeById(id: number): ProgTypeVerifierInfo | undefined {
  return byId.get(id);
}

/** By bpftool's short name ("xdp", "sched_cls") or the uapi name ("BPF_PROG_TYPE_XDP"). */
export function progTypeByName(name: string): ProgTypeVerifierInfo | undefined {
  return byName.get(name) ?? progTypes.find((t) => t.uapiName === name);
}

export {
  cgroupDevice, cgroupSkb, cgroupSock, cgroupSockAddr, cgroupSockopt, cgroupSysctl, flowDissector, kprobe, lsm,
  lwtIn, lwtOut, lwtSeg6local, lwtXmit, netfilter, perfEvent, rawTracepoint, rawTracepointWritable, schedAct,
  schedCls, skLookup, skMsg, skReuseport, skSkb, socketFilter, sockOps, syscall, tracepoint, tracing, xdp,
};
