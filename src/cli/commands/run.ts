/**
 * `tsbpf run OBJ [program NAME] [data_in FILE] [data_out FILE] [ctx_in FILE]
 * [ctx_out FILE] [repeat N] [-j]`: loads the object and test-runs one program
 * (BPF_PROG_TEST_RUN), on the vm or, with --backend linux, in the kernel.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";
import { loadObjectFile, pickProgram } from "../backend.js";

export const runCommand: Command = {
  words: ["run"],
  usage: "run OBJ [program NAME] [data_in FILE] [data_out FILE] [ctx_in FILE] [ctx_out FILE] [repeat N] [-j]",
  async run(args, options, io) {
    const { kw, positional } = parseKeywords(args, ["program", "data_in", "data_out", "ctx_in", "ctx_out", "repeat"]);
    if (positional.length !== 1) throw new UsageError("run takes one object file");
    const repeatText = kw.get("repeat") ?? "1";
    if (!/^\d+$/.test(repeatText)) throw new UsageError(`repeat takes a count, not '${repeatText}'`);
    const name = kw.get("program");
    const { collection } = await loadObjectFile(positional[0], options, name ? { programs: [name] } : {});
    using _ = collection;
    const prog = pickProgram(collection, name);
    const dataIn = kw.get("data_in");
    const ctxIn = kw.get("ctx_in");
    const result = prog.run({
      ...(dataIn ? { data: new Uint8Array(readFileSync(dataIn)) } : {}),
      ...(ctxIn ? { ctx: new Uint8Array(readFileSync(ctxIn)) } : {}),
      repeat: Number(repeatText),
    });
    const dataOut = kw.get("data_out");
    if (dataOut) writeFileSync(dataOut, result.dataOut ?? new Uint8Array(0));
    const ctxOut = kw.get("ctx_out");
    if (ctxOut) writeFileSync(ctxOut, result.ctxOut ?? new Uint8Array(0));
    if (options.json) {
      printJson(io, options, { retval: result.retval >>> 0, duration_ns: result.durationNs, data_size_out: result.dataSizeOut });
    } else {
      // bpftool prog run's wording.
      io.out(`Return value: ${result.retval >>> 0}, duration${Number(repeatText) > 1 ? " (average)" : ""}: ${result.durationNs}ns\n`);
    }
    return 0;
  },
};
