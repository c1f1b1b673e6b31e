/**
 * CO-RE (Compile Once, Run Everywhere) relocation resolution: given a
 * relocation record against the program's own (local) BTF, find the matching
 * types in a target BTF and compute the value the instruction must carry.
 * The rules are libbpf's (tools/lib/bpf/relo_core.c, libbpf.c
 * bpf_core_find_cands / bpf_core_add_cands): candidates share the local type's
 * "essential" name (ignoring a ___flavor suffix) and a compatible kind; an
 * access string "0:1:2" walks members and array elements; all matching
 * candidates must agree; with none, field reads are poisoned and existence
 * checks report 0. Applying the result to an instruction is the object
 * layer's job (src/object/core.ts).
 */
import { BtfError } from "../errors.js";
import type { Btf } from "./btf.js";
import { BTF_INT_SIGNED, BTF_KIND_NAMES } from "./kinds.js";
import { type BtfType, isAnyEnum, isComposite, kindNumber } from "./types.js";

// enum bpf_core_relo_kind, include/uapi/linux/bpf.h.
export const BPF_CORE_FIELD_BYTE_OFFSET = 0;
export const BPF_CORE_FIELD_BYTE_SIZE = 1;
export const BPF_CORE_FIELD_EXISTS = 2;
export const BPF_CORE_FIELD_SIGNED = 3;
export const BPF_CORE_FIELD_LSHIFT_U64 = 4;
export const BPF_CORE_FIELD_RSHIFT_U64 = 5;
export const BPF_CORE_TYPE_ID_LOCAL = 6;
export const BPF_CORE_TYPE_ID_TARGET = 7;
export const BPF_CORE_TYPE_EXISTS = 8;
export const BPF_CORE_TYPE_SIZE = 9;
export const BPF_CORE_ENUMVAL_EXISTS = 10;
export const BPF_CORE_ENUMVAL_VALUE = 11;
export const BPF_CORE_TYPE_MATCHES = 12;

/** Longest access string libbpf accepts (relo_core.h, BPF_CORE_SPEC_MAX_LEN). */
export const BPF_CORE_SPEC_MAX_LEN = 64;

/** The relocation kind as libbpf and llvm-objdump name it ("byte_off", "field_exists", ...). */
export function coreReloKindName(kind: number): string {
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET: return "byte_off";
    case BPF_CORE_FIELD_BYTE_SIZE: return "byte_sz";
    case BPF_CORE_FIELD_EXISTS: return "field_exists";
    case BPF_CORE_FIELD_SIGNED: return "signed";
    case BPF_CORE_FIELD_LSHIFT_U64: return "lshift_u64";
    case BPF_CORE_FIELD_RSHIFT_U64: return "rshift_u64";
    case BPF_CORE_TYPE_ID_LOCAL: return "local_type_id";
    case BPF_CORE_TYPE_ID_TARGET: return "target_type_id";
    case BPF_CORE_TYPE_EXISTS: return "type_exists";
    case BPF_CORE_TYPE_MATCHES: return "type_matches";
    case BPF_CORE_TYPE_SIZE: return "type_size";
    case BPF_CORE_ENUMVAL_EXISTS: return "enumval_exists";
    case BPF_CORE_ENUMVAL_VALUE: return "enumval_value";
    default: return "unknown";
  }
}

export const isFieldBasedRelo = (k: number): boolean => k >= BPF_CORE_FIELD_BYTE_OFFSET && k <= BPF_CORE_FIELD_RSHIFT_U64;
export const isTypeBasedRelo = (k: number): boolean =>
  k === BPF_CORE_TYPE_ID_LOCAL || k === BPF_CORE_TYPE_ID_TARGET || k === BPF_CORE_TYPE_EXISTS ||
  k === BPF_CORE_TYPE_MATCHES || k === BPF_CORE_TYPE_SIZE;
export const isEnumvalBasedRelo = (k: number): boolean => k === BPF_CORE_ENUMVAL_EXISTS || k === BPF_CORE_ENUMVAL_VALUE;

/** A CO-RE relocation: root type in the local BTF, access string, kind. */
export interface CoreRelo {
  readonly typeId: number;
  readonly accessString: string;
  readonly kind: number;
}

interface Accessor {
  typeId: number;
  idx: number;
  /** Field or enumerator name; undefined for array element accesses. */
  name?: string;
}

