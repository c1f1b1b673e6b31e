/**
 * BTF numbers. include/uapi/linux/btf.h and Documentation/bpf/btf.rst.
 */

/** struct btf_header.magic. */
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** sizeof(struct btf_header). */
export const BTF_HEADER_SIZE = 24;
/** sizeof(struct btf_type). */
export const BTF_TYPE_SIZE = 12;

export const BTF_KIND_UNKN = 0;
export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;
export const BTF_KIND_MAX = BTF_KIND_ENUM64;

/** Bits of an INT's encoding. include/uapi/linux/btf.h, BTF_INT_ENCODING. */
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

/** FUNC linkage (vlen of a FUNC). include/uapi/linux/btf.h, enum btf_func_linkage. */
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

/** VAR linkage. include/uapi/linux/btf.h, enum btf_var_linkage ... */
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;

/** Most members/params/values a type can have (vlen is 16 bits). */
export const BTF_MAX_VLEN = 0xffff;

/** The kind names as bpftool prints them (tools/bpf/bpftool/btf.c, btf_kind_str). */
export const BTF_KIND_NAMES: readonly string[] = [
  "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST",
  "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
];

/** Linkage names as bpftool prints them (btf_func_linkage_str / btf_var_linkage_str). */
export function funcLinkageName(linkage: number): string {
  switch (linkage) {
    case BTF_FUNC_STATIC: return "static";
    case BTF_FUNC_GLOBAL: return "global";
    case BTF_FUNC_EXTERN: return "extern";
    default: return "(unknown)";
  }
}

export function varLinkageName(linkage: number): string {
  switch (linkage) {
    case BTF_VAR_STATIC: return "static";
    case BTF_VAR_GLOBAL_ALLOCATED: return "global";
    case BTF_VAR_GLOBAL_EXTERN: return "extern";
    default: return "(unknown)";
  }
}

/** An INT encoding as bpftool prints it (btf_int_enc_str). */
export function intEncodingName(encoding: number): string {
  switch (encoding) {
    case 0: return "(none)";
    case BTF_INT_SIGNED: return "SIGNED";
    case BTF_INT_CHAR: return "CHAR";
    case BTF_INT_BOOL: return "BOOL";
    default: return "UNKN";
  }
}
