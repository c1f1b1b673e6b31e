/**
 * BTF back to bytes, and a builder for BTF made from scratch. The encoding is
 * the one the kernel reads in BPF_BTF_LOAD (include/uapi/linux/btf.h): header,
 * type section, string section. Seeding the string table with an existing one
 * keeps every old string offset valid, so func_info/line_info records that
 * point into it can be uploaded unchanged.
 */
import { BtfError } from "../errors.js";
import { Btf } from "./btf.js";
import {
  BTF_HEADER_SIZE, BTF_MAGIC, BTF_MAX_VLEN, BTF_TYPE_SIZE, BTF_VERSION,
} from "./kinds.js";
import type { ByteOrder } from "./parse.js";
import { StringTable, StringTableBuilder } from "./strings.js";
import {
  type BtfArray, type BtfDatasec, type BtfEnum64Value, type BtfEnumValue, type BtfMember, type BtfParam,
  type BtfType, type BtfTypeInit, type BtfVarSecinfo, kindNumber,
} from "./types.js";

function trailingSize(t: BtfType): number {
  switch (t.kind) {
    case "int": case "var": case "decl_tag": return 4;
    case "array": return 12;
    case "struct": case "union": return t.members.length * 12;
    case "enum": return t.values.length * 8;
    case "enum64": return t.values.length * 12;
    case "func_proto": return t.params.length * 8;
    case "datasec": return t.vars.length * 12;
    default: return 0;
  }
}

function checkVlen(t: BtfType, n: number): void {
  if (n > BTF_MAX_VLEN) throw new BtfError(`type [${t.id}] ${t.kind} has ${n} entries, more than BTF's ${BTF_MAX_VLEN}`);
}

function checkU32(t: BtfType, v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BtfError(`type [${t.id}] ${t.kind}: ${what} ${v} does not fit 32 bits`);
  return v;
}

/** Encodes types (ids in order) with a string table builder. */
function encodeTypes(types: readonly BtfType[], strings: StringTableBuilder, order: ByteOrder): Uint8Array {
  const le = order === "le";
  let total = 0;
  for (const t of types) total += BTF_TYPE_SIZE + trailingSize(t);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let off = 0;
  const u32 = (x: number): void => {
    v.setUint32(off, x >>> 0, le);
    off += 4;
  };
  for (const t of types) {
    if (t.kind === "void") throw new BtfError("void (type 0) is implicit and cannot be encoded");
    const nameOff = strings.add(t.name);
    const kind = kindNumber(t.kind);
    let vlen = 0;
    let kflag = false;
    let sizeOrType = 0;
    switch (t.kind) {
      case "int": case "float": case "datasec": case "struct": case "union": case "enum": case "enum64":
        sizeOrType = checkU32(t, t.size, "size");
        break;
      case "ptr": case "typedef": case "volatile": case "const": case "restrict": case "func": case "var":
      case "decl_tag": case "type_tag":
        sizeOrType = t.type;
        break;
      case "func_proto":
        sizeOrType = t.returnType;
        break;
      default:
        break;
    }
    switch (t.kind) {
      case "struct": case "union":
        checkVlen(t, t.members.length);
        vlen = t.members.length;
        // Bitfield widths can only be stored with the kind flag set.
        kflag = t.kindFlag || t.members.some((m) => m.bitfieldSize !== 0);
        break;
      case "enum": case "enum64":
        checkVlen(t, t.values.length);
        vlen = t.values.length;
        kflag = t.signed;
        break;
      case "func_proto":
        checkVlen(t, t.params.length);
        vlen = t.params.length;
        break;
      case "datasec":
        checkVlen(t, t.vars.length);
        vlen = t.vars.length;
        break;
      case "func":
        vlen = t.linkage & 0xffff;
        break;
      case "fwd":
        kflag = t.union;
        break;
      case "decl_tag": case "type_tag":
        kflag = t.kindFlag;
        break;
      default:
        break;
    }
    u32(nameOff);
    u32(((kflag ? 1 : 0) << 31) | (kind << 24) | vlen);
    u32(sizeOrType);
    switch (t.kind) {
      case "int":
        if (t.bits > 0xff || t.bitsOffset > 0xff || t.encoding > 0xf) throw new BtfError(`type [${t.id}] int: encoding out of range`);
        u32((t.encoding << 24) | (t.bitsOffset << 16) | t.bits);
        break;
      case "array":
        u32(t.type);
        u32(t.indexType);
        u32(checkU32(t, t.nelems, "nelems"));
        break;
      case "struct": case "union":
        for (const m of t.members) {
          u32(strings.add(m.name));
          u32(m.type);
          if (kflag) {
            if (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff) throw new BtfError(`type [${t.id}] member '${m.name}': offset or bitfield size out of range`);
            u32((m.bitfieldSize << 24) | m.bitOffset);
          } else {
            u32(checkU32(t, m.bitOffset, "member offset"));
          }
        }
        break;
      case "enum":
        for (const e of t.values) {
          u32(strings.add(e.name));
          u32(e.value);
        }
        break;
      case "enum64":
        for (const e of t.values) {
          const u = BigInt.asUintN(64, e.value);
          u32(strings.add(e.name));
          u32(Number(u & 0xffffffffn));
          u32(Number(u >> 32n));
        }
        break;
      case "func_proto":
        for (const p of t.params) {
          u32(strings.add(p.name));
          u32(p.type);
        }
        break;
      case "var":
        u32(t.linkage);
        break;
      case "datasec":
        for (const s of t.vars) {
          u32(s.type);
          u32(checkU32(t, s.offset, "var offset"));
          u32(checkU32(t, s.size, "var size"));
        }
        break;
      case "decl_tag":
        v.setInt32(off, t.componentIdx, le);
        off += 4;
        break;
      default:
        break;
    }
  }
  return out;
}

