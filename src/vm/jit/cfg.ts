/**
 * Control-flow analysis for the JIT: instruction kinds (by opcode byte, exactly
 * as the reference interpreter dispatches), basic blocks, the functions a program
 * splits into (entry 0, bpf-to-bpf call targets, callback targets), and per
 * function the reverse postorder, dominator tree, loop headers and merge nodes
 * the structured emitter needs.
 *
 * A function is every block reachable from its entry by jumps and fall-through
 * (calls return to the next instruction), not an address range: that is what the
 * interpreter executes, so even code shared between subprograms runs the same.
 */
import type { Bytecode } from "../../isa/bytecode.js";
import { BPF_PSEUDO_FUNC } from "../../isa/opcodes.js";
import { BPF_FUNC_tail_call } from "../engine.js";

/** What an instruction does, as far as control flow and the emitter care. */
export const Kind = {
  alu: 0, ldx: 1, st: 2, stx: 3, atomic: 4, ld_imm64: 5, ld_pkt: 6,
  ja: 7, jcc: 8, may_goto: 9, call_local: 10, call_helper: 11, tail_call: 12, kfunc: 13,
  callx: 14, exit: 15, invalid: 16,
} as const;
export type KindValue = (typeof Kind)[keyof typeof Kind];

/** Opcode bytes the interpreter executes as ALU (ALU64 then ALU32). */
const ALU_OPS = [
  0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x97, 0x9f, 0x47, 0x4f, 0x57, 0x5f, 0xa7, 0xaf, 0x67, 0x6f,
  0x77, 0x7f, 0xc7, 0xcf, 0x87, 0xb7, 0xbf, 0xd7,
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x44, 0x4c, 0x54, 0x5c, 0xa4, 0xac, 0x64, 0x6c,
  0x74, 0x7c, 0xc4, 0xcc, 0x84, 0xb4, 0xbc, 0xd4, 0xdc,
];
const JCC_OPS = [
  0x15, 0x1d, 0x55, 0x5d, 0x45, 0x4d, 0x25, 0x2d, 0x35, 0x3d, 0xa5, 0xad, 0xb5, 0xbd, 0x65, 0x6d, 0x75, 0x7d,
  0xc5, 0xcd, 0xd5, 0xdd,
  0x16, 0x1e, 0x56, 0x5e, 0x46, 0x4e, 0x26, 0x2e, 0x36, 0x3e, 0xa6, 0xae, 0xb6, 0xbe, 0x66, 0x6e, 0x76, 0x7e,
  0xc6, 0xce, 0xd6, 0xde,
];

