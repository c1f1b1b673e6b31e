/**
 * A small description language for the kernel's C structs: each field with its
 * offset, type and C designator. The designator is what test/linux/attr-offsets
 * passes to offsetof() when it checks every offset against the uapi header and
 * against the running kernel's own BTF, so a layout here cannot silently drift.
 *
 * Little-endian only: the backend is x86-64 (syscall.ts).
 */

export type Scalar = "u8" | "u16" | "u32" | "s32" | "u64" | "s64";
/** A scalar, or a fixed byte array such as char[16] (names) or u8[8] (tags). */
export type FieldType = Scalar | `char[${number}]` | `u8[${number}]`;

export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
  /** The C member designator for offsetof(), e.g. "test.data_in". */
  readonly c: string;
}

/** [offset, type] or [offset, type, C designator when it differs from the key]. */
export type FieldDef = readonly [number, FieldType] | readonly [number, FieldType, string];

/** A bit inside a flags word (C bitfields, which offsetof() cannot name). */
export interface BitDef {
  readonly word: string;
  readonly bit: number;
  readonly width?: number;
}

export type Value = number | bigint | string | Uint8Array;

function sizeOf(type: FieldType): number {
  switch (type) {
    case "u8": return 1;
    case "u16": return 2;
    case "u32": case "s32": return 4;
    case "u64": case "s64": return 8;
    default: return Number(/\[(\d+)\]/.exec(type)![1]);
  }
}

export class Struct<K extends string> {
  readonly fields: { readonly [P in K]: Field };
  /** offsetofend of the last field: the size to allocate and to pass to the kernel. */
  readonly size: number;

  constructor(
    /** The C type: "union bpf_attr", "struct bpf_prog_info". */
    readonly cType: string,
    /** What it is for, in error messages and test names. */
    readonly name: string,
    defs: { readonly [P in K]: FieldDef },
    /** C bitfields inside words of this struct, checked by the offsets test too. */
    readonly bits: Readonly<Record<string, BitDef>> = {},
  ) {
    const fields = {} as { [P in K]: Field };
    let end = 0;
    for (const key of Object.keys(defs) as K[]) {
      const [offset, type, c] = defs[key];
      const size = sizeOf(type);
      fields[key] = { name: key, offset, size, type, c: c ?? key };
      end = Math.max(end, offset + size);
    }
    this.fields = fields;
    this.size = end;
  }

  /** A zeroed buffer for this struct (the kernel requires unused bytes to be zero). */
  alloc(size = this.size): Buffer {
    return Buffer.alloc(size);
  }

  /** Allocates and fills the named fields; the rest stay zero. */
  encode(values: Partial<Record<K, Value>>, size = this.size): Buffer {
    const buf = Buffer.alloc(size);
    for (const key of Object.keys(values) as K[]) {
      const v = values[key];
      if (v !== undefined) put(buf, this.fields[key], v);
    }
    return buf;
  }

  set(buf: Buffer, key: K, value: Value): void {
    put(buf, this.fields[key], value);
  }

  /** A 64-bit field as bigint, anything narrower as number. */
  get(buf: Buffer, key: K): number | bigint {
    return get(buf, this.fields[key]);
  }

  /** A field as a number (64-bit fields converted; callers use this for sizes and counts). */
  num(buf: Buffer, key: K): number {
    return Number(get(buf, this.fields[key]));
  }

  u64(buf: Buffer, key: K): bigint {
    return BigInt(get(buf, this.fields[key]));
  }

  /** A char[N] field up to its first NUL. */
  str(buf: Buffer, key: K): string {
    const f = this.fields[key];
    const bytes = buf.subarray(f.offset, f.offset + f.size);
    const nul = bytes.indexOf(0);
    return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString("utf8");
  }

  bytes(buf: Buffer, key: K): Uint8Array {
    const f = this.fields[key];
    return Uint8Array.prototype.slice.call(buf, f.offset, f.offset + f.size);
  }

  /** Bit `name` of this struct's bitfields. */
  bit(buf: Buffer, name: string): number {
    const b = this.bits[name];
    const w = (this.fields as Record<string, Field>)[b.word];
    const word = BigInt(get(buf, w));
    return Number((word >> BigInt(b.bit)) & ((1n << BigInt(b.width ?? 1)) - 1n));
  }
}

export function put(buf: Buffer, f: Field, v: Value): void {
  if (buf.length < f.offset + f.size) throw new RangeError(`${f.name}: buffer of ${buf.length} bytes is too short`);
  switch (f.type) {
    case "u8": buf.writeUInt8(Number(v), f.offset); return;
    case "u16": buf.writeUInt16LE(Number(v), f.offset); return;
    case "u32": buf.writeUInt32LE(Number(v) >>> 0, f.offset); return;
    case "s32": buf.writeInt32LE(Number(v) | 0, f.offset); return;
    case "u64": buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as number | bigint)), f.offset); return;
    case "s64": buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(v as number | bigint)), f.offset); return;
    default: {
      const bytes = typeof v === "string" ? Buffer.from(v, "utf8") : v instanceof Uint8Array ? v : null;
      if (!bytes) throw new TypeError(`${f.name}: ${f.type} takes a string or bytes`);
      // Names are NUL-terminated inside their array: at most size-1 bytes of text.
      const max = f.type.startsWith("char") ? f.size - 1 : f.size;
      buf.fill(0, f.offset, f.offset + f.size);
      buf.set(bytes.subarray(0, max), f.offset);
    }
  }
}

export function get(buf: Buffer, f: Field): number | bigint {
  switch (f.type) {
    case "u8": return buf.readUInt8(f.offset);
    case "u16": return buf.readUInt16LE(f.offset);
    case "u32": return buf.readUInt32LE(f.offset);
    case "s32": return buf.readInt32LE(f.offset);
    case "u64": return buf.readBigUInt64LE(f.offset);
    case "s64": return buf.readBigInt64LE(f.offset);
    default: throw new TypeError(`${f.name}: ${f.type} is not a scalar`);
  }
}
