/**
 * Disassembler: bytecode -> text, in the two styles the tools print.
 *
 *   llvm    what `llvm-objdump-19 -d --mcpu=v4` prints for BPF ("r1 = -0x5 ll",
 *           "if r6 != 0x1000 goto -0x7 <f+0x40>"), line prefix "   12:\t<bytes>\t".
 *   xlated  what `bpftool prog dump xlated` prints, i.e. the kernel's
 *           kernel/bpf/disasm.c with bpftool's callbacks ("  12: (b7) r0 = 42",
 *           "call bpf_map_lookup_elem#1", "r1 = map[id:4]").
 *
 * Either output assembles back to the same bytes (src/isa/asm.ts). Where a tool's
 * text would lose bits, the style prints an extension instead; each is listed in
 * the style's file (disasm-llvm.ts, disasm-xlated.ts).
 */
import type { ByteOrder } from "./bytecode.js";
import { Bytecode } from "./bytecode.js";
import type { Instruction } from "./instruction.js";
import { INSN_SIZE } from "./opcodes.js";
import { type LlvmContext, formatLlvm } from "./disasm-llvm.js";
import { formatXlated } from "./disasm-xlated.js";

export type DisasmStyle = "llvm" | "xlated";

export interface DisasmOptions {
  /** Default "llvm". */
  readonly style?: DisasmStyle;
  /**
   * Print each tool's line prefix (default true): llvm-objdump's slot index and
   * instruction bytes, bpftool's "% 4d: (op) ". Without it, only the instruction text.
   */
  readonly prefix?: boolean;
  /**
   * llvm: function symbols by slot. Jump targets are annotated relative to the
   * nearest symbol at or before them, and with `prefix` each symbol gets
   * llvm-objdump's header line ("\n0000000000000010 <name>:").
   */
  readonly symbols?: ReadonlyMap<number, string>;
  /**
   * llvm: the section name jump annotations fall back to when no symbol precedes
   * the target, as llvm-objdump does for a section without symbols (default ".text").
   */
  readonly section?: string;
  /** Byte order of the bytes column (llvm style); default "le". */
  readonly order?: ByteOrder;
}

/** One disassembled instruction. */
export interface DisasmLine {
  /** Slot index. */
  readonly pc: number;
  readonly insn: Instruction;
  /** The instruction text without any prefix. */
  readonly text: string;
}

/** Disassembles a program; one line per instruction (LD_IMM64 on one line), each ending in "\n". */
export function disassemble(code: Bytecode | readonly Instruction[], options: DisasmOptions = {}): string {
  const bc = code instanceof Bytecode ? code : Bytecode.fromInstructions(code);
  const style = options.style ?? "llvm";
  const prefix = options.prefix ?? true;
  const order = options.order ?? "le";
  const ctx: LlvmContext = { symbols: sortedSymbols(options.symbols), section: options.section ?? ".text" };
  const bytes = prefix && style === "llvm" ? bc.toBytes(order) : undefined;
  let out = "";
  for (const [pc, insn] of bc.decodeAll()) {
    if (style === "llvm" && prefix && options.symbols?.has(pc)) {
      out += `\n${(BigInt(pc) * BigInt(INSN_SIZE)).toString(16).padStart(16, "0")} <${options.symbols.get(pc)}>:\n`;
    }
    if (style === "xlated") {
      out += (prefix ? `${String(pc).padStart(4)}: (${hex2(bc.opcode[pc])}) ` : "") + formatXlated(insn) + "\n";
    } else {
      const text = formatLlvm(insn, pc, ctx);
      if (bytes) {
        const width = insn.kind === "ld_imm64" ? 2 * INSN_SIZE : INSN_SIZE;
        const b = Array.from(bytes.subarray(pc * INSN_SIZE, pc * INSN_SIZE + width), hex2).join(" ");
        out += `${String(pc).padStart(8)}:\t${b}\t${text}\n`;
      } else {
        out += text + "\n";
      }
    }
  }
  return out;
}

/** Disassembles into structured lines (text without prefixes). */
export function disassembleLines(code: Bytecode | readonly Instruction[], options: DisasmOptions = {}): DisasmLine[] {
  const bc = code instanceof Bytecode ? code : Bytecode.fromInstructions(code);
  const ctx: LlvmContext = { symbols: sortedSymbols(options.symbols), section: options.section ?? ".text" };
  return bc.decodeAll().map(([pc, insn]) => ({
    pc,
    insn,
    text: (options.style ?? "llvm") === "xlated" ? formatXlated(insn) : formatLlvm(insn, pc, ctx),
  }));
}

/** The text of one instruction at slot `pc`, without prefix. */
export function formatInstruction(insn: Instruction, pc: number, style: DisasmStyle = "llvm"): string {
  return style === "xlated" ? formatXlated(insn) : formatLlvm(insn, pc, { symbols: [], section: ".text" });
}

const hex2 = (b: number): string => b.toString(16).padStart(2, "0");

function sortedSymbols(symbols: ReadonlyMap<number, string> | undefined): Array<[number, string]> {
  return symbols ? [...symbols].sort((a, b) => a[0] - b[0]) : [];
}
