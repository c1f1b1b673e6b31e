/**
 * The BTF string section: NUL-terminated strings addressed by byte offset,
 * offset 0 being "" (Documentation/bpf/btf.rst, "String Encoding"). A split
 * BTF's offsets continue after its base's string section.
 */
import { BtfError } from "../errors.js";

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");

export class StringTable {
  /** The whole table as one JS string when it is pure ASCII (then byte offset == char index). */
  private readonly ascii: string | undefined;
  /** Offsets this table's own strings start at (the base table's length for split BTF). */
  readonly start: number;

  constructor(
    /** This table's own bytes. */
    readonly bytes: Uint8Array,
    readonly base?: StringTable,
  ) {
    this.start = base ? base.start + base.bytes.length : 0;
    let isAscii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] >= 0x80) {
        isAscii = false;
        break;
      }
    }
    this.ascii = isAscii ? latin1.decode(bytes) : undefined;
  }

  /** One past the largest offset this table (with its base) can resolve. */
  get end(): number {
    return this.start + this.bytes.length;
  }

  has(off: number): boolean {
    return off >= 0 && off < this.end;
  }

  /** The string at `off`; throws BtfError when `off` is outside the table. */
  get(off: number): string {
    if (off < this.start) {
      if (this.base) return this.base.get(off);
      throw new BtfError(`string offset ${off} is out of range`);
    }
    const local = off - this.start;
    if (local >= this.bytes.length) {
      throw new BtfError(`string offset ${off} is past the end of the string section (${this.end} bytes)`);
    }
    if (this.ascii !== undefined) {
      const end = this.ascii.indexOf("\0", local);
      // The section is NUL-terminated (checked at parse time), so end >= 0.
      return this.ascii.slice(local, end < 0 ? undefined : end);
    }
    const end = this.bytes.indexOf(0, local);
    return utf8.decode(this.bytes.subarray(local, end < 0 ? undefined : end));
  }
}

const encoder = new TextEncoder();

/**
 * Builds a string section, deduplicating. Seeded with an existing table, every
 * offset in that table stays valid (so .BTF.ext records and line info that
 * point into it keep working) and new strings are appended.
 */
export class StringTableBuilder {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  private readonly offsets = new Map<string, number>();

  constructor(seed?: StringTable, private readonly base?: StringTable) {
    if (seed) {
      this.chunks.push(seed.bytes);
      this.length = seed.bytes.length;
      // Index the seed so names already present reuse their offsets.
      let i = 0;
      const b = seed.bytes;
      while (i < b.length) {
        const end = b.indexOf(0, i);
        if (end < 0) break;
        const s = utf8.decode(b.subarray(i, end));
        if (!this.offsets.has(s)) this.offsets.set(s, i + seed.start);
        i = end + 1;
      }
    } else if (!base) {
      this.chunks.push(new Uint8Array(1));
      this.length = 1;
      this.offsets.set("", 0);
    }
    if (base && !this.offsets.has("")) this.offsets.set("", 0);
  }

  /** Offset of `s`, adding it when new. */
  add(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    if (this.base) {
      // Split BTF may point into its base's strings.
      const inBase = this.findInBase(s);
      if (inBase !== undefined) return inBase;
    }
    const bytes = encoder.encode(s);
    if (bytes.includes(0)) throw new BtfError(`string ${JSON.stringify(s)} contains a NUL byte`);
    const off = this.length + (this.base ? this.base.end : 0);
    const chunk = new Uint8Array(bytes.length + 1);
    chunk.set(bytes);
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.offsets.set(s, off);
    return off;
  }

  private baseIndex: Map<string, number> | undefined;
  private findInBase(s: string): number | undefined {
    if (!this.base) return undefined;
    if (!this.baseIndex) {
      this.baseIndex = new Map();
      let t: StringTable | undefined = this.base;
      const tables: StringTable[] = [];
      while (t) {
        tables.unshift(t);
        t = t.base;
      }
      for (const table of tables) {
        const b = table.bytes;
        let i = 0;
        while (i < b.length) {
          const end = b.indexOf(0, i);
          if (end < 0) break;
          const str = utf8.decode(b.subarray(i, end));
          if (!this.baseIndex.has(str)) this.baseIndex.set(str, i + table.start);
          i = end + 1;
        }
      }
    }
    return this.baseIndex.get(s);
  }

  /** The section bytes. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
