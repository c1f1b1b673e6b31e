import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R6, R7, R8, R9 } from "../../../src/isa/builder.js";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import { BPF_F_NO_PREALLOC, BPF_F_ZERO_SEED, BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { describeKernel } from "../../helpers/kernel.js";
import { Harness, type Prog, ldMap, ldMapValue, le32, le64 } from "./harness.js";
import { type KMapSpec, kernelLoad, kernelMap, kernelRunRawTp, pinCpu } from "./kdiff.js";
import { type MapOp, compileOps, dumpKernel, dumpVm, record } from "./mapops.js";

const T = BPF_MAP_TYPE;
const k4 = le32;
const v8 = (n: number | bigint): Uint8Array => le64(BigInt(n));
const v16 = (a: number, b: number): Uint8Array => new Uint8Array([...le64(BigInt(a)), ...le64(BigInt(b))]);
const EINVAL = -22n;
const ENOENT = -2n;
const EEXIST = -17n;
const E2BIG = -7n;

interface Scenario {
  readonly name: string;
  /** Maps 1.. (map 0, the record, is added). */
  readonly maps: readonly KMapSpec[];
  readonly ops: readonly MapOp[];
  /** Expected record (r0 and value word per op), pinned from Linux 6.18. */
  readonly expect?: readonly bigint[];
}

const NA = -1n; // no value found
const SCENARIOS: readonly Scenario[] = [
  {
    name: "hash: update flags, lookup, delete, errors",
    maps: [{ type: T.HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: BPF_F_ZERO_SEED }],
    ops: [
      { op: "update", map: 1, key: k4(1), value: v8(11) },
      { op: "update", map: 1, key: k4(1), value: v8(12), flags: 1 },
      { op: "update", map: 1, key: k4(2), value: v8(22), flags: 2 },
      { op: "lookup", map: 1, key: k4(1) },
      { op: "lookup", map: 1, key: k4(2) },
      { op: "update", map: 1, key: k4(1), value: v8(13), flags: 2 },
      { op: "lookup", map: 1, key: k4(1) },
      { op: "update", map: 1, key: k4(3), value: v8(33), flags: 4 },
      { op: "update", map: 1, key: k4(3), value: v8(33), flags: 8 },
      { op: "delete", map: 1, key: k4(2) },
      { op: "update", map: 1, key: k4(2), value: v8(22) },
      { op: "update", map: 1, key: k4(3), value: v8(33) },
      { op: "update", map: 1, key: k4(4), value: v8(44) },
      { op: "update", map: 1, key: k4(5), value: v8(55) },
      { op: "delete", map: 1, key: k4(1) },
      { op: "update", map: 1, key: k4(5), value: v8(55) },
    ],
    expect: [0n, 0n, EEXIST, 0n, ENOENT, 0n, 1n, 11n, 0n, NA, 0n, 0n, 1n, 13n, EINVAL, 0n, EINVAL, 0n, ENOENT, 0n, 0n, 0n, 0n, 0n, 0n, 0n, E2BIG, 0n, 0n, 0n, 0n, 0n],
  },
  {
    name: "hash without preallocation and an LRU hash that evicts",
    maps: [
      { type: T.HASH, keySize: 8, valueSize: 16, maxEntries: 2, flags: BPF_F_ZERO_SEED | BPF_F_NO_PREALLOC },
      { type: T.LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 8, flags: BPF_F_ZERO_SEED },
    ],
    ops: [
      { op: "update", map: 1, key: v8(1), value: v16(1, 2) },
      { op: "update", map: 1, key: v8(2), value: v16(3, 4) },
      { op: "update", map: 1, key: v8(3), value: v16(5, 6) },
      { op: "update", map: 1, key: v8(2), value: v16(7, 8) },
      { op: "lookup", map: 1, key: v8(2) },
      ...Array.from({ length: 12 }, (_, i): MapOp => ({ op: "update", map: 2, key: k4(i), value: v8(i * 10) })),
      { op: "lookup", map: 2, key: k4(0) },
      { op: "lookup", map: 2, key: k4(11) },
    ],
  },
  {
    name: "array and per-CPU array: fixed indexes, E2BIG, EEXIST, EINVAL delete, lookup_percpu_elem",
    maps: [
      { type: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
      { type: T.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 },
    ],
    ops: [
      { op: "lookup", map: 1, key: k4(3) },
      { op: "lookup", map: 1, key: k4(4) },
      { op: "update", map: 1, key: k4(3), value: v8(7) },
      { op: "update", map: 1, key: k4(4), value: v8(7) },
      { op: "update", map: 1, key: k4(2), value: v8(7), flags: 1 },
      { op: "update", map: 1, key: k4(2), value: v8(8), flags: 2 },
      { op: "update", map: 1, key: k4(2), value: v8(8), flags: 3 },
      { op: "delete", map: 1, key: k4(2) },
      { op: "lookup", map: 1, key: k4(3) },
      { op: "update", map: 2, key: k4(1), value: v8(99) },
      { op: "lookup", map: 2, key: k4(1) },
      { op: "lookup_percpu", map: 2, key: k4(1), cpu: 0 },
      { op: "lookup_percpu", map: 2, key: k4(1), cpu: 1 },
      { op: "lookup_percpu", map: 2, key: k4(1), cpu: 64 },
      { op: "lookup_percpu", map: 2, key: k4(9), cpu: 0 },
    ],
    expect: [
      1n, 0n, 0n, NA, 0n, 0n, E2BIG, 0n, EEXIST, 0n, 0n, 0n, EINVAL, 0n, EINVAL, 0n, 1n, 7n, 0n, 0n,
      1n, 99n, 1n, 99n, 1n, 0n, 0n, NA, 0n, NA,
    ],
  },
  {
    name: "per-CPU hash: lookup_percpu_elem per CPU",
    maps: [{ type: T.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: BPF_F_ZERO_SEED }],
    ops: [
      { op: "update", map: 1, key: k4(5), value: v8(50) },
      { op: "lookup_percpu", map: 1, key: k4(5), cpu: 0 },
      { op: "lookup_percpu", map: 1, key: k4(5), cpu: 1 },
      { op: "lookup_percpu", map: 1, key: k4(5), cpu: 2 },
      { op: "delete", map: 1, key: k4(5) },
      { op: "lookup_percpu", map: 1, key: k4(5), cpu: 0 },
    ],
  },
  {
    name: "queue and stack: push, overwrite with BPF_EXIST, pop, peek, empty",
    maps: [
      { type: T.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 },
      { type: T.STACK, keySize: 0, valueSize: 8, maxEntries: 2 },
    ],
    ops: [
      { op: "push", map: 1, value: v8(1) },
      { op: "push", map: 1, value: v8(2) },
      { op: "push", map: 1, value: v8(3) },
      { op: "push", map: 1, value: v8(3), flags: 2 },
      { op: "push", map: 1, value: v8(3), flags: 1 },
      { op: "peek", map: 1, size: 8 },
      { op: "pop", map: 1, size: 8 },
      { op: "pop", map: 1, size: 8 },
      { op: "pop", map: 1, size: 8 },
      { op: "push", map: 2, value: v8(1) },
      { op: "push", map: 2, value: v8(2) },
      { op: "peek", map: 2, size: 8 },
      { op: "pop", map: 2, size: 8 },
      { op: "push", map: 2, value: v8(9) },
      { op: "pop", map: 2, size: 8 },
      { op: "pop", map: 2, size: 8 },
      { op: "peek", map: 2, size: 8 },
    ],
    expect: [
      0n, 0n, 0n, 0n, E2BIG, 0n, 0n, 0n, EINVAL, 0n, 0n, 2n, 0n, 2n, 0n, 3n, ENOENT, 0n,
      0n, 0n, 0n, 0n, 0n, 2n, 0n, 2n, 0n, 0n, 0n, 9n, 0n, 1n, ENOENT, 0n,
    ],
  },
  {
    name: "bloom filter: push then peek hits, misses, bad flags",
    maps: [{ type: T.BLOOM_FILTER, keySize: 0, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }],
    ops: [
      { op: "push", map: 1, value: v8(0xabc) },
      { op: "push", map: 1, value: v8(0xdef), flags: 1 },
      { op: "peek", map: 1, size: 8 },
    ],
  },
];

/** Runs a scenario on the vm: the record and each map's contents. */
function runVmScenario(sc: Scenario, checked = true): { rec: bigint[]; dumps: string[][] } {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 16 * sc.ops.length, maxEntries: 1 });
  const maps: BpfMap[] = [rec, ...sc.maps.map((m) => h.createMap({
    mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags ?? 0,
  }))];
  h.run(h.load(compileOps(sc.ops), { maps, checked }));
  const dumps = maps.slice(1).map((m) => (m.type === T.QUEUE || m.type === T.STACK || m.type === T.BLOOM_FILTER ? [] : dumpVm(m)));
  return { rec: record(rec.lookup(new Uint8Array(4))!, sc.ops.length), dumps };
}

