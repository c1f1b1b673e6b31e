import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parseConformanceFile } from "../../src/conformance/datafile.js";
import { runCase } from "../../src/conformance/run.js";
import type { EngineKind } from "../../src/vm/engines.js";

// A copy of ../shared/conformance (bpf_conformance's data, with its LICENSE), so
// a clean clone tests the same 313 files.
const dir = fileURLToPath(new URL("./data/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".data")).sort();

/** Registers one test per bpf_conformance file for `engine`. */
export function conformanceSuite(engine: EngineKind): void {
  describe(`bpf_conformance on the ${engine === "interp" ? "interpreter" : "JIT"}`, () => {
    test("the suite holds all 313 files", () => {
      expect(files).toHaveLength(313);
    });
    test.each(files)("%s", (file) => {
      const c = parseConformanceFile(readFileSync(dir + file, "utf8"), file);
      const outcome = runCase(c, engine);
      expect(outcome.passed, `${file}: ${outcome.detail}`).toBe(true);
    });
  });
}

