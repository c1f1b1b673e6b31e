/**
 * Control and utility helpers (kernel/bpf/bpf_iter.c: bpf_loop;
 * kernel/bpf/helpers.c: bpf_strncmp, bpf_strtol, bpf_strtoul, bpf_spin_lock,
 * bpf_spin_unlock, bpf_kptr_xchg).
 *
 * Spin locks use the kernel's lock word (a u32 in the map value: 0 unlocked, 1
 * held, as a queued spinlock's locked byte), so user space's BPF_F_LOCK
 * operations (which skip the lock word) interoperate. The vm runs one program
 * at a time, so a lock is never contended; taking a held lock would deadlock
 * in the kernel — the verifier forbids it, and an unverified program faults.
 */
import { ProgramFault } from "../../errors.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperDef } from "./abi.js";
import { def, E, memCheck, putBig } from "./util.js";

export const BPF_FUNC_spin_lock = 93;
export const BPF_FUNC_spin_unlock = 94;
export const BPF_FUNC_strtol = 105;
export const BPF_FUNC_strtoul = 106;
export const BPF_FUNC_loop = 181;
export const BPF_FUNC_strncmp = 182;
export const BPF_FUNC_kptr_xchg = 194;

/** kernel/bpf/bpf_iter.c, BPF_MAX_LOOPS. */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** kernel/bpf/helpers.c, BPF_STRTOX_BASE_MASK. */
const BPF_STRTOX_BASE_MASK = 0x1f;
const U64_MAX = (1n << 64n) - 1n;

/** isspace() of include/linux/ctype.h for ASCII: \t \n \v \f \r and space. */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** The digit value of c, or 99. */
function digit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 99;
}

/**
 * __bpf_strtoull(): skip leading whitespace, an optional '-', then at most 63
 * bytes are parsed with the kernel's radix rules (base 0 picks 16 for "0x"
 * followed by a hex digit, 8 for a leading 0, else 10; base 16 skips "0x").
 * Returns the bytes consumed or -errno, with the value and sign.
 */
export function strtoull(buf: Uint8Array, flags: number, flagsHi: number): { ret: number; value: bigint; negative: boolean } {
  const fail = (ret: number) => ({ ret, value: 0n, negative: false });
  let base = flags & BPF_STRTOX_BASE_MASK;
  if (buf.length === 0) return fail(-E.EINVAL);
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return fail(-E.EINVAL);
  if ((flags & ~BPF_STRTOX_BASE_MASK) || flagsHi) return fail(-E.EINVAL);
  let i = 0;
  while (i < buf.length && isSpace(buf[i])) i++;
  const negative = i < buf.length && buf[i] === 0x2d;
  if (negative) i++;
  const consumed = i;
  if (buf.length - consumed === 0) return fail(-E.EINVAL);
  // The kernel copies min(len, 63) bytes into a NUL-terminated buffer.
  const s = new Uint8Array(64);
  s.set(buf.subarray(consumed, consumed + Math.min(buf.length - consumed, 63)));
  let p = 0;
  // _parse_integer_fixup_radix()
  if (base === 0) {
    if (s[0] === 0x30) base = (s[1] | 0x20) === 0x78 && digit(s[2]) < 16 ? 16 : 8;
    else base = 10;
  }
  if (base === 16 && s[0] === 0x30 && (s[1] | 0x20) === 0x78) p = 2;
  // _parse_integer(): digits until the first non-digit of the base; overflow flagged.
  let value = 0n;
  let n = 0;
  let overflow = false;
  const b = BigInt(base);
  for (;; p++, n++) {
    const d = digit(s[p]);
    if (d >= base) break;
    const next = value * b + BigInt(d);
    if (next > U64_MAX) overflow = true;
    value = next & U64_MAX;
  }
  if (overflow) return fail(-E.ERANGE);
  if (n === 0) return fail(-E.EINVAL);
  return { ret: consumed + p, value, negative };
}

