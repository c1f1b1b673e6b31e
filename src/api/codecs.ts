/**
 * Standard codecs between JavaScript values and the bytes a map stores, shared
 * by both backends: fixed-size integers (64-bit ones as bigint), floats, byte
 * arrays, NUL-padded strings, arrays, C structs laid out from a field list
 * (natural alignment and padding, as clang lays them out for -target bpf), and
 * a codec derived from a BTF type. Pure: no Node built-ins, so it runs anywhere.
 *
 * Byte order: BPF maps hold values in the target's order, little-endian on
 * every machine tsbpf runs programs for; the `be` codecs are for fields a
 * program keeps in network order (ports, addresses).
 */
import type { Btf } from "../btf/btf.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED } from "../btf/kinds.js";
import { BtfError } from "../errors.js";
import type { Codec } from "./types.js";

/** A codec that knows its C alignment (struct layout needs it). */
export interface AlignedCodec<T> extends Codec<T> {
  readonly align: number;
}

/** The value type a codec produces. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function checkLength(what: string, bytes: Uint8Array, size: number): void {
  if (bytes.length < size) throw new RangeError(`${what}: need ${size} bytes, got ${bytes.length}`);
}

function numberCodec(
  name: string, size: number, get: (v: DataView) => number, set: (v: DataView, x: number) => void, check: (x: number) => boolean,
): AlignedCodec<number> {
  return {
    size,
    align: size,
    encode(value) {
      if (!check(value)) throw new RangeError(`${name}: ${value} is out of range`);
      const out = new Uint8Array(size);
      set(view(out), value);
      return out;
    },
    decode(bytes) {
      checkLength(name, bytes, size);
      return get(view(bytes));
    },
  };
}

const intIn = (lo: number, hi: number) => (x: number): boolean => Number.isInteger(x) && x >= lo && x <= hi;

export const u8 = numberCodec("u8", 1, (v) => v.getUint8(0), (v, x) => v.setUint8(0, x), intIn(0, 0xff));
export const i8 = numberCodec("i8", 1, (v) => v.getInt8(0), (v, x) => v.setInt8(0, x), intIn(-0x80, 0x7f));
export const u16 = numberCodec("u16", 2, (v) => v.getUint16(0, true), (v, x) => v.setUint16(0, x, true), intIn(0, 0xffff));
export const i16 = numberCodec("i16", 2, (v) => v.getInt16(0, true), (v, x) => v.setInt16(0, x, true), intIn(-0x8000, 0x7fff));
export const u32 = numberCodec("u32", 4, (v) => v.getUint32(0, true), (v, x) => v.setUint32(0, x, true), intIn(0, 0xffff_ffff));
export const i32 = numberCodec("i32", 4, (v) => v.getInt32(0, true), (v, x) => v.setInt32(0, x, true), intIn(-0x8000_0000, 0x7fff_ffff));
/** Network byte order (bpf_htons / bpf_ntohs fields). */
export const u16be = numberCodec("u16be", 2, (v) => v.getUint16(0, false), (v, x) => v.setUint16(0, x, false), intIn(0, 0xffff));
/** Network byte order (IPv4 addresses as a program reads them from a packet). */
export const u32be = numberCodec("u32be", 4, (v) => v.getUint32(0, false), (v, x) => v.setUint32(0, x, false), intIn(0, 0xffff_ffff));
export const f32 = numberCodec("f32", 4, (v) => v.getFloat32(0, true), (v, x) => v.setFloat32(0, x, true), (x) => typeof x === "number");
export const f64 = numberCodec("f64", 8, (v) => v.getFloat64(0, true), (v, x) => v.setFloat64(0, x, true), (x) => typeof x === "number");

function bigCodec(name: string, signed: boolean): AlignedCodec<bigint> {
  return {
    size: 8,
    align: 8,
    encode(value) {
      const ok = signed ? BigInt.asIntN(64, value) === value : BigInt.asUintN(64, value) === value;
      if (!ok) throw new RangeError(`${name}: ${value} is out of range`);
      const out = new Uint8Array(8);
      view(out).setBigUint64(0, BigInt.asUintN(64, value), true);
      return out;
    },
    decode(bytes) {
      checkLength(name, bytes, 8);
      return signed ? view(bytes).getBigInt64(0, true) : view(bytes).getBigUint64(0, true);
    },
  };
}

