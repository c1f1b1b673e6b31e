/**
 * Register liveness, within and across functions. It decides each wasm
 * function's signature so that calls pass only what is read:
 *
 * - params P(f): registers r0..r9 read before written from f's entry. The
 *   interpreter keeps one register file, so a callee sees its caller's r0 and
 *   r6..r9 too; passing whatever is live keeps even unverified programs exact.
 * - results R(f): r0, plus the r1..r5 some caller reads after the call before
 *   writing them (the interpreter leaves the callee's r1..r5 in place; r6..r9 are
 *   restored).
 * - cbSpill: r0 and r6..r9 a callback reads on entry; helper calls store these
 *   where the callback dispatcher finds them (a callback starts with the
 *   interpreter's registers as they are at the helper call).
 *
 * For verified programs all of this collapses to the calling convention the
 * kernel documents (r1..r5 in, r0 out; Documentation/bpf/standardization/abi.rst).
 */
import type { Bytecode } from "../../isa/bytecode.js";
import { Kind, type FunctionCfg, type ProgramInfo, kindAt, targetOf } from "./cfg.js";

/** r1..r5. */
export const ARG_REGS = 0b111110;
/** r0..r9. */
export const ALL_REGS = 0x3ff;
/** r0 and r6..r9. */
export const CALLBACK_SEEN = 0b1111000001;

export interface Signatures {
  readonly params: Map<number, number>;
  readonly results: Map<number, number>;
  cbSpill: number;
}

const bit = (r: number): number => 1 << r;

/** Registers read and written by the instruction at pc, given the callee signatures. */
export function usesDefs(
  code: Bytecode, pc: number, sigs: Signatures, ownResults: number, out: { use: number; def: number },
): void {
  const k = kindAt(code, pc);
  const op = code.opcode[pc];
  const d = code.dst[pc];
  const s = code.src[pc];
  let use = 0;
  let def = 0;
  switch (k) {
    case Kind.alu:
      if (op === 0xb7 || op === 0xb4) def = bit(d);
      else if (op === 0xbf || op === 0xbc) {
        use = bit(s);
        def = bit(d);
      } else if (op === 0x87 || op === 0x84 || op === 0xd7 || op === 0xd4 || op === 0xdc || (op & 0x08) === 0) {
        use = bit(d);
        def = bit(d);
      } else {
        use = bit(d) | bit(s);
        def = bit(d);
      }
      break;
    case Kind.ldx:
      use = bit(s);
      def = bit(d);
      break;
    case Kind.st:
      use = bit(d);
      break;
    case Kind.stx:
      use = bit(d) | bit(s);
      break;
    case Kind.atomic: {
      const imm = code.imm[pc];
      if (imm === 0x100) {
        use = bit(s);
        def = bit(d);
      } else if (imm === 0xf1) {
        use = bit(d) | bit(s) | bit(0);
        def = bit(0);
      } else {
        use = bit(d) | bit(s);
        if ((imm & 1) !== 0 && imm !== 0x110) def = bit(s);
      }
      break;
    }
    case Kind.ld_imm64:
      def = bit(d);
      break;
    case Kind.ld_pkt:
      use = bit(6) | ((op & 0xe0) === 0x40 ? bit(s) : 0);
      def = bit(0);
      break;
    case Kind.jcc:
      use = bit(d) | ((op & 0x08) !== 0 ? bit(s) : 0);
      break;
    case Kind.call_local: {
      const t = targetOf(code, pc);
      if (t >= 0 && t < code.length) {
        use = sigs.params.get(t) ?? 0;
        def = bit(0) | (sigs.results.get(t) ?? 0);
      }
      break;
    }
    case Kind.call_helper:
      use = ARG_REGS | sigs.cbSpill;
      def = bit(0);
      break;
    case Kind.callx:
      use = ARG_REGS | sigs.cbSpill | bit(d);
      def = bit(0);
      break;
    case Kind.tail_call:
      // The target starts from the whole register file (stored to memory).
      use = ALL_REGS | ownResults;
      break;
    case Kind.exit:
      use = bit(0) | ownResults;
      break;
    default:
      break; // ja, may_goto, kfunc, invalid
  }
  out.use = use & 0x7ff;
  out.def = def & 0x7ff;
}

export interface FunctionLiveness {
  /** Live-in mask per block (by RPO number). */
  readonly liveIn: Int32Array;
  readonly liveOut: Int32Array;
}

/** Backward dataflow over one function. */
export function functionLiveness(prog: ProgramInfo, cfg: FunctionCfg, sigs: Signatures): FunctionLiveness {
  const { code, n } = prog;
  const m = cfg.order.length;
  const ownResults = sigs.results.get(cfg.entry) ?? 0;
  const USE = new Int32Array(m);
  const DEF = new Int32Array(m);
  const ud = { use: 0, def: 0 };
  cfg.order.forEach((b, i) => {
    let use = 0;
    let def = 0;
    for (const pc of b.pcs) {
      usesDefs(code, pc, sigs, ownResults, ud);
      use |= ud.use & ~def;
      def |= ud.def;
    }
    USE[i] = use;
    DEF[i] = def;
  });
  const succ: number[][] = cfg.order.map((b) =>
    b.succs.filter((e) => e.to >= 0 && e.to < n).map((e) => cfg.rpo.get(e.to)!),
  );
  const liveIn = new Int32Array(m);
  const liveOut = new Int32Array(m);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = m - 1; i >= 0; i--) {
      let out = 0;
      for (const j of succ[i]) out |= liveIn[j];
      const inn = USE[i] | (out & ~DEF[i]);
      if (inn !== liveIn[i] || out !== liveOut[i]) {
        liveIn[i] = inn;
        liveOut[i] = out;
        changed = true;
      }
    }
  }
  return { liveIn, liveOut };
}

/** Iterates params, results and the callback spill set to their fixpoint. */
export function computeSignatures(prog: ProgramInfo, cfgs: ReadonlyMap<number, FunctionCfg>): Signatures {
  const sigs: Signatures = { params: new Map(), results: new Map(), cbSpill: 0 };
  for (const e of prog.entries) {
    sigs.params.set(e, 0);
    sigs.results.set(e, 0);
  }
  const { code, n } = prog;
  for (let changed = true; changed; ) {
    changed = false;
    const newResults = new Map<number, number>();
    for (const e of prog.entries) newResults.set(e, sigs.results.get(e)!);
    for (const e of prog.entries) {
      const cfg = cfgs.get(e)!;
      const live = functionLiveness(prog, cfg, sigs);
      const p = live.liveIn[0] & ALL_REGS;
      if (p !== sigs.params.get(e)) {
        sigs.params.set(e, p);
        changed = true;
      }
      cfg.order.forEach((b, i) => {
        const last = b.pcs[b.pcs.length - 1];
        if (b.lastKind !== Kind.call_local) return;
        const t = targetOf(code, last);
        if (t < 0 || t >= n) return;
        newResults.set(t, newResults.get(t)! | (live.liveOut[i] & ARG_REGS));
      });
    }
    for (const [e, r] of newResults) {
      if (r !== sigs.results.get(e)) {
        sigs.results.set(e, r);
        changed = true;
      }
    }
    let spill = 0;
    for (const cb of prog.callbackEntries) spill |= sigs.params.get(cb)! & CALLBACK_SEEN;
    if (spill !== sigs.cbSpill) {
      sigs.cbSpill = spill;
      changed = true;
    }
  }
  return sigs;
}
