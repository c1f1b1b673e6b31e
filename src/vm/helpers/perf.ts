/**
 * Perf event output and stack helpers (kernel/trace/bpf_trace.c,
 * net/core/filter.c, kernel/bpf/stackmap.c).
 *
 * bpf_perf_event_output has one id and several kernel implementations, picked
 * by program type; the vm picks by the run's state:
 *   - skb programs (typeState kind "skb"): bpf_skb_event_output — the upper 32
 *     bits of flags (BPF_F_CTXLEN_MASK) ask for that many bytes of the packet,
 *     from skb->data, appended after the data; more than skb->len is EFAULT;
 *   - xdp programs (kind "xdp"): bpf_xdp_event_output — the same from the
 *     xdp_buff (linear part, then fragments), bounded by xdp_get_buff_len();
 *   - everything else (tracing, sockets, cgroups): only the index bits
 *     (BPF_F_INDEX_MASK) are allowed.
 * The run state must expose, for "skb", `data` (address of skb->data) and `len`;
 * for "xdp", `data`, `dataEnd`, `frags` ({addr, size}[]) and `fragsSize`
 * (src/vm/progtypes/runtime/{skb,xdp}.ts do).
 *
 * Stacks: the vm has no kernel stacks. The host provides call stacks through
 * HostEnv.callStack (innermost first); without it every stack is empty, so
 * bpf_get_stackid fails with EFAULT and bpf_get_stack returns 0 bytes — what
 * the kernel does when get_perf_callchain() yields nothing.
 */
import { PerfEventArrayMap } from "../maps/perf_event_array.js";
import { StackTraceMap } from "../maps/stack_trace.js";
import {
  BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, BPF_F_SKIP_FIELD_MASK, BPF_F_USER_BUILD_ID, BPF_F_USER_STACK, PERF_MAX_STACK_DEPTH,
} from "../maps/uapi.js";
import type { ProgTypeRunState, VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef, HelperFn } from "./abi.js";
import { helperRuntime } from "./runtime.js";
import { def, E, mapArg, memCheck, wrongMap } from "./util.js";

export const BPF_FUNC_perf_event_output = 25;
export const BPF_FUNC_get_stackid = 27;
export const BPF_FUNC_get_stack = 67;
export const BPF_FUNC_get_task_stack = 141;

/** include/uapi/linux/bpf.h: BPF_F_CTXLEN_MASK is (0xfffffULL << 32). */
const CTXLEN_MASK_HI = 0xfffff;
/** sizeof(struct bpf_stack_build_id): s32 status, u8 build_id[20], u64 offset/ip. include/uapi/linux/bpf.h. */
const BUILD_ID_ENTRY = 32;
/** enum bpf_stack_build_id_status: BPF_STACK_BUILD_ID_IP — no build id, the entry holds the raw ip. */
const BPF_STACK_BUILD_ID_IP = 2;

interface SkbState extends ProgTypeRunState {
  readonly kind: "skb";
  readonly data: number;
  readonly len: number;
}
interface XdpState extends ProgTypeRunState {
  readonly kind: "xdp";
  readonly data: number;
  readonly dataEnd: number;
  readonly frags: readonly { readonly addr: number; readonly size: number }[];
  readonly fragsSize: number;
}

