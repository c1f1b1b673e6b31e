/**
 * A program's slots in struct-of-arrays form: what the interpreter, JIT and
 * verifier iterate over (no object per instruction on hot paths), and the byte
 * encoding in either byte order.
 */
import { InvalidInstructionError } from "../errors.js";
import { type Instruction, type RawInsn, decodeInsn, encodeInsn } from "./instruction.js";
import { INSN_SIZE, OP_LD_IMM64 } from "./opcodes.js";

export type ByteOrder = "le" | "be";

export class Bytecode {
  readonly opcode: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;

  constructor(readonly length: number) {
    this.opcode = new Uint8Array(length);
    this.dst = new Uint8Array(length);
    this.src = new Uint8Array(length);
    this.off = new Int16Array(length);
    this.imm = new Int32Array(length);
  }

  /**
   * Reads slots from bytes. In little-endian objects dst is the low nibble of
   * byte 1; in big-endian ones the high nibble (the kernel's bitfield order).
   */
  static fromBytes(bytes: Uint8Array, order: ByteOrder = "le"): Bytecode {
    if (bytes.length % INSN_SIZE !== 0) {
      throw new InvalidInstructionError(
        Math.floor(bytes.length / INSN_SIZE), 0,
        `bytecode length ${bytes.length} is not a multiple of ${INSN_SIZE}`,
      );
    }
    const n = bytes.length / INSN_SIZE;
    const code = new Bytecode(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = order === "le";
    for (let i = 0; i < n; i++) {
      const base = i * INSN_SIZE;
      code.opcode[i] = bytes[base];
      const regs = bytes[base + 1];
      code.dst[i] = le ? regs & 0x0f : regs >> 4;
      code.src[i] = le ? regs >> 4 : regs & 0x0f;
      code.off[i] = view.getInt16(base + 2, le);
      code.imm[i] = view.getInt32(base + 4, le);
    }
    return code;
  }

  static fromRaw(raws: readonly RawInsn[]): Bytecode {
    const code = new Bytecode(raws.length);
    raws.forEach((r, i) => code.set(i, r));
    return code;
  }

  static fromInstructions(insns: readonly Instruction[]): Bytecode {
    return Bytecode.fromRaw(insns.flatMap(encodeInsn));
  }

  toBytes(order: ByteOrder = "le"): Uint8Array {
    const out = new Uint8Array(this.length * INSN_SIZE);
    const view = new DataView(out.buffer);
    const le = order === "le";
    for (let i = 0; i < this.length; i++) {
      const base = i * INSN_SIZE;
      out[base] = this.opcode[i];
      out[base + 1] = le ? (this.src[i] << 4) | (this.dst[i] & 0x0f) : (this.dst[i] << 4) | (this.src[i] & 0x0f);
      view.setInt16(base + 2, this.off[i], le);
      view.setInt32(base + 4, this.imm[i], le);
    }
    return out;
  }

  raw(i: number): RawInsn {
    return { opcode: this.opcode[i], dst: this.dst[i], src: this.src[i], off: this.off[i], imm: this.imm[i] };
  }

  set(i: number, r: RawInsn): void {
    this.opcode[i] = r.opcode;
    this.dst[i] = r.dst & 0x0f;
    this.src[i] = r.src & 0x0f;
    this.off[i] = r.off;
    this.imm[i] = r.imm;
  }

  clone(): Bytecode {
    const c = new Bytecode(this.length);
    c.opcode.set(this.opcode);
    c.dst.set(this.dst);
    c.src.set(this.src);
    c.off.set(this.off);
    c.imm.set(this.imm);
    return c;
  }

  /** Slots [start, end) as a new program. */
  slice(start: number, end = this.length): Bytecode {
    return Bytecode.fromRaw(Array.from({ length: end - start }, (_, k) => this.raw(start + k)));
  }

  /** Concatenates programs (used when linking subprograms). */
  static concat(parts: readonly Bytecode[]): Bytecode {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = new Bytecode(total);
    let at = 0;
    for (const p of parts) {
      out.opcode.set(p.opcode, at);
      out.dst.set(p.dst, at);
      out.src.set(p.src, at);
      out.off.set(p.off, at);
      out.imm.set(p.imm, at);
      at += p.length;
    }
    return out;
  }

  /**
   * Marks slots that are the second half of an LD_IMM64, scanning from slot 0
   * (a run of 0x18 opcodes pairs up from the start).
   */
  imm64Tails(): Uint8Array {
    const tails = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) {
      if (this.opcode[i] === OP_LD_IMM64 && i + 1 < this.length) tails[++i] = 1;
    }
    return tails;
  }

  /** Decodes slot i (throws InvalidInstructionError naming i and the opcode). */
  decode(i: number): Instruction {
    return decodeInsn(this.raw(i), i, i + 1 < this.length ? this.raw(i + 1) : undefined);
  }

  /**
   * Decodes every instruction in order: `[pc, insn]` pairs; an LD_IMM64's second
   * slot is consumed, not listed.
   */
  decodeAll(): Array<[number, Instruction]> {
    const out: Array<[number, Instruction]> = [];
    for (let pc = 0; pc < this.length; ) {
      const insn = this.decode(pc);
      out.push([pc, insn]);
      pc += insn.kind === "ld_imm64" ? 2 : 1;
    }
    return out;
  }
}