function assemble(typeBytes: Uint8Array, strBytes: Uint8Array, order: ByteOrder): Uint8Array {
  const le = order === "le";
  const out = new Uint8Array(BTF_HEADER_SIZE + typeBytes.length + strBytes.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, BTF_MAGIC, le);
  v.setUint8(2, BTF_VERSION);
  v.setUint8(3, 0);
  v.setUint32(4, BTF_HEADER_SIZE, le);
  v.setUint32(8, 0, le);
  v.setUint32(12, typeBytes.length, le);
  v.setUint32(16, typeBytes.length, le);
  v.setUint32(20, strBytes.length, le);
  out.set(typeBytes, BTF_HEADER_SIZE);
  out.set(strBytes, BTF_HEADER_SIZE + typeBytes.length);
  return out;
}

export interface EncodeOptions {
  readonly byteOrder?: ByteOrder;
  /**
   * Start from the BTF's own string table (default true), so existing string
   * offsets stay valid; otherwise build a fresh, minimal one.
   */
  readonly keepStrings?: boolean;
}

/** Encodes a BTF's own types (not its base's) as a raw BTF blob. */
export function encodeBtf(btf: Btf, opts: EncodeOptions = {}): Uint8Array {
  const order = opts.byteOrder ?? btf.byteOrder;
  const strings = new StringTableBuilder(opts.keepStrings === false ? undefined : btf.strings, btf.base?.strings);
  const typeBytes = encodeTypes(btf.types, strings, order);
  return assemble(typeBytes, strings.bytes(), order);
}

/**
 * Builds BTF type by type (the vm synthesizes its context structs this way;
 * fix-ups append placeholder types). Ids are handed out in order.
 */
export class BtfBuilder {
  private readonly list: BtfType[] = [];
  private readonly strings: StringTableBuilder;
  private readonly startId: number;

  constructor(private readonly opts: { base?: Btf; seed?: StringTable; byteOrder?: ByteOrder; pointerSize?: number } = {}) {
    this.strings = new StringTableBuilder(opts.seed, opts.base?.strings);
    this.startId = opts.base ? opts.base.typeCount : 1;
  }

