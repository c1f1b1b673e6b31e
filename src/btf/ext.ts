/**
 * .BTF.ext: per-section func_info, line_info and CO-RE relocation records
 * (Documentation/bpf/btf.rst, "BTF_EXT Encoding"; libbpf btf.c,
 * btf_ext_parse_hdr / btf_ext_setup_info). Instruction offsets here are byte
 * offsets within the ELF section, as clang writes them; the object layer turns
 * them into instruction indices of a linked program.
 */
import { BtfError } from "../errors.js";
import type { Btf } from "./btf.js";
import { BTF_MAGIC } from "./kinds.js";

/** bpf_func_info: a function starts at this instruction. */
export interface FuncInfo {
  /** Byte offset of the function's first instruction in its section. */
  insnOff: number;
  /** The FUNC type. */
  typeId: number;
}

/** bpf_line_info: source position of an instruction. */
export interface LineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  /** line_col >> 10. */
  line: number;
  /** line_col & 0x3ff. */
  column: number;
  fileName: string;
  /** The source line's text. */
  lineText: string;
}

/** bpf_core_relo: a CO-RE relocation of the instruction at insnOff. */
export interface CoreReloRecord {
  insnOff: number;
  /** Local root type. */
  typeId: number;
  accessStrOff: number;
  /** "0:1:2" style access string. */
  accessString: string;
  /** BPF_CORE_* (enum bpf_core_relo_kind). */
  kind: number;
}

export interface BtfExtSection<T> {
  /** ELF section name the records belong to. */
  readonly section: string;
  readonly sectionNameOff: number;
  readonly records: readonly T[];
}

export interface BtfExt {
  readonly version: number;
  readonly flags: number;
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly coreReloRecSize: number;
  readonly funcInfo: readonly BtfExtSection<FuncInfo>[];
  readonly lineInfo: readonly BtfExtSection<LineInfo>[];
  readonly coreRelos: readonly BtfExtSection<CoreReloRecord>[];
}

/** Minimum record sizes: sizeof(bpf_func_info), sizeof(bpf_line_info), sizeof(bpf_core_relo). */
const MIN_FUNC_INFO = 8;
const MIN_LINE_INFO = 16;
const MIN_CORE_RELO = 16;

/** Header sizes: up to line_info_len (24) and up to core_relo_len (32). */
const EXT_HDR_MIN = 24;
const EXT_HDR_CORE = 32;

interface Block {
  off: number;
  len: number;
}

export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  try {
    return parse(bytes, btf);
  } catch (e) {
    if (e instanceof RangeError) throw new BtfError(`malformed .BTF.ext: ${e.message}`, { cause: e });
    throw e;
  }
}

function parse(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < 8) throw new BtfError(`.BTF.ext header not found: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw new BtfError(`invalid .BTF.ext magic 0x${view.getUint16(0, true).toString(16)}`);
  const version = view.getUint8(2);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  if (version !== 1) throw new BtfError(`unsupported .BTF.ext version ${version}`);
  if (flags !== 0) throw new BtfError(`unsupported .BTF.ext flags 0x${flags.toString(16)}`);
  if (hdrLen < EXT_HDR_MIN) throw new BtfError(`.BTF.ext header length ${hdrLen} is shorter than ${EXT_HDR_MIN}`);
  if (hdrLen > bytes.length) throw new BtfError(`.BTF.ext header length ${hdrLen} is larger than the data (${bytes.length} bytes)`);
  const u32 = (o: number): number => view.getUint32(o, le);
  const func: Block = { off: u32(8), len: u32(12) };
  const line: Block = { off: u32(16), len: u32(20) };
  const core: Block = hdrLen >= EXT_HDR_CORE ? { off: u32(24), len: u32(28) } : { off: 0, len: 0 };
  const dataEnd = bytes.length;

  const str = (off: number, what: string): string => {
    if (!btf.strings.has(off)) throw new BtfError(`.BTF.ext ${what}: string offset ${off} is outside the BTF string section`);
    return btf.strings.get(off);
  };
  const checkType = (id: number, what: string): void => {
    if (id >= btf.typeCount) throw new BtfError(`.BTF.ext ${what}: type id ${id} does not exist`);
  };

  function sections<T>(block: Block, name: string, minRec: number, rec: (at: number) => T): { recSize: number; secs: BtfExtSection<T>[] } {
    if (block.len === 0) return { recSize: 0, secs: [] };
    if (block.off % 4 !== 0) throw new BtfError(`.BTF.ext ${name} section is not aligned to 4 bytes`);
    const start = hdrLen + block.off;
    const end = start + block.len;
    if (end > dataEnd || start > dataEnd) throw new BtfError(`.BTF.ext ${name} data [${block.off}, +${block.len}) is past the end`);
    if (block.len < 4) throw new BtfError(`.BTF.ext ${name} has no record size`);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfError(`.BTF.ext ${name} record size ${recSize} is invalid (minimum ${minRec}, multiple of 4)`);
    const secs: BtfExtSection<T>[] = [];
    let at = start + 4;
    if (at === end) throw new BtfError(`.BTF.ext ${name} has no records`);
    while (at < end) {
      if (at + 8 > end) throw new BtfError(`.BTF.ext ${name} section header is truncated`);
      const nameOff = u32(at);
      const num = u32(at + 4);
      at += 8;
      if (num === 0) throw new BtfError(`.BTF.ext ${name} section has no records`);
      if (num > (end - at) / recSize) throw new BtfError(`.BTF.ext ${name} section claims ${num} records of ${recSize} bytes, only ${end - at} bytes left`);
      const section = str(nameOff, `${name} section name`);
      const records: T[] = new Array(num);
      for (let i = 0; i < num; i++) records[i] = rec(at + i * recSize);
      at += num * recSize;
      secs.push({ section, sectionNameOff: nameOff, records });
    }
    return { recSize, secs };
  }

  const f = sections<FuncInfo>(func, "func_info", MIN_FUNC_INFO, (at) => {
    const typeId = u32(at + 4);
    checkType(typeId, "func_info");
    return { insnOff: u32(at), typeId };
  });
  const l = sections<LineInfo>(line, "line_info", MIN_LINE_INFO, (at) => {
    const fileNameOff = u32(at + 4);
    const lineOff = u32(at + 8);
    const lineCol = u32(at + 12);
    return {
      insnOff: u32(at), fileNameOff, lineOff, line: lineCol >>> 10, column: lineCol & 0x3ff,
      fileName: str(fileNameOff, "line_info file name"), lineText: str(lineOff, "line_info line"),
    };
  });
  const c = sections<CoreReloRecord>(core, "core_relo", MIN_CORE_RELO, (at) => {
    const typeId = u32(at + 4);
    checkType(typeId, "core_relo");
    const accessStrOff = u32(at + 8);
    return { insnOff: u32(at), typeId, accessStrOff, accessString: str(accessStrOff, "core_relo access string"), kind: u32(at + 12) };
  });
  return {
    version, flags, funcInfoRecSize: f.recSize, lineInfoRecSize: l.recSize, coreReloRecSize: c.recSize,
    funcInfo: f.secs, lineInfo: l.secs, coreRelos: c.secs,
  };
}
