/**
 * PROG_TEST_RUN of the types with their own test_run beside xdp and skb
 * (raw_tracepoint, syscall, tracing, flow_dissector, sk_lookup, netfilter),
 * and the ENOTSUPP of the types the kernel cannot test-run: the vm against
 * the kernel.
 */
import { describe, expect, test } from "vitest";
import type { RunOptions } from "../../../src/api/types.js";
import { BTF_KIND_FUNC, BTF_KIND_TYPEDEF } from "../../../src/btf/kinds.js";
import { vmlinuxTypeId } from "../../../src/linux/kernel-btf.js";
import {
  BPF_FLOW_DISSECTOR, BPF_MODIFY_RETURN, BPF_NETFILTER, BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_PROG_TYPE_NETFILTER,
  BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SK_LOOKUP, BPF_PROG_TYPE_SYSCALL, BPF_PROG_TYPE_TRACING, BPF_SK_LOOKUP,
  BPF_TRACE_FENTRY, BPF_TRACE_ITER, BPF_TRACE_RAW_TP,
} from "../../../src/vm/progtypes/constants.js";
import { progTypeRuntime } from "../../../src/vm/progtypes/runtime/index.js";
import { describeKernel, testFeature } from "../../helpers/kernel.js";
import { kernelCases, mov, exit, okReturn } from "../progtypes/kernel-cases.js";
import { load as kernelCaseLoad } from "../progtypes/kernel-cases.js";
import { type DiffCase, differential } from "./diff.js";
import { vmOutcome, vmProgram } from "./harness.js";
import { ethFrame, ipv4Frame, ipv6Frame, pattern } from "./packets.js";

const u64s = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(v.length * 8);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 8, x, true));
  return b;
};
const BPF_F_SLEEPABLE = 1 << 4;

/** raw_tracepoint: returns args[1] (max_ctx_offset 16). */
const RAW_ARG1 = "r0 = *(u64 *)(r1 + 8)\nexit";
const rawTp = (options: RunOptions): DiffCase => ({ progType: BPF_PROG_TYPE_RAW_TRACEPOINT, code: RAW_ARG1, options, maxCtxOffset: 16 });

/** syscall: ctx[0] += 1, returns the new value (max_ctx_offset 4). */
const SYSCALL_INC = "r0 = *(u32 *)(r1 + 0)\nr0 += 1\n*(u32 *)(r1 + 0) = r0\nexit";
const syscall = (options: RunOptions): DiffCase => ({ progType: BPF_PROG_TYPE_SYSCALL, code: SYSCALL_INC, options, loadFlags: BPF_F_SLEEPABLE, maxCtxOffset: 4 });

/** flow_dissector: thoff = data_end - data, nhoff = 20, returns BPF_OK. */
const FLOW =
  "r2 = *(u64 *)(r1 + 144)\nr3 = *(u32 *)(r1 + 76)\nr4 = *(u32 *)(r1 + 80)\nr4 -= r3\n*(u16 *)(r2 + 2) = r4\n" +
  "r5 = 20\n*(u16 *)(r2 + 0) = r5\nr0 = 0\nexit";
const FLOW_LOAD = "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\ncall 26\nexit";
const flow = (options: RunOptions, code = FLOW): DiffCase => ({ progType: BPF_PROG_TYPE_FLOW_DISSECTOR, attachType: BPF_FLOW_DISSECTOR, code, options });
const keysIn = (flags: number, extra?: [number, number]): Uint8Array => {
  const b = new Uint8Array(56);
  const dv = new DataView(b.buffer);
  dv.setUint32(48, flags, true);
  if (extra) b[extra[0]] = extra[1];
  return b;
};

