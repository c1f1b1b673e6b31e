/**
 * An ELF64 reader (either byte order) that knows nothing of BPF: header,
 * section headers and names, symbols, REL/RELA relocations, section data as
 * views over the input. Everything is parsed and checked up front, so a file
 * either parses completely or throws one ElfError naming what is wrong.
 * Layouts: System V gABI, "Object Files" (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym,
 * Elf64_Rel, Elf64_Rela).
 */
import { ElfError } from "../errors.js";
import {
  ELF64_EHDR_SIZE, ELF64_REL_SIZE, ELF64_RELA_SIZE, ELF64_SHDR_SIZE, ELF64_SYM_SIZE, ELFCLASS64,
  ELFDATA2LSB, ELFDATA2MSB, ELF_MAGIC, EV_CURRENT, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_DYNSYM,
  SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, sectionTypeName,
} from "./constants.js";

export type ByteOrder = "le" | "be";

export interface ElfHeader {
  readonly byteOrder: ByteOrder;
  /** e_ident[EI_OSABI]. */
  readonly osabi: number;
  readonly abiVersion: number;
  /** e_type: ET_REL, ET_EXEC, ... */
  readonly type: number;
  /** e_machine: EM_BPF, EM_X86_64, ... */
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: number;
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  /** Number of sections, after extended numbering (section 0's sh_size) is applied. */
  readonly shnum: number;
  /** Index of the section-name string table, after SHN_XINDEX is applied. */
  readonly shstrndx: number;
}

export interface ElfSection {
  readonly index: number;
  /** Name from the section-name string table ("" when the file has none). */
  readonly name: string;
  readonly nameOffset: number;
  /** sh_type: SHT_PROGBITS, SHT_NOBITS, ... */
  readonly type: number;
  /** sh_flags: SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR ... */
  readonly flags: number;
  readonly addr: bigint;
  readonly offset: number;
  /** sh_size; for SHT_NOBITS the size the section occupies in memory. */
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The section's bytes, a view over the input (empty for SHT_NOBITS and SHT_NULL). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in the symbol table (0 is the reserved null symbol). */
  readonly index: number;
  readonly name: string;
  readonly nameOffset: number;
  readonly value: bigint;
  readonly size: bigint;
  /** STB_LOCAL, STB_GLOBAL, STB_WEAK. */
  readonly bind: number;
  /** STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE. */
  readonly type: number;
  /** STV_DEFAULT, STV_INTERNAL, STV_HIDDEN, STV_PROTECTED. */
  readonly visibility: number;
  readonly other: number;
  /** st_shndx as stored (SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_XINDEX or a section index). */
  readonly shndx: number;
  /** st_shndx with SHN_XINDEX resolved through SHT_SYMTAB_SHNDX. */
  readonly sectionIndex: number;
}

export interface ElfRelocation {
  readonly offset: bigint;
  /** ELF64_R_TYPE(r_info). */
  readonly type: number;
  /** ELF64_R_SYM(r_info). */
  readonly symbolIndex: number;
  /** r_addend for RELA sections; undefined for REL. */
  readonly addend?: bigint;
}

