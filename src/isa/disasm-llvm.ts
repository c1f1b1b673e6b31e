/**
 * The llvm style: instruction text as `llvm-objdump-19 -d --mcpu=v4` prints it
 * (llvm/lib/Target/BPF: BPFInstrInfo.td asm strings, BPFInstPrinter). With
 * --mcpu=v4 the disassembler prefers the ALU32 forms, so sub-64-bit loads, stores
 * and 32-bit atomics name w registers ("w0 = *(u32 *)(r10 - 0x4)").
 *
 * Differences from llvm-objdump-19, each because its text would not assemble back
 * to the same bytes or because LLVM 19 does not know the instruction:
 *  - local call (src 1) with imm >= 0: "call +0x3" (llvm: "call 0x3", same as a
 *    helper call); with imm < 0 the text is llvm's ("call -0x1").
 *  - kfunc call (src 2): "call kfunc 0x7b" (llvm: "call 0x7b"), plus ", 0x2" when
 *    off (the fd_array index) is not 0.
 *  - LD_IND with imm != 0: "r0 = *(u16 *)skb[r1 + 0xc]" (llvm drops the imm).
 *  - LD_IMM64 with a pseudo src whose second imm is not 0: "ld_pseudo r1, 0x2,
 *    0x1000000005", the full unsigned 64-bit immediate (llvm prints the low 32 bits).
 *  - load_acquire / store_release: LLVM 20's syntax ("w0 = load_acquire((u8 *)(r1
 *    + 0x0))", "store_release((u64 *)(r1 + 0x8), r2)"); LLVM 19 prints <unknown>.
 *  - jump annotations come from DisasmOptions.symbols; without symbols they are
 *    relative to the section, as llvm-objdump prints a section with no symbols
 *    ("goto +0x3 <.text+0x20>").
 */
import type { AluOp, Instruction, JmpOp, Size } from "./instruction.js";
import { INSN_SIZE } from "./opcodes.js";

export interface LlvmContext {
  /** Symbols sorted by slot. */
  readonly symbols: ReadonlyArray<readonly [number, string]>;
  readonly section: string;
}

const ALU_OPS: Record<AluOp, string> = {
  add: "+=", sub: "-=", mul: "*=", div: "/=", sdiv: "s/=", or: "|=", and: "&=", lsh: "<<=", rsh: ">>=",
  mod: "%=", smod: "s%=", xor: "^=", mov: "=", arsh: "s>>=",
};

export const JMP_SYMBOLS: Record<JmpOp, string> = {
  jeq: "==", jgt: ">", jge: ">=", jset: "&", jne: "!=", jsgt: "s>", jsge: "s>=", jlt: "<", jle: "<=",
  jslt: "s<", jsle: "s<=",
};

const ATOMIC_ALU: Record<"add" | "or" | "and" | "xor", string> = { add: "+=", or: "|=", and: "&=", xor: "^=" };

