/**
 * Assembler for the uBPF / bpf_conformance dialect:
 *
 *   mov32 %r0, 0          ldxdw %r2, [%r10-8]       lock fetch add [%r1+8], %r2
 *   jne %r1, 5, label     call local fn             lddw %r1, 0x1122334455667788
 *
 * Mnemonics end in 32 for 32-bit ALU and JMP32; `label:` defines a label; a jump
 * target is a label or a signed offset (+3, -2); the label `exit` names the first
 * exit instruction unless defined explicitly (as bpf_conformance does).
 */
import { AsmError } from "../errors.js";
import { type AluOp, type AtomicOp, type Instruction, type JmpOp, type Operand, type Size, splitImm64 } from "./instruction.js";

interface Token {
  text: string;
  column: number;
}

interface PendingJump {
  index: number; // instruction index in `out`
  slot: number; // slot index of the instruction
  label: string;
  line: number;
  column: number;
}

const ALU: Record<string, AluOp> = {
  add: "add", sub: "sub", mul: "mul", div: "div", sdiv: "sdiv", or: "or", and: "and", lsh: "lsh",
  rsh: "rsh", mod: "mod", smod: "smod", xor: "xor", mov: "mov", arsh: "arsh",
};

const JMP: Record<string, JmpOp> = {
  jeq: "jeq", jgt: "jgt", jge: "jge", jset: "jset", jne: "jne", jsgt: "jsgt", jsge: "jsge",
  jlt: "jlt", jle: "jle", jslt: "jslt", jsle: "jsle",
};

const SIZES: Record<string, Size> = { b: 1, h: 2, w: 4, dw: 8 };

const ATOMIC: Record<string, AtomicOp> = { add: "add", or: "or", and: "and", xor: "xor", xchg: "xchg", cmpxchg: "cmpxchg" };

/** Splits a line (comment already removed) into tokens on spaces and commas. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const re = /[^\s,]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) tokens.push({ text: m[0], column: m.index + 1 });
  return tokens;
}

/** Parses an integer literal (decimal or 0x hex, optional sign) as a bigint. */
export function parseIntLiteral(text: string): bigint | undefined {
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] === "-" ? -v : v;
}

