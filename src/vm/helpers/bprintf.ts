/**
 * The kernel's printf for BPF (bpf_trace_printk, bpf_trace_vprintk,
 * bpf_snprintf), in its two steps:
 *
 * 1. bpf_bprintf_prepare() (kernel/bpf/helpers.c) checks the format and packs
 *    the arguments into a binary buffer of MAX_BPRINTF_BIN_ARGS bytes: numbers
 *    as 4 or 8 bytes (4-aligned), %c as one byte, strings (%s, %pks, %pus) and
 *    the pre-formatted %pB / %pI4 / %pi4 / %pI6 / %pi6 as NUL-terminated text
 *    copied from (probed) memory. Allowed: flags [0+- ], a width, the
 *    qualifiers l and ll, conversions d i u x X, s c, %%, and %p with nothing,
 *    K x s S B ks us I4 i4 I6 i6 after it. Anything else is EINVAL, as are
 *    ASCII control characters other than whitespace, and more specifiers than
 *    arguments.
 * 2. bstr_printf() (lib/vsprintf.c) formats from that buffer, with
 *    vsnprintf's number(), string() and pointer() rules — including its quirks:
 *    pre-formatted pointer text ignores the width, swallows every
 *    alphanumeric character after %p, and is only consumed while there is room
 *    in the output (a later argument then reads it), exactly as the kernel.
 *
 * Where the vm differs, by necessity: %p and %pK print a hash of the pointer
 * with a per-runtime key (the kernel's siphash key is random per boot, so the
 * values never match anyway; NULL and error pointers print raw, as the
 * kernel's); %pS / %ps / %pB find no symbols (the vm has no kallsyms) and print
 * "0x<hex>", the kernel's output for an address that is not a symbol.
 */
import type { AddressSpace } from "../memory.js";
import { E, isMapped, isUserRange, strncpyNofault } from "./util.js";

/** kernel/trace/bpf_trace.c, MAX_TRACE_PRINTK_VARARGS. */
export const MAX_TRACE_PRINTK_VARARGS = 3;
/** include/linux/bpf.h, MAX_BPRINTF_VARARGS. */
export const MAX_BPRINTF_VARARGS = 12;
/** include/linux/bpf.h, MAX_BPRINTF_BUF: the trace_printk output buffer. */
export const MAX_BPRINTF_BUF = 1024;
/** include/linux/bpf.h, MAX_BPRINTF_BIN_ARGS. */
export const MAX_BPRINTF_BIN_ARGS = 512;

// vsprintf's printf_spec flags (lib/vsprintf.c).
const SIGN = 1;
const LEFT = 2;
const PLUS = 4;
const SPACE = 8;
const ZEROPAD = 16;
const SMALL = 32;
const SPECIAL = 64;

const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
/** ispunct(): printable, not alphanumeric, not space. */
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !isAlnum(c);
const ch = (s: string): number => s.charCodeAt(0);

/** What the formatter needs from the runtime. */
export interface BprintfEnv {
  readonly space: AddressSpace;
  /** %p's 32-bit hash of a pointer. */
  hashPointer(lo: number, hi: number): number;
}

/** The prepared arguments: the format (without its NUL) and the binary buffer. */
export interface Prepared {
  readonly fmt: Uint8Array;
  readonly bin: Uint8Array;
}

/** Raw u64 arguments as (lo, hi) words: raw[2i], raw[2i+1]. */
export type RawArgs = Uint32Array;

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function getU32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

/** "0x" and the hex of a 64-bit value, as sprintf("0x%lx"). */
function hex0x(lo: number, hi: number): string {
  return "0x" + (hi ? hi.toString(16) + lo.toString(16).padStart(8, "0") : lo.toString(16));
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** ip4_string() for %pI4 (no leading zeros) and %pi4 (three digits each). */
function ip4(b: Uint8Array, leadingZeros: boolean): string {
  return Array.from(b, (x) => (leadingZeros ? x.toString().padStart(3, "0") : x.toString())).join(".");
}

/** ip6_string() for %pI6 (eight colon-separated groups of four hex digits) and %pi6 (32 hex digits). */
function ip6(b: Uint8Array, colons: boolean): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0"));
  if (!colons) return h.join("");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(h[i] + h[i + 1]);
  return groups.join(":");
}

/**
 * bpf_bprintf_prepare(fmt, fmt_size, raw_args, num_args): the format bytes are
 * read from the space at `fmtAddr` (`fmtSize` bytes, which must contain the
 * NUL). Returns the prepared buffers or -errno.
 */
export function bprintfPrepare(env: BprintfEnv, fmtAddr: number, fmtSize: number, raw: RawArgs, numArgs: number): Prepared | number {
  const f = formatBytes(env.space.u8.subarray(fmtAddr, fmtAddr + fmtSize));
  return f ? prepare(f, env.space, raw, numArgs) : -E.EINVAL;
}

