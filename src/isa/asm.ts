/**
 * The assembler's entry point: text in either dialect -> instructions.
 *
 *   ubpf     the uBPF / bpf_conformance mnemonics ("mov32 %r0, 1", "ldxw %r0, [%r1]")
 *   pseudoc  LLVM's BPF assembly and the kernel's / bpftool's xlated text
 *            ("w0 = 1", "r0 = *(u32 *)(r1 + 0)", "   3: (18) r1 = map[id:4]")
 *
 * With dialect "auto" (the default) the dialect is detected per file, from the
 * first line that only one of them could have written.
 */
import { assemblePseudoC } from "./asm-pseudoc.js";
import { assembleUbpf } from "./asm-ubpf.js";
import { Bytecode } from "./bytecode.js";
import type { Instruction } from "./instruction.js";

export type AsmDialect = "auto" | "ubpf" | "pseudoc";

export interface AsmOptions {
  readonly dialect?: AsmDialect;
  /** File name for error messages ("prog.s:3:7: ..."). */
  readonly source?: string;
}

/** Assembles a program. Malformed text is an AsmError naming line and column. */
export function assemble(text: string, options: AsmOptions = {}): Instruction[] {
  const dialect = options.dialect === undefined || options.dialect === "auto" ? detectDialect(text) : options.dialect;
  return dialect === "ubpf" ? assembleUbpf(text, options.source) : assemblePseudoC(text, options.source);
}

/** Assembles a program into slots. */
export function assembleBytecode(text: string, options: AsmOptions = {}): Bytecode {
  return Bytecode.fromInstructions(assemble(text, options));
}

// A uBPF mnemonic at the start of a statement: mov32, ldxdw, jsgt, lddw, be16, ja...
const UBPF_MNEMONIC =
  /^(?:(?:add|sub|mul|div|sdiv|or|and|lsh|rsh|mod|smod|xor|mov|arsh|neg)(?:32)?|movsx(?:8|16|32)(?:32|64)|ldx?s?(?:b|h|w|dw)|stx?(?:b|h|w|dw)|lddw|ld(?:abs|ind)(?:b|h|w)|j(?:a|eq|gt|ge|set|ne|sgt|sge|lt|le|slt|sle)(?:32)?|(?:le|be|swap|bswap)(?:16|32|64))$/;

/**
 * The dialect of a text: "ubpf" if a line uses %rN registers or starts with a uBPF
 * mnemonic and has no "=", "pseudoc" at the first line with "=" or a pseudo-C-only
 * keyword; "pseudoc" when nothing decides (e.g. only "exit").
 */
export function detectDialect(text: string): "ubpf" | "pseudoc" {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[#;].*$/, "").replace(/\/\/.*$/, "").trim();
    if (line === "") continue;
    if (/%r\d/.test(line)) return "ubpf";
    const stmt = line.replace(/^(?:[A-Za-z_.$][\w.$]*:\s*)+/, "");
    const word = /^[A-Za-z_.$][\w.$]*/.exec(stmt)?.[0] ?? "";
    if (stmt.includes("=") || /^(?:if|goto|gotol|may_goto|callx|lock|store_release|ld_pseudo)\b/.test(stmt) || /^\d+:/.test(stmt)) {
      return "pseudoc";
    }
    if (UBPF_MNEMONIC.test(word.toLowerCase())) return "ubpf";
  }
  return "pseudoc";
}
