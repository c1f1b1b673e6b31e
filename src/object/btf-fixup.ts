/**
 * The BTF fix-ups libbpf makes when it opens an object, so the BTF says what
 * the loader will create: externs laid out in .kconfig/.ksyms
 * (libbpf.c, bpf_object__collect_externs), DATASEC sizes and variable
 * offsets filled in from the ELF, hidden globals turned static
 * (btf_fixup_datasec), and hidden global subprograms marked static
 * (bpf_object__sanitize_and_load_btf).
 */
import type { Btf } from "../btf/btf.js";
import type { BtfBuilder } from "../btf/encode.js";
import {
  BTF_FUNC_EXTERN, BTF_FUNC_GLOBAL, BTF_FUNC_STATIC, BTF_INT_BOOL, BTF_INT_SIGNED, BTF_VAR_GLOBAL_ALLOCATED,
  BTF_VAR_GLOBAL_EXTERN, BTF_VAR_STATIC,
} from "../btf/kinds.js";
import type { BtfDatasec, BtfType } from "../btf/types.js";
import { STB_GLOBAL, STB_WEAK, STT_NOTYPE, STT_OBJECT, STV_HIDDEN, STV_INTERNAL, SHN_UNDEF } from "../elf/constants.js";
import type { ElfFile, ElfSymbol } from "../elf/reader.js";
import { LoadError } from "../errors.js";
import type { KconfigType } from "./types.js";

export const KCONFIG_SEC = ".kconfig";
export const KSYMS_SEC = ".ksyms";

/** An extern as libbpf describes it (struct extern_desc). */
export interface ExternDesc {
  kind: "kcfg" | "ksym";
  name: string;
  symIndex: number;
  btfId: number;
  weak: boolean;
  kcfg?: { type: KconfigType; size: number; align: number; offset: number; signed: boolean };
  /** ksym: local type through modifiers and typedefs (0 = typeless). */
  ksymTypeId?: number;
}

/** libbpf.c, sym_is_extern: undefined, global or weak, no type. */
export function symIsExtern(sym: ElfSymbol): boolean {
  return sym.shndx === SHN_UNDEF && (sym.bind === STB_GLOBAL || sym.bind === STB_WEAK) && sym.type === STT_NOTYPE;
}

/** find_kcfg_type: what kind of kconfig value a type can hold. */
function kcfgType(btf: Btf, id: number): { type: KconfigType | undefined; signed: boolean } {
  const t = btf.skipModsAndTypedefs(id);
  switch (t.kind) {
    case "int":
      if (t.encoding & BTF_INT_BOOL) return { type: t.size === 1 ? "bool" : undefined, signed: false };
      if (t.size === 1) return { type: "char", signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1)) !== 0) return { type: undefined, signed: false };
      return { type: "int", signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
    case "enum":
      return { type: t.size === 4 && t.name === "libbpf_tristate" ? "tristate" : undefined, signed: false };
    case "enum64":
      return { type: t.name === "libbpf_tristate" ? "tristate" : undefined, signed: false };
    case "array":
      if (t.nelems === 0 || kcfgType(btf, t.type).type !== "char") return { type: undefined, signed: false };
      return { type: "char_array", signed: false };
    default:
      return { type: undefined, signed: false };
  }
}

/** The mutable copy of the types fix-ups edit: the builder's list, indexed by id. */
class Types {
  constructor(readonly b: BtfBuilder, readonly startId: number) {}
  get(id: number): BtfType {
    return this.b.types[id - this.startId];
  }
  set(id: number, t: BtfType): void {
    this.b.types[id - this.startId] = t;
  }
}

/**
 * Collects externs and lays out .kconfig and .ksyms in `b` (a builder copy of
 * `btf`). Externs come back sorted as libbpf sorts them: kconfig first, by
 * alignment (descending), size, then name.
 */
