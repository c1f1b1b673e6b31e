/**
 * Symbol -> file offset in an ELF64 executable or shared library, for uprobes:
 * the kernel places a uprobe at an offset in the file (perf_event_attr.probe_offset),
 * while symbols carry virtual addresses. The offset is st_value - p_vaddr + p_offset
 * of the PT_LOAD segment that contains the symbol (what libbpf's elf.c does).
 *
 * A small local reader on purpose: src/elf reads relocatable BPF objects (sections,
 * .symtab, relocations); uprobes need .dynsym and program headers of shared
 * objects too. Layouts: System V gABI (Elf64_Ehdr, Elf64_Shdr, Elf64_Phdr, Elf64_Sym).
 */
import { readFileSync } from "node:fs";
import { ElfError } from "../errors.js";

/** sh_type values. */
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
/** p_type PT_LOAD. */
const PT_LOAD = 1;
/** p_flags PF_X. */
const PF_X = 1;
/** ELF64_ST_TYPE values. */
const STT_FUNC = 2;
/** st_shndx SHN_UNDEF. */
const SHN_UNDEF = 0;

export interface ElfFuncSymbol {
  readonly name: string;
  readonly address: bigint;
  readonly size: bigint;
  /** Where the code lies in the file: what a uprobe takes. */
  readonly fileOffset: number;
  readonly table: ".symtab" | ".dynsym";
}

interface Segment {
  readonly vaddr: bigint;
  readonly memsz: bigint;
  readonly offset: bigint;
  readonly flags: number;
}

/** Function symbols of an ELF64 little-endian file, by name. */
export class ElfSymbols {
  private readonly funcs = new Map<string, ElfFuncSymbol>();

  constructor(readonly path: string, bytes: Uint8Array = readFileSync(path)) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fail = (what: string): never => {
      throw new ElfError(`${path}: ${what}`);
    };
    if (bytes.length < 64 || dv.getUint32(0) !== 0x7f454c46) fail("not an ELF file");
    if (bytes[4] !== 2) fail("not ELF64");
    if (bytes[5] !== 1) fail("not little-endian");
    const phoff = Number(dv.getBigUint64(0x20, true));
    const shoff = Number(dv.getBigUint64(0x28, true));
    const phentsize = dv.getUint16(0x36, true);
    const phnum = dv.getUint16(0x38, true);
    const shentsize = dv.getUint16(0x3a, true);
    const shnum = dv.getUint16(0x3c, true);
    if (phoff + phnum * phentsize > bytes.length || shoff + shnum * shentsize > bytes.length) fail("headers past the end of the file");

    const segments: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * phentsize;
      if (dv.getUint32(p, true) !== PT_LOAD) continue;
      segments.push({
        flags: dv.getUint32(p + 4, true),
        offset: dv.getBigUint64(p + 8, true),
        vaddr: dv.getBigUint64(p + 16, true),
        memsz: dv.getBigUint64(p + 40, true),
      });
    }

    const decoder = new TextDecoder();
    // .symtab first: its names win; .dynsym fills in for stripped libraries.
    for (const wanted of [SHT_SYMTAB, SHT_DYNSYM]) {
      for (let i = 0; i < shnum; i++) {
        const s = shoff + i * shentsize;
        if (dv.getUint32(s + 4, true) !== wanted) continue;
        const off = Number(dv.getBigUint64(s + 24, true));
        const size = Number(dv.getBigUint64(s + 32, true));
        const link = dv.getUint32(s + 40, true);
        const entsize = Number(dv.getBigUint64(s + 56, true)) || 24;
        const strHdr = shoff + link * shentsize;
        if (link >= shnum || off + size > bytes.length) fail(`symbol table ${i} out of bounds`);
        const strOff = Number(dv.getBigUint64(strHdr + 24, true));
        const strSize = Number(dv.getBigUint64(strHdr + 32, true));
        for (let e = off; e + 24 <= off + size; e += entsize) {
          const info = bytes[e + 4];
          const type = info & 0xf;
          const shndx = dv.getUint16(e + 6, true);
          // Only STT_FUNC: STT_GNU_IFUNC symbols point at a resolver, not the function.
          if (type !== STT_FUNC || shndx === SHN_UNDEF) continue;
          const nameOff = dv.getUint32(e, true);
          if (nameOff >= strSize) continue;
          const start = strOff + nameOff;
          const end = bytes.indexOf(0, start);
          const name = decoder.decode(bytes.subarray(start, end < 0 ? strOff + strSize : end));
          if (!name || this.funcs.has(name)) continue;
          const address = dv.getBigUint64(e + 8, true);
          const seg = segments.find((g) => address >= g.vaddr && address < g.vaddr + g.memsz && (g.flags & PF_X) !== 0)
            ?? segments.find((g) => address >= g.vaddr && address < g.vaddr + g.memsz);
          if (!seg) continue;
          this.funcs.set(name, {
            name,
            address,
            size: dv.getBigUint64(e + 16, true),
            fileOffset: Number(address - seg.vaddr + seg.offset),
            table: wanted === SHT_SYMTAB ? ".symtab" : ".dynsym",
          });
        }
      }
    }
  }

  /** The function called `name` (exact, without @VERSION), or undefined. */
  get(name: string): ElfFuncSymbol | undefined {
    return this.funcs.get(name);
  }

  /** The file offset of function `name`; ElfError naming the file when absent. */
  offsetOf(name: string): number {
    const f = this.funcs.get(name);
    if (!f) throw new ElfError(`${this.path}: no function symbol '${name}' in .symtab or .dynsym`);
    return f.fileOffset;
  }

  names(): IterableIterator<string> {
    return this.funcs.keys();
  }
}
