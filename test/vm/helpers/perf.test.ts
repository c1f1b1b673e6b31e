import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R9 } from "../../../src/isa/builder.js";
import { PerfBufReader as KernelPerfReader } from "../../../src/linux/index.js";
import { PerfEventArrayMap } from "../../../src/vm/maps/perf_event_array.js";
import { StackTraceMap } from "../../../src/vm/maps/stack_trace.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { PerfBufReader } from "../../../src/vm/readers/index.js";
import type { ProgTypeRunState } from "../../../src/vm/runtime/services.js";
import { describeKernel } from "../../helpers/kernel.js";
import { FixedHost, Harness, type Prog, ldMap, ldMapValue, le32 } from "./harness.js";
import { BPF_PROG_TYPE_SCHED_CLS, kernelLoad, kernelMap, kernelRunRawTp, kernelRunSkb, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";
import { stackBytes } from "./progs.js";

const T = BPF_MAP_TYPE;
const CURRENT = 0xffffffffn;

/** perf_event_output(ctx, map 1, flags, data, size) per case, r0 into the record (map 0). */
function outputProg(cases: readonly { flags: bigint; size: number }[]): Prog {
  const b = new ProgramBuilder().mov(R6, R1);
  stackBytes(b, new Uint8Array(Array.from({ length: 24 }, (_, i) => i + 1)), 64);
  cases.forEach((c, i) => {
    b.mov(R1, R6);
    ldMap(b, R2, 1);
    b.ldImm64(R3, c.flags).mov(R4, FP).add(R4, -64).mov(R5, c.size).call("bpf_perf_event_output");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8 * i, R0);
  });
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

const TRACE_CASES = [
  { flags: CURRENT, size: 12 },
  { flags: 0n, size: 5 },
  { flags: 1n, size: 8 },
  { flags: 5n, size: 8 },
  { flags: 1n << 32n, size: 8 },
  { flags: CURRENT, size: 0 },
  { flags: 0xfffffffen, size: 8 },
];

const SKB_CASES = [
  { flags: CURRENT | (14n << 32n), size: 4 },
  { flags: CURRENT | (64n << 32n), size: 0 },
  { flags: CURRENT | (65n << 32n), size: 4 },
  { flags: CURRENT | (0x100000n << 32n), size: 4 },
  { flags: CURRENT, size: 3 },
];

const PACKET = new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Runs on the vm; returns r0s and the samples per CPU. */
function runVm(prog: Prog, n: number, typeState?: (h: Harness) => ProgTypeRunState): { rec: bigint[]; samples: string[] } {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8 * n, maxEntries: 1 });
  const pea = h.createMap({ mapType: T.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }) as PerfEventArrayMap;
  const reader = new PerfBufReader(pea);
  h.run(h.load(prog, { maps: [rec, pea] }), { cpu: 0, ...(typeState ? { typeState: typeState(h) } : {}) });
  const samples: string[] = [];
  reader.poll({ sample: (cpu, data) => samples.push(`${cpu}:${hex(data)}`) });
  return { rec: words(rec.lookup(new Uint8Array(4))!, n), samples };
}

/** A minimal skb run state: the packet bytes in the space (what bpf_skb_event_output reads). */
function skbState(h: Harness): ProgTypeRunState {
  const data = h.space.allocBytes(PACKET);
  return { kind: "skb", data, len: PACKET.length } as ProgTypeRunState;
}

describe("perf_event_output on the vm", () => {
  test("current CPU, an index, another CPU's slot, out of range, bad flags", () => {
    const { rec, samples } = runVm(outputProg(TRACE_CASES), TRACE_CASES.length);
    expect(rec).toEqual([0n, 0n, -95n, -7n, -22n, 0n, -7n]);
    // raw size is padded so the record stays 8-aligned: 12 -> 12 (+4 size word = 16), 5 -> 12, 0 -> 4.
    expect(samples).toEqual([
      "0:0102030405060708090a0b0c",
      "0:010203040500000000000000",
      "0:00000000",
    ]);
  });

  test("skb programs append the first bytes of the packet (BPF_F_CTXLEN_MASK); more than skb->len is EFAULT", () => {
    const { rec, samples } = runVm(outputProg(SKB_CASES), SKB_CASES.length, skbState);
    expect(rec).toEqual([0n, 0n, -14n, -22n, 0n]);
    expect(samples[0]).toBe(`0:01020304${hex(PACKET.subarray(0, 14))}0000`);
    expect(samples[1]).toBe(`0:${hex(PACKET)}00000000`);
  });
});

