/**
 * Test runs of the program types whose context is plain memory:
 * raw_tracepoint (bpf_prog_test_run_raw_tp: u64 args from ctx_in, no data),
 * syscall (bpf_prog_test_run_syscall: any ctx up to U16_MAX bytes, written
 * back) and tracing (bpf_prog_test_run_tracing). net/bpf/test_run.c, Linux 6.18.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import { BPF_MODIFY_RETURN, BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SYSCALL, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT, MAX_BPF_FUNC_ARGS } from "../constants.js";
import { BPF_F_TEST_RUN_ON_CPU, RunMemory, U16_MAX, fail, testRunAttr } from "./common.js";
import type { ProgTypeRuntime, TestRunTarget } from "./types.js";

/** Copies ctx_in into a fresh run allocation mapped as the context; 0 (NULL) when empty. */
function placeCtx(memory: RunMemory, bytes: Uint8Array | null, writable: boolean, name: string): number {
  if (!bytes) return 0;
  const addr = memory.alloc(bytes.length);
  memory.space.u8.set(bytes, addr);
  memory.region("ctx", writable, name, addr, addr + bytes.length);
  return addr;
}

/** bpf_prog_test_run_raw_tp(). */
function testRunRawTp(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, 0);
  const what = `raw_tracepoint program ${target.program.name}`;
  // No data_in/out, ctx_out, duration, repeat or batch_size.
  if (attr.dataIn || attr.dataOut || attr.ctxOut || attr.repeat || attr.batchSize) {
    fail("EINVAL", `${what}: raw tracepoint runs take only ctx_in, flags and cpu`);
  }
  if (attr.ctxSizeIn < (target.maxCtxOffset ?? 0) || attr.ctxSizeIn > MAX_BPF_FUNC_ARGS * 8) {
    fail("EINVAL", `${what}: ctx_size_in ${attr.ctxSizeIn}`);
  }
  const onCpu = (attr.flags & BPF_F_TEST_RUN_ON_CPU) !== 0;
  if (!onCpu && attr.cpu !== 0) fail("EINVAL", `${what}: cpu without BPF_F_TEST_RUN_ON_CPU`);
  if (onCpu && attr.cpu >= target.services.ncpus) fail("ENXIO", `${what}: cpu ${attr.cpu} is not online`);
  const memory = new RunMemory(target.services.space);
  try {
    const ctx = placeCtx(memory, attr.ctxIn, false, "bpf_raw_tracepoint_args");
    const retval = target.run(ctx, undefined, onCpu ? attr.cpu : undefined);
    // The kernel reports neither duration nor data_size_out here.
    return { retval: retval >>> 0, durationNs: 0, dataSizeOut: 0 };
  } finally {
    memory.dispose();
  }
}

/**
 * bpf_prog_test_run_syscall(). The kernel copies the context back into
 * ctx_in; the vm returns it as ctxOut.
 */
function testRunSyscall(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, 0);
  const what = `syscall program ${target.program.name}`;
  if (attr.dataIn || attr.dataOut || attr.ctxOut || attr.repeat || attr.flags || attr.batchSize) {
    fail("EINVAL", `${what}: syscall runs take only ctx_in`);
  }
  if (attr.ctxSizeIn < (target.maxCtxOffset ?? 0) || attr.ctxSizeIn > U16_MAX) fail("EINVAL", `${what}: ctx_size_in ${attr.ctxSizeIn}`);
  const memory = new RunMemory(target.services.space);
  try {
    const ctx = placeCtx(memory, attr.ctxIn, true, "syscall ctx");
    const retval = target.run(ctx);
    return {
      retval: retval >>> 0,
      durationNs: 0,
      dataSizeOut: 0,
      ...(ctx ? { ctxOut: memory.space.read(ctx, attr.ctxSizeIn) } : {}),
    };
  } finally {
    memory.dispose();
  }
}

/**
 * bpf_prog_test_run_tracing(). The kernel calls its test functions
 * (bpf_fentry_test1..9, bpf_modify_return_test/2) so that programs attached to
 * them fire; the program under test runs only if it is attached there. The vm
 * has no kernel functions to attach to, so it reports what those calls return
 * with nothing attached: 0 for fentry/fexit, and for fmod_ret the retval
 * ((side effects << 16) | sum) of the unmodified calls. Other attach types
 * (tp_btf, iter, ...) fail with EFAULT as in the kernel.
 */
function testRunTracing(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, 0);
  const what = `tracing program ${target.program.name}`;
  if (attr.flags || attr.cpu || attr.batchSize) fail("EINVAL", `${what}: flags, cpu or batch_size`);
  switch (target.program.attachType) {
    case BPF_TRACE_FENTRY:
    case BPF_TRACE_FEXIT:
      return { retval: 0, durationNs: 0, dataSizeOut: 0 };
    case BPF_MODIFY_RETURN: {
      // bpf_modify_return_test(1, &b = 2): b becomes 3, returns 4 (a side effect);
      // bpf_modify_return_test2(1, &b = 2, 3, 4, 5, 6, 7): b becomes 3, returns 29.
      const sideEffects = 2;
      const ret = (4 + 29) & 0xffff;
      return { retval: ((sideEffects << 16) | ret) >>> 0, durationNs: 0, dataSizeOut: 0 };
    }
    default:
      fail("EFAULT", `${what}: only fentry, fexit and fmod_ret programs can be test-run`);
  }
}

export const rawTracepointRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_RAW_TRACEPOINT, ctxOutDefault: 0, testRun: testRunRawTp };
export const syscallRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_SYSCALL, ctxOutDefault: 0, testRun: testRunSyscall };
export const tracingRuntime: ProgTypeRuntime = { progType: BPF_PROG_TYPE_TRACING, ctxOutDefault: 0, testRun: testRunTracing };
