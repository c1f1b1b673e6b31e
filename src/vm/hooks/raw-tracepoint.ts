/**
 * Raw-tracepoint-like hooks: an event whose context is its arguments as u64
 * values (struct bpf_raw_tracepoint_args), at most MAX_BPF_FUNC_ARGS of them.
 * raw_tracepoint, raw_tracepoint_writable and tp_btf (tracing with
 * BPF_TRACE_RAW_TP) programs attach here.
 */
import { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, MAX_BPF_FUNC_ARGS } from "../progtypes/constants.js";
import { RunMemory } from "../progtypes/runtime/common.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";
import { type FieldValue, writeField } from "./tracepoint.js";

export interface RawTracepointFireResult {
  readonly results: readonly ProgramResult[];
}

export class RawTracepointHook extends Hook {
  readonly kind = "raw_tracepoint";

  constructor(
    name: string,
    services: VmServices,
    /** How many arguments the event passes (the tracepoint's TP_PROTO). */
    readonly nargs: number,
  ) {
    super(name, services);
    if (!Number.isInteger(nargs) || nargs < 0 || nargs > MAX_BPF_FUNC_ARGS) throw new RangeError(`a raw tracepoint has 0..${MAX_BPF_FUNC_ARGS} arguments, not ${nargs}`);
  }

  protected accepts(p: RunningProgram): boolean {
    return p.progType === BPF_PROG_TYPE_RAW_TRACEPOINT || p.progType === BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE ||
      (p.progType === BPF_PROG_TYPE_TRACING && p.attachType === BPF_TRACE_RAW_TP);
  }

  /** Fires with the arguments (missing ones are 0); programs read them, read-only. */
  fire(args: readonly FieldValue[] = []): RawTracepointFireResult {
    if (args.length > this.nargs) throw new RangeError(`${this.name} takes ${this.nargs} arguments, not ${args.length}`);
    const memory = new RunMemory(this.services.space);
    try {
      const size = Math.max(8, this.nargs * 8);
      const ctx = memory.alloc(size);
      const u8 = this.services.space.u8;
      args.forEach((a, i) => writeField(u8, ctx + i * 8, 8, a));
      memory.region("ctx", false, `${this.name} args`, ctx, ctx + this.nargs * 8);
      const results: ProgramResult[] = [];
      this.each((run, link) => {
        results.push(this.result(link, run(ctx)));
      });
      return { results };
    } finally {
      memory.dispose();
    }
  }
}
