/**
 * ELF + BTF -> ObjectSpec, following what libbpf's bpf_object__open() does
 * (libbpf.c: bpf_object__elf_collect, bpf_object__collect_externs,
 * bpf_object_fixup_btf, bpf_object__init_maps, bpf_object__collect_relos)
 * and, for the parts libbpf does at load time but that depend only on the
 * file, bpf_object__relocate (subprogram linking). Legacy "maps" sections are
 * read as cilium/ebpf reads them. Nothing here depends on the running system.
 */
import type { Btf } from "../btf/btf.js";
import { BtfBuilder } from "../btf/encode.js";
import type { BtfExt } from "../btf/ext.js";
import { loadBtfFromElf } from "../btf/load.js";
import { BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_STATIC } from "../btf/kinds.js";
import type { BtfDatasec } from "../btf/types.js";
import {
  EM_BPF, EM_NONE, ET_REL, SHF_EXECINSTR, SHN_LORESERVE, SHN_UNDEF, SHT_LLVM_ADDRSIG, SHT_NOBITS, SHT_PROGBITS,
  SHT_REL, SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_SECTION, STV_HIDDEN,
  STV_INTERNAL,
} from "../elf/constants.js";
import type { ElfFile, ElfRelocationSection, ElfSection, ElfSymbol } from "../elf/reader.js";
import { BtfError, ElfError, LoadError } from "../errors.js";
import { Bytecode } from "../isa/bytecode.js";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, OP_CALL, OP_LD_IMM64 } from "../isa/opcodes.js";
import { type ExternDesc, collectExterns, fixupDatasecs, markHiddenFuncsStatic, symIsExtern } from "./btf-fixup.js";
import { type RawProgram, type RawReloc, linkProgram } from "./link.js";
import { LEGACY_MAP_DEF_SIZE, internalMapName, kernelMapName, parseBtfMapDef } from "./maps.js";
import { programKindForSection } from "./sections.js";
import type { KconfigSpec, KsymExtern, MapSpec, ProgramSpec } from "./types.js";
import {
  BPF_F_LINK, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, LIBBPF_PIN_NONE, MapType, ProgType,
} from "./uapi.js";

export interface OpenedObject {
  readonly name: string;
  readonly byteOrder: "le" | "be";
  readonly license: string;
  readonly kernelVersion: number;
  readonly programs: Map<string, ProgramSpec>;
  readonly maps: Map<string, MapSpec>;
  readonly btf?: Btf;
  readonly btfExt?: BtfExt;
  readonly kconfig?: KconfigSpec;
  readonly ksyms: KsymExtern[];
}

type SecType = "data" | "rodata" | "bss" | "relo";

const BPF_INSN_SIZE = 8;
const MAPS_SEC = ".maps";
const LEGACY_MAPS_SEC = "maps";
const STRUCT_OPS_SEC = ".struct_ops";
const STRUCT_OPS_LINK_SEC = ".struct_ops.link";

/** libbpf.c, ignore_elf_section. */
function ignoredSection(s: ElfSection): boolean {
  if (s.type === SHT_STRTAB || s.type === SHT_LLVM_ADDRSIG) return true;
  if (s.type === SHT_PROGBITS && s.size === 0 && s.name === ".text") return true;
  if (s.name.startsWith(".debug_")) return true;
  if (s.name.startsWith(".rel")) {
    const n = s.name.slice(4);
    if (n.startsWith(".debug_") || n === ".BTF" || n === ".BTF.ext") return true;
  }
  return false;
}

