/**
 * Register state as the kernel keeps it (struct bpf_reg_state,
 * include/linux/bpf_verifier.h) and the scalar-bounds machinery of
 * kernel/bpf/verifier.c: __mark_reg_known, reg_bounds_sync (__update_reg_bounds,
 * __reg_deduce_bounds, __reg_bound_offset), coerce_reg_to_size and the
 * scalar(32)_min_max_* ALU transfer functions of adjust_scalar_min_max_vals.
 * 64-bit bounds are bigints (signed in smin/smax, unsigned in umin/umax);
 * 32-bit bounds are numbers.
 */
import type { VerifierMapInfo } from "./types.js";
import {
  type Tnum, TNUM_UNKNOWN, U32, U64, tnumAdd, tnumAnd, tnumArshift, tnumCast, tnumConst, tnumIntersect,
  tnumIsConst, tnumLshift, tnumMul, tnumNeg, tnumOr, tnumRange, tnumRshift, tnumSub, tnumSubreg, tnumClearSubreg, tnumXor,
} from "./tnum.js";

/** Base register types (enum bpf_reg_type). */
export const enum T {
  NOT_INIT = 0,
  SCALAR = 1,
  CTX = 2,
  MAP_PTR = 3,
  MAP_VALUE = 4,
  STACK = 5,
  PKT = 6,
  PKT_META = 7,
  PKT_END = 8,
  MEM = 9,
  FUNC = 10,
  MAP_KEY = 11,
  SOCKET = 12,
  SOCK_COMMON = 13,
  BTF_ID = 14,
  FLOW_KEYS = 15,
  TP_BUFFER = 16,
  /** PTR_TO_BUF, and PTR_TO_BTF_ID | PTR_TRUSTED: only named in messages (not produced here). */
  BUF = 17,
  TRUSTED_BTF_ID = 18,
  /** CONST_PTR_TO_DYNPTR: what a dynptr's stack slots hold (spilled_ptr). */
  DYNPTR = 19,
  /** PTR_TO_TCP_SOCK: a struct bpf_tcp_sock (bpf_tcp_sock's result). */
  TCP_SOCK = 20,
  /** PTR_TO_XDP_SOCK: only named in messages (not produced here). */
  XDP_SOCK = 21,
}

/** Type flags (enum bpf_type_flag). */
export const MAYBE_NULL = 1 << 8;
export const MEM_RDONLY = 1 << 9;
export const MEM_RINGBUF = 1 << 10;
export const BASE_MASK = 0xff;

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -0x80000000;
export const S32_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s32 = (v: number): number => v | 0;
const u32 = (v: number): number => v >>> 0;
const lo32 = (v: bigint): number => Number(v & U32);
const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export class Reg {
  type = T.NOT_INIT as number;
  /** Fixed offset of a pointer. */
  off = 0;
  varOff: Tnum = TNUM_UNKNOWN;
  smin = S64_MIN;
  smax = S64_MAX;
  umin = 0n;
  umax = U64;
  s32min = S32_MIN;
  s32max = S32_MAX;
  u32min = 0;
  u32max = U32_MAX;
  id = 0;
  refObjId = 0;
  /** map_ptr / map_value / map_key: the map. */
  map: VerifierMapInfo | null = null;
  /** Handle (LD_IMM64 imm) the map was loaded from. */
  mapHandle = -1;
  /** Packet pointers: bytes known accessible from the pointer (or BEYOND_PKT_END / AT_PKT_END). */
  range = 0;
  /** PTR_TO_MEM: size. */
  memSize = 0;
  /** PTR_TO_STACK: frame the pointer points into. */
  frameno = 0;
  /** PTR_TO_FUNC: subprogram index. */
  subprogno = 0;
  precise = false;
  /** PTR_TO_BTF_ID: type name. */
  btfType = "";
  /** A dynptr's stack slots (spilled_ptr.dynptr): its kind, and whether this is its first slot. */
  dynptrType: "" | "local" | "ringbuf" = "";
  dynptrFirst = false;
  /** A dynptr slice: the id of the dynptr it came from (dynptr_id). */
  dynptrId = 0;

  copyFrom(o: Reg): this {
    this.type = o.type; this.off = o.off; this.varOff = o.varOff;
    this.smin = o.smin; this.smax = o.smax; this.umin = o.umin; this.umax = o.umax;
    this.s32min = o.s32min; this.s32max = o.s32max; this.u32min = o.u32min; this.u32max = o.u32max;
    this.id = o.id; this.refObjId = o.refObjId; this.map = o.map; this.mapHandle = o.mapHandle;
    this.range = o.range; this.memSize = o.memSize; this.frameno = o.frameno; this.subprogno = o.subprogno;
    this.precise = o.precise; this.btfType = o.btfType;
    this.dynptrType = o.dynptrType; this.dynptrFirst = o.dynptrFirst; this.dynptrId = o.dynptrId;
    return this;
  }

  clone(): Reg {
    return new Reg().copyFrom(this);
  }
}