/** libbpf's struct bpf_core_spec: high-level accessors, raw indices and the resulting bit offset. */
export interface CoreSpec {
  readonly btf: Btf;
  readonly rootTypeId: number;
  readonly kind: number;
  readonly spec: Accessor[];
  readonly raw: number[];
  bitOffset: number;
}

/** What a relocation resolves to: the original (compile-time) and new (target) values. */
export interface CoreResult {
  /** The instruction must be turned into an invalid call (bpf_core_poison). */
  poison: boolean;
  /** Check that the instruction still holds origVal before patching. */
  validate: boolean;
  origVal: bigint;
  newVal: bigint;
  /** Memory access sizes (for LDX/ST/STX size adjustment); 0 when not a field byte offset. */
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
  /** A load/store would have to change size in a way that corrupts the value: poison LDX/ST/STX. */
  failMemszAdjust: boolean;
  /** "<byte_off> [7] struct task_struct.pid (0:7 @ offset 20)", for logs. */
  localSpec: string;
  targetSpec?: string;
}

const isFlavorSep = (s: string, i: number): boolean =>
  s[i] !== "_" && s[i + 1] === "_" && s[i + 2] === "_" && s[i + 3] === "_" && s[i + 4] !== "_" && i + 4 < s.length;

/** Length of a name without its last "___flavor" (libbpf.c, bpf_core_essential_name_len). */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (isFlavorSep(name, i)) return i + 1;
  }
  return name.length;
}

export const essentialName = (name: string): string => name.slice(0, essentialNameLength(name));

/** btf_kind_core_compat: same kind, or both enums of any width. */
function kindCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

const kindStr = (t: BtfType): string => (t.kind === "void" ? "void" : BTF_KIND_NAMES[kindNumber(t.kind)].toLowerCase());

export interface CoreCandidate {
  readonly btf: Btf;
  readonly id: number;
}

const essentialIndexes = new WeakMap<Btf, Map<string, number[]>>();

/** Own types (not base types) of a BTF by essential name. */
function essentialIndex(btf: Btf): Map<string, number[]> {
  let idx = essentialIndexes.get(btf);
  if (!idx) {
    idx = new Map();
    for (const t of btf.types) {
      if (!t.name) continue;
      const e = essentialName(t.name);
      const list = idx.get(e);
      if (list) list.push(t.id);
      else idx.set(e, [t.id]);
    }
    essentialIndexes.set(btf, idx);
  }
  return idx;
}

/**
 * Candidate target types for a local type (libbpf.c, bpf_core_find_cands):
 * searched in the first target (vmlinux) including its base; only if none is
 * found there, in the others (modules), among their own types.
 */
export function findCoreCandidates(local: Btf, localId: number, targets: readonly Btf[]): CoreCandidate[] {
  const lt = local.type(localId);
  if (!lt.name) throw new BtfError(`local type [${localId}] is anonymous; CO-RE needs a name to find candidates`);
  const ess = essentialName(lt.name);
  const out: CoreCandidate[] = [];
  targets.forEach((target, i) => {
    if (i > 0 && out.length) return;
    const chain: Btf[] = [];
    if (i === 0) for (let b: Btf | undefined = target; b; b = b.base) chain.unshift(b);
    else chain.push(target);
    for (const b of chain) {
      for (const id of essentialIndex(b).get(ess) ?? []) {
        const t = b.type(id);
        if (kindCompat(t, lt)) out.push({ btf: target, id });
      }
    }
  });
  return out;
}

