/**
 * Kprobe-like hooks: a function entry (or return) of the host, with the
 * registers of x86-64 struct pt_regs as the context (the layout kprobe
 * programs and the PT_REGS_* macros read). The host supplies the argument
 * registers (di, si, dx, cx, r8, r9 per the System V ABI), the return value
 * (ax) for a return probe, and the function's address for bpf_get_func_ip.
 */
import { BPF_PROG_TYPE_KPROBE } from "../progtypes/constants.js";
import { ptRegs } from "../progtypes/ctx/pt_regs.js";
import { RunMemory } from "../progtypes/runtime/common.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";
import { type FieldValue, writeField } from "./tracepoint.js";

/** The pt_regs registers a host may set. */
export type PtRegName =
  | "r15" | "r14" | "r13" | "r12" | "bp" | "bx" | "r11" | "r10" | "r9" | "r8" | "ax" | "cx" | "dx" | "si" | "di"
  | "orig_ax" | "ip" | "cs" | "flags" | "sp" | "ss";

/** Argument registers in order (x86-64 System V: PT_REGS_PARM1..6). */
export const ARG_REGS: readonly PtRegName[] = ["di", "si", "dx", "cx", "r8", "r9"];

const OFFSET = new Map(ptRegs.fields.filter((f) => f.size === 8 || f.name === "cs" || f.name === "ss").map((f) => [f.name, f.offset]));

export interface KprobeFire {
  /** Register values by name. */
  readonly regs?: Readonly<Partial<Record<PtRegName, FieldValue>>>;
  /** Arguments 1..6 (shorthand for di, si, dx, cx, r8, r9). */
  readonly args?: readonly FieldValue[];
  /** The return value (ax), for return probes. */
  readonly ret?: FieldValue;
}

export interface KprobeFireResult {
  readonly results: readonly ProgramResult[];
}

export class KprobeHook extends Hook {
  readonly kind = "kprobe";

  constructor(
    name: string,
    services: VmServices,
    /** The probed function's address (bpf_get_func_ip, regs->ip). */
    readonly funcIp: number,
    /** A return probe: programs run when the function returns. */
    readonly isReturn = false,
  ) {
    super(name, services);
  }

  protected accepts(p: RunningProgram): boolean {
    return p.progType === BPF_PROG_TYPE_KPROBE;
  }

  fire(event: KprobeFire = {}): KprobeFireResult {
    const memory = new RunMemory(this.services.space);
    try {
      const ctx = memory.alloc(ptRegs.size);
      const u8 = this.services.space.u8;
      writeField(u8, ctx + OFFSET.get("ip")!, 8, this.funcIp);
      (event.args ?? []).forEach((a, i) => {
        if (i >= ARG_REGS.length) throw new RangeError("pt_regs passes at most 6 arguments in registers");
        writeField(u8, ctx + OFFSET.get(ARG_REGS[i])!, 8, a);
      });
      if (event.ret !== undefined) writeField(u8, ctx + OFFSET.get("ax")!, 8, event.ret);
      for (const [k, v] of Object.entries(event.regs ?? {})) {
        const off = OFFSET.get(k);
        if (off === undefined || v === undefined) throw new RangeError(`pt_regs has no register ${k}`);
        writeField(u8, ctx + off, 8, v);
      }
      memory.region("ctx", false, "pt_regs", ctx, ctx + ptRegs.size);
      const results: ProgramResult[] = [];
      this.each((run, link) => {
        results.push(this.result(link, run(ctx, undefined, this.funcIp)));
      });
      return { results };
    } finally {
      memory.dispose();
    }
  }
}