export const base = (t: number): number => t & BASE_MASK;
export const isPointer = (r: Reg): boolean => r.type !== T.SCALAR && r.type !== T.NOT_INIT;
export const isPktPointer = (t: number): boolean => t === T.PKT || t === T.PKT_META;
export const isPktAny = (t: number): boolean => t === T.PKT || t === T.PKT_META || t === T.PKT_END;
export const mayBeNull = (t: number): boolean => (t & MAYBE_NULL) !== 0;

export const BEYOND_PKT_END = -1;
export const AT_PKT_END = -2;

// ---- marking ----

export function markUnbounded(r: Reg): void {
  r.smin = S64_MIN; r.smax = S64_MAX; r.umin = 0n; r.umax = U64;
  r.s32min = S32_MIN; r.s32max = S32_MAX; r.u32min = 0; r.u32max = U32_MAX;
}

export function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN; r.smax = S64_MAX; r.umin = 0n; r.umax = U64;
}

export function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN; r.s32max = S32_MAX; r.u32min = 0; r.u32max = U32_MAX;
}

/** ___mark_reg_known: bounds and var_off of the constant imm (a u64). */
export function setKnown(r: Reg, imm: bigint): void {
  const v = u64(imm);
  r.varOff = tnumConst(v);
  r.smin = r.smax = s64(v);
  r.umin = r.umax = v;
  r.s32min = r.s32max = s32(lo32(v));
  r.u32min = r.u32max = lo32(v);
}

/** __mark_reg_known: also clears the offset, pointer fields and ids. */
export function markKnown(r: Reg, imm: bigint): void {
  r.off = 0; r.map = null; r.mapHandle = -1; r.range = 0; r.memSize = 0; r.subprogno = 0; r.btfType = "";
  r.id = 0; r.refObjId = 0;
  setKnown(r, imm);
}

export function mark32Known(r: Reg, v: number): void {
  r.varOff = { value: (r.varOff.value & ~U32 & U64) | BigInt(u32(v)), mask: r.varOff.mask & ~U32 & U64 };
  r.s32min = r.s32max = s32(v);
  r.u32min = r.u32max = u32(v);
}

/** __mark_reg_unknown_imprecise: an unknown scalar. */
export function markUnknownImprecise(r: Reg): void {
  r.type = T.SCALAR; r.off = 0; r.map = null; r.mapHandle = -1; r.range = 0; r.memSize = 0; r.subprogno = 0; r.btfType = "";
  r.id = 0; r.refObjId = 0; r.frameno = 0; r.varOff = TNUM_UNKNOWN; r.precise = false;
  r.dynptrType = ""; r.dynptrFirst = false; r.dynptrId = 0;
  markUnbounded(r);
}

/** __mark_reg_unknown: precise unless the program is privileged (precision tracking only exists for bpf_capable). */
export function markUnknown(r: Reg, privileged: boolean): void {
  markUnknownImprecise(r);
  r.precise = !privileged;
}

