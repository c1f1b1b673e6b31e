/**
 * ELF constants the reader needs. Values from the System V gABI (elf.h,
 * include/uapi/linux/elf.h) and, for BPF relocations, LLVM's
 * llvm/BinaryFormat/ELFRelocs/BPF.def and the kernel's
 * Documentation/bpf/llvm_reloc.rst.
 */

/** "\x7fELF". */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

/** Size of Elf64_Ehdr. */
export const ELF64_EHDR_SIZE = 64;
/** Size of Elf64_Shdr. */
export const ELF64_SHDR_SIZE = 64;
/** Size of Elf64_Sym. */
export const ELF64_SYM_SIZE = 24;
/** Size of Elf64_Rel. */
export const ELF64_REL_SIZE = 16;
/** Size of Elf64_Rela. */
export const ELF64_RELA_SIZE = 24;

// e_type
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// e_machine
export const EM_NONE = 0;
export const EM_X86_64 = 62;
/** Linux BPF. include/uapi/linux/elf-em.h, EM_BPF. */
export const EM_BPF = 247;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;
/** LLVM's address-significance table (.llvm_addrsig). */
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

// sh_flags
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

// Special section indices
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// Symbol binding (st_info >> 4)
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

// Symbol type (st_info & 0xf)
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

// Symbol visibility (st_other & 3)
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// BPF relocation types. Documentation/bpf/llvm_reloc.rst.
export const R_BPF_NONE = 0;
/** ld_imm64: the 64-bit immediate of an LD_IMM64 pair (maps, globals, func addresses). */
export const R_BPF_64_64 = 1;
/** 64-bit absolute data (.maps initial values, DWARF). */
export const R_BPF_64_ABS64 = 2;
/** 32-bit absolute data (DWARF, BTF). */
export const R_BPF_64_ABS32 = 3;
/** 32-bit data not resolved by the dynamic loader (.BTF, .BTF.ext). */
export const R_BPF_64_NODYLD32 = 4;
/** call imm: a bpf-to-bpf call (binutils names it R_BPF_INSN_DISP32). */
export const R_BPF_64_32 = 10;

const SHT_NAMES: Record<number, string> = {
  [SHT_NULL]: "NULL", [SHT_PROGBITS]: "PROGBITS", [SHT_SYMTAB]: "SYMTAB", [SHT_STRTAB]: "STRTAB",
  [SHT_RELA]: "RELA", [SHT_HASH]: "HASH", [SHT_DYNAMIC]: "DYNAMIC", [SHT_NOTE]: "NOTE",
  [SHT_NOBITS]: "NOBITS", [SHT_REL]: "REL", [SHT_DYNSYM]: "DYNSYM", [SHT_SYMTAB_SHNDX]: "SYMTAB SECTION INDICES",
  [SHT_LLVM_ADDRSIG]: "LLVM_ADDRSIG",
};

/** The section type as llvm-readelf prints it. */
export function sectionTypeName(type: number): string {
  return SHT_NAMES[type] ?? `0x${type.toString(16)}`;
}

const R_BPF_NAMES: Record<number, string> = {
  [R_BPF_NONE]: "R_BPF_NONE", [R_BPF_64_64]: "R_BPF_64_64", [R_BPF_64_ABS64]: "R_BPF_64_ABS64",
  [R_BPF_64_ABS32]: "R_BPF_64_ABS32", [R_BPF_64_NODYLD32]: "R_BPF_64_NODYLD32", [R_BPF_64_32]: "R_BPF_64_32",
};

/** A BPF relocation type as llvm-readelf prints it. */
export function bpfRelocationName(type: number): string {
  return R_BPF_NAMES[type] ?? `unknown (${type})`;
}
