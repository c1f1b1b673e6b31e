/**
 * Records the kernel's verdicts on every program of the verifier corpus
 * (test/vm/verifier/programs.ts: the hand-written corpus, the C fixtures, the
 * benchmark objects) into test/vm/verifier/recorded-verdicts.json, which
 * test/vm/verifier/recorded.test.ts checks our verifier against on any machine.
 * Per program: the verdict, the error line (normalised as the live differential
 * test does), the processed-instruction count, and whether the error line and
 * count are comparable (KNOWN_DIFFERENCES says why when they are not).
 *
 *   npx vite-node scripts/record-verdicts.ts            record (needs bpf() as root)
 *   npx vite-node scripts/record-verdicts.ts --check    compare only, write nothing
 *   npx vite-node scripts/record-verdicts.ts --only RE  only names matching RE (implies --check)
 *
 * It also prints how our verifier compares: verdict agreement, full agreement
 * (verdict, error line, processed count), false accepts (we accept, the kernel
 * rejects: must be 0) and false rejects, and checks that our level-0 verdict
 * (what the test uses for million-instruction programs) equals the level-1 one.
 */
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { fileURLToPath } from "node:url";
import { progTypeById } from "../src/vm/progtypes/index.js";
import { type RecordedProgram, type Verdict, kernelVerdict, ourVerdict, recordedPrograms } from "../test/vm/verifier/programs.js";

/**
 * Programs whose error line or processed count we knowingly do not reproduce,
 * with the reason. The verdict is always compared.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, { error?: string; processed?: string }>> = {
  "asm/kfunc call in dead code": { error: "the vm has no kfuncs: it refuses every kfunc call without resolving the BTF id" },
};

export interface RecordedEntry extends Verdict {
  /** bpftool's program type name. */
  readonly type: string;
  /** False (with `why`) where our error line is knowingly different. */
  readonly compareError: boolean;
  readonly compareProcessed: boolean;
  readonly why?: string;
}

export interface RecordedFile {
  readonly kernel: string;
  readonly date: string;
  readonly programs: Record<string, RecordedEntry>;
}

const args = process.argv.slice(2);
const only = args.includes("--only") ? new RegExp(args[args.indexOf("--only") + 1]) : undefined;
const check = args.includes("--check") || only !== undefined;
const verbose = args.includes("-v");
const out = fileURLToPath(new URL("../test/vm/verifier/recorded-verdicts.json", import.meta.url));

const typeOf = (p: RecordedProgram): number => (p.kind === "asm" ? p.prog.progType : p.progType);

const programs = recordedPrograms().filter((p) => !only || only.test(p.name));
const recorded: Record<string, RecordedEntry> = {};
let verdictAgree = 0, fullAgree = 0, exactAgree = 0, falseAccepts = 0, falseRejects = 0, levelMismatch = 0;
const t0 = Date.now();
for (const p of programs) {
  const k = kernelVerdict(p);
  const known = KNOWN_DIFFERENCES[p.name] ?? {};
  recorded[p.name] = {
    type: progTypeById(typeOf(p))?.name ?? String(typeOf(p)),
    accepted: k.accepted, error: k.error, processed: k.processed,
    compareError: known.error === undefined, compareProcessed: known.processed === undefined,
    ...(known.error || known.processed ? { why: [known.error, known.processed].filter(Boolean).join("; ") } : {}),
  };
  const o = ourVerdict(p, 1);
  if (verbose) console.log(`${p.name}: ${k.accepted ? "accepted" : `rejected: ${k.error}`} (${k.processed} insns)`);
  const o0 = ourVerdict(p, 0);
  if (o0.accepted !== o.accepted || o0.error !== o.error || o0.processed !== o.processed) {
    levelMismatch++;
    console.log(`LEVEL 0/1 DIFFER ${p.name}: level 1 ${JSON.stringify(pick(o))}, level 0 ${JSON.stringify(pick(o0))}`);
  }
  const sameError = o.error === k.error || !recorded[p.name].compareError;
  const sameProcessed = o.processed === k.processed || !recorded[p.name].compareProcessed;
  if (o.accepted === k.accepted) verdictAgree++;
  if (o.accepted && !k.accepted) falseAccepts++;
  if (!o.accepted && k.accepted) falseRejects++;
  if (o.accepted === k.accepted && o.error === k.error && o.processed === k.processed) exactAgree++;
  if (o.accepted === k.accepted && sameError && sameProcessed) fullAgree++;
  else {
    const tag = o.accepted && !k.accepted ? "FALSE ACCEPT" : !o.accepted && k.accepted ? "FALSE REJECT" : "DIFFER";
    console.log(`${tag} ${p.name}\n  kernel: ${JSON.stringify(pick(k))}\n  ours:   ${JSON.stringify(pick(o))}`);
  }
}
const n = programs.length;
const pct = (x: number): string => ((100 * x) / Math.max(1, n)).toFixed(1);
const byType = new Map<string, [number, number]>();
for (const e of Object.values(recorded)) {
  const c = byType.get(e.type) ?? [0, 0];
  c[e.accepted ? 0 : 1]++;
  byType.set(e.type, c);
}
console.log(`${n} programs in ${((Date.now() - t0) / 1000).toFixed(1)} s on Linux ${release()}: ` +
  `${[...byType].map(([t, [a, r]]) => `${t} ${a}+${r}`).join(", ")} (accepted+rejected)`);
console.log(`verdict agreement ${verdictAgree}/${n} (${pct(verdictAgree)}%), verdict+error line+processed ${exactAgree}/${n} (${pct(exactAgree)}%; ` +
  `${fullAgree}/${n} counting the ${Object.keys(KNOWN_DIFFERENCES).length} documented differences), ` +
  `false accepts ${falseAccepts}, false rejects ${falseRejects}, level 0/1 mismatches ${levelMismatch}`);
if (!check) {
  const file: RecordedFile = { kernel: release(), date: new Date().toISOString().slice(0, 10), programs: recorded };
  writeFileSync(out, JSON.stringify(file, null, 1) + "\n");
  console.log(`wrote ${out}`);
}
process.exitCode = falseAccepts > 0 ? 1 : 0;

function pick(v: Verdict): Verdict {
  return { accepted: v.accepted, error: v.error, processed: v.processed };
}
