/**
 * A seeded sample of the verifier fuzzer (fuzz.ts; scripts/fuzz-verifier.ts runs
 * 10^5): random programs and corpus mutations; each program the verifier accepts
 * runs under checked execution on the interpreter and the JIT with random inputs
 * and must never fault, and the kernel must accept it too.
 */
import { describe, expect, test } from "vitest";
import { describeKernel } from "../../helpers/kernel.js";
import { kernelJudge } from "./differential.js";
import { type FuzzProg, FuzzRunner, describe as describeProg, fuzzCase, kernelCanJudge } from "./fuzz.js";

const FIRST_SEED = 1_000_001;
const CHUNKS = 3;
const PER_CHUNK = 500;

interface Chunk {
  readonly accepted: FuzzProg[];
  readonly rejected: number;
  readonly runs: number;
  readonly faults: string[];
}

const chunks = new Map<number, Chunk>();
function chunk(n: number): Chunk {
  let c = chunks.get(n);
  if (c) return c;
  const runner = new FuzzRunner();
  const accepted: FuzzProg[] = [];
  const faults: string[] = [];
  let rejected = 0, runs = 0;
  for (let seed = FIRST_SEED + n * PER_CHUNK; seed < FIRST_SEED + (n + 1) * PER_CHUNK; seed++) {
    const { prog, rng } = fuzzCase(seed);
    const v = runner.check(prog, rng, 2);
    if (v.kind !== "accepted") {
      rejected++;
      continue;
    }
    accepted.push(prog);
    runs += v.runs;
    for (const f of v.faults) faults.push(`seed ${seed} (${f.engine}): ${f.message}\n${describeProg(prog)}`);
  }
  chunks.set(n, (c = { accepted, rejected, runs, faults }));
  return c;
}

describe("verifier fuzzing: accepted programs never fault under checked execution", () => {
  for (let n = 0; n < CHUNKS; n++) {
    test(`seeds ${FIRST_SEED + n * PER_CHUNK}..${FIRST_SEED + (n + 1) * PER_CHUNK - 1}: no fault on the interpreter or the JIT`, () => {
      const c = chunk(n);
      expect(c.faults).toEqual([]);
      // The sample exercises the runtime: a fair share is accepted and run.
      expect(c.accepted.length).toBeGreaterThan(PER_CHUNK / 8);
      expect(c.runs).toBeGreaterThanOrEqual(c.accepted.length * 2);
    });
  }
});

describeKernel("verifier fuzzing: the kernel accepts every sampled program we accept", () => {
  for (let n = 0; n < CHUNKS; n++) {
    test(`seeds ${FIRST_SEED + n * PER_CHUNK}..${FIRST_SEED + (n + 1) * PER_CHUNK - 1}: no false accept`, () => {
      const falseAccepts = chunk(n).accepted.filter(kernelCanJudge).flatMap((p) => {
        const k = kernelJudge(p);
        return k.accepted ? [] : [`the kernel rejects: ${k.errorLine}\n${describeProg(p)}`];
      });
      expect(falseAccepts).toEqual([]);
    });
  }
});
