/**
 * A small WebAssembly binary writer: exactly what the JIT emits, nothing more.
 * Encodings from the WebAssembly Core Specification 2.0, §5 (Binary Format), and
 * the threads proposal for the 0xFE atomic prefix. No BigInt: 64-bit constants
 * are (lo, hi) pairs of i32 words.
 */

/** Value types. Core spec §5.3.1. */
export const I32 = 0x7f;
export const I64 = 0x7e;
/** Only in helper import signatures: an integer within ±2^53 crosses from JavaScript as a double, never as a BigInt. */
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;

/** The empty block type. Core spec §5.4.1. */
export const BLOCK_VOID = 0x40;

/** Opcodes (one byte). Core spec §5.4. */
export const Op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, i32_load8_s: 0x2c, i32_load8_u: 0x2d, i32_load16_s: 0x2e, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33, i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, i32_store8: 0x3a, i32_store16: 0x3b, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70,
  i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82,
  i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
  /** The prefix of the non-trapping float-to-int conversions (Core spec 2.0, §5.4.5). */
  misc_prefix: 0xfc,
  /** The atomic-instruction prefix (threads proposal). */
  atomic_prefix: 0xfe,
} as const;

/** Second bytes after 0xFC. Core spec 2.0, §5.4.5 (saturating truncation). */
export const MiscOp = {
  i64_trunc_sat_f64_s: 0x06,
} as const;

/**
 * Second bytes after 0xFE. Threads proposal, "Binary format": loads 0x10-0x16,
 * stores 0x17-0x1d, then per read-modify-write operation a run of seven opcodes
 * starting at the i32 form (i32, i64, i32 8_u, i32 16_u, i64 8_u, i64 16_u, i64 32_u).
 */
export const AtomicOp = {
  i64_load: 0x11, i64_load8_u: 0x14, i64_load16_u: 0x15, i64_load32_u: 0x16,
  i64_store: 0x18, i64_store8: 0x1b, i64_store16: 0x1c, i64_store32: 0x1d,
  rmw_add: 0x1e, rmw_sub: 0x25, rmw_and: 0x2c, rmw_or: 0x33, rmw_xor: 0x3a, rmw_xchg: 0x41, rmw_cmpxchg: 0x48,
} as const;
/** Offset from an rmw base to its i64 (full width) form. */
export const RMW_I64 = 1;
/** Offset from an rmw base to its i64.rmw32 (zero-extending) form. */
export const RMW_I64_32U = 6;

