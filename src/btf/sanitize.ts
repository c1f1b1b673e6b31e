/**
 * Rewrites BTF for a kernel that lacks some kinds, the way libbpf does before
 * BPF_BTF_LOAD (libbpf.c, bpf_object__sanitize_btf): each missing kind is
 * replaced by an older one of the same size, so type ids and layouts stay put.
 */
import type { Btf } from "./btf.js";
import { BtfBuilder } from "./encode.js";
import { BTF_FUNC_STATIC } from "./kinds.js";
import type { BtfType } from "./types.js";

/** What the target kernel's BTF loader understands. Kernel versions from libbpf's feature probes. */
export interface BtfFeatures {
  /** BTF_KIND_FUNC and FUNC_PROTO (4.20). */
  readonly func: boolean;
  /** FUNC with BTF_FUNC_GLOBAL linkage (5.6). */
  readonly funcGlobal: boolean;
  /** BTF_KIND_VAR and DATASEC (5.2). */
  readonly datasec: boolean;
  /** BTF_KIND_FLOAT (5.13). */
  readonly float: boolean;
  /** BTF_KIND_DECL_TAG (5.16). */
  readonly declTag: boolean;
  /** BTF_KIND_TYPE_TAG (5.17). */
  readonly typeTag: boolean;
  /** BTF_KIND_ENUM64 and signed enums (6.0). */
  readonly enum64: boolean;
}

export const ALL_BTF_FEATURES: BtfFeatures = {
  func: true, funcGlobal: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true,
};

/** Whether sanitizing for these features would change anything at all. */
export function needsSanitizing(f: BtfFeatures): boolean {
  return !f.func || !f.funcGlobal || !f.datasec || !f.float || !f.declTag || !f.typeTag || !f.enum64;
}

/** A copy of `btf` with every kind the kernel lacks replaced. Returns `btf` itself when nothing is missing. */
export function sanitizeBtf(btf: Btf, f: BtfFeatures): Btf {
  if (!needsSanitizing(f)) return btf;
  const b = BtfBuilder.from(btf);
  const types = b.types;
  let enum64Placeholder = 0;
  for (let i = 0; i < types.length; i++) {
    const t = types[i];
    const id = t.id;
    let r: BtfType | undefined;
    if ((!f.datasec && t.kind === "var") || (!f.declTag && t.kind === "decl_tag")) {
      // A 1-byte int: 4 could be larger than the variable and fail the kernel's checks.
      r = { id, name: t.name, kind: "int", size: 1, encoding: 0, bitsOffset: 0, bits: 8 };
    } else if (!f.datasec && t.kind === "datasec") {
      // A struct whose members keep the variables' names; C cannot have '.' in a tag.
      r = {
        id, name: t.name.replace(/\./g, "_"), kind: "struct", size: t.size, kindFlag: false,
        members: t.vars.map((v) => ({ name: btf.type(v.type).name, type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 })),
      };
    } else if (!f.func && t.kind === "func_proto") {
      // An enum with as many (nameless) values as parameters; the kernel wants size 4.
      r = { id, name: t.name, kind: "enum", size: 4, signed: false, values: t.params.map((p) => ({ name: p.name, value: p.type })) };
    } else if (!f.func && t.kind === "func") {
      r = { id, name: t.name, kind: "typedef", type: t.type };
    } else if (!f.funcGlobal && t.kind === "func") {
      r = { ...t, linkage: BTF_FUNC_STATIC };
    } else if (!f.float && t.kind === "float") {
      // An empty struct of the same size, anonymous since "float" is no valid tag.
      r = { id, name: "", kind: "struct", size: t.size, kindFlag: false, members: [] };
    } else if (!f.typeTag && t.kind === "type_tag") {
      r = { id, name: "", kind: "const", type: t.type };
    } else if (!f.enum64 && t.kind === "enum") {
      r = { ...t, signed: false };
    } else if (!f.enum64 && t.kind === "enum64") {
      if (enum64Placeholder === 0) enum64Placeholder = b.addInt("enum64_placeholder", 1, 0);
      r = {
        id, name: t.name, kind: "union", size: t.size, kindFlag: false,
        members: t.values.map((v) => ({ name: v.name, type: enum64Placeholder, bitOffset: 0, bitfieldSize: 0 })),
      };
    }
    if (r) types[i] = r;
  }
  return b.build();
}