/** "0x5", "-0x5": llvm's signed hex (BPFInstPrinter prints immediates with formatImm). */
export function llvmHex(v: number | bigint): string {
  if (typeof v === "bigint") return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** "+0x3" / "-0x3", as llvm prints branch offsets. */
const signedOff = (v: number): string => (v < 0 ? `-0x${(-v).toString(16)}` : `+0x${v.toString(16)}`);

const uType = (size: Size): string => `u${size * 8}`;
const sizedReg = (size: Size, r: number): string => `${size === 8 ? "r" : "w"}${r}`;
/** "(r10 - 0x4)", "(r1 + 0x0)". */
const memRef = (reg: number, off: number): string => `(r${reg} ${off < 0 ? "-" : "+"} 0x${Math.abs(off).toString(16)})`;

export function formatLlvm(insn: Instruction, pc: number, ctx: LlvmContext): string {
  switch (insn.kind) {
    case "alu": {
      const p = insn.wide ? "r" : "w";
      const src = insn.src.kind === "reg" ? `${p}${insn.src.reg}` : llvmHex(insn.src.imm);
      return `${p}${insn.dst} ${ALU_OPS[insn.op]} ${src}`;
    }
    case "neg": {
      const p = insn.wide ? "r" : "w";
      return `${p}${insn.dst} = -${p}${insn.dst}`;
    }
    case "movsx": {
      const p = insn.wide ? "r" : "w";
      return `${p}${insn.dst} = (s${insn.bits})${p}${insn.src}`;
    }
    case "addr_space_cast":
      return `r${insn.dst} = addr_space_cast(r${insn.src}, ${llvmHex(insn.imm >>> 16)}, ${llvmHex(insn.imm & 0xffff)})`;
    case "endian":
      return `r${insn.dst} = ${insn.order}${insn.bits} r${insn.dst}`;
    case "jcc": {
      const p = insn.wide ? "r" : "w";
      const src = insn.src.kind === "reg" ? `${p}${insn.src.reg}` : llvmHex(insn.src.imm);
      return `if ${p}${insn.dst} ${JMP_SYMBOLS[insn.op]} ${src} goto ${signedOff(insn.off)} ${annotate(pc + 1 + insn.off, ctx)}`;
    }
    case "ja":
      return `goto ${signedOff(insn.off)} ${annotate(pc + 1 + insn.off, ctx)}`;
    case "gotol":
      return `gotol ${signedOff(insn.imm)} ${annotate(pc + 1 + insn.imm, ctx)}`;
    case "may_goto":
      return `may_goto ${signedOff(insn.off)} ${annotate(pc + 1 + insn.off, ctx)}`;
    case "call":
      switch (insn.target) {
        case "helper":
          return `call ${llvmHex(insn.imm)}`;
        case "local":
          return `call ${signedOff(insn.imm)}`;
        case "kfunc":
          return `call kfunc ${llvmHex(insn.imm)}${insn.off !== 0 ? `, ${llvmHex(insn.off)}` : ""}`;
      }
      break;
    case "callx":
      return `callx r${insn.reg}`;
    case "exit":
      return "exit";
    case "ld_imm64": {
      const value = (BigInt(insn.hi >>> 0) << 32n) | BigInt(insn.lo >>> 0);
      if (insn.pseudo === 0) return `r${insn.dst} = ${llvmHex(BigInt.asIntN(64, value))} ll`;
      return `ld_pseudo\tr${insn.dst}, ${llvmHex(insn.pseudo)}, ${llvmHex(value)}`;
    }
    case "ld_abs":
      return `r0 = *(${uType(insn.size)} *)skb[${llvmHex(insn.imm)}]`;
    case "ld_ind":
      return `r0 = *(${uType(insn.size)} *)skb[r${insn.src}${insn.imm === 0 ? "" : ` ${insn.imm < 0 ? "-" : "+"} 0x${Math.abs(insn.imm).toString(16)}`}]`;
    case "ldx":
      return insn.signed
        ? `r${insn.dst} = *(s${insn.size * 8} *)${memRef(insn.src, insn.off)}`
        : `${sizedReg(insn.size, insn.dst)} = *(${uType(insn.size)} *)${memRef(insn.src, insn.off)}`;
    case "st":
      return `*(${uType(insn.size)} *)${memRef(insn.dst, insn.off)} = ${llvmHex(insn.imm)}`;
    case "stx":
      return `*(${uType(insn.size)} *)${memRef(insn.dst, insn.off)} = ${sizedReg(insn.size, insn.src)}`;
    case "atomic": {
      const v = sizedReg(insn.size, insn.src);
      const addr = `r${insn.dst} ${insn.off < 0 ? "-" : "+"} 0x${Math.abs(insn.off).toString(16)}`;
      switch (insn.op) {
        case "xchg":
          return insn.size === 8 ? `${v} = xchg_64(${addr}, ${v})` : `${v} = xchg32_32(${addr}, ${v})`;
        case "cmpxchg": {
          const r0 = sizedReg(insn.size, 0);
          return insn.size === 8 ? `${r0} = cmpxchg_64(${addr}, ${r0}, ${v})` : `${r0} = cmpxchg32_32(${addr}, ${r0}, ${v})`;
        }
        default:
          return insn.fetch
            ? `${v} = atomic_fetch_${insn.op}((${uType(insn.size)} *)(${addr}), ${v})`
            : `lock *(${uType(insn.size)} *)(${addr}) ${ATOMIC_ALU[insn.op]} ${v}`;
      }
    }
    case "load_acquire":
      return `${sizedReg(insn.size, insn.dst)} = load_acquire((${uType(insn.size)} *)${memRef(insn.src, insn.off)})`;
    case "store_release":
      return `store_release((${uType(insn.size)} *)${memRef(insn.dst, insn.off)}, ${sizedReg(insn.size, insn.src)})`;
  }
}

const U64 = 1n << 64n;

/**
 * "<f+0x40>": the jump target as llvm-objdump annotates it, relative to the
 * nearest symbol at or below the target address taken as an unsigned 64-bit
 * value (so a target before the start wraps, as llvm's does).
 */
function annotate(target: number, ctx: LlvmContext): string {
  const addr = (((BigInt(target) * BigInt(INSN_SIZE)) % U64) + U64) % U64;
  let name = ctx.section;
  let base = 0n;
  for (const [slot, sym] of ctx.symbols) {
    const a = BigInt(slot) * BigInt(INSN_SIZE);
    if (a > addr) break;
    name = sym;
    base = a;
  }
  const delta = addr - base;
  return delta === 0n ? `<${name}>` : `<${name}+0x${delta.toString(16)}>`;
}
