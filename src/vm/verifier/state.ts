/**
 * Verifier states: per-frame registers and stack (struct bpf_func_state), the
 * whole call chain with references and jump history (struct bpf_verifier_state),
 * as in include/linux/bpf_verifier.h.
 */
import { Reg, T, markNotInit } from "./reg.js";

/** Stack byte types (enum bpf_stack_slot_type). */
export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;
/** The 16 bytes of a struct bpf_dynptr on the stack. */
export const STACK_DYNPTR = 4;
export const SLOT_CHAR = "?rm0dif";

/** One 8-byte stack slot: the spilled register and a type per byte (index 0 = highest address). */
export class StackSlot {
  readonly spilled = new Reg();
  readonly types = new Uint8Array(8);

  copyFrom(o: StackSlot): void {
    this.spilled.copyFrom(o.spilled);
    this.types.set(o.types);
  }

  isSpilled(): boolean {
    return this.types[7] === STACK_SPILL;
  }

  isSpilledScalar(): boolean {
    return this.types[7] === STACK_SPILL && this.spilled.type === T.SCALAR;
  }

  isSpilledScalar64(): boolean {
    if (!this.isSpilledScalar()) return false;
    for (let i = 0; i < 8; i++) if (this.types[i] !== STACK_SPILL) return false;
    return true;
  }
}

export class Frame {
  readonly regs: Reg[] = Array.from({ length: 11 }, () => new Reg());
  stack: StackSlot[] = [];
  /** The call instruction that created this frame (-1 for the main frame: BPF_MAIN_FUNC). */
  callsite = -1;
  frameno = 0;
  subprogno = 0;
  inCallbackFn = false;
  /** A timer callback, verified as a program of its own (in_async_callback_fn). */
  inAsyncCallbackFn = false;
  callbackRetMin = 0;
  callbackRetMax = 0;
  /** bpf_loop and friends: how many times the callback was unrolled. */
  callbackDepth = 0;

  /** Bytes of stack the frame has allocated (allocated_stack). */
  get allocated(): number {
    return this.stack.length * 8;
  }

  grow(bytes: number): void {
    const n = Math.ceil(bytes / 8);
    while (this.stack.length < n) {
      const s = new StackSlot();
      markNotInit(s.spilled);
      this.stack.push(s);
    }
  }

  clone(): Frame {
    const f = new Frame();
    for (let i = 0; i < 11; i++) f.regs[i].copyFrom(this.regs[i]);
    f.stack = this.stack.map((s) => {
      const c = new StackSlot();
      c.copyFrom(s);
      return c;
    });
    f.callsite = this.callsite;
    f.frameno = this.frameno;
    f.subprogno = this.subprogno;
    f.inCallbackFn = this.inCallbackFn;
    f.inAsyncCallbackFn = this.inAsyncCallbackFn;
    f.callbackRetMin = this.callbackRetMin;
    f.callbackRetMax = this.callbackRetMax;
    f.callbackDepth = this.callbackDepth;
    return f;
  }
}

/** A jump-history entry (struct bpf_jmp_history_entry). */
export interface HistEntry {
  idx: number;
  prevIdx: number;
  /** Stack slot spilled/filled at this instruction: frame, or -1. */
  stackFrame: number;
  stackSpi: number;
  /** INSN_F_DST_REG_STACK / INSN_F_SRC_REG_STACK for conditional jumps on stack pointers. */
  dstIsStack: boolean;
  srcIsStack: boolean;
  /** Linked scalar registers refined together at this conditional jump: frame*64+reg or frame*64+16+spi. */
  linked: number[] | null;
}

export interface RefState {
  id: number;
  insn: number;
  /** REF_TYPE_PTR (default: an acquired pointer) or REF_TYPE_LOCK (a held bpf_spin_lock). */
  type?: "lock";
  /** The lock's map (the kernel's refs[i].ptr). */
  ptr?: object;
}

export class VState {
  frames: Frame[] = [];
  curframe = 0;
  refs: RefState[] = [];
  /** Held bpf_spin_locks, and the last one taken (active_locks, active_lock_id, active_lock_ptr). */
  activeLocks = 0;
  activeLockId = 0;
  activeLockPtr: object | null = null;
  branches = 1;
  parent: VState | null = null;
  insnIdx = 0;
  firstInsnIdx = 0;
  lastInsnIdx = -1;
  hist: HistEntry[] = [];
  dfsDepth = 0;
  callbackUnrollDepth = 0;
  mayGotoDepth = 0;
  /** Explored-state bookkeeping (bpf_verifier_state_list). */
  hitCnt = 0;
  missCnt = 0;
  inList = false;
  inFreeList = false;
  /** Dead registers and stack slots were cleaned (clean_verifier_state). */
  cleaned = false;

  get cur(): Frame {
    return this.frames[this.curframe];
  }

  clone(): VState {
    const s = new VState();
    s.frames = this.frames.map((f) => f.clone());
    s.curframe = this.curframe;
    s.refs = this.refs.map((r) => ({ ...r }));
    s.activeLocks = this.activeLocks;
    s.activeLockId = this.activeLockId;
    s.activeLockPtr = this.activeLockPtr;
    s.branches = this.branches;
    s.parent = this.parent;
    s.insnIdx = this.insnIdx;
    s.firstInsnIdx = this.firstInsnIdx;
    s.lastInsnIdx = this.lastInsnIdx;
    s.hist = this.hist.map((h) => ({
      idx: h.idx, prevIdx: h.prevIdx, stackFrame: h.stackFrame, stackSpi: h.stackSpi, dstIsStack: h.dstIsStack,
      srcIsStack: h.srcIsStack, linked: h.linked ? h.linked.slice() : null,
    }));
    s.dfsDepth = this.dfsDepth;
    s.callbackUnrollDepth = this.callbackUnrollDepth;
    s.mayGotoDepth = this.mayGotoDepth;
    return s;
  }

  /** Every register and spilled register in all frames (bpf_for_each_reg_in_vstate). */
  forEachReg(fn: (r: Reg, frame: number, isStack: boolean, idx: number) => void): void {
    for (let fr = 0; fr <= this.curframe; fr++) {
      const f = this.frames[fr];
      for (let i = 0; i < 11; i++) fn(f.regs[i], fr, false, i);
      for (let i = 0; i < f.stack.length; i++) if (f.stack[i].isSpilled()) fn(f.stack[i].spilled, fr, true, i);
    }
  }
}
