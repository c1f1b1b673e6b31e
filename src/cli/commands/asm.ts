/**
 * `tsbpf asm FILE [-o OUT]`: assembles FILE (uBPF or pseudo-C dialect, detected
 * per file). With -o, writes the raw little-endian bytecode to OUT; without, prints
 * one 64-bit little-endian word per slot ("0x0000000000000095"), the format of a
 * bpf_conformance "-- raw" section.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { assembleBytecode } from "../../isa/asm.js";
import type { Bytecode } from "../../isa/bytecode.js";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";

/** The slots as little-endian 64-bit words, "0x" + 16 hex digits each. */
export function hexWords(code: Bytecode): string[] {
  const bytes = code.toBytes("le");
  const words: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    let w = "";
    for (let b = 7; b >= 0; b--) w += bytes[i + b].toString(16).padStart(2, "0");
    words.push("0x" + w);
  }
  return words;
}

export const asmCommand: Command = {
  words: ["asm"],
  usage: "asm FILE [-o OUT]",
  async run(args, options, io) {
    const { positional, flags } = parseKeywords(args, [], ["-o"]);
    if (positional.length !== 1) throw new UsageError("asm takes one assembly file");
    for (const f of flags.keys()) if (f !== "-o") throw new UsageError(`unknown option '${f}'`);
    const out = flags.get("-o");
    if (out === true) throw new UsageError("-o needs a file name");
    const file = positional[0];
    const code = assembleBytecode(readFileSync(file, "utf8"), { source: file });
    if (out !== undefined) {
      writeFileSync(out, code.toBytes("le"));
      if (options.json) printJson(io, options, { file: out, instructions: code.length, bytes: code.length * 8 });
      return 0;
    }
    if (options.json) printJson(io, options, hexWords(code));
    else io.out(hexWords(code).map((w) => w + "\n").join(""));
    return 0;
  },
};