export function collectExterns(elf: ElfFile, btf: Btf | undefined, b: BtfBuilder | undefined): ExternDesc[] {
  const externSyms = elf.symbols.filter((s) => symIsExtern(s) && s.name !== "");
  if (externSyms.length === 0) return [];
  if (!btf || !b) throw new LoadError(`extern '${externSyms[0].name}' needs BTF, but the object has none`);
  const types = new Types(b, btf.startId);

  // A kfunc in .ksyms is replaced by a dummy variable in the DATASEC (add_dummy_ksym_var).
  let dummyVarId = 0;
  const ksymsSec = btf.find("datasec", KSYMS_SEC);
  if (ksymsSec && ksymsSec.vars.some((v) => btf.type(v.type).kind === "func")) {
    dummyVarId = b.addVar("dummy_ksym", findInt32(btf), BTF_VAR_GLOBAL_ALLOCATED);
  }

  const exts: ExternDesc[] = [];
  for (const sym of externSyms) {
    const btfId = findExternBtfId(btf, sym.name);
    const t = btf.type(btfId);
    const secId = findExternSecId(btf, btfId);
    const sec = btf.type(secId);
    const ext: ExternDesc = { kind: "kcfg", name: t.name, symIndex: sym.index, btfId, weak: sym.bind === STB_WEAK };
    if (sec.name === KCONFIG_SEC) {
      if (t.kind === "func") throw new LoadError(`extern function ${t.name} is unsupported under ${KCONFIG_SEC} section`);
      const vt = (t as BtfType & { kind: "var" }).type;
      const size = btf.sizeof(vt);
      const align = btf.alignof(vt);
      if (size <= 0) throw new LoadError(`failed to resolve size of extern (kcfg) '${t.name}'`);
      if (align <= 0) throw new LoadError(`failed to determine alignment of extern (kcfg) '${t.name}'`);
      const k = kcfgType(btf, vt);
      if (!k.type) throw new LoadError(`extern (kcfg) '${t.name}': type is unsupported`);
      ext.kcfg = { type: k.type, size, align, offset: 0, signed: k.signed };
    } else if (sec.name === KSYMS_SEC) {
      ext.kind = "ksym";
      ext.ksymTypeId = t.kind === "func" ? btfId : btf.skipModsAndTypedefs((t as BtfType & { kind: "var" }).type).id;
    } else {
      throw new LoadError(`unrecognized extern section '${sec.name}'`);
    }
    exts.push(ext);
  }
  exts.sort((a, b2) => {
    if (a.kind !== b2.kind) return a.kind === "kcfg" ? -1 : 1;
    if (a.kcfg && b2.kcfg) {
      if (a.kcfg.align !== b2.kcfg.align) return b2.kcfg.align - a.kcfg.align;
      if (a.kcfg.size !== b2.kcfg.size) return a.kcfg.size - b2.kcfg.size;
    }
    return a.name < b2.name ? -1 : a.name > b2.name ? 1 : 0;
  });
  const byName = new Map(exts.map((e) => [e.name, e]));

  if (ksymsSec && exts.some((e) => e.kind === "ksym")) {
    // The kernel wants allocated variables: each extern becomes a 4-byte int slot.
    const intId = findInt32(btf);
    const sec = structuredClone(types.get(ksymsSec.id)) as BtfDatasec;
    let off = 0;
    for (const vs of sec.vars) {
      const vt = types.get(vs.type);
      const ext = byName.get(vt.name);
      if (!ext) throw new LoadError(`failed to find extern definition for BTF ${vt.kind} '${vt.name}'`);
      if (vt.kind === "func") {
        const proto = types.get(vt.type);
        if (proto.kind === "func_proto") {
          // Reuse the dummy variable's name for unnamed parameters.
          types.set(proto.id, { ...proto, params: proto.params.map((p) => (p.type && !p.name ? { ...p, name: "dummy_ksym" } : p)) });
        }
        vs.type = dummyVarId;
        types.set(vt.id, { ...vt, linkage: BTF_FUNC_GLOBAL });
      } else if (vt.kind === "var") {
        types.set(vt.id, { ...vt, linkage: BTF_VAR_GLOBAL_ALLOCATED, type: intId });
      }
      vs.offset = off;
      vs.size = 4;
      off += 4;
    }
    sec.size = off;
    types.set(sec.id, sec);
  }

  const kcfgSec = btf.find("datasec", KCONFIG_SEC);
  if (kcfgSec && exts.some((e) => e.kind === "kcfg")) {
    let off = 0;
    for (const e of exts) {
      if (!e.kcfg) continue;
      e.kcfg.offset = Math.ceil(off / e.kcfg.align) * e.kcfg.align;
      off = e.kcfg.offset + e.kcfg.size;
    }
    const sec = structuredClone(types.get(kcfgSec.id)) as BtfDatasec;
    sec.size = off;
    for (const vs of sec.vars) {
      const vt = types.get(vs.type);
      const ext = byName.get(vt.name);
      if (!ext || !ext.kcfg) throw new LoadError(`failed to find extern definition for BTF var '${vt.name}'`);
      types.set(vt.id, { ...(vt as BtfType & { kind: "var" }), linkage: BTF_VAR_GLOBAL_ALLOCATED });
      vs.offset = ext.kcfg.offset;
    }
    types.set(sec.id, sec);
  }
  return exts;
}

