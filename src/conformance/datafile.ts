/**
 * The bpf_conformance test file format: sections introduced by `-- name` lines.
 *   -- asm     the program in the uBPF dialect
 *   -- raw     the program as 64-bit little-endian words (takes precedence)
 *   -- mem     input memory as hex bytes
 *   -- result  expected r0
 *   -- error   expected error text (instead of a result)
 *   -- c, -- no register offset: ignored
 */
import { Bytecode } from "../isa/bytecode.js";
import { assembleUbpf, parseIntLiteral } from "../isa/asm-ubpf.js";
import { TsbpfError } from "../errors.js";

export interface ConformanceCase {
  readonly name: string;
  readonly code: Bytecode;
  readonly memory: Uint8Array;
  /** Expected r0, all 64 bits, or undefined when an error is expected. */
  readonly result?: bigint;
  readonly error?: string;
}

export class ConformanceFileError extends TsbpfError {}

export function parseConformanceFile(text: string, name: string): ConformanceCase {
  type Section = "ignore" | "asm" | "raw" | "mem" | "result" | "error";
  let section: Section = "ignore";
  const asm: string[] = [];
  const raw: string[] = [];
  const mem: string[] = [];
  let result: string | undefined;
  let error: string | undefined;
  // Keep asm line numbers meaningful in errors: pad the asm text with blank lines.
  let asmStartLine = 0;

  text.split(/\r?\n/).forEach((line, i) => {
    const header = /^--\s*(.*?)\s*$/.exec(line);
    if (header) {
      const h = header[1];
      section = h === "asm" ? "asm" : h === "raw" ? "raw" : h === "mem" ? "mem" : h === "result" ? "result" : h === "error" ? "error" : "ignore";
      if (section === "asm") asmStartLine = i + 1;
      return;
    }
    switch (section) {
      case "asm":
        asm.push(line);
        break;
      case "raw":
        raw.push(line.replace(/#.*/, ""));
        break;
      case "mem":
        mem.push(line.replace(/#.*/, ""));
        break;
      case "result":
        if (line.trim()) result = line.trim();
        break;
      case "error":
        if (line.trim()) error = line.trim();
        break;
      default:
        break;
    }
  });

  let code: Bytecode;
  const rawWords = raw.join(" ").split(/\s+/).filter(Boolean);
  if (rawWords.length > 0) {
    const bytes = new Uint8Array(rawWords.length * 8);
    const view = new DataView(bytes.buffer);
    rawWords.forEach((w, i) => {
      const v = parseIntLiteral(w);
      if (v === undefined) throw new ConformanceFileError(`${name}: bad raw instruction word '${w}'`);
      view.setBigUint64(i * 8, BigInt.asUintN(64, v), true);
    });
    code = Bytecode.fromBytes(bytes);
  } else if (asm.length > 0) {
    code = Bytecode.fromInstructions(assembleUbpf("\n".repeat(asmStartLine) + asm.join("\n"), name));
  } else {
    throw new ConformanceFileError(`${name}: no program (neither -- asm nor -- raw)`);
  }

  const memBytes = mem.join(" ").split(/\s+/).filter(Boolean).map((b) => {
    if (!/^[0-9a-f]{1,2}$/i.test(b)) throw new ConformanceFileError(`${name}: bad memory byte '${b}'`);
    return parseInt(b, 16);
  });

  if (result === undefined && error === undefined) throw new ConformanceFileError(`${name}: no -- result or -- error`);
  const expected = result === undefined ? undefined : parseIntLiteral(result);
  if (result !== undefined && expected === undefined) throw new ConformanceFileError(`${name}: bad result '${result}'`);
  return {
    name,
    code,
    memory: Uint8Array.from(memBytes),
    ...(expected !== undefined ? { result: BigInt.asUintN(64, expected) } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
