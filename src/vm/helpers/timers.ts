/**
 * bpf_timer (kernel/bpf/helpers.c: bpf_timer_init, bpf_timer_set_callback,
 * bpf_timer_start, bpf_timer_cancel).
 *
 * A struct bpf_timer is 16 opaque bytes inside a map value. The kernel keeps a
 * pointer to its hrtimer there; the vm keeps a nonzero handle in the first
 * word and the timer's state on the JS side. Maps zero special fields when an
 * element is created or replaced, so a handle that is no longer in its word
 * means the element was freed: that timer is gone (bpf_timer_cancel_and_free),
 * which the vm notices lazily, when the timer would fire or is used.
 *
 * Callbacks run later, never inside the run that armed them:
 *   - from the host's event loop when the host provides HostEnv.setTimer (the
 *     real host does, with setTimeout), or
 *   - when the runtime's owner calls `helperRuntime(services).timers.run()`,
 *     which fires every timer due by its clock (HostEnv clocks: fixed in tests).
 * A callback runs as part of the run that set it (VmServices.withRun), on the
 * engine that set it, with (map, key, value) as the kernel passes them: for an
 * array the key is a u32 index in a scratch slot, for a hash the element's key.
 *
 * Not modelled: -EPERM when no user-space reference holds the map (the vm does
 * not count user references) and cancelling every timer when the last one
 * goes; ABS timers on CLOCK_REALTIME follow HostEnv.taiNs less the 37 s
 * TAI-UTC offset.
 */
import { ProgramFault } from "../../errors.js";
import { ArrayMap } from "../maps/array.js";
import { HashMap } from "../maps/hash.js";
import type { BpfMap } from "../maps/map.js";
import type { RunState, VmServices } from "../runtime/services.js";
import type { Execution, HelperCall, HelperDef } from "./abi.js";
import { helperRuntime } from "./runtime.js";
import { def, E, mapArg, memCheck } from "./util.js";

export const BPF_FUNC_timer_init = 169;
export const BPF_FUNC_timer_set_callback = 170;
export const BPF_FUNC_timer_start = 171;
export const BPF_FUNC_timer_cancel = 172;

/** include/uapi/linux/time.h. */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_BOOTTIME = 7;
/** include/uapi/linux/time.h, MAX_CLOCKS. */
const MAX_CLOCKS = 16;
/** include/uapi/linux/bpf.h: bpf_timer_start flags. */
export const BPF_F_TIMER_ABS = 1 << 0;
export const BPF_F_TIMER_CPU_PIN = 1 << 1;
/** sizeof(struct bpf_timer). */
const BPF_TIMER_SIZE = 16;
/** TAI - UTC since 2017 (IERS Bulletin C). */
const TAI_UTC_NS = 37e9;

interface Timer {
  readonly id: number;
  readonly addr: number;
  readonly map: BpfMap;
  readonly valueAddr: number;
  readonly clock: number;
  /** The callback (subprogram pc), its engine and run; fnPc -1 when none is set. */
  fnPc: number;
  exec: Execution | undefined;
  run: RunState | undefined;
  armed: boolean;
  /** Expiry in the timer's clock, ns. */
  expiry: number;
  disarmHost: (() => void) | undefined;
}

/** The runtime's timers: what `helperRuntime(services).timers` is. */
export class VmTimers {
  private readonly byId = new Map<number, Timer>();
  private nextId = 1;
  /** The timer whose callback is running (bpf_timer_cancel on it is EDEADLK). */
  private firing: Timer | undefined;

  constructor(private readonly services: VmServices) {}

  /** Timers armed and not yet fired. */
  get pending(): number {
    let n = 0;
    for (const t of this.byId.values()) if (t.armed && this.live(t)) n++;
    return n;
  }

  now(clock: number): number {
    const h = this.services.host;
    if (clock === CLOCK_BOOTTIME) return h.bootNs();
    if (clock === CLOCK_REALTIME) return h.taiNs() - TAI_UTC_NS;
    return h.monotonicNs();
  }

  /** The timer at `addr`, if its handle is still in place. */
  at(addr: number): Timer | undefined {
    const t = this.byId.get(this.services.space.u32[addr >>> 2]);
    if (!t) return undefined;
    if (t.addr !== addr || !this.live(t)) {
      this.drop(t);
      return undefined;
    }
    return t;
  }

  private live(t: Timer): boolean {
    return !t.map.isDisposed && this.services.space.u32[t.addr >>> 2] === t.id;
  }

  private drop(t: Timer): void {
    t.disarmHost?.();
    this.byId.delete(t.id);
  }

  create(addr: number, map: BpfMap, valueAddr: number, clock: number): Timer {
    let id = this.nextId++;
    if (this.nextId > 0xffffffff) this.nextId = 1;
    while (this.byId.has(id) || id === 0) id = this.nextId++;
    const t: Timer = {
      id, addr, map, valueAddr, clock, fnPc: -1, exec: undefined, run: undefined, armed: false, expiry: 0, disarmHost: undefined,
    };
    this.byId.set(id, t);
    this.services.space.u32[addr >>> 2] = id;
    return t;
  }

  arm(t: Timer, expiry: number): void {
    t.disarmHost?.();
    t.disarmHost = undefined;
    t.armed = true;
    t.expiry = expiry;
    const setTimer = this.services.host.setTimer;
    if (setTimer) t.disarmHost = setTimer(Math.max(0, expiry - this.now(t.clock)), () => this.run());
  }