/** Parses an access string into a spec (bpf_core_parse_spec). */
export function parseCoreSpec(btf: Btf, relo: CoreRelo): CoreSpec {
  const fail = (why: string): never => {
    throw new BtfError(`CO-RE relocation <${coreReloKindName(relo.kind)}> on ${btf.describe(relo.typeId)} with access "${relo.accessString}": ${why}`);
  };
  const s = relo.accessString;
  if (s === "" || s[0] === ":") fail("empty access string");
  const spec: CoreSpec = { btf, rootTypeId: relo.typeId, kind: relo.kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeBasedRelo(relo.kind)) {
    if (s !== "0") fail("type-based relocations take access string \"0\"");
    return spec;
  }
  for (const part of s.split(":")) {
    if (!/^[0-9]+$/.test(part)) fail(`bad access index "${part}"`);
    if (spec.raw.length === BPF_CORE_SPEC_MAX_LEN) fail(`more than ${BPF_CORE_SPEC_MAX_LEN} accesses`);
    spec.raw.push(Number(part));
  }
  let id = relo.typeId;
  let t = btf.skipModsAndTypedefs(id);
  id = t.id;
  spec.spec.push({ typeId: id, idx: spec.raw[0] });
  if (isEnumvalBasedRelo(relo.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || spec.raw[0] >= t.values.length) fail("not a valid enumerator access");
    spec.spec[0].name = (t as BtfType & { kind: "enum" | "enum64" }).values[spec.raw[0]].name;
    return spec;
  }
  if (!isFieldBasedRelo(relo.kind)) fail(`unknown relocation kind ${relo.kind}`);
  spec.bitOffset = spec.raw[0] * btf.sizeof(id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    t = btf.skipModsAndTypedefs(id);
    id = t.id;
    const idx = spec.raw[i];
    if (isComposite(t)) {
      if (idx >= t.members.length) fail(`member index ${idx} out of range for ${btf.describe(id)}`);
      const m = t.members[idx];
      spec.bitOffset += m.bitOffset;
      if (m.name) spec.spec.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === "array") {
      const elem = btf.skipModsAndTypedefs(t.type);
      const flex = isFlexArray(btf, spec.spec[spec.spec.length - 1], t.nelems);
      if (!flex && idx >= t.nelems) fail(`array index ${idx} out of range (${t.nelems} elements)`);
      id = elem.id;
      spec.spec.push({ typeId: id, idx });
      spec.bitOffset += idx * btf.sizeof(id) * 8;
    } else {
      fail(`access ${i} lands in ${btf.describe(id)}, which is neither struct, union nor array`);
    }
  }
  return spec;
}

/** A zero-length array as the last member of a struct (is_flex_arr). */
function isFlexArray(btf: Btf, acc: Accessor | undefined, nelems: number): boolean {
  if (!acc || !acc.name || nelems > 0) return false;
  const t = btf.type(acc.typeId);
  return isComposite(t) && acc.idx === t.members.length - 1;
}

/** Type compatibility for type-based relocations (__bpf_core_types_are_compat). */
export function coreTypesAreCompat(local: Btf, localId: number, targ: Btf, targId: number, level = 32): boolean {
  let lt = local.type(localId);
  let tt = targ.type(targId);
  if (!kindCompat(lt, tt)) return false;
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new BtfError("CO-RE type compatibility check: types nest too deep");
    lt = local.skipModsAndTypedefs(localId);
    tt = targ.skipModsAndTypedefs(targId);
    localId = lt.id;
    targId = tt.id;
    if (!kindCompat(lt, tt)) return false;
    switch (lt.kind) {
      case "void": case "struct": case "union": case "enum": case "fwd": case "enum64":
        return true;
      case "int":
        // Only deprecated bitfield-style ints (with a bit offset) are incompatible.
        return lt.bitsOffset === 0 && (tt as BtfType & { kind: "int" }).bitsOffset === 0;
      case "ptr":
        localId = lt.type;
        targId = (tt as typeof lt).type;
        continue;
      case "array":
        localId = lt.type;
        targId = (tt as typeof lt).type;
        continue;
      case "func_proto": {
        const tp = tt as typeof lt;
        if (lt.params.length !== tp.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (level <= 0) throw new BtfError("CO-RE type compatibility check: prototypes nest too deep");
          const a = local.skipModsAndTypedefs(lt.params[i].type).id;
          const b = targ.skipModsAndTypedefs(tp.params[i].type).id;
          if (!coreTypesAreCompat(local, a, targ, b, level - 1)) return false;
        }
        localId = local.skipModsAndTypedefs(lt.returnType).id;
        targId = targ.skipModsAndTypedefs(tp.returnType).id;
        continue;
      }
      default:
        return false;
    }
  }
}

