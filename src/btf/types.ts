/**
 * BTF types as a discriminated union over `kind`, one variant per BTF_KIND_*
 * (include/uapi/linux/btf.h; Documentation/bpf/btf.rst, "BTF Type and String
 * Encoding"). Names are decoded strings; type references are type ids. Id 0 is
 * `void`. The kind flag is kept where it means something (bitfield member
 * encoding, enum signedness, fwd union, tag attributes).
 */
import {
  BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG, BTF_KIND_ENUM, BTF_KIND_ENUM64,
  BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT, BTF_KIND_PTR,
  BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG, BTF_KIND_UNION, BTF_KIND_UNKN,
  BTF_KIND_VAR, BTF_KIND_VOLATILE,
} from "./kinds.js";

interface Named {
  /** Type id in its BTF (0 for void). */
  id: number;
  /** "" for anonymous types. */
  name: string;
}

export interface BtfVoid extends Named {
  kind: "void";
}

export interface BtfInt extends Named {
  kind: "int";
  size: number;
  /** BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL bits. */
  encoding: number;
  /** BTF_INT_OFFSET: bit offset of the value within `size` bytes (0 in practice). */
  bitsOffset: number;
  /** BTF_INT_BITS. */
  bits: number;
}

export interface BtfPtr extends Named {
  kind: "ptr";
  type: number;
}

export interface BtfArray extends Named {
  kind: "array";
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the struct/union. */
  bitOffset: number;
  /** Bitfield width in bits, 0 for a plain member. */
  bitfieldSize: number;
}

export interface BtfStruct extends Named {
  kind: "struct";
  size: number;
  /** Kind flag: members encode (bitfield_size << 24 | bit_offset). */
  kindFlag: boolean;
  members: BtfMember[];
}

export interface BtfUnion extends Named {
  kind: "union";
  size: number;
  kindFlag: boolean;
  members: BtfMember[];
}

export interface BtfEnumValue {
  name: string;
  /** Signed 32-bit when the enum is signed, unsigned 32-bit otherwise. */
  value: number;
}

export interface BtfEnum extends Named {
  kind: "enum";
  size: number;
  /** Kind flag: values are signed. */
  signed: boolean;
  values: BtfEnumValue[];
}

export interface BtfEnum64Value {
  name: string;
  /** Signed 64-bit when the enum is signed, unsigned 64-bit otherwise. */
  value: bigint;
}

export interface BtfEnum64 extends Named {
  kind: "enum64";
  size: number;
  signed: boolean;
  values: BtfEnum64Value[];
}

export interface BtfFwd extends Named {
  kind: "fwd";
  /** Kind flag: a forward-declared union (else struct). */
  union: boolean;
}

export interface BtfTypedef extends Named {
  kind: "typedef";
  type: number;
}

export interface BtfVolatile extends Named {
  kind: "volatile";
  type: number;
}

export interface BtfConst extends Named {
  kind: "const";
  type: number;
}

export interface BtfRestrict extends Named {
  kind: "restrict";
  type: number;
}

export interface BtfFunc extends Named {
  kind: "func";
  /** The FUNC_PROTO. */
  type: number;
  /** BTF_FUNC_STATIC, BTF_FUNC_GLOBAL, BTF_FUNC_EXTERN (stored in vlen). */
  linkage: number;
}

export interface BtfParam {
  name: string;
  /** 0 for the trailing void of a variadic prototype. */
  type: number;
}

export interface BtfFuncProto extends Named {
  kind: "func_proto";
  returnType: number;
  params: BtfParam[];
}

export interface BtfVar extends Named {
  kind: "var";
  type: number;
  /** BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN. */
  linkage: number;
}

export interface BtfVarSecinfo {
  /** A VAR (or, in .ksyms, a FUNC). */
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends Named {
  kind: "datasec";
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends Named {
  kind: "float";
  size: number;
}

export interface BtfDeclTag extends Named {
  kind: "decl_tag";
  type: number;
  /** -1 for the type itself, else the member/parameter index. */
  componentIdx: number;
  /** Kind flag: the tag is an attribute, not a btf_decl_tag. */
  kindFlag: boolean;
}

export interface BtfTypeTag extends Named {
  kind: "type_tag";
  type: number;
  kindFlag: boolean;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfStruct | BtfUnion | BtfEnum | BtfFwd | BtfTypedef
  | BtfVolatile | BtfConst | BtfRestrict | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat
  | BtfDeclTag | BtfTypeTag | BtfEnum64;

export type BtfKind = BtfType["kind"];

/** A type as given to the builder: everything but the id. */
export type BtfTypeInit = BtfType extends infer T ? (T extends BtfType ? Omit<T, "id"> : never) : never;

export type BtfComposite = BtfStruct | BtfUnion;
export type BtfAnyEnum = BtfEnum | BtfEnum64;
/** Kinds that only qualify another type. */
export type BtfModifier = BtfVolatile | BtfConst | BtfRestrict | BtfTypeTag;

/** The BTF_KIND_* number of a kind. */
export function kindNumber(kind: BtfKind): number {
  switch (kind) {
    case "void": return BTF_KIND_UNKN;
    case "int": return BTF_KIND_INT;
    case "ptr": return BTF_KIND_PTR;
    case "array": return BTF_KIND_ARRAY;
    case "struct": return BTF_KIND_STRUCT;
    case "union": return BTF_KIND_UNION;
    case "enum": return BTF_KIND_ENUM;
    case "fwd": return BTF_KIND_FWD;
    case "typedef": return BTF_KIND_TYPEDEF;
    case "volatile": return BTF_KIND_VOLATILE;
    case "const": return BTF_KIND_CONST;
    case "restrict": return BTF_KIND_RESTRICT;
    case "func": return BTF_KIND_FUNC;
    case "func_proto": return BTF_KIND_FUNC_PROTO;
    case "var": return BTF_KIND_VAR;
    case "datasec": return BTF_KIND_DATASEC;
    case "float": return BTF_KIND_FLOAT;
    case "decl_tag": return BTF_KIND_DECL_TAG;
    case "type_tag": return BTF_KIND_TYPE_TAG;
    case "enum64": return BTF_KIND_ENUM64;
  }
}

export const isComposite = (t: BtfType): t is BtfComposite => t.kind === "struct" || t.kind === "union";
export const isAnyEnum = (t: BtfType): t is BtfAnyEnum => t.kind === "enum" || t.kind === "enum64";
/** CONST, VOLATILE, RESTRICT, TYPE_TAG (libbpf's btf_is_mod). */
export const isModifier = (t: BtfType): t is BtfModifier =>
  t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag";

/** The type a reference kind points at, or undefined for kinds without a single `type`. */
export function referencedType(t: BtfType): number | undefined {
  switch (t.kind) {
    case "ptr": case "typedef": case "volatile": case "const": case "restrict": case "func": case "var":
    case "decl_tag": case "type_tag":
      return t.type;
    default:
      return undefined;
  }
}

/** Every type id a type refers to, in encoding order. */
export function referencedTypes(t: BtfType): number[] {
  switch (t.kind) {
    case "void": case "int": case "enum": case "enum64": case "fwd": case "float":
      return [];
    case "ptr": case "typedef": case "volatile": case "const": case "restrict": case "func": case "var":
    case "decl_tag": case "type_tag":
      return [t.type];
    case "array":
      return [t.type, t.indexType];
    case "struct": case "union":
      return t.members.map((m) => m.type);
    case "func_proto":
      return [t.returnType, ...t.params.map((p) => p.type)];
    case "datasec":
      return t.vars.map((v) => v.type);
  }
}