/**
 * The verifier's check of a constant format (check_bpf_snprintf_call in
 * kernel/bpf/verifier.c calls bpf_bprintf_prepare with no arguments to copy):
 * 0, or -EINVAL for a format the helper would refuse with `numArgs` arguments.
 */
export function bprintfCheckFormat(fmt: Uint8Array, numArgs: number): number {
  const f = formatBytes(fmt);
  if (!f) return -E.EINVAL;
  const r = prepare(f, undefined, new Uint32Array(0), numArgs);
  return typeof r === "number" ? r : 0;
}

/** The format up to its NUL plus three NULs (reads past the end see 0, as the kernel's do); undefined without a NUL. */
function formatBytes(bytes: Uint8Array): Uint8Array | undefined {
  const n = bytes.indexOf(0);
  if (n < 0) return undefined;
  const f = new Uint8Array(n + 3);
  f.set(bytes.subarray(0, n));
  return f;
}

/** bpf_bprintf_prepare on the format `f`; with no space, only the format is checked (tmp_buf NULL). */
function prepare(f: Uint8Array, space: AddressSpace | undefined, raw: RawArgs, numArgs: number): Prepared | number {
  const n = f.length - 3;
  const bin = new Uint8Array(MAX_BPRINTF_BIN_ARGS);
  // tmp_buf is NULL when there are no arguments: nothing is copied.
  const copying = space !== undefined && numArgs > 0;
  const end = MAX_BPRINTF_BIN_ARGS;
  let tmp = 0;
  let spec = 0;

  const arg = (): [number, number] => [raw[2 * spec], raw[2 * spec + 1]];
  /** The number path: 4 or 8 bytes, 4-aligned. */
  const storeNum = (size: number): number => {
    if (!copying) return 0;
    tmp = (tmp + 3) & ~3;
    if (end - tmp < size) return -E.ENOSPC;
    const [lo, hi] = arg();
    putU32(bin, tmp, lo);
    if (size === 8) putU32(bin, tmp + 4, hi);
    tmp += size;
    return 0;
  };
  /** A pre-formatted text argument (snprintf into the remaining buffer; the cursor moves past its NUL). */
  const storeText = (text: string): void => {
    const bytes = latin1(text);
    const room = end - tmp;
    if (room > 0) {
      const k = Math.min(bytes.length, room - 1);
      bin.set(bytes.subarray(0, k), tmp);
      bin[tmp + k] = 0;
    }
    tmp += bytes.length + 1;
  };

  let i = 0;
  for (; i < n; i++) {
    const c = f[i];
    // ASCII control characters (and DEL) are refused; bytes above 0x7f pass, as Linux 6.18 lets them
    // (checked against the kernel: "caf\xe9" prints, "\x01" and "\x7f" are EINVAL).
    if (c < 0x80 && !isPrint(c) && !isSpace(c)) return -E.EINVAL;
    if (c !== ch("%")) continue;
    if (f[i + 1] === ch("%")) {
      i++;
      continue;
    }
    if (spec >= numArgs) return -E.EINVAL;
    i++;
    // Optional "[0 +-][num]" width.
    while (f[i] === ch("0") || f[i] === ch("+") || f[i] === ch("-") || f[i] === ch(" ")) i++;
    if (f[i] >= ch("1") && f[i] <= ch("9")) {
      i++;
      while (isDigit(f[i])) i++;
    }

    if (f[i] === ch("p")) {
      const next = f[i + 1];
      if (next === 0 || isSpace(next) || isPunct(next)) {
        const r = storeNum(8);
        if (r) return r;
        spec++;
        continue;
      }
      if ((next === ch("k") || next === ch("u")) && f[i + 2] === ch("s")) {
        i += 2;
        const r = storeString(next === ch("k") ? "kernel" : "user");
        if (r) return r;
        continue;
      }
      if (next === ch("K") || next === ch("x") || next === ch("s") || next === ch("S")) {
        i++;
        const r = storeNum(8);
        if (r) return r;
        spec++;
        continue;
      }
      if (next === ch("B")) {
        if (copying) {
          const [lo, hi] = arg();
          storeText(hex0x(lo, hi));
        }
        i++;
        spec++;
        continue;
      }
      // Only %pI4, %pi4, %pI6 and %pi6 remain.
      if ((next !== ch("i") && next !== ch("I")) || (f[i + 2] !== ch("4") && f[i + 2] !== ch("6"))) return -E.EINVAL;
      i += 2;
      if (copying) {
        const size = f[i] === ch("4") ? 4 : 16;
        if (end - tmp < size) return -E.ENOSPC;
        const [lo, hi] = arg();
        // copy_from_kernel_nofault(); a failure prints zeros.
        const ok = hi === 0 && !isUserRange(lo) && isMapped(space!, lo, size);
        const ip = ok ? space!.u8.slice(lo, lo + size) : new Uint8Array(size);
        const upper = next === ch("I");
        storeText(size === 4 ? ip4(ip, !upper) : ip6(ip, upper));
      }
      spec++;
      continue;
    }
    if (f[i] === ch("s")) {
      const r = storeString("compat");
      if (r) return r;
      continue;
    }
    if (f[i] === ch("c")) {
      if (copying) {
        if (tmp === end) return -E.ENOSPC;
        bin[tmp++] = raw[2 * spec] & 0xff;
      }
      spec++;
      continue;
    }
    let size = 4;
    if (f[i] === ch("l")) {
      size = 8;
      i++;
    }
    if (f[i] === ch("l")) {
      size = 8;
      i++;
    }
    const conv = f[i];
    if (conv !== ch("i") && conv !== ch("d") && conv !== ch("u") && conv !== ch("x") && conv !== ch("X")) return -E.EINVAL;
    const r = storeNum(size);
    if (r) return r;
    spec++;
  }
  return { fmt: f.subarray(0, n), bin };

  /** The %s / %pks / %pus path: the next character must end the word; the string is probed in. */
  function storeString(kind: "kernel" | "user" | "compat"): number {
    const next = f[i + 1];
    if (next !== 0 && !isSpace(next) && !isPunct(next)) return -E.EINVAL;
    if (copying) {
      if (tmp === end) return -E.ENOSPC;
      const [lo, hi] = arg();
      // bpf_trace_copy_string(): kernel strings refuse user-range addresses (ERANGE); any error is an empty string.
      let r: number;
      if (hi !== 0 || (kind === "kernel" && isUserRange(lo))) r = -E.EFAULT;
      else r = strncpyNofault(space!, bin, tmp, lo, end - tmp);
      if (r < 0) {
        bin[tmp] = 0;
        r = 1;
      }
      tmp += r;
    }
    spec++;
    return 0;
  }
}

