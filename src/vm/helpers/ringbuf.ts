/**
 * Ring buffer helpers (kernel/bpf/ringbuf.c): output, reserve / submit /
 * discard, query, the dynptr variants, and bpf_user_ringbuf_drain. The ring's
 * semantics (record headers, positions, wakeups) live in src/vm/maps/ringbuf.ts
 * and user_ringbuf.ts; these are the program-facing entry points.
 *
 * submit and discard find the ring from the record itself (the header's
 * pg_off), as the kernel does. For unverified programs a pointer that is not a
 * reserved record is a fault; the verifier proves it for the others.
 */
import { ProgramFault } from "../../errors.js";
import { RingBufBase, RingBufMap } from "../maps/ringbuf.js";
import { UserRingBufMap } from "../maps/user_ringbuf.js";
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_HDR_SZ } from "../maps/uapi.js";
import type { VmServices } from "../runtime/services.js";
import type { DirectHelper, DirectSite, HelperCall, HelperDef, HelperFn } from "./abi.js";
import {
  BPF_DYNPTR_SIZE, BPF_DYNPTR_TYPE_LOCAL, BPF_DYNPTR_TYPE_RINGBUF, DYNPTR_MAX_SIZE, type Dynptr, initDynptr, nullDynptr,
  readDynptr,
} from "./dynptr.js";
import { helperRuntime } from "./runtime.js";
import { def, E, mapArg, memCheck, wrongMap } from "./util.js";

export const BPF_FUNC_ringbuf_output = 130;
export const BPF_FUNC_ringbuf_reserve = 131;
export const BPF_FUNC_ringbuf_submit = 132;
export const BPF_FUNC_ringbuf_discard = 133;
export const BPF_FUNC_ringbuf_query = 134;
export const BPF_FUNC_ringbuf_reserve_dynptr = 198;
export const BPF_FUNC_ringbuf_submit_dynptr = 199;
export const BPF_FUNC_ringbuf_discard_dynptr = 200;
export const BPF_FUNC_user_ringbuf_drain = 209;

