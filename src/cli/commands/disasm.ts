/**
 * `tsbpf disasm FILE [--style llvm|xlated]`: disassembles FILE, raw little-endian
 * bytecode, in llvm-objdump's style (default) or bpftool's xlated style.
 *
 * Files are read by the first `programReaders` entry that claims them; raw
 * bytecode is the fallback. An object-file reader (ELF) plugs in by adding a
 * reader that claims files starting with the ELF magic.
 */
import { readFileSync } from "node:fs";
import { Bytecode } from "../../isa/bytecode.js";
import { type DisasmStyle, disassemble, disassembleLines } from "../../isa/disasm.js";
import { NotSupportedError } from "../../errors.js";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";

/** One program to disassemble, as a reader found it. */
export interface ProgramSection {
  /** Section name ("xdp"), when the file has sections; printed as objdump's header. */
  readonly name?: string;
  readonly code: Bytecode;
  /** Function symbols by slot. */
  readonly symbols?: ReadonlyMap<number, string>;
}

export interface ProgramReader {
  /** Whether this reader handles the file. */
  claims(bytes: Uint8Array, path: string): boolean;
  read(bytes: Uint8Array, path: string): ProgramSection[];
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Readers tried in order before the raw-bytecode fallback. */
export const programReaders: ProgramReader[] = [
  {
    // Until the ELF reader exists, say so instead of disassembling the ELF header.
    claims: (bytes) => ELF_MAGIC.every((b, i) => bytes[i] === b),
    read: () => {
      throw new NotSupportedError("ELF objects in disasm", "give raw bytecode");
    },
  },
];

const rawReader: ProgramReader = {
  claims: () => true,
  read: (bytes) => [{ code: Bytecode.fromBytes(bytes) }],
};

export function readProgramFile(path: string): ProgramSection[] {
  const bytes = new Uint8Array(readFileSync(path));
  const reader = programReaders.find((r) => r.claims(bytes, path)) ?? rawReader;
  return reader.read(bytes, path);
}

export const disasmCommand: Command = {
  words: ["disasm"],
  usage: "disasm FILE [--style llvm|xlated]",
  async run(args, options, io) {
    const { positional, flags } = parseKeywords(args, [], ["--style"]);
    if (positional.length !== 1) throw new UsageError("disasm takes one bytecode file");
    for (const f of flags.keys()) if (f !== "--style") throw new UsageError(`unknown option '${f}'`);
    const style = flags.get("--style") ?? "llvm";
    if (style !== "llvm" && style !== "xlated") throw new UsageError(`--style takes llvm or xlated, not '${String(style)}'`);
    const sections = readProgramFile(positional[0]);
    if (options.json) {
      printJson(io, options, sections.map((s) => ({
        ...(s.name !== undefined ? { section: s.name } : {}),
        instructions: disassembleLines(s.code, { style: style as DisasmStyle, symbols: s.symbols, section: s.name }).map((l) => ({
          pc: l.pc,
          text: l.text,
        })),
      })));
      return 0;
    }
    for (const s of sections) {
      if (s.name !== undefined && style === "llvm") io.out(`\nDisassembly of section ${s.name}:\n`);
      io.out(disassemble(s.code, { style: style as DisasmStyle, symbols: s.symbols, section: s.name }));
    }
    return 0;
  },
};
