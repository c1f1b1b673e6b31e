/**
 * What every PROG_TEST_RUN shares: the attr fields a RunOptions stands for,
 * the kernel's ctx_in / ctx_out / data_out copying rules (bpf_ctx_init,
 * bpf_ctx_finish, bpf_test_finish in net/bpf/test_run.c), the repeat loop with
 * its mean duration, and the errors.
 *
 * RunOptions -> union bpf_attr .test (the same mapping the linux backend's
 * differential tests use, so both backends see identical attrs):
 *   data_in      options.data; an absent or empty array is a NULL pointer
 *   data_out     present whenever data_in is; data_size_out = options.dataOutSize,
 *                0 (the default) meaning "no limit", the kernel's old rule
 *   ctx_in       options.ctx; absent or empty is NULL
 *   ctx_out      present when options.ctxOutSize > 0, or when ctx_in is and
 *                ctxOutSize is undefined and the type copies a context back
 *                (its `ctxOutDefault`, the struct size); ctx_size_out that size
 *   repeat, flags, cpu as given; batch_size 0
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import { BpfCommandError, type ErrnoName } from "../../../errors.js";
import type { AddressSpace, Region, RegionKind } from "../../memory.js";
import type { HostEnv } from "../../host.js";
import type { ProgTypeRunState } from "../../runtime/services.js";
import type { TestRunTarget } from "./types.js";

/** include/uapi/linux/bpf.h: BPF_PROG_TEST_RUN flags. */
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
export const BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2;

/** PAGE_SIZE on x86-64, the kernel the vm models. */
export const PAGE_SIZE = 4096;
/** include/uapi/linux/if_ether.h. */
export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64 (320 bytes, 64-byte cache lines). */
export const SKB_SHINFO_SIZE = 320;
/** include/linux/skbuff.h, MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS default). */
export const MAX_SKB_FRAGS = 17;
/** include/linux/kernel.h. */
export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

/** The bpf_attr .test fields one PROG_TEST_RUN carries. */
export interface TestRunAttr {
  /** data_in, or null for a NULL pointer. */
  readonly dataIn: Uint8Array | null;
  readonly dataSizeIn: number;
  /** data_out is a non-NULL pointer. */
  readonly dataOut: boolean;
  /** data_size_out as passed in: a limit, 0 for none. */
  readonly dataSizeOut: number;
  readonly ctxIn: Uint8Array | null;
  readonly ctxSizeIn: number;
  readonly ctxOut: boolean;
  readonly ctxSizeOut: number;
  readonly repeat: number;
  readonly flags: number;
  readonly cpu: number;
  readonly batchSize: number;
}

/**
 * The attr a RunOptions stands for. `ctxOutDefault` is the ctx_out size used
 * when ctx is given and ctxOutSize is not (0: the type never copies a context
 * back, so no ctx_out).
 */
export function testRunAttr(o: RunOptions, ctxOutDefault: number): TestRunAttr {
  const dataIn = o.data && o.data.length > 0 ? o.data : null;
  const ctxIn = o.ctx && o.ctx.length > 0 ? o.ctx : null;
  const ctxSizeOut = o.ctxOutSize ?? (ctxIn ? ctxOutDefault : 0);
  return {
    dataIn,
    dataSizeIn: dataIn?.length ?? 0,
    dataOut: dataIn !== null,
    dataSizeOut: dataIn ? u32(o.dataOutSize ?? 0, "dataOutSize") : 0,
    ctxIn,
    ctxSizeIn: ctxIn?.length ?? 0,
    ctxOut: ctxSizeOut > 0,
    ctxSizeOut: u32(ctxSizeOut, "ctxOutSize"),
    repeat: u32(o.repeat ?? 0, "repeat"),
    flags: u32(o.flags ?? 0, "flags"),
    cpu: u32(o.cpu ?? 0, "cpu"),
    batchSize: 0,
  };
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new BpfCommandError("EINVAL", `BPF_PROG_TEST_RUN: ${what} ${v} is not a u32`);
  return v;
}

export function fail(code: ErrnoName, why: string): never {
  throw new BpfCommandError(code, `BPF_PROG_TEST_RUN: ${why}`);
}

/**
 * PROG_TEST_RUN ended in ENOSPC: data_out or ctx_out was smaller than the
 * result. The kernel still copied what fit and reported the full sizes;
 * `result` holds exactly what it wrote back.
 */
export class TestRunNoSpaceError extends BpfCommandError {
  constructor(
    readonly result: RunResult,
    what: string,
  ) {
    super("ENOSPC", `BPF_PROG_TEST_RUN: ${what}`);
  }
}