/** Compatibility of a local field's type with a target field's (bpf_core_fields_are_compat). */
function fieldsAreCompat(local: Btf, localId: number, targ: Btf, targId: number): boolean {
  for (let depth = 0; ; depth++) {
    if (depth > 64) throw new BtfError("CO-RE field compatibility check: arrays nest too deep");
    const lt = local.skipModsAndTypedefs(localId);
    const tt = targ.skipModsAndTypedefs(targId);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindCompat(lt, tt)) return false;
    switch (lt.kind) {
      case "ptr": case "float":
        return true;
      case "fwd": case "enum": case "enum64": {
        const ll = essentialNameLength(lt.name);
        const tl = essentialNameLength(tt.name);
        // Either anonymous, or the same name up to the flavor.
        return ll === 0 || tl === 0 || (ll === tl && lt.name.slice(0, ll) === tt.name.slice(0, tl));
      }
      case "int":
        return lt.bitsOffset === 0 && (tt as typeof lt).bitsOffset === 0;
      case "array":
        localId = lt.type;
        targId = (tt as typeof lt).type;
        continue;
      default:
        return false;
    }
  }
}

/**
 * Finds the local named member in a target struct/union, descending into
 * anonymous members (bpf_core_match_member). Pushes onto `spec` as it goes.
 */
function matchMember(local: Btf, localAcc: Accessor, targ: Btf, targId: number, spec: CoreSpec, next: { id: number }): boolean {
  const tt = targ.skipModsAndTypedefs(targId);
  targId = tt.id;
  if (!isComposite(tt)) return false;
  const lt = local.type(localAcc.typeId);
  if (!isComposite(lt)) return false;
  const localMember = lt.members[localAcc.idx];
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i];
    if (spec.raw.length === BPF_CORE_SPEC_MAX_LEN) throw new BtfError("CO-RE: struct/union/array nesting too deep");
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (!m.name) {
      if (matchMember(local, localAcc, targ, m.type, spec, next)) return true;
    } else if (m.name === localMember.name) {
      spec.spec.push({ typeId: targId, idx: i, name: m.name });
      next.id = m.type;
      const ok = fieldsAreCompat(local, localMember.type, targ, m.type);
      if (!ok) spec.spec.pop();
      return ok;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return false;
}

/** Matches a local spec against one candidate (bpf_core_spec_match); the target spec, or undefined. */
function specMatch(local: CoreSpec, targ: Btf, targId: number): CoreSpec | undefined {
  const ts: CoreSpec = { btf: targ, rootTypeId: targId, kind: local.kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeBasedRelo(local.kind)) {
    const ok = local.kind === BPF_CORE_TYPE_MATCHES
      ? coreTypesMatch(local.btf, local.rootTypeId, targ, targId, false, 32)
      : coreTypesAreCompat(local.btf, local.rootTypeId, targ, targId);
    return ok ? ts : undefined;
  }
  if (isEnumvalBasedRelo(local.kind)) {
    const tt = targ.skipModsAndTypedefs(targId);
    if (!isAnyEnum(tt)) return undefined;
    const lname = local.spec[0].name ?? "";
    const ll = essentialNameLength(lname);
    for (let i = 0; i < tt.values.length; i++) {
      const n = tt.values[i].name;
      if (essentialNameLength(n) !== ll) continue;
      if (n.slice(0, ll) === lname.slice(0, ll)) {
        ts.spec.push({ typeId: tt.id, idx: i, name: n });
        ts.raw.push(i);
        return ts;
      }
    }
    return undefined;
  }
  let id = targId;
  for (let i = 0; i < local.spec.length; i++) {
    const la = local.spec[i];
    const tt = targ.skipModsAndTypedefs(id);
    id = tt.id;
    if (la.name) {
      const next = { id };
      if (!matchMember(local.btf, la, targ, id, ts, next)) return undefined;
      id = next.id;
    } else {
      if (i > 0) {
        if (tt.kind !== "array") return undefined;
        const flex = isFlexArray(targ, ts.spec[ts.spec.length - 1], tt.nelems);
        if (!flex && la.idx >= tt.nelems) return undefined;
        id = targ.skipModsAndTypedefs(tt.type).id;
      }
      if (ts.raw.length === BPF_CORE_SPEC_MAX_LEN) throw new BtfError("CO-RE: struct/union/array nesting too deep");
      ts.spec.push({ typeId: id, idx: la.idx });
      ts.raw.push(la.idx);
      ts.bitOffset += la.idx * targ.sizeof(id) * 8;
    }
  }
  return ts;
}

/** Name match ignoring flavors; anonymous matches only anonymous (bpf_core_names_match). */
function namesMatch(ln: string, tn: string): boolean {
  if (tn === "") return ln === "";
  const tl = essentialNameLength(tn);
  const ll = essentialNameLength(ln);
  return tl === ll && ln.slice(0, ll) === tn.slice(0, tl);
}