describe("stack helpers on the vm (stacks from the host)", () => {
  const STACK = [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n, 0xffffffff81000040n];

  function stackProg(): Prog {
    const b = new ProgramBuilder().mov(R6, R1);
    const rec = (slot: number): void => {
      ldMapValue(b, R9, 0);
      b.stx(8, R9, 8 * slot, R0);
    };
    // get_stackid: flags 0, skip 1, skip 9 (past the stack), bad flags
    for (const [i, f] of [0, 1, 9, 1 << 12].entries()) {
      b.mov(R1, R6);
      ldMap(b, R2, 1);
      b.mov(R3, f).call("bpf_get_stackid");
      rec(i);
    }
    // get_stack into the record at 64: 32 bytes skip 1; size not a multiple of 8; build ids for a kernel stack
    b.mov(R1, R6);
    ldMapValue(b, R2, 0, 64);
    b.mov(R3, 32).mov(R4, 1).call("bpf_get_stack");
    rec(4);
    b.mov(R1, R6);
    ldMapValue(b, R2, 0, 128);
    b.mov(R3, 12).mov(R4, 0).call("bpf_get_stack");
    rec(5);
    b.mov(R1, R6);
    ldMapValue(b, R2, 0, 128);
    b.mov(R3, 32).mov(R4, 1 << 11).call("bpf_get_stack");
    rec(6);
    // user stack with build ids: one 32-byte entry
    b.mov(R1, R6);
    ldMapValue(b, R2, 0, 160);
    b.mov(R3, 32).mov(R4, (1 << 8) | (1 << 11)).call("bpf_get_stack");
    rec(7);
    b.mov(R0, 0).exit();
    return { insns: b.build().instructions };
  }

  test("get_stackid stores the host's stack (skip applied); get_stack copies and zero-fills", () => {
    const host = new FixedHost();
    host.callStack = (kind) => (kind === "kernel" ? STACK : [0x401000n]);
    const h = new Harness(host);
    const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 256, maxEntries: 1 });
    const st = h.createMap({ mapType: T.STACK_TRACE, keySize: 4, valueSize: 8 * 8, maxEntries: 16 }) as StackTraceMap;
    h.run(h.load(stackProg(), { maps: [rec, st] }));
    const v = rec.lookup(new Uint8Array(4))!;
    const r = words(v, 32);
    expect(r[0]).toBeGreaterThanOrEqual(0n);
    expect(r[1]).toBeGreaterThanOrEqual(0n);
    expect(r[2]).toBe(-14n);
    expect(r[3]).toBe(-22n);
    expect(r.slice(4, 8)).toEqual([24n, -22n, -22n, 32n]);
    expect(r.slice(8, 12).map((x) => BigInt.asUintN(64, x))).toEqual([...STACK.slice(1), 0n]);
    // The stored stack (key = id) holds all four ips.
    const stored = st.lookup(le32(Number(r[0])))!;
    expect(words(stored, 4).map((x) => BigInt.asUintN(64, x))).toEqual(STACK);
    // The build-id entry: status BPF_STACK_BUILD_ID_IP (2), zero id, the ip.
    expect(hex(v.subarray(160, 192))).toBe("02000000" + "00".repeat(20) + "0010400000000000");
  });

  test("without a host stack: get_stackid is EFAULT, get_stack returns 0 bytes", () => {
    const h = new Harness();
    const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 256, maxEntries: 1 });
    const st = h.createMap({ mapType: T.STACK_TRACE, keySize: 4, valueSize: 64, maxEntries: 16 });
    h.run(h.load(stackProg(), { maps: [rec, st] }));
    const r = words(rec.lookup(new Uint8Array(4))!, 8);
    expect(r).toEqual([-14n, -14n, -14n, -22n, -14n, -22n, -22n, 0n]);
  });
});

describeKernel("perf_event_output: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  function kernelSamples(prog: Prog, n: number, type?: number): { rec: bigint[]; samples: string[] } {
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 8 * n, maxEntries: 1 }, keep);
    const pea = kernelMap({ type: T.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, keep);
    const reader = new KernelPerfReader(pea, { cpus: [0, 1] });
    keep.push(reader);
    const p = kernelLoad(prog, [rec, pea], keep, type !== undefined ? { type } : {});
    if (type === BPF_PROG_TYPE_SCHED_CLS) kernelRunSkb(p, PACKET);
    else kernelRunRawTp(p);
    const samples: string[] = [];
    reader.poll((cpu, data, off, len) => samples.push(`${cpu}:${hex(data.subarray(off, off + len))}`));
    return { rec: words(rec.lookup(new Uint8Array(4))!, n), samples };
  }

  test("tracing program: return codes and samples", () => {
    const prog = outputProg(TRACE_CASES);
    expect(runVm(prog, TRACE_CASES.length)).toEqual(kernelSamples(prog, TRACE_CASES.length));
  });

  test("tc program: packet bytes appended by BPF_F_CTXLEN_MASK", () => {
    const prog = outputProg(SKB_CASES);
    expect(runVm(prog, SKB_CASES.length, skbState)).toEqual(kernelSamples(prog, SKB_CASES.length, BPF_PROG_TYPE_SCHED_CLS));
  });
});
