/**
 * Assembler for the pseudo-C dialect: LLVM's BPF assembly (what llvm-objdump
 * prints and llvm-mc reads) and the kernel's / bpftool's xlated text.
 *
 *   r0 = *(u32 *)(r10 - 4)           *(u64 *)(r10 -8) = r1        if w1 s> 5 goto +2
 *   r1 = 0x1234 ll                   w0 = atomic_fetch_or((u32 *)(r1 + 8), w0)
 *   call bpf_map_lookup_elem         call pc+3        r1 = map[id:5][0]+16
 *
 * Accepted around the statements: labels ("LBB0_1:"), llvm-objdump's line prefix
 * ("   7:\t85 00 00 00 01 00 00 00\t") and its headers ("0000000000000000 <prog>:"
 * defines the label prog), bpftool's prefix ("   7: (85) ", whose opcode must match
 * the statement's) and its BTF lines (";" source lines, "int f(void *ctx):"),
 * jump annotations ("<f+0x50>"), comments (";", "//", and "#" at the start of a
 * word), and assembler directives (ignored, except data directives, rejected).
 *
 * Choices where the two tools' texts meet:
 *  - "rN = IMM" without "ll" is a 64-bit mov when IMM fits in a signed 32-bit
 *    immediate, else an LD_IMM64 (r gets exactly IMM either way); after bpftool's
 *    "(18)" prefix it is always an LD_IMM64.
 *  - "call N" (unsigned) calls helper N; "call +N", "call -N" and "call pc+N" call
 *    the subprogram N slots after the next instruction; "call NAME" calls the
 *    local function labelled NAME, else the helper of that name; "call NAME#N"
 *    (bpftool) calls helper N, "call kernel-function#N[@OFF]" and
 *    "call kfunc N[, OFF]" the kfunc with BTF id N.
 *  - "r1 = map[id:5]" / "r1 = map[id:5][0]+16" (bpftool) assemble to LD_IMM64 with
 *    src BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE and the map id in imm (the second
 *    imm is the value offset): a loader that knows ids maps them to fds.
 *  - Jump-compare immediates may be given as the raw unsigned 32-bit field, as
 *    bpftool prints them ("if r1 == 0xffffffff" is imm -1); other immediates must
 *    fit the instruction's signed field (32-bit ALU ops also take unsigned 32-bit).
 */
import { AsmError } from "../errors.js";
import { helperId } from "./helper-names.js";
import { type AluOp, type AtomicOp, type Instruction, type JmpOp, type Operand, type Size, encodeInsn, splitImm64 } from "./instruction.js";
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, OP_LD_IMM64 } from "./opcodes.js";

type TokKind = "word" | "num" | "punct";

interface Tok {
  readonly kind: TokKind;
  readonly text: string;
  /** 1-based column in the source line. */
  readonly col: number;
  /** Value of a "num" token. */
  readonly value: bigint;
}

// Longest first, so "s>>=" wins over "s>" and "<<=" over "<".
const PUNCTS = [
  "s>>=", "<<=", ">>=", "s/=", "s%=", "s>=", "s<=", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "==", "!=",
  ">=", "<=", "s>", "s<", "=", ">", "<", "&", "(", ")", "[", "]", "*", ",", ":", "#", "+", "-", "@",
];

const WORD = /[A-Za-z_.$][\w.$]*/y;
const NUM = /0[xX][0-9a-fA-F]+|\d+/y;

