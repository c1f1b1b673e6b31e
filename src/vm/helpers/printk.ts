/**
 * bpf_trace_printk, bpf_trace_vprintk (kernel/trace/bpf_trace.c) and
 * bpf_snprintf (kernel/bpf/helpers.c), on the format engine in bprintf.ts.
 *
 * Trace output goes to the runtime's trace pipe as the kernel's trace_pipe
 * shows a bpf_trace_printk event (kernel/trace/trace_output.c,
 * trace_print_context(); captured from Linux 6.18):
 *
 *   "            node-17404   [001] ...1.  3223.847821: bpf_trace_printk: hello"
 *
 * comm right-aligned in 16 columns, "-", the pid left-aligned in 7, the CPU in
 * three digits, the irq-info flags, the timestamp as %5llu.%06lu seconds, then
 * the event name and the formatted text. The text is cut at 1023 bytes
 * (MAX_BPRINTF_BUF) and at its first NUL (__assign_str); the event always
 * ends a line, so a format ending in "\n" leaves an empty line after it, and
 * embedded newlines start lines without a header — exactly as trace_pipe reads.
 * comm and pid come from HostEnv.task, the timestamp from HostEnv.monotonicNs
 * (the trace clock), and the flags are "...1." (no irqs off, no resched, not in
 * an interrupt, preemption disabled once: a program running under
 * migrate_disable in task context); the kernel's flags vary with the context
 * ("...2." for BPF_PROG_TEST_RUN), so differential tests normalise them.
 * Bytes above 0x7f are kept one per character (latin1).
 */
import { ProgramFault } from "../../errors.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef } from "./abi.js";
import {
  type BprintfEnv, MAX_BPRINTF_BUF, MAX_BPRINTF_VARARGS, MAX_TRACE_PRINTK_VARARGS, bprintfPrepare, bstrPrintf,
} from "./bprintf.js";
import { helperRuntime } from "./runtime.js";
import { cstrlen, def, E, memCheck } from "./util.js";

export const BPF_FUNC_trace_printk = 6;
export const BPF_FUNC_snprintf = 165;
export const BPF_FUNC_trace_vprintk = 177;

/** The irq-info column the vm prints (see the file comment). */
export const VM_TRACE_FLAGS = "...1.";

/** One trace_pipe line header, as trace_print_context() prints it. */
export function traceHeader(comm: string, pid: number, cpu: number, flags: string, ns: number): string {
  const secs = Math.floor(ns / 1e9);
  const usecs = Math.floor((ns - secs * 1e9) / 1000);
  return `${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, "0")}] ${flags} ${String(secs).padStart(5)}.${String(usecs).padStart(6, "0")}: `;
}

