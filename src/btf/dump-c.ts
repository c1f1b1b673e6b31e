/**
 * BTF to compilable C, as `bpftool btf dump file F format c` prints it
 * (bpftool v7.1 with libbpf v1.1; tools/lib/bpf/btf_dump.c). The algorithm is
 * libbpf's, written anew from its description:
 *  1. order: a depth-first walk that puts each named definition after the
 *     definitions it needs "strongly" (embedded by value, or reached through
 *     anonymous types), while pointers to named structs only need a forward
 *     declaration;
 *  2. emit: print each queued definition, emitting forward declarations when a
 *     type is needed while it is still being emitted, and inlining anonymous
 *     structs, unions and enums at their use.
 * Names that repeat get "___2", "___3" suffixes (struct/union/enum tags in one
 * namespace, typedefs and enumerators in another), as C cannot hold both.
 */
import { BtfError } from "../errors.js";
import type { Btf } from "./btf.js";
import type { BtfComposite, BtfEnum, BtfEnum64, BtfType } from "./types.js";
import { isComposite } from "./types.js";

const NOT_ORDERED = 0;
const ORDERING = 1;
const ORDERED = 2;
const NOT_EMITTED = 0;
const EMITTING = 1;
const EMITTED = 2;

/** Deepest recursion we follow before calling the graph hostile (real kernels need a few dozen levels). */
const MAX_DEPTH = 2000;

/**
 * Characters of struct/union definitions we are willing to produce. Anonymous
 * types are printed inline at every use, so crafted BTF could make the output
 * grow exponentially; all of vmlinux is under 5 MB.
 */
const MAX_OUTPUT = 256 * 1024 * 1024;

/**
 * Lines we are willing to print: checked before printing anything, by adding
 * up how many lines each definition would take with its anonymous members
 * inlined. A whole vmlinux needs about 130,000.
 */
const MAX_LINES = 2_000_000;

const TABS = "\t".repeat(13);
/** libbpf's pfx(): indentation by `lvl` tabs, capped at 13. */
const pfx = (lvl: number): string => (lvl >= 13 ? TABS : TABS.slice(0, lvl));

/** GCC's internal Arm SIMD typedef targets and the base types they alias (btf_dump.c, missing_base_types). */
const MISSING_BASE_TYPES: ReadonlyMap<string, string> = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

export interface CDumpOptions {
  /** Dump only these types (and what they need); default: every type from id 1. */
  readonly rootIds?: readonly number[];
  /** Wrap in bpftool's vmlinux.h header/footer (default true). */
  readonly header?: boolean;
}

