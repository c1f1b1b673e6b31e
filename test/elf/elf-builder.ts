/**
 * Builds small ELF64 files for tests: sections with given contents, laid out
 * after the header, section headers at the end. Lets tests make shapes clang
 * does not emit (RELA, extended numbering, big-endian, broken tables).
 */
import { ELF64_EHDR_SIZE, ELF64_SHDR_SIZE, SHT_NULL, SHT_STRTAB } from "../../src/elf/constants.js";

export interface SectionDesc {
  name: string;
  type: number;
  flags?: number;
  data?: Uint8Array;
  /** For SHT_NOBITS: the size. */
  size?: number;
  link?: number;
  info?: number;
  entsize?: number;
  align?: number;
}

export interface ElfDesc {
  le?: boolean;
  type?: number;
  machine?: number;
  sections: SectionDesc[];
}

/** Section indices: 0 is the null section, then `sections` in order, then .shstrtab. */
export function buildElf(desc: ElfDesc): Uint8Array {
  const le = desc.le ?? true;
  const secs: SectionDesc[] = [{ name: "", type: SHT_NULL }, ...desc.sections];
  const names: number[] = [];
  let shstr = "\0";
  for (const s of [...secs, { name: ".shstrtab", type: SHT_STRTAB }]) {
    if (s.name === "") {
      names.push(0);
      continue;
    }
    names.push(shstr.length);
    shstr += s.name + "\0";
  }
  const shstrBytes = new TextEncoder().encode(shstr);
  const all: SectionDesc[] = [...secs, { name: ".shstrtab", type: SHT_STRTAB, data: shstrBytes }];
  let off = ELF64_EHDR_SIZE;
  const offsets: number[] = [];
  for (const s of all) {
    off = Math.ceil(off / 8) * 8;
    offsets.push(off);
    off += s.data?.length ?? 0;
  }
  const shoff = Math.ceil(off / 8) * 8;
  const out = new Uint8Array(shoff + all.length * ELF64_SHDR_SIZE);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1, 0]);
  v.setUint16(16, desc.type ?? 1, le);
  v.setUint16(18, desc.machine ?? 247, le);
  v.setUint32(20, 1, le);
  v.setBigUint64(40, BigInt(shoff), le);
  v.setUint16(52, ELF64_EHDR_SIZE, le);
  v.setUint16(58, ELF64_SHDR_SIZE, le);
  v.setUint16(60, all.length, le);
  v.setUint16(62, all.length - 1, le);
  all.forEach((s, i) => {
    if (s.data) out.set(s.data, offsets[i]);
    const b = shoff + i * ELF64_SHDR_SIZE;
    v.setUint32(b, names[i], le);
    v.setUint32(b + 4, s.type, le);
    v.setBigUint64(b + 8, BigInt(s.flags ?? 0), le);
    v.setBigUint64(b + 24, BigInt(i === 0 ? 0 : offsets[i]), le);
    v.setBigUint64(b + 32, BigInt(s.size ?? s.data?.length ?? 0), le);
    v.setUint32(b + 40, s.link ?? 0, le);
    v.setUint32(b + 44, s.info ?? 0, le);
    v.setBigUint64(b + 48, BigInt(s.align ?? (i === 0 ? 0 : 1)), le);
    v.setBigUint64(b + 56, BigInt(s.entsize ?? 0), le);
  });
  return out;
}

/** Little helper for symbol/relocation tables. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le = true) {}
  u8(x: number): this {
    this.parts.push(x & 0xff);
    return this;
  }
  u16(x: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, x, this.le);
    this.parts.push(...b);
    return this;
  }
  u32(x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x >>> 0, this.le);
    this.parts.push(...b);
    return this;
  }
  u64(x: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, x), this.le);
    this.parts.push(...b);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** An Elf64_Sym. */
export function sym(b: Bytes, name: number, info: number, other: number, shndx: number, value: bigint, size: bigint): Bytes {
  return b.u32(name).u8(info).u8(other).u16(shndx).u64(value).u64(size);
}

/** A string table from names; returns bytes and each name's offset. */
export function strtab(names: string[]): { data: Uint8Array; off: Map<string, number> } {
  let s = "\0";
  const off = new Map<string, number>([["", 0]]);
  for (const n of names) {
    if (off.has(n)) continue;
    off.set(n, s.length);
    s += n + "\0";
  }
  return { data: new TextEncoder().encode(s), off };
}