/** __u64, as bigint (64-bit values cross public APIs as bigint). */
export const u64 = bigCodec("u64", false);
export const i64 = bigCodec("i64", true);

/** A one-byte C bool (_Bool). */
export const bool: AlignedCodec<boolean> = {
  size: 1,
  align: 1,
  encode: (value) => Uint8Array.of(value ? 1 : 0),
  decode(bytes) {
    checkLength("bool", bytes, 1);
    return bytes[0] !== 0;
  },
};

/** Raw bytes of a fixed size; encode zero-pads shorter input. */
export function bytes(size: number): AlignedCodec<Uint8Array> {
  return {
    size,
    align: 1,
    encode(value) {
      if (value.length > size) throw new RangeError(`bytes(${size}): ${value.length} bytes do not fit`);
      const out = new Uint8Array(size);
      out.set(value);
      return out;
    },
    decode(b) {
      checkLength(`bytes(${size})`, b, size);
      return b.slice(0, size);
    },
  };
}

/** A char[size] holding a NUL-terminated UTF-8 string (comm, filenames); encode keeps room for the NUL. */
export function cstring(size: number): AlignedCodec<string> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    size,
    align: 1,
    encode(value) {
      const s = enc.encode(value);
      if (s.length >= size) throw new RangeError(`cstring(${size}): '${value}' needs ${s.length + 1} bytes`);
      const out = new Uint8Array(size);
      out.set(s);
      return out;
    },
    decode(b) {
      checkLength(`cstring(${size})`, b, size);
      const end = b.subarray(0, size).indexOf(0);
      return dec.decode(b.subarray(0, end < 0 ? size : end));
    },
  };
}

/** The alignment of a codec: its own, else natural for power-of-two sizes up to 8, else 1. */
export function alignOf(c: Codec<unknown>): number {
  const a = (c as Partial<AlignedCodec<unknown>>).align;
  if (a !== undefined) return a;
  return c.size > 0 && c.size <= 8 && (c.size & (c.size - 1)) === 0 ? c.size : 1;
}

/** T[n], elements back to back (C arrays have no padding between elements). */
export function array<T>(elem: Codec<T>, n: number): AlignedCodec<T[]> {
  return {
    size: elem.size * n,
    align: alignOf(elem),
    encode(values) {
      if (values.length > n) throw new RangeError(`array(${n}): ${values.length} elements do not fit`);
      const out = new Uint8Array(elem.size * n);
      values.forEach((v, i) => out.set(elem.encode(v), i * elem.size));
      return out;
    },
    decode(b) {
      checkLength(`array(${n})`, b, elem.size * n);
      return Array.from({ length: n }, (_, i) => elem.decode(b.subarray(i * elem.size, (i + 1) * elem.size)));
    },
  };
}

export type StructFields = Readonly<Record<string, Codec<unknown>>>;
export type StructValue<F extends StructFields> = { [K in keyof F]: CodecValue<F[K]> };

/**
 * A C struct from its fields in declaration order: each field at the next
 * offset aligned to its alignment, the size rounded up to the largest
 * alignment (C's rules; `packed` drops the padding, like __attribute__((packed))).
 * Missing fields encode as zeros.
 */
export function struct<F extends StructFields>(fields: F, opts: { packed?: boolean } = {}): AlignedCodec<StructValue<F>> & {
  readonly offsets: Readonly<Record<keyof F, number>>;
} {
  let off = 0;
  let maxAlign = 1;
  const layout: Array<[keyof F & string, Codec<unknown>, number]> = [];
  for (const [name, c] of Object.entries(fields)) {
    const a = opts.packed ? 1 : alignOf(c);
    maxAlign = Math.max(maxAlign, a);
    off = Math.ceil(off / a) * a;
    layout.push([name, c, off]);
    off += c.size;
  }
  const size = Math.ceil(off / maxAlign) * maxAlign;
  const offsets = Object.fromEntries(layout.map(([n, , o]) => [n, o])) as Record<keyof F, number>;
  return {
    size,
    align: maxAlign,
    offsets,
    encode(value) {
      const out = new Uint8Array(size);
      for (const [name, c, o] of layout) {
        const v = (value as Record<string, unknown>)[name];
        if (v !== undefined) out.set(c.encode(v), o);
      }
      return out;
    },
    decode(b) {
      checkLength("struct", b, size);
      const out: Record<string, unknown> = {};
      for (const [name, c, o] of layout) out[name] = c.decode(b.subarray(o, o + c.size));
      return out as StructValue<F>;
    },
  };
}