/** Object name for fromBytes: the STT_FILE symbol's base name up to its first '.', else "bpf". */
function defaultObjectName(elf: ElfFile): string {
  const file = elf.symbols.find((s) => s.type === STT_FILE && s.name);
  if (!file) return "bpf";
  const base = file.name.slice(file.name.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  return (dot >= 0 ? base.slice(0, dot) : base).slice(0, 15) || "bpf";
}

export function openObject(elf: ElfFile, opts: { name?: string } = {}): OpenedObject {
  const name = opts.name ?? defaultObjectName(elf);
  function fail(msg: string): never {
    throw new LoadError(`object '${name}': ${msg}`);
  }
  // Old LLVM wrote EM_NONE; libbpf accepts it.
  if (elf.header.type !== ET_REL || (elf.header.machine !== EM_BPF && elf.header.machine !== EM_NONE)) {
    throw new ElfError(`object '${name}' is not a BPF relocatable object (e_type ${elf.header.type}, e_machine ${elf.header.machine})`);
  }
  const symtab = elf.symbolTable;
  if (!symtab) throw new ElfError(`object '${name}' has no symbol table (stripped object?)`);
  const order = elf.header.byteOrder;

  // ---- sections ------------------------------------------------------------
  let license = "";
  let kernelVersion = 0;
  let mapsIdx = -1;
  let legacyMapsIdx = -1;
  let textIdx = -1;
  const stOps: Array<{ idx: number; flags: number }> = [];
  const secType = new Map<number, SecType>();
  const execSections: ElfSection[] = [];
  for (const s of elf.sections) {
    if (s.index === 0 || ignoredSection(s)) continue;
    if (s.name === "license") {
      const end = s.data.indexOf(0);
      license = new TextDecoder().decode(s.data.subarray(0, Math.min(end < 0 ? s.data.length : end, 63)));
    } else if (s.name === "version") {
      if (s.size !== 4) fail(`invalid kver section: ${s.size} bytes`);
      kernelVersion = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, order === "le");
    } else if (s.name === LEGACY_MAPS_SEC) {
      legacyMapsIdx = s.index;
    } else if (s.name === MAPS_SEC) {
      mapsIdx = s.index;
    } else if (s.name === ".BTF" || s.name === ".BTF.ext") {
      if (s.type !== SHT_PROGBITS) throw new ElfError(`section ${s.name} is not PROGBITS`);
    } else if (s.type === SHT_SYMTAB) {
      // read by the ELF reader
    } else if (s.type === SHT_PROGBITS && s.size > 0) {
      if (s.flags & SHF_EXECINSTR) {
        if (s.name === ".text") textIdx = s.index;
        execSections.push(s);
      } else if (s.name === ".data" || s.name.startsWith(".data.")) secType.set(s.index, "data");
      else if (s.name === ".rodata" || s.name.startsWith(".rodata.")) secType.set(s.index, "rodata");
      else if (s.name === STRUCT_OPS_SEC) stOps.push({ idx: s.index, flags: 0 });
      else if (s.name === STRUCT_OPS_LINK_SEC) stOps.push({ idx: s.index, flags: BPF_F_LINK });
    } else if (s.type === SHT_REL) {
      secType.set(s.index, "relo");
    } else if (s.type === SHT_NOBITS && (s.name === ".bss" || s.name.startsWith(".bss."))) {
      secType.set(s.index, "bss");
    }
  }
  const secName = (idx: number): string => elf.sections[idx]?.name ?? `#${idx}`;

  // ---- BTF -----------------------------------------------------------------
  // Like libbpf, a .BTF.ext without .BTF is ignored: its records name BTF types.
  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  if (elf.section(".BTF")) {
    const loaded = loadBtfFromElf(elf);
    btf = loaded.btf;
    btfExt = loaded.ext;
  }
  const builder = btf ? BtfBuilder.from(btf) : undefined;

  // ---- programs --------------------------------------------------------------
  const raws: RawProgram[] = [];
  const symMeta = new Map<RawProgram, ElfSymbol>();
  for (const s of execSections) {
    for (const sym of elf.symbols) {
      if (sym.sectionIndex !== s.index || sym.shndx === SHN_UNDEF || sym.type !== STT_FUNC) continue;
      const off = Number(sym.value);
      const size = Number(sym.size);
      if (!sym.name) fail(`sec '${s.name}': failed to get symbol name for offset ${off}`);
      if (off + size > s.size) fail(`sec '${s.name}': program at offset ${off} crosses section boundary`);
      if (s.index !== textIdx && sym.bind === STB_LOCAL) fail(`sec '${s.name}': program '${sym.name}' is static and not supported`);
      if (size === 0 || size % BPF_INSN_SIZE || off % BPF_INSN_SIZE) {
        fail(`sec '${s.name}': corrupted program '${sym.name}', offset ${off}, size ${size}`);
      }
      const raw: RawProgram = {
        name: sym.name, secIdx: s.index, secName: s.name, secInsnOff: off / BPF_INSN_SIZE,
        insns: Bytecode.fromBytes(s.data.subarray(off, off + size), order), relocs: [], core: [], isSubprog: false,
      };
      raws.push(raw);
      symMeta.set(raw, sym);
    }
  }
  raws.sort((a, b) => a.secIdx - b.secIdx || a.secInsnOff - b.secInsnOff);
  for (let i = 1; i < raws.length; i++) {
    const a = raws[i - 1];
    const b = raws[i];
    if (a.secIdx === b.secIdx && a.secInsnOff + a.insns.length > b.secInsnOff) {
      fail(`sec '${a.secName}': programs '${a.name}' and '${b.name}' overlap`);
    }
  }
  // libbpf.c, prog_is_subprog: .text functions are subprograms, unless the object has just one function.
  for (const r of raws) r.isSubprog = r.secIdx === textIdx && raws.length > 1;
  const findProg = (secIdx: number, insnIdx: number): RawProgram | undefined =>
    raws.find((p) => p.secIdx === secIdx && insnIdx >= p.secInsnOff && insnIdx < p.secInsnOff + p.insns.length);

  // ---- externs and BTF fix-ups ----------------------------------------------
  const externs: ExternDesc[] = collectExterns(elf, btf, builder);
  if (btf && builder) {
    fixupDatasecs(elf, btf, builder);
    const hidden = raws.filter((r) => {
      const sym = symMeta.get(r);
      return r.isSubprog && sym && sym.bind !== STB_LOCAL && (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL);
    });
    markHiddenFuncsStatic(btf, builder, hidden.map((r) => r.name));
    btf = builder.build();
  }

  // ---- maps ------------------------------------------------------------------
  const maps = new Map<string, MapSpec>();
  const mapAt = new Map<string, string>(); // "secIdx:offset" -> map name
  const mapLoc = new Map<string, { secIdx: number; offset: number }>();
  const addMap = (m: MapSpec, secIdx: number, offset: number): void => {
    if (maps.has(m.name)) fail(`map '${m.name}' is defined twice`);
    maps.set(m.name, m);
    mapAt.set(`${secIdx}:${offset}`, m.name);
    mapLoc.set(m.name, { secIdx, offset });
  };
  const baseMap = (over: Partial<MapSpec> & Pick<MapSpec, "name" | "source" | "sectionName" | "type">): MapSpec => ({
    kernelName: kernelMapName(over.name), keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n,
    pinning: LIBBPF_PIN_NONE, btfKeyTypeId: 0, btfValueTypeId: 0, initialSlots: [], freeze: false, ...over,
  });

  // Legacy struct bpf_map_def instances, one per symbol in "maps".
  if (legacyMapsIdx >= 0) {
    const sec = elf.sections[legacyMapsIdx];
    const syms = elf.symbols.filter((s) => s.sectionIndex === legacyMapsIdx && s.shndx !== SHN_UNDEF && s.type !== STT_SECTION && s.name);
    const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    const le = order === "le";
    for (const sym of syms.sort((a, b) => Number(a.value - b.value))) {
      const off = Number(sym.value);
      const size = Number(sym.size) || Math.floor(sec.size / syms.length);
      if (size < LEGACY_MAP_DEF_SIZE || off + LEGACY_MAP_DEF_SIZE > sec.size) fail(`legacy map '${sym.name}': definition of ${size} bytes at ${off} is truncated`);
      addMap(baseMap({
        name: sym.name, source: "legacy", sectionName: LEGACY_MAPS_SEC, type: view.getUint32(off, le),
        keySize: view.getUint32(off + 4, le), valueSize: view.getUint32(off + 8, le), maxEntries: view.getUint32(off + 12, le),
        flags: view.getUint32(off + 16, le),
      }), legacyMapsIdx, off);
    }
  }

  // BTF-defined maps: one per variable of the .maps DATASEC.
  const btfMapVars = new Map<string, { offset: number; size: number; valuesBitOffset?: number }>();
  if (mapsIdx >= 0) {
    if (!btf) fail(`'${MAPS_SEC}' needs BTF, but the object has none`);
    const b = btf as Btf;
    const sec = b.find("datasec", MAPS_SEC);
    if (!sec) fail(`DATASEC '${MAPS_SEC}' not found`);
    const data = elf.sections[mapsIdx];
    (sec as BtfDatasec).vars.forEach((vi, i) => {
      const v = b.type(vi.type);
      if (!v.name) fail(`map #${i}: empty name`);
      if (vi.offset + vi.size > data.size) fail(`map '${v.name}' BTF data is corrupted`);
      if (v.kind !== "var") fail(`map '${v.name}': unexpected var kind ${v.kind}`);
      const vv = v as typeof v & { kind: "var" };
      if (vv.linkage !== BTF_VAR_GLOBAL_ALLOCATED) fail(`map '${v.name}': unsupported map linkage`);
      const defT = b.skipModsAndTypedefs(vv.type);
      if (defT.kind !== "struct") fail(`map '${v.name}': unexpected def kind ${defT.kind}`);
      if ((defT as typeof defT & { kind: "struct" }).size > vi.size) fail(`map '${v.name}': invalid def size`);
      const def = parseBtfMapDef(b, v.name, defT.id, true, false);
      const m = baseMap({
        name: v.name, source: "btf", sectionName: MAPS_SEC, type: def.type, keySize: def.keySize, valueSize: def.valueSize,
        maxEntries: def.maxEntries, flags: def.flags, numaNode: def.numaNode, mapExtra: def.mapExtra, pinning: def.pinning,
        btfKeyTypeId: def.keyTypeId, btfValueTypeId: def.valueTypeId,
      });
      if (def.inner) {
        const d = def.inner;
        m.innerMap = baseMap({
          name: `${v.name}.inner`, source: "btf", sectionName: MAPS_SEC, type: d.type, keySize: d.keySize, valueSize: d.valueSize,
          maxEntries: d.maxEntries, flags: d.flags, numaNode: d.numaNode, mapExtra: d.mapExtra, btfKeyTypeId: d.keyTypeId,
          btfValueTypeId: d.valueTypeId,
        });
      }
      addMap(m, mapsIdx, vi.offset);
      btfMapVars.set(v.name, { offset: vi.offset, size: vi.size, valuesBitOffset: def.valuesBitOffset });
    });
  }

  // Global data: one single-entry array per .data*, .rodata*, .bss* section.
  const dataMapOfSection = new Map<number, string>();
  const internalMap = (source: "data" | "rodata" | "bss" | "kconfig", realName: string, secIdx: number, data: Uint8Array): MapSpec => {
    const kname = internalMapName(name, realName);
    // .data.foo / .rodata.foo keep their section name for users (libbpf.c, map_uses_real_name).
    const userName = (source === "data" && realName !== ".data") || (source === "rodata" && realName !== ".rodata") ? realName : kname;
    let valueTypeId = 0;
    if (btf) {
      const t = btf.findAny(realName);
      if (t) valueTypeId = t.id;
    }
    let flags = source === "rodata" || source === "kconfig" ? BPF_F_RDONLY_PROG : 0;
    // mmap()able when user space can see some variable (a non-static one): libbpf.c, map_is_mmapable.
    if (valueTypeId && btf) {
      const t = btf.type(valueTypeId);
      if (t.kind === "datasec" && t.vars.some((v) => {
        const vt = (btf as Btf).type(v.type);
        return vt.kind === "var" && vt.linkage !== BTF_VAR_STATIC;
      })) flags |= BPF_F_MMAPABLE;
    }
    const m = baseMap({
      name: userName, kernelName: kname, source, sectionName: realName, type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4,
      valueSize: data.length, maxEntries: 1, flags, btfValueTypeId: valueTypeId, data, freeze: source === "rodata" || source === "kconfig",
    });
    addMap(m, secIdx, 0);
    return m;
  };
  for (const s of elf.sections) {
    const t = secType.get(s.index);
    if (t !== "data" && t !== "rodata" && t !== "bss") continue;
    if (s.size === 0) continue;
    const data = t === "bss" ? new Uint8Array(s.size) : s.data.slice();
    dataMapOfSection.set(s.index, internalMap(t, s.name, s.index, data).name);
  }

  // The .kconfig map the loader fills.
  let kconfig: KconfigSpec | undefined;
  const kexts = externs.filter((e) => e.kind === "kcfg");
  if (kexts.length) {
    const last = kexts[kexts.length - 1].kcfg as NonNullable<ExternDesc["kcfg"]>;
    const m = internalMap("kconfig", ".kconfig", symtab.index, new Uint8Array(last.offset + last.size));
    kconfig = {
      mapName: m.name, size: m.valueSize,
      externs: kexts.map((e) => {
        const k = e.kcfg as NonNullable<ExternDesc["kcfg"]>;
        return { name: e.name, type: k.type, size: k.size, align: k.align, offset: k.offset, signed: k.signed, weak: e.weak };
      }),
    };
  }
  const ksyms: KsymExtern[] = externs.filter((e) => e.kind === "ksym").map((e) => ({
    name: e.name, kind: btf && btf.type(e.btfId).kind === "func" ? "func" : "var", btfTypeId: e.ksymTypeId ?? 0, weak: e.weak,
  }));

  // struct_ops maps: one per variable of .struct_ops / .struct_ops.link.
  for (const so of stOps) {
    const s = elf.sections[so.idx];
    if (!btf) fail(`'${s.name}' needs BTF, but the object has none`);
    const b = btf as Btf;
    const sec = b.find("datasec", s.name);
    if (!sec) fail(`struct_ops init: DATASEC ${s.name} not found`);
    for (const vi of (sec as BtfDatasec).vars) {
      const v = b.type(vi.type);
      const st = b.skipModsAndTypedefs(v.kind === "var" ? v.type : vi.type);
      if (!st.name) fail("struct_ops init: anonymous type is not supported");
      if (st.kind !== "struct") fail(`struct_ops init: ${st.name} is not a struct`);
      const size = (st as typeof st & { kind: "struct" }).size;
      if (vi.offset + size > s.size) fail(`struct_ops init: var ${v.name} is beyond the end of DATASEC ${s.name}`);
      addMap(baseMap({
        name: v.name, source: "struct_ops", sectionName: s.name, type: MapType.BPF_MAP_TYPE_STRUCT_OPS, keySize: 4,
        valueSize: size, maxEntries: 1, flags: so.flags, data: s.data.slice(vi.offset, vi.offset + size),
        structOps: { typeName: st.name, typeId: st.id, programs: [] },
      }), so.idx, vi.offset);
    }
  }

  // ---- relocations -------------------------------------------------------------
  const externBySym = new Map(externs.map((e) => [e.symIndex, e]));
  for (const rs of elf.relocationSections) {
    if (secType.get(rs.section.index) !== "relo") continue;
    const target = rs.target;
    if (target.flags & SHF_EXECINSTR) collectProgRelocs(rs);
    else if (target.index === mapsIdx) collectMapRelocs(rs);
    else if (stOps.some((s) => s.idx === target.index)) collectStructOpsRelocs(rs);
  }

  function symName(sym: ElfSymbol): string {
    return sym.type === STT_SECTION && sym.nameOffset === 0 ? secName(sym.sectionIndex) : sym.name || "<?>";
  }

  function collectProgRelocs(rs: ElfRelocationSection): void {
    const sec = rs.target;
    rs.relocations.forEach((rel, i) => {
      const sym = elf.symbols[rel.symbolIndex];
      if (!sym) fail(`sec '${rs.section.name}': symbol #${rel.symbolIndex} not found for relo #${i}`);
      const off = rel.offset;
      if (off % 8n !== 0n || off >= BigInt(sec.size)) fail(`sec '${rs.section.name}': invalid offset 0x${off.toString(16)} for relo #${i}`);
      const secInsn = Number(off) / BPF_INSN_SIZE;
      const name = symName(sym);
      const prog = findProg(sec.index, secInsn);
      // An overridden weak function: its relocations are dropped (as libbpf does).
      if (!prog) return;
      const idx = secInsn - prog.secInsnOff;
      const code = prog.insns;
      const op = code.opcode[idx];
      const isCall = op === OP_CALL;
      const isLd = op === OP_LD_IMM64;
      if (!isCall && !isLd) fail(`prog '${prog.name}': invalid relo against '${name}' for insns[${idx}].code 0x${op.toString(16)}`);
      if (isLd && idx + 1 >= code.length) fail(`prog '${prog.name}': ld_imm64 at insn ${idx} has no second half`);
      const push = (r: RawReloc): void => {
        prog.relocs.push(r);
      };
      if (symIsExtern(sym)) {
        const ext = externBySym.get(sym.index);
        if (!ext) fail(`prog '${prog.name}': extern relo failed to find extern for '${name}' (${sym.index})`);
        const e = ext as ExternDesc;
        if (e.kind === "kcfg") {
          if (isCall) fail(`prog '${prog.name}': call to kconfig extern '${e.name}'`);
          push({ kind: "kconfig", insnIdx: idx, target: e.name, offset: e.kcfg?.offset ?? 0 });
        } else {
          push({ kind: "ksym", insnIdx: idx, target: e.name, offset: 0 });
        }
        return;
      }
      if (isCall) {
        if (code.src[idx] !== BPF_PSEUDO_CALL) fail(`prog '${prog.name}': incorrect bpf_call opcode`);
        if (sym.shndx === SHN_UNDEF || sym.sectionIndex !== textIdx) {
          fail(`prog '${prog.name}': bad call relo against '${name}' in section '${secName(sym.sectionIndex)}'`);
        }
        if (sym.value % 8n !== 0n) fail(`prog '${prog.name}': bad call relo against '${name}' at offset ${sym.value}`);
        push({ kind: "call", insnIdx: idx, symOff: Number(sym.value) });
        return;
      }
      if (sym.shndx === SHN_UNDEF || (sym.shndx >= SHN_LORESERVE && sym.sectionIndex >= elf.sections.length)) {
        fail(`prog '${prog.name}': invalid relo against '${name}' in special section 0x${sym.shndx.toString(16)}; forgot to initialize global var?..`);
      }
      const symSec = sym.sectionIndex;
      // A subprogram's address (callbacks): global function symbol, or the .text section symbol.
      if (symSec === textIdx && ((sym.bind === STB_LOCAL && sym.type === STT_SECTION) || (sym.bind === STB_GLOBAL && sym.type === STT_FUNC))) {
        if (sym.value % 8n !== 0n || code.imm[idx] % 8 !== 0) fail(`prog '${prog.name}': bad subprog addr relo against '${name}'`);
        push({ kind: "subprog_addr", insnIdx: idx, symOff: Number(sym.value) });
        // libbpf marks these loads BPF_PSEUDO_FUNC before linking.
        code.src[idx] = BPF_PSEUDO_FUNC;
        return;
      }
      if (symSec === mapsIdx || symSec === legacyMapsIdx) {
        const m = mapAt.get(`${symSec}:${sym.value}`);
        if (!m) fail(`prog '${prog.name}': map relo failed to find map for section '${secName(symSec)}', off ${sym.value}`);
        push({ kind: "map", insnIdx: idx, target: m as string, offset: 0 });
        return;
      }
      const data = dataMapOfSection.get(symSec);
      if (data !== undefined) {
        // The offset is the symbol's (named variables) plus the instruction's (section symbols).
        const offset = code.imm[idx] + Number(sym.value);
        const size = maps.get(data)?.valueSize ?? 0;
        if (offset < 0 || offset >= size) fail(`prog '${prog.name}': data relo at insn ${idx} points at offset ${offset}, outside '${secName(symSec)}' (${size} bytes)`);
        push({ kind: "map_value", insnIdx: idx, target: data, offset });
        return;
      }
      fail(`prog '${prog.name}': bad data relo against section '${secName(symSec)}'`);
    });
  }

  function collectMapRelocs(rs: ElfRelocationSection): void {
    rs.relocations.forEach((rel, i) => {
      const sym = elf.symbols[rel.symbolIndex];
      const name = sym?.name ?? "";
      if (!sym) fail(`.maps relo #${i}: symbol ${rel.symbolIndex} not found`);
      const off = Number(rel.offset);
      let owner: string | undefined;
      let info: { offset: number; size: number; valuesBitOffset?: number } | undefined;
      for (const [mname, v] of btfMapVars) {
        if (v.offset <= off && off + 8 <= v.offset + v.size) {
          owner = mname;
          info = v;
          break;
        }
      }
      if (!owner || !info) fail(`.maps relo #${i}: cannot find map '${name}' at rel->r_offset ${off}`);
      const map = maps.get(owner as string) as MapSpec;
      const inMap = map.type === MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS || map.type === MapType.BPF_MAP_TYPE_HASH_OF_MAPS;
      const progArray = map.type === MapType.BPF_MAP_TYPE_PROG_ARRAY;
      let target: string;
      if (inMap) {
        if (sym.sectionIndex !== mapsIdx) fail(`.maps relo #${i}: '${name}' isn't a BTF-defined map`);
        const t = mapAt.get(`${mapsIdx}:${sym.value}`);
        if (!t) fail(`.maps relo #${i}: cannot find map '${name}' at offset ${sym.value}`);
        target = t as string;
      } else if (progArray) {
        const p = raws.find((r) => r.name === name && !r.isSubprog);
        if (!p || p.secIdx !== sym.sectionIndex || p.secInsnOff * 8 !== Number(sym.value)) {
          fail(`.maps relo #${i}: '${name}' isn't an entry-point BPF program`);
        }
        target = name;
      } else {
        fail(`.maps relo #${i}: map '${owner}' is neither a map of maps nor a prog array`);
        return;
      }
      if (info.valuesBitOffset === undefined) fail(`.maps relo #${i}: map '${owner}' has no 'values' member`);
      const moff = off - info.offset - (info.valuesBitOffset ?? 0) / 8;
      if (moff < 0 || moff % 8 !== 0) fail(`.maps relo #${i}: bad 'values' slot offset ${moff}`);
      const index = moff / 8;
      const slots = map.initialSlots.filter((s) => s.index !== index);
      slots.push({ index, target });
      map.initialSlots = slots.sort((a, b) => a.index - b.index);
    });
  }

  function collectStructOpsRelocs(rs: ElfRelocationSection): void {
    const b = btf as Btf;
    rs.relocations.forEach((rel, i) => {
      const sym = elf.symbols[rel.symbolIndex];
      if (!sym) fail(`struct_ops reloc: symbol ${rel.symbolIndex} not found`);
      const off = Number(rel.offset);
      const map = [...maps.values()].find((m) => {
        const loc = mapLoc.get(m.name);
        return m.source === "struct_ops" && loc !== undefined && loc.secIdx === rs.target.index &&
          off >= loc.offset && off - loc.offset < m.valueSize;
      });
      if (!map || !map.structOps) fail(`struct_ops reloc: cannot find map at rel->r_offset ${off}`);
      const m = map as MapSpec;
      const so = m.structOps as NonNullable<MapSpec["structOps"]>;
      const moff = off - mapOffset(m);
      const st = b.type(so.typeId);
      if (st.kind !== "struct") return;
      const memberIndex = st.members.findIndex((mm) => mm.bitOffset === moff * 8);
      if (memberIndex < 0) fail(`struct_ops reloc ${m.name}: cannot find member at moff ${moff}`);
      const member = st.members[memberIndex];
      const mt = b.skipModsAndTypedefs(member.type);
      if (mt.kind !== "ptr" || b.skipModsAndTypedefs(mt.type).kind !== "func_proto") {
        fail(`struct_ops reloc ${m.name}: cannot relocate non func ptr ${member.name}`);
      }
      if (sym.value % 8n !== 0n) fail(`struct_ops reloc ${m.name}: invalid target program offset ${sym.value}`);
      const prog = findProg(sym.sectionIndex, Number(sym.value) / 8);
      if (!prog) fail(`struct_ops reloc ${m.name}: cannot find prog to relocate func ptr ${member.name} (relo #${i})`);
      const p = prog as RawProgram;
      if (programKindForSection(stripQ(p.secName)).progType !== ProgType.BPF_PROG_TYPE_STRUCT_OPS) {
        fail(`struct_ops reloc ${m.name}: prog ${p.name} is not struct_ops BPF program`);
      }
      so.programs.push({ member: member.name, memberIndex, program: p.name });
    });
  }

  function mapOffset(m: MapSpec): number {
    return mapLoc.get(m.name)?.offset ?? -1;
  }

  // ---- CO-RE records -------------------------------------------------------------
  if (btfExt) {
    let recordIndex = 0;
    for (const s of btfExt.coreRelos) {
      const sec = elf.section(s.section);
      for (const rec of s.records) {
        const index = recordIndex++;
        if (!sec) continue;
        if (rec.insnOff % BPF_INSN_SIZE) throw new BtfError(`CO-RE relocation in '${s.section}' at byte ${rec.insnOff} is not instruction-aligned`);
        const insn = rec.insnOff / BPF_INSN_SIZE;
        const prog = findProg(sec.index, insn);
        // Records of eliminated weak subprograms are skipped, like libbpf does.
        if (!prog) continue;
        prog.core.push({ insnIndex: insn - prog.secInsnOff, typeId: rec.typeId, accessString: rec.accessString, kind: rec.kind, recordIndex: index });
      }
    }
  }

  // ---- link and build program specs ------------------------------------------------
  const text = raws.filter((r) => r.secIdx === textIdx).sort((a, b) => a.secInsnOff - b.secInsnOff);
  const programs = new Map<string, ProgramSpec>();
  for (const r of raws) {
    if (r.isSubprog) continue;
    const autoload = !r.secName.startsWith("?");
    const sname = stripQ(r.secName);
    const kind = programKindForSection(sname);
    const linked = linkProgram(r, { textIdx, text, ext: btfExt, sectionName: secName });
    const sym = symMeta.get(r);
    if (programs.has(r.name)) fail(`program '${r.name}' is defined twice`);
    programs.set(r.name, {
      name: r.name, sectionName: sname, type: kind.progType, expectedAttachType: kind.expectedAttachType,
      attachTypeOptional: kind.attachTypeOptional, attachTarget: kind.attachTarget, attachBtf: kind.attachBtf,
      flags: kind.progFlags, autoload, sectionPattern: kind.pattern, license, kernelVersion,
      instructions: linked.instructions, functions: linked.functions, relocations: linked.relocations,
      coreRelocations: linked.coreRelocations, funcInfo: linked.funcInfo, lineInfo: linked.lineInfo,
      global: sym ? sym.bind === STB_GLOBAL || sym.bind === STB_WEAK : false,
    });
  }

  return { name, byteOrder: order, license, kernelVersion, programs, maps, btf, btfExt, kconfig, ksyms };
}

const stripQ = (s: string): string => (s.startsWith("?") ? s.slice(1) : s);
