import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_XINDEX, SHT_NOBITS, SHT_PROGBITS, SHT_REL, SHT_RELA,
  SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_SECTION, STV_HIDDEN,
} from "../../src/elf/constants.js";
import { ElfFile } from "../../src/elf/reader.js";
import { ElfError } from "../../src/errors.js";
import { Bytes, buildElf, strtab, sym } from "./elf-builder.js";

const fixtureDirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const objects = fixtureDirs.flatMap((dir) =>
  readdirSync(dir).filter((f) => f.endsWith(".o")).sort().map((f) => ({ name: f, url: new URL(f, dir) })));

interface Golden {
  sections: Array<[number, string, number, number, number, number, number, number, number, number]>;
  symbols: Array<[string, number, number, number, number, number, number]>;
  relocations: Array<[number, Array<[number, number, string]>]>;
}

describe("ELF reader against llvm-readelf-19 (golden JSON)", () => {
  test.each(objects)("$name: sections, symbols and relocations match", ({ name, url }) => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(url)));
    const golden = JSON.parse(
      readFileSync(new URL(`golden/${name.replace(/\.o$/, "")}.readelf.json`, import.meta.url), "utf8"),
    ) as Golden;
    expect(elf.sections.map((s) => [s.index, s.name, s.type, s.flags, s.offset, s.size, s.link, s.info, s.addralign, s.entsize]))
      .toEqual(golden.sections);
    // llvm-readelf names section symbols after their section.
    expect(elf.symbols.map((s) => [
      s.type === STT_SECTION && !s.name ? elf.sections[s.sectionIndex].name : s.name,
      Number(s.value), Number(s.size), s.bind, s.type, s.other, s.shndx,
    ])).toEqual(golden.symbols);
    expect(elf.relocationSections.map((r) => [r.section.index, r.relocations.map((x) => {
      const s = elf.symbols[x.symbolIndex];
      return [Number(x.offset), x.type, s.type === STT_SECTION && !s.name ? elf.sections[s.sectionIndex].name : s.name];
    })])).toEqual(golden.relocations);
  });

  test("section data is a view of the input, NOBITS sections have none", () => {
    const bytes = new Uint8Array(readFileSync(new URL("../fixtures/object/globals.bpf.o", import.meta.url)));
    const elf = ElfFile.parse(bytes);
    const data = elf.section(".data");
    expect(data?.data.buffer).toBe(bytes.buffer);
    expect(data?.data.length).toBe(data?.size);
    const bss = elf.section(".bss");
    expect(bss?.type).toBe(SHT_NOBITS);
    expect(bss?.data.length).toBe(0);
    expect(bss?.size).toBeGreaterThan(0);
  });

  test("a big-endian object reads the same as its little-endian twin would", () => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(new URL("../fixtures/object/bigendian.bpfeb.o", import.meta.url))));
    expect(elf.header.byteOrder).toBe("be");
    expect(elf.section(".BTF")?.type).toBe(SHT_PROGBITS);
    expect(elf.symbol("be_prog")?.type).toBe(STT_FUNC);
    const rel = elf.relocationSections.find((r) => r.target.name === "socket");
    expect(rel?.relocations.map((r) => [r.type, elf.symbols[r.symbolIndex].name])).toEqual([
      [R_BPF_64_64, "counts"], [R_BPF_64_32, ""], [R_BPF_64_64, "total"], [R_BPF_64_32, ""],
    ]);
  });
});

/** A small valid object: .text, .strtab, .symtab, .rel.text (+ .shstrtab). */
function baseElf(opts: { le?: boolean; rela?: boolean } = {}): Uint8Array {
  const le = opts.le ?? true;
  const st = strtab(["main", "helper"]);
  const syms = new Bytes(le);
  sym(syms, 0, 0, 0, 0, 0n, 0n);
  sym(syms, 0, (STB_LOCAL << 4) | STT_SECTION, 0, 1, 0n, 0n);
  sym(syms, st.off.get("main") ?? 0, (STB_GLOBAL << 4) | STT_FUNC, STV_HIDDEN, 1, 0n, 16n);
  sym(syms, st.off.get("helper") ?? 0, (STB_GLOBAL << 4) | STT_FUNC, 0, SHN_ABS, 0x1234n, 0n);
  const rel = new Bytes(le).u64(8n).u64((2n << 32n) | BigInt(R_BPF_64_32));
  if (opts.rela) rel.u64(-8n);
  return buildElf({
    le,
    sections: [
      { name: ".text", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16), align: 8 },
      { name: ".strtab", type: SHT_STRTAB, data: st.data },
      { name: ".symtab", type: SHT_SYMTAB, data: syms.bytes(), link: 2, entsize: 24, align: 8 },
      opts.rela
        ? { name: ".rela.text", type: SHT_RELA, data: rel.bytes(), link: 3, info: 1, entsize: 24, align: 8 }
        : { name: ".rel.text", type: SHT_REL, data: rel.bytes(), link: 3, info: 1, entsize: 16, align: 8 },
    ],
  });
}