export function ringbufHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const map = mapArg(services);
  const rt = helperRuntime(services);

  const ring = (call: HelperCall, helper: string, id: number): RingBufMap => {
    const m = map(call, 1);
    if (!(m instanceof RingBufMap)) throw wrongMap(call, m, helper, id);
    return m;
  };

  /**
   * The ring a reserved record belongs to. A verified program can only pass
   * records it reserved; for an unverified one anything else faults (the
   * kernel would follow a wild pg_off).
   */
  const recordRing = (call: HelperCall, sample: number, sampleHi: number, helper: string): RingBufMap => {
    const hdr = sample - BPF_RINGBUF_HDR_SZ;
    const space = services.space;
    const r = sampleHi === 0 && hdr >= 0 && (hdr & 7) === 0 && hdr + BPF_RINGBUF_HDR_SZ <= space.byteLength
      ? RingBufBase.fromHeader(space, hdr)
      : undefined;
    if (!(r instanceof RingBufMap) || hdr < r.dataAddr || hdr >= r.dataAddr + r.size ||
        !(space.u32[hdr >>> 2] & BPF_RINGBUF_BUSY_BIT)) {
      throw new ProgramFault(call.pc, `bpf_${helper}: 0x${sample.toString(16)} is not a reserved ring buffer record`);
    }
    return r;
  };

  /** bpf_ringbuf_output(map, data, size, flags): RingBufMap.output. */
  const output: HelperFn = (call) => {
    const m = ring(call, "ringbuf_output", BPF_FUNC_ringbuf_output);
    const data = call.addr(2);
    const size = call.hi(3) !== 0 ? 0xffffffff : call.u32(3);
    check(data, size, false, call.pc);
    const flags = call.hi(4) !== 0 ? 0xffffffff : call.u32(4);
    call.ret(m.output(data, size, flags));
  };

  /** The direct form on a known ring (verified programs: the data range is proven). */
  const outputDirect = (site: DirectSite): DirectHelper | undefined => {
    const r1 = site.r1;
    const m = r1 && r1.hi === 0 ? services.mapAt(r1.lo >>> 0) : undefined;
    if (!(m instanceof RingBufMap)) return undefined;
    const addr = m.addr;
    return {
      args: [{ reg: 2, as: "lo" }, { reg: 3, as: "sat" }, { reg: 4, as: "sat" }],
      result: "s32",
      fast: { kind: "ringbuf_output", consAddr: m.consAddr, prodAddr: m.prodAddr, pendAddr: m.pendAddr, dataAddr: m.dataAddr, dataPgOff: m.dataPgOff, size: m.size },
      fn: (data, size, flags) => {
        if (m.isDisposed) {
          // What the generic helper's map resolution would find now.
          const now = services.mapAt(addr);
          if (!now) throw new ProgramFault(site.pc, `R1 is not a map pointer (0x${addr.toString(16)})`);
          if (!(now instanceof RingBufMap)) throw new ProgramFault(site.pc, `cannot pass map_type ${now.type} into func bpf_ringbuf_output#${BPF_FUNC_ringbuf_output}`);
          return now.output(data >>> 0, size >>> 0, flags >>> 0);
        }
        return m.output(data >>> 0, size >>> 0, flags >>> 0);
      },
    };
  };

  /** bpf_ringbuf_reserve(map, size, flags): the record, or NULL (also for any flags). */
  const reserve: HelperFn = (call) => {
    const m = ring(call, "ringbuf_reserve", BPF_FUNC_ringbuf_reserve);
    if (call.u32(3) !== 0 || call.hi(3) !== 0) return call.ret64(0, 0);
    if (call.hi(2) !== 0) return call.ret64(0, 0);
    call.ret64(m.reserve(call.u32(2)), 0);
  };

  const commit = (discard: boolean, helper: string): HelperFn => (call) => {
    const r = recordRing(call, call.u32(1), call.hi(1), helper);
    const flags = call.u32(2);
    r.commit(call.u32(1), flags, discard);
    call.ret64(0, 0);
  };

  const query: HelperFn = (call) => {
    const m = ring(call, "ringbuf_query", BPF_FUNC_ringbuf_query);
    // Unknown flags (the whole u64) give 0.
    call.ret(call.hi(2) !== 0 ? 0 : m.query(call.u32(2)));
  };

  const dp: Dynptr = { data: 0, dataHi: 0, size: 0, offset: 0, type: 0, rdonly: false };

  /** bpf_ringbuf_reserve_dynptr(map, size, flags, ptr). */
  const reserveDynptr: HelperFn = (call) => {
    const m = ring(call, "ringbuf_reserve_dynptr", BPF_FUNC_ringbuf_reserve_dynptr);
    const size = call.u32(2);
    const flagsNonzero = call.u32(3) !== 0 || call.hi(3) !== 0;
    const ptr = call.addr(4);
    check(ptr, BPF_DYNPTR_SIZE, true, call.pc);
    const space = services.space;
    if (flagsNonzero) {
      nullDynptr(space, ptr);
      return call.ret(-E.EINVAL);
    }
    if (size > DYNPTR_MAX_SIZE) {
      nullDynptr(space, ptr);
      return call.ret(-E.E2BIG);
    }
    const sample = m.reserve(size);
    if (!sample) {
      // No room is EINVAL here (bpf_ringbuf_output says EAGAIN).
      nullDynptr(services.space, ptr);
      return call.ret(-E.EINVAL);
    }
    initDynptr(services.space, ptr, sample, BPF_DYNPTR_TYPE_RINGBUF, 0, size);
    call.ret(0);
  };

  /** bpf_ringbuf_{submit,discard}_dynptr(ptr, flags): a NULL dynptr is a no-op; the dynptr is nulled after. */
  const commitDynptr = (discard: boolean, helper: string): HelperFn => (call) => {
    const ptr = call.addr(1);
    check(ptr, BPF_DYNPTR_SIZE, true, call.pc);
    const flags = call.u32(2);
    readDynptr(services.space, ptr, dp);
    if (dp.data === 0 && dp.dataHi === 0) return call.ret64(0, 0);
    const r = recordRing(call, dp.data, dp.dataHi, helper);
    r.commit(dp.data, flags, discard);
    nullDynptr(services.space, ptr);
    call.ret64(0, 0);
  };

  /**
   * bpf_user_ringbuf_drain(map, callback, ctx, flags): callback(dynptr, ctx) per
   * committed sample (a LOCAL dynptr over it), 1 stops; returns the samples
   * handed to the callback, or -errno (EINVAL flags, EBUSY, a bad header).
   */
  const drain: HelperFn = (call) => {
    const m = map(call, 1);
    if (!(m instanceof UserRingBufMap)) throw wrongMap(call, m, "user_ringbuf_drain", BPF_FUNC_user_ringbuf_drain);
    const fnPc = call.u32(2);
    const ctx = call.num(3);
    const flags = call.hi(4) !== 0 ? 0xffffffff : call.u32(4);
    const exec = call.exec;
    const slot = rt.acquireScratch(call.pc);
    try {
      const n = m.drain(flags, (sample, size) => {
        initDynptr(services.space, slot, sample, BPF_DYNPTR_TYPE_LOCAL, 0, size);
        return exec.invokeCallback(fnPc, slot, ctx, 0, 0, 0);
      });
      call.ret(n);
    } finally {
      rt.releaseScratch();
    }
  };

  return [
    def(BPF_FUNC_ringbuf_output, output, outputDirect),
    def(BPF_FUNC_ringbuf_reserve, reserve),
    def(BPF_FUNC_ringbuf_submit, commit(false, "ringbuf_submit")),
    def(BPF_FUNC_ringbuf_discard, commit(true, "ringbuf_discard")),
    def(BPF_FUNC_ringbuf_query, query),
    def(BPF_FUNC_ringbuf_reserve_dynptr, reserveDynptr),
    def(BPF_FUNC_ringbuf_submit_dynptr, commitDynptr(false, "ringbuf_submit_dynptr")),
    def(BPF_FUNC_ringbuf_discard_dynptr, commitDynptr(true, "ringbuf_discard_dynptr")),
    def(BPF_FUNC_user_ringbuf_drain, drain),
  ];
}