/**
 * bpf_ctx_init(): the context the user passed, zero-extended to `maxSize`, or
 * null when neither ctx_in nor ctx_out is given. A longer ctx_in must be zero
 * past `maxSize` (bpf_check_uarg_tail_zero: E2BIG, and E2BIG above PAGE_SIZE).
 */
export function ctxInit(attr: TestRunAttr, maxSize: number): Uint8Array | null {
  if (!attr.ctxIn && !attr.ctxOut) return null;
  const ctx = new Uint8Array(maxSize);
  if (attr.ctxIn) {
    checkTailZero(attr.ctxIn, maxSize);
    ctx.set(attr.ctxIn.subarray(0, Math.min(maxSize, attr.ctxIn.length)));
  }
  return ctx;
}

/** bpf_check_uarg_tail_zero() in kernel/bpf/syscall.c. */
export function checkTailZero(bytes: Uint8Array, expected: number): void {
  if (bytes.length > PAGE_SIZE) fail("E2BIG", `ctx_size_in ${bytes.length} exceeds PAGE_SIZE`);
  for (let i = expected; i < bytes.length; i++) {
    if (bytes[i] !== 0) fail("E2BIG", `ctx_in has non-zero bytes past the ${expected}-byte context`);
  }
}

/** Whether bytes [from, to) are all zero (range_is_zero in test_run.c). */
export function rangeIsZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** What a test run produced before it is copied out. */
export interface TestRunOutcome {
  readonly retval: number;
  readonly durationNs: number;
  /** The output packet, in the order the kernel copies it (linear part, then frags). */
  readonly data?: readonly Uint8Array[];
  /** The context to copy to ctx_out (bpf_ctx_finish), when the type has one. */
  readonly ctx?: Uint8Array | null;
}

/**
 * bpf_test_finish() then bpf_ctx_finish(): clamps data_out to data_size_out
 * (ENOSPC with what fit, when a limit was given), reports the full size, then
 * copies the context the same way. `fragsSize` is the packet's non-linear
 * part: when the limit does not even cover it, the kernel fails with ENOSPC
 * before copying anything or writing the sizes.
 */
export function testFinish(attr: TestRunAttr, out: TestRunOutcome, what: string, fragsSize = 0): RunResult {
  const chunks = out.data ?? [];
  let size = 0;
  for (const c of chunks) size += c.length;
  let copy = size;
  let nospc = false;
  if (attr.dataSizeOut && copy > attr.dataSizeOut) {
    copy = attr.dataSizeOut;
    nospc = true;
  }
  let dataOut: Uint8Array | undefined;
  if (attr.dataOut && out.data) {
    const linearCopy = copy - fragsSize;
    if (linearCopy < 0) {
      // The kernel gives up here: data_size_out keeps the caller's value, and
      // retval and duration are never written.
      throw new TestRunNoSpaceError({ retval: 0, durationNs: 0, dataOut: new Uint8Array(0), dataSizeOut: attr.dataSizeOut }, `${what}: data_out cannot hold the packet's fragments`);
    }
    dataOut = new Uint8Array(copy);
    // Linear part first, clamped so the fragments still fit; then the frags.
    const [linear, ...frags] = chunks;
    let off = 0;
    if (linear) {
      const n = Math.min(linearCopy, linear.length);
      dataOut.set(linear.subarray(0, n), 0);
      off = n;
    }
    for (const f of frags) {
      if (off >= copy) break;
      const n = Math.min(copy - off, f.length);
      dataOut.set(f.subarray(0, n), off);
      off += n;
    }
  }
  const base = {
    retval: out.retval >>> 0,
    durationNs: out.durationNs,
    dataSizeOut: size,
    ...(dataOut ? { dataOut } : {}),
  };
  if (nospc) throw new TestRunNoSpaceError(base, `${what}: data_out holds ${attr.dataSizeOut} of ${size} bytes`);
  return ctxFinish(attr, base, out.ctx ?? null, what);
}

/** bpf_ctx_finish(): ctx_out clamped to ctx_size_out, ENOSPC when it was. */
export function ctxFinish(attr: TestRunAttr, base: RunResult, ctx: Uint8Array | null, what: string): RunResult {
  if (!ctx || !attr.ctxOut) return base;
  if (ctx.length > attr.ctxSizeOut) {
    throw new TestRunNoSpaceError({ ...base, ctxOut: ctx.slice(0, attr.ctxSizeOut) }, `${what}: ctx_out holds ${attr.ctxSizeOut} of ${ctx.length} bytes`);
  }
  return { ...base, ctxOut: ctx.slice() };
}

/**
 * bpf_test_run(): runs `repeat` times (0 means once) on the same context, as
 * the kernel does (state a run leaves, like an adjusted head, carries over);
 * returns the last retval and the mean nanoseconds per run, capped at U32_MAX.
 */
