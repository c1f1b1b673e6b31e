/**
 * The kernel's is_valid_access as data: for each context field a program type
 * exposes, which load and store sizes it accepts and what a load produces. One
 * evaluator (checkCtxAccess) serves every program type whose context is a fixed
 * uapi struct; the rule tables live in each program type's module.
 *
 * Size rules follow the kernel's helpers in include/linux/filter.h:
 * bpf_ctx_narrow_access_ok (narrow loads of a wider field), bpf_ctx_wide_access_ok
 * (u64 access to pairs of u32 array elements, user_ip6 / msg_src_ip6), and the
 * `off % size != 0` check nearly every is_valid_access starts with.
 */
import type { CtxAccessResult, CtxLoadType } from "./types.js";
import { field, fieldEnd, type CtxField, type CtxLayout } from "./ctx/layout.js";

export type SizeRule =
  /** Only the field's (element's) full size, at its start. */
  | "exact"
  /** Any power-of-two size up to the field's (element's) size, inside it (bpf_ctx_narrow_access_ok). */
  | "narrow"
  /** Any aligned size up to 8 inside the whole field, arrays included (__sk_buff.cb, pt_regs). */
  | "any"
  /** Whole elements, or 8 bytes at an 8-aligned offset inside the array (bpf_ctx_wide_access_ok). */
  | "wide"
  /** Narrow loads at the field's (element's) start only (bpf_sock.family, sock_ops.skb_tcp_flags). */
  | "narrowStart"
  /** Narrow, but no smaller than `min` bytes (sk_reuseport_md.eth_protocol: at least a u16). */
  | { readonly narrowMin: number }
  /** Narrow, plus one wider size at the field's start (bpf_sock.dst_port: a u32 load of the __be16). */
  | { readonly narrowOr: number };

export interface FieldAccess {
  readonly read?: SizeRule;
  readonly write?: SizeRule;
  /** What a full-size load produces (default: a scalar). */
  readonly load?: CtxLoadType;
  /** For btf_id loads: the pointee type. */
  readonly btfType?: string;
}

/** One row of a program type's access table: a field of the layout (or a span the kernel treats as one). */
export interface FieldAccessRow extends FieldAccess {
  readonly field: CtxField;
}

/**
 * Builds rows from a field-name-keyed table. `spans` adds byte ranges that are
 * not uapi fields but that the kernel names in is_valid_access (padding it lets
 * programs read for backward compatibility, perf_event's regs as u64 words).
 */
export function accessRows(l: CtxLayout, table: Readonly<Record<string, FieldAccess>>, spans: readonly CtxField[] = []): readonly FieldAccessRow[] {
  return Object.entries(table).map(([name, acc]) => ({ ...acc, field: spans.find((s) => s.name === name) ?? field(l, name) }));
}

/** A span that is not a uapi field: `size`-byte elements, `count` of them. */
export function span(name: string, offset: number, size: number, count?: number): CtxField {
  return { name, offset, size, ctype: "__u32", kind: "scalar", ...(count !== undefined ? { count } : {}) };
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

function sizeOk(rule: SizeRule, f: CtxField, off: number, size: number): boolean {
  // A wider load of a narrow field at its start (a u32 load of a __be16 port) reaches past the field.
  if (typeof rule === "object" && "narrowOr" in rule && size === rule.narrowOr && off === f.offset) return true;
  const end = fieldEnd(f);
  if (off < f.offset || off + size > end) return false;
  const elemStart = f.offset + Math.floor((off - f.offset) / f.size) * f.size;
  const inElem = off + size <= elemStart + f.size;
  if (typeof rule === "object") {
    if ("narrowMin" in rule) return size >= rule.narrowMin && size <= f.size && isPow2(size) && inElem;
    return size <= f.size && isPow2(size) && inElem;
  }
  switch (rule) {
    case "exact":
      return size === f.size && off === elemStart;
    case "narrow":
      return size <= f.size && isPow2(size) && inElem;
    case "narrowStart":
      return size <= f.size && isPow2(size) && off === elemStart;
    case "any":
      return size <= 8 && isPow2(size);
    case "wide":
      return (size === f.size && off === elemStart) || (size === 8 && off % 8 === 0);
  }
}

const DENY: CtxAccessResult = { ok: false };

/**
 * May a program read (or write) `size` bytes at `off` of its context, under
 * `rows`? The first row whose field holds `off` and whose rule accepts the
 * access decides (rows may overlap, as unions do).
 */
export function checkCtxAccess(l: CtxLayout, rows: readonly FieldAccessRow[], off: number, size: number, write: boolean): CtxAccessResult {
  if (!Number.isInteger(off) || off < 0 || off + size > l.size || off % size !== 0) return DENY;
  for (const row of rows) {
    const rule = write ? row.write : row.read;
    if (rule === undefined || !sizeOk(rule, row.field, off, size)) continue;
    if (write) return { ok: true, regType: "scalar" };
    const full = size === row.field.size && row.load !== undefined;
    return full
      ? { ok: true, regType: row.load ?? "scalar", ...(row.btfType ? { btfType: row.btfType } : {}) }
      : { ok: true, regType: "scalar" };
  }
  return DENY;
}