function tokenize(line: string, start: number, end: number, fail: (col: number, msg: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = start;
  outer: while (i < end) {
    const c = line[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    // bpftool's name for a kfunc without BTF names has a dash in it.
    if (line.startsWith("kernel-function", i)) {
      toks.push({ kind: "word", text: "kernel-function", col: i + 1, value: 0n });
      i += "kernel-function".length;
      continue;
    }
    for (const p of PUNCTS) {
      if (line.startsWith(p, i)) {
        toks.push({ kind: "punct", text: p, col: i + 1, value: 0n });
        i += p.length;
        continue outer;
      }
    }
    NUM.lastIndex = i;
    let m = NUM.exec(line);
    if (m) {
      WORD.lastIndex = i + m[0].length;
      if (WORD.exec(line)?.index === i + m[0].length && /^\d+$/.test(m[0])) {
        fail(i + 1, `malformed number '${line.slice(i, WORD.lastIndex)}'`);
      }
      toks.push({ kind: "num", text: m[0], col: i + 1, value: BigInt(m[0]) });
      i += m[0].length;
      continue;
    }
    WORD.lastIndex = i;
    m = WORD.exec(line);
    if (m) {
      toks.push({ kind: "word", text: m[0], col: i + 1, value: 0n });
      i += m[0].length;
      continue;
    }
    fail(i + 1, `unexpected character '${c}'`);
  }
  return toks;
}

/** Where a line's statement starts and what its prefix told us. */
interface Prefix {
  /** Index in the line where the statement text begins. */
  readonly start: number;
  /** bpftool's "(op)" opcode, when present. */
  readonly opcode?: number;
}

const XLATED_PREFIX = /^\s*\d+:\s+\(([0-9a-f]{2})\)\s*/;
const OBJDUMP_PREFIX = /^\s*\d+:\s+(?:(?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?(?=\s|$))?\s*/;

function linePrefix(line: string): Prefix {
  let m = XLATED_PREFIX.exec(line);
  if (m) return { start: m[0].length, opcode: parseInt(m[1], 16) };
  m = OBJDUMP_PREFIX.exec(line);
  if (m) return { start: m[0].length };
  return { start: 0 };
}

/** Index where a comment starts, or the line length. */
function commentStart(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c === ";") return i;
    if (c === "/" && line[i + 1] === "/") return i;
    if (c === "#" && (i === from || line[i - 1] === " " || line[i - 1] === "\t")) return i;
  }
  return line.length;
}

const DATA_DIRECTIVES = new Set([
  ".byte", ".short", ".hword", ".2byte", ".word", ".long", ".int", ".4byte", ".quad", ".8byte", ".ascii", ".asciz", ".string", ".zero", ".space", ".fill",
]);

const ALU_PUNCT: Record<string, AluOp> = {
  "+=": "add", "-=": "sub", "*=": "mul", "/=": "div", "s/=": "sdiv", "|=": "or", "&=": "and", "<<=": "lsh",
  ">>=": "rsh", "%=": "mod", "s%=": "smod", "^=": "xor", "s>>=": "arsh",
};

const JMP_PUNCT: Record<string, JmpOp> = {
  "==": "jeq", ">": "jgt", ">=": "jge", "&": "jset", "!=": "jne", "s>": "jsgt", "s>=": "jsge", "<": "jlt",
  "<=": "jle", "s<": "jslt", "s<=": "jsle",
};

const LOCK_PUNCT: Record<string, AtomicOp> = { "+=": "add", "|=": "or", "&=": "and", "^=": "xor" };

const TYPE_SIZES: Record<string, { size: Size; signed: boolean }> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false },
  u64: { size: 8, signed: false }, s8: { size: 1, signed: true }, s16: { size: 2, signed: true },
  s32: { size: 4, signed: true },
};

interface Reg {
  readonly n: number;
  /** true for rN, false for wN. */
  readonly wide: boolean;
  readonly col: number;
}

/** A reference to resolve once every label is known. */
interface Pending {
  readonly index: number;
  readonly slot: number;
  readonly label: string;
  readonly line: number;
  readonly col: number;
}

const I32_MIN = -(1n << 31n);
const I32_END = 1n << 31n;
const U32_END = 1n << 32n;
const I64_MIN = -(1n << 63n);
const U64_END = 1n << 64n;

/** Parses one statement's tokens. */
class Statement {
  private i = 0;

  constructor(
    private readonly toks: readonly Tok[],
    private readonly endCol: number,
    readonly fail: (col: number, msg: string) => never,
  ) {}

  get atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  peek(k = 0): Tok | undefined {
    return this.toks[this.i + k];
  }

  /** Column of the next token (or of the line's end). */
  get col(): number {
    return this.peek()?.col ?? this.endCol;
  }

  next(what: string): Tok {
    const t = this.toks[this.i];
    if (!t) return this.fail(this.endCol, `expected ${what}, got end of line`);
    this.i++;
    return t;
  }

  isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === "punct" && t.text === p;
  }

  isWord(w?: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === "word" && (w === undefined || t.text === w);
  }

  eat(p: string): boolean {
    if (this.isPunct(p)) {
      this.i++;
      return true;
    }
    return false;
  }

  expect(p: string): Tok {
    const t = this.next(`'${p}'`);
    if (t.kind !== "punct" || t.text !== p) this.fail(t.col, `expected '${p}', got '${t.text}'`);
    return t;
  }

  expectWord(w: string): Tok {
    const t = this.next(`'${w}'`);
    if (t.kind !== "word" || t.text !== w) this.fail(t.col, `expected '${w}', got '${t.text}'`);
    return t;
  }

  end(): void {
    const t = this.peek();
    if (t) this.fail(t.col, `unexpected '${t.text}' after the instruction`);
  }

  isReg(k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === "word" && /^[rw]\d+$/.test(t.text);
  }

  reg(): Reg {
    const t = this.next("a register");
    const m = /^([rw])(\d+)$/.exec(t.text);
    if (t.kind !== "word" || !m || Number(m[2]) > 10) return this.fail(t.col, `expected a register r0..r10 or w0..w10, got '${t.text}'`);
    return { n: Number(m[2]), wide: m[1] === "r", col: t.col };
  }

  /** A 64-bit register (rN). */
  rreg(): number {
    const r = this.reg();
    if (!r.wide) this.fail(r.col, `expected a 64-bit register r${r.n}, got w${r.n}`);
    return r.n;
  }

  /** An integer with optional sign. */
  int(what = "an integer"): { value: bigint; col: number } {
    const col = this.col;
    let neg = false;
    if (this.eat("-")) neg = true;
    else this.eat("+");
    const t = this.next(what);
    if (t.kind !== "num") return this.fail(t.col, `expected ${what}, got '${t.text}'`);
    return { value: neg ? -t.value : t.value, col };
  }

  /** An integer in [min, end). */
  ranged(min: bigint, end: bigint, what: string): number {
    const { value, col } = this.int(what);
    if (value < min || value >= end) this.fail(col, `${value} does not fit in ${what}`);
    return Number(BigInt.asIntN(32, value));
  }

  /** "(u32 *)" — returns the type. */
  typeCast(): { size: Size; signed: boolean; col: number } {
    this.expect("(");
    const t = this.next("a type (u8, u16, u32, u64, s8, s16, s32)");
    const ty = TYPE_SIZES[t.text];
    if (t.kind !== "word" || !ty) return this.fail(t.col, `expected a type (u8, u16, u32, u64, s8, s16, s32), got '${t.text}'`);
    this.expect("*");
    this.expect(")");
    return { ...ty, col: t.col };
  }

  /** "r1 + 0x8", "r1 -8", "r1": base register and 16-bit offset (no parentheses). */
  address(): { reg: number; off: number } {
    const reg = this.rreg();
    let off = 0;
    if (this.isPunct("+") || this.isPunct("-")) {
      const neg = this.next("+ or -").text === "-";
      const { value, col } = this.int("an offset");
      const v = neg ? -value : value;
      if (v < -32768n || v > 32767n) this.fail(col, `offset ${v} does not fit in 16 bits`);
      off = Number(v);
    }
    return { reg, off };
  }

  /** "(r1 + 0x8)". */
  memory(): { reg: number; off: number } {
    this.expect("(");
    const a = this.address();
    this.expect(")");
    return a;
  }

  /** "*(u32 *)(r1 + 8)" after the '*'. */
  deref(): { size: Size; signed: boolean; reg: number; off: number; col: number } {
    const ty = this.typeCast();
    const m = this.memory();
    return { ...ty, ...m };
  }

  /** A jump-compare or ALU immediate operand or a register. */
  operand(wide: boolean, rawU32: boolean): Operand {
    if (this.isReg()) {
      const r = this.reg();
      if (r.wide !== wide) this.fail(r.col, `register ${r.wide ? "r" : "w"}${r.n} does not match the ${wide ? "64" : "32"}-bit operation`);
      return { kind: "reg", reg: r.n };
    }
    const end = rawU32 || !wide ? U32_END : I32_END;
    return { kind: "imm", imm: this.ranged(I32_MIN, end, wide && !rawU32 ? "a signed 32-bit immediate" : "a 32-bit immediate") };
  }

  /** Skips llvm-objdump's "<sym+0x10>" annotation after a jump target. */
  skipAnnotation(): void {
    if (!this.isPunct("<")) return;
    const last = this.toks[this.toks.length - 1];
    if (last.kind !== "punct" || last.text !== ">") this.fail(this.col, "unterminated '<...>' annotation");
    this.i = this.toks.length;
  }
}