/** What a BTF-derived codec produces: numbers for ints up to 32 bits, bigint for 64-bit ones and pointers. */
export type BtfValue = number | bigint | boolean | string | Uint8Array | BtfValue[] | { [member: string]: BtfValue };

/**
 * A codec for BTF type `typeId` (struct, union, int, enum, pointer, array,
 * float, typedef and qualifiers): structs become objects by member name
 * (anonymous members' fields flattened into the parent, as C accesses them),
 * bitfields are read and written by their bits, char arrays are strings.
 * Unions decode every member over the same bytes and encode the first member
 * the value names.
 */
export function btfCodec(btf: Btf, typeId: number): Codec<BtfValue> {
  const size = btf.sizeof(typeId);
  return {
    size,
    encode(value) {
      const out = new Uint8Array(size);
      encodeAt(btf, typeId, value, out, 0, 0);
      return out;
    },
    decode(b) {
      checkLength(`BTF ${btf.describe(typeId)}`, b, size);
      return decodeAt(btf, typeId, b, 0);
    },
  };
}

function isCharInt(btf: Btf, id: number): boolean {
  const t = btf.skipModsAndTypedefs(id);
  return t.kind === "int" && t.size === 1 && ((t.encoding & BTF_INT_CHAR) !== 0 || t.name === "char" || t.name === "signed char" || t.name === "unsigned char");
}

function readUint(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

function writeUint(b: Uint8Array, off: number, size: number, v: bigint): void {
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    b[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Bits [bitOffset, bitOffset + width) of the struct at `off` (little-endian bit numbering). */
function readBits(b: Uint8Array, off: number, bitOffset: number, width: number): bigint {
  const first = Math.floor(bitOffset / 8);
  const n = Math.ceil((bitOffset + width) / 8) - first;
  return BigInt.asUintN(width, readUint(b, off + first, n) >> BigInt(bitOffset % 8));
}

function writeBits(b: Uint8Array, off: number, bitOffset: number, width: number, v: bigint): void {
  const first = Math.floor(bitOffset / 8);
  const n = Math.ceil((bitOffset + width) / 8) - first;
  const shift = BigInt(bitOffset % 8);
  const mask = ((1n << BigInt(width)) - 1n) << shift;
  const word = readUint(b, off + first, n);
  writeUint(b, off + first, n, (word & ~mask) | ((BigInt.asUintN(width, v) << shift) & mask));
}

/** A number when it fits (ints up to 32 bits), else bigint. */
function intValue(v: bigint, size: number, signed: boolean): number | bigint {
  const s = signed ? BigInt.asIntN(size * 8, v) : BigInt.asUintN(size * 8, v);
  return size <= 4 ? Number(s) : s;
}

function toBig(value: BtfValue, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "boolean") return value ? 1n : 0n;
  throw new BtfError(`${what}: expected an integer, got ${typeof value}`);
}

function decodeAt(btf: Btf, id: number, b: Uint8Array, off: number): BtfValue {
  const t = btf.skipModsAndTypedefs(id);
  switch (t.kind) {
    case "int": {
      const v = readUint(b, off, t.size);
      if (t.encoding & BTF_INT_BOOL) return v !== 0n;
      return intValue(v, t.size, (t.encoding & BTF_INT_SIGNED) !== 0);
    }
    case "enum": case "enum64":
      return intValue(readUint(b, off, t.size), t.size, t.signed);
    case "ptr":
      return readUint(b, off, btf.pointerSize);
    case "float": {
      const v = new DataView(b.buffer, b.byteOffset + off, t.size);
      if (t.size === 4) return v.getFloat32(0, true);
      if (t.size === 8) return v.getFloat64(0, true);
      return b.slice(off, off + t.size);
    }
    case "array": {
      const esz = btf.sizeof(t.type);
      if (isCharInt(btf, t.type)) {
        const raw = b.subarray(off, off + t.nelems);
        const end = raw.indexOf(0);
        return new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end));
      }
      return Array.from({ length: t.nelems }, (_, i) => decodeAt(btf, t.type, b, off + i * esz));
    }
    case "struct": case "union": {
      const out: { [member: string]: BtfValue } = {};
      for (const m of t.members) {
        const mo = off + Math.floor(m.bitOffset / 8);
        let v: BtfValue;
        if (m.bitfieldSize) {
          const mt = btf.skipModsAndTypedefs(m.type);
          const signed = (mt.kind === "int" && (mt.encoding & BTF_INT_SIGNED) !== 0) || ((mt.kind === "enum" || mt.kind === "enum64") && mt.signed);
          const raw = readBits(b, off, m.bitOffset, m.bitfieldSize);
          const val = signed ? BigInt.asIntN(m.bitfieldSize, raw) : raw;
          v = m.bitfieldSize <= 32 ? Number(val) : val;
        } else {
          v = decodeAt(btf, m.type, b, mo);
        }
        if (m.name) out[m.name] = v;
        else if (typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) Object.assign(out, v);
      }
      return out;
    }
    default:
      throw new BtfError(`BTF codec: cannot decode ${btf.describe(t.id)}`);
  }
}

