/**
 * Writing BPF programs in TypeScript, the way cilium/ebpf's asm package does:
 *
 *   const b = new ProgramBuilder();
 *   b.mov(R0, 0)
 *     .ldx(4, R2, R1, 0)
 *     .jeq(R2, 0, "out")
 *     .ldMapFd(R1, "counters")          // resolved by the loader
 *     .call("bpf_map_lookup_elem")
 *     .label("out")
 *     .exit();
 *   const { code, mapReferences } = b.build();
 *
 * Registers are typed values (R0..R10), so an immediate and a register cannot be
 * confused; methods ending in 32 are the 32-bit (ALU / JMP32) forms.
 */
import { TsbpfError } from "../errors.js";
import { Bytecode } from "./bytecode.js";
import { helperId } from "./helper-names.js";
import {
  type AluOp, type AtomicOp, type Instruction, type JmpOp, type Operand, type Size, splitImm64,
} from "./instruction.js";
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "./opcodes.js";

/** A register r0..r10. Only the constants below exist. */
export class Register {
  private constructor(readonly n: number) {}
  /** @internal */
  static readonly all: readonly Register[] = Array.from({ length: 11 }, (_, i) => new Register(i));
  toString(): string {
    return `r${this.n}`;
  }
}

export const [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10] = Register.all as [
  Register, Register, Register, Register, Register, Register, Register, Register, Register, Register, Register,
];
/** The read-only frame pointer. RFC 9669 §2.4. */
export const FP = R10;

/** A source operand: a register or a 32-bit immediate. */
export type Source = Register | number;

/** A place in the program a loader must patch: the slot (as the kernel counts instructions) and the symbol. */
export interface SymbolReference {
  /** Slot index in `code` (an LD_IMM64 counts two). */
  readonly insnIndex: number;
  readonly symbol: string;
}

export interface BuiltProgram {
  readonly code: Bytecode;
  readonly instructions: Instruction[];
  /** Every LD_IMM64 of a map (ldMapFd, ldMapValue), imm still 0: the loader fills in the map. */
  readonly mapReferences: SymbolReference[];
  /** Every call or function-pointer load by symbol; those labelled in this builder are already resolved. */
  readonly funcReferences: SymbolReference[];
}

export interface BuildOptions {
  /**
   * Leave calls to functions not labelled in this builder for a linker (imm -1, as
   * clang leaves them in an object file) instead of failing.
   */
  readonly externalFunctions?: boolean;
}

/** A builder misuse: undefined or duplicate label, immediate out of range, unknown helper. */
export class BuilderError extends TsbpfError {}

interface Fixup {
  readonly index: number;
  readonly slot: number;
  readonly label: string;
  readonly kind: "jump" | "func";
}

const I32_MIN = -0x8000_0000;
const U32_END = 0x1_0000_0000;