/** The first 32-bit INT (find_int_btf_id), or 0. */
function findInt32(btf: Btf): number {
  for (const t of btf.allTypes()) if (t.kind === "int" && t.bits === 32) return t.id;
  return 0;
}

function findExternBtfId(btf: Btf, name: string): number {
  for (const id of btf.idsByName(name)) {
    const t = btf.type(id);
    if (t.kind === "var") {
      if (t.linkage !== BTF_VAR_GLOBAL_EXTERN) throw new LoadError(`extern '${name}': BTF VAR is not extern`);
      return id;
    }
    if (t.kind === "func") {
      if (t.linkage !== BTF_FUNC_EXTERN) throw new LoadError(`extern '${name}': BTF FUNC is not extern`);
      return id;
    }
  }
  throw new LoadError(`failed to find BTF for extern '${name}'`);
}

function findExternSecId(btf: Btf, varId: number): number {
  for (const t of btf.allTypes()) {
    if (t.kind === "datasec" && t.vars.some((v) => v.type === varId)) return t.id;
  }
  throw new LoadError(`failed to find BTF for extern '${btf.type(varId).name}' [${varId}] section`);
}

/**
 * btf_fixup_datasec for every DATASEC: size from the ELF section when clang
 * left 0, variable offsets from their symbols, STV_HIDDEN/INTERNAL globals
 * made static, variables sorted by offset.
 */
export function fixupDatasecs(elf: ElfFile, btf: Btf, b: BtfBuilder): void {
  const types = new Types(b, btf.startId);
  for (const orig of btf.types) {
    if (orig.kind !== "datasec") continue;
    const sec = structuredClone(types.get(orig.id)) as BtfDatasec;
    if (sec.name !== KCONFIG_SEC && sec.name !== KSYMS_SEC) {
      let fixupOffsets = false;
      if (sec.size === 0) {
        const es = elf.section(sec.name);
        if (!es || es.size === 0) throw new LoadError(`DATASEC '${sec.name}': failed to determine size from ELF`);
        sec.size = es.size;
        fixupOffsets = true;
      }
      sec.vars.forEach((vs, i) => {
        const vt = types.get(vs.type);
        if (!vt || vt.kind !== "var") throw new LoadError(`DATASEC '${sec.name}': unexpected non-VAR type found`);
        if (vt.linkage === BTF_VAR_STATIC || vt.linkage === BTF_VAR_GLOBAL_EXTERN) return;
        if (!vt.name) throw new LoadError(`DATASEC '${sec.name}': failed to find name of member #${i}`);
        const sym = findElfVarSym(elf, vt.name);
        if (!sym) throw new LoadError(`DATASEC '${sec.name}': failed to find ELF symbol for VAR '${vt.name}'`);
        if (fixupOffsets) vs.offset = Number(sym.value);
        // Hidden globals are static to everyone outside the object: no mmap, more verifier freedom.
        if (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL) types.set(vt.id, { ...vt, linkage: BTF_VAR_STATIC });
      });
    }
    sec.vars = sec.vars.map((v, i) => ({ v, i })).sort((x, y) => x.v.offset - y.v.offset || x.i - y.i).map((x) => x.v);
    types.set(sec.id, sec);
  }
}

/** find_elf_var_sym: a global or weak STT_OBJECT symbol of this name. */
function findElfVarSym(elf: ElfFile, name: string): ElfSymbol | undefined {
  return elf.symbols.find((s) => s.type === STT_OBJECT && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.name === name);
}

/** Global subprograms with hidden visibility get static FUNC linkage, for the verifier's per-caller checks. */
export function markHiddenFuncsStatic(btf: Btf, b: BtfBuilder, names: readonly string[]): void {
  const types = new Types(b, btf.startId);
  for (const name of names) {
    for (const id of btf.idsByName(name)) {
      const t = types.get(id);
      if (t && t.kind === "func" && t.linkage === BTF_FUNC_GLOBAL) {
        types.set(id, { ...t, linkage: BTF_FUNC_STATIC });
        break;
      }
    }
  }
}