const SHOFF = 40;
const shdr = (bytes: Uint8Array, i: number): number => Number(new DataView(bytes.buffer).getBigUint64(SHOFF, true)) + i * 64;
const edit = (f: (v: DataView, b: Uint8Array) => void): Uint8Array => {
  const b = baseElf();
  f(new DataView(b.buffer), b);
  return b;
};

describe("ELF reader on built files", () => {
  test.each([
    { order: "little", le: true },
    { order: "big", le: false },
  ])("reads REL and RELA, symbols with binding, type, visibility and section ($order endian)", ({ le }) => {
    for (const rela of [false, true]) {
      const elf = ElfFile.parse(baseElf({ le, rela }));
      expect(elf.header.byteOrder).toBe(le ? "le" : "be");
      expect(elf.sections.map((s) => s.name)).toEqual(["", ".text", ".strtab", ".symtab", rela ? ".rela.text" : ".rel.text", ".shstrtab"]);
      const main = elf.symbol("main");
      expect(main).toMatchObject({ bind: STB_GLOBAL, type: STT_FUNC, visibility: STV_HIDDEN, sectionIndex: 1, size: 16n });
      expect(main && elf.symbolSection(main)?.name).toBe(".text");
      const helper = elf.symbol("helper");
      expect(helper?.value).toBe(0x1234n);
      expect(helper && elf.symbolSection(helper)).toBeUndefined();
      const [rs] = elf.relocationSections;
      expect(rs.withAddend).toBe(rela);
      expect(rs.target.name).toBe(".text");
      expect(rs.relocations).toEqual([rela ? { offset: 8n, type: R_BPF_64_32, symbolIndex: 2, addend: -8n } : { offset: 8n, type: R_BPF_64_32, symbolIndex: 2 }]);
      expect(elf.relocationsFor(rs.target)).toEqual([rs]);
    }
  });

  test("extended section numbering: e_shnum 0 and e_shstrndx SHN_XINDEX take their values from section 0", () => {
    const b = baseElf();
    const v = new DataView(b.buffer);
    const n = v.getUint16(60, true);
    const strndx = v.getUint16(62, true);
    v.setUint16(60, 0, true);
    v.setUint16(62, SHN_XINDEX, true);
    v.setBigUint64(shdr(b, 0) + 32, BigInt(n), true);
    v.setUint32(shdr(b, 0) + 40, strndx, true);
    const elf = ElfFile.parse(b);
    expect(elf.header.shnum).toBe(n);
    expect(elf.header.shstrndx).toBe(strndx);
    expect(elf.section(".text")?.index).toBe(1);
  });

  test("SHN_XINDEX symbols take their section from SHT_SYMTAB_SHNDX", () => {
    const st = strtab(["x"]);
    const syms = new Bytes();
    sym(syms, 0, 0, 0, 0, 0n, 0n);
    sym(syms, 1, (STB_GLOBAL << 4) | 1, 0, SHN_XINDEX, 4n, 4n);
    const shndx = new Bytes().u32(0).u32(1).bytes();
    const elf = ElfFile.parse(buildElf({
      sections: [
        { name: ".data", type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(8) },
        { name: ".strtab", type: SHT_STRTAB, data: st.data },
        { name: ".symtab", type: SHT_SYMTAB, data: syms.bytes(), link: 2, entsize: 24 },
        { name: ".symtab_shndx", type: SHT_SYMTAB_SHNDX, data: shndx, link: 3, entsize: 4 },
      ],
    }));
    const x = elf.symbol("x");
    expect(x?.shndx).toBe(SHN_XINDEX);
    expect(x && elf.symbolSection(x)?.name).toBe(".data");
  });
});

