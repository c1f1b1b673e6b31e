/**
 * A minimal, test-only reader for clang BPF objects: enough to take one program
 * out of an object (its section plus the .text subprograms it calls), with map
 * references left as indices into the object's map list and the line info from
 * .BTF.ext. The real loader is src/object (another engineer); the verifier tests
 * must not wait for it. ELF64 little-endian only.
 */

export interface MiniSection {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly index: number;
}

export interface MiniSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly shndx: number;
  readonly type: number;
}

export interface MiniProgram {
  readonly name: string;
  readonly section: string;
  /** Linked instructions: the program, then .text appended when called. */
  readonly insns: Uint8Array;
  /** Slot index -> map symbol name for each LD_IMM64 map reference. */
  readonly mapRefs: ReadonlyMap<number, string>;
  /** Line info: slot index, file name, line, column, source text. */
  readonly lines: readonly { insn: number; file: string; line: number; col: number; text: string }[];
  /** Function starts (slot index) with names, from the symbol table. */
  readonly funcs: readonly { insn: number; name: string }[];
}

export class MiniElf {
  readonly sections: MiniSection[] = [];
  readonly symbols: MiniSymbol[] = [];
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shoff = Number(this.dv.getBigUint64(0x28, true));
    const shentsize = this.dv.getUint16(0x3a, true);
    const shnum = this.dv.getUint16(0x3c, true);
    const shstrndx = this.dv.getUint16(0x3e, true);
    const raw: Array<Omit<MiniSection, "name"> & { nameOff: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const b = shoff + i * shentsize;
      raw.push({
        nameOff: this.dv.getUint32(b, true),
        type: this.dv.getUint32(b + 4, true),
        offset: Number(this.dv.getBigUint64(b + 0x18, true)),
        size: Number(this.dv.getBigUint64(b + 0x20, true)),
        link: this.dv.getUint32(b + 0x28, true),
        info: this.dv.getUint32(b + 0x2c, true),
        index: i,
      });
    }
    const shstr = raw[shstrndx];
    for (const s of raw) this.sections.push({ ...s, name: this.cstr(shstr.offset + s.nameOff) });
    const symtab = this.sections.find((s) => s.type === 2);
    if (symtab) {
      const strtab = this.sections[symtab.link];
      for (let o = symtab.offset; o < symtab.offset + symtab.size; o += 24) {
        this.symbols.push({
          name: this.cstr(strtab.offset + this.dv.getUint32(o, true)),
          type: this.bytes[o + 4] & 0xf,
          shndx: this.dv.getUint16(o + 6, true),
          value: Number(this.dv.getBigUint64(o + 8, true)),
          size: Number(this.dv.getBigUint64(o + 16, true)),
        });
      }
    }
  }

  private cstr(off: number): string {
    let end = off;
    while (this.bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.bytes.subarray(off, end));
  }

  section(name: string): MiniSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  data(s: MiniSection): Uint8Array {
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }

  license(): string {
    const s = this.section("license");
    if (!s) return "";
    const d = this.data(s);
    const z = d.indexOf(0);
    return new TextDecoder().decode(d.subarray(0, z < 0 ? d.length : z));
  }

  /** Map symbols in .maps, in section order. */
  mapNames(): string[] {
    const maps = this.section(".maps");
    if (!maps) return [];
    return this.symbols.filter((s) => s.shndx === maps.index && s.type === 1).sort((a, b) => a.value - b.value).map((s) => s.name);
  }

  private relocs(target: MiniSection): Array<{ off: number; sym: MiniSymbol }> {
    const rel = this.sections.find((s) => s.type === 9 && s.info === target.index);
    if (!rel) return [];
    const out: Array<{ off: number; sym: MiniSymbol }> = [];
    for (let o = rel.offset; o < rel.offset + rel.size; o += 16) {
      const info = this.dv.getBigUint64(o + 8, true);
      out.push({ off: Number(this.dv.getBigUint64(o, true)), sym: this.symbols[Number(info >> 32n)] });
    }
    return out;
  }

  /** The first program of section `secName`, linked with .text when it calls into it. */
  program(secName: string): MiniProgram {
    const sec = this.section(secName);
    if (!sec) throw new Error(`no section ${secName}`);
    const main = new Uint8Array(this.data(sec));
    const text = this.section(".text");
    const textData = text && text.size > 0 ? new Uint8Array(this.data(text)) : undefined;
    const mainSlots = main.length / 8;
    const mapRefs = new Map<number, string>();
    let needText = false;
    const fix = (code: Uint8Array, s: MiniSection, base: number): void => {
      const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
      for (const r of this.relocs(s)) {
        const slot = r.off / 8;
        const opcode = code[r.off];
        if (opcode === 0x18) {
          code[r.off + 1] = (code[r.off + 1] & 0x0f) | (1 << 4); // BPF_PSEUDO_MAP_FD (index in imm)
          mapRefs.set(base + slot, r.sym.name);
        } else if (opcode === 0x85) {
          const tgt = r.sym.value / 8 + dv.getInt32(r.off + 4, true) + 1;
          const abs = (s === text ? base : mainSlots) + tgt;
          if (s !== text) needText = true;
          dv.setInt32(r.off + 4, abs - (base + slot) - 1, true);
        }
      }
    };
    fix(main, sec, 0);
    let insns = main;
    if (textData && needText) {
      fix(textData, text!, mainSlots);
      insns = new Uint8Array(main.length + textData.length);
      insns.set(main);
      insns.set(textData, main.length);
    }
    const funcs = this.symbols
      .filter((s) => s.type === 2 && (s.shndx === sec.index || (needText && text && s.shndx === text.index)))
      .map((s) => ({ insn: (s.shndx === sec.index ? 0 : mainSlots) + s.value / 8, name: s.name }))
      .sort((a, b) => a.insn - b.insn);
    const lines = this.lineInfo(secName, 0).concat(needText ? this.lineInfo(".text", mainSlots) : []);
    const progSym = this.symbols.find((s) => s.type === 2 && s.shndx === sec.index && s.value === 0);
    return { name: progSym?.name ?? secName, section: secName, insns, mapRefs, lines, funcs };
  }

  /** Line info records of one section from .BTF.ext (bpf_line_info), with source text from .BTF strings. */
  lineInfo(secName: string, base: number): Array<{ insn: number; file: string; line: number; col: number; text: string }> {
    const btf = this.section(".BTF");
    const ext = this.section(".BTF.ext");
    if (!btf || !ext) return [];
    const b = new DataView(this.bytes.buffer, this.bytes.byteOffset + btf.offset, btf.size);
    const strOff = b.getUint32(4, true) + b.getUint32(16, true);
    const str = (o: number): string => this.cstr(btf.offset + strOff + o);
    const e = new DataView(this.bytes.buffer, this.bytes.byteOffset + ext.offset, ext.size);
    const hdrLen = e.getUint32(4, true);
    const lineOff = e.getUint32(16, true);
    const lineLen = e.getUint32(20, true);
    let p = hdrLen + lineOff;
    const end = p + lineLen;
    const recSize = e.getUint32(p, true);
    p += 4;
    const out: Array<{ insn: number; file: string; line: number; col: number; text: string }> = [];
    while (p < end) {
      const sec = str(e.getUint32(p, true));
      const n = e.getUint32(p + 4, true);
      p += 8;
      for (let i = 0; i < n; i++, p += recSize) {
        if (sec !== secName) continue;
        const lc = e.getUint32(p + 12, true);
        out.push({ insn: base + e.getUint32(p, true) / 8, file: str(e.getUint32(p + 4, true)), text: str(e.getUint32(p + 8, true)), line: lc >>> 10, col: lc & 0x3ff });
      }
    }
    return out;
  }
}