export interface ElfRelocationSection {
  /** The SHT_REL / SHT_RELA section itself. */
  readonly section: ElfSection;
  /** The section the relocations apply to (sh_info). */
  readonly target: ElfSection;
  /** The symbol table the entries index (sh_link). */
  readonly symbolTable: ElfSection;
  readonly withAddend: boolean;
  readonly relocations: readonly ElfRelocation[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class Cursor {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(off: number): number {
    return this.view.getUint8(off);
  }
  u16(off: number): number {
    return this.view.getUint16(off, this.le);
  }
  u32(off: number): number {
    return this.view.getUint32(off, this.le);
  }
  u64(off: number): bigint {
    return this.view.getBigUint64(off, this.le);
  }
  i64(off: number): bigint {
    return this.view.getBigInt64(off, this.le);
  }
  /** A 64-bit field that must fit a JS number (offsets, sizes). */
  u64n(off: number, what: string): number {
    const v = this.u64(off);
    if (v > MAX_SAFE) throw new ElfError(`${what} 0x${v.toString(16)} is out of range`);
    return Number(v);
  }
}

const utf8 = new TextDecoder("utf-8");

/** A NUL-terminated string at `off` in a string table section. */
function readString(table: ElfSection, off: number, what: string): string {
  const data = table.data;
  if (off >= data.length) {
    throw new ElfError(`${what}: name offset ${off} is outside string table '${table.name}' (${data.length} bytes)`);
  }
  const end = data.indexOf(0, off);
  if (end < 0) throw new ElfError(`${what}: name at offset ${off} in '${table.name}' is not NUL-terminated`);
  return utf8.decode(data.subarray(off, end));
}

export class ElfFile {
  private readonly byName = new Map<string, ElfSection>();
  private readonly symbolsByName = new Map<string, ElfSymbol>();

  private constructor(
    readonly bytes: Uint8Array,
    readonly header: ElfHeader,
    readonly sections: readonly ElfSection[],
    /** The (single) SHT_SYMTAB section, if the file has one. */
    readonly symbolTable: ElfSection | undefined,
    /** Symbols of the SHT_SYMTAB section, index 0 being the null symbol. */
    readonly symbols: readonly ElfSymbol[],
    readonly relocationSections: readonly ElfRelocationSection[],
  ) {
    for (const s of sections) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    for (const s of symbols) if (s.name && !this.symbolsByName.has(s.name)) this.symbolsByName.set(s.name, s);
  }

  /** Parses and checks a whole ELF64 file. Throws ElfError for anything malformed. */
  static parse(bytes: Uint8Array): ElfFile {
    try {
      const p = parseElf(bytes);
      return new ElfFile(bytes, p.header, p.sections, p.symtab, p.symbols, p.relocationSections);
    } catch (e) {
      if (e instanceof ElfError) throw e;
      // DataView range checks are the last line of defence; report them as malformed input.
      if (e instanceof RangeError) throw new ElfError(`malformed ELF: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** The first symbol with this name. */
  symbol(name: string): ElfSymbol | undefined {
    return this.symbolsByName.get(name);
  }

  /** The section a symbol is defined in, or undefined for special indices (UNDEF, ABS, COMMON). */
  symbolSection(sym: ElfSymbol): ElfSection | undefined {
    if (sym.shndx === SHN_UNDEF || (sym.shndx >= SHN_LORESERVE && sym.shndx !== SHN_XINDEX)) return undefined;
    return this.sections[sym.sectionIndex];
  }

  /** Relocation sections that apply to the given section. */
  relocationsFor(target: ElfSection): ElfRelocationSection[] {
    return this.relocationSections.filter((r) => r.target.index === target.index);
  }
}

interface Parsed {
  header: ElfHeader;
  sections: readonly ElfSection[];
  symtab: ElfSection | undefined;
  symbols: ElfSymbol[];
  relocationSections: ElfRelocationSection[];
}

function parseElf(bytes: Uint8Array): Parsed {
  if (bytes.length < 16) throw new ElfError(`not an ELF file: ${bytes.length} bytes is shorter than e_ident`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== ELF_MAGIC[i]) throw new ElfError("not an ELF file: bad magic");
  }
  if (bytes[4] !== ELFCLASS64) throw new ElfError(`unsupported ELF class ${bytes[4]} (only ELF64 is supported)`);
  if (bytes[5] !== ELFDATA2LSB && bytes[5] !== ELFDATA2MSB) throw new ElfError(`bad ELF data encoding ${bytes[5]}`);
  if (bytes[6] !== EV_CURRENT) throw new ElfError(`bad ELF ident version ${bytes[6]}`);
  if (bytes.length < ELF64_EHDR_SIZE) throw new ElfError(`truncated ELF header: ${bytes.length} bytes, need ${ELF64_EHDR_SIZE}`);
  const le = bytes[5] === ELFDATA2LSB;
  const c = new Cursor(bytes, le);

  const type = c.u16(16);
  const machine = c.u16(18);
  const version = c.u32(20);
  const entry = c.u64(24);
  const phoff = c.u64n(32, "e_phoff");
  const shoff = c.u64n(40, "e_shoff");
  const flags = c.u32(48);
  const ehsize = c.u16(52);
  const phentsize = c.u16(54);
  const phnum = c.u16(56);
  const shentsize = c.u16(58);
  let shnum = c.u16(60);
  let shstrndx = c.u16(62);
  if (version !== EV_CURRENT) throw new ElfError(`bad ELF version ${version}`);
  if (ehsize < ELF64_EHDR_SIZE) throw new ElfError(`bad e_ehsize ${ehsize} (expected at least ${ELF64_EHDR_SIZE})`);

  // Program headers: checked for bounds only (relocatable objects have none).
  if (phnum > 0) {
    if (phentsize < 56) throw new ElfError(`bad e_phentsize ${phentsize}`);
    if (phoff + phnum * phentsize > bytes.length) throw new ElfError(`program header table (${phnum} entries at ${phoff}) is past the end of the file`);
  }

  if (shoff === 0) {
    if (shnum !== 0) throw new ElfError(`e_shnum is ${shnum} but e_shoff is 0`);
  } else {
    if (shentsize !== ELF64_SHDR_SIZE) throw new ElfError(`bad e_shentsize ${shentsize} (expected ${ELF64_SHDR_SIZE})`);
    if (shoff + ELF64_SHDR_SIZE > bytes.length) throw new ElfError(`section header table at ${shoff} is past the end of the file (${bytes.length} bytes)`);
    // Extended numbering: the real counts live in section 0 (gABI, "Extended Section Numbering").
    if (shnum === 0) {
      const big = c.u64(shoff + 32);
      if (big > BigInt(bytes.length)) throw new ElfError(`section count ${big} (extended numbering) is impossible for a ${bytes.length}-byte file`);
      shnum = Number(big);
    }
    if (shstrndx === SHN_XINDEX) shstrndx = c.u32(shoff + 40);
    if (shoff + shnum * ELF64_SHDR_SIZE > bytes.length) {
      throw new ElfError(`section header table (${shnum} entries at ${shoff}) is past the end of the file (${bytes.length} bytes)`);
    }
  }
  if (shnum > 0 && shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} is out of range (${shnum} sections)`);

  // Section headers, without names first.
  interface RawSection extends Omit<ElfSection, "name"> { name: string }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const base = shoff + i * ELF64_SHDR_SIZE;
    const nameOffset = c.u32(base);
    const stype = c.u32(base + 4);
    const sflags = c.u64n(base + 8, `section ${i} sh_flags`);
    const addr = c.u64(base + 16);
    const offset = c.u64n(base + 24, `section ${i} sh_offset`);
    const size = c.u64n(base + 32, `section ${i} sh_size`);
    const link = c.u32(base + 40);
    const info = c.u32(base + 44);
    const addralign = c.u64n(base + 48, `section ${i} sh_addralign`);
    const entsize = c.u64n(base + 56, `section ${i} sh_entsize`);
    const hasData = stype !== SHT_NOBITS && stype !== SHT_NULL && i !== 0;
    if (hasData && offset + size > bytes.length) {
      throw new ElfError(`section ${i} (${sectionTypeName(stype)}) data [${offset}, ${offset + size}) is past the end of the file (${bytes.length} bytes)`);
    }
    if (addralign > 1 && (addralign & (addralign - 1)) !== 0) {
      throw new ElfError(`section ${i} sh_addralign ${addralign} is not a power of two`);
    }
    raw.push({
      index: i, name: "", nameOffset, type: stype, flags: sflags, addr, offset, size, link, info, addralign, entsize,
      data: hasData ? bytes.subarray(offset, offset + size) : new Uint8Array(0),
    });
  }

  checkOverlaps(raw, bytes.length, shoff, shnum, phoff, phnum * phentsize);

  // Section names.
  if (shnum > 0 && shstrndx !== SHN_UNDEF) {
    const strtab = raw[shstrndx];
    if (strtab.type !== SHT_STRTAB) throw new ElfError(`section-name table (section ${shstrndx}) is ${sectionTypeName(strtab.type)}, not STRTAB`);
    for (const s of raw) s.name = readString(strtab, s.nameOffset, `section ${s.index}`);
  }
  const sections: readonly ElfSection[] = raw;

  // Link/info sanity and entry sizes for the tables we read.
  let symtab: ElfSection | undefined;
  let symtabShndx: ElfSection | undefined;
  for (const s of sections) {
    if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) {
      if (s.entsize !== ELF64_SYM_SIZE) throw new ElfError(`symbol table '${s.name}' has entsize ${s.entsize} (expected ${ELF64_SYM_SIZE})`);
      if (s.size % ELF64_SYM_SIZE !== 0) throw new ElfError(`symbol table '${s.name}' size ${s.size} is not a multiple of ${ELF64_SYM_SIZE}`);
      if (s.link >= shnum || sections[s.link].type !== SHT_STRTAB) {
        throw new ElfError(`symbol table '${s.name}' links to section ${s.link}, which is not a string table`);
      }
      if (s.type === SHT_SYMTAB) {
        if (symtab) throw new ElfError(`multiple symbol tables ('${symtab.name}' and '${s.name}')`);
        symtab = s;
      }
    } else if (s.type === SHT_REL || s.type === SHT_RELA) {
      const want = s.type === SHT_REL ? ELF64_REL_SIZE : ELF64_RELA_SIZE;
      if (s.entsize !== want) throw new ElfError(`relocation section '${s.name}' has entsize ${s.entsize} (expected ${want})`);
      if (s.size % want !== 0) throw new ElfError(`relocation section '${s.name}' size ${s.size} is not a multiple of ${want}`);
      if (s.link >= shnum || (sections[s.link].type !== SHT_SYMTAB && sections[s.link].type !== SHT_DYNSYM)) {
        throw new ElfError(`relocation section '${s.name}' links to section ${s.link}, which is not a symbol table`);
      }
      if (s.info === 0 || s.info >= shnum) throw new ElfError(`relocation section '${s.name}' applies to section ${s.info}, which does not exist`);
    } else if (s.type === SHT_SYMTAB_SHNDX) {
      if (s.entsize !== 0 && s.entsize !== 4) throw new ElfError(`section '${s.name}' has entsize ${s.entsize} (expected 4)`);
      symtabShndx = s;
    }
  }

  const symbols = symtab ? readSymbols(c, symtab, sections, symtabShndx) : [];
  const symbolCounts = new Map<number, number>();
  for (const s of sections) {
    if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) symbolCounts.set(s.index, s.size / ELF64_SYM_SIZE);
  }

  const relocationSections: ElfRelocationSection[] = [];
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const withAddend = s.type === SHT_RELA;
    const entsize = withAddend ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
    const nsyms = symbolCounts.get(s.link) ?? 0;
    const relocations: ElfRelocation[] = [];
    for (let off = 0; off < s.size; off += entsize) {
      const base = s.offset + off;
      const roff = c.u64(base);
      const rinfo = c.u64(base + 8);
      const symbolIndex = Number(rinfo >> 32n);
      const rtype = Number(rinfo & 0xffffffffn);
      if (symbolIndex >= nsyms) {
        throw new ElfError(`relocation ${off / entsize} in '${s.name}' refers to symbol ${symbolIndex}, but '${sections[s.link].name}' has ${nsyms}`);
      }
      relocations.push(withAddend ? { offset: roff, type: rtype, symbolIndex, addend: c.i64(base + 16) } : { offset: roff, type: rtype, symbolIndex });
    }
    relocationSections.push({ section: s, target: sections[s.info], symbolTable: sections[s.link], withAddend, relocations });
  }