export function markNotInit(r: Reg): void {
  markUnknownImprecise(r);
  r.type = T.NOT_INIT;
}

export function markConstZero(r: Reg, privileged: boolean): void {
  markKnown(r, 0n);
  r.type = T.SCALAR;
  r.precise = !privileged;
}

/** mark_reg_known_zero for a pointer about to get its type. */
export function markKnownZero(r: Reg): void {
  markKnown(r, 0n);
  r.frameno = 0; r.precise = false;
}

export const isConst = (r: Reg): boolean => tnumIsConst(r.varOff);
export const isConst32 = (r: Reg): boolean => (r.varOff.mask & U32) === 0n;
/** is_reg_const. */
export const regIsConst = (r: Reg, is32: boolean): boolean =>
  r.type === T.SCALAR && (is32 ? (r.varOff.mask & U32) === 0n : r.varOff.mask === 0n);
/** reg_const_value (u64 or u32). */
export const regConstValue = (r: Reg, is32: boolean): bigint => (is32 ? r.varOff.value & U32 : r.varOff.value);
/** register_is_null. */
export const isNull = (r: Reg): boolean => r.type === T.SCALAR && r.varOff.mask === 0n && r.varOff.value === 0n;
/** get_reg_width: fls64(umax). */
export const regWidth = (r: Reg): number => (r.umax === 0n ? 0 : r.umax.toString(2).length);

// ---- reg_bounds_sync ----

function update32(r: Reg): void {
  const t = tnumSubreg(r.varOff);
  const v = Number(t.value), m = Number(t.mask);
  r.s32min = Math.max(r.s32min, s32(v | (m & 0x80000000)));
  r.s32max = Math.min(r.s32max, s32(v | (m & 0x7fffffff)));
  r.u32min = Math.max(r.u32min, u32(v));
  r.u32max = Math.min(r.u32max, u32(v | m));
}

function update64(r: Reg): void {
  const { value, mask } = r.varOff;
  r.smin = bmax(r.smin, s64(value | (mask & (1n << 63n))));
  r.smax = bmin(r.smax, s64(value | (mask & S64_MAX)));
  r.umin = bmax(r.umin, value);
  r.umax = bmin(r.umax, value | mask);
}

export function updateBounds(r: Reg): void {
  update32(r);
  update64(r);
}

function deduce32(r: Reg): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = Math.max(r.u32min, lo32(r.umin));
    r.u32max = Math.min(r.u32max, lo32(r.umax));
    if (s32(lo32(r.umin)) <= s32(lo32(r.umax))) {
      r.s32min = Math.max(r.s32min, s32(lo32(r.umin)));
      r.s32max = Math.min(r.s32max, s32(lo32(r.umax)));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (lo32(r.smin) <= lo32(r.smax)) {
      r.u32min = Math.max(r.u32min, lo32(r.smin));
      r.u32max = Math.min(r.u32max, lo32(r.smax));
    }
    if (s32(lo32(r.smin)) <= s32(lo32(r.smax))) {
      r.s32min = Math.max(r.s32min, s32(lo32(r.smin)));
      r.s32max = Math.min(r.s32max, s32(lo32(r.smax)));
    }
  }
  // Upper halves two consecutive values, lower halves crossing the s32 sign boundary.
  if (u32(Number((r.umin >> 32n) & U32) + 1) === Number((r.umax >> 32n) & U32) && s32(lo32(r.umin)) < 0 && s32(lo32(r.umax)) >= 0) {
    r.s32min = Math.max(r.s32min, s32(lo32(r.umin)));
    r.s32max = Math.min(r.s32max, s32(lo32(r.umax)));
  }
  if (u32(Number(u64(r.smin >> 32n) & U32) + 1) === Number(u64(r.smax >> 32n) & U32) && s32(lo32(r.smin)) < 0 && s32(lo32(r.smax)) >= 0) {
    r.s32min = Math.max(r.s32min, s32(lo32(r.smin)));
    r.s32max = Math.min(r.s32max, s32(lo32(r.smax)));
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = Math.max(r.s32min, s32(r.u32min));
    r.s32max = Math.min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = Math.max(u32(r.s32min), r.u32min);
    r.u32max = Math.min(u32(r.s32max), r.u32max);
  }
}