/** sk_lookup: passes iff the u32 field at `off` equals `v`. */
const skIf = (off: number, v: number, size = "u32"): string => `r2 = *(${size} *)(r1 + ${off})\nr0 = 0\nif r2 != ${v} goto +1\nr0 = 1\nexit`;
const sk = (options: RunOptions, code = skIf(8, 2)): DiffCase => ({ progType: BPF_PROG_TYPE_SK_LOOKUP, attachType: BPF_SK_LOOKUP, code, options });
const lookupCtx = (f: { family?: number; protocol?: number; rip4?: number; rport?: number; lip4?: number; lport?: number; lip6w0?: number; sk?: number; tail?: number }): Uint8Array => {
  const b = new Uint8Array(72);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, f.sk ?? 0, true);
  dv.setUint32(8, f.family ?? 2, true);
  dv.setUint32(12, f.protocol ?? 6, true);
  dv.setUint32(16, f.rip4 ?? 0x0100000a, true);
  dv.setUint16(36, f.rport ?? 0xd204, true);
  dv.setUint32(40, f.lip4 ?? 0x0200000a, true);
  dv.setUint32(44, f.lip6w0 ?? 0, true);
  dv.setUint32(60, f.lport ?? 80, true);
  dv.setUint32(64, f.tail ?? 0, true);
  return b;
};

/** netfilter: returns state->hook & 1. */
const NF = "r2 = *(u64 *)(r1 + 0)\nr0 = *(u8 *)(r2 + 0)\nr0 &= 1\nexit";
const nf = (options: RunOptions): DiffCase => ({ progType: BPF_PROG_TYPE_NETFILTER, attachType: BPF_NETFILTER, code: NF, options });
const hookState = (hook: number, pf: number, ptrAt?: number): Uint8Array => {
  const b = new Uint8Array(48);
  b[0] = hook;
  b[1] = pf;
  if (ptrAt !== undefined) b[ptrAt] = 1;
  return b;
};
const ipOnly = (n: number): Uint8Array => ipv4Frame(n + 14).subarray(14);

