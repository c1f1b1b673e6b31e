/**
 * Per-runtime state the helpers share: the vm's stand-in for the current
 * task_struct, scratch slots for callback arguments that live on the kernel
 * stack in the kernel (bpf_for_each_map_elem's array key, the dynptr
 * bpf_user_ringbuf_drain hands its callback, a timer callback's array key), the
 * key %p hashes pointers with, and the bpf_timer queue.
 *
 * One HelperRuntime exists per VmServices; `helperRuntime(services)` finds it
 * (for the runtime's owner: `helperRuntime(kernel).timers.run()`).
 */
import { ProgramFault } from "../../errors.js";
import type { VmServices } from "../runtime/services.js";

/**
 * Bytes of the vm's pseudo task_struct: a zero-filled, read-only block whose
 * address bpf_get_current_task / bpf_get_current_task_btf return. The vm has
 * no task_struct layout (no vmlinux BTF), so reads through it see zeros; the
 * address is stable for the runtime's lifetime, so programs can use it as an
 * identity (task storage keys, comparisons).
 */
export const PSEUDO_TASK_SIZE = 4096;

/** Bytes per scratch slot: the largest callback argument is a struct bpf_dynptr (16 bytes). */
export const SCRATCH_SLOT = 16;
/** Nesting depth of scratch use: callbacks nest at most MAX_CALL_FRAMES deep (include/linux/bpf_verifier.h). */
const SCRATCH_SLOTS = 16;

export class HelperRuntime {
  /** Address of the pseudo task_struct. */
  readonly taskAddr: number;
  /** Key for %p pointer hashing (the kernel's ptr_key is random per boot; here per runtime). */
  readonly ptrKey: number;
  private readonly scratchBase: number;
  private scratchDepth = 0;
  private timersImpl: { run(): number } | undefined;

  constructor(readonly services: VmServices) {
    const space = services.space;
    this.taskAddr = space.alloc(PSEUDO_TASK_SIZE, 64);
    space.mapRegion(this.taskAddr, PSEUDO_TASK_SIZE, "readonly", false, "task_struct (vm)");
    this.scratchBase = space.alloc(SCRATCH_SLOT * SCRATCH_SLOTS, 16);
    // Read-only to programs: the kernel hands callbacks pointers they may only read.
    space.mapRegion(this.scratchBase, SCRATCH_SLOT * SCRATCH_SLOTS, "readonly", false, "helper scratch");
    this.ptrKey = services.host.randomU32() >>> 0;
  }

  /** Takes a scratch slot for the duration of a callback; pair with releaseScratch(). */
  acquireScratch(pc: number): number {
    if (this.scratchDepth >= SCRATCH_SLOTS) throw new ProgramFault(pc, "callbacks nested too deeply");
    const a = this.scratchBase + this.scratchDepth * SCRATCH_SLOT;
    this.scratchDepth++;
    return a;
  }

  releaseScratch(): void {
    this.scratchDepth--;
  }

  /** The bpf_timer queue (set by the timer helpers' factory). */
  get timers(): { run(): number } {
    if (!this.timersImpl) throw new Error("the bpf_timer helpers are not registered in this runtime");
    return this.timersImpl;
  }

  /** @internal */
  setTimers(t: { run(): number }): void {
    this.timersImpl = t;
  }
}

const runtimes = new WeakMap<VmServices, HelperRuntime>();

/** The helper state of a runtime, created on first use. */
export function helperRuntime(services: VmServices): HelperRuntime {
  let r = runtimes.get(services);
  if (!r) runtimes.set(services, (r = new HelperRuntime(services)));
  return r;
}
