import { fuzzCase, describe } from "./test/vm/verifier/fuzz.js";
import { runKernel } from "./test/vm/verifier/differential.js";
import { runVerifier } from "./test/vm/verifier/harness.js";
for (const seed of [216020, 247000]) {
  const { prog } = fuzzCase(seed);
  console.log("=== seed", seed, describe(prog).split("\n").slice(0, 3).join(" | "));
  const k = runKernel(prog as any, 2);
  console.log("KERNEL:", k.accepted, "\n" + k.log.split("\n").slice(0, 40).join("\n"));
  const o = runVerifier(prog as any, { logLevel: 2 });
  console.log("OURS:", o.accepted, "\n" + o.log.split("\n").slice(0, 40).join("\n"));
}
