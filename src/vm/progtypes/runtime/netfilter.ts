/**
 * BPF_PROG_TYPE_NETFILTER at run time: bpf_prog_test_run_nf() in
 * net/bpf/test_run.c. The context is struct bpf_nf_ctx { state, skb }, two
 * pointers to kernel objects a program reads through BTF. The vm builds
 * struct nf_hook_state with the kernel's layout (hook, pf; the in/out device,
 * sk, net and okfn pointers are 0: the vm has no kernel objects behind them)
 * and points `skb` at the skb the run builds, whose bytes are not a kernel
 * struct sk_buff: BTF-typed reads through it are not modelled.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import { BPF_PROG_TYPE_NETFILTER } from "../constants.js";
import { bpfNfCtx } from "../ctx/bpf_nf_ctx.js";
import { ETH_HLEN, PAGE_SIZE, RunMemory, SKB_SHINFO_SIZE, ctxInit, fail, rangeIsZero, repeatRun, testFinish, testRunAttr } from "./common.js";
import { ETH_P_IP, ETH_P_IPV6, SKB_TEST_HEADROOM, createSkBuff } from "./skb.js";
import type { ProgTypeRuntime, TestRunTarget } from "./types.js";

/** sizeof(struct nf_hook_state) on x86-64: hook u8, pf u8, in, out, sk, net, okfn (8 bytes each from offset 8). */
export const NF_HOOK_STATE_SIZE = 48;
/** include/uapi/linux/netfilter.h. */
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
/** enum nf_inet_hooks. */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;

const IPHDR = 20;
const IPV6HDR = 40;

function testRunNf(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, 0);
  const what = `netfilter program ${target.program.name}`;
  if (attr.flags || attr.cpu || attr.batchSize) fail("EINVAL", `${what}: flags, cpu or batch_size`);
  const size = attr.dataSizeIn;
  if (size < IPHDR) fail("EINVAL", `${what}: packet shorter than an IPv4 header`);
  if (size > PAGE_SIZE - SKB_TEST_HEADROOM - SKB_SHINFO_SIZE) fail("EINVAL", `${what}: packet does not fit in a page`);
  const user = ctxInit(attr, NF_HOOK_STATE_SIZE);
  let hook = NF_INET_LOCAL_OUT;
  let pf = NFPROTO_IPV4;
  if (user) {
    // verify_and_copy_hook_state(): no device, socket, netns or okfn pointers; IPv4 or IPv6.
    if (!rangeIsZero(user, 8, NF_HOOK_STATE_SIZE)) fail("EINVAL", `${what}: nf_hook_state pointers must be 0`);
    if (user[1] !== NFPROTO_IPV4 && user[1] !== NFPROTO_IPV6) fail("EINVAL", `${what}: pf ${user[1]}`);
    pf = user[1];
    hook = user[0];
  }
  const memory = new RunMemory(target.services.space);
  try {
    // The packet starts with its Ethernet header except at LOCAL_OUT.
    const skb = createSkBuff(memory, attr.dataIn!, { sock: false });
    if (hook !== NF_INET_LOCAL_OUT) {
      if (size < ETH_HLEN + IPHDR) fail("EINVAL", `${what}: packet shorter than Ethernet and IPv4 headers`);
      switch (skb.protocol) {
        case ETH_P_IP:
          if (pf !== NFPROTO_IPV4) fail("EINVAL", `${what}: IPv4 packet for pf ${pf}`);
          break;
        case ETH_P_IPV6:
          if (size < ETH_HLEN + IPV6HDR) fail("EINVAL", `${what}: packet shorter than Ethernet and IPv6 headers`);
          if (pf !== NFPROTO_IPV6) fail("EINVAL", `${what}: IPv6 packet for pf ${pf}`);
          break;
        default:
          fail("EPROTO", `${what}: neither IPv4 nor IPv6`);
      }
    } else {
      // No Ethernet header to parse: the whole buffer is the IP packet.
      skb.push(ETH_HLEN);
      skb.macHeader = -1;
      skb.networkHeader = skb.data;
      skb.protocol = pf === NFPROTO_IPV4 ? ETH_P_IP : ETH_P_IPV6;
    }
    skb.dataPointers = true;
    skb.sync();
    const space = memory.space;
    const state = memory.alloc(NF_HOOK_STATE_SIZE);
    space.u8[state] = hook;
    space.u8[state + 1] = pf;
    memory.region("ctx", false, "nf_hook_state", state, state + NF_HOOK_STATE_SIZE);
    const ctx = memory.alloc(bpfNfCtx.size);
    space.u32[ctx >> 2] = state;
    space.u32[(ctx + 8) >> 2] = skb.ctx;
    memory.region("ctx", false, "bpf_nf_ctx", ctx, ctx + bpfNfCtx.size);
    const result = repeatRun(target, attr.repeat, () => target.run(ctx, skb));
    // bpf_test_finish(NULL data, size 0): data_out gets nothing, data_size_out 0.
    return testFinish(attr, { ...result, data: [] }, what);
  } finally {
    memory.dispose();
  }
}

export const netfilterRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_NETFILTER, ctxOutDefault: 0, testRun: testRunNf };