/** The stricter "types match" relation of BPF_CORE_TYPE_MATCHES (__bpf_core_types_match). */
export function coreTypesMatch(local: Btf, localId: number, targ: Btf, targId: number, behindPtr: boolean, level: number): boolean {
  if (level <= 0) throw new BtfError("CO-RE type match: types nest too deep");
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new BtfError("CO-RE type match: types nest too deep");
    const lt = local.skipModsAndTypedefs(localId);
    const tt = targ.skipModsAndTypedefs(targId);
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case "void":
        return tt.kind === "void";
      case "fwd":
        if (behindPtr) {
          if (tt.kind === "fwd") return lt.union === tt.union;
          return (tt.kind === "struct" && !lt.union) || (tt.kind === "union" && lt.union);
        }
        return tt.kind === "fwd" && lt.union === tt.union;
      case "enum": case "enum64": {
        if (!isAnyEnum(tt)) return false;
        if (lt.size !== tt.size || lt.values.length > tt.values.length) return false;
        return lt.values.every((lv) => tt.values.some((tv) => namesMatch(lv.name, tv.name)));
      }
      case "struct": case "union": {
        if (behindPtr) {
          if (lt.kind === tt.kind) return true;
          if (tt.kind !== "fwd") return false;
          return (lt.kind === "union") === tt.union;
        }
        if (lt.kind !== tt.kind) return false;
        const tm = (tt as typeof lt).members;
        if (lt.members.length > tm.length) return false;
        for (const lm of lt.members) {
          const ok = tm.some((m) => namesMatch(lm.name, m.name) && coreTypesMatch(local, lm.type, targ, m.type, behindPtr, level - 1));
          if (!ok) return false;
        }
        return true;
      }
      case "int": {
        if (tt.kind !== "int") return false;
        return lt.size === tt.size && (lt.encoding & BTF_INT_SIGNED) === (tt.encoding & BTF_INT_SIGNED);
      }
      case "ptr":
        if (tt.kind !== "ptr") return false;
        behindPtr = true;
        localId = lt.type;
        targId = tt.type;
        continue;
      case "array":
        if (tt.kind !== "array" || lt.nelems !== tt.nelems) return false;
        localId = lt.type;
        targId = tt.type;
        continue;
      case "func_proto": {
        if (tt.kind !== "func_proto" || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!coreTypesMatch(local, lt.params[i].type, targ, tt.params[i].type, behindPtr, level - 1)) return false;
        }
        localId = lt.returnType;
        targId = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}

interface FieldValue {
  val: bigint;
  size: number;
  typeId: number;
  validate: boolean;
}

/** bpf_core_calc_field_relo; undefined spec means "not found". Returns "poison" to request poisoning. */
function calcField(relo: CoreRelo, spec: CoreSpec | undefined, what: () => string): FieldValue | "poison" {
  const out: FieldValue = { val: 0n, size: 0, typeId: 0, validate: true };
  if (relo.kind === BPF_CORE_FIELD_EXISTS) {
    out.val = spec ? 1n : 0n;
    return out;
  }
  if (!spec) return "poison";
  const btf = spec.btf;
  const acc = spec.spec[spec.spec.length - 1];
  if (!acc.name) {
    if (relo.kind === BPF_CORE_FIELD_BYTE_OFFSET) {
      out.val = BigInt(spec.bitOffset / 8);
      out.size = btf.sizeof(acc.typeId);
      out.typeId = acc.typeId;
    } else if (relo.kind === BPF_CORE_FIELD_BYTE_SIZE) {
      out.val = BigInt(btf.sizeof(acc.typeId));
    } else {
      throw new BtfError(`${what()}: relocation kind ${coreReloKindName(relo.kind)} can't be applied to array access`);
    }
    out.validate = true;
    return out;
  }
  const t = btf.type(acc.typeId);
  if (!isComposite(t)) throw new BtfError(`${what()}: accessor is not in a struct/union`);
  const m = t.members[acc.idx];
  const mt = btf.skipModsAndTypedefs(m.type);
  const fieldTypeId = mt.id;
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    if (!("size" in mt) || mt.size === 0) throw new BtfError(`${what()}: bitfield of a type without size`);
    byteSz = mt.size;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // The smallest int size that covers the bitfield.
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new BtfError(`${what()}: bitfield can't be read with a 64-bit load`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeof(fieldTypeId);
    byteOff = Math.floor(spec.bitOffset / 8);
    bitSz = byteSz * 8;
  }
  // Bitfield layouts are ambiguous between compilers, so only signedness and shifts are checked.
  out.validate = !bitfield;
  switch (relo.kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
      out.val = BigInt(byteOff);
      if (!bitfield) {
        out.size = byteSz;
        out.typeId = fieldTypeId;
      }
      break;
    case BPF_CORE_FIELD_BYTE_SIZE:
      out.val = BigInt(byteSz);
      break;
    case BPF_CORE_FIELD_SIGNED:
      out.val = (isAnyEnum(mt) && mt.signed) || (mt.kind === "int" && (mt.encoding & BTF_INT_SIGNED) !== 0) ? 1n : 0n;
      out.validate = true;
      break;
    case BPF_CORE_FIELD_LSHIFT_U64:
      out.val = btf.byteOrder === "le"
        ? BigInt(64 - (bitOff + bitSz - byteOff * 8))
        : BigInt((8 - byteSz) * 8 + (bitOff - byteOff * 8));
      break;
    case BPF_CORE_FIELD_RSHIFT_U64:
      out.val = BigInt(64 - bitSz);
      out.validate = true;
      break;
    default:
      throw new BtfError(`${what()}: unrecognized CO-RE relocation kind ${relo.kind}`);
  }
  return out;
}