/** Output of bstr_printf: bytes written (up to size - 1 plus the NUL) and the full length. */
class Sink {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end: number) {}
  put(c: number): void {
    if (this.pos < this.end) this.buf[this.pos] = c;
    this.pos++;
  }
}

interface Spec {
  flags: number;
  width: number;
  precision: number;
  base: number;
}

/** number() of lib/vsprintf.c for a u64 (two's complement when SIGN). */
function number(out: Sink, num: bigint, spec: Spec): void {
  let flags = spec.flags;
  let width = spec.width;
  let precision = spec.precision;
  const locase = flags & SMALL;
  if (flags & LEFT) flags &= ~ZEROPAD;
  let sign = 0;
  if (flags & SIGN) {
    const s = BigInt.asIntN(64, num);
    if (s < 0n) {
      sign = ch("-");
      num = BigInt.asUintN(64, -s);
      width--;
    } else if (flags & PLUS) {
      sign = ch("+");
      width--;
    } else if (flags & SPACE) {
      sign = ch(" ");
      width--;
    }
  }
  const needPfx = (flags & SPECIAL) !== 0 && spec.base !== 10;
  if (needPfx) {
    if (spec.base === 16) width -= 2;
    else if (num !== 0n) width--;
  }
  let digits = num.toString(spec.base);
  if (spec.base === 16) digits = locase ? digits : digits.toUpperCase();
  const i = digits.length;
  if (i > precision) precision = i;
  width -= precision;
  if (!(flags & (ZEROPAD | LEFT))) while (--width >= 0) out.put(ch(" "));
  if (sign) out.put(sign);
  if (needPfx) {
    if (spec.base === 16 || num !== 0n) out.put(ch("0"));
    if (spec.base === 16) out.put(ch("X") | locase);
  }
  if (!(flags & LEFT)) {
    const c = flags & ZEROPAD ? ch("0") : ch(" ");
    while (--width >= 0) out.put(c);
  }
  for (let z = i; z < precision; z++) out.put(ch("0"));
  for (let k = 0; k < i; k++) out.put(digits.charCodeAt(k));
  while (--width >= 0) out.put(ch(" "));
}

/** string() / widen_string(): up to `precision` bytes of s, padded to the width. */
function string(out: Sink, s: Uint8Array, spec: Spec): void {
  let len = 0;
  while ((spec.precision < 0 || len < spec.precision) && len < s.length && s[len] !== 0) len++;
  const pad = spec.width > len ? spec.width - len : 0;
  if (!(spec.flags & LEFT)) for (let k = 0; k < pad; k++) out.put(ch(" "));
  for (let k = 0; k < len; k++) out.put(s[k]);
  if (spec.flags & LEFT) for (let k = 0; k < pad; k++) out.put(ch(" "));
}

