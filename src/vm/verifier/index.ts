/**
 * The vm's verifier: `verify(input)` checks a program the way Linux 6.18's
 * verifier does and returns the verdict, the log in the kernel's format, the
 * statistics, per-instruction facts for the loader/JIT and the xlated program.
 */
import { VerifierError } from "../../errors.js";
import { applyFixups } from "./fixups.js";
import type { VerifierInput, VerifierResult } from "./types.js";
import { Verifier } from "./verifier.js";

export type {
  CtxAccess, FuncInfo, InsnAux, LineInfo, VerifierHelper, VerifierInput, VerifierMapInfo, VerifierMode, VerifierResult, VerifierStats,
} from "./types.js";
export { disasmInsn } from "./disasm.js";

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

export function verify(input: VerifierInput): VerifierResult {
  const mode = input.mode ?? "strict";
  const priv = input.privileged ?? true;
  const t0 = now();
  const v = new Verifier(input);
  if (mode === "off") {
    const aux = v.aux;
    return {
      accepted: true, log: "", stackDepth: [], maxCtxOffset: 0, minCtxOffset: 0, subprogs: [0], aux, xlated: input.code.clone(),
      xlatedOrigin: Array.from({ length: input.code.length }, (_, i) => i), fixups: [],
      stats: { processedInsns: 0, maxStatesPerInsn: 0, totalStates: 0, peakStates: 0, markRead: 0, timeUs: 0 },
    };
  }
  const failure = v.run();
  const timeUs = Math.round((now() - t0) * 1000);
  v.printStats(input.logStats ?? false, timeUs);
  const log = v.log.text();
  const stats = {
    processedInsns: v.processed, maxStatesPerInsn: v.maxStatesPerInsn, totalStates: v.totalStates,
    peakStates: v.peakStates, markRead: 0, timeUs,
  };
  const subprogs = v.cfg?.subprogStarts ?? [0];
  if (failure) {
    const line = sourceLine(input, failure.insn);
    const where = failure.insn >= 0 ? ` (insn ${failure.insn}${line ? ", " + line : ""})` : "";
    const error = new VerifierError(failure.msg.split("\n").filter((l) => l && !/^(cur|old) state:/.test(l)).join("; ") + where, log, failure.insn >= 0 ? failure.insn : undefined, line, failure.errno);
    const accepted = mode === "warn";
    return {
      accepted, log, stats, stackDepth: v.stackDepth, maxCtxOffset: v.maxCtxOffset, minCtxOffset: v.minCtxOffset, subprogs, error, rejectMessage: failure.logText, aux: v.aux, xlated: input.code.clone(),
      xlatedOrigin: Array.from({ length: input.code.length }, (_, i) => i), fixups: [],
    };
  }
  const fx = applyFixups(input.code, v.aux, { privileged: priv });
  return {
    accepted: true, log, stats, stackDepth: v.stackDepth, maxCtxOffset: v.maxCtxOffset, minCtxOffset: v.minCtxOffset, subprogs, aux: v.aux, xlated: fx.xlated, xlatedOrigin: fx.origin,
    fixups: fx.applied,
  };
}

function sourceLine(input: VerifierInput, insn: number): string | undefined {
  const lines = input.lineInfo;
  if (!lines || insn < 0) return undefined;
  let best: { insn: number; file: string; line: number } | undefined;
  for (const l of lines) if (l.insn <= insn && (!best || l.insn >= best.insn)) best = l;
  return best ? `${best.file.split("/").pop()}:${best.line}` : undefined;
}
