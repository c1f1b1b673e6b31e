/**
 * BPF_PROG_TYPE_SK_LOOKUP at run time: bpf_prog_test_run_sk_lookup() in
 * net/bpf/test_run.c and BPF_PROG_SK_LOOKUP_RUN_ARRAY (include/linux/filter.h).
 * The context is a struct bpf_sk_lookup built from ctx_in: family and protocol
 * truncated to u16 as the kernel stores them, the other family's addresses
 * reading as zero, no socket selected yet. The vm has no sockets to select
 * (bpf_sk_assign belongs to the socket helpers), so the cookie stays 0.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import type { ProgTypeRunState } from "../../runtime/services.js";
import { BPF_PROG_TYPE_SK_LOOKUP } from "../constants.js";
import { bpfSkLookup } from "../ctx/bpf_sk_lookup.js";
import { RunMemory, U16_MAX, ctxInit, fail, rangeIsZero, repeatRun, testFinish, testRunAttr } from "./common.js";
import { AF_INET, AF_INET6 } from "./skb.js";
import type { ProgTypeRuntime, TestRunTarget } from "./types.js";

const F = Object.fromEntries(bpfSkLookup.fields.map((f) => [f.name, f.offset])) as Readonly<Record<string, number>>;
/** include/uapi/linux/bpf.h, enum sk_action. */
export const SK_DROP = 0;
export const SK_PASS = 1;

/** struct bpf_sk_lookup_kern: the selection a program makes (none in the vm). */
export class SkLookupState implements ProgTypeRunState {
  readonly kind = "sk_lookup";
  /** Cookie of the socket bpf_sk_assign selected, or 0. */
  selectedCookie = 0;
  noReuseport = false;
  constructor(readonly ctx: number) {}
}

function testRunSkLookup(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, bpfSkLookup.size);
  const what = `sk_lookup program ${target.program.name}`;
  if (attr.flags || attr.cpu || attr.batchSize) fail("EINVAL", `${what}: flags, cpu or batch_size`);
  if (attr.dataIn || attr.dataSizeIn || attr.dataOut || attr.dataSizeOut) fail("EINVAL", `${what}: sk_lookup runs take no packet`);
  const user = ctxInit(attr, bpfSkLookup.size);
  if (!user) fail("EINVAL", `${what}: a struct bpf_sk_lookup is required in ctx_in`);
  const dv = new DataView(user.buffer, user.byteOffset, user.byteLength);
  if (!rangeIsZero(user, F.sk, F.sk + 8)) fail("EINVAL", `${what}: sk must be 0`);
  if (!rangeIsZero(user, F.local_port + 4, bpfSkLookup.size)) fail("EINVAL", `${what}: fields after local_port must be 0`);
  const localPort = dv.getUint32(F.local_port, true);
  if (localPort > U16_MAX) fail("ERANGE", `${what}: local_port ${localPort}`);
  const family = dv.getUint32(F.family, true) & 0xffff;
  if (family !== AF_INET && family !== AF_INET6) fail("EAFNOSUPPORT", `${what}: family ${family}`);
  const memory = new RunMemory(target.services.space);
  try {
    const space = memory.space;
    const ctx = memory.alloc(bpfSkLookup.size);
    memory.region("ctx", false, "bpf_sk_lookup", ctx, ctx + bpfSkLookup.size);
    const c = space.dv;
    c.setUint32(ctx + F.family, family, true);
    c.setUint32(ctx + F.protocol, dv.getUint32(F.protocol, true) & 0xffff, true);
    c.setUint16(ctx + F.remote_port, dv.getUint16(F.remote_port, true), true);
    c.setUint32(ctx + F.local_port, localPort, true);
    if (family === AF_INET) {
      space.u8.set(user.subarray(F.remote_ip4, F.remote_ip4 + 4), ctx + F.remote_ip4);
      space.u8.set(user.subarray(F.local_ip4, F.local_ip4 + 4), ctx + F.local_ip4);
    } else {
      space.u8.set(user.subarray(F.remote_ip6, F.remote_ip6 + 16), ctx + F.remote_ip6);
      space.u8.set(user.subarray(F.local_ip6, F.local_ip6 + 16), ctx + F.local_ip6);
    }
    const state = new SkLookupState(ctx);
    const result = repeatRun(target, attr.repeat, () => {
      state.selectedCookie = 0;
      const ret = target.run(ctx, state);
      // One program: SK_PASS unless it dropped without selecting a socket.
      return ret === SK_DROP && !state.selectedCookie ? SK_DROP : SK_PASS;
    });
    dv.setUint32(F.cookie, state.selectedCookie, true);
    dv.setUint32(F.cookie + 4, 0, true);
    return testFinish(attr, { ...result, ctx: user }, what);
  } finally {
    memory.dispose();
  }
}

export const skLookupRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_SK_LOOKUP, ctxOutDefault: bpfSkLookup.size, testRun: testRunSkLookup };
