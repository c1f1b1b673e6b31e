/**
 * Program-type runtimes by BPF_PROG_TYPE_*: how each type builds its context
 * and answers BPF_PROG_TEST_RUN. Types the kernel cannot test-run (their
 * bpf_prog_ops has no .test_run: kprobe, tracepoint, perf_event, the cgroup
 * socket hooks, sk_skb, sk_msg, lsm...) answer ENOTSUPP (524), as
 * bpf_prog_test_run() in kernel/bpf/syscall.c does.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import {
  BPF_PROG_TYPE_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_SOCK, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_PROG_TYPE_CGROUP_SOCKOPT,
  BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_PROG_TYPE_EXT, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_LIRC_MODE2, BPF_PROG_TYPE_LSM,
  BPF_PROG_TYPE_LWT_SEG6LOCAL, BPF_PROG_TYPE_PERF_EVENT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_SK_MSG,
  BPF_PROG_TYPE_SK_REUSEPORT, BPF_PROG_TYPE_SK_SKB, BPF_PROG_TYPE_SOCK_OPS, BPF_PROG_TYPE_STRUCT_OPS,
  BPF_PROG_TYPE_TRACEPOINT,
} from "../constants.js";
import { fail } from "./common.js";
import { flowDissectorRuntime } from "./flow_dissector.js";
import { netfilterRuntime } from "./netfilter.js";
import { skLookupRuntime } from "./sk_lookup.js";
import { skbRuntimes } from "./skb.js";
import { rawTracepointRuntime, syscallRuntime, tracingRuntime } from "./tracing.js";
import type { ProgTypeRuntime, TestRunTarget } from "./types.js";
import { xdpRuntime } from "./xdp.js";

export type { PacketBounds, ProgTypeRuntime, RedirectTarget, TestRunTarget } from "./types.js";
export { TestRunNoSpaceError, testRunAttr, type TestRunAttr } from "./common.js";
export { NetDevices, netDevices, type NetDevice, LOOPBACK_IFINDEX } from "./netdev.js";
export { XdpBuff, createXdpBuff, type XdpBuffInit } from "./xdp.js";
export { SkBuff, createSkBuff, type SkBuffInit } from "./skb.js";
export { FlowDissectorState } from "./flow_dissector.js";
export { SkLookupState } from "./sk_lookup.js";

/** A type whose bpf_prog_ops has no test_run. */
function noTestRun(progType: number): ProgTypeRuntime {
  return {
    progType,
    ctxOutDefault: 0,
    testRun(target: TestRunTarget, _options: RunOptions): RunResult {
      fail("ENOTSUPP", `program type ${progType} (${target.program.name}) cannot be test-run`);
    },
  };
}

const runtimes = new Map<number, ProgTypeRuntime>(
  [
    xdpRuntime, ...skbRuntimes, flowDissectorRuntime, skLookupRuntime, netfilterRuntime,
    rawTracepointRuntime, syscallRuntime, tracingRuntime,
    ...[
      BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_PERF_EVENT, BPF_PROG_TYPE_CGROUP_SOCK,
      BPF_PROG_TYPE_SOCK_OPS, BPF_PROG_TYPE_SK_SKB, BPF_PROG_TYPE_CGROUP_DEVICE, BPF_PROG_TYPE_SK_MSG,
      BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_PROG_TYPE_LWT_SEG6LOCAL, BPF_PROG_TYPE_LIRC_MODE2, BPF_PROG_TYPE_SK_REUSEPORT,
      BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_CGROUP_SOCKOPT,
      BPF_PROG_TYPE_STRUCT_OPS, BPF_PROG_TYPE_EXT, BPF_PROG_TYPE_LSM,
    ].map(noTestRun),
  ].map((r) => [r.progType, r]),
);

/** The runtime of a program type, or undefined for a type the vm does not know. */
export function progTypeRuntime(progType: number): ProgTypeRuntime | undefined {
  return runtimes.get(progType);
}