export function assembleUbpf(text: string, source?: string): Instruction[] {
  const out: Instruction[] = [];
  const labels = new Map<string, number>(); // label -> slot
  const pending: PendingJump[] = [];
  let slot = 0;
  let firstExit: number | undefined;

  text.split(/\r?\n/).forEach((rawLine, lineIndex) => {
    const lineNo = lineIndex + 1;
    const hash = rawLine.indexOf("#");
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    let tokens = tokenize(line);
    const fail = (column: number, msg: string): never => {
      throw new AsmError(lineNo, column, msg, source);
    };
    while (tokens.length > 0 && tokens[0].text.endsWith(":")) {
      const name = tokens[0].text.slice(0, -1);
      if (!/^[A-Za-z_.][\w.]*$/.test(name)) fail(tokens[0].column, `invalid label '${name}'`);
      if (labels.has(name)) fail(tokens[0].column, `duplicate label '${name}'`);
      labels.set(name, slot);
      tokens = tokens.slice(1);
    }
    if (tokens.length === 0) return;

    const [mn, ...ops] = tokens;
    const want = (n: number): void => {
      if (ops.length !== n) fail(mn.column, `'${mn.text}' takes ${n} operand${n === 1 ? "" : "s"}, got ${ops.length}`);
    };
    const regOf = (t: Token): number => {
      const m = /^%r(\d+)$/.exec(t.text);
      if (!m || Number(m[1]) > 10) return fail(t.column, `expected a register %r0..%r10, got '${t.text}'`);
      return Number(m[1]);
    };
    const immOf = (t: Token, bits: 16 | 32 | 64): bigint => {
      const v = parseIntLiteral(t.text);
      if (v === undefined) return fail(t.column, `expected an integer, got '${t.text}'`);
      const min = -(1n << BigInt(bits - 1));
      const max = (1n << BigInt(bits)) - 1n;
      if (v < min || v > max) fail(t.column, `${t.text} does not fit in ${bits} bits`);
      return v;
    };
    const imm32 = (t: Token): number => Number(BigInt.asIntN(32, immOf(t, 32)));
    const operand = (t: Token): Operand => (t.text.startsWith("%") ? { kind: "reg", reg: regOf(t) } : { kind: "imm", imm: imm32(t) });
    const memOf = (t: Token): { reg: number; off: number } => {
      const m = /^\[(%r\d+)\s*(?:([+-])\s*(0x[0-9a-f]+|\d+))?\]$/i.exec(t.text);
      if (!m) return fail(t.column, `expected a memory operand [%rN+off], got '${t.text}'`);
      const r = regOf({ text: m[1], column: t.column + 1 });
      const off = m[3] === undefined ? 0 : Number(m[2] === "-" ? -BigInt(m[3]) : BigInt(m[3]));
      if (off < -32768 || off > 32767) fail(t.column, `offset ${off} does not fit in 16 bits`);
      return { reg: r, off };
    };
    const target = (t: Token, index: number): number => {
      const v = /^[+-]/.test(t.text) ? parseIntLiteral(t.text) : undefined;
      if (v !== undefined) return Number(v);
      if (!/^[A-Za-z_.][\w.]*$/.test(t.text)) fail(t.column, `expected a label or +/-offset, got '${t.text}'`);
      pending.push({ index, slot, label: t.text, line: lineNo, column: t.column });
      return 0;
    };
    const emit = (insn: Instruction): void => {
      out.push(insn);
      slot += insn.kind === "ld_imm64" ? 2 : 1;
    };
    const name = mn.text.toLowerCase();
    const index = out.length;
    let m: RegExpExecArray | null;

    if (name === "exit") {
      want(0);
      if (firstExit === undefined) firstExit = slot;
      emit({ kind: "exit" });
    } else if (name === "ja" || name === "ja32") {
      want(1);
      const off = target(ops[0], index);
      emit(name === "ja" ? { kind: "ja", off } : { kind: "gotol", imm: off });
    } else if (name === "call") {
      if (ops.length === 1 && ops[0].text.startsWith("%")) {
        emit({ kind: "callx", reg: regOf(ops[0]) });
      } else if (ops.length === 1) {
        emit({ kind: "call", target: "helper", imm: imm32(ops[0]), off: 0 });
      } else {
        want(2);
        const mode = ops[0].text;
        if (mode === "local") emit({ kind: "call", target: "local", imm: target(ops[1], index), off: 0 });
        else if (mode === "helper") emit({ kind: "call", target: "helper", imm: imm32(ops[1]), off: 0 });
        else if (mode === "runtime" || mode === "kfunc") emit({ kind: "call", target: "kfunc", imm: imm32(ops[1]), off: 0 });
        else fail(ops[0].column, `unknown call mode '${mode}' (local, helper, runtime)`);
      }
    } else if (name === "lddw") {
      want(2);
      const { lo, hi } = splitImm64(immOf(ops[1], 64));
      emit({ kind: "ld_imm64", dst: regOf(ops[0]), pseudo: 0, lo, hi });
    } else if (name === "lock") {
      let rest = ops;
      const fetch = rest[0]?.text === "fetch";
      if (fetch) rest = rest.slice(1);
      if (rest.length !== 3) fail(mn.column, "lock takes [fetch] op [%rN+off], %rM");
      const opm = /^(add|or|and|xor|xchg|cmpxchg)(32)?$/.exec(rest[0].text);
      if (!opm) return fail(rest[0].column, `unknown atomic operation '${rest[0].text}'`);
      const op = ATOMIC[opm[1]];
      const mem = memOf(rest[1]);
      emit({
        kind: "atomic", op, fetch: fetch || op === "xchg" || op === "cmpxchg", size: opm[2] ? 4 : 8,
        dst: mem.reg, src: regOf(rest[2]), off: mem.off,
      });
    } else if ((m = /^(le|be|swap|bswap)(16|32|64)$/.exec(name))) {
      want(1);
      const order = m[1] === "le" ? "le" : m[1] === "be" ? "be" : "bswap";
      emit({ kind: "endian", order, bits: Number(m[2]) as 16 | 32 | 64, dst: regOf(ops[0]) });
    } else if ((m = /^movsx(8|16|32)(32|64)$/.exec(name))) {
      want(2);
      const bits = Number(m[1]) as 8 | 16 | 32;
      const wide = m[2] === "64";
      if (!wide && bits === 32) fail(mn.column, "movsx3232 does not exist");
      emit({ kind: "movsx", wide, bits, dst: regOf(ops[0]), src: regOf(ops[1]) });
    } else if ((m = /^neg(32)?$/.exec(name))) {
      want(1);
      emit({ kind: "neg", wide: !m[1], dst: regOf(ops[0]) });
    } else if ((m = /^ldx(s?)(b|h|w|dw)$/.exec(name))) {
      want(2);
      const signed = m[1] === "s";
      const size = SIZES[m[2]];
      if (signed && size === 8) fail(mn.column, "ldxsdw does not exist");
      const mem = memOf(ops[1]);
      emit({ kind: "ldx", size, signed, dst: regOf(ops[0]), src: mem.reg, off: mem.off });
    } else if ((m = /^stx(b|h|w|dw)$/.exec(name))) {
      want(2);
      const mem = memOf(ops[0]);
      emit({ kind: "stx", size: SIZES[m[1]], dst: mem.reg, src: regOf(ops[1]), off: mem.off });
    } else if ((m = /^st(b|h|w|dw)$/.exec(name))) {
      want(2);
      const mem = memOf(ops[0]);
      emit({ kind: "st", size: SIZES[m[1]], dst: mem.reg, off: mem.off, imm: imm32(ops[1]) });
    } else if ((m = /^ld(abs|ind)(b|h|w)$/.exec(name))) {
      const size = SIZES[m[2]] as 1 | 2 | 4;
      if (m[1] === "abs") {
        want(1);
        emit({ kind: "ld_abs", size, imm: imm32(ops[0]) });
      } else {
        want(2);
        emit({ kind: "ld_ind", size, src: regOf(ops[0]), imm: imm32(ops[1]) });
      }
    } else if ((m = /^([a-z]+?)(32)?$/.exec(name)) && JMP[m[1]]) {
      want(3);
      emit({ kind: "jcc", op: JMP[m[1]], wide: !m[2], dst: regOf(ops[0]), src: operand(ops[1]), off: target(ops[2], index) });
    } else if ((m = /^([a-z]+?)(32)?$/.exec(name)) && ALU[m[1]]) {
      want(2);
      emit({ kind: "alu", op: ALU[m[1]], wide: !m[2], dst: regOf(ops[0]), src: operand(ops[1]) });
    } else {
      fail(mn.column, `unknown mnemonic '${mn.text}'`);
    }
  });

  if (firstExit !== undefined && !labels.has("exit")) labels.set("exit", firstExit);
  for (const j of pending) {
    const at = labels.get(j.label);
    if (at === undefined) throw new AsmError(j.line, j.column, `undefined label '${j.label}'`, source);
    const rel = at - j.slot - 1;
    const insn = out[j.index];
    if (insn.kind === "call") out[j.index] = { ...insn, imm: rel };
    else if (insn.kind === "gotol") out[j.index] = { ...insn, imm: rel };
    else if (insn.kind === "ja" || insn.kind === "jcc") {
      if (rel < -32768 || rel > 32767) throw new AsmError(j.line, j.column, `jump to '${j.label}' is too far for a 16-bit offset`, source);
      out[j.index] = { ...insn, off: rel };
    }
  }
  return out;
}