function deduce64(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = bmax(r.smin, s64(r.umin));
    r.smax = bmin(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = bmax(u64(r.smin), r.umin);
    r.umax = bmin(u64(r.smax), r.umax);
  } else if (r.umax < u64(r.smin)) {
    // The s64 range crosses the sign boundary; the u64 range is in its low part.
    r.smin = s64(r.umin);
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    r.smax = s64(r.umax);
    r.umin = bmax(r.umin, u64(r.smin));
  }
}

function deduceMixed(r: Reg): void {
  const nu = (r.umin & ~U32 & U64) | BigInt(r.u32min);
  const nx = (r.umax & ~U32 & U64) | BigInt(r.u32max);
  r.umin = bmax(r.umin, nu);
  r.umax = bmin(r.umax, nx);
  const ns = s64((u64(r.smin) & ~U32 & U64) | BigInt(r.u32min));
  const nm = s64((u64(r.smax) & ~U32 & U64) | BigInt(r.u32max));
  r.smin = bmax(r.smin, ns);
  r.smax = bmin(r.smax, nm);
  if (r.s32min >= 0 && r.smin >= BigInt(S32_MIN) && r.smax <= BigInt(S32_MAX)) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    r.umin = BigInt(r.s32min);
    r.umax = BigInt(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(r.smin, r.smax));
  }
}

export function deduceBounds(r: Reg): void {
  deduce32(r);
  deduce64(r);
  deduceMixed(r);
}

function boundOffset(r: Reg): void {
  const v64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(BigInt(r.u32min), BigInt(r.u32max)));
  r.varOff = tnumOr(tnumClearSubreg(v64), v32);
}

/** reg_bounds_sync. */
export function boundsSync(r: Reg): void {
  if (r.varOff.mask === U64 && r.umin === 0n && r.umax === U64 && r.smin === S64_MIN && r.smax === S64_MAX &&
      r.u32min === 0 && r.u32max === U32_MAX && r.s32min === S32_MIN && r.s32max === S32_MAX) {
    return; // nothing known: the sync is the identity
  }
  if (r.varOff.mask === 0n) {
    // Constant fast path: bounds collapse onto the value (same result as the full sync).
    const v = r.varOff.value;
    if (r.umin <= v && v <= r.umax && r.smin <= s64(v) && s64(v) <= r.smax) {
      setKnown(r, v);
      return;
    }
  }
  updateBounds(r);
  deduceBounds(r);
  deduceBounds(r);
  boundOffset(r);
  updateBounds(r);
}

/** reg_bounds_sanity_check: false when the bounds describe no value (an impossible state). */
export function boundsSane(r: Reg): boolean {
  if (r.type !== T.SCALAR) return true;
  if (r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max) return false;
  const { value, mask } = r.varOff;
  if (r.umin < value || r.umin > (value | mask)) {
    if (!(r.umin <= (value | mask) && r.umax >= value)) return false;
  }
  if (isConst(r)) {
    const v = value;
    if (r.umin !== v || r.umax !== v || r.smin !== s64(v) || r.smax !== s64(v)) return false;
  }
  return true;
}

// ---- size coercion ----

