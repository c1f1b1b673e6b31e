/**
 * A parsed BTF: the type graph and its string table, with the queries the
 * rest of tsbpf asks of it (resolve through typedefs and qualifiers, sizeof,
 * alignof, lookup by kind and name). Split BTF (a module's BTF on top of
 * vmlinux) continues its base's type ids and string offsets.
 */
import { BtfError } from "../errors.js";
import { BTF_KIND_NAMES } from "./kinds.js";
import { type BaseInfo, type ByteOrder, parseBtfBytes } from "./parse.js";
import { StringTable } from "./strings.js";
import { type BtfKind, type BtfType, isModifier, kindNumber, referencedTypes } from "./types.js";

/** libbpf's MAX_RESOLVE_DEPTH (tools/lib/bpf/btf.c): chains longer than this are treated as loops. */
export const MAX_RESOLVE_DEPTH = 32;

const VOID: BtfType = Object.freeze({ id: 0, name: "", kind: "void" }) as BtfType;

/** Names of `long` that tell the target's pointer size (libbpf btf.c, determine_ptr_size). */
const LONG_NAMES = new Set([
  "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int", "unsigned int long",
  "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
]);

export interface BtfOptions {
  /** The base of a split BTF. */
  readonly base?: Btf;
  readonly byteOrder?: ByteOrder;
  /** Bytes per pointer; guessed from `long` (like libbpf) when not given, 8 if that fails. */
  readonly pointerSize?: number;
}

export class Btf {
  readonly base: Btf | undefined;
  /** First id of this BTF's own types (1, or the base's type count for split BTF). */
  readonly startId: number;
  readonly byteOrder: ByteOrder;
  private readonly own: readonly BtfType[];
  private nameIndex: Map<string, number[]> | undefined;
  private ptrSize: number | undefined;
  /** alignof results: struct members fan out, so hostile BTF could otherwise cost exponential time. */
  private readonly alignCache = new Map<number, number>();

  private constructor(types: readonly BtfType[], readonly strings: StringTable, opts: BtfOptions) {
    this.base = opts.base;
    this.startId = opts.base ? opts.base.typeCount : 1;
    this.byteOrder = opts.byteOrder ?? opts.base?.byteOrder ?? "le";
    this.own = types;
    this.ptrSize = opts.pointerSize;
  }

  /** Parses raw BTF (a .BTF section or a blob like /sys/kernel/btf/vmlinux). Throws BtfError. */
  static parse(bytes: Uint8Array, opts: { base?: Btf; pointerSize?: number } = {}): Btf {
    const base: BaseInfo | undefined = opts.base ? { startId: opts.base.typeCount, strings: opts.base.strings } : undefined;
    let parsed;
    try {
      parsed = parseBtfBytes(bytes, base);
    } catch (e) {
      if (e instanceof RangeError) throw new BtfError(`malformed BTF: ${e.message}`, { cause: e });
      throw e;
    }
    return new Btf(parsed.types, parsed.strings, { base: opts.base, byteOrder: parsed.header.byteOrder, pointerSize: opts.pointerSize });
  }

  /**
   * A BTF from types already in memory (the builder and fix-ups use this). Ids
   * must run from the start id in order; references must resolve.
   */
  static fromTypes(types: readonly BtfType[], strings: StringTable, opts: BtfOptions = {}): Btf {
    const btf = new Btf(types, strings, opts);
    const count = btf.typeCount;
    types.forEach((t, i) => {
      if (t.id !== btf.startId + i) throw new BtfError(`type at position ${i} has id ${t.id}, expected ${btf.startId + i}`);
      for (const ref of referencedTypes(t)) {
        if (ref >= count) throw new BtfError(`BTF type [${t.id}] ${t.kind} refers to type [${ref}], which does not exist`);
      }
    });
    return btf;
  }

  /** One past the largest type id (ids run 0..typeCount-1, 0 being void). */
  get typeCount(): number {
    return this.startId + this.own.length;
  }

  /** This BTF's own types (not the base's), in id order. */
  get types(): readonly BtfType[] {
    return this.own;
  }