function encodeAt(btf: Btf, id: number, value: BtfValue, b: Uint8Array, off: number, depth: number): void {
  if (depth > 64) throw new BtfError("BTF codec: type nests too deep");
  const t = btf.skipModsAndTypedefs(id);
  const what = btf.describe(t.id);
  switch (t.kind) {
    case "int": case "enum": case "enum64":
      writeUint(b, off, t.size, toBig(value, what));
      return;
    case "ptr":
      writeUint(b, off, btf.pointerSize, toBig(value, what));
      return;
    case "float": {
      if (typeof value !== "number") throw new BtfError(`${what}: expected a number`);
      const v = new DataView(b.buffer, b.byteOffset + off, t.size);
      if (t.size === 4) v.setFloat32(0, value, true);
      else if (t.size === 8) v.setFloat64(0, value, true);
      else throw new BtfError(`${what}: ${t.size}-byte floats are not supported`);
      return;
    }
    case "array": {
      const esz = btf.sizeof(t.type);
      if (typeof value === "string" && isCharInt(btf, t.type)) {
        const s = new TextEncoder().encode(value);
        if (s.length > t.nelems) throw new BtfError(`${what}: '${value}' does not fit ${t.nelems} bytes`);
        b.set(s, off);
        return;
      }
      if (value instanceof Uint8Array) {
        if (value.length > t.nelems * esz) throw new BtfError(`${what}: ${value.length} bytes do not fit`);
        b.set(value, off);
        return;
      }
      if (!Array.isArray(value)) throw new BtfError(`${what}: expected an array`);
      if (value.length > t.nelems) throw new BtfError(`${what}: ${value.length} elements do not fit ${t.nelems}`);
      value.forEach((v, i) => encodeAt(btf, t.type, v, b, off + i * esz, depth + 1));
      return;
    }
    case "struct": case "union": {
      if (typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) throw new BtfError(`${what}: expected an object`);
      const obj = value as { [member: string]: BtfValue };
      for (const m of t.members) {
        const mo = off + Math.floor(m.bitOffset / 8);
        if (!m.name) {
          // An anonymous member: its fields live in the parent object.
          encodeAt(btf, m.type, obj, b, mo, depth + 1);
        } else if (m.name in obj) {
          if (m.bitfieldSize) {
            writeBits(b, off, m.bitOffset, m.bitfieldSize, toBig(obj[m.name], `${what}.${m.name}`));
          } else {
            encodeAt(btf, m.type, obj[m.name], b, mo, depth + 1);
          }
          // A union stores one member.
          if (t.kind === "union") return;
        }
      }
      return;
    }
    default:
      throw new BtfError(`BTF codec: cannot encode ${what}`);
  }
}