/** coerce_reg_to_size: zero-extending load/truncation to `size` bytes. */
export function coerceToSize(r: Reg, size: number): void {
  r.varOff = tnumCast(r.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~mask) === (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0n;
    r.umax = mask;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  if (size < 4) mark32Unbounded(r);
  boundsSync(r);
}

/** coerce_reg_to_size_sx: sign-extending load / movsx to 64 bits. */
export function coerceToSizeSx(r: Reg, size: number): void {
  const bits = size * 8;
  const sx = (v: bigint): bigint => BigInt.asIntN(bits, v);
  if (isConst(r)) {
    setKnown(r, u64(sx(r.varOff.value)));
    return;
  }
  const nb = BigInt(bits);
  const topMax = (u64(r.smax) >> nb) << nb, topMin = (u64(r.smin) >> nb) << nb;
  if (topMax === topMin) {
    const a = sx(r.smax), b = sx(r.smin);
    const mx = bmax(a, b), mn = bmin(a, b);
    if ((mx >= 0n) === (mn >= 0n)) {
      r.smin = mn; r.smax = mx;
      r.s32min = s32(lo32(u64(mn))); r.s32max = s32(lo32(u64(mx)));
      r.umin = u64(mn); r.umax = u64(mx);
      r.u32min = lo32(u64(mn)); r.u32max = lo32(u64(mx));
      r.varOff = tnumRange(u64(mn), u64(mx));
      return;
    }
  }
  const lim = size === 1 ? 128 : size === 2 ? 32768 : 0x80000000;
  r.smin = BigInt(-lim); r.smax = BigInt(lim - 1);
  r.s32min = -lim; r.s32max = lim - 1;
  r.umin = 0n; r.u32min = 0; r.umax = U64; r.u32max = U32_MAX;
  r.varOff = TNUM_UNKNOWN;
}

/** coerce_subreg_to_size_sx: movsx within 32 bits. */
export function coerceSubregToSizeSx(r: Reg, size: number): void {
  const bits = size * 8;
  const sx = (v: number): number => (v << (32 - bits)) >> (32 - bits);
  if (isConst(r)) {
    const v = sx(lo32(r.varOff.value));
    r.varOff = tnumConst(u64(BigInt(v)));
    r.s32min = r.s32max = v;
    r.u32min = r.u32max = u32(v);
    return;
  }
  const topMax = u32(r.s32max) >>> bits, topMin = u32(r.s32min) >>> bits;
  if (topMax === topMin) {
    const a = sx(r.s32max), b = sx(r.s32min);
    const mx = Math.max(a, b), mn = Math.min(a, b);
    if ((mn >= 0) === (mx >= 0)) {
      r.s32min = mn; r.s32max = mx;
      r.u32min = u32(mn); r.u32max = u32(mx);
      r.varOff = tnumSubreg(tnumRange(u64(BigInt(mn)), u64(BigInt(mx))));
      return;
    }
  }
  const lim = size === 1 ? 128 : 32768;
  r.s32min = -lim; r.s32max = lim - 1;
  r.u32min = 0; r.u32max = U32_MAX;
  r.varOff = tnumSubreg(TNUM_UNKNOWN);
}

/** zext_32_to_64 (with __reg_assign_32_into_64). */
export function zext32To64(r: Reg): void {
  r.varOff = tnumSubreg(r.varOff);
  r.umin = BigInt(r.u32min);
  r.umax = BigInt(r.u32max);
  if (r.s32min >= 0 && r.s32max >= 0) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
  } else {
    r.smin = 0n;
    r.smax = U32;
  }
}

// ---- ALU transfer functions (adjust_scalar_min_max_vals) ----

const addOv32 = (a: number, b: number): [number, boolean] => {
  const r = a + b;
  return [s32(r), r !== s32(r)];
};
const addOvU32 = (a: number, b: number): [number, boolean] => {
  const r = a + b;
  return [u32(r), r > U32_MAX];
};
const subOv32 = (a: number, b: number): [number, boolean] => {
  const r = a - b;
  return [s32(r), r !== s32(r)];
};
const subOvU32 = (a: number, b: number): [number, boolean] => {
  const r = a - b;
  return [u32(r), r < 0];
};

