/**
 * Instruction text as the kernel's verifier log prints it (kernel/bpf/disasm.c,
 * print_bpf_insn): "(07) r1 += 14", "(85) call bpf_map_lookup_elem#1",
 * "(18) r1 = 0xffff...". Local to the verifier until the shared disassembler in
 * src/isa lands.
 */
import type { Bytecode } from "../../isa/bytecode.js";

const ALU = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
const JMP = ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<="];
const LDST = ["u32", "u16", "u8", "u64"];
const LDSX = ["s32", "s16", "s8", "s64"];
const ATOMIC_ALU: Record<number, string> = { 0x00: "add", 0x50: "and", 0x40: "or", 0xa0: "xor" };

export interface DisasmOptions {
  /** Helper name by id (without "bpf_"), for "call bpf_NAME#ID". */
  helperName?(id: number): string | undefined;
  /** Value shown for an LD_IMM64 (map references show the map's address). */
  imm64?(pc: number, value: bigint): string | undefined;
}

const sgn = (v: number): string => (v >= 0 ? `+${v}` : `${v}`);
const hex2 = (v: number): string => v.toString(16).padStart(2, "0");

export function disasmInsn(code: Bytecode, pc: number, opts: DisasmOptions = {}): string {
  const op = code.opcode[pc];
  const dst = code.dst[pc];
  const src = code.src[pc];
  const off = code.off[pc];
  const imm = code.imm[pc];
  const cls = op & 7;
  const h = `(${hex2(op)})`;
  if (cls === 4 || cls === 7) {
    const r = cls === 4 ? "w" : "r";
    const aop = op & 0xf0;
    if (aop === 0xd0) {
      if (cls === 7) return `${h} r${dst} = bswap${imm} r${dst}`;
      return `${h} r${dst} = ${op & 8 ? "be" : "le"}${imm} r${dst}`;
    }
    if (aop === 0x80) return `${h} ${r}${dst} = -${r}${dst}`;
    if (op === 0xbf && off === 1) return `${h} r${dst} = addr_space_cast(r${src}, ${(imm >>> 16) & 0xffff}, ${imm & 0xffff})`;
    const signed = (aop === 0x30 || aop === 0x90) && off === 1;
    const name = signed ? (aop === 0x30 ? "s/=" : "s%=") : ALU[aop >> 4];
    if (op & 8) {
      const sx = aop === 0xb0 && (off === 8 || off === 16 || off === 32) ? `(s${off})` : "";
      return `${h} ${r}${dst} ${name} ${sx}${r}${src}`;
    }
    return `${h} ${r}${dst} ${name} ${imm}`;
  }
  if (cls === 3) {
    const sz = LDST[(op >> 3) & 3];
    const mode = op & 0xe0;
    if (mode === 0x60) return `${h} *(${sz} *)(r${dst} ${sgn(off)}) = r${src}`;
    if (mode === 0xc0) {
      const bits = (op & 0x18) === 0x18 ? "64" : "";
      if (imm === 0x100) return `${h} r${dst} = load_acquire((${sz} *)(r${src} ${sgn(off)}))`;
      if (imm === 0x110) return `${h} store_release((${sz} *)(r${dst} ${sgn(off)}), r${src})`;
      if (imm === 0xf1) return `${h} r0 = atomic${bits}_cmpxchg((${sz} *)(r${dst} ${sgn(off)}), r0, r${src})`;
      if (imm === 0xe1) return `${h} r${src} = atomic${bits}_xchg((${sz} *)(r${dst} ${sgn(off)}), r${src})`;
      const a = ATOMIC_ALU[imm & ~1];
      if (a !== undefined && (imm & ~0xf1) === 0) {
        if (imm & 1) return `${h} r${src} = atomic${bits}_fetch_${a}((${sz} *)(r${dst} ${sgn(off)}), r${src})`;
        return `${h} lock *(${sz} *)(r${dst} ${sgn(off)}) ${ALU[imm >> 4]} r${src}`;
      }
    }
    return `BUG_${hex2(op)}`;
  }
  if (cls === 2) {
    if ((op & 0xe0) === 0x60) return `${h} *(${LDST[(op >> 3) & 3]} *)(r${dst} ${sgn(off)}) = ${imm}`;
    return `BUG_st_${hex2(op)}`;
  }
  if (cls === 1) {
    const mode = op & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) return `BUG_ldx_${hex2(op)}`;
    const sz = (mode === 0x60 ? LDST : LDSX)[(op >> 3) & 3];
    return `${h} r${dst} = *(${sz} *)(r${src} ${sgn(off)})`;
  }
  if (cls === 0) {
    const mode = op & 0xe0;
    const sz = LDST[(op >> 3) & 3];
    if (mode === 0x20) return `${h} r0 = *(${sz} *)skb[${imm}]`;
    if (mode === 0x40) return `${h} r0 = *(${sz} *)skb[r${src} + ${imm}]`;
    if (op === 0x18 && pc + 1 < code.length) {
      const v = (BigInt(code.imm[pc + 1] >>> 0) << 32n) | BigInt(imm >>> 0);
      return `${h} r${dst} = ${opts.imm64?.(pc, v) ?? "0x" + v.toString(16)}`;
    }
    return `BUG_ld_${hex2(op)}`;
  }
  // JMP / JMP32
  const jop = op & 0xf0;
  if (jop === 0x80) {
    if (src === 1) return `${h} call pc${sgn(imm)}`;
    if (src === 2) return `${h} call kernel-function`;
    const n = opts.helperName?.(imm);
    return `${h} call ${n ? "bpf_" + n : "unknown"}#${imm}`;
  }
  if (op === 0x05) return `${h} goto pc${sgn(off)}`;
  if (op === 0xe5) return `${h} may_goto pc${sgn(off)}`;
  if (op === 0x06) return `${h} gotol pc${sgn(imm)}`;
  if (op === 0x95) return `${h} exit`;
  const r = cls === 6 ? "w" : "r";
  if (op & 8) return `${h} if ${r}${dst} ${JMP[jop >> 4]} ${r}${src} goto pc${sgn(off)}`;
  return `${h} if ${r}${dst} ${JMP[jop >> 4]} 0x${(imm >>> 0).toString(16)} goto pc${sgn(off)}`;
}
