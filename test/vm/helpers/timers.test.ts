import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R6, R9 } from "../../../src/isa/builder.js";
import { helperRuntime } from "../../../src/vm/helpers/runtime.js";
import { realHost } from "../../../src/vm/host.js";
import type { VmTimers } from "../../../src/vm/helpers/timers.js";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { describeKernel } from "../../helpers/kernel.js";
import { FixedHost, Harness, type Prog, ldMap, ldMapValue, le32 } from "./harness.js";
import { BPF_PROG_TYPE_SCHED_CLS, kernelLoad, kernelMap, kernelRunSkb, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";

const T = BPF_MAP_TYPE;
/** The value: u32 counter, u32 key seen + 100, then the bpf_timer at 8. */
const VALUE = 24;
const TIMER_OFF = 8;

type Step =
  | { readonly op: "init"; readonly clock: number }
  | { readonly op: "set_callback" }
  | { readonly op: "start"; readonly ns: number; readonly flags?: number }
  | { readonly op: "cancel" };

/** Runs `steps` on the timer in map 1's element `key` (a tc program); r0s into the record (map 0). */
function timerProg(key: number, steps: readonly Step[]): Prog {
  const b = new ProgramBuilder().st(4, FP, -4, key);
  ldMap(b, R1, 1);
  b.mov(R2, FP).add(R2, -4).call("bpf_map_lookup_elem").jne(R0, 0, "found").mov(R0, 0).exit().label("found").mov(R6, R0);
  steps.forEach((s, i) => {
    b.mov(R1, R6).add(R1, TIMER_OFF);
    switch (s.op) {
      case "init":
        ldMap(b, R2, 1);
        b.mov(R3, s.clock).call("bpf_timer_init");
        break;
      case "set_callback":
        b.ldFunc(R2, "cb").call("bpf_timer_set_callback");
        break;
      case "start":
        b.ldImm64(R2, BigInt(s.ns)).mov(R3, s.flags ?? 0).call("bpf_timer_start");
        break;
      case "cancel":
        b.call("bpf_timer_cancel");
        break;
    }
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8 * i, R0);
  });
  b.mov(R0, 0).exit();
  const cb = b.length;
  // cb(map, key, value): value->counter++, value->key = *key + 100; returns 0.
  b.label("cb").ldx(4, R1, R3, 0).add(R1, 1).stx(4, R3, 0, R1).ldx(4, R1, R2, 0).add(R1, 100).stx(4, R3, 4, R1).mov(R0, 0).exit();
  return { insns: b.build().instructions, subprogs: [cb] };
}

const FIRST: readonly Step[] = [
  { op: "init", clock: 1 },
  { op: "init", clock: 1 },
  { op: "start", ns: 0 },
  { op: "set_callback" },
  { op: "start", ns: 0, flags: 4 },
  { op: "start", ns: 1000 },
];
const SECOND: readonly Step[] = [
  { op: "cancel" },
  { op: "start", ns: 0 },
  { op: "set_callback" },
  { op: "start", ns: 1_000_000_000 },
  { op: "cancel" },
  { op: "cancel" },
];
const BAD_INIT: readonly Step[] = [{ op: "init", clock: 3 }, { op: "init", clock: 16 }, { op: "set_callback" }, { op: "cancel" }];

interface VmRig {
  h: Harness;
  host: FixedHost;
  rec: BpfMap;
  map: BpfMap;
  timers: VmTimers;
}

function vmRig(mapType: number): VmRig {
  const host = new FixedHost();
  const h = new Harness(host);
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 });
  const map = h.createMap({ mapType, keySize: 4, valueSize: VALUE, maxEntries: 4, valueFields: [{ kind: "timer", offset: TIMER_OFF, size: 16 }] });
  if (mapType === T.HASH) map.update(le32(2), new Uint8Array(VALUE));
  return { h, host, rec, map, timers: helperRuntime(h).timers as VmTimers };
}

function runVm(r: VmRig, steps: readonly Step[]): bigint[] {
  r.h.run(r.h.load(timerProg(2, steps), { maps: [r.rec, r.map] }));
  return words(r.rec.lookup(new Uint8Array(4))!, steps.length);
}

const counter = (m: BpfMap): bigint[] => words(m.lookup(le32(2))!, 1).map((w) => w);

