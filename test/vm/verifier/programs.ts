/**
 * Every program whose verdict is recorded (test/vm/verifier/recorded-verdicts.json):
 * the hand-written corpus (corpus.ts), the C fixtures (test/fixtures/verifier/*.bpf.o,
 * every program of each object) and the benchmark objects. One stable name each,
 * and the two ways to judge one: the kernel (needs bpf()) and our verifier.
 *
 * Objects go through the whole loaders on both sides, as a user's object would:
 * the linux backend (maps with BTF, func/line info, CO-RE) and the vm loader into a
 * VmKernel (its verifier adapter: BTF-typed global function arguments, the vm's
 * helper set).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Collection } from "../../../src/api/types.js";
import { TsbpfError } from "../../../src/errors.js";
import { linuxBackend } from "../../../src/linux/backend.js";
import { ProgramLoadError } from "../../../src/linux/load/programs.js";
import { ObjectSpec } from "../../../src/object/spec.js";
import { type LoadedObject, loadIntoKernel } from "../../../src/vm/loader.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";
import { vmVerifier } from "../../../src/vm/runtime/verifier-adapter.js";
import type { VerifyOutcome } from "../../../src/vm/runtime/verify.js";
import type { VerifierResult } from "../../../src/vm/verifier/types.js";
import { type CorpusCase, corpus } from "./corpus.js";
import { errorLine, runKernel } from "./differential.js";
import { fixturePath, runVerifier } from "./harness.js";

export type RecordedProgram =
  | { readonly name: string; readonly kind: "asm"; readonly prog: CorpusCase }
  | { readonly name: string; readonly kind: "object"; readonly file: string; readonly program: string; readonly progType: number };

/** What is recorded per program. */
export interface Verdict {
  readonly accepted: boolean;
  /** The log's last line before "processed N insns" (differential.ts errorLine); "" when accepted. */
  readonly error: string;
  /** "processed N insns"; -1 when the log has none. */
  readonly processed: number;
}

/** Object files of the recorded corpus, relative to test/fixtures. */
export function objectFiles(): string[] {
  const dir = (d: string): string[] => readdirSync(fixturePath(`../${d}`)).filter((f) => f.endsWith(".bpf.o")).sort().map((f) => `${d}/${f}`);
  return [...dir("verifier"), ...dir("bench")];
}

const specCache = new Map<string, ObjectSpec>();
export function objectSpec(file: string): ObjectSpec {
  let s = specCache.get(file);
  if (!s) specCache.set(file, (s = ObjectSpec.fromBytes(new Uint8Array(readFileSync(fixturePath(`../${file}`))))));
  return s;
}

/** Every recorded program, corpus first, then each object's programs in section order. */
export function recordedPrograms(): RecordedProgram[] {
  const out: RecordedProgram[] = corpus.map((c) => ({ name: `asm/${c.name}`, kind: "asm" as const, prog: c }));
  for (const file of objectFiles()) {
    for (const p of objectSpec(file).programs.values()) {
      out.push({ name: `${file}:${p.name}`, kind: "object", file, program: p.name, progType: p.type });
    }
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.name)) throw new Error(`duplicate recorded program name ${p.name}`);
    seen.add(p.name);
  }
  return out;
}

const processedOf = (log: string): number => Number(/processed (\d+) insns/.exec(log)?.[1] ?? -1);

/** The kernel's verdict (BPF_PROG_LOAD with a level-1 log). */
export function kernelVerdict(p: RecordedProgram): Verdict & { log: string } {
  if (p.kind === "asm") {
    const k = runKernel(p.prog, 1);
    return { accepted: k.accepted, error: k.errorLine, processed: k.processed, log: k.log };
  }
  let coll: Collection | undefined;
  try {
    coll = linuxBackend().load(objectSpec(p.file), { programs: [p.program], logLevel: 1 });
    const log = (coll.program(p.program) as unknown as { verifierLog: string }).verifierLog;
    return { accepted: true, error: "", processed: processedOf(log), log };
  } catch (e) {
    if (e instanceof ProgramLoadError) return { accepted: false, error: errorLine(e.log), processed: processedOf(e.log), log: e.log };
    throw e;
  } finally {
    coll?.[Symbol.dispose]();
  }
}

/**
 * Our verdict. At level 0 (no log: fast on million-instruction programs) the
 * error line is the rejection message's last line, which is what the log ends
 * with; the recorder checks both levels agree.
 */
export function ourVerdict(p: RecordedProgram, level: 0 | 1 = 1): Verdict & { log: string; result?: VerifierResult; outcome?: VerifyOutcome } {
  if (p.kind === "asm") {
    const r = runVerifier(p.prog, { logLevel: level });
    const s = r.stats;
    // What a level-1 log would end with: the rejection, then the statistics line.
    const tail = `${r.rejectMessage ?? ""}processed ${s.processedInsns} insns (limit 1000000) max_states_per_insn ${s.maxStatesPerInsn} ` +
      `total_states ${s.totalStates} peak_states ${s.peakStates} mark_read 0\n`;
    return { accepted: r.accepted, error: r.accepted ? "" : errorLine(level > 0 ? r.log : tail), processed: s.processedInsns, log: r.log, result: r };
  }
  const { outcome, error } = loadIntoVm(p, level);
  if (!outcome) return { accepted: false, error: `load failed: ${error}`, processed: -1, log: "" };
  // Objects are small or accepted: a rejected one is judged on its level-1 log.
  if (!outcome.accepted && level === 0) return ourVerdict(p, 1);
  return { accepted: outcome.accepted, error: outcome.accepted ? "" : errorLine(outcome.log), processed: outcome.processedInsns, log: outcome.log, outcome };
}

/**
 * Loads one program of an object into a fresh VmKernel in warn mode (so a
 * rejected program still yields the verifier's outcome), as `tsbpf verify` does.
 */
export function loadIntoVm(p: Extract<RecordedProgram, { kind: "object" }>, level: number, kernel?: VmKernel):
  { outcome?: VerifyOutcome; error?: string; kernel: VmKernel; loaded?: LoadedObject } {
  let last: VerifyOutcome | undefined;
  const inner = vmVerifier();
  const k = kernel ?? new VmKernel({
    verifierMode: "warn",
    verifier: (req) => (last = inner(req)),
  });
  try {
    const loaded = loadIntoKernel(k, objectSpec(p.file), { programs: [p.program], logLevel: level });
    return { outcome: last, kernel: k, loaded };
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    return { outcome: last, error: e.message, kernel: k };
  }
}
