/**
 * `tsbpf plugin [MEM] [--program HEX] [--engine interp|jit]`: a plugin for the
 * upstream bpf_conformance runner (Alan-Jowett/bpf_conformance,
 * src/bpf_conformance.cc), which starts the plugin as `PLUGIN "<mem hex>" "<options>"`
 * and writes the program to its stdin:
 *
 *   - the program: hex bytes separated by whitespace on stdin (or --program HEX);
 *   - argv[1]: the input memory, hex bytes separated by whitespace (may be empty);
 *   - further arguments: options, possibly several in one argument ("--engine jit");
 *   - success: r0 in hex without a prefix and a newline on stdout, exit 0;
 *   - failure: the error text on stdout (the runner compares it with a test's
 *     "-- error"), exit 1.
 *
 * The program runs unverified (checked mode) on a vm engine, with the conformance
 * runner's setup (src/conformance/run.ts). uBPF's plugin flags --jit and
 * --interpret are accepted as --engine jit / interp.
 */
import { runRaw } from "../../conformance/run.js";
import { TsbpfError } from "../../errors.js";
import { Bytecode } from "../../isa/bytecode.js";
import type { EngineKind } from "../../vm/engines.js";
import { type Command, UsageError } from "../command.js";

/** Hex bytes separated by whitespace ("b7 00 ..." or "b7  00  ..."); invalid tokens are an error. */
export function parseHexBytes(text: string, what: string): Uint8Array {
  const tokens = text.split(/\s+/).filter(Boolean);
  return Uint8Array.from(tokens, (t) => {
    if (!/^(?:0x)?[0-9a-f]{1,2}$/i.test(t)) throw new PluginInputError(`${what}: '${t}' is not a hex byte`);
    return parseInt(t.replace(/^0x/i, ""), 16);
  });
}

/** Malformed plugin input (reported like any other failure: text on stdout, exit 1). */
export class PluginInputError extends TsbpfError {}

export const pluginCommand: Command = {
  words: ["plugin"],
  usage: "plugin [MEM] [--program HEX] [--engine interp|jit]",
  async run(args, _options, io) {
    let memory = "";
    let program: string | undefined;
    let engine: EngineKind = "interp";
    let rest = args;
    if (rest.length > 0 && !rest[0].trimStart().startsWith("--")) {
      memory = rest[0];
      rest = rest.slice(1);
    }
    // The runner passes all options as one argument; split them.
    const words = rest.flatMap((a) => a.split(/\s+/)).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w === "--program") {
        if (i + 1 >= words.length) throw new UsageError("--program needs hex bytes");
        program = words[++i];
        // --program takes the rest of the words up to the next option, so that
        // "--program b7 00 ..." works as well as one quoted argument.
        while (i + 1 < words.length && !words[i + 1].startsWith("--")) program += " " + words[++i];
      } else if (w === "--engine" || w.startsWith("--engine=")) {
        const v = w.includes("=") ? w.slice(w.indexOf("=") + 1) : words[++i];
        if (v !== "interp" && v !== "jit") throw new UsageError(`--engine takes interp or jit, not '${v ?? ""}'`);
        engine = v;
      } else if (w === "--jit") engine = "jit";
      else if (w === "--interpret") engine = "interp";
      else throw new UsageError(`unknown option '${w}'`);
    }
    try {
      const code = Bytecode.fromBytes(parseHexBytes(program ?? (await io.readStdin()), "program"));
      const mem = parseHexBytes(memory, "memory");
      const r0 = runRaw(code, mem, engine);
      io.out(BigInt.asUintN(64, r0).toString(16) + "\n");
      return 0;
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      io.out(e.message + "\n");
      return 1;
    }
  },
};