describe("map helpers on the vm", () => {
  test.each(SCENARIOS.filter((s) => s.expect).map((s) => [s.name, s] as const))("%s", (_, sc) => {
    expect(runVmScenario(sc).rec).toEqual(sc.expect);
    // Verified programs (no checks) behave the same.
    expect(runVmScenario(sc, false).rec).toEqual(sc.expect);
  });

  test("an unverified program passing a garbage map pointer faults", () => {
    const h = new Harness();
    const b = new ProgramBuilder().mov(R1, 0x12345).mov(R2, FP).add(R2, -8).st(8, FP, -8, 0).call("bpf_map_lookup_elem").exit();
    expect(() => h.run(h.load({ insns: b.build().instructions }))).toThrow(/R1 is not a map pointer/);
  });

  test("an unverified program passing a key outside the space faults at the helper call", () => {
    const h = new Harness();
    const m = h.createMap({ mapType: T.HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
    const b = new ProgramBuilder();
    ldMap(b, R1, 0);
    b.mov(R2, 0x20).call("bpf_map_lookup_elem").exit();
    expect(() => h.run(h.load({ insns: b.build().instructions }, { maps: [m] }))).toThrow(/null pointer/);
  });

  test("a map of maps returns the inner map, which the same helpers take", () => {
    const h = new Harness();
    const inner = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    const outer = h.createMap({ mapType: T.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, innerMap: inner });
    (outer as unknown as { set(i: number, m: BpfMap): number }).set(0, inner);
    inner.update(le32(1), v8(77));
    const b = new ProgramBuilder().st(4, FP, -4, 0);
    ldMap(b, R1, 0);
    b.mov(R2, FP).add(R2, -4).call("bpf_map_lookup_elem").jeq(R0, 0, "out")
      .mov(R1, R0).st(4, FP, -4, 1).mov(R2, FP).add(R2, -4).call("bpf_map_lookup_elem").jeq(R0, 0, "out")
      .ldx(8, R0, R0, 0).label("out").exit();
    expect(h.run(h.load({ insns: b.build().instructions }, { maps: [outer] }))).toBe(77n);
  });
});

// ---------------------------------------------------------------- for_each_map_elem

/**
 * for_each over map 1 with a callback that appends (key, value word) pairs to
 * the record (map 0) — a counter at offset 0, pairs after — and stops when the
 * value equals `stopAt`; deleting the element it sees when `deleteSeen`. r0 is
 * stored at offset 8.
 */
function forEachProg(stopAt: number, deleteSeen = false, flags = 0): Prog {
  const b = new ProgramBuilder();
  ldMap(b, R1, 1);
  b.ldFunc(R2, "cb").mov(R3, 0).mov(R4, flags).call("bpf_for_each_map_elem");
  ldMapValue(b, R9, 0);
  b.stx(8, R9, 8, R0).mov(R0, 0).exit();
  const cb = b.length;
  b.label("cb");
  // r1 map, r2 key, r3 value
  b.mov(R6, R1).mov(R8, R2);
  ldMapValue(b, R9, 0);
  b.ldx(8, R4, R9, 0) // n
    .mov(R0, R4).and(R0, 15).mul(R0, 16).add(R0, 16).add(R0, R9) // &pairs[n % 16]
    .ldx(4, R1, R2, 0).stx(8, R0, 0, R1)
    .ldx(8, R1, R3, 0).stx(8, R0, 8, R1)
    .add(R4, 1).stx(8, R9, 0, R4)
    .mov(R7, 0).jne(R1, stopAt, "cont").mov(R7, 1).label("cont");
  if (deleteSeen) b.mov(R1, R6).mov(R2, R8).call("bpf_map_delete_elem");
  b.mov(R0, R7).exit();
  return { insns: b.build().instructions, subprogs: [cb] };
}

function forEachVm(spec: KMapSpec, fill: readonly (readonly [number, number])[], prog: Prog): { rec: bigint[]; dump: string[] } {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 512, maxEntries: 1 });
  const m = h.createMap({ mapType: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, mapFlags: spec.flags ?? 0 });
  for (const [k, v] of fill) m.update(le32(k), spec.type === T.PERCPU_ARRAY || spec.type === T.PERCPU_HASH ? new Uint8Array([...v8(v), ...v8(v + 1)]) : v8(v));
  h.run(h.load(prog, { maps: [rec, m] }));
  return { rec: record(rec.lookup(new Uint8Array(4))!, 32), dump: dumpVm(m) };
}