  /** The type with this id; throws BtfError when there is none. */
  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.startId) {
      if (this.base) return this.base.type(id);
      throw new BtfError(`type id ${id} does not exist`);
    }
    const t = this.own[id - this.startId];
    if (!t) throw new BtfError(`type id ${id} does not exist (${this.typeCount - 1} types)`);
    return t;
  }

  /** Every type from id 1 (the base's first) to the last. */
  *allTypes(): IterableIterator<BtfType> {
    if (this.base) yield* this.base.allTypes();
    yield* this.own;
  }

  /**
   * Pointer size of the target. For BPF objects it is 8; for other BTF libbpf
   * guesses from the size of `long` (btf.c, determine_ptr_size).
   */
  get pointerSize(): number {
    if (this.ptrSize === undefined) {
      let found: number | undefined = this.base?.ptrSize;
      if (found === undefined) {
        for (const t of this.allTypes()) {
          if (t.kind === "int" && (t.size === 4 || t.size === 8) && LONG_NAMES.has(t.name)) {
            found = t.size;
            break;
          }
        }
      }
      this.ptrSize = found ?? 8;
    }
    return this.ptrSize;
  }

  private index(): Map<string, number[]> {
    if (!this.nameIndex) {
      const idx = new Map<string, number[]>();
      for (const t of this.allTypes()) {
        if (!t.name) continue;
        const list = idx.get(t.name);
        if (list) list.push(t.id);
        else idx.set(t.name, [t.id]);
      }
      this.nameIndex = idx;
    }
    return this.nameIndex;
  }

  /** Ids of all types with this name (any kind), lowest first. */
  idsByName(name: string): readonly number[] {
    return this.index().get(name) ?? [];
  }

  /** The first type with this name and kind (libbpf's btf__find_by_name_kind), or undefined. */
  find<K extends BtfKind>(kind: K, name: string): Extract<BtfType, { kind: K }> | undefined {
    for (const id of this.idsByName(name)) {
      const t = this.type(id);
      if (t.kind === kind) return t as Extract<BtfType, { kind: K }>;
    }
    return undefined;
  }

  /** The first type with this name of any kind (btf__find_by_name), or undefined. */
  findAny(name: string): BtfType | undefined {
    const ids = this.idsByName(name);
    return ids.length ? this.type(ids[0]) : undefined;
  }

  /** Skips const/volatile/restrict/type_tag and typedefs (libbpf's skip_mods_and_typedefs). */
  skipModsAndTypedefs(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; isModifier(t) || t.kind === "typedef"; depth++) {
      if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(`type [${id}]: modifier/typedef chain too long or looping`);
      t = this.type(t.type);
    }
    return t;
  }

  /** Skips qualifiers only, keeping typedefs. */
  skipModifiers(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; isModifier(t); depth++) {
      if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(`type [${id}]: modifier chain too long or looping`);
      t = this.type(t.type);
    }
    return t;
  }

  /**
   * Size in bytes of a type (libbpf's btf__resolve_size): through typedefs,
   * qualifiers, vars and tags, multiplying out arrays. Throws BtfError for
   * void, functions and forward declarations, which have no size.
   */
  sizeof(id: number): number {
    let nelems = 1;
    let t = this.type(id);
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      switch (t.kind) {
        case "int": case "struct": case "union": case "enum": case "enum64": case "datasec": case "float":
          return this.checkSize(id, nelems, t.size);
        case "ptr":
          return this.checkSize(id, nelems, this.pointerSize);
        case "typedef": case "volatile": case "const": case "restrict": case "var": case "decl_tag": case "type_tag":
          t = this.type(t.type);
          break;
        case "array":
          if (nelems && t.nelems > 0xffffffff / nelems) throw new BtfError(`size of type [${id}] overflows 32 bits`);
          nelems *= t.nelems;
          t = this.type(t.type);
          break;
        default:
          throw new BtfError(`type [${id}] has no size (it resolves to ${describeKind(t)})`);
      }
    }
    throw new BtfError(`type [${id}]: type chain too long or looping`);
  }

  private checkSize(id: number, nelems: number, size: number): number {
    if (nelems && size > 0xffffffff / nelems) throw new BtfError(`size of type [${id}] overflows 32 bits`);
    return nelems * size;
  }

  /** Natural alignment in bytes (libbpf's btf__align_of); throws BtfError for kinds without one. */
  alignof(id: number, depth = 0): number {
    const known = this.alignCache.get(id);
    if (known !== undefined) return known;
    if (depth > MAX_RESOLVE_DEPTH * 4) throw new BtfError(`type [${id}]: alignment chain too deep or looping`);
    const a = this.alignofUncached(id, depth);
    this.alignCache.set(id, a);
    return a;
  }

  private alignofUncached(id: number, depth: number): number {
    const t = this.type(id);
    switch (t.kind) {
      case "int": case "enum": case "enum64": case "float":
        return Math.min(this.pointerSize, t.size);
      case "ptr":
        return this.pointerSize;
      case "typedef": case "volatile": case "const": case "restrict": case "type_tag":
        return this.alignof(t.type, depth + 1);
      case "array":
        return this.alignof(t.type, depth + 1);
      case "struct": case "union": {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignof(m.type, depth + 1);
          max = Math.max(max, a);
          // A misaligned plain member means the struct is packed (libbpf btf.c, btf__align_of).
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        // So does a size that is not a multiple of the alignment.
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        throw new BtfError(`type [${id}] has no alignment (it is ${describeKind(t)})`);
    }
  }

  /** "[7] STRUCT 'task_struct'", for messages. */
  describe(id: number): string {
    const t = this.type(id);
    return `[${id}] ${BTF_KIND_NAMES[kindNumber(t.kind)]} '${t.name || "(anon)"}'`;
  }
}

function describeKind(t: BtfType): string {
  return t.kind === "void" ? "void" : `${BTF_KIND_NAMES[kindNumber(t.kind)]} [${t.id}]`;
}