const OPCODE_KIND = new Uint8Array(256).fill(Kind.invalid);
for (const o of ALU_OPS) OPCODE_KIND[o] = Kind.alu;
for (const o of JCC_OPS) OPCODE_KIND[o] = Kind.jcc;
for (const o of [0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91]) OPCODE_KIND[o] = Kind.ldx;
for (const o of [0x62, 0x6a, 0x72, 0x7a]) OPCODE_KIND[o] = Kind.st;
for (const o of [0x63, 0x6b, 0x73, 0x7b]) OPCODE_KIND[o] = Kind.stx;
for (const o of [0xc3, 0xdb, 0xcb, 0xd3]) OPCODE_KIND[o] = Kind.atomic;
for (const o of [0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) OPCODE_KIND[o] = Kind.ld_pkt;
OPCODE_KIND[0x18] = Kind.ld_imm64;
OPCODE_KIND[0x05] = Kind.ja;
OPCODE_KIND[0x06] = Kind.ja;
OPCODE_KIND[0xe5] = Kind.may_goto;
OPCODE_KIND[0x85] = Kind.call_helper; // refined by src below
OPCODE_KIND[0x8d] = Kind.callx;
OPCODE_KIND[0x95] = Kind.exit;

/** The kind of the instruction at `pc`. */
export function kindAt(code: Bytecode, pc: number): KindValue {
  const op = code.opcode[pc];
  const k = OPCODE_KIND[op] as KindValue;
  if (op !== 0x85) return k;
  const src = code.src[pc];
  if (src === 1) return Kind.call_local;
  if (src !== 0) return Kind.kfunc;
  return code.imm[pc] === BPF_FUNC_tail_call ? Kind.tail_call : Kind.call_helper;
}

/** Slots the instruction at pc occupies (LD_IMM64 takes two). */
export const widthAt = (code: Bytecode, pc: number): number => (code.opcode[pc] === 0x18 ? 2 : 1);

/**
 * Does the instruction end a basic block? Calls do too (the budget and region
 * caches are settled around them), and LD_ABS / LD_IND, which may end the run
 * early: a checked run's instruction count then stops exactly there.
 */
export function endsBlock(k: KindValue): boolean {
  return k === Kind.ld_pkt || k === Kind.ja || k === Kind.jcc || k === Kind.call_local || k === Kind.call_helper ||
    k === Kind.tail_call || k === Kind.kfunc || k === Kind.callx || k === Kind.exit || k === Kind.invalid;
}

/** Jump target of a ja / jcc / call_local at pc (absolute slot index, possibly out of range). */
export function targetOf(code: Bytecode, pc: number): number {
  const op = code.opcode[pc];
  if (op === 0x06 || op === 0x85) return pc + 1 + code.imm[pc];
  return pc + 1 + code.off[pc];
}

/** An edge out of a block: to a slot index (maybe outside the program); `jump` if taken by a jump. */
export interface Edge {
  readonly to: number;
  readonly jump: boolean;
}

export interface Block {
  readonly start: number;
  /** Instruction pcs in order (the last is the terminator, or the block falls through). */
  readonly pcs: readonly number[];
  /** Kind of the last instruction. */
  readonly lastKind: KindValue;
  /** Successor edges: for a jcc [taken, fall]; for ja [target]; for calls [return point]; falls: [next]. */
  readonly succs: readonly Edge[];
  /** Instructions (not slots) in the block: what the budget is charged. */
  readonly count: number;
}

export interface ProgramInfo {
  readonly code: Bytecode;
  readonly n: number;
  readonly leaders: Uint8Array;
  /** Blocks by start pc, built on demand. */
  readonly blocks: Map<number, Block>;
  /** Function entries in discovery order; entry 0 first. */
  readonly entries: number[];
  /** Entries reached as callbacks (LD_IMM64 with BPF_PSEUDO_FUNC). */
  readonly callbackEntries: Set<number>;
  /** Does any reachable instruction write r10? (Then r10 is an ordinary local.) */
  readonly writesR10: boolean;
}

/** Does the instruction at pc (of kind k) write register r (0..10)? Used for the r10 scan only. */
function writesReg(code: Bytecode, pc: number, k: KindValue, r: number): boolean {
  const d = code.dst[pc];
  switch (k) {
    case Kind.alu:
    case Kind.ldx:
    case Kind.ld_imm64:
      return d === r;
    case Kind.atomic: {
      const imm = code.imm[pc];
      if (imm === 0x100) return d === r;
      if (imm === 0x110) return false;
      return (imm & 1) !== 0 && code.src[pc] === r;
    }
    default:
      return false;
  }
}

/** Finds the block structure and functions of a program. */
export function analyzeProgram(code: Bytecode): ProgramInfo {
  const n = code.length;
  const leaders = new Uint8Array(n + 1);
  const mark = (t: number): void => {
    if (t >= 0 && t < n) leaders[t] = 1;
  };
  mark(0);
  // Leaders from the instruction stream read in order (an LD_IMM64's second slot skipped).
  for (let pc = 0; pc < n; pc += widthAt(code, pc)) {
    const k = kindAt(code, pc);
    if (k === Kind.ja || k === Kind.jcc || k === Kind.call_local) mark(targetOf(code, pc));
    if (k === Kind.ld_imm64 && code.src[pc] === BPF_PSEUDO_FUNC) mark(pc + 1 + code.imm[pc]);
    if (endsBlock(k)) mark(pc + 1);
  }

  const blocks = new Map<number, Block>();
  const blockAt = (start: number): Block => {
    let b = blocks.get(start);
    if (b) return b;
    const pcs: number[] = [];
    let pc = start;
    let k: KindValue = Kind.alu;
    const succs: Edge[] = [];
    for (;;) {
      k = kindAt(code, pc);
      pcs.push(pc);
      const next = pc + widthAt(code, pc);
      if (endsBlock(k)) {
        switch (k) {
          case Kind.ja:
            succs.push({ to: targetOf(code, pc), jump: true });
            break;
          case Kind.jcc:
            succs.push({ to: targetOf(code, pc), jump: true }, { to: next, jump: false });
            break;
          case Kind.call_local:
          case Kind.call_helper:
          case Kind.tail_call:
          case Kind.callx:
          case Kind.ld_pkt:
            succs.push({ to: next, jump: false });
            break;
          default:
            break; // exit, kfunc, invalid: no successor
        }
        break;
      }
      if (next >= n || leaders[next]) {
        succs.push({ to: next, jump: false });
        break;
      }
      pc = next;
    }
    b = { start, pcs, lastKind: k, succs, count: pcs.length };
    blocks.set(start, b);
    return b;
  };

  const entries: number[] = [0];
  const entrySet = new Set<number>([0]);
  const callbackEntries = new Set<number>();
  let writesR10 = false;
  const addEntry = (t: number, callback: boolean): void => {
    if (t < 0 || t >= n) return;
    if (callback) callbackEntries.add(t);
    if (!entrySet.has(t)) {
      entrySet.add(t);
      entries.push(t);
    }
  };
  // Visit every block reachable from every entry once, collecting new entries.
  const seen = new Set<number>();
  for (let e = 0; e < entries.length; e++) {
    const work = [entries[e]];
    while (work.length > 0) {
      const s = work.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      const b = blockAt(s);
      for (const pc of b.pcs) {
        const k = kindAt(code, pc);
        if (k === Kind.call_local) addEntry(targetOf(code, pc), false);
        if (k === Kind.ld_imm64 && code.src[pc] === BPF_PSEUDO_FUNC) addEntry(pc + 1 + code.imm[pc], true);
        if (!writesR10 && writesReg(code, pc, k, 10)) writesR10 = true;
      }
      for (const edge of b.succs) if (edge.to >= 0 && edge.to < n) work.push(edge.to);
    }
  }
  return { code, n, leaders, blocks, entries, callbackEntries, writesR10 };
}

/** One function's control-flow graph, ready for structured emission. */
export interface FunctionCfg {
  readonly entry: number;
  /** Blocks in reverse postorder; index = RPO number. */
  readonly order: readonly Block[];
  /** RPO number by block start pc. */
  readonly rpo: ReadonlyMap<number, number>;
  /** Immediate dominator (RPO number) of each node; the entry's is itself. */
  readonly idom: Int32Array;
  /** Dominator-tree children of each node, by increasing RPO number. */
  readonly children: readonly number[][];
  readonly loopHeader: Uint8Array;
  /** Back edges into each node (counted with multiplicity). */
  readonly backEdgeSources: Uint16Array;
  /** Nodes with two or more forward in-edges (counted with multiplicity). */
  readonly mergeNode: Uint8Array;
  /** False when some retreating edge goes to a node that does not dominate its source. */
  readonly reducible: boolean;
}

/** Builds the CFG of the function entered at `entry`. */
export function functionCfg(prog: ProgramInfo, entry: number): FunctionCfg {
  const { n, blocks } = prog;
  const inRange = (t: number): boolean => t >= 0 && t < n;
  // Iterative DFS for postorder.
  const post: Block[] = [];
  const visited = new Set<number>();
  const stack: Array<{ b: Block; i: number }> = [];
  const push = (start: number): void => {
    visited.add(start);
    stack.push({ b: blocks.get(start)!, i: 0 });
  };
  push(entry);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i < top.b.succs.length) {
      const t = top.b.succs[top.i++].to;
      if (inRange(t) && !visited.has(t)) push(t);
    } else {
      post.push(top.b);
      stack.pop();
    }
  }
  const order = post.reverse();
  const rpo = new Map<number, number>();
  order.forEach((b, i) => rpo.set(b.start, i));
  const count = order.length;

  // Predecessors (RPO numbers, with multiplicity).
  const preds: number[][] = order.map(() => []);
  order.forEach((b, i) => {
    for (const e of b.succs) {
      const j = inRange(e.to) ? rpo.get(e.to) : undefined;
      if (j !== undefined) preds[j].push(i);
    }
  });

  // Dominators: Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm" (2001).
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a > b) a = idom[a];
      while (b > a) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 1; i < count; i++) {
      let d = -1;
      for (const p of preds[i]) {
        if (idom[p] === -1) continue;
        d = d === -1 ? p : intersect(p, d);
      }
      if (d !== idom[i]) {
        idom[i] = d;
        changed = true;
      }
    }
  }
  const children: number[][] = order.map(() => []);
  for (let i = 1; i < count; i++) children[idom[i]].push(i);

  const dominates = (a: number, b: number): boolean => {
    while (b > a) b = idom[b];
    return a === b;
  };
  const loopHeader = new Uint8Array(count);
  const backEdgeSources = new Uint16Array(count);
  const mergeNode = new Uint8Array(count);
  let reducible = true;
  for (let j = 0; j < count; j++) {
    let forward = 0;
    for (const p of preds[j]) {
      if (p < j) forward++;
      else {
        // A retreating edge p -> j: a back edge only if j dominates p.
        loopHeader[j] = 1;
        if (backEdgeSources[j] < 0xffff) backEdgeSources[j]++;
        if (!dominates(j, p)) reducible = false;
      }
    }
    if (forward >= 2) mergeNode[j] = 1;
  }
  return { entry, order, rpo, idom, children, loopHeader, backEdgeSources, mergeNode, reducible };
}