describe("bpf_for_each_map_elem on the vm", () => {
  test("array: every index in order, key and value pointers, stop on 1 (counted)", () => {
    const { rec } = forEachVm({ type: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 5 }, [[0, 10], [1, 11], [2, 12], [3, 13]], forEachProg(12));
    expect(rec[0]).toBe(3n); // callbacks made
    expect(rec[1]).toBe(3n); // for_each's return
    expect(rec.slice(2, 8)).toEqual([0n, 10n, 1n, 11n, 2n, 12n]);
  });

  test("hash: bucket order; deleting the element being visited is safe", () => {
    const fill: [number, number][] = [[7, 70], [3, 30], [9, 90], [1, 10]];
    const { rec, dump } = forEachVm({ type: T.HASH, keySize: 4, valueSize: 8, maxEntries: 8, flags: BPF_F_ZERO_SEED }, fill, forEachProg(-1, true));
    expect(rec[0]).toBe(4n);
    expect(rec[1]).toBe(4n);
    expect(dump).toEqual([]);
  });

  test("flags must be 0", () => {
    const { rec } = forEachVm({ type: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 }, [], forEachProg(-1, false, 1));
    expect(rec[1]).toBe(EINVAL);
    expect(rec[0]).toBe(0n);
  });

  test("a map type without for_each faults for an unverified program (the verifier's 'callback function not allowed for map')", () => {
    expect(() => forEachVm({ type: T.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 }, [], forEachProg(-1))).toThrow(/cannot pass map_type 22/);
  });
});

