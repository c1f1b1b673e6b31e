/**
 * BPF instructions as a discriminated union, and the exact mapping between that
 * union and the 8-byte slots (RFC 9669 §3). LD_IMM64 spans two slots.
 */
import { InvalidInstructionError } from "../errors.js";
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IMM, BPF_IND, BPF_JA, BPF_JCOND, BPF_JEQ,
  BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT,
  BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MAY_GOTO, BPF_MEM, BPF_MEMSX,
  BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STORE_REL, BPF_STX, BPF_SUB,
  BPF_TO_BE, BPF_TO_LE, BPF_X, BPF_XCHG, BPF_XOR, BPF_K, classOf, modeOf, opOf,
  sizeBytes, sizeField, sizeFieldOf, srcFlagOf,
} from "./opcodes.js";

/** One 8-byte slot, fields as the kernel's struct bpf_insn (off and imm signed). */
export interface RawInsn {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export type Operand = { readonly kind: "reg"; readonly reg: number } | { readonly kind: "imm"; readonly imm: number };

export const reg = (r: number): Operand => ({ kind: "reg", reg: r });
export const imm = (v: number): Operand => ({ kind: "imm", imm: v | 0 });

export type AluOp =
  | "add" | "sub" | "mul" | "div" | "sdiv" | "or" | "and" | "lsh" | "rsh" | "mod" | "smod" | "xor" | "mov" | "arsh";

export type JmpOp =
  | "jeq" | "jgt" | "jge" | "jset" | "jne" | "jsgt" | "jsge" | "jlt" | "jle" | "jslt" | "jsle";

export type AtomicOp = "add" | "or" | "and" | "xor" | "xchg" | "cmpxchg";

export type Size = 1 | 2 | 4 | 8;

export type CallTarget = "helper" | "local" | "kfunc";

export type Instruction =
  /** dst op= src, 64-bit (wide) or 32-bit with zero extension. */
  | { readonly kind: "alu"; readonly op: AluOp; readonly wide: boolean; readonly dst: number; readonly src: Operand }
  | { readonly kind: "neg"; readonly wide: boolean; readonly dst: number }
  /** dst = (sign-extended low `bits` of src). RFC 9669 §4.1, MOVSX. */
  | { readonly kind: "movsx"; readonly wide: boolean; readonly bits: 8 | 16 | 32; readonly dst: number; readonly src: number }
  /** Arena address-space cast (ALU64 MOV X, off 1). imm = (dst_as << 16) | src_as. */
  | { readonly kind: "addr_space_cast"; readonly dst: number; readonly src: number; readonly imm: number }
  /** Byte swap: to little/big endian (ALU) or unconditional (ALU64, bswap). RFC 9669 §4.2. */
  | { readonly kind: "endian"; readonly order: "le" | "be" | "bswap"; readonly bits: 16 | 32 | 64; readonly dst: number }
  /** Conditional jump, comparing 64-bit (wide) or 32-bit values; target pc + 1 + off. */
  | { readonly kind: "jcc"; readonly op: JmpOp; readonly wide: boolean; readonly dst: number; readonly src: Operand; readonly off: number }
  /** Unconditional jump with a 16-bit offset (BPF_JMP | BPF_JA). */
  | { readonly kind: "ja"; readonly off: number }
  /** Unconditional jump with a 32-bit offset in imm (BPF_JMP32 | BPF_JA, "gotol"). */
  | { readonly kind: "gotol"; readonly imm: number }
  /** BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO: jump once the loop budget is spent. */
  | { readonly kind: "may_goto"; readonly off: number }
  /** Call a helper (imm = id), a subprogram (imm = pc offset) or a kfunc (imm = BTF id, off = fd_array index). */
  | { readonly kind: "call"; readonly target: CallTarget; readonly imm: number; readonly off: number }
  /** Call through a register (BPF_CALL | BPF_X, register in dst). */
  | { readonly kind: "callx"; readonly reg: number }
  | { readonly kind: "exit" }
  /** 64-bit immediate load over two slots; `pseudo` is the src field (BPF_PSEUDO_*). */
  | { readonly kind: "ld_imm64"; readonly dst: number; readonly pseudo: number; readonly lo: number; readonly hi: number }
  /** Legacy packet load r0 = ntoh(*(skb->data + imm)). */
  | { readonly kind: "ld_abs"; readonly size: 1 | 2 | 4; readonly imm: number }
  /** Legacy packet load r0 = ntoh(*(skb->data + src + imm)). */
  | { readonly kind: "ld_ind"; readonly size: 1 | 2 | 4; readonly src: number; readonly imm: number }
  | { readonly kind: "ldx"; readonly size: Size; readonly signed: boolean; readonly dst: number; readonly src: number; readonly off: number }
  | { readonly kind: "st"; readonly size: Size; readonly dst: number; readonly off: number; readonly imm: number }
  | { readonly kind: "stx"; readonly size: Size; readonly dst: number; readonly src: number; readonly off: number }
  | { readonly kind: "atomic"; readonly op: AtomicOp; readonly fetch: boolean; readonly size: 4 | 8; readonly dst: number; readonly src: number; readonly off: number }
  | { readonly kind: "load_acquire"; readonly size: Size; readonly dst: number; readonly src: number; readonly off: number }
  | { readonly kind: "store_release"; readonly size: Size; readonly dst: number; readonly src: number; readonly off: number };

export type InstructionKind = Instruction["kind"];

const ALU_OPS: ReadonlyMap<number, AluOp> = new Map([
  [BPF_ADD, "add"], [BPF_SUB, "sub"], [BPF_MUL, "mul"], [BPF_DIV, "div"], [BPF_OR, "or"],
  [BPF_AND, "and"], [BPF_LSH, "lsh"], [BPF_RSH, "rsh"], [BPF_MOD, "mod"], [BPF_XOR, "xor"],
  [BPF_MOV, "mov"], [BPF_ARSH, "arsh"],
]);

const ALU_CODES: Record<AluOp, number> = {
  add: BPF_ADD, sub: BPF_SUB, mul: BPF_MUL, div: BPF_DIV, sdiv: BPF_DIV, or: BPF_OR, and: BPF_AND,
  lsh: BPF_LSH, rsh: BPF_RSH, mod: BPF_MOD, smod: BPF_MOD, xor: BPF_XOR, mov: BPF_MOV, arsh: BPF_ARSH,
};

const JMP_OPS: ReadonlyMap<number, JmpOp> = new Map([
  [BPF_JEQ, "jeq"], [BPF_JGT, "jgt"], [BPF_JGE, "jge"], [BPF_JSET, "jset"], [BPF_JNE, "jne"],
  [BPF_JSGT, "jsgt"], [BPF_JSGE, "jsge"], [BPF_JLT, "jlt"], [BPF_JLE, "jle"], [BPF_JSLT, "jslt"],
  [BPF_JSLE, "jsle"],
]);

export const JMP_CODES: Record<JmpOp, number> = {
  jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET, jne: BPF_JNE, jsgt: BPF_JSGT,
  jsge: BPF_JSGE, jlt: BPF_JLT, jle: BPF_JLE, jslt: BPF_JSLT, jsle: BPF_JSLE,
};

const ATOMIC_OPS: ReadonlyMap<number, AtomicOp> = new Map([
  [BPF_ADD, "add"], [BPF_OR, "or"], [BPF_AND, "and"], [BPF_XOR, "xor"],
]);

const CALL_TARGETS: readonly CallTarget[] = ["helper", "local", "kfunc"];

const operandOf = (raw: RawInsn): Operand =>
  srcFlagOf(raw.opcode) === BPF_X ? { kind: "reg", reg: raw.src } : { kind: "imm", imm: raw.imm };

/**
 * Decodes the instruction at slot `index`. `next` is the following slot, needed
 * only by LD_IMM64. Throws InvalidInstructionError naming the index and opcode for
 * anything Linux 6.18 would not recognise as an instruction. Reserved fields are
 * not checked here (the verifier does, with the kernel's messages).
 */
export function decodeInsn(raw: RawInsn, index: number, next?: RawInsn): Instruction {
  const { opcode } = raw;
  const bad = (detail: string): never => {
    throw new InvalidInstructionError(index, opcode, detail);
  };
  switch (classOf(opcode)) {
    case BPF_ALU:
    case BPF_ALU64: {
      const wide = classOf(opcode) === BPF_ALU64;
      const code = opOf(opcode);
      if (code === BPF_END) {
        const bits = raw.imm;
        if (bits !== 16 && bits !== 32 && bits !== 64) bad(`byte swap width ${bits} (expected 16, 32 or 64)`);
        if (wide) {
          if (srcFlagOf(opcode) !== BPF_K) bad("bswap takes no source register");
          return { kind: "endian", order: "bswap", bits: bits as 16 | 32 | 64, dst: raw.dst };
        }
        return { kind: "endian", order: srcFlagOf(opcode) === BPF_TO_BE ? "be" : "le", bits: bits as 16 | 32 | 64, dst: raw.dst };
      }
      if (code === BPF_NEG) {
        if (srcFlagOf(opcode) !== BPF_K) bad("neg takes no source register");
        return { kind: "neg", wide, dst: raw.dst };
      }
      if (code === BPF_MOV && srcFlagOf(opcode) === BPF_X && raw.off !== 0) {
        if (wide && raw.off === 1) return { kind: "addr_space_cast", dst: raw.dst, src: raw.src, imm: raw.imm };
        if (raw.off === 8 || raw.off === 16 || (wide && raw.off === 32)) {
          return { kind: "movsx", wide, bits: raw.off, dst: raw.dst, src: raw.src };
        }
        return bad(`mov with offset ${raw.off}`);
      }
      const op = ALU_OPS.get(code) ?? bad("unknown ALU operation");
      if ((op === "div" || op === "mod") && raw.off === 1) {
        return { kind: "alu", op: op === "div" ? "sdiv" : "smod", wide, dst: raw.dst, src: operandOf(raw) };
      }
      return { kind: "alu", op, wide, dst: raw.dst, src: operandOf(raw) };
    }
    case BPF_JMP:
    case BPF_JMP32: {
      const wide = classOf(opcode) === BPF_JMP;
      const code = opOf(opcode);
      switch (code) {
        case BPF_JA:
          if (srcFlagOf(opcode) !== BPF_K) bad("indirect jump");
          return wide ? { kind: "ja", off: raw.off } : { kind: "gotol", imm: raw.imm };
        case BPF_CALL:
          if (!wide) bad("call in JMP32 class");
          if (srcFlagOf(opcode) === BPF_X) return { kind: "callx", reg: raw.dst };
          if (raw.src > 2) bad(`call with src ${raw.src}`);
          return { kind: "call", target: CALL_TARGETS[raw.src], imm: raw.imm, off: raw.off };
        case BPF_EXIT:
          if (!wide) bad("exit in JMP32 class");
          if (srcFlagOf(opcode) !== BPF_K) bad("exit with source register flag");
          return { kind: "exit" };
        case BPF_JCOND:
          if (!wide || srcFlagOf(opcode) !== BPF_K || raw.src !== BPF_MAY_GOTO) bad("unknown conditional pseudo jump");
          return { kind: "may_goto", off: raw.off };
        default: {
          const op = JMP_OPS.get(code) ?? bad("unknown jump operation");
          return { kind: "jcc", op, wide, dst: raw.dst, src: operandOf(raw), off: raw.off };
        }
      }
    }
    case BPF_LD: {
      const mode = modeOf(opcode);
      if (mode === BPF_IMM) {
        if (sizeFieldOf(opcode) !== BPF_DW) bad("BPF_LD | BPF_IMM needs BPF_DW");
        if (!next) bad("LD_IMM64 needs a second slot");
        return { kind: "ld_imm64", dst: raw.dst, pseudo: raw.src, lo: raw.imm, hi: next!.imm };
      }
      const size = sizeBytes(sizeFieldOf(opcode));
      if (size === 8) bad("legacy packet load with BPF_DW");
      if (mode === BPF_ABS) return { kind: "ld_abs", size: size as 1 | 2 | 4, imm: raw.imm };
      if (mode === BPF_IND) return { kind: "ld_ind", size: size as 1 | 2 | 4, src: raw.src, imm: raw.imm };
      return bad("unknown BPF_LD mode");
    }
    case BPF_LDX: {
      const mode = modeOf(opcode);
      const size = sizeBytes(sizeFieldOf(opcode));
      if (mode === BPF_MEM) return { kind: "ldx", size, signed: false, dst: raw.dst, src: raw.src, off: raw.off };
      if (mode === BPF_MEMSX) {
        if (size === 8) bad("sign-extending load of 8 bytes");
        return { kind: "ldx", size, signed: true, dst: raw.dst, src: raw.src, off: raw.off };
      }
      return bad("unknown BPF_LDX mode");
    }
    case BPF_ST: {
      if (modeOf(opcode) !== BPF_MEM) bad("unknown BPF_ST mode");
      return { kind: "st", size: sizeBytes(sizeFieldOf(opcode)), dst: raw.dst, off: raw.off, imm: raw.imm };
    }
    default: {
      // BPF_STX
      const mode = modeOf(opcode);
      const size = sizeBytes(sizeFieldOf(opcode));
      if (mode === BPF_MEM) return { kind: "stx", size, dst: raw.dst, src: raw.src, off: raw.off };
      if (mode !== BPF_ATOMIC) return bad("unknown BPF_STX mode");
      if (raw.imm === BPF_LOAD_ACQ) return { kind: "load_acquire", size, dst: raw.dst, src: raw.src, off: raw.off };
      if (raw.imm === BPF_STORE_REL) return { kind: "store_release", size, dst: raw.dst, src: raw.src, off: raw.off };
      if (size !== 4 && size !== 8) bad(`atomic operation on ${size} bytes`);
      const sz = size as 4 | 8;
      if (raw.imm === BPF_XCHG) return { kind: "atomic", op: "xchg", fetch: true, size: sz, dst: raw.dst, src: raw.src, off: raw.off };
      if (raw.imm === BPF_CMPXCHG) return { kind: "atomic", op: "cmpxchg", fetch: true, size: sz, dst: raw.dst, src: raw.src, off: raw.off };
      const op = ATOMIC_OPS.get(raw.imm & ~BPF_FETCH);
      if (!op) return bad(`unknown atomic operation 0x${(raw.imm >>> 0).toString(16)}`);
      return { kind: "atomic", op, fetch: (raw.imm & BPF_FETCH) !== 0, size: sz, dst: raw.dst, src: raw.src, off: raw.off };
    }
  }
}

const slot = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({
  opcode, dst, src, off: (off << 16) >> 16, imm: imm | 0,
});

/** Encodes an instruction into its slot(s): one, or two for LD_IMM64. */
export function encodeInsn(insn: Instruction): RawInsn[] {
  switch (insn.kind) {
    case "alu": {
      const cls = insn.wide ? BPF_ALU64 : BPF_ALU;
      const signed = insn.op === "sdiv" || insn.op === "smod" ? 1 : 0;
      const code = cls | ALU_CODES[insn.op];
      return insn.src.kind === "reg"
        ? [slot(code | BPF_X, insn.dst, insn.src.reg, signed, 0)]
        : [slot(code | BPF_K, insn.dst, 0, signed, insn.src.imm)];
    }
    case "neg":
      return [slot((insn.wide ? BPF_ALU64 : BPF_ALU) | BPF_NEG | BPF_K, insn.dst)];
    case "movsx":
      return [slot((insn.wide ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, insn.dst, insn.src, insn.bits)];
    case "addr_space_cast":
      return [slot(BPF_ALU64 | BPF_MOV | BPF_X, insn.dst, insn.src, 1, insn.imm)];
    case "endian": {
      const code =
        insn.order === "bswap" ? BPF_ALU64 | BPF_END | BPF_TO_LE
        : BPF_ALU | BPF_END | (insn.order === "be" ? BPF_TO_BE : BPF_TO_LE);
      return [slot(code, insn.dst, 0, 0, insn.bits)];
    }
    case "jcc": {
      const code = (insn.wide ? BPF_JMP : BPF_JMP32) | JMP_CODES[insn.op];
      return insn.src.kind === "reg"
        ? [slot(code | BPF_X, insn.dst, insn.src.reg, insn.off, 0)]
        : [slot(code | BPF_K, insn.dst, 0, insn.off, insn.src.imm)];
    }
    case "ja":
      return [slot(BPF_JMP | BPF_JA, 0, 0, insn.off)];
    case "gotol":
      return [slot(BPF_JMP32 | BPF_JA, 0, 0, 0, insn.imm)];
    case "may_goto":
      return [slot(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, insn.off)];
    case "call":
      return [slot(BPF_JMP | BPF_CALL, 0, CALL_TARGETS.indexOf(insn.target), insn.off, insn.imm)];
    case "callx":
      return [slot(BPF_JMP | BPF_CALL | BPF_X, insn.reg)];
    case "exit":
      return [slot(BPF_JMP | BPF_EXIT)];
    case "ld_imm64":
      return [slot(BPF_LD | BPF_IMM | BPF_DW, insn.dst, insn.pseudo, 0, insn.lo), slot(0, 0, 0, 0, insn.hi)];
    case "ld_abs":
      return [slot(BPF_LD | BPF_ABS | sizeField(insn.size), 0, 0, 0, insn.imm)];
    case "ld_ind":
      return [slot(BPF_LD | BPF_IND | sizeField(insn.size), 0, insn.src, 0, insn.imm)];
    case "ldx":
      return [slot(BPF_LDX | (insn.signed ? BPF_MEMSX : BPF_MEM) | sizeField(insn.size), insn.dst, insn.src, insn.off)];
    case "st":
      return [slot(BPF_ST | BPF_MEM | sizeField(insn.size), insn.dst, 0, insn.off, insn.imm)];
    case "stx":
      return [slot(BPF_STX | BPF_MEM | sizeField(insn.size), insn.dst, insn.src, insn.off)];
    case "atomic": {
      const immValue =
        insn.op === "xchg" ? BPF_XCHG
        : insn.op === "cmpxchg" ? BPF_CMPXCHG
        : ALU_CODES[insn.op] | (insn.fetch ? BPF_FETCH : 0);
      return [slot(BPF_STX | BPF_ATOMIC | sizeField(insn.size), insn.dst, insn.src, insn.off, immValue)];
    }
    case "load_acquire":
      return [slot(BPF_STX | BPF_ATOMIC | sizeField(insn.size), insn.dst, insn.src, insn.off, BPF_LOAD_ACQ)];
    case "store_release":
      return [slot(BPF_STX | BPF_ATOMIC | sizeField(insn.size), insn.dst, insn.src, insn.off, BPF_STORE_REL)];
  }
}

/** Slots an instruction occupies. */
export const widthOf = (insn: Instruction): 1 | 2 => (insn.kind === "ld_imm64" ? 2 : 1);

/** The 64-bit value of an LD_IMM64 as a bigint (for display and public APIs). */
export const ldImm64Value = (insn: { lo: number; hi: number }): bigint =>
  (BigInt(insn.hi >>> 0) << 32n) | BigInt(insn.lo >>> 0);

/** Splits a 64-bit value into the i32 halves LD_IMM64 carries. */
export function splitImm64(value: bigint): { lo: number; hi: number } {
  const v = BigInt.asUintN(64, value);
  return { lo: Number(v & 0xffffffffn) | 0, hi: Number(v >> 32n) | 0 };
}

/** Jump target (absolute slot index) of a jump-like instruction at `pc`, or undefined. */
export function jumpTarget(insn: Instruction, pc: number): number | undefined {
  switch (insn.kind) {
    case "jcc":
    case "ja":
    case "may_goto":
      return pc + 1 + insn.off;
    case "gotol":
      return pc + 1 + insn.imm;
    default:
      return undefined;
  }
}