  /** Starts from a copy of an existing BTF's own types and strings. */
  static from(btf: Btf): BtfBuilder {
    const b = new BtfBuilder({ base: btf.base, seed: btf.strings, byteOrder: btf.byteOrder, pointerSize: btf.pointerSize });
    for (const t of btf.types) b.list.push(structuredClone(t));
    return b;
  }

  /** The id the next added type gets. */
  get nextId(): number {
    return this.startId + this.list.length;
  }

  /** The types added so far (mutable: fix-ups edit them in place). */
  get types(): BtfType[] {
    return this.list;
  }

  /** Adds a type; returns its id. */
  add(t: BtfTypeInit): number {
    const id = this.nextId;
    this.list.push({ ...t, id } as BtfType);
    return id;
  }

  addInt(name: string, size: number, encoding = 0, bits = size * 8): number {
    return this.add({ kind: "int", name, size, encoding, bitsOffset: 0, bits });
  }
  addFloat(name: string, size: number): number {
    return this.add({ kind: "float", name, size });
  }
  addPtr(type: number): number {
    return this.add({ kind: "ptr", name: "", type });
  }
  addArray(type: number, indexType: number, nelems: number): number {
    const a: Omit<BtfArray, "id"> = { kind: "array", name: "", type, indexType, nelems };
    return this.add(a);
  }
  addStruct(name: string, size: number, members: BtfMember[]): number {
    return this.add({ kind: "struct", name, size, kindFlag: members.some((m) => m.bitfieldSize !== 0), members });
  }
  addUnion(name: string, size: number, members: BtfMember[]): number {
    return this.add({ kind: "union", name, size, kindFlag: members.some((m) => m.bitfieldSize !== 0), members });
  }
  addEnum(name: string, size: number, values: BtfEnumValue[], signed = false): number {
    return this.add({ kind: "enum", name, size, signed, values });
  }
  addEnum64(name: string, size: number, values: BtfEnum64Value[], signed = false): number {
    return this.add({ kind: "enum64", name, size, signed, values });
  }
  addFwd(name: string, union = false): number {
    return this.add({ kind: "fwd", name, union });
  }
  addTypedef(name: string, type: number): number {
    return this.add({ kind: "typedef", name, type });
  }
  addConst(type: number): number {
    return this.add({ kind: "const", name: "", type });
  }
  addVolatile(type: number): number {
    return this.add({ kind: "volatile", name: "", type });
  }
  addRestrict(type: number): number {
    return this.add({ kind: "restrict", name: "", type });
  }
  addTypeTag(value: string, type: number, kindFlag = false): number {
    return this.add({ kind: "type_tag", name: value, type, kindFlag });
  }
  addFuncProto(returnType: number, params: BtfParam[]): number {
    return this.add({ kind: "func_proto", name: "", returnType, params });
  }
  addFunc(name: string, proto: number, linkage: number): number {
    return this.add({ kind: "func", name, type: proto, linkage });
  }
  addVar(name: string, type: number, linkage: number): number {
    return this.add({ kind: "var", name, type, linkage });
  }
  addDatasec(name: string, size: number, vars: BtfVarSecinfo[]): number {
    const d: Omit<BtfDatasec, "id"> = { kind: "datasec", name, size, vars };
    return this.add(d);
  }
  addDeclTag(value: string, type: number, componentIdx = -1, kindFlag = false): number {
    return this.add({ kind: "decl_tag", name: value, type, componentIdx, kindFlag });
  }

  /** Adds a string to the string table (for func_info/line_info records); returns its offset. */
  addString(s: string): number {
    return this.strings.add(s);
  }

  /** Raw BTF bytes. */
  encode(byteOrder: ByteOrder = this.opts.byteOrder ?? "le"): Uint8Array {
    const typeBytes = encodeTypes(this.list, this.strings, byteOrder);
    return assemble(typeBytes, this.strings.bytes(), byteOrder);
  }

  /** A Btf of what was built (validated by a full parse of the encoding). */
  build(): Btf {
    return Btf.parse(this.encode(), { base: this.opts.base, pointerSize: this.opts.pointerSize });
  }
}
