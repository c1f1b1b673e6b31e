/**
 * Fixed addresses the JIT uses inside the address space's guard page (never
 * allocated, out of every program's reach; src/vm/memory.ts, GUARD_SIZE), and
 * the codes its generated code reports faults with.
 */
import { CALLBACK_AREA, CALL_AREA } from "../helpers/abi.js";

export { CALL_AREA, CALLBACK_AREA };

/**
 * r0..r10 (8 bytes each, little-endian) handed between JavaScript and a module
 * entry: the arguments of run(), the whole register file at a tail call, and
 * r0 / r6..r9 a callback reads when it starts.
 */
export const JIT_REGS = 0x200;
/** Remaining instruction budget of a checked run (u64), shared by every module in the run. */
export const JIT_BUDGET = 0x260;

/** Reasons generated code calls the fault import with; the engine turns them into ProgramFaults. */
export const Fault = {
  /** pc = the slot past the end. */
  fellOff: 0,
  /** pc = the jump, arg = its target. */
  jumpOutside: 1,
  /** arg = the opcode byte. */
  invalidOpcode: 2,
  kfunc: 3,
  callDepth: 4,
  /** arg = imm of an atomic instruction on 1 or 2 bytes. */
  atomicSize: 5,
  /** arg = imm. */
  atomicOp: 6,
  /** The budget ran out at pc. */
  budget: 7,
  /** The budget ran out in the block at pc, after arg instructions. */
  budgetInBlock: 8,
} as const;