  const header: ElfHeader = {
    byteOrder: le ? "le" : "be", osabi: bytes[7], abiVersion: bytes[8], type, machine, version, entry, phoff, shoff,
    flags, ehsize, phentsize, phnum, shentsize, shnum, shstrndx,
  };
  return { header, sections, symtab, symbols, relocationSections };
}

/**
 * Section contents must not overlap each other, the ELF header, or the header
 * tables: a file whose sections overlap is lying about at least one of them.
 */
function checkOverlaps(
  sections: readonly ElfSection[], fileSize: number, shoff: number, shnum: number, phoff: number, phsize: number,
): void {
  const ranges: Array<{ start: number; end: number; what: string }> = [
    { start: 0, end: ELF64_EHDR_SIZE, what: "the ELF header" },
  ];
  if (shnum > 0) ranges.push({ start: shoff, end: shoff + shnum * ELF64_SHDR_SIZE, what: "the section header table" });
  if (phsize > 0) ranges.push({ start: phoff, end: phoff + phsize, what: "the program header table" });
  for (const s of sections) {
    if (s.index === 0 || s.type === SHT_NOBITS || s.type === SHT_NULL || s.size === 0) continue;
    ranges.push({ start: s.offset, end: s.offset + s.size, what: `section ${s.index}` });
  }
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (cur.start < prev.end) {
      throw new ElfError(`${cur.what} [${cur.start}, ${cur.end}) overlaps ${prev.what} [${prev.start}, ${prev.end}) in a ${fileSize}-byte file`);
    }
  }
}