/** A 32-bit mixing hash of a pointer under `key` (murmur3's finalizer over both words). */
export function hashPointer(key: number, lo: number, hi: number): number {
  let h = (lo ^ Math.imul(hi ^ key, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h ^ key) >>> 0;
}

export function printkHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const rt = helperRuntime(services);
  const env: BprintfEnv = {
    get space() {
      return services.space;
    },
    hashPointer: (lo, hi) => hashPointer(rt.ptrKey, lo, hi),
  };
  const out = new Uint8Array(MAX_BPRINTF_BUF);

  /** trace_bpf_trace_printk(buf): one event, as trace_pipe lines. */
  const emit = (call: HelperCall, text: Uint8Array): void => {
    let n = 0;
    while (n < text.length && text[n] !== 0) n++;
    let s = "";
    for (let k = 0; k < n; k++) s += String.fromCharCode(text[k]);
    const task = services.host.task;
    // The kernel's comm is at most TASK_COMM_LEN - 1 bytes.
    const header = traceHeader(task.comm.slice(0, 15), task.pid, call.exec.cpu, VM_TRACE_FLAGS, services.host.monotonicNs());
    const lines = (header + "bpf_trace_printk: " + s).split("\n");
    for (const l of lines) services.tracePipe.write(l);
  };

  /** u64 arguments from memory (vprintk / snprintf): data_len bytes at `args`. */
  const memArgs = (call: HelperCall, argsArg: number, lenArg: number): Uint32Array | number => {
    const len = call.u32(lenArg);
    const args = call.u32(argsArg);
    const hasArgs = args !== 0 || call.hi(argsArg) !== 0;
    if (len & 7 || len > MAX_BPRINTF_VARARGS * 8 || (len && !hasArgs) || call.hi(lenArg) !== 0) return -E.EINVAL;
    const a = call.addr(argsArg);
    check(a, len, false, call.pc);
    const raw = new Uint32Array(len / 4);
    const dv = services.space.dv;
    for (let k = 0; k < raw.length; k++) raw[k] = dv.getUint32(a + 4 * k, true);
    return raw;
  };

  /** The format argument: fmt_size bytes that must be readable. */
  const fmtArg = (call: HelperCall, n: number, sizeN: number): [number, number] => {
    const fmt = call.addr(n);
    const size = call.u32(sizeN);
    check(fmt, size, false, call.pc);
    return [fmt, size];
  };

  return [
    /** bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): the length of the text, or -EINVAL / -ENOSPC. */
    def(BPF_FUNC_trace_printk, (call) => {
      const [fmt, size] = fmtArg(call, 1, 2);
      const raw = new Uint32Array(2 * MAX_TRACE_PRINTK_VARARGS);
      for (let k = 0; k < MAX_TRACE_PRINTK_VARARGS; k++) {
        raw[2 * k] = call.u32(3 + k);
        raw[2 * k + 1] = call.hi(3 + k);
      }
      const prepared = bprintfPrepare(env, fmt, size, raw, MAX_TRACE_PRINTK_VARARGS);
      if (typeof prepared === "number") return call.ret(prepared);
      const len = bstrPrintf(env, prepared, MAX_BPRINTF_BUF, out);
      emit(call, out);
      call.ret(len);
    }),

    /** bpf_trace_vprintk(fmt, fmt_size, args, data_len): up to MAX_BPRINTF_VARARGS u64 arguments. */
    def(BPF_FUNC_trace_vprintk, (call) => {
      const [fmt, size] = fmtArg(call, 1, 2);
      const raw = memArgs(call, 3, 4);
      if (typeof raw === "number") return call.ret(raw);
      const prepared = bprintfPrepare(env, fmt, size, raw, raw.length / 2);
      if (typeof prepared === "number") return call.ret(prepared);
      const len = bstrPrintf(env, prepared, MAX_BPRINTF_BUF, out);
      emit(call, out);
      call.ret(len);
    }),

    /**
     * bpf_snprintf(str, str_size, fmt, args, data_len): formats into str
     * (NUL-terminated when str_size > 0); returns the untruncated length plus
     * one, for the NUL.
     */
    def(BPF_FUNC_snprintf, (call) => {
      const str = call.u32(1);
      const strSize = call.u32(2);
      if (call.hi(1) !== 0) throw new ProgramFault(call.pc, "bpf_snprintf: str is not an address in the vm");
      check(str, strSize, true, call.pc);
      const raw = memArgs(call, 4, 5);
      if (typeof raw === "number") return call.ret(raw);
      // fmt is a constant string (ARG_PTR_TO_CONST_STR): NUL-terminated, read to its end.
      const fmt = call.addr(3);
      const flen = cstrlen(services.space, fmt, 1 << 20);
      if (flen < 0) {
        check(fmt, 1 << 20, false, call.pc);
        return call.ret(-E.EINVAL);
      }
      const prepared = bprintfPrepare(env, fmt, flen + 1, raw, raw.length / 2);
      if (typeof prepared === "number") return call.ret(prepared);
      const buf = new Uint8Array(strSize);
      const len = bstrPrintf(env, prepared, strSize, buf);
      // bstr_printf writes the text and its NUL, nothing past them.
      services.space.u8.set(buf.subarray(0, Math.min(len + 1, strSize)), str);
      call.ret(len + 1);
    }),
  ];
}