export function assemblePseudoC(text: string, source?: string): Instruction[] {
  const out: Instruction[] = [];
  const labels = new Map<string, number>();
  const jumps: Pending[] = [];
  const calls: Pending[] = [];
  let slot = 0;

  text.split(/\r?\n/).forEach((line, lineIndex) => {
    const lineNo = lineIndex + 1;
    const fail = (col: number, msg: string): never => {
      throw new AsmError(lineNo, col, msg, source);
    };
    const trimmed = line.trim();
    if (trimmed === "") return;
    // llvm-objdump's file and section headers, and relocation lines under -r.
    if (/^\S+:\s+file format /.test(trimmed) || /^Disassembly of section /.test(trimmed) || /^[0-9a-f]+:\s+R_BPF_/.test(trimmed)) return;
    if (trimmed === "...") fail(line.indexOf("...") + 1, "llvm-objdump elided zero bytes here ('...'); disassemble with -z");
    // llvm-objdump's symbol header: "0000000000000000 <prog>:".
    const header = /^[0-9a-f]{16} <([^<>]+)>:$/.exec(trimmed);
    if (header) {
      defineLabel(header[1], line.indexOf("<") + 2);
      return;
    }
    // bpftool's function signature from BTF: "int prog(struct xdp_md * ctx):".
    if (/^[^;#]*\(.*\)\s*:$/.test(trimmed) && !/^\d+:/.test(trimmed)) return;

    const prefix = linePrefix(line);
    const end = commentStart(line, prefix.start);
    const toks = tokenize(line, prefix.start, end, fail);
    let k = 0;
    while (toks.length >= k + 2 && toks[k].kind === "word" && toks[k + 1].kind === "punct" && toks[k + 1].text === ":") {
      defineLabel(toks[k].text, toks[k].col);
      k += 2;
    }
    const rest = toks.slice(k);
    if (rest.length === 0) return;
    if (rest[0].kind === "word" && rest[0].text.startsWith(".")) {
      if (DATA_DIRECTIVES.has(rest[0].text)) fail(rest[0].col, `data directive '${rest[0].text}' is not supported`);
      return;
    }
    const st = new Statement(rest, end + 1, fail);
    const insn = statement(st, out.length, lineNo);
    if (prefix.opcode !== undefined) {
      const fixed = prefix.opcode === OP_LD_IMM64 && insn.kind === "alu" && insn.op === "mov" && insn.wide && insn.src.kind === "imm"
        ? { kind: "ld_imm64" as const, dst: insn.dst, pseudo: 0, lo: insn.src.imm, hi: insn.src.imm >> 31 }
        : insn;
      const op = encodeInsn(fixed)[0].opcode;
      if (op !== prefix.opcode) {
        fail(line.indexOf("(") + 1, `opcode (${prefix.opcode.toString(16).padStart(2, "0")}) does not match the instruction, which encodes as (${op.toString(16).padStart(2, "0")})`);
      }
      emit(fixed);
    } else {
      emit(insn);
    }

    function defineLabel(name: string, col: number): void {
      if (labels.has(name)) fail(col, `duplicate label '${name}'`);
      labels.set(name, slot);
    }
  });

  for (const j of jumps) {
    const at = labels.get(j.label);
    if (at === undefined) throw new AsmError(j.line, j.col, `undefined label '${j.label}'`, source);
    const rel = at - j.slot - 1;
    const insn = out[j.index];
    if (insn.kind === "gotol") out[j.index] = { ...insn, imm: rel };
    else if (insn.kind === "ja" || insn.kind === "jcc" || insn.kind === "may_goto") {
      if (rel < -32768 || rel > 32767) {
        throw new AsmError(j.line, j.col, `jump to '${j.label}' is too far for a 16-bit offset${insn.kind === "ja" ? " (use gotol)" : ""}`, source);
      }
      out[j.index] = { ...insn, off: rel };
    }
  }
  for (const c of calls) {
    const at = labels.get(c.label);
    if (at !== undefined) {
      out[c.index] = { kind: "call", target: "local", imm: at - c.slot - 1, off: 0 };
      continue;
    }
    const id = helperId(c.label);
    if (id === undefined) throw new AsmError(c.line, c.col, `'${c.label}' is neither a label nor a known helper`, source);
    out[c.index] = { kind: "call", target: "helper", imm: id, off: 0 };
  }
  return out;

  function emit(insn: Instruction): void {
    out.push(insn);
    slot += insn.kind === "ld_imm64" ? 2 : 1;
  }

  /** A jump target: +N / -N / N / pc+N / label. Returns the offset, or 0 and records the label. */
  function target(st: Statement, index: number, lineNo: number): number {
    if (st.isWord("pc")) {
      st.next("pc");
      if (!st.isPunct("+") && !st.isPunct("-")) st.fail(st.col, "expected pc+N or pc-N");
      return Number(st.int("a jump offset").value);
    }
    if (st.isWord()) {
      const t = st.next("a label");
      jumps.push({ index, slot, label: t.text, line: lineNo, col: t.col });
      return 0;
    }
    const { value, col } = st.int("a jump offset or label");
    if (value < I32_MIN || value >= I32_END) st.fail(col, `jump offset ${value} does not fit in 32 bits`);
    return Number(value);
  }

  function offset16(st: Statement, index: number, lineNo: number): number {
    const col = st.col;
    const off = target(st, index, lineNo);
    if (off < -32768 || off > 32767) st.fail(col, `jump offset ${off} does not fit in 16 bits`);
    st.skipAnnotation();
    return off;
  }

  function statement(st: Statement, index: number, lineNo: number): Instruction {
    const first = st.peek()!;
    if (first.kind === "word") {
      switch (first.text) {
        case "exit":
          st.next("exit");
          st.end();
          return { kind: "exit" };
        case "goto": {
          st.next("goto");
          const off = offset16(st, index, lineNo);
          st.end();
          return { kind: "ja", off };
        }
        case "gotol": {
          st.next("gotol");
          const imm = target(st, index, lineNo);
          st.skipAnnotation();
          st.end();
          return { kind: "gotol", imm };
        }
        case "may_goto": {
          st.next("may_goto");
          const off = offset16(st, index, lineNo);
          st.end();
          return { kind: "may_goto", off };
        }
        case "callx": {
          st.next("callx");
          const reg = st.rreg();
          st.end();
          return { kind: "callx", reg };
        }
        case "call": {
          st.next("call");
          const insn = call(st, index, lineNo);
          st.end();
          return insn;
        }
        case "if":
          return conditional(st, index, lineNo);
        case "lock":
          return lock(st);
        case "store_release": {
          st.next("store_release");
          st.expect("(");
          const ty = st.typeCast();
          if (ty.signed) st.fail(ty.col, "store_release takes an unsigned type");
          const m = st.memory();
          st.expect(",");
          const src = st.reg();
          if (ty.size === 8 && !src.wide) st.fail(src.col, "a 64-bit store_release needs an r register");
          st.expect(")");
          st.end();
          return { kind: "store_release", size: ty.size, dst: m.reg, src: src.n, off: m.off };
        }
        case "ld_pseudo": {
          st.next("ld_pseudo");
          const dst = st.rreg();
          st.expect(",");
          const pseudo = st.ranged(0n, 16n, "a 4-bit src field");
          st.expect(",");
          const { value, col } = st.int("an immediate");
          if (value < I64_MIN || value >= U64_END) st.fail(col, `${value} does not fit in 64 bits`);
          st.end();
          return { kind: "ld_imm64", dst, pseudo, ...splitImm64(value) };
        }
        default:
          if (st.isReg()) return assignment(st);
      }
    }
    if (st.isPunct("*")) return store(st);
    return st.fail(first.col, `unknown instruction '${first.text}'`);
  }

  function call(st: Statement, index: number, lineNo: number): Instruction {
    if (st.isWord("pc")) {
      const imm = target(st, index, lineNo);
      // bpftool appends the jited subprogram's symbol: "call pc+5#bpf_prog_..._sub".
      if (st.eat("#")) while (!st.atEnd) st.next("a symbol");
      return { kind: "call", target: "local", imm, off: 0 };
    }
    if (st.isWord("kfunc")) {
      st.next("kfunc");
      const imm = st.ranged(I32_MIN, U32_END, "a 32-bit BTF id");
      const off = st.eat(",") ? st.ranged(-32768n, 32768n, "a 16-bit offset") : 0;
      return { kind: "call", target: "kfunc", imm, off };
    }
    if (st.isWord()) {
      const name = st.next("a helper or function name");
      if (st.eat("#")) {
        const imm = st.ranged(I32_MIN, U32_END, "a 32-bit immediate");
        if (name.text === "kernel-function") {
          const off = st.eat("@") ? st.ranged(-32768n, 32768n, "a 16-bit offset") : 0;
          return { kind: "call", target: "kfunc", imm, off };
        }
        return { kind: "call", target: "helper", imm, off: 0 };
      }
      calls.push({ index, slot, label: name.text, line: lineNo, col: name.col });
      return { kind: "call", target: "helper", imm: 0, off: 0 };
    }
    if (st.isPunct("+") || st.isPunct("-")) {
      const { value, col } = st.int("a call offset");
      if (value < I32_MIN || value >= I32_END) st.fail(col, `call offset ${value} does not fit in 32 bits`);
      return { kind: "call", target: "local", imm: Number(value), off: 0 };
    }
    const imm = st.ranged(0n, I32_END, "a helper id");
    return { kind: "call", target: "helper", imm, off: 0 };
  }

  function conditional(st: Statement, index: number, lineNo: number): Instruction {
    st.next("if");
    const dst = st.reg();
    const opTok = st.next("a comparison");
    const op = opTok.kind === "punct" ? JMP_PUNCT[opTok.text] : undefined;
    if (!op) return st.fail(opTok.col, `expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &), got '${opTok.text}'`);
    const src = st.operand(dst.wide, true);
    st.expectWord("goto");
    const off = offset16(st, index, lineNo);
    st.end();
    return { kind: "jcc", op, wide: dst.wide, dst: dst.n, src, off };
  }

  function lock(st: Statement): Instruction {
    st.next("lock");
    st.expect("*");
    const d = st.deref();
    if (d.signed || (d.size !== 4 && d.size !== 8)) st.fail(d.col, "atomic operations take u32 or u64");
    const opTok = st.next("an atomic operation");
    const op = opTok.kind === "punct" ? LOCK_PUNCT[opTok.text] : undefined;
    if (!op) return st.fail(opTok.col, `expected +=, |=, &= or ^=, got '${opTok.text}'`);
    const src = st.reg();
    if (d.size === 8 && !src.wide) st.fail(src.col, "a 64-bit atomic operation needs an r register");
    st.end();
    return { kind: "atomic", op, fetch: false, size: d.size as 4 | 8, dst: d.reg, src: src.n, off: d.off };
  }

  /** "*(u32 *)(r1 + 0) = 5" / "= r2". */
  function store(st: Statement): Instruction {
    st.expect("*");
    const d = st.deref();
    if (d.signed) st.fail(d.col, "stores take an unsigned type");
    st.expect("=");
    if (st.isReg()) {
      const src = st.reg();
      if (d.size === 8 && !src.wide) st.fail(src.col, "a 64-bit store needs an r register");
      st.end();
      return { kind: "stx", size: d.size, dst: d.reg, src: src.n, off: d.off };
    }
    const imm = st.ranged(I32_MIN, d.size === 8 ? I32_END : U32_END, d.size === 8 ? "a signed 32-bit immediate" : "a 32-bit immediate");
    st.end();
    return { kind: "st", size: d.size, dst: d.reg, off: d.off, imm };
  }

  /** Everything that starts with a register. */
  function assignment(st: Statement): Instruction {
    const dst = st.reg();
    const opTok = st.next("an operator");
    if (opTok.kind === "punct" && ALU_PUNCT[opTok.text]) {
      const src = st.operand(dst.wide, false);
      st.end();
      return { kind: "alu", op: ALU_PUNCT[opTok.text], wide: dst.wide, dst: dst.n, src };
    }
    if (opTok.kind !== "punct" || opTok.text !== "=") return st.fail(opTok.col, `expected an assignment operator, got '${opTok.text}'`);
    const insn = rhs(st, dst);
    st.end();
    return insn;
  }

  function rhs(st: Statement, dst: Reg): Instruction {
    const p = dst.wide ? "r" : "w";
    const sameReg = (what: string): void => {
      const r = st.reg();
      if (r.n !== dst.n || r.wide !== dst.wide) st.fail(r.col, `${what} needs the same register on both sides (${p}${dst.n})`);
    };
    // Negation: "r0 = -r0" (a '-' before a number is a negative immediate).
    if (st.isPunct("-") && st.isReg(1)) {
      st.next("-");
      sameReg("negation");
      return { kind: "neg", wide: dst.wide, dst: dst.n };
    }
    // Sign-extending move: "r1 = (s8)r2".
    if (st.isPunct("(") && st.isWord(undefined, 1) && /^s(8|16|32)$/.test(st.peek(1)!.text)) {
      st.next("(");
      const t = st.next("a type");
      const bits = Number(t.text.slice(1)) as 8 | 16 | 32;
      if (bits === 32 && !dst.wide) st.fail(t.col, "a 32-bit move cannot sign-extend from 32 bits");
      st.expect(")");
      const src = st.reg();
      if (src.wide !== dst.wide) st.fail(src.col, `register ${src.wide ? "r" : "w"}${src.n} does not match ${p}${dst.n}`);
      return { kind: "movsx", wide: dst.wide, bits, dst: dst.n, src: src.n };
    }
    // Loads: "r0 = *(u32 *)(r1 + 8)", "r0 = *(u8 *)skb[12]".
    if (st.isPunct("*")) {
      st.next("*");
      const ty = st.typeCast();
      if (st.isWord("skb")) return packetLoad(st, dst, ty);
      const m = st.memory();
      if (ty.size === 8 && !dst.wide) st.fail(dst.col, "a 64-bit load needs an r register");
      if (ty.signed && !dst.wide) st.fail(dst.col, "a sign-extending load needs an r register");
      return { kind: "ldx", size: ty.size, signed: ty.signed, dst: dst.n, src: m.reg, off: m.off };
    }
    if (st.isWord()) {
      const word = st.peek()!.text;
      let m: RegExpExecArray | null;
      if ((m = /^(be|le|bswap)(16|32|64)$/.exec(word))) {
        st.next("a byte swap");
        if (!dst.wide) st.fail(dst.col, "byte swaps name r registers");
        sameReg("a byte swap");
        return { kind: "endian", order: m[1] as "be" | "le" | "bswap", bits: Number(m[2]) as 16 | 32 | 64, dst: dst.n };
      }
      if (word === "addr_space_cast") {
        st.next(word);
        if (!dst.wide) st.fail(dst.col, "addr_space_cast names r registers");
        st.expect("(");
        const src = st.rreg();
        st.expect(",");
        const dstAs = st.ranged(0n, 1n << 16n, "a 16-bit address space");
        st.expect(",");
        const srcAs = st.ranged(0n, 1n << 16n, "a 16-bit address space");
        st.expect(")");
        return { kind: "addr_space_cast", dst: dst.n, src, imm: (dstAs << 16) | srcAs };
      }
      if (word === "load_acquire") {
        st.next(word);
        st.expect("(");
        const ty = st.typeCast();
        if (ty.signed) st.fail(ty.col, "load_acquire takes an unsigned type");
        const mem = st.memory();
        st.expect(")");
        if (ty.size === 8 && !dst.wide) st.fail(dst.col, "a 64-bit load_acquire needs an r register");
        return { kind: "load_acquire", size: ty.size, dst: dst.n, src: mem.reg, off: mem.off };
      }
      if ((m = /^atomic(64)?_(fetch_(add|or|and|xor)|xchg|cmpxchg)$/.exec(word))) return kernelAtomic(st, dst, m[3] ?? m[2]);
      if ((m = /^(xchg|cmpxchg)(_64|32_32)$/.exec(word))) return llvmAtomic(st, dst, m[1] as "xchg" | "cmpxchg", m[2] === "_64" ? 8 : 4);
      if (word === "map") return mapLoad(st, dst);
      if (word === "subprog") {
        st.next(word);
        if (!dst.wide) st.fail(dst.col, "subprog[] loads into an r register");
        st.expect("[");
        const rel = st.ranged(I32_MIN, I32_END, "a 32-bit offset");
        st.expect("]");
        return { kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_FUNC, lo: rel, hi: 0 };
      }
      if (st.isReg()) {
        const src = st.reg();
        if (src.wide !== dst.wide) st.fail(src.col, `register ${src.wide ? "r" : "w"}${src.n} does not match ${p}${dst.n}`);
        return { kind: "alu", op: "mov", wide: dst.wide, dst: dst.n, src: { kind: "reg", reg: src.n } };
      }
      return st.fail(st.col, `unknown operand '${word}'`);
    }
    // Immediates: "r1 = 5", "w1 = -0x5", "r1 = 0x1234 ll".
    const { value, col } = st.int("an immediate or register");
    if (st.isWord("ll")) {
      st.next("ll");
      if (!dst.wide) st.fail(dst.col, "a 64-bit immediate load needs an r register");
      if (value < I64_MIN || value >= U64_END) st.fail(col, `${value} does not fit in 64 bits`);
      return { kind: "ld_imm64", dst: dst.n, pseudo: 0, ...splitImm64(value) };
    }
    if (!dst.wide) {
      if (value < I32_MIN || value >= U32_END) st.fail(col, `${value} does not fit in 32 bits`);
      return { kind: "alu", op: "mov", wide: false, dst: dst.n, src: { kind: "imm", imm: Number(BigInt.asIntN(32, value)) } };
    }
    if (value >= I32_MIN && value < I32_END) {
      return { kind: "alu", op: "mov", wide: true, dst: dst.n, src: { kind: "imm", imm: Number(value) } };
    }
    if (value < I64_MIN || value >= U64_END) st.fail(col, `${value} does not fit in 64 bits`);
    return { kind: "ld_imm64", dst: dst.n, pseudo: 0, ...splitImm64(value) };
  }

  /** "r0 = *(u8 *)skb[12]", "skb[r1 + 12]", "skb[r1]" after the type. */
  function packetLoad(st: Statement, dst: Reg, ty: { size: Size; signed: boolean; col: number }): Instruction {
    st.next("skb");
    if (ty.signed || ty.size === 8) st.fail(ty.col, "packet loads take u8, u16 or u32");
    if (dst.n !== 0) st.fail(dst.col, "packet loads write r0");
    st.expect("[");
    let insn: Instruction;
    const size = ty.size as 1 | 2 | 4;
    if (st.isReg()) {
      const src = st.rreg();
      let imm = 0;
      if (st.isPunct("+") || st.isPunct("-")) {
        const neg = st.next("+ or -").text === "-";
        const { value, col } = st.int("an offset");
        const v = neg ? -value : value;
        if (v < I32_MIN || v >= I32_END) st.fail(col, `${v} does not fit in 32 bits`);
        imm = Number(v);
      }
      insn = { kind: "ld_ind", size, src, imm };
    } else {
      insn = { kind: "ld_abs", size, imm: st.ranged(I32_MIN, I32_END, "a signed 32-bit offset") };
    }
    st.expect("]");
    return insn;
  }

  /** The kernel's "r2 = atomic64_fetch_add((u64 *)(r1 +8), r2)" and LLVM's "atomic_fetch_add(...)". */
  function kernelAtomic(st: Statement, dst: Reg, opName: string): Instruction {
    st.next("an atomic function");
    const op = opName as AtomicOp;
    st.expect("(");
    const ty = st.typeCast();
    if (ty.signed || (ty.size !== 4 && ty.size !== 8)) st.fail(ty.col, "atomic operations take u32 or u64");
    const m = st.memory();
    const size = ty.size as 4 | 8;
    let src: Reg;
    st.expect(",");
    if (op === "cmpxchg") {
      if (dst.n !== 0) st.fail(dst.col, "cmpxchg writes r0");
      const r0 = st.reg();
      if (r0.n !== 0) st.fail(r0.col, "cmpxchg compares with r0");
      st.expect(",");
      src = st.reg();
    } else {
      src = st.reg();
      if (src.n !== dst.n) st.fail(src.col, `the fetched value goes to the source register: expected ${dst.wide ? "r" : "w"}${dst.n}`);
    }
    if (size === 8 && (!src.wide || !dst.wide)) st.fail(src.col, "a 64-bit atomic operation needs r registers");
    st.expect(")");
    return { kind: "atomic", op, fetch: true, size, dst: m.reg, src: src.n, off: m.off };
  }

  /** LLVM's "r0 = xchg_64(r1 + 8, r0)", "w0 = cmpxchg32_32(r1 + 8, w0, w2)". */
  function llvmAtomic(st: Statement, dst: Reg, op: "xchg" | "cmpxchg", size: 4 | 8): Instruction {
    st.next("an atomic function");
    if (dst.wide !== (size === 8)) st.fail(dst.col, `${op}${size === 8 ? "_64" : "32_32"} writes a ${size === 8 ? "r" : "w"} register`);
    st.expect("(");
    const a = st.address();
    st.expect(",");
    let src: Reg;
    if (op === "cmpxchg") {
      if (dst.n !== 0) st.fail(dst.col, "cmpxchg writes r0");
      const r0 = st.reg();
      if (r0.n !== 0) st.fail(r0.col, "cmpxchg compares with r0");
      st.expect(",");
      src = st.reg();
    } else {
      src = st.reg();
      if (src.n !== dst.n) st.fail(src.col, `xchg writes its source register: expected ${dst.wide ? "r" : "w"}${dst.n}`);
    }
    st.expect(")");
    return { kind: "atomic", op, fetch: true, size, dst: a.reg, src: src.n, off: a.off };
  }

  /** bpftool's "map[id:5]" and "map[id:5][0]+16". */
  function mapLoad(st: Statement, dst: Reg): Instruction {
    st.next("map");
    if (!dst.wide) st.fail(dst.col, "map references load into an r register");
    st.expect("[");
    st.expectWord("id");
    st.expect(":");
    const id = st.ranged(0n, U32_END, "a 32-bit map id");
    st.expect("]");
    if (!st.eat("[")) return { kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_FD, lo: id, hi: 0 };
    const key = st.int("0");
    if (key.value !== 0n) st.fail(key.col, "map values are addressed as [0]+offset");
    st.expect("]");
    st.expect("+");
    const off = st.ranged(0n, U32_END, "a 32-bit value offset");
    return { kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_VALUE, lo: id, hi: off };
  }
}
