/**
 * The kernel side of the PROG_TEST_RUN differential tests: loads raw
 * instructions and runs BPF_PROG_TEST_RUN with exactly the attr fields a
 * RunOptions stands for (the same mapping the vm runtimes use, see
 * src/vm/progtypes/runtime/common.ts), returning errno and every output field
 * even when the kernel fails (ENOSPC still copies data_out and data_size_out).
 */
import type { RunOptions } from "../../../src/api/types.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { Instruction } from "../../../src/isa/instruction.js";
import { TestRunAttr } from "../../../src/linux/attr/bpf-attr.js";
import { addr, bpfRaw } from "../../../src/linux/bpf.js";
import { BpfCmd } from "../../../src/linux/constants.js";
import { progLoadRaw } from "../../../src/linux/program.js";
import { testRunAttr } from "../../../src/vm/progtypes/runtime/common.js";
import { closeFd } from "../../../src/linux/syscall.js";

export interface KernelLoad {
  readonly type: number;
  readonly insns: readonly Instruction[] | Bytecode;
  readonly expectedAttachType?: number;
  readonly attachBtfId?: number;
  readonly flags?: number;
}

/** Loads a program; throws with the verifier log when the kernel refuses. */
export function kernelLoad(req: KernelLoad): number {
  const insns = req.insns instanceof Bytecode ? req.insns.toBytes() : req.insns;
  const { ret, log } = progLoadRaw({
    type: req.type,
    insns,
    expectedAttachType: req.expectedAttachType,
    attachBtfId: req.attachBtfId,
    flags: req.flags,
  });
  if (ret < 0) throw new Error(`kernel load of type ${req.type} failed (errno ${-ret}):\n${log}`);
  return ret;
}

export { closeFd };

export interface KernelRunOutcome {
  /** 0 or the errno. */
  readonly errno: number;
  readonly retval: number;
  readonly duration: number;
  readonly dataSizeOut: number;
  /** data_out bytes the kernel wrote (min(data_size_out, hint) when a hint was given). */
  readonly dataOut?: Uint8Array;
  readonly ctxSizeOut: number;
  readonly ctxOut?: Uint8Array;
  /** ctx_in after the call (syscall programs write their context back there). */
  readonly ctxInAfter?: Uint8Array;
}

/** Fill of the output buffers before the call. */
const SENTINEL = 0xa5;

/** Room given when no data_out hint is set: the kernel then copies the whole packet. */
const UNHINTED_ROOM = 1 << 17;

/**
 * Options for the kernel beyond RunOptions: the attr fields the vm API does not
 * name, to probe the kernel's checks.
 */
export interface RawExtras {
  readonly batchSize?: number;
  /** Pass data_out NULL. */
  readonly noDataOut?: boolean;
}

/**
 * BPF_PROG_TEST_RUN with the attr testRunAttr() derives from `o` (the vm's own
 * mapping; `ctxOutDefault` is the runtime's). Errors come back as errno, with
 * every field the kernel wrote.
 */
export function kernelTestRun(fd: number, o: RunOptions, ctxOutDefault: number, extra: RawExtras = {}): KernelRunOutcome {
  const a = testRunAttr(o, ctxOutDefault);
  const dataIn = a.dataIn ? Buffer.from(a.dataIn) : null;
  const hint = a.dataSizeOut;
  // Filled with a sentinel, to tell bytes the kernel wrote from a buffer it left alone.
  const dataOut = a.dataOut && !extra.noDataOut ? Buffer.alloc(hint > 0 ? hint : UNHINTED_ROOM, SENTINEL) : null;
  const ctxIn = a.ctxIn ? Buffer.from(a.ctxIn) : null;
  const ctxOut = a.ctxOut ? Buffer.alloc(a.ctxSizeOut, SENTINEL) : null;
  const attr = TestRunAttr.encode({
    prog_fd: fd,
    data_size_in: a.dataSizeIn,
    data_size_out: dataOut ? hint : 0,
    data_in: addr(dataIn),
    data_out: addr(dataOut),
    repeat: a.repeat,
    ctx_size_in: a.ctxSizeIn,
    ctx_size_out: a.ctxSizeOut,
    ctx_in: addr(ctxIn),
    ctx_out: addr(ctxOut),
    flags: a.flags,
    cpu: a.cpu,
    batch_size: extra.batchSize ?? a.batchSize,
  });
  const r = bpfRaw(BpfCmd.BPF_PROG_TEST_RUN, attr, TestRunAttr.size, [dataIn, dataOut, ctxIn, ctxOut]);
  const dataSizeOut = TestRunAttr.num(attr, "data_size_out");
  const ctxSizeOut = TestRunAttr.num(attr, "ctx_size_out");
  const untouched = (b: Buffer | null): boolean => b !== null && b.every((x) => x === SENTINEL);
  return {
    errno: r < 0 ? -r : 0,
    retval: TestRunAttr.num(attr, "retval"),
    duration: TestRunAttr.num(attr, "duration"),
    dataSizeOut,
    ...(dataOut ? { dataOut: untouched(dataOut) && dataSizeOut > 0 ? new Uint8Array(0) : new Uint8Array(dataOut.subarray(0, Math.min(dataSizeOut, hint > 0 ? hint : dataSizeOut))) } : {}),
    ctxSizeOut,
    ...(ctxOut && !untouched(ctxOut) ? { ctxOut: new Uint8Array(ctxOut.subarray(0, Math.min(ctxSizeOut, ctxOut.length))) } : {}),
    ...(ctxIn ? { ctxInAfter: new Uint8Array(ctxIn) } : {}),
  };
}

/** The kernel's answer as a harness Outcome: on success or ENOSPC every output, otherwise just the errno. */
export function kernelOutcome(fd: number, o: RunOptions, ctxOutDefault: number, ctxInIsOut = false): import("./harness.js").Outcome {
  const r = kernelTestRun(fd, o, ctxOutDefault);
  if (r.errno !== 0 && r.errno !== 28) return { errno: r.errno };
  const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString("hex") : undefined);
  return { errno: r.errno, retval: r.retval, dataSizeOut: r.dataSizeOut, dataOut: hex(r.dataOut), ctxOut: hex(ctxInIsOut ? r.ctxInAfter : r.ctxOut) };
}