export function perfHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const map = mapArg(services);
  const rt = helperRuntime(services);

  /** The first `n` bytes of the packet, as bpf_skb_copy / bpf_xdp_copy gather them. */
  const packetBytes = (state: ProgTypeRunState | undefined, n: number): Uint8Array | number => {
    const u8 = services.space.u8;
    if (state?.kind === "skb") {
      const s = state as SkbState;
      if (n > s.len) return -E.EFAULT;
      return u8.slice(s.data, s.data + n);
    }
    if (state?.kind === "xdp") {
      const x = state as XdpState;
      const linear = x.dataEnd - x.data;
      if (n > linear + x.fragsSize) return -E.EFAULT;
      const out = new Uint8Array(n);
      const head = Math.min(n, linear);
      out.set(u8.subarray(x.data, x.data + head), 0);
      let at = head;
      for (const f of x.frags) {
        if (at >= n) break;
        const k = Math.min(f.size, n - at);
        out.set(u8.subarray(f.addr, f.addr + k), at);
        at += k;
      }
      return out;
    }
    return -E.EINVAL;
  };

  /** bpf_perf_event_output(ctx, map, flags, data, size) and its skb / xdp forms. */
  const output: HelperFn = (call) => {
    const m = map(call, 2);
    if (!(m instanceof PerfEventArrayMap)) throw wrongMap(call, m, "perf_event_output", BPF_FUNC_perf_event_output);
    const flagsLo = call.u32(3);
    const flagsHi = call.hi(3);
    const data = call.addr(4);
    const size = call.hi(5) !== 0 ? 0xffffffff : call.u32(5);
    check(data, size, false, call.pc);
    const state = services.current().typeState;
    const packet = state?.kind === "skb" || state?.kind === "xdp";
    if (flagsHi !== 0 && !(packet && (flagsHi & ~CTXLEN_MASK_HI) === 0)) return call.ret(-E.EINVAL);
    let extra: Uint8Array | undefined;
    if (packet) {
      const bytes = packetBytes(state, flagsHi);
      if (typeof bytes === "number") return call.ret(bytes);
      if (flagsHi) extra = bytes;
    }
    call.ret(m.output(call.exec.cpu, flagsLo, flagsHi, data, size, extra, packet));
  };

  /** The host's stack as (lo, hi) word pairs, at most `maxDepth` frames (get_perf_callchain's max_stack). */
  const stackWords = (user: boolean, maxDepth: number): Uint32Array => {
    const frames = services.host.callStack?.(user ? "user" : "kernel") ?? [];
    const n = Math.min(frames.length, maxDepth);
    const w = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = BigInt.asUintN(64, frames[i]);
      w[2 * i] = Number(v & 0xffffffffn);
      w[2 * i + 1] = Number(v >> 32n);
    }
    return w;
  };

  /** bpf_get_stackid(ctx, map, flags). */
  const getStackid: HelperFn = (call) => {
    const m = map(call, 2);
    if (!(m instanceof StackTraceMap)) throw wrongMap(call, m, "get_stackid", BPF_FUNC_get_stackid);
    const flags = call.u32(3);
    if (call.hi(3) !== 0 || (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID))) {
      return call.ret(-E.EINVAL);
    }
    // max_depth = value_size / 8 + skip, capped at sysctl_perf_event_max_stack (kernel/bpf/stackmap.c).
    const skip = flags & BPF_F_SKIP_FIELD_MASK;
    const depth = Math.min(m.maxDepth + skip, PERF_MAX_STACK_DEPTH);
    call.ret(m.getStackId(stackWords((flags & BPF_F_USER_STACK) !== 0, depth), flags));
  };

  /** __bpf_get_stack(): copies the stack (or build-id entries) into buf; the rest is zeroed. */
  const getStack = (call: HelperCall, bufArg: number, sizeArg: number, flagsArg: number): number => {
    const buf = call.addr(bufArg);
    const size = call.u32(sizeArg);
    check(buf, size, true, call.pc);
    const u8 = services.space.u8;
    const flags = call.u32(flagsArg);
    const user = (flags & BPF_F_USER_STACK) !== 0;
    const buildId = (flags & BPF_F_USER_BUILD_ID) !== 0;
    const clear = (err: number): number => {
      services.space.u8.fill(0, buf, buf + size);
      return err;
    };
    if (call.hi(flagsArg) !== 0 || (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID))) return clear(-E.EINVAL);
    if (!user && buildId) return clear(-E.EINVAL);
    const elem = buildId ? BUILD_ID_ENTRY : 8;
    if (size % elem) return clear(-E.EINVAL);
    const skip = flags & BPF_F_SKIP_FIELD_MASK;
    const maxDepth = Math.min(size / elem + skip, PERF_MAX_STACK_DEPTH);
    const w = stackWords(user, maxDepth);
    const nr = w.length >>> 1;
    if (nr < skip) return clear(-E.EFAULT);
    const n = nr - skip;
    const dv = services.space.dv;
    for (let i = 0; i < n; i++) {
      const lo = w[2 * (skip + i)];
      const hi = w[2 * (skip + i) + 1];
      if (buildId) {
        const e = buf + i * elem;
        // No build ids in the vm: every entry falls back to its raw ip.
        u8.fill(0, e, e + elem);
        dv.setInt32(e, BPF_STACK_BUILD_ID_IP, true);
        dv.setUint32(e + 24, lo, true);
        dv.setUint32(e + 28, hi, true);
      } else {
        dv.setUint32(buf + 8 * i, lo, true);
        dv.setUint32(buf + 8 * i + 4, hi, true);
      }
    }
    const copied = n * elem;
    if (size > copied) u8.fill(0, buf + copied, buf + size);
    return copied;
  };

  return [
    def(BPF_FUNC_perf_event_output, output),
    def(BPF_FUNC_get_stackid, getStackid),
    /** bpf_get_stack(ctx, buf, size, flags). */
    def(BPF_FUNC_get_stack, (call) => call.ret(getStack(call, 2, 3, 4))),
    /**
     * bpf_get_task_stack(task, buf, size, flags): the vm has one task, the one
     * bpf_get_current_task_btf returns; any other task pointer is EFAULT (no
     * stack to take).
     */
    def(BPF_FUNC_get_task_stack, (call) => {
      if (call.u32(1) !== rt.taskAddr || call.hi(1) !== 0) {
        const buf = call.addr(2);
        const size = call.u32(3);
        check(buf, size, true, call.pc);
        services.space.u8.fill(0, buf, buf + size);
        return call.ret(-E.EFAULT);
      }
      call.ret(getStack(call, 2, 3, 4));
    }),
  ];
}