describe("ELF reader rejects malformed input with one ElfError", () => {
  const cases: Array<{ name: string; bytes: () => Uint8Array; error: RegExp }> = [
    { name: "empty input", bytes: () => new Uint8Array(0), error: /shorter than e_ident/ },
    { name: "bad magic", bytes: () => edit((_v, b) => (b[1] = 0x46)), error: /bad magic/ },
    { name: "ELF32", bytes: () => edit((_v, b) => (b[4] = 1)), error: /ELF class 1/ },
    { name: "bad data encoding", bytes: () => edit((_v, b) => (b[5] = 3)), error: /data encoding 3/ },
    { name: "bad ident version", bytes: () => edit((_v, b) => (b[6] = 2)), error: /ident version/ },
    { name: "truncated header", bytes: () => baseElf().slice(0, 40), error: /truncated ELF header/ },
    { name: "bad e_version", bytes: () => edit((v) => v.setUint32(20, 7, true)), error: /bad ELF version 7/ },
    { name: "bad e_shentsize", bytes: () => edit((v) => v.setUint16(58, 32, true)), error: /e_shentsize 32/ },
    { name: "section table past the end", bytes: () => edit((v, b) => v.setBigUint64(40, BigInt(b.length), true)), error: /past the end/ },
    { name: "too many sections", bytes: () => edit((v) => v.setUint16(60, 400, true)), error: /400 entries .* past the end/ },
    { name: "huge e_shoff", bytes: () => edit((v) => v.setBigUint64(40, 1n << 62n, true)), error: /e_shoff .* out of range/ },
    { name: "section data past the end", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 1) + 32, 1n << 20n, true)), error: /section 1 .* past the end/ },
    { name: "section size out of range", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 1) + 32, 1n << 63n, true)), error: /sh_size .* out of range/ },
    { name: "e_shstrndx out of range", bytes: () => edit((v) => v.setUint16(62, 99, true)), error: /e_shstrndx 99/ },
    { name: "e_shstrndx not a string table", bytes: () => edit((v) => v.setUint16(62, 1, true)), error: /not STRTAB/ },
    { name: "section name outside the string table", bytes: () => edit((v, b) => v.setUint32(shdr(b, 1), 9999, true)), error: /name offset 9999/ },
    { name: "unterminated section name", bytes: () => edit((v, b) => {
      const s = shdr(b, 5);
      v.setBigUint64(s + 32, v.getBigUint64(s + 32, true) - 1n, true);
      v.setUint32(shdr(b, 4), Number(v.getBigUint64(s + 32, true)) - 3, true);
    }), error: /not NUL-terminated/ },
    { name: "symbol table entsize", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 3) + 56, 16n, true)), error: /entsize 16 \(expected 24\)/ },
    { name: "symbol table size", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 3) + 32, 50n, true)), error: /not a multiple of 24/ },
    { name: "symbol table linked to a non-string table", bytes: () => edit((v, b) => v.setUint32(shdr(b, 3) + 40, 1, true)), error: /not a string table/ },
    { name: "symbol name outside the string table", bytes: () => edit((v, b) => {
      const off = Number(v.getBigUint64(shdr(b, 3) + 24, true));
      v.setUint32(off + 48, 5000, true);
    }), error: /symbol 2: name offset 5000/ },
    { name: "symbol in a section that does not exist", bytes: () => edit((v, b) => {
      const off = Number(v.getBigUint64(shdr(b, 3) + 24, true));
      v.setUint16(off + 48 + 6, 77, true);
    }), error: /section 77, which does not exist/ },
    { name: "SHN_XINDEX without a table", bytes: () => edit((v, b) => {
      const off = Number(v.getBigUint64(shdr(b, 3) + 24, true));
      v.setUint16(off + 48 + 6, SHN_XINDEX, true);
    }), error: /SHN_XINDEX/ },
    { name: "relocation entsize", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 4) + 56, 24n, true)), error: /entsize 24 \(expected 16\)/ },
    { name: "relocation symbol out of range", bytes: () => edit((v, b) => {
      const off = Number(v.getBigUint64(shdr(b, 4) + 24, true));
      v.setUint32(off + 12, 40, true);
    }), error: /refers to symbol 40/ },
    { name: "relocation target section missing", bytes: () => edit((v, b) => v.setUint32(shdr(b, 4) + 44, 42, true)), error: /section 42, which does not exist/ },
    { name: "relocation linked to a non-symbol table", bytes: () => edit((v, b) => v.setUint32(shdr(b, 4) + 40, 1, true)), error: /not a symbol table/ },
    { name: "overlapping sections", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 2) + 24, v.getBigUint64(shdr(b, 1) + 24, true) + 4n, true)), error: /overlaps section 1/ },
    { name: "section overlapping the ELF header", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 1) + 24, 8n, true)), error: /overlaps the ELF header/ },
    { name: "section overlapping the section headers", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 1) + 24, BigInt(shdr(b, 2)), true)), error: /overlaps|section header table/ },
    { name: "alignment not a power of two", bytes: () => edit((v, b) => v.setBigUint64(shdr(b, 1) + 48, 12n, true)), error: /not a power of two/ },
    { name: "two symbol tables", bytes: () => edit((v, b) => {
      v.setUint32(shdr(b, 1) + 4, SHT_SYMTAB, true);
      v.setBigUint64(shdr(b, 1) + 56, 24n, true);
      v.setBigUint64(shdr(b, 1) + 32, 0n, true);
      v.setUint32(shdr(b, 1) + 40, 2, true);
    }), error: /multiple symbol tables/ },
  ];
  test.each(cases)("$name", ({ bytes, error }) => {
    let thrown: unknown;
    try {
      ElfFile.parse(bytes());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ElfError);
    expect((thrown as Error).message).toMatch(error);
  });
});