/** `bpftool btf dump file F format c` text. */
export function formatBtfC(btf: Btf, opts: CDumpOptions = {}): string {
  const d = new CDumper(btf);
  const out: string[] = [];
  const header = opts.header ?? true;
  if (header) {
    out.push(
      "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n",
      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n",
      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n",
      "#endif\n\n",
    );
  }
  if (opts.rootIds) for (const id of opts.rootIds) out.push(d.dumpType(id));
  else for (let id = 1; id < btf.typeCount; id++) out.push(d.dumpType(id));
  if (header) {
    out.push("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
  }
  return out.join("");
}

/**
 * A stateful BTF-to-C printer (libbpf's struct btf_dump): each dumpType()
 * prints a type and whatever it needs that was not printed by an earlier call.
 */
export class CDumper {
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private emitQueue: number[] = [];
  private out: string[] = [];
  private depth = 0;
  private produced = 0;

  constructor(private readonly btf: Btf) {
    const n = btf.typeCount;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.orderState[0] = ORDERED;
    this.emitState[0] = EMITTED;
    // Top-level anonymous enums (global constants) are told from inline ones by
    // nobody referring to them (btf_dump_mark_referenced).
    for (const t of btf.allTypes()) this.markReferenced(t);
    this.checkSize();
  }

  /**
   * Refuses BTF whose C would be absurdly large before spending time on it:
   * anonymous types are inlined at each use, so a crafted chain of them
   * doubles the output at every level.
   */
  private checkSize(): void {
    const n = this.btf.typeCount;
    const memo = new Float64Array(n).fill(-1);
    const onStack = new Uint8Array(n);
    let depth = 0;
    const weight = (id: number): number => {
      if (memo[id] >= 0) return memo[id];
      if (onStack[id] || ++depth > MAX_DEPTH) throw new BtfError("type graph too deep or looping to print as C");
      onStack[id] = 1;
      const t = this.btf.type(id);
      let w = 0;
      switch (t.kind) {
        case "ptr": case "const": case "volatile": case "restrict": case "type_tag": case "array":
          w = weight(t.type);
          break;
        case "func_proto":
          w = 1 + weight(t.returnType);
          for (const p of t.params) w += weight(p.type);
          break;
        case "struct": case "union":
          if (t.name === "") {
            w = 1 + t.members.length;
            for (const m of t.members) w += weight(m.type);
          }
          break;
        case "enum": case "enum64":
          if (t.name === "") w = 1 + t.values.length;
          break;
        default:
          break;
      }
      onStack[id] = 0;
      depth--;
      memo[id] = Math.min(w, MAX_LINES + 1);
      return memo[id];
    };
    let total = 0;
    for (const t of this.btf.allTypes()) {
      if (t.kind === "struct" || t.kind === "union") {
        total += 1 + t.members.length;
        for (const m of t.members) total += weight(m.type);
        // Gaps become `long: 64;` lines: a member placed gigabits away would print millions.
        let off = 0;
        for (const m of t.members) {
          if (m.bitOffset > off) total += (m.bitOffset - off) / 64 + 4;
          off = m.bitOffset + (m.bitfieldSize || this.sizeOrZero(m.type) * 8);
        }
        if (t.kind === "struct" && t.size * 8 > off) total += (t.size * 8 - off) / 64 + 4;
      } else if (t.kind === "typedef") {
        total += 1 + weight(t.type);
      } else if ((t.kind === "enum" || t.kind === "enum64") && t.values.length) {
        total += 1 + t.values.length;
      }
      if (total > MAX_LINES) throw new BtfError(`C output would be too large (over ${MAX_LINES} lines: deeply nested anonymous types or huge gaps)`);
    }
  }

  private markReferenced(t: BtfType): void {
    const r = this.referenced;
    switch (t.kind) {
      case "void": case "int": case "enum": case "enum64": case "fwd": case "float":
        break;
      case "volatile": case "const": case "restrict": case "ptr": case "typedef": case "func": case "var":
      case "decl_tag": case "type_tag":
        r[t.type] = 1;
        break;
      case "array":
        r[t.indexType] = 1;
        r[t.type] = 1;
        break;
      case "struct": case "union":
        for (const m of t.members) r[m.type] = 1;
        break;
      case "func_proto":
        for (const p of t.params) r[p.type] = 1;
        break;
      case "datasec":
        for (const v of t.vars) r[v.type] = 1;
        break;
    }
  }

  /** C for type `id` and everything it needs that earlier calls did not print. */
  dumpType(id: number): string {
    if (id < 0 || id >= this.btf.typeCount) throw new BtfError(`type id ${id} does not exist`);
    this.emitQueue = [];
    this.out = [];
    try {
      this.orderType(id, false);
      for (const q of this.emitQueue) this.emitType(q, 0);
    } catch (e) {
      if (e instanceof RangeError) throw new BtfError("type graph too deep to print as C", { cause: e });
      throw e;
    }
    return this.out.join("");
  }

  private p(s: string): void {
    this.out.push(s);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new BtfError("type graph too deep or looping");
  }

  /**
   * Topological ordering (btf_dump_order_type). Returns true when the type is
   * part of a strong link (must be fully defined before its user).
   */
  private orderType(id: number, throughPtr: boolean): boolean {
    this.enter();
    try {
      return this.orderTypeInner(id, throughPtr);
    } finally {
      this.depth--;
    }
  }

  private orderTypeInner(id: number, throughPtr: boolean): boolean {
    const st = this.orderState;
    if (st[id] === ORDERED) return true;
    const t = this.btf.type(id);
    if (st[id] === ORDERING) {
      // A loop is fine when a forward declaration breaks it.
      if (isComposite(t) && throughPtr && t.name !== "") return false;
      throw new BtfError(`unsatisfiable type cycle, id:[${id}]`);
    }
    switch (t.kind) {
      case "void":
        return true;
      case "int": case "float":
        st[id] = ORDERED;
        return false;
      case "ptr": {
        const r = this.orderType(t.type, true);
        st[id] = ORDERED;
        return r;
      }
      case "array":
        return this.orderType(t.type, false);
      case "struct": case "union": {
        // Embedded (no pointer on the way) or anonymous (defined inline): a strong link.
        if (throughPtr && t.name !== "") return false;
        st[id] = ORDERING;
        for (const m of t.members) this.orderType(m.type, false);
        if (t.name !== "") this.emitQueue.push(id);
        st[id] = ORDERED;
        return true;
      }
      case "enum": case "enum64": case "fwd":
        // Named or unreferenced enums are top-level declarations.
        if (t.name !== "" || !this.referenced[id]) this.emitQueue.push(id);
        st[id] = ORDERED;
        return true;
      case "typedef": {
        const strong = this.orderType(t.type, throughPtr);
        if (throughPtr && !strong) return false;
        this.emitQueue.push(id);
        st[id] = ORDERED;
        return true;
      }
      case "volatile": case "const": case "restrict": case "type_tag":
        return this.orderType(t.type, throughPtr);
      case "func_proto": {
        let strong = this.orderType(t.returnType, throughPtr);
        for (const p of t.params) if (this.orderType(p.type, throughPtr)) strong = true;
        return strong;
      }
      case "func": case "var": case "datasec": case "decl_tag":
        st[id] = ORDERED;
        return false;
    }
  }

  private isBlacklisted(t: BtfType): boolean {
    // __builtin_va_list is the compiler's own; redefining it breaks compilation with another compiler.
    return t.name === "__builtin_va_list";
  }

  /** btf_dump_emit_type: `contId` is the struct/union being defined around us (0 at top level). */
  private emitType(id: number, contId: number): void {
    this.enter();
    try {
      this.emitTypeInner(id, contId);
    } finally {
      this.depth--;
    }
  }

  private emitTypeInner(id: number, contId: number): void {
    const es = this.emitState;
    if (es[id] === EMITTED) return;
    const t = this.btf.type(id);
    const topLevel = contId === 0;
    if (es[id] === EMITTING) {
      if (this.fwdEmitted[id]) return;
      switch (t.kind) {
        case "struct": case "union":
          // Referencing the struct we are part of needs no forward declaration.
          if (id === contId) return;
          if (t.name === "") return; // anonymous struct/union loop: nothing to declare
          this.p(this.structFwd(id, t) + ";\n\n");
          this.fwdEmitted[id] = 1;
          break;
        case "typedef":
          // A typedef can act as its own forward declaration for uses through pointers.
          if (!this.isBlacklisted(t)) this.p(this.typedefDef(id, t, 0) + ";\n\n");
          this.fwdEmitted[id] = 1;
          break;
        default:
          break;
      }
      return;
    }
    switch (t.kind) {
      case "int":
        this.emitMissingAliases(id);
        es[id] = EMITTED;
        break;
      case "enum": case "enum64":
        if (topLevel) this.p(this.enumDef(id, t, 0) + ";\n\n");
        es[id] = EMITTED;
        break;
      case "ptr": case "volatile": case "const": case "restrict": case "type_tag":
        this.emitType(t.type, contId);
        break;
      case "array":
        this.emitType(t.type, contId);
        break;
      case "fwd":
        this.p(this.fwdDef(id, t) + ";\n\n");
        es[id] = EMITTED;
        break;
      case "typedef":
        es[id] = EMITTING;
        this.emitType(t.type, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) this.p(this.typedefDef(id, t, 0) + ";\n\n");
        es[id] = EMITTED;
        break;
      case "struct": case "union":
        es[id] = EMITTING;
        // A definition prints every member's type, so those need their declarations first.
        if (topLevel || t.name === "") {
          const newCont = t.name === "" ? contId : id;
          for (const m of t.members) this.emitType(m.type, newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.p(this.structFwd(id, t) + ";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.p(this.structDef(id, t, 0) + ";\n\n");
          es[id] = EMITTED;
        } else {
          es[id] = NOT_EMITTED;
        }
        break;
      case "func_proto":
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  private emitMissingAliases(id: number): void {
    const name = this.typeName(id);
    const alias = MISSING_BASE_TYPES.get(name);
    if (alias) this.p(`typedef ${alias} ${name};\n\n`);
  }

  /** btf__resolve_size, 0 when it fails (as btf_dump_emit_struct_def treats failures). */
  private sizeOrZero(id: number): number {
    try {
      return this.btf.sizeof(id);
    } catch (e) {
      if (e instanceof BtfError) return 0;
      throw e;
    }
  }

  /** btf__align_of, which libbpf lets fail to 0 (with a warning) for kinds without alignment. */
  private alignOf(id: number): number {
    try {
      return this.btf.alignof(id);
    } catch (e) {
      if (e instanceof BtfError) return 0;
      throw e;
    }
  }

  /** btf_is_struct_packed: misaligned plain members, or a size that is not a multiple of the members' alignment. */
  private isPacked(t: BtfComposite): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      maxAlign = Math.max(maxAlign, a);
    }
    return t.size % maxAlign !== 0;
  }

  /** Explicit padding so the compiler lays members out at their BTF offsets (btf_dump_emit_bit_padding). */
  private bitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): string {
    if (curOff >= nextOff) return "";
    const pads: ReadonlyArray<readonly [string, number]> = [
      ["long", this.btf.pointerSize * 8], ["int", 32], ["short", 16], ["char", 8],
    ];
    const roundup = (x: number, y: number): number => Math.ceil(x / y) * y;
    let s = "";
    let newOff = 0;
    let padBits = 0;
    let padType = "";
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, padBits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      // An explicit `<type>: 0` marker is needed when natural alignment would not land us here.
      if (inBitfield || (newOff === nextOff && roundup(curOff, nextAlign * 8) !== newOff) ||
        (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        s += `\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`;
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        s += `\n${pfx(lvl)}${padType}: ${padBits};`;
        curOff += bits;
        continue;
      }
      // The remainder gets the smallest type that holds it.
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, pbits] = pads[i];
        padType = name;
        padBits = pbits;
        if (pbits < bits) continue;
        s += `\n${pfx(lvl)}${name}: ${bits};`;
        curOff += bits;
        break;
      }
    }
    return s;
  }

  private structFwd(id: number, t: BtfComposite): string {
    return `${t.kind}${t.name ? " " : ""}${this.typeName(id)}`;
  }

  private structDef(id: number, t: BtfComposite, lvl: number): string {
    const isStruct = t.kind === "struct";
    const align = this.alignOf(id);
    const packed = isStruct ? this.isPacked(t) : false;
    let s = `${t.kind}${t.name ? " " : ""}${this.typeName(id)} {`;
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mSz = m.bitfieldSize;
      const mOff = m.bitOffset;
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && mSz !== 0;
      s += this.bitPadding(off, mOff, mAlign, inBitfield, lvl + 1);
      s += `\n${pfx(lvl + 1)}` + this.typeDecl(m.type, m.name, lvl + 1);
      if (mSz) {
        s += `: ${mSz}`;
        off = mOff + mSz;
        prevBitfield = true;
      } else {
        off = mOff + this.sizeOrZero(m.type) * 8;
        prevBitfield = false;
      }
      s += ";";
    }
    if (isStruct) s += this.bitPadding(off, t.size * 8, align, false, lvl + 1);
    // `struct empty {}` stays on one line.
    if (t.members.length || t.size) s += `\n${pfx(lvl)}}`;
    else s += "}";
    if (packed) s += " __attribute__((packed))";
    this.produced += s.length;
    if (this.produced > MAX_OUTPUT) throw new BtfError("C output too large (anonymous types nest too deeply)");
    return s;
  }

  private enumDef(id: number, t: BtfEnum | BtfEnum64, lvl: number): string {
    let s = `enum${t.name ? " " : ""}${this.typeName(id)}`;
    if (!t.values.length) return s;
    s += " {";
    for (const v of t.values) {
      // Enumerators share the identifier namespace with typedefs.
      const dups = this.nameDups(this.identNames, v.name);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      const val = t.kind === "enum" ? `${v.value}` : `${v.value}${t.signed ? "LL" : "ULL"}`;
      s += `\n${pfx(lvl + 1)}${name} = ${val},`;
    }
    s += `\n${pfx(lvl)}}`;
    return s;
  }

  private fwdDef(id: number, t: BtfType & { kind: "fwd" }): string {
    return `${t.union ? "union" : "struct"} ${this.typeName(id)}`;
  }

  private typedefDef(id: number, t: BtfType & { kind: "typedef" }, lvl: number): string {
    const name = this.identName(id);
    // Old GCC emits __gnuc_va_list as a typedef of void; make it valid C.
    if (t.type === 0 && name === "__gnuc_va_list") return "typedef __builtin_va_list __gnuc_va_list";
    return "typedef " + this.typeDecl(t.type, name, lvl);
  }

  /**
   * A declaration of `fname` with type `id` in C syntax (btf_dump_emit_type_decl):
   * collect the chain of modifiers, pointers, arrays and prototypes down to a
   * terminal type, then print it inside out.
   */
  private typeDecl(id: number, fname: string, lvl: number): string {
    const stack: number[] = [];
    for (let guard = 0; ; guard++) {
      if (guard > MAX_DEPTH) throw new BtfError(`type [${id}]: declaration chain too long or looping`);
      stack.push(id);
      if (id === 0) break;
      const t = this.btf.type(id);
      let next: number | undefined;
      switch (t.kind) {
        case "ptr": case "volatile": case "const": case "restrict": case "type_tag":
          next = t.type;
          break;
        case "func_proto":
          next = t.returnType;
          break;
        case "array":
          next = t.type;
          break;
        default:
          next = undefined;
      }
      if (next === undefined) break;
      id = next;
    }
    this.enter();
    try {
      return this.typeChain({ ids: stack, cnt: stack.length }, fname, lvl);
    } finally {
      this.depth--;
    }
  }

  /** Pops leading const/volatile/restrict and prints them before a base type. */
  private emitMods(decls: { ids: number[]; cnt: number }): string {
    let s = "";
    while (decls.cnt) {
      const t = this.btf.type(decls.ids[decls.cnt - 1]);
      if (t.kind === "volatile") s += "volatile ";
      else if (t.kind === "const") s += "const ";
      else if (t.kind === "restrict") s += "restrict ";
      else return s;
      decls.cnt--;
    }
    return s;
  }

  private dropMods(decls: { ids: number[]; cnt: number }): void {
    while (decls.cnt) {
      const t = this.btf.type(decls.ids[decls.cnt - 1]);
      if (t.kind !== "volatile" && t.kind !== "const" && t.kind !== "restrict" && t.kind !== "type_tag") return;
      decls.cnt--;
    }
  }

  private emitName(name: string, lastWasPtr: boolean): string {
    return (name !== "" && !lastWasPtr ? " " : "") + name;
  }

  /** btf_dump_emit_type_chain. */
  private typeChain(decls: { ids: number[]; cnt: number }, fname: string, lvl: number): string {
    // Starts true so a lone pointer in a function-pointer chain prints as (*name).
    let lastWasPtr = true;
    let s = "";
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt];
      if (id === 0) {
        s += this.emitMods(decls) + "void";
        lastWasPtr = false;
        continue;
      }
      const t = this.btf.type(id);
      switch (t.kind) {
        case "int": case "float":
          s += this.emitMods(decls) + t.name;
          break;
        case "struct": case "union":
          s += this.emitMods(decls);
          s += t.name === "" ? this.structDef(id, t, lvl) : this.structFwd(id, t);
          break;
        case "enum": case "enum64":
          s += this.emitMods(decls);
          s += t.name === "" ? this.enumDef(id, t, lvl) : `enum ${this.typeName(id)}`;
          break;
        case "fwd":
          s += this.emitMods(decls) + this.fwdDef(id, t);
          break;
        case "typedef":
          s += this.emitMods(decls) + this.identName(id);
          break;
        case "ptr":
          s += lastWasPtr ? "*" : " *";
          break;
        case "volatile":
          s += " volatile";
          break;
        case "const":
          s += " const";
          break;
        case "restrict":
          s += " restrict";
          break;
        case "type_tag":
          s += this.emitMods(decls);
          s += t.kindFlag ? ` __attribute__((${t.name}))` : ` __attribute__((btf_type_tag("${t.name}")))`;
          break;
        case "array": {
          // GCC puts qualifiers of the element type on the array too; they mean nothing there.
          this.dropMods(decls);
          if (decls.cnt === 0) return s + this.emitName(fname, lastWasPtr) + `[${t.nelems}]`;
          const next = this.btf.type(decls.ids[decls.cnt - 1]);
          const multidim = next.kind === "array";
          if (fname !== "" && !lastWasPtr) s += " ";
          if (!multidim) s += "(";
          s += this.typeChain(decls, fname, lvl);
          if (!multidim) s += ")";
          return s + `[${t.nelems}]`;
        }
        case "func_proto": {
          // GCC marks noreturn function pointers volatile; drop such qualifiers like arrays do.
          this.dropMods(decls);
          if (decls.cnt) s += " (" + this.typeChain(decls, fname, lvl) + ")";
          else s += this.emitName(fname, lastWasPtr);
          s += "(";
          const ps = t.params;
          // Clang writes `f(void)` as one void parameter; no parameters print the same way.
          if (ps.length === 0 || (ps.length === 1 && ps[0].type === 0)) return s + "void)";
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) s += ", ";
            // A trailing void parameter marks varargs.
            if (i === ps.length - 1 && ps[i].type === 0) {
              s += "...";
              break;
            }
            s += this.typeDecl(ps[i].type, ps[i].name, lvl);
          }
          return s + ")";
        }
        default:
          // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a declaration chain.
          return s;
      }
      lastWasPtr = t.kind === "ptr";
    }
    return s + this.emitName(fname, lastWasPtr);
  }

  /** How many times `name` has been seen in this namespace, counting this one. */
  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.btf.type(id);
    if (t.name === "") return "";
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    if (t.kind === "fwd" || (t.kind === "enum" && t.values.length === 0)) {
      this.nameResolved[id] = 1;
      return t.name;
    }
    const dups = this.nameDups(map, t.name);
    if (dups > 1) this.cachedNames.set(id, `${t.name}___${dups}`);
    this.nameResolved[id] = 1;
    return this.cachedNames.get(id) ?? t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }
}
