/**
 * Map helpers (kernel/bpf/helpers.c: bpf_map_*_elem; kernel/bpf/bpf_iter.c:
 * bpf_for_each_map_elem): thin calls into the map's program side
 * (src/vm/maps), which holds each type's semantics. These are the hottest
 * helpers: no allocation, no BigInt, one cached map resolution per call.
 *
 * bpf_map_lookup_elem and bpf_map_lookup_percpu_elem return the value's address
 * in the space (NULL as 0). A map of maps returns the inner map's descriptor
 * address, which the same helpers accept as a map.
 */
import { ArrayMap, PercpuArrayMap } from "../maps/array.js";
import { HashMap } from "../maps/hash.js";
import type { BpfMap } from "../maps/map.js";
import { BPF_MAP_TYPE } from "../maps/uapi.js";
import type { VmServices } from "../runtime/services.js";
import { ProgramFault } from "../../errors.js";
import type { DirectHelper, DirectSite, Execution, HelperDef, HelperFn } from "./abi.js";
import { helperRuntime } from "./runtime.js";
import { E, def, mapArg, wrongMap } from "./util.js";

/** Ids: include/uapi/linux/bpf.h, enum bpf_func_id. */
export const BPF_FUNC_map_lookup_elem = 1;
export const BPF_FUNC_map_update_elem = 2;
export const BPF_FUNC_map_delete_elem = 3;
export const BPF_FUNC_map_push_elem = 87;
export const BPF_FUNC_map_pop_elem = 88;
export const BPF_FUNC_map_peek_elem = 89;
export const BPF_FUNC_for_each_map_elem = 164;
export const BPF_FUNC_map_lookup_percpu_elem = 195;

/**
 * Map types whose ops have map_for_each_callback (kernel/bpf/arraymap.c,
 * hashtab.c); the verifier refuses others with "callback function not allowed
 * for map".
 */
function forEachCapable(map: BpfMap): boolean {
  switch (map.type) {
    case BPF_MAP_TYPE.ARRAY:
    case BPF_MAP_TYPE.PERCPU_ARRAY:
    case BPF_MAP_TYPE.HASH:
    case BPF_MAP_TYPE.PERCPU_HASH:
    case BPF_MAP_TYPE.LRU_HASH:
    case BPF_MAP_TYPE.LRU_PERCPU_HASH:
      return true;
    default:
      return false;
  }
}