export function repeatRun(target: TestRunTarget, repeat: number, once: () => number): { retval: number; durationNs: number } {
  const n = repeat === 0 ? 1 : repeat;
  const timer = new TestTimer(target.services.host);
  let retval = 0;
  for (let i = 0; i < n; i++) retval = once();
  return { retval: retval >>> 0, durationNs: timer.meanNs(n) };
}

/** Below this much elapsed time a test run reports elapsed time: CPU time counts in microseconds. */
const CPU_TIME_MIN_NS = 10_000_000;

/**
 * The kernel's bpf_test_timer: the time a test run's loop spent running.
 * The kernel stops it while the task is rescheduled between runs; the vm
 * cannot see its own preemption, so a long loop (10 ms or more) counts the
 * process's CPU time instead of elapsed time when that is less (time the host
 * gave to other processes then falls out). CPU time covers every thread of
 * the process, so it never counts less than the loop's own.
 */
class TestTimer {
  private readonly wall0: number;
  private readonly cpu0: number;

  constructor(private readonly host: HostEnv) {
    this.cpu0 = host.cpuTimeNs ? host.cpuTimeNs() : -1;
    this.wall0 = host.monotonicNs();
  }

  /** Mean nanoseconds per run over `n` runs, capped at U32_MAX (the attr's u32 duration). */
  meanNs(n: number): number {
    let spent = this.host.monotonicNs() - this.wall0;
    if (this.cpu0 >= 0 && spent >= CPU_TIME_MIN_NS) {
      const cpu = this.host.cpuTimeNs!() - this.cpu0;
      if (cpu < spent) spent = cpu;
    }
    return Math.min(U32_MAX, Math.max(0, Math.floor(spent / n)));
  }
}

/**
 * repeatRun() of one plain run on `ctx` per iteration (the common case):
 * through the target's own loop when it has one.
 */
export function repeatRunOn(
  target: TestRunTarget, repeat: number, ctx: number, typeState: ProgTypeRunState | undefined,
): { retval: number; durationNs: number } {
  const n = repeat === 0 ? 1 : repeat;
  if (!target.runRepeat) return repeatRun(target, repeat, () => target.run(ctx, typeState));
  const timer = new TestTimer(target.services.host);
  const retval = target.runRepeat(ctx, typeState, n);
  return { retval: retval >>> 0, durationNs: timer.meanNs(n) };
}

/** A region mapped for checked-mode programs, re-mapped when its bounds move. */
export class MappedRegion {
  private region: Region | undefined;

  constructor(
    private readonly space: AddressSpace,
    private readonly kind: RegionKind,
    private readonly writable: boolean,
    private readonly name: string,
  ) {}

  /** Maps [start, end) (nothing when empty), replacing the previous mapping. */
  set(start: number, end: number): void {
    this.clear();
    if (end > start) this.region = this.space.mapRegion(start, end - start, this.kind, this.writable, this.name);
  }

  clear(): void {
    if (this.region) this.space.unmapRegion(this.region);
    this.region = undefined;
  }
}

/** Allocations and regions of one test run, released together. */
export class RunMemory {
  private readonly allocs: number[] = [];
  private readonly regions: MappedRegion[] = [];
  private readonly disposers: (() => void)[] = [];

  constructor(readonly space: AddressSpace) {}

  /** A zeroed allocation freed with the run. */
  alloc(size: number, align = 8): number {
    const a = this.space.alloc(Math.max(size, 1), align);
    this.allocs.push(a);
    return a;
  }

  /** Hands an allocation over to the run (freed with it). */
  adopt(addr: number): void {
    this.allocs.push(addr);
  }

  /** Frees an allocation the run holds (e.g. a buffer replaced by a bigger one). */
  release(addr: number): void {
    const i = this.allocs.indexOf(addr);
    if (i >= 0) {
      this.allocs.splice(i, 1);
      this.space.free(addr);
    }
  }

  /** A region mapped for checked-mode programs, unmapped with the run. */
  region(kind: RegionKind, writable: boolean, name: string, start?: number, end?: number): MappedRegion {
    const r = new MappedRegion(this.space, kind, writable, name);
    this.regions.push(r);
    if (start !== undefined && end !== undefined) r.set(start, end);
    return r;
  }

  /** Runs `fn` when the run ends, before its memory goes (what dies with the run: a test run's socket). */
  onDispose(fn: () => void): void {
    this.disposers.push(fn);
  }

  dispose(): void {
    for (const fn of this.disposers.splice(0)) fn();
    for (const r of this.regions) r.clear();
    this.regions.length = 0;
    for (const a of this.allocs) this.space.free(a);
    this.allocs.length = 0;
  }
}