/** pointer_string(): hex, zero-padded to 16 digits unless a width was given. */
function pointerString(out: Sink, v: bigint, spec: Spec): void {
  const s: Spec = { ...spec, base: 16, flags: spec.flags | SMALL };
  if (s.width === -1) {
    s.width = 16;
    s.flags |= ZEROPAD;
  }
  number(out, v, s);
}

/**
 * bstr_printf(buf, size, fmt, bin_args): formats into `out` (at most size
 * bytes, NUL-terminated when size > 0) and returns the length the whole output
 * would have, without the NUL.
 */
export function bstrPrintf(env: BprintfEnv, prepared: Prepared, size: number, out: Uint8Array): number {
  const { fmt, bin } = prepared;
  const sink = new Sink(out, size);
  let args = 0;
  const f = (k: number): number => (k < fmt.length ? fmt[k] : 0);
  const getU64 = (): bigint => {
    args = (args + 3) & ~3;
    const lo = getU32(bin, args);
    const hi = getU32(bin, args + 4);
    args += 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  };
  let p = 0;
  while (p < fmt.length) {
    if (fmt[p] !== ch("%")) {
      sink.put(fmt[p++]);
      continue;
    }
    // format_decode(): flags, width, precision, qualifier, conversion.
    const spec: Spec = { flags: 0, width: -1, precision: -1, base: 10 };
    for (;;) {
      const c = f(++p);
      const flag = c === ch(" ") ? SPACE : c === ch("#") ? SPECIAL : c === ch("+") ? PLUS : c === ch("-") ? LEFT : c === ch("0") ? ZEROPAD : 0;
      if (!flag) break;
      spec.flags |= flag;
    }
    if (isDigit(f(p))) {
      let w = 0;
      while (isDigit(f(p))) w = w * 10 + f(p++) - 0x30;
      spec.width = w;
    }
    let size8 = false;
    if (f(p) === ch("l")) {
      size8 = true;
      p++;
      if (f(p) === ch("l")) p++;
    }
    const conv = f(p++);
    switch (conv) {
      case ch("%"):
        sink.put(ch("%"));
        break;
      case ch("c"): {
        if (!(spec.flags & LEFT)) while (--spec.width > 0) sink.put(ch(" "));
        sink.put(bin[args++] ?? 0);
        while (--spec.width > 0) sink.put(ch(" "));
        break;
      }
      case ch("s"): {
        let e = args;
        while (e < bin.length && bin[e] !== 0) e++;
        string(sink, bin.subarray(args, e), spec);
        args = e + 1;
        break;
      }
      case ch("p"): {
        const x = f(p);
        if (x === ch("S") || x === ch("s") || x === ch("x") || x === ch("K") || !isAlnum(x)) {
          const v = getU64();
          if (x === ch("S") || x === ch("s")) {
            // symbol_string(): no symbols in the vm, so sprint_symbol()'s "0x%lx".
            string(sink, latin1(hex0x(Number(v & 0xffffffffn), Number(v >> 32n))), spec);
          } else if (x === ch("x")) {
            pointerString(sink, v, spec);
          } else {
            // %p and %pK (kptr_restrict 0): NULL and ERR_PTR values raw, others hashed to 32 bits.
            const isErr = v >= (1n << 64n) - 4095n;
            const shown = v === 0n || isErr ? v : BigInt(env.hashPointer(Number(v & 0xffffffffn), Number(v >> 32n)) >>> 0);
            pointerString(sink, shown, spec);
          }
        } else if (sink.pos < sink.end) {
          // Pre-formatted text (%pB, %pI4..., %pks, %pus): copied as is, consumed only while there is room.
          let e = args;
          while (e < bin.length && bin[e] !== 0) e++;
          for (let k = args; k < e; k++) sink.put(bin[k]);
          args = e + 1;
        }
        while (isAlnum(f(p))) p++;
        break;
      }
      default: {
        // d i u x X
        const signed = conv === ch("d") || conv === ch("i");
        spec.base = conv === ch("x") || conv === ch("X") ? 16 : 10;
        if (conv === ch("x")) spec.flags |= SMALL;
        if (signed) spec.flags |= SIGN;
        let num: bigint;
        if (size8) {
          num = getU64();
        } else {
          args = (args + 3) & ~3;
          const v = getU32(bin, args);
          args += 4;
          num = signed ? BigInt.asUintN(64, BigInt(v | 0)) : BigInt(v);
        }
        number(sink, num, spec);
      }
    }
  }
  if (size > 0) {
    if (sink.pos < size) out[sink.pos] = 0;
    else out[size - 1] = 0;
  }
  return sink.pos;
}