describe("bpf_timer on the vm", () => {
  test("init, EBUSY, EINVAL before a callback or with bad flags, start; fires when due from timers.run()", () => {
    const r = vmRig(T.ARRAY);
    expect(runVm(r, FIRST)).toEqual([0n, -16n, -22n, 0n, -22n, 0n]);
    expect(r.timers.run()).toBe(0); // not due yet
    r.host.advance(1000);
    expect(r.timers.run()).toBe(1);
    // counter 1, key 2 + 100
    expect(counter(r.map)).toEqual([(102n << 32n) | 1n]);
    expect(r.timers.run()).toBe(0);
  });

  test("cancel: 0 when not armed, 1 when armed; the callback is dropped and must be set again", () => {
    const r = vmRig(T.ARRAY);
    runVm(r, FIRST);
    r.host.advance(1000);
    r.timers.run();
    expect(runVm(r, SECOND)).toEqual([0n, -22n, 0n, 0n, 1n, 0n]);
    r.host.advance(2_000_000_000);
    expect(r.timers.run()).toBe(0);
  });

  test("bad clocks are EINVAL; an uninitialised timer is EINVAL", () => {
    const r = vmRig(T.ARRAY);
    expect(runVm(r, BAD_INIT)).toEqual([-22n, -22n, -22n, -22n]);
  });

  test("deleting a hash element frees its timer: it never fires", () => {
    const r = vmRig(T.HASH);
    expect(runVm(r, FIRST)).toEqual([0n, -16n, -22n, 0n, -22n, 0n]);
    r.map.delete(le32(2));
    r.map.update(le32(2), new Uint8Array(VALUE));
    r.host.advance(10_000);
    expect(r.timers.run()).toBe(0);
    // The fresh element's timer is uninitialised again.
    expect(runVm(r, [{ op: "set_callback" }, { op: "init", clock: 1 }])).toEqual([-22n, 0n]);
  });

  test("ABS timers on CLOCK_BOOTTIME fire at the absolute time", () => {
    const r = vmRig(T.ARRAY);
    runVm(r, [{ op: "init", clock: 7 }, { op: "set_callback" }, { op: "start", ns: 6_000_000_500, flags: 1 }]);
    r.host.advance(499);
    expect(r.timers.run()).toBe(0);
    r.host.advance(1);
    expect(r.timers.run()).toBe(1);
  });

  test("a host with setTimer fires timers from its event loop", async () => {
    const r = vmRig(T.ARRAY);
    (r.host as FixedHost & { setTimer?: (ns: number, fire: () => void) => () => void }).setTimer = (ns, fire) => {
      const t = setTimeout(() => {
        r.host.advance(ns);
        fire();
      }, 1);
      return () => clearTimeout(t);
    };
    runVm(r, FIRST);
    await new Promise((res) => setTimeout(res, 20));
    expect(counter(r.map)).toEqual([(102n << 32n) | 1n]);
  });
});

describe("the real host's timers", () => {
  test("a delay beyond setTimeout's range (bpf_timer_start takes u64 ns) waits instead of firing at once", async () => {
    let fired = 0;
    const cancel = realHost().setTimer!(2 ** 64, () => fired++);
    await new Promise((res) => setTimeout(res, 20));
    expect(fired).toBe(0);
    cancel();
    realHost().setTimer!(1e6, () => fired++);
    await new Promise((res) => setTimeout(res, 30));
    expect(fired).toBe(1);
  });
});

describeKernel("bpf_timer: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test("return codes of each step, and the callback's effect once the timer fired", async () => {
    const vm = vmRig(T.ARRAY);
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 }, keep);
    const map = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: VALUE, maxEntries: 4, special: { kind: "timer", offset: TIMER_OFF } }, keep);
    const run = (steps: readonly Step[]): bigint[] => {
      kernelRunSkb(kernelLoad(timerProg(2, steps), [rec, map], keep, { type: BPF_PROG_TYPE_SCHED_CLS }));
      return words(rec.lookup(new Uint8Array(4))!, steps.length);
    };
    expect(runVm(vm, BAD_INIT)).toEqual(run(BAD_INIT));
    expect(runVm(vm, FIRST)).toEqual(run(FIRST));
    await new Promise((res) => setTimeout(res, 50));
    vm.host.advance(1000);
    vm.timers.run();
    expect(counter(vm.map)).toEqual(words(map.lookup(le32(2))!, 1));
    expect(runVm(vm, SECOND)).toEqual(run(SECOND));
  });
});