export function mapHelpers(services: VmServices): HelperDef[] {
  const map = mapArg(services);
  const rt = helperRuntime(services);

  const lookup: HelperFn = (call) => {
    const m = map(call, 1);
    const key = call.addr(2);
    services.checkMem(key, m.keySize, false, call.pc);
    call.ret64(m.lookupElem(key, call.exec.cpu), 0);
  };

  const update: HelperFn = (call) => {
    const m = map(call, 1);
    const key = call.addr(2);
    const value = call.addr(3);
    services.checkMem(key, m.keySize, false, call.pc);
    services.checkMem(value, m.valueSize, false, call.pc);
    // flags is a u64: bits above 32 are never valid update flags.
    const flags = call.hi(4) !== 0 ? 0xffffffff : call.u32(4);
    call.ret(m.updateElem(key, value, flags, call.exec.cpu));
  };

  const del: HelperFn = (call) => {
    const m = map(call, 1);
    const key = call.addr(2);
    services.checkMem(key, m.keySize, false, call.pc);
    call.ret(m.deleteElem(key, call.exec.cpu));
  };

  const push: HelperFn = (call) => {
    const m = map(call, 1);
    const value = call.addr(2);
    services.checkMem(value, m.valueSize, false, call.pc);
    const flags = call.hi(3) !== 0 ? 0xffffffff : call.u32(3);
    call.ret(m.pushElem(value, flags, call.exec.cpu));
  };

  const pop: HelperFn = (call) => {
    const m = map(call, 1);
    const value = call.addr(2);
    services.checkMem(value, m.valueSize, true, call.pc);
    call.ret(m.popElem(value, call.exec.cpu));
  };

  const peek: HelperFn = (call) => {
    const m = map(call, 1);
    const value = call.addr(2);
    services.checkMem(value, m.valueSize, true, call.pc);
    call.ret(m.peekElem(value, call.exec.cpu));
  };

  const lookupPercpu: HelperFn = (call) => {
    const m = map(call, 1);
    const key = call.addr(2);
    services.checkMem(key, m.keySize, false, call.pc);
    // cpu is a u32 argument: anything at or past nr_cpu_ids gives NULL.
    const cpu = call.u32(3);
    call.ret64(cpu < m.ncpus ? m.lookupPercpuElem(key, cpu) : 0, 0);
  };

  /**
   * bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, key, value,
   * ctx) per element in the kernel's order (arrays by index, hashes by bucket);
   * 1 stops. Returns the elements visited, or -EINVAL for flags.
   */
  const forEach: HelperFn = (call) => {
    const m = map(call, 1);
    const fnPc = call.u32(2);
    const ctx = call.num(3);
    const flagsNonzero = call.u32(4) !== 0 || call.hi(4) !== 0;
    const pc = call.pc;
    const exec = call.exec;
    if (!forEachCapable(m)) throw wrongMap(call, m, "for_each_map_elem", BPF_FUNC_for_each_map_elem);
    if (flagsNonzero) return call.ret(-E.EINVAL);
    const mapAddr = m.addr;
    const cpu = exec.cpu;
    let n = 0;
    if (m instanceof ArrayMap || m instanceof PercpuArrayMap) {
      // The kernel passes &key, a u32 on its own stack: here a read-only scratch slot.
      const keyAddr = rt.acquireScratch(pc);
      try {
        const base = m instanceof PercpuArrayMap ? m.base + cpu * m.cpuStride : m.base;
        const es = m.elemSize;
        for (let i = 0; i < m.maxEntries; i++) {
          n++;
          // Re-read the view each time: a callback's helpers may grow the space.
          services.space.u32[keyAddr >>> 2] = i;
          if (exec.invokeCallback(fnPc, mapAddr, keyAddr, base + i * es, ctx, 0) !== 0) break;
        }
      } finally {
        rt.releaseScratch();
      }
    } else if (m instanceof HashMap) {
      n = m.forEachElem(cpu, (keyAddr, valueAddr) => exec.invokeCallback(fnPc, mapAddr, keyAddr, valueAddr, ctx, 0));
    }
    call.ret(n);
  };

  /**
   * The map a call site passes as r1, when the code loads it right before the
   * call, and a resolver that answers as mapArg would at run time: the same
   * map while it lives (the program holds a reference), else whatever the
   * address holds then, or the fault.
   */
  const siteMap = (site: DirectSite): { map: BpfMap; now: () => BpfMap } | undefined => {
    const r1 = site.r1;
    const m = r1 && r1.hi === 0 ? services.mapAt(r1.lo >>> 0) : undefined;
    if (!m) return undefined;
    const addr = m.addr;
    const now = (): BpfMap => {
      if (!m.isDisposed) return m;
      const other = services.mapAt(addr);
      if (!other) throw new ProgramFault(site.pc, `R1 is not a map pointer (0x${addr.toString(16)})`);
      return other;
    };
    return { map: m, now };
  };

  // Direct forms (verified programs, a known map): the helpers above without the
  // call area, the map resolution and the no-op checks. Wasm passes i32s: `>>> 0`
  // makes addresses and flags unsigned again.
  const lookupDirect = (site: DirectSite, exec: Execution): DirectHelper | undefined => {
    const sm = siteMap(site);
    if (!sm) return undefined;
    const { map: m, now } = sm;
    return {
      args: [{ reg: 2, as: "lo" }],
      result: "u32",
      fn: (key) => (m.isDisposed ? now() : m).lookupElem(key >>> 0, exec.cpu),
    };
  };

  const updateDirect = (site: DirectSite, exec: Execution): DirectHelper | undefined => {
    const sm = siteMap(site);
    if (!sm) return undefined;
    const { map: m, now } = sm;
    return {
      args: [{ reg: 2, as: "lo" }, { reg: 3, as: "lo" }, { reg: 4, as: "sat" }],
      result: "s32",
      fn: (key, value, flags) => (m.isDisposed ? now() : m).updateElem(key >>> 0, value >>> 0, flags >>> 0, exec.cpu),
    };
  };

  const deleteDirect = (site: DirectSite, exec: Execution): DirectHelper | undefined => {
    const sm = siteMap(site);
    if (!sm) return undefined;
    const { map: m, now } = sm;
    return {
      args: [{ reg: 2, as: "lo" }],
      result: "s32",
      fn: (key) => (m.isDisposed ? now() : m).deleteElem(key >>> 0, exec.cpu),
    };
  };

  return [
    def(BPF_FUNC_map_lookup_elem, lookup, lookupDirect),
    def(BPF_FUNC_map_update_elem, update, updateDirect),
    def(BPF_FUNC_map_delete_elem, del, deleteDirect),
    def(BPF_FUNC_map_push_elem, push),
    def(BPF_FUNC_map_pop_elem, pop),
    def(BPF_FUNC_map_peek_elem, peek),
    def(BPF_FUNC_map_lookup_percpu_elem, lookupPercpu),
    def(BPF_FUNC_for_each_map_elem, forEach),
  ];
}
