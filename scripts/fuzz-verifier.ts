/**
 * Fuzzes the verifier for soundness (test/vm/verifier/fuzz.ts): random programs and
 * mutations of the corpus; every accepted program runs checked on the interpreter
 * and the JIT with random inputs and must never fault; where bpf() works, every
 * accepted program is also loaded into the kernel, and one it rejects is a false
 * accept. Faults and false accepts are printed with a minimised reproducer.
 *
 *   npx vite-node scripts/fuzz-verifier.ts [count=100000] [firstSeed=1] [--no-kernel] [--seeds REGEX]
 *
 * --seeds mutates only the corpus programs whose names match (e.g. "locks|timers|dynptrs").
 */
import { kernelUnavailable } from "../test/vm/verifier/kernel-load.js";
import { kernelJudge } from "../test/vm/verifier/differential.js";
import { type FuzzProg, FuzzRunner, Rng, describe, fuzzCase, kernelCanJudge, minimize } from "../test/vm/verifier/fuzz.js";

const argv = process.argv.slice(2);
const seedsAt = argv.indexOf("--seeds");
const only = seedsAt >= 0 ? new RegExp(argv[seedsAt + 1]) : undefined;
const args = argv.filter((a, i) => !a.startsWith("--") && (seedsAt < 0 || i !== seedsAt + 1));
const count = Number(args[0] ?? 100_000);
const first = Number(args[1] ?? 1);
const noKernel = process.argv.includes("--no-kernel");
const why = noKernel ? "--no-kernel" : kernelUnavailable();
if (why) console.log(`kernel cross-check off: ${why}`);

const runner = new FuzzRunner();
const t0 = Date.now();
const stats = { accepted: 0, rejected: 0, invalid: 0, runs: 0, budget: 0, faults: 0, kernelChecked: 0, falseAccepts: 0, falseRejectsSampled: 0, rejectedSampled: 0, random: 0 };
let verifyMs = 0, runMs = 0;
const slow: Array<[number, number, string]> = [];
const kernelRejects = (q: FuzzProg): boolean => {
  try {
    return !kernelJudge(q).accepted;
  } catch {
    return false;
  }
};
for (let seed = first; seed < first + count; seed++) {
  if ((seed - first) % 10_000 === 0 && seed > first) {
    console.log(`${seed - first} programs, ${stats.accepted} accepted, ${stats.faults} faults, ${stats.falseAccepts} false accepts, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const { prog, rng } = fuzzCase(seed, only);
  if (prog.origin.startsWith("random")) stats.random++;
  const t = performance.now();
  let v;
  try {
    v = runner.check(prog, rng);
  } catch (e) {
    console.log(`seed ${seed}: the harness threw: ${(e as Error).stack}\n${describe(prog)}`);
    stats.faults++;
    continue;
  }
  const dt = performance.now() - t;
  slow.push([dt, seed, prog.origin]);
  if (slow.length > 40) { slow.sort((a, b) => b[0] - a[0]); slow.length = 5; }
  if (v.kind !== "accepted") {
    verifyMs += dt;
    if (v.kind === "rejected") stats.rejected++;
    else stats.invalid++;
    // A sample of rejections against the kernel: how often we are stricter than it.
    if (!why && v.kind === "rejected" && seed % 20 === 0 && kernelCanJudge(prog)) {
      stats.rejectedSampled++;
      if (!kernelRejects(prog)) {
        stats.falseRejectsSampled++;
        console.log(`STRICTER seed ${seed} (${prog.origin}): the kernel accepts what we reject: ${v.error}`);
      }
    }
    continue;
  }
  runMs += dt;
  stats.accepted++;
  stats.runs += v.runs;
  stats.budget += v.budget;
  if (v.faults.length) {
    stats.faults++;
    const f = v.faults[0];
    const same = (q: FuzzProg): boolean => {
      const w = new FuzzRunner().check(q, new Rng(seed));
      return w.kind === "accepted" && w.faults.some((g) => g.message.replace(/0x[0-9a-f]+/g, "") === f.message.replace(/0x[0-9a-f]+/g, ""));
    };
    console.log(`FAULT seed ${seed} (${f.engine}): ${f.message}\n  input: ${Buffer.from(f.input).toString("hex")}\n${describe(minimize(prog, same))}\n`);
  }
  if (!why && kernelCanJudge(prog)) {
    stats.kernelChecked++;
    if (kernelRejects(prog)) {
      stats.falseAccepts++;
      const min = minimize(prog, (q) => runner.check(q, new Rng(seed), 0).kind === "accepted" && kernelRejects(q));
      const k = kernelJudge(min);
      console.log(`FALSE ACCEPT seed ${seed}: the kernel says: ${k.errorLine}\n${describe(min)}\n`);
    }
  }
}
const secs = (Date.now() - t0) / 1000;
console.log(`done: ${count} programs (seeds ${first}..${first + count - 1}, ${stats.random} random, ${count - stats.random} mutated) in ${secs.toFixed(1)} s`);
console.log(`  ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.invalid} refused before verification`);
console.log(`  ${stats.runs} checked runs (interpreter and JIT), ${stats.budget} over the ${"budget"}, ${stats.faults} faults`);
if (!why) console.log(`  kernel: ${stats.kernelChecked} accepted programs cross-checked, ${stats.falseAccepts} false accepts; ${stats.falseRejectsSampled}/${stats.rejectedSampled} sampled rejections accepted by the kernel`);
console.log(`  time: ${(verifyMs / 1000).toFixed(1)} s on rejected/refused programs, ${(runMs / 1000).toFixed(1)} s on accepted ones (verify + JIT + runs)`);
slow.sort((a, b) => b[0] - a[0]);
console.log(`  slowest: ${slow.slice(0, 5).map(([ms, seed, o]) => `seed ${seed} ${ms.toFixed(0)} ms (${o})`).join("; ")}`);
process.exitCode = stats.faults || stats.falseAccepts ? 1 : 0;
