/**
 * Decodes the raw BTF format (include/uapi/linux/btf.h): struct btf_header,
 * then the type section (struct btf_type plus per-kind trailing data) and the
 * string section, in either byte order. Checks what libbpf's btf_parse_hdr(),
 * btf_parse_str_sec() and btf_parse_type_sec() check, plus that every type
 * reference and name offset resolves, so later walks over the graph cannot
 * step outside it.
 */
import { BtfError } from "../errors.js";
import {
  BTF_HEADER_SIZE, BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG, BTF_KIND_ENUM,
  BTF_KIND_ENUM64, BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT,
  BTF_KIND_NAMES, BTF_KIND_PTR, BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION, BTF_KIND_VAR, BTF_KIND_VOLATILE, BTF_MAGIC, BTF_TYPE_SIZE, BTF_VERSION,
} from "./kinds.js";
import { StringTable } from "./strings.js";
import type { BtfMember, BtfType } from "./types.js";
import { kindNumber, referencedTypes } from "./types.js";

export type ByteOrder = "le" | "be";

export interface BtfHeaderInfo {
  readonly byteOrder: ByteOrder;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

export interface ParsedBtf {
  readonly header: BtfHeaderInfo;
  readonly types: BtfType[];
  readonly strings: StringTable;
}

export interface BaseInfo {
  /** First type id of the split BTF (the base's type count). */
  readonly startId: number;
  readonly strings: StringTable;
}

/** Reads the header and checks its layout against the buffer size. */
export function parseBtfHeader(bytes: Uint8Array): BtfHeaderInfo {
  if (bytes.length < BTF_HEADER_SIZE) throw new BtfError(`BTF header not found: ${bytes.length} bytes, need ${BTF_HEADER_SIZE}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw new BtfError(`invalid BTF magic 0x${view.getUint16(0, true).toString(16)}`);
  const version = view.getUint8(2);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  if (version !== BTF_VERSION) throw new BtfError(`unsupported BTF version ${version}`);
  if (hdrLen < BTF_HEADER_SIZE) throw new BtfError(`BTF header length ${hdrLen} is shorter than ${BTF_HEADER_SIZE}`);
  if (hdrLen > bytes.length) throw new BtfError(`BTF header length ${hdrLen} is larger than the data (${bytes.length} bytes)`);
  const metaLeft = bytes.length - hdrLen;
  if (strOff + strLen > metaLeft) {
    throw new BtfError(`invalid BTF total size: strings at ${strOff} + ${strLen} past ${metaLeft} bytes after the header`);
  }
  if (typeOff + typeLen > strOff) {
    throw new BtfError(`invalid BTF section layout: types at ${typeOff} + ${typeLen}, strings at ${strOff} + ${strLen}`);
  }
  if (typeOff % 4 !== 0) throw new BtfError(`BTF type section offset ${typeOff} is not 4-byte aligned`);
  return { byteOrder: le ? "le" : "be", version, flags, hdrLen, typeOff, typeLen, strOff, strLen };
}

/** Decodes header, strings and types. `base` makes it split BTF (ids and string offsets continue the base's). */
export function parseBtfBytes(bytes: Uint8Array, base?: BaseInfo): ParsedBtf {
  const header = parseBtfHeader(bytes);
  const le = header.byteOrder === "le";
  const strStart = header.hdrLen + header.strOff;
  const strBytes = bytes.subarray(strStart, strStart + header.strLen);
  if (!(base && header.strLen === 0)) {
    if (header.strLen === 0 || strBytes[header.strLen - 1] !== 0) throw new BtfError("invalid BTF string section: not NUL-terminated");
    if (!base && strBytes[0] !== 0) throw new BtfError("invalid BTF string section: does not start with the empty string");
  }
  const strings = new StringTable(strBytes, base?.strings);
  const startId = base ? base.startId : 1;

  const typeStart = header.hdrLen + header.typeOff;
  const view = new DataView(bytes.buffer, bytes.byteOffset + typeStart, header.typeLen);
  const types: BtfType[] = [];
  const end = header.typeLen;
  let off = 0;
  const str = (o: number, what: () => string): string => {
    if (!strings.has(o)) throw new BtfError(`${what()}: name offset ${o} is outside the string section`);
    return strings.get(o);
  };
  while (off + BTF_TYPE_SIZE <= end) {
    const id = startId + types.length;
    const nameOff = view.getUint32(off, le);
    const info = view.getUint32(off + 4, le);
    const sizeOrType = view.getUint32(off + 8, le);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kflag = (info >>> 31) === 1;
    const what = (): string => `BTF type [${id}] ${BTF_KIND_NAMES[kind] ?? `kind ${kind}`}`;
    const name = str(nameOff, what);
    let rest = 0;
    switch (kind) {
      case BTF_KIND_INT: rest = 4; break;
      case BTF_KIND_ARRAY: rest = 12; break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION: rest = vlen * 12; break;
      case BTF_KIND_ENUM: rest = vlen * 8; break;
      case BTF_KIND_ENUM64: rest = vlen * 12; break;
      case BTF_KIND_FUNC_PROTO: rest = vlen * 8; break;
      case BTF_KIND_VAR: rest = 4; break;
      case BTF_KIND_DATASEC: rest = vlen * 12; break;
      case BTF_KIND_DECL_TAG: rest = 4; break;
      case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG:
        rest = 0;
        break;
      default:
        throw new BtfError(`BTF type [${id}] has unsupported kind ${kind}`);
    }
    const body = off + BTF_TYPE_SIZE;
    if (body + rest > end) throw new BtfError(`${what()} is truncated: needs ${BTF_TYPE_SIZE + rest} bytes at offset ${off}, type section is ${end}`);
    let t: BtfType;
    switch (kind) {
      case BTF_KIND_INT: {
        const v = view.getUint32(body, le);
        t = { id, name, kind: "int", size: sizeOrType, encoding: (v >>> 24) & 0x0f, bitsOffset: (v >>> 16) & 0xff, bits: v & 0xff };
        break;
      }
      case BTF_KIND_PTR: t = { id, name, kind: "ptr", type: sizeOrType }; break;
      case BTF_KIND_ARRAY:
        t = { id, name, kind: "array", type: view.getUint32(body, le), indexType: view.getUint32(body + 4, le), nelems: view.getUint32(body + 8, le) };
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        const members: BtfMember[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = body + i * 12;
          const raw = view.getUint32(m + 8, le);
          members[i] = {
            name: str(view.getUint32(m, le), () => `${what()} member ${i}`),
            type: view.getUint32(m + 4, le),
            bitOffset: kflag ? raw & 0xffffff : raw,
            bitfieldSize: kflag ? raw >>> 24 : 0,
          };
        }
        t = kind === BTF_KIND_STRUCT
          ? { id, name, kind: "struct", size: sizeOrType, kindFlag: kflag, members }
          : { id, name, kind: "union", size: sizeOrType, kindFlag: kflag, members };
        break;
      }
      case BTF_KIND_ENUM: {
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = body + i * 8;
          values[i] = {
            name: str(view.getUint32(e, le), () => `${what()} value ${i}`),
            value: kflag ? view.getInt32(e + 4, le) : view.getUint32(e + 4, le),
          };
        }
        t = { id, name, kind: "enum", size: sizeOrType, signed: kflag, values };
        break;
      }
      case BTF_KIND_ENUM64: {
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = body + i * 12;
          const lo = BigInt(view.getUint32(e + 4, le));
          const hi = BigInt(view.getUint32(e + 8, le));
          const u = (hi << 32n) | lo;
          values[i] = { name: str(view.getUint32(e, le), () => `${what()} value ${i}`), value: kflag ? BigInt.asIntN(64, u) : u };
        }
        t = { id, name, kind: "enum64", size: sizeOrType, signed: kflag, values };
        break;
      }
      case BTF_KIND_FWD: t = { id, name, kind: "fwd", union: kflag }; break;
      case BTF_KIND_TYPEDEF: t = { id, name, kind: "typedef", type: sizeOrType }; break;
      case BTF_KIND_VOLATILE: t = { id, name, kind: "volatile", type: sizeOrType }; break;
      case BTF_KIND_CONST: t = { id, name, kind: "const", type: sizeOrType }; break;
      case BTF_KIND_RESTRICT: t = { id, name, kind: "restrict", type: sizeOrType }; break;
      case BTF_KIND_FUNC: t = { id, name, kind: "func", type: sizeOrType, linkage: vlen }; break;
      case BTF_KIND_FUNC_PROTO: {
        const params = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const p = body + i * 8;
          params[i] = { name: str(view.getUint32(p, le), () => `${what()} param ${i}`), type: view.getUint32(p + 4, le) };
        }
        t = { id, name, kind: "func_proto", returnType: sizeOrType, params };
        break;
      }
      case BTF_KIND_VAR: t = { id, name, kind: "var", type: sizeOrType, linkage: view.getUint32(body, le) }; break;
      case BTF_KIND_DATASEC: {
        const vars = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const v = body + i * 12;
          vars[i] = { type: view.getUint32(v, le), offset: view.getUint32(v + 4, le), size: view.getUint32(v + 8, le) };
        }
        t = { id, name, kind: "datasec", size: sizeOrType, vars };
        break;
      }
      case BTF_KIND_FLOAT: t = { id, name, kind: "float", size: sizeOrType }; break;
      case BTF_KIND_DECL_TAG:
        t = { id, name, kind: "decl_tag", type: sizeOrType, componentIdx: view.getInt32(body, le), kindFlag: kflag };
        break;
      default: // BTF_KIND_TYPE_TAG
        t = { id, name, kind: "type_tag", type: sizeOrType, kindFlag: kflag };
        break;
    }
    types.push(t);
    off = body + rest;
  }
  if (off !== end) throw new BtfError(`BTF type section is malformed: ${end - off} trailing bytes after type [${startId + types.length - 1}]`);

  // Every reference must name a type that exists, so walks cannot leave the graph.
  const count = startId + types.length;
  const check = (t: BtfType, ref: number): void => {
    if (ref >= count) {
      throw new BtfError(`BTF type [${t.id}] ${BTF_KIND_NAMES[kindNumber(t.kind)]} refers to type [${ref}], which does not exist (${count - 1} types)`);
    }
  };
  for (const t of types) {
    switch (t.kind) {
      case "struct": case "union":
        for (const m of t.members) check(t, m.type);
        break;
      case "func_proto":
        check(t, t.returnType);
        for (const p of t.params) check(t, p.type);
        break;
      case "datasec":
        for (const v of t.vars) check(t, v.type);
        break;
      case "array":
        check(t, t.type);
        check(t, t.indexType);
        break;
      default:
        for (const ref of referencedTypes(t)) check(t, ref);
    }
  }
  return { header, types, strings };
}
