/**
 * Map keys and values as bpftool's btf_dumper prints them (tools/bpf/bpftool/
 * btf_dumper.c): integers by encoding and width (64-bit exact), chars as "c",
 * bools, enums by enumerator name, char arrays holding a C string as strings,
 * structs/unions as objects, DATASECs as {"section": [{var: value}...]},
 * pointers as numbers (JSON) or "0x..." strings (plain text), bitfields and
 * 128-bit integers as hex.
 */
import type { Btf } from "../../btf/btf.js";
import type { JsonWriter } from "../../btf/json-writer.js";
import type { BtfType } from "../../btf/types.js";

/** BTF_INT_* encodings. include/uapi/linux/btf.h. */
const BTF_INT_SIGNED = 1;
const BTF_INT_CHAR = 2;
const BTF_INT_BOOL = 4;

export function writeBtfValue(w: JsonWriter, btf: Btf, typeId: number, data: Uint8Array, plainText: boolean): void {
  new Dumper(w, btf, plainText).type(typeId, 0, data, 0);
}

class Dumper {
  constructor(
    private readonly w: JsonWriter,
    private readonly btf: Btf,
    private readonly plain: boolean,
  ) {}

  type(id: number, bitOffset: number, data: Uint8Array, at: number, depth = 0): void {
    if (depth > 32) throw new RangeError("BTF type nesting too deep to dump");
    const t: BtfType = this.btf.type(id);
    switch (t.kind) {
      case "int":
        return this.int(t.bits, t.bitsOffset, t.encoding, bitOffset, data, at);
      case "struct":
      case "union": {
        this.w.startObject();
        for (const m of t.members) {
          this.w.name(m.name);
          const off = at + (m.bitOffset >> 3);
          if (m.bitfieldSize) this.bitfield(m.bitfieldSize, m.bitOffset & 7, data, off);
          else this.type(m.type, m.bitOffset & 7, data, off, depth + 1);
        }
        this.w.endObject();
        return;
      }
      case "array": {
        const str = this.stringArray(t.type, t.nelems, data, at);
        if (str !== undefined) {
          this.w.string(str);
          return;
        }
        const size = this.btf.sizeof(t.type);
        this.w.startArray();
        for (let i = 0; i < t.nelems; i++) this.type(t.type, 0, data, at + i * size, depth + 1);
        this.w.endArray();
        return;
      }
      case "enum": {
        const v = signedAt(data, at, t.size);
        const e = t.values.find((x) => BigInt(x.value) === v);
        if (e) this.w.string(e.name);
        else this.w.number(v);
        return;
      }
      case "enum64": {
        const v = BigInt.asUintN(64, signedAt(data, at, 8));
        const e = t.values.find((x) => BigInt.asUintN(64, BigInt(x.value)) === v);
        if (e) this.w.string(e.name);
        else this.w.number(BigInt.asIntN(64, v));
        return;
      }
      case "ptr": {
        const v = unsignedAt(data, at, this.btf.pointerSize);
        if (this.plain) this.w.raw(`"${v === 0n ? "(nil)" : "0x" + v.toString(16)}"`);
        else this.w.number(v);
        return;
      }
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        return this.type(t.type, bitOffset, data, at, depth + 1);
      case "var":
        this.w.startObject();
        this.w.name(t.name);
        this.type(t.type, bitOffset, data, at, depth + 1);
        this.w.endObject();
        return;
      case "datasec":
        this.w.startObject();
        this.w.name(t.name);
        this.w.startArray();
        for (const v of t.vars) this.type(v.type, 0, data, at + v.offset, depth + 1);
        this.w.endArray();
        this.w.endObject();
        return;
      case "void":
        this.w.raw("(unknown)");
        return;
      case "fwd":
        this.w.raw("(fwd-kind-invalid)");
        return;
      default:
        this.w.raw("(unsupported-kind)");
    }
  }

  private int(bits: number, intOffset: number, encoding: number, bitOffset: number, data: Uint8Array, at: number): void {
    if (bitOffset || intOffset || bits % 8) {
      const total = bitOffset + intOffset;
      this.bitfield(bits, total & 7, data, at + (total >> 3));
      return;
    }
    if (bits === 128) {
      this.hex128(unsignedAt(data, at + 8, 8), unsignedAt(data, at, 8));
      return;
    }
    const bytes = bits / 8;
    if (encoding === BTF_INT_BOOL) this.w.bool(data[at] !== 0);
    else if (encoding === BTF_INT_CHAR) {
      const c = data[at];
      if (c >= 0x20 && c < 0x7f) this.w.raw(`"${String.fromCharCode(c)}"`);
      else if (this.plain) this.w.raw(`0x${c.toString(16)}`);
      else this.w.raw(`"\\u00${c.toString(16).padStart(2, "0")}"`);
    } else if (encoding === BTF_INT_SIGNED) this.w.number(signedAt(data, at, bytes));
    else if (bytes <= 8) this.w.number(unsignedAt(data, at, bytes));
    else this.bitfield(bits, 0, data, at);
  }

  /** btf_dumper_bitfield: the bits as a 128-bit number, printed in hex. */
  private bitfield(nrBits: number, bitOffset: number, data: Uint8Array, at: number): void {
    const nbytes = Math.ceil((bitOffset + nrBits) / 8);
    let v = 0n;
    for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i] ?? 0);
    v = (v >> BigInt(bitOffset)) & ((1n << BigInt(nrBits)) - 1n);
    this.hex128(v >> 64n, v & 0xffffffffffffffffn);
  }

  private hex128(upper: bigint, lower: bigint): void {
    const text = upper === 0n ? `0x${lower.toString(16)}` : `0x${upper.toString(16)}${lower.toString(16).padStart(16, "0")}`;
    this.w.raw(this.plain ? text : `"${text}"`);
  }

  /** is_str_array: a char array holding a NUL-terminated printable string. */
  private stringArray(elemId: number, n: number, data: Uint8Array, at: number): string | undefined {
    if (n === 0) return undefined;
    let e = this.btf.type(elemId);
    while (e.kind === "const" || e.kind === "volatile" || e.kind === "restrict" || e.kind === "type_tag") e = this.btf.type(e.type);
    if (e.kind !== "int" || e.size !== 1) return undefined;
    if (e.encoding !== BTF_INT_CHAR && e.name !== "char") return undefined;
    for (let i = 0; i < n; i++) {
      const c = data[at + i];
      if (c === 0) return String.fromCharCode(...data.subarray(at, at + i));
      if (c <= 0x1f || c >= 0x7f) return undefined;
    }
    return undefined;
  }
}

function unsignedAt(data: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i] ?? 0);
  return v;
}

function signedAt(data: Uint8Array, at: number, size: number): bigint {
  return BigInt.asIntN(size * 8, unsignedAt(data, at, size));
}