  /** hrtimer_cancel(): 1 when the timer was active, else 0. */
  disarm(t: Timer): number {
    const was = t.armed ? 1 : 0;
    t.armed = false;
    t.disarmHost?.();
    t.disarmHost = undefined;
    return was;
  }

  isFiring(t: Timer): boolean {
    return this.firing === t;
  }

  /**
   * Fires every timer due now, earliest expiry first; returns how many
   * callbacks ran. A timer its own callback re-arms as already due waits for the
   * next run() (one firing per timer per call).
   */
  run(): number {
    const due: Timer[] = [];
    for (const t of [...this.byId.values()]) {
      if (!this.live(t)) {
        this.drop(t);
        continue;
      }
      if (t.armed && t.expiry <= this.now(t.clock)) due.push(t);
    }
    due.sort((a, b) => a.expiry - b.expiry || a.id - b.id);
    let fired = 0;
    for (const t of due) {
      // An earlier callback may have cancelled, re-armed later or freed this one.
      if (!t.armed || !this.live(t) || t.expiry > this.now(t.clock)) continue;
      t.armed = false;
      t.disarmHost = undefined;
      if (t.fnPc < 0 || !t.exec) continue;
      this.fire(t);
      fired++;
    }
    return fired;
  }

  private fire(t: Timer): void {
    const rt = helperRuntime(this.services);
    const exec = t.exec!;
    const fnPc = t.fnPc;
    const map = t.map;
    let key: number;
    let scratch = false;
    if (map instanceof ArrayMap) {
      key = rt.acquireScratch(0);
      scratch = true;
      this.services.space.u32[key >>> 2] = Math.floor((t.valueAddr - map.base) / map.elemSize);
    } else {
      key = t.valueAddr - (map as HashMap).keyStride;
    }
    const prev = this.firing;
    this.firing = t;
    try {
      const go = (): number => exec.invokeCallback(fnPc, map.addr, key, t.valueAddr, 0, 0);
      if (t.run && this.services.withRun) this.services.withRun(t.run, go);
      else go();
    } finally {
      this.firing = prev;
      if (scratch) rt.releaseScratch();
    }
  }
}

export function timerHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const map = mapArg(services);
  const timers = new VmTimers(services);
  helperRuntime(services).setTimers(timers);

  /** The bpf_timer argument: 16 writable bytes, 8-aligned (the verifier proves it for verified programs). */
  const timerArg = (call: HelperCall): number => {
    const addr = call.addr(1);
    check(addr, BPF_TIMER_SIZE, true, call.pc);
    if ((addr & 7) !== 0) throw new ProgramFault(call.pc, "bpf_timer is not 8-byte aligned");
    return addr;
  };

  return [
    /** bpf_timer_init(timer, map, flags): flags is the clock id; EBUSY when already initialised. */
    def(BPF_FUNC_timer_init, (call) => {
      const addr = timerArg(call);
      const m = map(call, 2);
      const clock = call.u32(3);
      if (call.hi(3) !== 0 || clock >= MAX_CLOCKS || (clock !== CLOCK_MONOTONIC && clock !== CLOCK_REALTIME && clock !== CLOCK_BOOTTIME)) {
        return call.ret(-E.EINVAL);
      }
      if (timers.at(addr)) return call.ret(-E.EBUSY);
      const field = m.valueFields.find((f) => f.kind === "timer");
      if (!field || !(m instanceof ArrayMap || m instanceof HashMap)) {
        throw new ProgramFault(call.pc, `map '${m.name}' has no valid bpf_timer`);
      }
      timers.create(addr, m, addr - field.offset, clock);
      call.ret(0);
    }),

    /** bpf_timer_set_callback(timer, callback): EINVAL when not initialised. */
    def(BPF_FUNC_timer_set_callback, (call) => {
      const addr = timerArg(call);
      const t = timers.at(addr);
      if (!t) return call.ret(-E.EINVAL);
      t.fnPc = call.u32(2);
      t.exec = call.exec;
      // A snapshot: the runtime reuses its run frames once this run ends.
      t.run = { ...services.current() };
      call.ret(0);
    }),

    /** bpf_timer_start(timer, nsecs, flags): relative, or absolute with BPF_F_TIMER_ABS. */
    def(BPF_FUNC_timer_start, (call) => {
      const addr = timerArg(call);
      const flags = call.u32(3);
      if (call.hi(3) !== 0 || (flags & ~(BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN))) return call.ret(-E.EINVAL);
      const t = timers.at(addr);
      if (!t || t.fnPc < 0) return call.ret(-E.EINVAL);
      const nsecs = call.num(2);
      timers.arm(t, flags & BPF_F_TIMER_ABS ? nsecs : timers.now(t.clock) + nsecs);
      call.ret(0);
    }),

    /**
     * bpf_timer_cancel(timer): 1 if it was armed, 0 if not; EDEADLK from its own
     * callback. The callback is dropped: it must be set again before a restart.
     */
    def(BPF_FUNC_timer_cancel, (call) => {
      const addr = timerArg(call);
      const t = timers.at(addr);
      if (!t) return call.ret(-E.EINVAL);
      if (timers.isFiring(t)) return call.ret(-E.EDEADLK);
      t.fnPc = -1;
      t.exec = undefined;
      t.run = undefined;
      call.ret(timers.disarm(t));
    }),
  ];
}