function add32(d: Reg, s: Reg): void {
  const [a, oa] = addOv32(d.s32min, s.s32min);
  const [b, ob] = addOv32(d.s32max, s.s32max);
  if (oa || ob) { d.s32min = S32_MIN; d.s32max = S32_MAX; } else { d.s32min = a; d.s32max = b; }
  const [c, minOv] = addOvU32(d.u32min, s.u32min);
  const [e, maxOv] = addOvU32(d.u32max, s.u32max);
  d.u32min = c; d.u32max = e;
  if (!minOv && maxOv) { d.u32min = 0; d.u32max = U32_MAX; }
}

function add64(d: Reg, s: Reg): void {
  const a = d.smin + s.smin, b = d.smax + s.smax;
  if (a !== s64(a) || b !== s64(b)) { d.smin = S64_MIN; d.smax = S64_MAX; } else { d.smin = a; d.smax = b; }
  const c = d.umin + s.umin, e = d.umax + s.umax;
  const minOv = c > U64, maxOv = e > U64;
  d.umin = u64(c); d.umax = u64(e);
  if (!minOv && maxOv) { d.umin = 0n; d.umax = U64; }
}

function sub32(d: Reg, s: Reg): void {
  const [a, oa] = subOv32(d.s32min, s.s32max);
  const [b, ob] = subOv32(d.s32max, s.s32min);
  if (oa || ob) { d.s32min = S32_MIN; d.s32max = S32_MAX; } else { d.s32min = a; d.s32max = b; }
  const [c, minUn] = subOvU32(d.u32min, s.u32max);
  const [e, maxUn] = subOvU32(d.u32max, s.u32min);
  d.u32min = c; d.u32max = e;
  if (minUn && !maxUn) { d.u32min = 0; d.u32max = U32_MAX; }
}

function sub64(d: Reg, s: Reg): void {
  const a = d.smin - s.smax, b = d.smax - s.smin;
  if (a !== s64(a) || b !== s64(b)) { d.smin = S64_MIN; d.smax = S64_MAX; } else { d.smin = a; d.smax = b; }
  const c = d.umin - s.umax, e = d.umax - s.umin;
  const minUn = c < 0n, maxUn = e < 0n;
  d.umin = u64(c); d.umax = u64(e);
  if (minUn && !maxUn) { d.umin = 0n; d.umax = U64; }
}

function mul32(d: Reg, s: Reg): void {
  const um = BigInt(d.u32max) * BigInt(s.u32max);
  const un = BigInt(d.u32min) * BigInt(s.u32min);
  if (um > U32 || un > U32) { d.u32min = 0; d.u32max = U32_MAX; } else { d.u32max = Number(um); d.u32min = Number(un); }
  const p = [d.s32min * s.s32min, d.s32min * s.s32max, d.s32max * s.s32min, d.s32max * s.s32max];
  if (p.some((x) => x !== s32(x) || !Number.isSafeInteger(x))) { d.s32min = S32_MIN; d.s32max = S32_MAX; }
  else { d.s32min = Math.min(...p); d.s32max = Math.max(...p); }
}

function mul64(d: Reg, s: Reg): void {
  const um = d.umax * s.umax, un = d.umin * s.umin;
  if (um > U64 || un > U64) { d.umin = 0n; d.umax = U64; } else { d.umax = um; d.umin = un; }
  const p = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  if (p.some((x) => x !== s64(x))) { d.smin = S64_MIN; d.smax = S64_MAX; }
  else { d.smin = p.reduce(bmin); d.smax = p.reduce(bmax); }
}

function signedFrom32(d: Reg): void {
  if (s32(d.u32min) <= s32(d.u32max)) { d.s32min = s32(d.u32min); d.s32max = s32(d.u32max); }
  else { d.s32min = S32_MIN; d.s32max = S32_MAX; }
}

function signedFrom64(d: Reg): void {
  if (s64(d.umin) <= s64(d.umax)) { d.smin = s64(d.umin); d.smax = s64(d.umax); }
  else { d.smin = S64_MIN; d.smax = S64_MAX; }
}

function and32(d: Reg, s: Reg): void {
  const t = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, Number(t.value)); return; }
  d.u32min = Number(t.value);
  d.u32max = Math.min(d.u32max, s.u32max);
  signedFrom32(d);
}

