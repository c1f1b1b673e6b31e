/**
 * Custom hooks: an application's own extension point. The context is a byte
 * buffer of the host's choosing (a struct the application defines), which
 * programs may read and, for program types with a writable context (syscall),
 * change; the host gets it back. By default syscall and raw_tracepoint
 * programs attach: both take a plain-memory context.
 */
import { BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SYSCALL } from "../progtypes/constants.js";
import { RunMemory } from "../progtypes/runtime/common.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";

export interface CustomHookOptions {
  /** Bytes of the context every fire passes. */
  readonly ctxSize: number;
  /** Programs may write the context. Default true. */
  readonly writable?: boolean;
  /** BPF_PROG_TYPE_* accepted. Default syscall and raw_tracepoint. */
  readonly progTypes?: readonly number[];
  /**
   * Stop the chain when a program returns something else than this value
   * (like an XDP chain stops at the first non-PASS verdict). Default: run all.
   */
  readonly continueOn?: number;
}

export interface CustomFireResult {
  readonly results: readonly ProgramResult[];
  /** The context after the programs ran. */
  readonly ctx: Uint8Array;
}

export class CustomHook extends Hook {
  readonly kind = "custom";

  constructor(
    name: string,
    services: VmServices,
    readonly options: CustomHookOptions,
  ) {
    super(name, services);
    if (!Number.isInteger(options.ctxSize) || options.ctxSize < 0) throw new RangeError(`bad ctxSize ${options.ctxSize}`);
  }

  protected accepts(p: RunningProgram): boolean {
    return (this.options.progTypes ?? [BPF_PROG_TYPE_SYSCALL, BPF_PROG_TYPE_RAW_TRACEPOINT]).includes(p.progType);
  }

  /** Fires with `ctx` (zero-extended or cut to ctxSize). */
  fire(ctx: Uint8Array = new Uint8Array(0)): CustomFireResult {
    const memory = new RunMemory(this.services.space);
    try {
      const size = this.options.ctxSize;
      const addr = size ? memory.alloc(size) : 0;
      if (size) {
        this.services.space.u8.set(ctx.subarray(0, size), addr);
        memory.region("ctx", this.options.writable ?? true, this.name, addr, addr + size);
      }
      const results: ProgramResult[] = [];
      this.each((run, link) => {
        const r = run(addr);
        results.push(this.result(link, r));
        return this.options.continueOn === undefined || r === this.options.continueOn >>> 0;
      });
      return { results, ctx: size ? this.services.space.read(addr, size) : new Uint8Array(0) };
    } finally {
      memory.dispose();
    }
  }
}
