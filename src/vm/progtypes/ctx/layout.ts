/**
 * Context layouts as data: each uapi context struct's fields with their byte
 * offsets and sizes (include/uapi/linux/bpf.h, checked against the running
 * kernel's BTF in test/vm/progtypes/ctx-layout.test.ts). The vm stores contexts
 * in exactly this layout; pointer fields that the uapi declares as __u32
 * (__sk_buff.data, xdp_md.data, ...) hold 32-bit vm addresses.
 *
 * How a program type may access these fields is not here: that differs per
 * program type and lives in src/vm/progtypes/<type>.ts.
 */

/** What a field holds, as the runtime builds it. */
export type CtxFieldKind =
  /** A number (any __u8/__u16/__u32/__u64/__s32/__be16 field). */
  | "scalar"
  /** A __u32 field holding an address (__sk_buff.data, xdp_md.data_end, ...). */
  | "addr32"
  /** A 64-bit pointer (__bpf_md_ptr fields, pointers in bpf_nf_ctx). */
  | "ptr";

export interface CtxField {
  readonly name: string;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** Size in bytes; for arrays, of one element. */
  readonly size: number;
  /** Element count for array fields (cb[5], remote_ip6[4], args[]). */
  readonly count?: number;
  /** The C type as the uapi header spells it. */
  readonly ctype: string;
  readonly kind: CtxFieldKind;
}

export interface CtxLayout {
  /** The struct's name ("__sk_buff", "xdp_md"). */
  readonly name: string;
  /** sizeof(struct ...). */
  readonly size: number;
  /** Fields in order; anonymous unions are flattened, so fields may overlap. */
  readonly fields: readonly CtxField[];
}

type FieldRow = readonly [name: string, offset: number, size: number, ctype: string, count?: number];

/** Builds a layout from [name, offset, size, ctype, count?] rows; `addr32` names the __u32 address fields. */
export function layout(name: string, size: number, rows: readonly FieldRow[], addr32: readonly string[] = []): CtxLayout {
  const fields = rows.map(([n, offset, sz, ctype, count]): CtxField => ({
    name: n,
    offset,
    size: sz,
    ctype,
    ...(count !== undefined ? { count } : {}),
    kind: addr32.includes(n) ? "addr32" : ctype.endsWith("*") ? "ptr" : "scalar",
  }));
  return { name, size, fields };
}

/** A field by name; throws for a name the layout lacks (a typo in a rule table). */
export function field(l: CtxLayout, name: string): CtxField {
  const f = l.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${l.name} has no field ${name}`);
  return f;
}

/** Bytes the field occupies: size × count for arrays. */
export function fieldEnd(f: CtxField): number {
  return f.offset + f.size * (f.count ?? 1);
}