function and64(d: Reg, s: Reg): void {
  if (isConst(s) && isConst(d)) { setKnown(d, d.varOff.value); return; }
  d.umin = d.varOff.value;
  d.umax = bmin(d.umax, s.umax);
  signedFrom64(d);
  updateBounds(d);
}

function or32(d: Reg, s: Reg): void {
  const t = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, Number(t.value)); return; }
  d.u32min = Math.max(d.u32min, s.u32min);
  d.u32max = Number(t.value | t.mask);
  signedFrom32(d);
}

function or64(d: Reg, s: Reg): void {
  if (isConst(s) && isConst(d)) { setKnown(d, d.varOff.value); return; }
  d.umin = bmax(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  signedFrom64(d);
  updateBounds(d);
}

function xor32(d: Reg, s: Reg): void {
  const t = tnumSubreg(d.varOff);
  if (isConst32(s) && isConst32(d)) { mark32Known(d, Number(t.value)); return; }
  d.u32min = Number(t.value);
  d.u32max = Number(t.value | t.mask);
  signedFrom32(d);
}

function xor64(d: Reg, s: Reg): void {
  if (isConst(s) && isConst(d)) { setKnown(d, d.varOff.value); return; }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  signedFrom64(d);
  updateBounds(d);
}

function lsh32Bounds(d: Reg, umin: bigint, umax: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || BigInt(d.u32max) > 1n << (31n - umax)) {
    d.u32min = 0; d.u32max = U32_MAX;
  } else {
    d.u32min = Number((BigInt(d.u32min) << umin) & U32);
    d.u32max = Number((BigInt(d.u32max) << umax) & U32);
  }
}

function lsh64Bounds(d: Reg, umin: bigint, umax: bigint): void {
  d.smax = umin === 32n && umax === 32n && d.s32max >= 0 ? BigInt(d.s32max) << 32n : S64_MAX;
  d.smin = umin === 32n && umax === 32n && d.s32min >= 0 ? BigInt(d.s32min) << 32n : S64_MIN;
  if (umax > 63n || d.umax > 1n << (63n - umax)) {
    d.umin = 0n; d.umax = U64;
  } else {
    d.umin = u64(d.umin << umin);
    d.umax = u64(d.umax << umax);
  }
}

export type ScalarAluOp = "add" | "sub" | "mul" | "and" | "or" | "xor" | "lsh" | "rsh" | "arsh" | "neg";

/**
 * is_safe_to_compute_dst_reg_range: ops the verifier tracks; others (div, mod,
 * shifts by a non-constant or too-large amount) make dst unknown.
 */
export function safeToCompute(op: string, src: Reg, alu32: boolean): boolean {
  switch (op) {
    case "add": case "sub": case "neg": case "and": case "xor": case "or": case "mul":
      return true;
    case "lsh": case "rsh": case "arsh": {
      const bits = alu32 ? 32n : 64n;
      const c = alu32
        ? (src.varOff.mask & U32) === 0n && src.s32min === src.s32max && src.u32min === src.u32max
        : src.varOff.mask === 0n && src.smin === src.smax && src.umin === src.umax;
      return c && src.umax < bits;
    }
    default:
      return false;
  }
}