const cases: [string, DiffCase][] = [
  ["raw_tp: args come from ctx_in", rawTp({ ctx: u64s(1, 2) })],
  ["raw_tp: 12 arguments", rawTp({ ctx: u64s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) })],
  ["raw_tp: 13 arguments is EINVAL", rawTp({ ctx: u64s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13) })],
  ["raw_tp: ctx shorter than the program reads is EINVAL", rawTp({ ctx: u64s(1) })],
  ["raw_tp: data is EINVAL", rawTp({ ctx: u64s(1, 2), data: pattern(20) })],
  ["raw_tp: repeat is EINVAL", rawTp({ ctx: u64s(1, 2), repeat: 2 })],
  ["raw_tp: ctx_out is EINVAL", rawTp({ ctx: u64s(1, 2), ctxOutSize: 16 })],
  ["raw_tp: cpu without BPF_F_TEST_RUN_ON_CPU is EINVAL", rawTp({ ctx: u64s(1, 2), cpu: 1 })],
  ["raw_tp: on cpu 1", rawTp({ ctx: u64s(1, 2), cpu: 1, flags: 1 })],
  ["raw_tp: on an offline cpu is ENXIO", rawTp({ ctx: u64s(1, 2), cpu: 4096, flags: 1 })],
  ["raw_tp: other flags are ignored", rawTp({ ctx: u64s(1, 2), flags: 2 })],
  ["syscall: ctx is written back", syscall({ ctx: Uint8Array.from([41, 0, 0, 0, 9, 9]) })],
  ["syscall: no ctx is EINVAL for a program reading it", syscall({})],
  ["syscall: repeat is EINVAL", syscall({ ctx: new Uint8Array(4), repeat: 1 })],
  ["syscall: flags are EINVAL", syscall({ ctx: new Uint8Array(4), flags: 1 })],
  ["syscall: data is EINVAL", syscall({ ctx: new Uint8Array(4), data: pattern(20) })],
  ["syscall: ctx_out is EINVAL", syscall({ ctx: new Uint8Array(4), ctxOutSize: 4 })],
  ["syscall: ctx above U16_MAX is EINVAL", syscall({ ctx: new Uint8Array(65536) })],
  ["syscall: ctx of U16_MAX bytes", syscall({ ctx: new Uint8Array(65535) })],
  ["flow_dissector: keys in data_out, offsets clamped", flow({ data: ipv4Frame(60) })],
  ["flow_dissector: repeat", flow({ data: ipv4Frame(60), repeat: 3 })],
  ["flow_dissector: ctx_in flags reach the keys", flow({ data: ipv4Frame(60), ctx: keysIn(7) })],
  ["flow_dissector: ctx_in other fields are EINVAL", flow({ data: ipv4Frame(60), ctx: keysIn(0, [2, 1]) })],
  ["flow_dissector: 13 bytes is EINVAL", flow({ data: pattern(13) })],
  ["flow_dissector: more than a page is EINVAL", flow({ data: ipv4Frame(4097) })],
  ["flow_dissector: a page", flow({ data: ipv4Frame(4096) })],
  ["flow_dissector: flags are EINVAL", flow({ data: ipv4Frame(60), flags: 1 })],
  ["flow_dissector: data_out ENOSPC", flow({ data: ipv4Frame(60), dataOutSize: 20 })],
  ["flow_dissector: skb_load_bytes has no skb: EFAULT", flow({ data: ipv4Frame(60) }, FLOW_LOAD)],
  ["sk_lookup: family", sk({ ctx: lookupCtx({}) })],
  ["sk_lookup: protocol", sk({ ctx: lookupCtx({}) }, skIf(12, 6))],
  ["sk_lookup: remote_ip4", sk({ ctx: lookupCtx({}) }, skIf(16, 0x0100000a))],
  ["sk_lookup: remote_port", sk({ ctx: lookupCtx({}) }, skIf(36, 0xd204, "u16"))],
  ["sk_lookup: local_port", sk({ ctx: lookupCtx({}) }, skIf(60, 80))],
  ["sk_lookup: local_ip6 of an IPv4 lookup reads 0", sk({ ctx: lookupCtx({ lip6w0: 5 }) }, skIf(44, 0))],
  ["sk_lookup: local_ip6 of an IPv6 lookup", sk({ ctx: lookupCtx({ family: 10, lip6w0: 5 }) }, skIf(44, 5))],
  ["sk_lookup: local_ip4 of an IPv6 lookup reads 0", sk({ ctx: lookupCtx({ family: 10 }) }, skIf(40, 0))],
  ["sk_lookup: family above 16 bits is truncated", sk({ ctx: lookupCtx({ family: 0x10002 }) })],
  ["sk_lookup: ingress_ifindex is 0", sk({ ctx: lookupCtx({}) }, skIf(64, 0))],
  ["sk_lookup: no ctx is EINVAL", sk({})],
  ["sk_lookup: sk set is EINVAL", sk({ ctx: lookupCtx({ sk: 1 }) })],
  ["sk_lookup: fields past local_port are EINVAL", sk({ ctx: lookupCtx({ tail: 1 }) })],
  ["sk_lookup: local_port above 16 bits is ERANGE", sk({ ctx: lookupCtx({ lport: 65536 }) })],
  ["sk_lookup: unknown family is EAFNOSUPPORT", sk({ ctx: lookupCtx({ family: 1 }) })],
  ["sk_lookup: data is EINVAL", sk({ ctx: lookupCtx({}), data: pattern(20) })],
  ["sk_lookup: flags are EINVAL", sk({ ctx: lookupCtx({}), flags: 1 })],
  ["sk_lookup: ctx_out too small is ENOSPC", sk({ ctx: lookupCtx({}), ctxOutSize: 16 })],
  ["netfilter: LOCAL_OUT with an IP packet", nf({ data: ipOnly(20) })],
  ["netfilter: 19 bytes is EINVAL", nf({ data: ipOnly(19) })],
  ["netfilter: PRE_ROUTING with an Ethernet frame", nf({ data: ipv4Frame(60), ctx: hookState(0, 2) })],
  ["netfilter: LOCAL_IN reads hook 1", nf({ data: ipv4Frame(60), ctx: hookState(1, 2) })],
  ["netfilter: PRE_ROUTING too short for Ethernet + IPv4 is EINVAL", nf({ data: ipv4Frame(33), ctx: hookState(0, 2) })],
  ["netfilter: IPv6 frame for pf IPv4 is EINVAL", nf({ data: ipv6Frame(80), ctx: hookState(0, 2) })],
  ["netfilter: IPv6 frame for pf IPv6", nf({ data: ipv6Frame(80), ctx: hookState(0, 10) })],
  ["netfilter: ARP is EPROTO", nf({ data: ethFrame(0x0806, 60), ctx: hookState(0, 2) })],
  ["netfilter: pf 7 is EINVAL", nf({ data: ipOnly(20), ctx: hookState(3, 7) })],
  ["netfilter: a device pointer is EINVAL", nf({ data: ipOnly(20), ctx: hookState(3, 2, 8) })],
  ["netfilter: an okfn pointer is EINVAL", nf({ data: ipOnly(20), ctx: hookState(3, 2, 40) })],
  ["netfilter: flags are EINVAL", nf({ data: ipOnly(20), flags: 1 })],
  ["netfilter: ctx_in longer with a non-zero tail is E2BIG", nf({ data: ipOnly(20), ctx: Uint8Array.from([...hookState(3, 2), 1]) })],
];

