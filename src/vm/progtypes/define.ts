/**
 * Builds a ProgTypeVerifierInfo from data: a context layout with per-attach-type
 * access rows (or a custom is_valid_access), a helper set per attach type, the
 * return range per attach type, and the packet-access rights.
 */
import { helperProtoVariant } from "../helpers/protos.js";
import type { HelperProto } from "../helpers/proto.js";
import { checkCtxAccess, type FieldAccessRow } from "./access.js";
import type { CtxLayout } from "./ctx/layout.js";
import type { HelperEntry, HelperSet } from "./funcs.js";
import type { CtxAccessResult, HelperOptions, ProgTypeVerifierInfo } from "./types.js";

export interface ProgTypeSpec {
  readonly id: number;
  readonly name: string;
  readonly uapiName: string;
  readonly ctxStruct: string;
  readonly ctxSize: number;
  readonly ctxLayout?: CtxLayout;
  /** Accepted expected_attach_type values, the default first (0 when the type ignores it). */
  readonly attachTypes: readonly number[];
  /** Access rows per attach type (for layout-based contexts). */
  readonly access?: (attachType: number) => readonly FieldAccessRow[];
  /** A custom is_valid_access (tracepoint, raw_tracepoint, kprobe, syscall, tracing). */
  readonly isValidAccess?: (off: number, size: number, write: boolean, attachType: number) => CtxAccessResult;
  readonly helpers: (attachType: number) => HelperSet;
  readonly returnRange: (attachType: number) => readonly [number, number] | undefined;
  readonly packetAccess: { readonly read: boolean; readonly write: boolean };
}

const ALL_CAPS = { bpf: true, perfmon: true } as const;

function entryAllowed(e: HelperEntry, attachType: number, opts: HelperOptions | undefined): boolean {
  const caps = opts?.caps ?? ALL_CAPS;
  if (e.tier === "bpf" && !caps.bpf) return false;
  if (e.tier === "perfmon" && (!caps.perfmon || !caps.bpf)) return false;
  if (e.attach && !e.attach.includes(attachType)) return false;
  if (e.notAttach?.includes(attachType)) return false;
  return true;
}

export function defineProgType(spec: ProgTypeSpec): ProgTypeVerifierInfo {
  const layout = spec.ctxLayout;
  const rowsCache = new Map<number, readonly FieldAccessRow[]>();
  const rows = (attachType: number): readonly FieldAccessRow[] => {
    let r = rowsCache.get(attachType);
    if (!r) rowsCache.set(attachType, (r = spec.access ? spec.access(attachType) : []));
    return r;
  };
  const helperProto = (id: number, attachType: number, opts?: HelperOptions): HelperProto | undefined => {
    const e = spec.helpers(attachType).get(id);
    if (!e || !entryAllowed(e, attachType, opts)) return undefined;
    const variant = e.variant ?? (id === 141 || id === 67 ? (opts?.sleepable ? "sleepable" : undefined) : undefined);
    return helperProtoVariant(id, variant);
  };
  return {
    id: spec.id,
    name: spec.name,
    uapiName: spec.uapiName,
    ctxStruct: spec.ctxStruct,
    ctxSize: spec.ctxSize,
    ...(layout ? { ctxLayout: layout } : {}),
    attachTypes: spec.attachTypes,
    isValidAccess(off, size, write, attachType) {
      if (spec.isValidAccess) return spec.isValidAccess(off, size, write, attachType);
      if (!layout) return { ok: false };
      return checkCtxAccess(layout, rows(attachType), off, size, write);
    },
    ctxAccess: rows,
    allowsHelper: (id, attachType, opts) => helperProto(id, attachType, opts) !== undefined,
    helperProto,
    returnRange: spec.returnRange,
    packetAccess: spec.packetAccess,
  };
}

/** Return ranges (check_return_code, kernel/bpf/verifier.c). */
export const anyReturn = (): undefined => undefined;
export const zeroOrOne = (): readonly [number, number] => [0, 1];
