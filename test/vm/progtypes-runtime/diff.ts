/**
 * The differential runner: one program and one RunOptions through the kernel
 * (BPF_PROG_LOAD + BPF_PROG_TEST_RUN) and through the vm runtime, as two
 * comparable outcomes. Both see the same attr (testRunAttr).
 */
import type { RunOptions } from "../../../src/api/types.js";
import type { Bytecode } from "../../../src/isa/bytecode.js";
import type { Instruction } from "../../../src/isa/instruction.js";
import { BPF_PROG_TYPE_SYSCALL } from "../../../src/vm/progtypes/constants.js";
import { progTypeRuntime } from "../../../src/vm/progtypes/runtime/index.js";
import { type Outcome, toBytecode, vmOutcome, vmProgram } from "./harness.js";
import { closeFd, kernelLoad, kernelOutcome } from "./kernel.js";

export interface DiffCase {
  readonly progType: number;
  readonly code: Bytecode | readonly Instruction[] | string;
  readonly options: RunOptions;
  readonly attachType?: number;
  /** BPF_PROG_LOAD flags (BPF_F_XDP_HAS_FRAGS...). */
  readonly loadFlags?: number;
  readonly engine?: "interp" | "jit";
  readonly attachBtfId?: number;
  /** The verifier's max_ctx_offset for the vm (the kernel computes its own). */
  readonly maxCtxOffset?: number;
}

export function differential(c: DiffCase): { kernel: Outcome; vm: Outcome } {
  const code = toBytecode(c.code);
  const fd = kernelLoad({ type: c.progType, insns: code, expectedAttachType: c.attachType, flags: c.loadFlags, attachBtfId: c.attachBtfId });
  let kernel: Outcome;
  try {
    kernel = kernelOutcome(fd, c.options, progTypeRuntime(c.progType)!.ctxOutDefault, c.progType === BPF_PROG_TYPE_SYSCALL);
  } finally {
    closeFd(fd);
  }
  const p = vmProgram({ progType: c.progType, attachType: c.attachType, code, engine: c.engine, maxCtxOffset: c.maxCtxOffset });
  try {
    return { kernel, vm: vmOutcome(() => p.testRun(c.options)) };
  } finally {
    p.dispose();
  }
}