/** adjust_scalar_min_max_vals for two scalars (dst = dst op src), then zext and sync. */
export function scalarAlu(d: Reg, s: Reg, op: ScalarAluOp, alu32: boolean): void {
  switch (op) {
    case "add":
      add32(d, s); add64(d, s);
      d.varOff = tnumAdd(d.varOff, s.varOff);
      break;
    case "sub":
      sub32(d, s); sub64(d, s);
      d.varOff = tnumSub(d.varOff, s.varOff);
      break;
    case "neg": {
      const old = d.clone();
      setKnown(d, 0n);
      sub32(d, old); sub64(d, old);
      d.varOff = tnumNeg(old.varOff);
      break;
    }
    case "mul":
      d.varOff = tnumMul(d.varOff, s.varOff);
      mul32(d, s); mul64(d, s);
      break;
    case "and":
      d.varOff = tnumAnd(d.varOff, s.varOff);
      and32(d, s); and64(d, s);
      break;
    case "or":
      d.varOff = tnumOr(d.varOff, s.varOff);
      or32(d, s); or64(d, s);
      break;
    case "xor":
      d.varOff = tnumXor(d.varOff, s.varOff);
      xor32(d, s); xor64(d, s);
      break;
    case "lsh":
      if (alu32) {
        const sub = tnumSubreg(d.varOff);
        lsh32Bounds(d, BigInt(s.u32min), BigInt(s.u32max));
        d.varOff = tnumSubreg(tnumLshift(sub, s.u32min));
        mark64Unbounded(d);
        update32(d);
      } else {
        lsh64Bounds(d, s.umin, s.umax);
        lsh32Bounds(d, s.umin, s.umax);
        d.varOff = tnumLshift(d.varOff, Number(s.umin));
        updateBounds(d);
      }
      break;
    case "rsh":
      if (alu32) {
        const sub = tnumSubreg(d.varOff);
        d.s32min = S32_MIN; d.s32max = S32_MAX;
        d.varOff = tnumRshift(sub, s.u32min);
        d.u32min = u32(d.u32min >>> s.u32max);
        d.u32max = u32(d.u32max >>> s.u32min);
        mark64Unbounded(d);
        update32(d);
      } else {
        d.smin = S64_MIN; d.smax = S64_MAX;
        d.varOff = tnumRshift(d.varOff, Number(s.umin));
        d.umin >>= s.umax;
        d.umax >>= s.umin;
        mark32Unbounded(d);
        updateBounds(d);
      }
      break;
    case "arsh":
      if (alu32) {
        const sh = s.u32min;
        d.s32min = d.s32min >> sh;
        d.s32max = d.s32max >> sh;
        d.varOff = tnumArshift(tnumSubreg(d.varOff), sh, 32);
        d.u32min = 0; d.u32max = U32_MAX;
        mark64Unbounded(d);
        update32(d);
      } else {
        const sh = s.umin;
        d.smin >>= sh;
        d.smax >>= sh;
        d.varOff = tnumArshift(d.varOff, Number(sh), 64);
        d.umin = 0n; d.umax = U64;
        mark32Unbounded(d);
        updateBounds(d);
      }
      break;
  }
  if (alu32) zext32To64(d);
  boundsSync(d);
}

/** range_within(old, cur): cur's bounds lie inside old's. */
export function rangeWithin(o: Reg, c: Reg): boolean {
  return o.umin <= c.umin && o.umax >= c.umax && o.smin <= c.smin && o.smax >= c.smax &&
    o.u32min <= c.u32min && o.u32max >= c.u32max && o.s32min <= c.s32min && o.s32max >= c.s32max;
}

/** The fields regs_exact compares before ids (type, off, union, var_off, bounds). */
export function sameShape(o: Reg, c: Reg): boolean {
  return o.type === c.type && o.off === c.off && o.map === c.map && o.range === c.range && o.memSize === c.memSize &&
    o.subprogno === c.subprogno && o.btfType === c.btfType &&
    // The kernel's memcmp up to var_off covers the dynptr union: a slice's dynptr_id, a dynptr's type.
    o.dynptrId === c.dynptrId && o.dynptrType === c.dynptrType && o.dynptrFirst === c.dynptrFirst;
}

export function sameBounds(o: Reg, c: Reg): boolean {
  return o.varOff.value === c.varOff.value && o.varOff.mask === c.varOff.mask &&
    o.smin === c.smin && o.smax === c.smax && o.umin === c.umin && o.umax === c.umax &&
    o.s32min === c.s32min && o.s32max === c.s32max && o.u32min === c.u32min && o.u32max === c.u32max;
}

export { tnumConst };
