/** The instruction set: encoding, the Instruction union, assembler, disassembler, builder. */
export * from "./opcodes.js";
export * from "./instruction.js";
export { Bytecode, type ByteOrder } from "./bytecode.js";
export { assemble, assembleBytecode, detectDialect, type AsmDialect, type AsmOptions } from "./asm.js";
export { assembleUbpf } from "./asm-ubpf.js";
export { assemblePseudoC } from "./asm-pseudoc.js";
export {
  disassemble, disassembleLines, formatInstruction, type DisasmLine, type DisasmOptions, type DisasmStyle,
} from "./disasm.js";
export { HELPER_NAMES, BPF_FUNC_MAX_ID, helperId, helperName } from "./helper-names.js";
export {
  ProgramBuilder, BuilderError, Register, FP, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10,
  type BuildOptions, type BuiltProgram, type Source, type SymbolReference,
} from "./builder.js";