// ---------------------------------------------------------------- the kernel

describeKernel("map helpers: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (_, sc) => {
    const vm = runVmScenario(sc);
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 16 * sc.ops.length, maxEntries: 1 }, keep);
    const maps = [rec, ...sc.maps.map((m) => kernelMap(m, keep))];
    kernelRunRawTp(kernelLoad(compileOps(sc.ops), maps, keep));
    expect(vm.rec).toEqual(record(rec.lookup(new Uint8Array(4))!, sc.ops.length));
    const kd = maps.slice(1).map((m, i) => (sc.maps[i].type === T.QUEUE || sc.maps[i].type === T.STACK || sc.maps[i].type === T.BLOOM_FILTER ? [] : dumpKernel(m)));
    expect(vm.dumps).toEqual(kd);
  });

  test.each([
    ["array, stop at 12", { type: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 5 }, [[0, 10], [1, 11], [2, 12], [3, 13]], 12, false],
    ["per-CPU array (this CPU's values)", { type: T.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 3 }, [[0, 10], [2, 30]], -1, false],
    ["hash in bucket order", { type: T.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [[7, 70], [3, 30], [9, 90], [1, 10], [100, 1000], [55, 550]], -1, false],
    ["hash, stop midway", { type: T.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [[7, 70], [3, 30], [9, 90], [1, 10]], 90, false],
    ["hash, deleting each visited element", { type: T.HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [[7, 70], [3, 30], [9, 90], [1, 10]], -1, true],
    ["per-CPU hash", { type: T.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [[7, 70], [3, 30]], -1, false],
    ["LRU hash", { type: T.LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [[5, 50], [6, 60], [7, 70]], -1, false],
  ] as const)("for_each_map_elem: %s", (_, spec, fill, stop, del) => {
    const prog = forEachProg(stop, del);
    const vm = forEachVm(spec, fill, prog);
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 512, maxEntries: 1 }, keep);
    const m = kernelMap(spec, keep);
    for (const [k, v] of fill) m.update(le32(k), spec.type === T.PERCPU_ARRAY || spec.type === T.PERCPU_HASH ? new Uint8Array([...v8(v), ...v8(v + 1)]) : v8(v));
    kernelRunRawTp(kernelLoad(prog, [rec, m], keep));
    expect(vm.rec).toEqual(record(rec.lookup(new Uint8Array(4))!, 32));
    expect(vm.dump).toEqual(dumpKernel(m));
  });
});
