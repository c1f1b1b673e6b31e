/**
 * The benchmark objects: accepted, with the kernel's processed-instruction counts
 * (Linux 6.18 figures from /work/shared/bench/progs/README.md, re-measured against
 * this kernel where available) and the xlated lengths `bpftool prog dump xlated` shows. The
 * running kernel's counts are checked by differential.test.ts (objects) against
 * recorded-verdicts.json, which recorded.test.ts checks ours against.
 */
import { describe, expect, test } from "vitest";
import { BENCH_KERNEL, BENCH_PROGRAMS } from "./bench-maps.js";
import { benchProg, runVerifier } from "./harness.js";

/** xlated lengths we deliberately differ on: the kernel inlines hash map lookups (htab_map_gen_lookup); the vm does not. */
const XLATED_DIFF: Record<string, number> = { "04_hash_map": 168 };

describe("verifier: benchmark objects", () => {
  for (const name of BENCH_PROGRAMS) {
    test(`${name} is accepted with the kernel's processed count and xlated length`, () => {
      const t = performance.now();
      const r = runVerifier(benchProg(name));
      const ms = performance.now() - t;
      expect(r.error?.message).toBeUndefined();
      expect(r.accepted).toBe(true);
      expect(r.stats.processedInsns).toBe(BENCH_KERNEL[name].processed);
      expect(r.xlated.length).toBe(XLATED_DIFF[name] ?? BENCH_KERNEL[name].xlated);
      // alu_lcg walks 450k instructions: a few seconds at most.
      expect(ms).toBeLessThan(10_000);
    });
  }

  test("states statistics match the kernel's for xdp_parse_udp", () => {
    const r = runVerifier(benchProg("03_xdp_parse_udp"));
    expect(r.stats).toMatchObject({ processedInsns: 77, maxStatesPerInsn: 0, totalStates: 6, peakStates: 6 });
    expect(r.stackDepth).toEqual([8]);
  });

  test("the array map lookup is inlined as array_map_gen_lookup", () => {
    const r = runVerifier(benchProg("03_xdp_parse_udp"));
    const at = r.xlatedOrigin.indexOf(49);
    const ops = Array.from({ length: 7 }, (_, k) => r.xlated.opcode[at + k]);
    expect(ops).toEqual([0x07, 0x61, 0x35, 0x67, 0x0f, 0x05, 0xb7]);
    expect(r.xlated.imm[at]).toBe(312);
    expect(r.aux[49].inlineArrayLookup).toBe(true);
  });
});
