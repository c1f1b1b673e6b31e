/**
 * Differential fuzzing of the JIT against the reference interpreter: random
 * programs (test/vm/jit/gen.ts), random inputs, checked and unchecked modes,
 * small budgets; r0, faults, the buffer, the stack and (checked) the
 * instruction count must agree.
 *
 *   npx vite-node scripts/fuzz-jit.ts [count=100000] [firstSeed=1]
 *
 * A failing seed reproduces with `diffSeed(seed)`.
 */
import { caseFromSeed, compareOutcomes, runOn } from "../test/vm/jit/gen.js";

const count = Number(process.argv[2] ?? 100_000);
const first = Number(process.argv[3] ?? 1);
const t0 = Date.now();
let failures = 0;
const stats = { checked: 0, unchecked: 0, shared: 0, faulted: 0, budget: 0, tailCalls: 0 };
for (let seed = first; seed < first + count; seed++) {
  const c = caseFromSeed(seed);
  let diffs: string[];
  try {
    const a = runOn("interp", c);
    const b = runOn("jit", c);
    diffs = compareOutcomes(a, b);
    if (a.fault) stats.faulted++;
    if (a.fault?.includes("budget")) stats.budget++;
  } catch (e) {
    diffs = [`harness threw: ${e instanceof Error ? e.stack : String(e)}`];
  }
  if (c.checked) stats.checked++;
  else stats.unchecked++;
  if (c.targets) stats.tailCalls++;
  if (c.shared) stats.shared++;
  if (diffs.length > 0) {
    failures++;
    console.log(`seed ${seed} (${c.checked ? "checked" : "unchecked"}): ${diffs.join("; ")}`);
  }
  if ((seed - first + 1) % 10_000 === 0) {
    console.log(`${seed - first + 1} programs, ${failures} failures, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
const secs = (Date.now() - t0) / 1000;
console.log(`done: ${count} programs (seeds ${first}..${first + count - 1}) in ${secs.toFixed(1)} s: ${failures} failures`);
console.log(`  ${stats.checked} checked, ${stats.unchecked} unchecked (${stats.shared} on a shared memory); ${stats.faulted} faulted (${stats.budget} on the budget); ${stats.tailCalls} with tail-call targets`);
process.exitCode = failures > 0 ? 1 : 0;
