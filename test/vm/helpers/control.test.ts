import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R6, R7, R9 } from "../../../src/isa/builder.js";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import { BPF_F_LOCK, BPF_F_RDONLY_PROG, BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { strtoull } from "../../../src/vm/helpers/control.js";
import { describeKernel } from "../../helpers/kernel.js";
import { Harness, type Prog, ldMap, ldMapValue, le32 } from "./harness.js";
import { BPF_PROG_TYPE_SCHED_CLS, kernelLoad, kernelMap, kernelRunRawTp, kernelRunSkb, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";
import { stackBytes } from "./progs.js";

const T = BPF_MAP_TYPE;

// ---------------------------------------------------------------- bpf_loop

/** bpf_loop(nr, cb, &ctx, flags) per case; cb adds index+1 to ctx and stops at `stop`. Record: r0, ctx. */
function loopProg(cases: readonly { nr: number; flags?: number; stop?: number }[]): Prog {
  const b = new ProgramBuilder();
  ldMapValue(b, R9, 0);
  cases.forEach((c, i) => {
    b.st(8, FP, -8, 0).st(8, FP, -16, c.stop ?? -1);
    b.mov(R1, c.nr).ldFunc(R2, "cb").mov(R3, FP).add(R3, -16).mov(R4, c.flags ?? 0).call("bpf_loop");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 16 * i, R0).ldx(8, R1, FP, -8).stx(8, R9, 16 * i + 8, R1);
  });
  b.mov(R0, 0).exit();
  const cb = b.length;
  // cb(index, ctx): ctx[1] (at -8) += index + 1; stop when index == ctx[0] (at -16).
  b.label("cb").ldx(8, R3, R2, 8).add(R3, R1).add(R3, 1).stx(8, R2, 8, R3)
    .ldx(8, R3, R2, 0).mov(R0, 0).jne(R1, R3, "go").mov(R0, 1).label("go").exit();
  return { insns: b.build().instructions, subprogs: [cb] };
}

const LOOP_CASES = [
  { nr: 5 },
  { nr: 5, stop: 3 },
  { nr: 0 },
  { nr: 1 << 23, stop: 0 },
  { nr: (1 << 23) + 1 },
  { nr: 3, flags: 1 },
  { nr: -1 },
];

// ---------------------------------------------------------------- strtol / strtoul

const STRTO_CASES: readonly [string, number][] = [
  ["123", 0], ["  -42xyz", 10], ["0x1f", 0], ["0x1f", 16], ["0x1f", 10], ["0777", 0], ["0777", 8], ["089", 0],
  ["1f", 16], ["-", 0], ["", 0], ["   ", 0], ["+5", 0], ["9223372036854775807", 0], ["9223372036854775808", 0],
  ["-9223372036854775808", 0], ["-9223372036854775809", 0], ["18446744073709551615", 0], ["18446744073709551616", 0],
  ["12", 7], ["12", 0x20], ["0x", 0], ["0xg", 0], ["0x", 16], ["1".repeat(70), 0], ["  0012", 10], ["\t\n 7", 0],
];

/** strtol and strtoul of each case (buffer without the NUL): r0 and *res for both. */
function strtoProg(cases: readonly [string, number][]): Prog {
  const b = new ProgramBuilder();
  ldMapValue(b, R9, 0);
  cases.forEach(([str, flags], i) => {
    const bytes = new TextEncoder().encode(str);
    const len = Math.max(1, bytes.length);
    stackBytes(b, bytes.length ? bytes : new Uint8Array([0]), 128);
    for (const [j, fn] of ["bpf_strtol", "bpf_strtoul"].entries()) {
      b.st(8, FP, -8, 0x5555).mov(R1, FP).add(R1, -128).mov(R2, len).mov(R3, flags).mov(R4, FP).add(R4, -8).call(fn);
      ldMapValue(b, R9, 0);
      b.stx(8, R9, 32 * i + 16 * j, R0).ldx(8, R1, FP, -8).stx(8, R9, 32 * i + 16 * j + 8, R1);
    }
  });
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

// ---------------------------------------------------------------- strncmp

const STRNCMP_CASES: readonly [string, number, string][] = [
  ["abc", 3, "abc"], ["abc", 3, "abd"], ["abd", 3, "abc"], ["ab", 3, "abc"], ["abcd", 4, "abc"], ["abx", 2, "abc"],
  ["\xff", 1, "a"], ["", 1, ""],
];

/** strncmp(s1 on the stack, n, s2 = map 1's value at 16 * i). */
function strncmpProg(): Prog {
  const b = new ProgramBuilder();
  STRNCMP_CASES.forEach(([s1, n], i) => {
    stackBytes(b, Buffer.from(s1 + "\0", "latin1"), 64);
    b.mov(R1, FP).add(R1, -64).mov(R2, n);
    ldMapValue(b, R3, 1, 16 * i);
    b.call("bpf_strncmp");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8 * i, R0);
  });
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

function strncmpConsts(): Uint8Array {
  const v = new Uint8Array(16 * STRNCMP_CASES.length);
  STRNCMP_CASES.forEach(([, , s2], i) => v.set(Buffer.from(s2 + "\0", "latin1"), 16 * i));
  return v;
}

// ---------------------------------------------------------------- spin locks

/** Hash map 1 with a bpf_spin_lock at offset 4 of a 16-byte value; locks, adds 7 to word 0, unlocks. */
function spinProg(): Prog {
  const b = new ProgramBuilder().st(4, FP, -4, 1);
  ldMap(b, R1, 1);
  b.mov(R2, FP).add(R2, -4).call("bpf_map_lookup_elem").jeq(R0, 0, "out").mov(R6, R0)
    .mov(R1, R6).add(R1, 4).call("bpf_spin_lock")
    .ldx(4, R7, R6, 0).add(R7, 7).stx(4, R6, 0, R7)
    .mov(R1, R6).add(R1, 4).call("bpf_spin_unlock")
    .label("out").mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

function runVm(prog: Prog, recSize: number, extra: (h: Harness) => BpfMap[] = () => [], checked = true): { rec: Uint8Array; h: Harness } {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: recSize, maxEntries: 1 });
  h.run(h.load(prog, { maps: [rec, ...extra(h)], checked }));
  return { rec: rec.lookup(new Uint8Array(4))!, h };
}

describe("control helpers on the vm", () => {
  test("bpf_loop: iterations made (the stopping one counted), (u32)-E2BIG past BPF_MAX_LOOPS, EINVAL for flags", () => {
    const { rec } = runVm(loopProg(LOOP_CASES), 16 * LOOP_CASES.length);
    expect(words(rec, 2 * LOOP_CASES.length)).toEqual([5n, 15n, 4n, 10n, 0n, 0n, 1n, 1n, 0xfffffff9n, 0n, -22n, 0n, 0xfffffff9n, 0n]);
  });

  test("strtoull follows _parse_integer_fixup_radix and the 63-byte copy", () => {
    expect(strtoull(new TextEncoder().encode("0x1f"), 0, 0)).toEqual({ ret: 4, value: 31n, negative: false });
    expect(strtoull(new TextEncoder().encode("  -42xyz"), 10, 0)).toEqual({ ret: 5, value: 42n, negative: true });
    expect(strtoull(new TextEncoder().encode("0xg"), 0, 0)).toEqual({ ret: 1, value: 0n, negative: false });
    expect(strtoull(new TextEncoder().encode("18446744073709551616"), 0, 0).ret).toBe(-34);
    expect(strtoull(new TextEncoder().encode("12"), 7, 0).ret).toBe(-22);
  });

  test("bpf_strtol / bpf_strtoul: consumed bytes and values, *res zeroed on errors", () => {
    const { rec } = runVm(strtoProg(STRTO_CASES.slice(0, 6)), 32 * 6);
    expect(words(rec, 24)).toEqual([
      3n, 123n, 3n, 123n,
      5n, -42n, -22n, 0n,
      4n, 31n, 4n, 31n,
      4n, 31n, 4n, 31n,
      1n, 0n, 1n, 0n,
      4n, 511n, 4n, 511n,
    ]);
  });

  test("bpf_spin_lock takes and releases the lock word; a held lock faults an unverified program", () => {
    const hh = new Harness();
    const m = hh.createMap({ mapType: T.HASH, keySize: 4, valueSize: 16, maxEntries: 2, valueFields: [{ kind: "spin_lock", offset: 4, size: 4 }] });
    m.update(le32(1), new Uint8Array(16));
    const rec = hh.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const p = hh.load(spinProg(), { maps: [rec, m] });
    hh.run(p);
    hh.run(p);
    expect(m.lookup(le32(1), BPF_F_LOCK)!.subarray(0, 8)).toEqual(new Uint8Array([14, 0, 0, 0, 0, 0, 0, 0]));
    // Leave the lock held and run again: a second bpf_spin_lock would deadlock the kernel.
    const b = new ProgramBuilder().st(4, FP, -4, 1);
    ldMap(b, R1, 1);
    b.mov(R2, FP).add(R2, -4).call("bpf_map_lookup_elem").jeq(R0, 0, "out").add(R0, 4).mov(R1, R0).call("bpf_spin_lock").label("out").mov(R0, 0).exit();
    const q = hh.load({ insns: b.build().instructions }, { maps: [rec, m] });
    hh.run(q);
    expect(() => hh.run(q)).toThrow(/lock already held/);
  });

  test("bpf_kptr_xchg swaps the 8-byte field and returns the old pointer", () => {
    const h = new Harness();
    const b = new ProgramBuilder().ldImm64(R1, 0x1111222233334444n).stx(8, FP, -8, R1)
      .mov(R1, FP).add(R1, -8).ldImm64(R2, 0x55556666n).call("bpf_kptr_xchg")
      .ldx(8, R1, FP, -8).ldImm64(R2, 0x55556666n).jeq(R1, R2, "ok").mov(R0, 0).label("ok").exit();
    expect(h.run(h.load({ insns: b.build().instructions }))).toBe(0x1111222233334444n);
  });
});

describeKernel("control helpers: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  function kernelRec(prog: Prog, recSize: number, extra: () => ReturnType<typeof kernelMap>[] = () => []): Uint8Array {
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: recSize, maxEntries: 1 }, keep);
    kernelRunRawTp(kernelLoad(prog, [rec, ...extra()], keep));
    return rec.lookup(new Uint8Array(4))!;
  }

  test("bpf_loop", () => {
    const prog = loopProg(LOOP_CASES);
    const size = 16 * LOOP_CASES.length;
    expect(words(runVm(prog, size).rec, 2 * LOOP_CASES.length)).toEqual(words(kernelRec(prog, size), 2 * LOOP_CASES.length));
  });

  test("bpf_strtol and bpf_strtoul", () => {
    const prog = strtoProg(STRTO_CASES);
    const size = 32 * STRTO_CASES.length;
    expect(words(runVm(prog, size).rec, 4 * STRTO_CASES.length)).toEqual(words(kernelRec(prog, size), 4 * STRTO_CASES.length));
  });

  test("bpf_strncmp against a constant string", () => {
    const consts = strncmpConsts();
    const vm = runVm(strncmpProg(), 8 * STRNCMP_CASES.length, (h) => {
      const m = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: consts.length, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG });
      m.update(new Uint8Array(4), consts);
      m.sysFreeze();
      return [m];
    });
    const k = kernelRec(strncmpProg(), 8 * STRNCMP_CASES.length, () => {
      const m = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: consts.length, maxEntries: 1, flags: BPF_F_RDONLY_PROG }, keep);
      m.update(new Uint8Array(4), consts);
      m.freeze();
      return [m];
    });
    expect(words(vm.rec, STRNCMP_CASES.length)).toEqual(words(k, STRNCMP_CASES.length));
  });

  test("bpf_spin_lock / bpf_spin_unlock around an update, read back with BPF_F_LOCK", () => {
    const h = new Harness();
    const vmMap = h.createMap({ mapType: T.HASH, keySize: 4, valueSize: 16, maxEntries: 2, valueFields: [{ kind: "spin_lock", offset: 4, size: 4 }] });
    vmMap.update(le32(1), new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9]));
    const vmRec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const p = h.load(spinProg(), { maps: [vmRec, vmMap] });
    h.run(p);
    h.run(p);
    const km = kernelMap({ type: T.HASH, keySize: 4, valueSize: 16, maxEntries: 2, special: { kind: "spin_lock", offset: 4 } }, keep);
    km.update(le32(1), new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9]));
    const krec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }, keep);
    // Tracing programs may not take spin locks: a tc program does.
    const kp = kernelLoad(spinProg(), [krec, km], keep, { type: BPF_PROG_TYPE_SCHED_CLS });
    kernelRunSkb(kp);
    kernelRunSkb(kp);
    expect(Buffer.from(vmMap.lookup(le32(1), BPF_F_LOCK)!).toString("hex")).toBe(km.lookup(le32(1), BPF_F_LOCK)!.toString("hex"));
    expect(Buffer.from(vmMap.lookup(le32(1))!).toString("hex")).toBe(km.lookup(le32(1))!.toString("hex"));
  });
});