/** A growable byte buffer with the LEB128 writers of Core spec §5.2.2. */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
  }

  bytes(bs: Uint8Array): void {
    this.reserve(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
  }

  /** Unsigned LEB128 of a u32. */
  u32(v: number): void {
    v >>>= 0;
    this.reserve(5);
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (v !== 0);
  }

  /** Signed LEB128 of an i32. */
  s32(v: number): void {
    v |= 0;
    this.reserve(5);
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.length++] = b;
        return;
      }
      this.buf[this.length++] = b | 0x80;
    }
  }

  /** Signed LEB128 of the i64 (hi:lo), without BigInt. */
  s64(lo: number, hi: number): void {
    lo |= 0;
    hi |= 0;
    this.reserve(10);
    for (;;) {
      const b = lo & 0x7f;
      // Arithmetic shift of the 64-bit pair right by 7.
      lo = (lo >>> 7) | (hi << 25);
      hi >>= 7;
      const done = (lo === 0 && hi === 0 && (b & 0x40) === 0) || (lo === -1 && hi === -1 && (b & 0x40) !== 0);
      if (done) {
        this.buf[this.length++] = b;
        return;
      }
      this.buf[this.length++] = b | 0x80;
    }
  }

  /** A name: length-prefixed UTF-8 (ASCII here). */
  name(s: string): void {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Natural alignment (log2 of bytes) of a memory access of `size` bytes. */
export const alignOf = (size: number): number => (size === 8 ? 3 : size === 4 ? 2 : size === 2 ? 1 : 0);

/** A function body under construction: the instruction stream of Core spec §5.4. */
export class FuncBody {
  readonly w = new ByteWriter(1024);

  op(o: number): this {
    this.w.byte(o);
    return this;
  }
  localGet(i: number): this {
    this.w.byte(Op.local_get);
    this.w.u32(i);
    return this;
  }
  localSet(i: number): this {
    this.w.byte(Op.local_set);
    this.w.u32(i);
    return this;
  }
  localTee(i: number): this {
    this.w.byte(Op.local_tee);
    this.w.u32(i);
    return this;
  }
  globalGet(i: number): this {
    this.w.byte(Op.global_get);
    this.w.u32(i);
    return this;
  }
  globalSet(i: number): this {
    this.w.byte(Op.global_set);
    this.w.u32(i);
    return this;
  }
  i32(v: number): this {
    this.w.byte(Op.i32_const);
    this.w.s32(v);
    return this;
  }
  i64(lo: number, hi: number = lo >> 31): this {
    this.w.byte(Op.i64_const);
    this.w.s64(lo, hi);
    return this;
  }
  /** A load or store with its memarg (alignment log2, unsigned offset). */
  mem(o: number, align: number, offset: number): this {
    this.w.byte(o);
    this.w.u32(align);
    this.w.u32(offset);
    return this;
  }
  /** A 0xFC-prefixed instruction without immediates. */
  misc(sub: number): this {
    this.w.byte(Op.misc_prefix);
    this.w.u32(sub);
    return this;
  }
  /** An atomic memory instruction (0xFE prefix); alignment must be natural. */
  atomic(sub: number, align: number, offset: number): this {
    this.w.byte(Op.atomic_prefix);
    this.w.u32(sub);
    this.w.u32(align);
    this.w.u32(offset);
    return this;
  }
  block(): this {
    this.w.byte(Op.block);
    this.w.byte(BLOCK_VOID);
    return this;
  }
  loop(): this {
    this.w.byte(Op.loop);
    this.w.byte(BLOCK_VOID);
    return this;
  }
  if(): this {
    this.w.byte(Op.if);
    this.w.byte(BLOCK_VOID);
    return this;
  }
  /** An `if` whose arms leave one value of type t. */
  ifResult(t: ValType): this {
    this.w.byte(Op.if);
    this.w.byte(t);
    return this;
  }
  else(): this {
    this.w.byte(Op.else);
    return this;
  }
  end(): this {
    this.w.byte(Op.end);
    return this;
  }
  br(depth: number): this {
    this.w.byte(Op.br);
    this.w.u32(depth);
    return this;
  }
  brIf(depth: number): this {
    this.w.byte(Op.br_if);
    this.w.u32(depth);
    return this;
  }
  brTable(depths: readonly number[], dflt: number): this {
    this.w.byte(Op.br_table);
    this.w.u32(depths.length);
    for (const d of depths) this.w.u32(d);
    this.w.u32(dflt);
    return this;
  }
  call(fn: number): this {
    this.w.byte(Op.call);
    this.w.u32(fn);
    return this;
  }
  get offset(): number {
    return this.w.length;
  }
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface ImportedFunc {
  readonly module: string;
  readonly name: string;
  readonly type: FuncType;
}

export interface ImportedGlobal {
  readonly module: string;
  readonly name: string;
  readonly type: ValType;
  readonly mutable: boolean;
}

export interface DefinedGlobal {
  readonly type: ValType;
  readonly mutable: boolean;
  /** Initial value (i32, or the low word of an i64 sign-extended). */
  readonly init: number;
}

export interface DefinedFunc {
  readonly type: FuncType;
  /** Types of the locals after the parameters. */
  readonly locals: readonly ValType[];
  readonly body: FuncBody;
  readonly name: string;
}

export interface Export {
  readonly name: string;
  readonly kind: "func" | "global";
  readonly index: number;
}

/** Where each function body landed in the module bytes (for mapping trap offsets back). */
export interface BodyPlacement {
  /** Module offset of the first instruction byte of the body's expression. */
  readonly codeStart: number;
}

const typeKey = (t: FuncType): string => `${t.params.join(",")}>${t.results.join(",")}`;

/**
 * Assembles a module: imported memory "env"."memory", imported functions and
 * globals, defined globals and functions, exports. Function indices: imports
 * first, then definitions in order (Core spec §2.5.1, index spaces).
 */
export class ModuleWriter {
  readonly importedFuncs: ImportedFunc[] = [];
  readonly importedGlobals: ImportedGlobal[] = [];
  readonly globals: DefinedGlobal[] = [];
  readonly funcs: DefinedFunc[] = [];
  readonly exports: Export[] = [];
  private readonly types: FuncType[] = [];
  private readonly typeIndex = new Map<string, number>();

  constructor(
    readonly memory: { readonly shared: boolean; readonly maxPages: number },
  ) {}

  private typeOf(t: FuncType): number {
    const k = typeKey(t);
    let i = this.typeIndex.get(k);
    if (i === undefined) {
      i = this.types.length;
      this.types.push(t);
      this.typeIndex.set(k, i);
    }
    return i;
  }

  /** Adds an imported function; returns its function index. Imports must precede definitions. */
  importFunc(module: string, name: string, type: FuncType): number {
    if (this.funcs.length > 0) throw new Error("imports must be added before functions");
    this.importedFuncs.push({ module, name, type });
    return this.importedFuncs.length - 1;
  }

  importGlobal(module: string, name: string, type: ValType, mutable = false): number {
    if (this.globals.length > 0) throw new Error("global imports must be added before globals");
    this.importedGlobals.push({ module, name, type, mutable });
    return this.importedGlobals.length - 1;
  }

  addGlobal(type: ValType, mutable: boolean, init: number): number {
    this.globals.push({ type, mutable, init });
    return this.importedGlobals.length + this.globals.length - 1;
  }

  /** Index the next defined function will get. */
  get nextFuncIndex(): number {
    return this.importedFuncs.length + this.funcs.length;
  }

  addFunc(f: DefinedFunc): number {
    this.funcs.push(f);
    return this.nextFuncIndex - 1;
  }

  export(name: string, kind: "func" | "global", index: number): void {
    this.exports.push({ name, kind, index });
  }

  /** The module bytes, and where each defined function's code starts. */
  finish(): { bytes: Uint8Array; placements: BodyPlacement[] } {
    for (const f of this.importedFuncs) this.typeOf(f.type);
    for (const f of this.funcs) this.typeOf(f.type);
    const out = new ByteWriter(4096);
    out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

    const section = (id: number, write: (w: ByteWriter) => void): number => {
      const w = new ByteWriter();
      write(w);
      out.byte(id);
      out.u32(w.length);
      const start = out.length;
      out.bytes(w.buf.subarray(0, w.length));
      return start;
    };

    section(1, (w) => {
      w.u32(this.types.length);
      for (const t of this.types) {
        w.byte(0x60);
        w.u32(t.params.length);
        for (const p of t.params) w.byte(p);
        w.u32(t.results.length);
        for (const r of t.results) w.byte(r);
      }
    });

    section(2, (w) => {
      w.u32(1 + this.importedFuncs.length + this.importedGlobals.length);
      w.name("env");
      w.name("memory");
      w.byte(0x02);
      // Limits: the actual memory may be larger; shared memories must declare a maximum.
      if (this.memory.shared) {
        w.byte(0x03);
        w.u32(0);
        w.u32(this.memory.maxPages);
      } else {
        w.byte(0x00);
        w.u32(0);
      }
      for (const f of this.importedFuncs) {
        w.name(f.module);
        w.name(f.name);
        w.byte(0x00);
        w.u32(this.typeOf(f.type));
      }
      for (const g of this.importedGlobals) {
        w.name(g.module);
        w.name(g.name);
        w.byte(0x03);
        w.byte(g.type);
        w.byte(g.mutable ? 1 : 0);
      }
    });

    section(3, (w) => {
      w.u32(this.funcs.length);
      for (const f of this.funcs) w.u32(this.typeOf(f.type));
    });

    if (this.globals.length > 0) {
      section(6, (w) => {
        w.u32(this.globals.length);
        for (const g of this.globals) {
          w.byte(g.type);
          w.byte(g.mutable ? 1 : 0);
          if (g.type === I32) {
            w.byte(Op.i32_const);
            w.s32(g.init);
          } else {
            w.byte(Op.i64_const);
            w.s64(g.init, g.init >> 31);
          }
          w.byte(Op.end);
        }
      });
    }

    section(7, (w) => {
      w.u32(this.exports.length);
      for (const e of this.exports) {
        w.name(e.name);
        w.byte(e.kind === "func" ? 0x00 : 0x03);
        w.u32(e.index);
      }
    });

    // The code section is written straight into `out` so body offsets are module offsets.
    const bodies = this.funcs.map((f) => {
      const head = new ByteWriter(32);
      // Locals, run-length encoded by type.
      const runs: Array<[number, ValType]> = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      head.u32(runs.length);
      for (const [n, t] of runs) {
        head.u32(n);
        head.byte(t);
      }
      return { head, size: head.length + f.body.w.length + 1 };
    });
    const content = new ByteWriter(16);
    content.u32(this.funcs.length);
    let sectionSize = content.length;
    for (const b of bodies) {
      const sz = new ByteWriter(8);
      sz.u32(b.size);
      sectionSize += sz.length + b.size;
    }
    out.byte(10);
    out.u32(sectionSize);
    out.u32(this.funcs.length);
    const placements: BodyPlacement[] = [];
    this.funcs.forEach((f, i) => {
      const b = bodies[i];
      out.u32(b.size);
      out.bytes(b.head.buf.subarray(0, b.head.length));
      placements.push({ codeStart: out.length });
      out.bytes(f.body.w.buf.subarray(0, f.body.w.length));
      out.byte(Op.end);
    });

    // Custom section "name", subsection 1 (function names): Core spec §7.4 (Appendix, Name Section).
    section(0, (w) => {
      w.name("name");
      const names = new ByteWriter();
      const all = [...this.importedFuncs.map((f) => f.name), ...this.funcs.map((f) => f.name)];
      names.u32(all.length);
      all.forEach((n, i) => {
        names.u32(i);
        names.name(n);
      });
      w.byte(1);
      w.u32(names.length);
      w.bytes(names.buf.subarray(0, names.length));
    });
    return { bytes: out.finish(), placements };
  }
}