describeKernel("other program types' PROG_TEST_RUN: vm against the kernel", () => {
  for (const [name, c] of cases) {
    test(name, () => {
      const { kernel, vm } = differential(c);
      expect(vm).toEqual(kernel);
    });
  }

  const btfId = (name: string, kind: number): number | undefined => {
    try {
      return vmlinuxTypeId(name, kind);
    } catch {
      return undefined;
    }
  };
  for (const [name, at, target, kind] of [
    ["tp_btf", BPF_TRACE_RAW_TP, "btf_trace_sched_switch", BTF_KIND_TYPEDEF],
    ["iter", BPF_TRACE_ITER, "bpf_iter_task", BTF_KIND_FUNC],
  ] as const) {
    test(`tracing ${name} programs cannot be test-run: EFAULT`, () => {
      const id = btfId(target, kind);
      if (id === undefined) return;
      const { kernel, vm } = differential({ progType: BPF_PROG_TYPE_TRACING, attachType: at, attachBtfId: id, code: "r0 = 0\nexit", options: {} });
      expect(vm).toEqual(kernel);
    });
  }
  const trampolineReason = (): string | null => {
    const id = btfId("bpf_fentry_test1", BTF_KIND_FUNC);
    if (id === undefined) return "no bpf_fentry_test1 in vmlinux BTF";
    const r = kernelCaseLoad({ info: { id: BPF_PROG_TYPE_TRACING, name: "tracing" } as never, attachType: BPF_TRACE_FENTRY, label: "fentry" }, [mov(0, 0), exit]);
    return r.ok ? null : `fentry programs do not load here (errno ${r.errno}: trampolines unavailable)`;
  };
  for (const [name, at, target] of [["fentry", BPF_TRACE_FENTRY, "bpf_fentry_test1"], ["fmod_ret", BPF_MODIFY_RETURN, "bpf_modify_return_test"]] as const) {
    testFeature(`tracing ${name}: the kernel's test functions with nothing attached`, trampolineReason, () => {
      const { kernel, vm } = differential({ progType: BPF_PROG_TYPE_TRACING, attachType: at, attachBtfId: btfId(target, BTF_KIND_FUNC), code: "r0 = 0\nexit", options: {} });
      expect(vm).toEqual(kernel);
    });
  }

  // Every type without a test_run answers ENOTSUPP, in the kernel and in the vm.
  for (const c of kernelCases()) {
    const rt = progTypeRuntime(c.info.id);
    if (!rt || rt.ctxOutDefault !== 0 || [BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SYSCALL, BPF_PROG_TYPE_TRACING, BPF_PROG_TYPE_NETFILTER].includes(c.info.id)) continue;
    test(`${c.label}: no test_run, ENOTSUPP`, () => {
      const r = kernelCaseLoad(c, [mov(0, okReturn(c)), exit], 0);
      if (!r.ok) return; // not loadable here; the vm answer is checked below
      const { kernel, vm } = differential({ progType: c.info.id, attachType: c.attachType, code: [mov(0, okReturn(c)), exit], options: { data: pattern(64) } });
      expect(vm).toEqual(kernel);
      expect(vm.errno).toBe(524);
    });
  }
});

describe("other program types (vm)", () => {
  test("tracing fmod_ret reports the unmodified test functions", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_TRACING, attachType: BPF_MODIFY_RETURN, code: "r0 = 0\nexit" });
    try {
      expect(p.testRun({}).retval).toBe((2 << 16) | 33);
    } finally {
      p.dispose();
    }
  });

  test("lsm programs cannot be test-run", () => {
    const p = vmProgram({ progType: 29, code: "r0 = 0\nexit" });
    try {
      expect(vmOutcome(() => p.testRun({})).errno).toBe(524);
    } finally {
      p.dispose();
    }
  });

  test("an unknown program type has no runtime", () => {
    expect(progTypeRuntime(999)).toBeUndefined();
  });
});