export function controlHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  /** The string argument's bytes (buf, buf_len), checked for unverified programs. */
  const bytesArg = (call: Parameters<HelperDef["fn"]>[0]): Uint8Array => {
    const buf = call.addr(1);
    const len = call.u32(2);
    check(buf, len, false, call.pc);
    return services.space.u8.slice(buf, buf + len);
  };

  return [
    /**
     * bpf_loop(nr_loops, callback, ctx, flags): callback(i, ctx) for i in
     * [0, nr_loops) until it returns 1; returns the calls made, -EINVAL for flags,
     * (u32)-E2BIG past BPF_MAX_LOOPS (as the kernel's inlined loop returns it).
     */
    def(BPF_FUNC_loop, (call) => {
      const nr = call.u32(1);
      const fnPc = call.u32(2);
      const ctx = call.num(3);
      if (call.u32(4) !== 0 || call.hi(4) !== 0) return call.ret(-E.EINVAL);
      // With flags 0 the kernel's verifier inlines the loop (inline_bpf_loop() in
      // kernel/bpf/verifier.c), whose E2BIG is a 32-bit move: r0 = 0xfffffff9, zero-extended.
      if (nr > BPF_MAX_LOOPS) return call.ret64(-E.E2BIG, 0);
      const exec = call.exec;
      let i = 0;
      for (; i < nr; i++) {
        if (exec.invokeCallback(fnPc, i, ctx, 0, 0, 0) !== 0) {
          i++;
          break;
        }
      }
      call.ret(i);
    }),

    /** bpf_strncmp(s1, s1_sz, s2): strncmp()'s -1 / 0 / 1. */
    def(BPF_FUNC_strncmp, (call) => {
      const s1 = call.addr(1);
      const n = call.u32(2);
      const s2 = call.addr(3);
      check(s1, n, false, call.pc);
      const u8 = services.space.u8;
      let r = 0;
      for (let i = 0; i < n; i++) {
        check(s2 + i, 1, false, call.pc);
        const c1 = u8[s1 + i];
        const c2 = u8[s2 + i];
        if (c1 !== c2) {
          r = c1 < c2 ? -1 : 1;
          break;
        }
        if (c1 === 0) break;
      }
      call.ret(r);
    }),

    /** bpf_strtol(buf, buf_len, flags, res): bytes consumed or -errno; *res = 0 on error. */
    def(BPF_FUNC_strtol, (call) => {
      const res = call.addr(4);
      check(res, 8, true, call.pc);
      const { ret, value, negative } = strtoull(bytesArg(call), call.u32(3), call.hi(3));
      putBig(services.space, res, 0n);
      if (ret < 0) return call.ret(ret);
      // __bpf_strtoll(): the magnitude must fit an s64 (2^63 only when negative).
      if (negative ? value > 1n << 63n : value >= 1n << 63n) return call.ret(-E.ERANGE);
      putBig(services.space, res, negative ? -value : value);
      call.ret(ret);
    }),

    /** bpf_strtoul(buf, buf_len, flags, res): a '-' sign is EINVAL. */
    def(BPF_FUNC_strtoul, (call) => {
      const res = call.addr(4);
      check(res, 8, true, call.pc);
      const { ret, value, negative } = strtoull(bytesArg(call), call.u32(3), call.hi(3));
      putBig(services.space, res, 0n);
      if (ret < 0) return call.ret(ret);
      if (negative) return call.ret(-E.EINVAL);
      putBig(services.space, res, value);
      call.ret(ret);
    }),

    def(BPF_FUNC_spin_lock, (call) => {
      const lock = call.addr(1);
      check(lock, 4, true, call.pc);
      if ((lock & 3) !== 0) throw new ProgramFault(call.pc, "bpf_spin_lock: lock is not 4-byte aligned");
      const u32 = services.space.u32;
      if (u32[lock >>> 2] !== 0) throw new ProgramFault(call.pc, "bpf_spin_lock: lock already held (deadlock)");
      u32[lock >>> 2] = 1;
      call.ret64(0, 0);
    }),

    def(BPF_FUNC_spin_unlock, (call) => {
      const lock = call.addr(1);
      check(lock, 4, true, call.pc);
      if ((lock & 3) !== 0) throw new ProgramFault(call.pc, "bpf_spin_unlock: lock is not 4-byte aligned");
      services.space.u32[lock >>> 2] = 0;
      call.ret64(0, 0);
    }),

    /** bpf_kptr_xchg(dst, ptr): xchg() of the 8-byte kptr field; returns the old pointer. */
    def(BPF_FUNC_kptr_xchg, (call) => {
      const dst = call.addr(1);
      check(dst, 8, true, call.pc);
      const dv = services.space.dv;
      const lo = dv.getUint32(dst, true);
      const hi = dv.getUint32(dst + 4, true);
      dv.setUint32(dst, call.u32(2), true);
      dv.setUint32(dst + 4, call.hi(2), true);
      call.ret64(lo, hi);
    }),
  ];
}
