/** ELF64 reader: sections, symbols, relocations. Knows nothing of BPF. */
export * from "./constants.js";
export { ElfFile } from "./reader.js";
export type { ByteOrder, ElfHeader, ElfRelocation, ElfRelocationSection, ElfSection, ElfSymbol } from "./reader.js";
