/**
 * Loads BTF from what users have: a raw blob (/sys/kernel/btf/vmlinux, a
 * module's /sys/kernel/btf/<mod> on top of vmlinux) or an ELF object carrying
 * .BTF and .BTF.ext sections — libbpf's btf__parse() rules: raw when the file
 * starts with the BTF magic, ELF otherwise.
 */
import { ElfFile } from "../elf/reader.js";
import { SHT_PROGBITS } from "../elf/constants.js";
import { BtfError, ElfError } from "../errors.js";
import { Btf } from "./btf.js";
import { type BtfExt, parseBtfExt } from "./ext.js";
import { BTF_MAGIC } from "./kinds.js";

export interface LoadedBtf {
  readonly btf: Btf;
  /** .BTF.ext, when the input was an ELF object that has one. */
  readonly ext?: BtfExt;
  readonly format: "raw" | "elf";
}

/** True when the bytes start with the BTF magic in either byte order. */
export function isRawBtf(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  const le = bytes[0] | (bytes[1] << 8);
  const be = (bytes[0] << 8) | bytes[1];
  return le === BTF_MAGIC || be === BTF_MAGIC;
}

/** Loads raw BTF or the .BTF (and .BTF.ext) of an ELF object. Throws BtfError or ElfError. */
export function loadBtf(bytes: Uint8Array, opts: { base?: Btf } = {}): LoadedBtf {
  if (isRawBtf(bytes)) return { btf: Btf.parse(bytes, { base: opts.base }), format: "raw" };
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new BtfError("not BTF: neither raw BTF (magic 0xeb9f) nor an ELF object");
  }
  return loadBtfFromElf(ElfFile.parse(bytes), opts);
}

/** The .BTF and .BTF.ext of a parsed ELF file. */
export function loadBtfFromElf(elf: ElfFile, opts: { base?: Btf } = {}): LoadedBtf {
  const sec = elf.section(".BTF");
  if (!sec) throw new BtfError("ELF object has no .BTF section");
  if (sec.type !== SHT_PROGBITS) throw new ElfError(".BTF section is not PROGBITS");
  // libbpf sets the pointer size from the ELF class (btf.c, btf_parse_elf); we only read ELF64.
  const btf = Btf.parse(sec.data, { base: opts.base, pointerSize: 8 });
  const extSec = elf.section(".BTF.ext");
  if (!extSec) return { btf, format: "elf" };
  if (extSec.type !== SHT_PROGBITS) throw new ElfError(".BTF.ext section is not PROGBITS");
  return { btf, ext: parseBtfExt(extSec.data, btf), format: "elf" };
}