function readSymbols(
  c: Cursor, symtab: ElfSection, sections: readonly ElfSection[], shndxTable: ElfSection | undefined,
): ElfSymbol[] {
  const strtab = sections[symtab.link];
  const n = symtab.size / ELF64_SYM_SIZE;
  const out: ElfSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const base = symtab.offset + i * ELF64_SYM_SIZE;
    const nameOffset = c.u32(base);
    const info = c.u8(base + 4);
    const other = c.u8(base + 5);
    const shndx = c.u16(base + 6);
    const value = c.u64(base + 8);
    const size = c.u64(base + 16);
    let sectionIndex = shndx;
    if (shndx === SHN_XINDEX) {
      if (!shndxTable || shndxTable.link !== symtab.index || (i + 1) * 4 > shndxTable.size) {
        throw new ElfError(`symbol ${i} uses SHN_XINDEX but there is no matching SHT_SYMTAB_SHNDX entry`);
      }
      sectionIndex = c.u32(shndxTable.offset + i * 4);
      if (sectionIndex >= sections.length) {
        throw new ElfError(`symbol ${i} is defined in section ${sectionIndex}, which does not exist (${sections.length} sections)`);
      }
    } else if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw new ElfError(`symbol ${i} is defined in section ${shndx}, which does not exist (${sections.length} sections)`);
    }
    const name = nameOffset === 0 ? "" : readString(strtab, nameOffset, `symbol ${i}`);
    out.push({
      index: i, name, nameOffset, value, size, bind: info >> 4, type: info & 0xf, visibility: other & 0x3, other,
      shndx, sectionIndex,
    });
  }
  return out;
}
