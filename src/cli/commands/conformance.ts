/** `tsbpf conformance DIR [--engine interp|jit] [-j]`: runs bpf_conformance data files in-process. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseConformanceFile } from "../../conformance/datafile.js";
import { type CaseOutcome, runCase } from "../../conformance/run.js";
import { TsbpfError } from "../../errors.js";
import type { EngineKind } from "../../vm/engines.js";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";

export const conformanceCommand: Command = {
  words: ["conformance"],
  usage: "conformance DIR [--engine jit|interp] [-j]",
  async run(args, options, io) {
    const { positional, flags } = parseKeywords(args, [], ["--engine"]);
    if (positional.length !== 1) throw new UsageError("conformance takes one directory");
    const engine = (flags.get("--engine") ?? "jit") as string;
    if (engine !== "interp" && engine !== "jit") throw new UsageError(`--engine takes interp or jit, not '${engine}'`);
    const dir = positional[0];
    if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
    const files = readdirSync(dir).filter((f) => f.endsWith(".data")).sort();
    let passed = 0;
    let failed = 0;
    for (const file of files) {
      let outcome: CaseOutcome;
      try {
        outcome = runCase(parseConformanceFile(readFileSync(join(dir, file), "utf8"), file), engine as EngineKind);
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        outcome = { name: file, passed: false, error: e.message, detail: e.message };
      }
      if (outcome.passed) passed++;
      else failed++;
      if (options.json) {
        printJson(io, options, {
          file,
          passed: outcome.passed,
          ...(outcome.r0 !== undefined ? { r0: "0x" + outcome.r0.toString(16) } : {}),
          ...(outcome.passed ? {} : { detail: outcome.detail }),
        });
      } else if (!outcome.passed) {
        io.out(`FAIL ${file}: ${outcome.detail}\n`);
      }
    }
    io.out(`${passed} passed, ${failed} failed\n`);
    return failed === 0 ? 0 : 1;
  },
};
