/**
 * Small program generators shared by the helper tests: bytes on the stack,
 * printf-family calls with their arguments.
 */
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R5, R9 } from "../../../src/isa/builder.js";
import type { Prog } from "./harness.js";
import { ldMapValue } from "./harness.js";

/** Stores `bytes` (zero-padded to 8) at r10 - at. */
export function stackBytes(b: ProgramBuilder, bytes: Uint8Array, at: number): void {
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  padded.set(bytes);
  const dv = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 8) {
    b.ldImm64(R1, dv.getBigUint64(i, true)).stx(8, FP, -(at - i), R1);
  }
}

export const cstr = (s: string): Uint8Array => {
  const b = Buffer.from(s + "\0", "latin1");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};

/** An argument: a number (u64 as bigint or number) or a string placed on the stack (its address passed). */
export type PArg = bigint | number | { readonly str: string };

const REG = [R3, R4, R5];
const STR_BASE = 304;
const STR_SLOT = 40;
/** The u64 argument array of vprintk / snprintf: r10 - ARGS, room for 14. */
const ARGS = 112;

/** bpf_trace_printk(fmt, fmtSize ?? len+1, args...); r0 is the program's result. */
export function tracePrintk(fmt: Uint8Array, args: readonly PArg[], fmtSize?: number): Prog {
  const b = new ProgramBuilder();
  stackBytes(b, fmt, 512);
  const strAt = (i: number): number => STR_BASE - i * STR_SLOT;
  // Strings first (they use r1 as scratch), then the argument registers.
  args.forEach((a, i) => {
    if (typeof a === "object") stackBytes(b, cstr(a.str), strAt(i));
  });
  args.forEach((a, i) => {
    if (typeof a === "object") b.mov(REG[i], FP).add(REG[i], -strAt(i));
    else b.ldImm64(REG[i], BigInt.asUintN(64, BigInt(a)));
  });
  b.mov(R1, FP).add(R1, -512).mov(R2, fmtSize ?? fmt.length).call("bpf_trace_printk").exit();
  return { insns: b.build().instructions };
}

/**
 * bpf_trace_vprintk(fmt, fmtSize, args, dataLen) with the u64 arguments in an
 * array on the stack (strings placed and their addresses stored); dataLen
 * defaults to 8 per argument.
 */
export function traceVprintk(fmt: Uint8Array, args: readonly PArg[], opts: { fmtSize?: number; dataLen?: number; nullArgs?: boolean } = {}): Prog {
  const b = new ProgramBuilder();
  stackBytes(b, fmt, 512);
  args.forEach((a, i) => {
    const slot = -(ARGS - 8 * i);
    if (typeof a === "object") {
      const at = STR_BASE - (i % 4) * STR_SLOT;
      if (i >= 4) throw new Error("at most 4 string arguments");
      stackBytes(b, cstr(a.str), at);
      b.mov(R1, FP).add(R1, -at).stx(8, FP, slot, R1);
    } else {
      b.ldImm64(R1, BigInt.asUintN(64, BigInt(a))).stx(8, FP, slot, R1);
    }
  });
  b.mov(R1, FP).add(R1, -512).mov(R2, opts.fmtSize ?? fmt.length);
  if (opts.nullArgs) b.mov(R3, 0);
  else b.mov(R3, FP).add(R3, -ARGS);
  b.mov(R4, opts.dataLen ?? 8 * args.length).call("bpf_trace_vprintk").exit();
  return { insns: b.build().instructions };
}

/**
 * bpf_snprintf(out + 8, size, fmt, args, dataLen) where fmt is map 1's value
 * (a frozen read-only array) and the output goes to map 0's value at offset 8;
 * r0 is also stored at offset 0.
 */
export function snprintfProg(args: readonly PArg[], size: number, opts: { dataLen?: number } = {}): Prog {
  const b = new ProgramBuilder();
  args.forEach((a, i) => {
    const slot = -(ARGS - 8 * i);
    if (typeof a === "object") {
      const at = STR_BASE - (i % 4) * STR_SLOT;
      stackBytes(b, cstr(a.str), at);
      b.mov(R1, FP).add(R1, -at).stx(8, FP, slot, R1);
    } else {
      b.ldImm64(R1, BigInt.asUintN(64, BigInt(a))).stx(8, FP, slot, R1);
    }
  });
  ldMapValue(b, R9, 0);
  b.mov(R1, R9).add(R1, 8).mov(R2, size);
  ldMapValue(b, R3, 1);
  b.mov(R4, FP).add(R4, -ARGS).mov(R5, opts.dataLen ?? 8 * args.length).call("bpf_snprintf");
  b.stx(8, R9, 0, R0).exit();
  return { insns: b.build().instructions };
}