/** bpf_core_calc_type_relo. */
function calcType(relo: CoreRelo, spec: CoreSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (relo.kind) {
    case BPF_CORE_TYPE_ID_TARGET:
      // Type ids change with linking; checking the old one is pointless.
      return { val: BigInt(spec.rootTypeId), validate: false };
    case BPF_CORE_TYPE_EXISTS: case BPF_CORE_TYPE_MATCHES:
      return { val: 1n, validate: true };
    case BPF_CORE_TYPE_SIZE:
      return { val: BigInt(spec.btf.sizeof(spec.rootTypeId)), validate: true };
    default:
      throw new BtfError(`unrecognized CO-RE relocation kind ${relo.kind}`);
  }
}

/** bpf_core_calc_enumval_relo; "poison" when the value is needed but missing. */
function calcEnumval(relo: CoreRelo, spec: CoreSpec | undefined): bigint | "poison" {
  if (relo.kind === BPF_CORE_ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (!spec) return "poison";
  const t = spec.btf.type(spec.spec[0].typeId);
  if (t.kind === "enum") return BigInt(t.values[spec.spec[0].idx].value);
  if (t.kind === "enum64") return t.values[spec.spec[0].idx].value;
  throw new BtfError("CO-RE enum relocation: target is not an enum");
}

function calcRelo(relo: CoreRelo, local: CoreSpec, targ: CoreSpec | undefined, what: () => string): CoreResult {
  const res: CoreResult = {
    poison: false, validate: true, origVal: 0n, newVal: 0n, origSize: 0, newSize: 0, origTypeId: 0, newTypeId: 0,
    failMemszAdjust: false, localSpec: formatCoreSpec(local), targetSpec: targ ? formatCoreSpec(targ) : undefined,
  };
  if (isFieldBasedRelo(relo.kind)) {
    const o = calcField(relo, local, what);
    const n = calcField(relo, targ, what);
    if (o === "poison" || n === "poison") {
      res.poison = true;
      return res;
    }
    res.origVal = o.val;
    res.origSize = o.size;
    res.origTypeId = o.typeId;
    res.validate = o.validate;
    res.newVal = n.val;
    res.newSize = n.size;
    res.newTypeId = n.typeId;
    if (res.origSize !== res.newSize && targ) {
      const ot = local.btf.type(res.origTypeId);
      const nt = targ.btf.type(res.newTypeId);
      // Resizing a load is safe for pointers and unsigned integers (zero extension keeps the value).
      const safe = (ot.kind === "ptr" && nt.kind === "ptr") ||
        (ot.kind === "int" && nt.kind === "int" && ot.encoding !== BTF_INT_SIGNED && nt.encoding !== BTF_INT_SIGNED);
      res.failMemszAdjust = !safe;
    }
  } else if (isTypeBasedRelo(relo.kind)) {
    const o = calcType(relo, local);
    res.origVal = o.val;
    res.validate = o.validate;
    res.newVal = calcType(relo, targ).val;
  } else if (isEnumvalBasedRelo(relo.kind)) {
    const o = calcEnumval(relo, local);
    const n = calcEnumval(relo, targ);
    if (o === "poison" || n === "poison") {
      res.poison = true;
      return res;
    }
    res.origVal = o;
    res.newVal = n;
  } else {
    throw new BtfError(`${what()}: unrecognized CO-RE relocation kind ${relo.kind}`);
  }
  return res;
}

/** A spec as libbpf's bpf_core_format_spec prints it. */
export function formatCoreSpec(spec: CoreSpec): string {
  const t = spec.btf.type(spec.rootTypeId);
  let s = `<${coreReloKindName(spec.kind)}> [${spec.rootTypeId}] ${kindStr(t)} ${t.name || "<anon>"}`;
  if (isTypeBasedRelo(spec.kind)) return s;
  if (isEnumvalBasedRelo(spec.kind)) {
    const e = spec.btf.skipModsAndTypedefs(spec.rootTypeId);
    if (isAnyEnum(e) && spec.raw.length) {
      const v = e.values[spec.raw[0]];
      if (v) s += `::${v.name} = ${v.value}`;
    }
    return s;
  }
  spec.spec.forEach((a, i) => {
    if (a.name) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  s += ` (${spec.raw.join(":")}`;
  s += spec.bitOffset % 8 ? ` @ offset ${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8})` : ` @ offset ${spec.bitOffset / 8})`;
  return s;
}

/**
 * Resolves CO-RE relocations of one local BTF against target BTFs, caching
 * and pruning candidate lists per local type the way libbpf does (a
 * candidate that failed to match one relocation is dropped for later ones of
 * the same type, once at least one candidate matched).
 */
export class CoreResolver {
  private readonly cache = new Map<number, CoreCandidate[]>();

  constructor(
    readonly local: Btf,
    /** vmlinux first, then module BTFs (split on top of it). */
    readonly targets: readonly Btf[],
  ) {}

  /** Computes a relocation's result; throws BtfError for malformed or ambiguous relocations. */
  resolve(relo: CoreRelo, where = ""): CoreResult {
    const what = (): string => `${where ? where + ": " : ""}CO-RE relocation <${coreReloKindName(relo.kind)}> [${relo.typeId}] "${relo.accessString}"`;
    if (relo.typeId === 0 || relo.typeId >= this.local.typeCount) throw new BtfError(`${what()}: local type id does not exist`);
    const localType = this.local.type(relo.typeId);
    const local = parseCoreSpec(this.local, relo);
    if (relo.kind === BPF_CORE_TYPE_ID_LOCAL) {
      // Needs no target: the local id, unchecked since linking may renumber it.
      const id = BigInt(local.rootTypeId);
      return {
        poison: false, validate: false, origVal: id, newVal: id, origSize: 0, newSize: 0, origTypeId: 0, newTypeId: 0,
        failMemszAdjust: false, localSpec: formatCoreSpec(local),
      };
    }
    if (!localType.name) throw new BtfError(`${what()}: relocations against anonymous types are not supported`);
    let cands = this.cache.get(relo.typeId);
    if (!cands) {
      cands = findCoreCandidates(this.local, relo.typeId, this.targets);
      this.cache.set(relo.typeId, cands);
    }
    let result: CoreResult | undefined;
    let targSpec: CoreSpec | undefined;
    const kept: CoreCandidate[] = [];
    for (const cand of cands) {
      const cs = specMatch(local, cand.btf, cand.id);
      if (!cs) continue;
      const r = calcRelo(relo, local, cs, what);
      if (!result || !targSpec) {
        result = r;
        targSpec = cs;
      } else if (cs.bitOffset !== targSpec.bitOffset) {
        throw new BtfError(`${what()}: field offset ambiguity: ${cs.bitOffset} != ${targSpec.bitOffset}`);
      } else if (r.poison !== result.poison || r.newVal !== result.newVal) {
        throw new BtfError(`${what()}: relocation decision ambiguity: ${r.poison ? "failure" : "success"} ${r.newVal} != ${result.poison ? "failure" : "success"} ${result.newVal}`);
      }
      kept.push(cand);
    }
    if (kept.length) this.cache.set(relo.typeId, kept);
    // No candidate: field reads are poisoned, existence checks say 0 (the code is dead or a bug the verifier reports).
    return result ?? calcRelo(relo, local, undefined, what);
  }
}
