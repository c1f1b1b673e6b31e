// Differential fuzzing, a seeded sample: random programs (see gen.ts) run on the
// interpreter and the JIT must agree on everything observable. The full run
// (100,000+ programs) is scripts/fuzz-jit.ts.
import { describe, expect, test } from "vitest";
import { diffSeed } from "./gen.js";

const SAMPLE = 1500;
const CHUNK = 250;

describe("jit: differential fuzzing against the interpreter", () => {
  for (let start = 1; start <= SAMPLE; start += CHUNK) {
    test(`seeds ${start}..${start + CHUNK - 1} agree`, () => {
      const failures: string[] = [];
      for (let seed = start; seed < start + CHUNK; seed++) {
        const d = diffSeed(seed);
        if (d.length > 0) failures.push(`seed ${seed}: ${d.join("; ")}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