export class ProgramBuilder {
  private readonly insns: Instruction[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  private readonly maps: SymbolReference[] = [];
  private slot = 0;

  /** Slots emitted so far (where the next instruction goes). */
  get length(): number {
    return this.slot;
  }

  /** Defines `name` at the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) throw new BuilderError(`duplicate label '${name}'`);
    this.labels.set(name, this.slot);
    return this;
  }

  /** Appends any instruction. */
  raw(insn: Instruction): this {
    this.insns.push(insn);
    this.slot += insn.kind === "ld_imm64" ? 2 : 1;
    return this;
  }

  // ---- ALU ----

  alu(op: AluOp, dst: Register, src: Source): this {
    return this.raw({ kind: "alu", op, wide: true, dst: dst.n, src: operand(src, true) });
  }
  alu32(op: AluOp, dst: Register, src: Source): this {
    return this.raw({ kind: "alu", op, wide: false, dst: dst.n, src: operand(src, false) });
  }
  add(dst: Register, src: Source): this { return this.alu("add", dst, src); }
  sub(dst: Register, src: Source): this { return this.alu("sub", dst, src); }
  mul(dst: Register, src: Source): this { return this.alu("mul", dst, src); }
  div(dst: Register, src: Source): this { return this.alu("div", dst, src); }
  sdiv(dst: Register, src: Source): this { return this.alu("sdiv", dst, src); }
  mod(dst: Register, src: Source): this { return this.alu("mod", dst, src); }
  smod(dst: Register, src: Source): this { return this.alu("smod", dst, src); }
  or(dst: Register, src: Source): this { return this.alu("or", dst, src); }
  and(dst: Register, src: Source): this { return this.alu("and", dst, src); }
  xor(dst: Register, src: Source): this { return this.alu("xor", dst, src); }
  lsh(dst: Register, src: Source): this { return this.alu("lsh", dst, src); }
  rsh(dst: Register, src: Source): this { return this.alu("rsh", dst, src); }
  arsh(dst: Register, src: Source): this { return this.alu("arsh", dst, src); }
  mov(dst: Register, src: Source): this { return this.alu("mov", dst, src); }
  add32(dst: Register, src: Source): this { return this.alu32("add", dst, src); }
  sub32(dst: Register, src: Source): this { return this.alu32("sub", dst, src); }
  mul32(dst: Register, src: Source): this { return this.alu32("mul", dst, src); }
  div32(dst: Register, src: Source): this { return this.alu32("div", dst, src); }
  sdiv32(dst: Register, src: Source): this { return this.alu32("sdiv", dst, src); }
  mod32(dst: Register, src: Source): this { return this.alu32("mod", dst, src); }
  smod32(dst: Register, src: Source): this { return this.alu32("smod", dst, src); }
  or32(dst: Register, src: Source): this { return this.alu32("or", dst, src); }
  and32(dst: Register, src: Source): this { return this.alu32("and", dst, src); }
  xor32(dst: Register, src: Source): this { return this.alu32("xor", dst, src); }
  lsh32(dst: Register, src: Source): this { return this.alu32("lsh", dst, src); }
  rsh32(dst: Register, src: Source): this { return this.alu32("rsh", dst, src); }
  arsh32(dst: Register, src: Source): this { return this.alu32("arsh", dst, src); }
  mov32(dst: Register, src: Source): this { return this.alu32("mov", dst, src); }

  neg(dst: Register): this { return this.raw({ kind: "neg", wide: true, dst: dst.n }); }
  neg32(dst: Register): this { return this.raw({ kind: "neg", wide: false, dst: dst.n }); }

  /** dst = (sign-extended low `bits` of src), 64-bit. */
  movsx(dst: Register, src: Register, bits: 8 | 16 | 32): this {
    return this.raw({ kind: "movsx", wide: true, bits, dst: dst.n, src: src.n });
  }
  /** w_dst = (sign-extended low `bits` of w_src). */
  movsx32(dst: Register, src: Register, bits: 8 | 16): this {
    return this.raw({ kind: "movsx", wide: false, bits, dst: dst.n, src: src.n });
  }

  /** To big endian (a swap on little-endian machines). */
  be(dst: Register, bits: 16 | 32 | 64): this { return this.raw({ kind: "endian", order: "be", bits, dst: dst.n }); }
  /** To little endian. */
  le(dst: Register, bits: 16 | 32 | 64): this { return this.raw({ kind: "endian", order: "le", bits, dst: dst.n }); }
  /** Unconditional byte swap. */
  bswap(dst: Register, bits: 16 | 32 | 64): this { return this.raw({ kind: "endian", order: "bswap", bits, dst: dst.n }); }

  // ---- 64-bit immediates and symbolic loads ----

  ldImm64(dst: Register, value: bigint | number): this {
    const v = BigInt(value);
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new BuilderError(`${value} does not fit in 64 bits`);
    return this.raw({ kind: "ld_imm64", dst: dst.n, pseudo: 0, ...splitImm64(v) });
  }

  /** dst = the map named `symbol` (LD_IMM64, BPF_PSEUDO_MAP_FD): the loader fills in its fd. */
  ldMapFd(dst: Register, symbol: string): this {
    this.maps.push({ insnIndex: this.slot, symbol });
    return this.raw({ kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_FD, lo: 0, hi: 0 });
  }

  /** dst = address of `offset` in the value of the array map `symbol` (BPF_PSEUDO_MAP_VALUE; global data). */
  ldMapValue(dst: Register, symbol: string, offset = 0): this {
    this.maps.push({ insnIndex: this.slot, symbol });
    return this.raw({ kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_VALUE, lo: 0, hi: u32(offset, "value offset") });
  }

  /** dst = the address of the function labelled `symbol` (BPF_PSEUDO_FUNC; callbacks). */
  ldFunc(dst: Register, symbol: string): this {
    this.fixups.push({ index: this.insns.length, slot: this.slot, label: symbol, kind: "func" });
    return this.raw({ kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_FUNC, lo: -1, hi: 0 });
  }

  // ---- memory ----

  /** dst = *(u<size*8> *)(src + off). */
  ldx(size: Size, dst: Register, src: Register, off: number): this {
    return this.raw({ kind: "ldx", size, signed: false, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** dst = *(s<size*8> *)(src + off), sign-extended. */
  ldxs(size: 1 | 2 | 4, dst: Register, src: Register, off: number): this {
    return this.raw({ kind: "ldx", size, signed: true, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** *(u<size*8> *)(dst + off) = src. */
  stx(size: Size, dst: Register, off: number, src: Register): this {
    return this.raw({ kind: "stx", size, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** *(u<size*8> *)(dst + off) = imm. */
  st(size: Size, dst: Register, off: number, imm: number): this {
    return this.raw({ kind: "st", size, dst: dst.n, off: off16(off), imm: i32(imm, size < 8) });
  }

  /** lock *(dst + off) op= src; with `fetch`, src gets the old value. */
  atomic(op: Exclude<AtomicOp, "xchg" | "cmpxchg">, size: 4 | 8, dst: Register, off: number, src: Register, fetch = false): this {
    return this.raw({ kind: "atomic", op, fetch, size, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** src = xchg(dst + off, src). */
  xchg(size: 4 | 8, dst: Register, off: number, src: Register): this {
    return this.raw({ kind: "atomic", op: "xchg", fetch: true, size, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** r0 = cmpxchg(dst + off, r0, src). */
  cmpxchg(size: 4 | 8, dst: Register, off: number, src: Register): this {
    return this.raw({ kind: "atomic", op: "cmpxchg", fetch: true, size, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** dst = load_acquire(src + off). */
  loadAcquire(size: Size, dst: Register, src: Register, off: number): this {
    return this.raw({ kind: "load_acquire", size, dst: dst.n, src: src.n, off: off16(off) });
  }
  /** store_release(dst + off, src). */
  storeRelease(size: Size, dst: Register, off: number, src: Register): this {
    return this.raw({ kind: "store_release", size, dst: dst.n, src: src.n, off: off16(off) });
  }

  /** Legacy packet load: r0 = ntoh(*(skb data + imm)). */
  ldAbs(size: 1 | 2 | 4, imm: number): this {
    return this.raw({ kind: "ld_abs", size, imm: i32(imm, false) });
  }
  /** Legacy packet load: r0 = ntoh(*(skb data + src + imm)). */
  ldInd(size: 1 | 2 | 4, src: Register, imm: number): this {
    return this.raw({ kind: "ld_ind", size, src: src.n, imm: i32(imm, false) });
  }

  // ---- control flow ----

  /** if dst op src goto label (64-bit compare). */
  jmp(op: JmpOp, dst: Register, src: Source, label: string): this {
    return this.jump({ kind: "jcc", op, wide: true, dst: dst.n, src: operand(src, true), off: 0 }, label);
  }
  /** if wdst op wsrc goto label (32-bit compare). */
  jmp32(op: JmpOp, dst: Register, src: Source, label: string): this {
    return this.jump({ kind: "jcc", op, wide: false, dst: dst.n, src: operand(src, false), off: 0 }, label);
  }
  jeq(dst: Register, src: Source, label: string): this { return this.jmp("jeq", dst, src, label); }
  jne(dst: Register, src: Source, label: string): this { return this.jmp("jne", dst, src, label); }
  jgt(dst: Register, src: Source, label: string): this { return this.jmp("jgt", dst, src, label); }
  jge(dst: Register, src: Source, label: string): this { return this.jmp("jge", dst, src, label); }
  jlt(dst: Register, src: Source, label: string): this { return this.jmp("jlt", dst, src, label); }
  jle(dst: Register, src: Source, label: string): this { return this.jmp("jle", dst, src, label); }
  jsgt(dst: Register, src: Source, label: string): this { return this.jmp("jsgt", dst, src, label); }
  jsge(dst: Register, src: Source, label: string): this { return this.jmp("jsge", dst, src, label); }
  jslt(dst: Register, src: Source, label: string): this { return this.jmp("jslt", dst, src, label); }
  jsle(dst: Register, src: Source, label: string): this { return this.jmp("jsle", dst, src, label); }
  jset(dst: Register, src: Source, label: string): this { return this.jmp("jset", dst, src, label); }

  /** goto label (16-bit offset). */
  ja(label: string): this { return this.jump({ kind: "ja", off: 0 }, label); }
  /** goto label with a 32-bit offset (BPF_JMP32 | BPF_JA). */
  gotol(label: string): this { return this.jump({ kind: "gotol", imm: 0 }, label); }
  /** may_goto label: taken once the loop budget is spent. */
  mayGoto(label: string): this { return this.jump({ kind: "may_goto", off: 0 }, label); }

  /** Calls a helper by id or by kernel name ("bpf_map_lookup_elem" or "map_lookup_elem"). */
  call(helper: number | string): this {
    const id = typeof helper === "number" ? helper : helperId(helper);
    if (id === undefined) throw new BuilderError(`unknown helper '${helper}'`);
    if (!Number.isInteger(id) || id < 0 || id > 0x7fff_ffff) throw new BuilderError(`helper id ${id} is not a valid id`);
    return this.raw({ kind: "call", target: "helper", imm: id, off: 0 });
  }
  /** Calls the function labelled `symbol` (a bpf-to-bpf call). */
  callLocal(symbol: string): this {
    this.fixups.push({ index: this.insns.length, slot: this.slot, label: symbol, kind: "func" });
    return this.raw({ kind: "call", target: "local", imm: -1, off: 0 });
  }
  /** Calls the kernel function with BTF id `btfId` (`off`: fd_array index of its module BTF). */
  kfunc(btfId: number, off = 0): this {
    return this.raw({ kind: "call", target: "kfunc", imm: i32(btfId, false), off: off16(off) });
  }
  callx(reg: Register): this { return this.raw({ kind: "callx", reg: reg.n }); }
  exit(): this { return this.raw({ kind: "exit" }); }

  /** Resolves labels; the builder can keep growing and be built again. */
  build(options: BuildOptions = {}): BuiltProgram {
    const instructions = this.insns.slice();
    const funcReferences: SymbolReference[] = [];
    for (const f of this.fixups) {
      const at = this.labels.get(f.label);
      if (f.kind === "func") funcReferences.push({ insnIndex: f.slot, symbol: f.label });
      if (at === undefined) {
        if (f.kind === "func" && options.externalFunctions) continue;
        throw new BuilderError(`undefined label '${f.label}' (instruction ${f.slot})`);
      }
      const rel = at - f.slot - 1;
      const insn = instructions[f.index];
      switch (insn.kind) {
        case "jcc":
        case "ja":
        case "may_goto":
          if (rel < -32768 || rel > 32767) {
            throw new BuilderError(`jump from instruction ${f.slot} to '${f.label}' does not fit in a 16-bit offset${insn.kind === "ja" ? " (use gotol)" : ""}`);
          }
          instructions[f.index] = { ...insn, off: rel };
          break;
        case "gotol":
        case "call":
          instructions[f.index] = { ...insn, imm: rel };
          break;
        case "ld_imm64":
          instructions[f.index] = { ...insn, lo: rel };
          break;
        default:
          throw new BuilderError(`instruction ${f.slot} cannot refer to a label`);
      }
    }
    return {
      code: Bytecode.fromInstructions(instructions),
      instructions,
      mapReferences: this.maps.slice(),
      funcReferences,
    };
  }

  private jump(insn: Instruction, label: string): this {
    this.fixups.push({ index: this.insns.length, slot: this.slot, label, kind: "jump" });
    return this.raw(insn);
  }
}

/** A register or an immediate; a 64-bit operation sign-extends its immediate, so it must be signed. */
function operand(src: Source, signedOnly: boolean): Operand {
  return src instanceof Register ? { kind: "reg", reg: src.n } : { kind: "imm", imm: i32(src, !signedOnly) };
}

/** A 32-bit immediate; unsigned 32-bit values are allowed where the field is not sign-extended to 64 bits. */
function i32(v: number, allowUnsigned: boolean): number {
  const end = allowUnsigned ? U32_END : 0x8000_0000;
  if (!Number.isInteger(v) || v < I32_MIN || v >= end) {
    throw new BuilderError(`immediate ${v} does not fit in a ${allowUnsigned ? "" : "signed "}32-bit field`);
  }
  return v | 0;
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= U32_END) throw new BuilderError(`${what} ${v} does not fit in 32 bits`);
  return v | 0;
}

function off16(v: number): number {
  if (!Number.isInteger(v) || v < -32768 || v > 32767) throw new BuilderError(`offset ${v} does not fit in 16 bits`);
  return v;
}
