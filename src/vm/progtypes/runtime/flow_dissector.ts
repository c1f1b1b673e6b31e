/**
 * BPF_PROG_TYPE_FLOW_DISSECTOR at run time: bpf_prog_test_run_flow_dissector()
 * and bpf_flow_dissect() (net/bpf/test_run.c, net/core/flow_dissector.c). The
 * context is a struct __sk_buff whose data / data_end span the whole frame
 * from its Ethernet header and whose flow_keys points at a struct
 * bpf_flow_keys the program fills; data_out is that struct.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import type { ProgTypeRunState } from "../../runtime/services.js";
import { BPF_PROG_TYPE_FLOW_DISSECTOR } from "../constants.js";
import { bpfFlowKeys } from "../ctx/bpf_flow_keys.js";
import { skBuff } from "../ctx/sk_buff.js";
import { ETH_HLEN, PAGE_SIZE, RunMemory, ctxInit, fail, rangeIsZero, repeatRun, testFinish, testRunAttr } from "./common.js";
import type { ProgTypeRuntime, TestRunTarget } from "./types.js";

const SKB_DATA = skBuff.fields.find((f) => f.name === "data")!.offset;
const SKB_DATA_END = skBuff.fields.find((f) => f.name === "data_end")!.offset;
const SKB_FLOW_KEYS = skBuff.fields.find((f) => f.name === "flow_keys")!.offset;
const KEY = Object.fromEntries(bpfFlowKeys.fields.map((f) => [f.name, f.offset])) as Readonly<Record<string, number>>;

/**
 * struct bpf_flow_dissector: the packet and the keys. `skb` is false in test
 * runs, where the kernel dissects a bare buffer (ctx->skb == NULL), which is
 * why bpf_skb_load_bytes fails there with -EFAULT.
 */
export class FlowDissectorState implements ProgTypeRunState {
  readonly kind = "flow_dissector";
  constructor(
    readonly ctx: number,
    readonly data: number,
    readonly dataEnd: number,
    readonly flowKeys: number,
    readonly skb: boolean,
  ) {}
}

/** bpf_prog_test_run_flow_dissector(). */
function testRunFlowDissector(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, bpfFlowKeys.size);
  const what = `flow_dissector program ${target.program.name}`;
  if (attr.flags || attr.cpu || attr.batchSize) fail("EINVAL", `${what}: flags, cpu or batch_size`);
  const size = attr.dataSizeIn;
  if (size < ETH_HLEN) fail("EINVAL", `${what}: packet shorter than an Ethernet header`);
  if (size > PAGE_SIZE) fail("EINVAL", `${what}: packet larger than a page`);
  const userCtx = ctxInit(attr, bpfFlowKeys.size);
  // Only flags may be set in ctx_in (verify_user_bpf_flow_keys).
  if (userCtx && (!rangeIsZero(userCtx, 0, KEY.flags) || !rangeIsZero(userCtx, KEY.flags + 4, bpfFlowKeys.size))) {
    fail("EINVAL", `${what}: ctx_in sets bpf_flow_keys fields other than flags`);
  }
  const flags = userCtx ? new DataView(userCtx.buffer, userCtx.byteOffset).getUint32(KEY.flags, true) : 0;
  const memory = new RunMemory(target.services.space);
  try {
    const space = memory.space;
    const data = memory.alloc(size);
    space.u8.set(attr.dataIn!, data);
    memory.region("packet", false, "flow dissector data", data, data + size);
    const keys = memory.alloc(bpfFlowKeys.size);
    memory.region("ctx", true, "bpf_flow_keys", keys, keys + bpfFlowKeys.size);
    const ctx = memory.alloc(skBuff.size);
    memory.region("ctx", false, "__sk_buff", ctx, ctx + skBuff.size);
    space.u32[(ctx + SKB_DATA) >> 2] = data;
    space.u32[(ctx + SKB_DATA_END) >> 2] = data + size;
    space.u32[(ctx + SKB_FLOW_KEYS) >> 2] = keys;
    const state = new FlowDissectorState(ctx, data, data + size, keys, false);
    // eth->h_proto as stored (big-endian), read as the machine's u16.
    const proto = space.u8[data + 12] | (space.u8[data + 13] << 8);
    const result = repeatRun(target, attr.repeat, () => flowDissect(target, state, proto, ETH_HLEN, size, flags));
    return testFinish(attr, { ...result, data: [space.read(keys, bpfFlowKeys.size)], ctx: userCtx }, what);
  } finally {
    memory.dispose();
  }
}

/**
 * bpf_flow_dissect(): keys zeroed, n_proto / nhoff / thoff / flags set, the
 * program run, then nhoff clamped to [nhoff, hlen] and thoff to [nhoff, hlen]
 * (clamp_t(u16, ...)).
 */
export function flowDissect(target: TestRunTarget, state: FlowDissectorState, proto: number, nhoff: number, hlen: number, flags: number): number {
  const { u8, dv } = target.services.space;
  const k = state.flowKeys;
  u8.fill(0, k, k + bpfFlowKeys.size);
  dv.setUint16(k + KEY.n_proto, proto, true);
  dv.setUint16(k + KEY.nhoff, nhoff, true);
  dv.setUint16(k + KEY.thoff, nhoff, true);
  dv.setUint32(k + KEY.flags, flags, true);
  const result = target.run(state.ctx, state);
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v & 0xffff, lo & 0xffff), hi & 0xffff);
  const n = clamp(dv.getUint16(k + KEY.nhoff, true), nhoff, hlen);
  dv.setUint16(k + KEY.nhoff, n, true);
  dv.setUint16(k + KEY.thoff, clamp(dv.getUint16(k + KEY.thoff, true), n, hlen), true);
  return result;
}

export const flowDissectorRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_FLOW_DISSECTOR, ctxOutDefault: bpfFlowKeys.size, testRun: testRunFlowDissector };
