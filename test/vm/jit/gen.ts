/**
 * Random BPF programs for differential testing of the JIT against the
 * interpreter, and the harness that runs one program on both and compares
 * everything observable: r0 (64 bits), faults (pc and message), the input
 * buffer, the whole stack region, and in checked mode the instruction count.
 *
 * Programs are valid encodings with forward jumps, if/else diamonds, bounded
 * loops (r7/r8 count down), irreducible loops, stack and buffer accesses within
 * bounds (r9 holds the buffer base everywhere, r10 the frame), atomics,
 * bpf-to-bpf calls (to later functions only), helper calls to a deterministic
 * helper, bpf_loop with callbacks, LD_ABS/LD_IND, tail calls and may_goto.
 * With `wild`, checked programs also make accesses that fault.
 */
import { ProgramFault } from "../../../src/errors.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { AluOp, AtomicOp, Instruction, JmpOp, Size } from "../../../src/isa/instruction.js";
import { BPF_PSEUDO_FUNC } from "../../../src/isa/opcodes.js";
import type { Engine, EngineEnv, ExecutableCode } from "../../../src/vm/engine.js";
import { type HelperDef, HelperRegistry } from "../../../src/vm/helpers/abi.js";
import { Interpreter } from "../../../src/vm/interp/interpreter.js";
import { JitEngine } from "../../../src/vm/jit/engine.js";
import { AddressSpace } from "../../../src/vm/memory.js";

/** mulberry32: a small, fast, seedable PRNG. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

/** Helper ids the generated programs call. */
export const FUZZ_HELPER = 200;
/** bpf_loop. include/uapi/linux/bpf.h, enum bpf_func_id. */
export const BPF_FUNC_loop = 181;
export const BPF_FUNC_tail_call = 12;

export interface GenOptions {
  /** Approximate instruction count of the main function (subprograms add more). */
  insns?: number;
  /** Checked-mode program: may make faulting accesses. */
  wild?: boolean;
  bufLen?: number;
  /** Allow tail calls (main only). */
  tailCalls?: boolean;
}

export interface GenProgram {
  readonly code: Bytecode;
  readonly bufLen: number;
}

type Item = Instruction | { readonly label: string } | { readonly jumpTo: string; readonly insn: Instruction } | { readonly funcRef: string; readonly dst: number };

const ALU_OPS: readonly AluOp[] = ["add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh"];
const JMP_OPS: readonly JmpOp[] = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"];
const ATOMIC_OPS: readonly AtomicOp[] = ["add", "or", "and", "xor", "xchg", "cmpxchg"];
const SPECIAL_IMMS = [0, 1, -1, 2, 7, 8, 31, 32, 33, 63, 64, 0x7fffffff, -0x80000000, 0xff, 0xffff, -2, 16, 1000];

class FunctionGen {
  readonly items: Item[] = [];
  private labelCount = 0;
  /** Registers the current code must not write (buffer base, live loop counters). */
  private readonly protectedRegs = new Set<number>([9]);
  private loopDepth = 0;

  constructor(
    private readonly rng: Rng,
    private readonly prog: ProgramGen,
    readonly name: string,
    readonly index: number,
    private budget: number,
  ) {}

  private label(): string {
    return `${this.name}_L${this.labelCount++}`;
  }

  private emit(i: Instruction): void {
    this.items.push(i);
    this.budget--;
  }

  private dstReg(): number {
    const { rng } = this;
    for (;;) {
      const r = rng.int(9);
      if (!this.protectedRegs.has(r)) return r;
    }
  }

  private srcReg(): number {
    return this.rng.int(11);
  }

  private imm(): number {
    const { rng } = this;
    if (rng.chance(0.4)) return rng.pick(SPECIAL_IMMS) | 0;
    if (rng.chance(0.5)) return rng.int(200) - 100;
    return rng.u32() | 0;
  }

  body(): void {
    while (this.budget > 0) this.segment();
  }

  private segment(): void {
    const { rng } = this;
    const r = rng.int(100);
    if (r < 30) this.alu();
    else if (r < 35) this.emit({ kind: "ld_imm64", dst: this.dstReg(), pseudo: 0, lo: rng.u32() | 0, hi: rng.pick([0, -1, rng.u32() | 0]) });
    else if (r < 50) this.memory();
    else if (r < 54) this.atomic();
    else if (r < 62) this.forwardJump();
    else if (r < 67) this.diamond();
    else if (r < 72 && this.loopDepth < 2) this.loop();
    else if (r < 74 && this.loopDepth < 2) this.irreducible();
    else if (r < 79) this.callLocal();
    else if (r < 83) this.helperCall();
    else if (r < 85) this.bpfLoop();
    else if (r < 88) this.ldPacket();
    else if (r < 90 && this.prog.options.tailCalls && this.index === 0) this.tailCall();
    else if (r < 91) this.emit({ kind: "may_goto", off: 0 });
    else if (r < 94 && this.prog.options.wild) this.wildAccess();
    else this.alu();
  }

  alu(): void {
    const { rng } = this;
    const wide = rng.chance(0.6);
    const d = this.dstReg();
    const k = rng.int(20);
    if (k < 14) {
      const op = rng.pick(ALU_OPS);
      const src = rng.chance(0.5) ? { kind: "reg" as const, reg: this.srcReg() } : { kind: "imm" as const, imm: this.imm() };
      this.emit({ kind: "alu", op, wide, dst: d, src });
    } else if (k < 15) this.emit({ kind: "neg", wide, dst: d });
    else if (k < 17) {
      const bits = rng.pick([8, 16, 32] as const);
      this.emit({ kind: "movsx", wide: bits === 32 ? true : wide, bits, dst: d, src: this.srcReg() });
    } else {
      const order = rng.pick(["le", "be", "bswap"] as const);
      this.emit({ kind: "endian", order, bits: rng.pick([16, 32, 64] as const), dst: d });
    }
  }

  /** A pointer into the buffer or the stack in `reg`, with an offset such that [reg+off, +size) is in bounds. */
  private pointer(size: Size, aligned: boolean): { reg: number; off: number } {
    const { rng } = this;
    const bufLen = this.prog.bufLen;
    const align = aligned ? size : 1;
    const choice = rng.int(4);
    if (choice === 0) {
      // r10 with a constant offset inside the frame.
      const slots = Math.floor((512 - size) / align);
      return { reg: 10, off: -512 + rng.int(slots + 1) * align };
    }
    if (choice === 1) {
      const slots = Math.floor((bufLen - size) / align);
      return { reg: 9, off: rng.int(slots + 1) * align };
    }
    // A computed pointer: base + (x & mask) in a scratch register, then a small offset.
    const t = this.dstReg();
    const x = this.srcReg();
    const area = choice === 2 ? bufLen : 512;
    // mask keeps index + off + size within the area
    let m = 1;
    while (m * 2 <= area - 16) m *= 2;
    m -= 1;
    if (aligned) m &= ~(size - 1);
    this.emit({ kind: "alu", op: "mov", wide: true, dst: t, src: { kind: "reg", reg: x } });
    this.emit({ kind: "alu", op: "and", wide: true, dst: t, src: { kind: "imm", imm: m } });
    if (choice === 2) this.emit({ kind: "alu", op: "add", wide: true, dst: t, src: { kind: "reg", reg: 9 } });
    else {
      this.emit({ kind: "alu", op: "add", wide: true, dst: t, src: { kind: "reg", reg: 10 } });
      this.emit({ kind: "alu", op: "add", wide: true, dst: t, src: { kind: "imm", imm: -512 } });
    }
    const room = area - m - size;
    return { reg: t, off: aligned ? Math.floor(rng.int(room + 1) / size) * size : rng.int(room + 1) };
  }

  memory(): void {
    const { rng } = this;
    const size = rng.pick([1, 2, 4, 8] as const);
    const p = this.pointer(size, rng.chance(0.5));
    const k = rng.int(3);
    if (k === 0) this.emit({ kind: "ldx", size, signed: size !== 8 && rng.chance(0.3), dst: this.dstReg(), src: p.reg, off: p.off });
    else if (k === 1) this.emit({ kind: "st", size, dst: p.reg, off: p.off, imm: this.imm() });
    else this.emit({ kind: "stx", size, dst: p.reg, src: this.srcReg(), off: p.off });
  }

  atomic(): void {
    const { rng } = this;
    if (rng.chance(0.2)) {
      const size = rng.pick([1, 2, 4, 8] as const);
      const p = this.pointer(size, true);
      if (rng.chance(0.5)) this.emit({ kind: "load_acquire", size, dst: this.dstReg(), src: p.reg, off: p.off });
      else this.emit({ kind: "store_release", size, dst: p.reg, src: this.srcReg(), off: p.off });
      return;
    }
    const size = rng.pick([4, 8] as const);
    const p = this.pointer(size, true);
    const op = rng.pick(ATOMIC_OPS);
    const fetch = op === "xchg" || op === "cmpxchg" || rng.chance(0.5);
    // A fetch writes src: keep it off protected registers.
    let src = this.srcReg();
    if (fetch && op !== "cmpxchg" && (this.protectedRegs.has(src) || src === 10)) src = this.dstReg();
    if (op === "cmpxchg" && this.protectedRegs.has(0)) return;
    this.emit({ kind: "atomic", op, fetch, size, dst: p.reg, src, off: p.off });
  }

  private cond(): Instruction {
    const { rng } = this;
    const op = rng.pick(JMP_OPS);
    const src = rng.chance(0.5) ? { kind: "reg" as const, reg: this.srcReg() } : { kind: "imm" as const, imm: this.imm() };
    return { kind: "jcc", op, wide: rng.chance(0.6), dst: this.srcReg(), src, off: 0 };
  }

  private jumpTo(label: string, insn: Instruction): void {
    this.items.push({ jumpTo: label, insn });
    this.budget--;
  }

  private place(label: string): void {
    this.items.push({ label });
  }

  forwardJump(): void {
    const l = this.label();
    this.jumpTo(l, this.cond());
    const n = 1 + this.rng.int(4);
    for (let i = 0; i < n && this.budget > 0; i++) this.segment();
    this.place(l);
  }

  diamond(): void {
    const els = this.label();
    const done = this.label();
    this.jumpTo(els, this.cond());
    for (let i = 0, n = 1 + this.rng.int(3); i < n; i++) this.segment();
    this.jumpTo(done, this.rng.chance(0.5) ? { kind: "ja", off: 0 } : { kind: "gotol", imm: 0 });
    this.place(els);
    for (let i = 0, n = 1 + this.rng.int(3); i < n; i++) this.segment();
    this.place(done);
  }

  private counter(): number | undefined {
    if (!this.protectedRegs.has(8)) return 8;
    if (!this.protectedRegs.has(7)) return 7;
    return undefined;
  }

  loop(): void {
    const c = this.counter();
    if (c === undefined) return;
    const { rng } = this;
    const top = this.label();
    this.emit({ kind: "alu", op: "mov", wide: true, dst: c, src: { kind: "imm", imm: 1 + rng.int(5) } });
    this.protectedRegs.add(c);
    this.loopDepth++;
    this.place(top);
    for (let i = 0, n = 1 + rng.int(4); i < n; i++) this.segment();
    this.emit({ kind: "alu", op: "add", wide: rng.chance(0.5), dst: c, src: { kind: "imm", imm: -1 } });
    this.jumpTo(top, { kind: "jcc", op: "jne", wide: rng.chance(0.5), dst: c, src: { kind: "imm", imm: 0 }, off: 0 });
    this.loopDepth--;
    this.protectedRegs.delete(c);
  }

  /** A loop entered at two places: the CFG is irreducible. */
  irreducible(): void {
    const c = this.counter();
    if (c === undefined) return;
    const { rng } = this;
    const a = this.label();
    const b = this.label();
    this.emit({ kind: "alu", op: "mov", wide: true, dst: c, src: { kind: "imm", imm: 1 + rng.int(4) } });
    this.protectedRegs.add(c);
    this.loopDepth++;
    this.jumpTo(b, this.cond());
    this.place(a);
    for (let i = 0, n = 1 + rng.int(2); i < n; i++) this.segment();
    this.place(b);
    for (let i = 0, n = 1 + rng.int(2); i < n; i++) this.segment();
    this.emit({ kind: "alu", op: "add", wide: true, dst: c, src: { kind: "imm", imm: -1 } });
    this.jumpTo(a, { kind: "jcc", op: "jsgt", wide: true, dst: c, src: { kind: "imm", imm: 0 }, off: 0 });
    this.loopDepth--;
    this.protectedRegs.delete(c);
  }

  private setArgs(): void {
    const { rng } = this;
    for (let r = 1; r <= 5; r++) {
      if (rng.chance(0.5)) this.emit({ kind: "alu", op: "mov", wide: true, dst: r, src: { kind: "imm", imm: this.imm() } });
    }
  }

  callLocal(): void {
    const target = this.prog.subprogram(this.index);
    if (!target) return;
    if ([1, 2, 3, 4, 5].some((r) => this.protectedRegs.has(r))) return;
    this.setArgs();
    this.jumpTo(target, { kind: "call", target: "local", imm: 0, off: 0 });
  }

  helperCall(): void {
    this.setArgs();
    if (this.rng.chance(0.2)) {
      const r = this.dstReg();
      this.emit({ kind: "alu", op: "mov", wide: true, dst: r, src: { kind: "imm", imm: FUZZ_HELPER } });
      this.emit({ kind: "callx", reg: r });
    } else this.emit({ kind: "call", target: "helper", imm: FUZZ_HELPER, off: 0 });
  }

  bpfLoop(): void {
    const cb = this.prog.subprogram(this.index);
    if (!cb) return;
    if ([1, 2, 3, 4].some((r) => this.protectedRegs.has(r))) return;
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "imm", imm: this.rng.int(4) } });
    this.items.push({ funcRef: cb, dst: 2 });
    this.budget--;
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 3, src: { kind: "reg", reg: this.rng.pick([9, 10]) } });
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 4, src: { kind: "imm", imm: 0 } });
    this.emit({ kind: "call", target: "helper", imm: BPF_FUNC_loop, off: 0 });
  }

  ldPacket(): void {
    const { rng } = this;
    const size = rng.pick([1, 2, 4] as const);
    const imm = rng.chance(0.9) ? rng.int(this.prog.bufLen) : rng.int(1000) - 100;
    if (this.protectedRegs.has(0)) return;
    if (rng.chance(0.5)) this.emit({ kind: "ld_abs", size, imm });
    else this.emit({ kind: "ld_ind", size, src: this.srcReg(), imm: rng.int(16) });
  }

  tailCall(): void {
    if ([1, 2, 3].some((r) => this.protectedRegs.has(r))) return;
    // The target starts from these registers; its first instruction takes r9 from r1 (ctx).
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "reg", reg: 9 } });
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 2, src: { kind: "imm", imm: 0x1234 } });
    this.emit({ kind: "alu", op: "mov", wide: true, dst: 3, src: { kind: "imm", imm: this.rng.int(8) } });
    this.emit({ kind: "call", target: "helper", imm: BPF_FUNC_tail_call, off: 0 });
  }

  /** Checked mode only: an access at a random register plus a random offset (it may fault). */
  wildAccess(): void {
    const { rng } = this;
    const size = rng.pick([1, 2, 4, 8] as const);
    const reg = rng.chance(0.5) ? rng.pick([9, 10]) : this.srcReg();
    const off = rng.chance(0.5) ? rng.int(this.prog.bufLen + 32) - 16 : rng.int(1200) - 600;
    if (rng.chance(0.5)) this.emit({ kind: "ldx", size, signed: false, dst: this.dstReg(), src: reg, off });
    else this.emit({ kind: "stx", size, dst: reg, src: this.srcReg(), off });
  }

  /** Folds r1..r9 into r0 before exit, so a wrong value anywhere shows in the result. */
  finish(): void {
    for (let r = 1; r <= 9; r++) {
      this.emit({ kind: "alu", op: "mul", wide: true, dst: 0, src: { kind: "imm", imm: 0x2f } });
      this.emit({ kind: "alu", op: "xor", wide: true, dst: 0, src: { kind: "reg", reg: r } });
    }
    this.emit({ kind: "exit" });
  }
}

class ProgramGen {
  readonly functions: FunctionGen[] = [];
  readonly bufLen: number;

  constructor(
    private readonly rng: Rng,
    readonly options: GenOptions,
  ) {
    this.bufLen = options.bufLen ?? 64 + 8 * rng.int(24);
  }

  /** A subprogram with a higher index than `from` (calls form a DAG: depth stays within 8 frames). */
  subprogram(from: number): string | undefined {
    const max = 5;
    if (from + 1 >= max) return undefined;
    const idx = from + 1 + this.rng.int(max - from - 1);
    while (this.functions.length <= idx) {
      const i = this.functions.length;
      this.functions.push(new FunctionGen(this.rng, this, `f${i}`, i, 4 + this.rng.int(20)));
    }
    return this.functions[idx].name;
  }

  build(): Bytecode {
    const main = new FunctionGen(this.rng, this, "f0", 0, this.options.insns ?? 40);
    this.functions.unshift(main);
    // Start with varied registers; r9 = buffer base (r1 at entry), r6 = ctx for LD_ABS/LD_IND.
    main.items.push({ kind: "alu", op: "mov", wide: true, dst: 9, src: { kind: "reg", reg: 1 } });
    for (const r of [0, 3, 4, 5, 6, 7, 8]) {
      main.items.push({ kind: "ld_imm64", dst: r, pseudo: 0, lo: this.rng.u32() | 0, hi: this.rng.u32() | 0 });
    }
    main.body();
    main.finish();
    // Subprograms are created while bodies are generated; generate until none is left empty.
    for (let i = 1; i < this.functions.length; i++) {
      this.functions[i].body();
      this.functions[i].finish();
    }
    // Lay out: slots per function, then resolve labels.
    const slotOf = new Map<string, number>();
    const flat: Array<{ item: Item; slot: number }> = [];
    let slot = 0;
    for (const f of this.functions) {
      slotOf.set(f.name, slot);
      for (const item of f.items) {
        if ("label" in item) {
          slotOf.set(item.label, slot);
          continue;
        }
        flat.push({ item, slot });
        const insn = "jumpTo" in item ? item.insn : "funcRef" in item ? undefined : item;
        slot += insn === undefined || insn.kind === "ld_imm64" ? 2 : 1;
      }
    }
    const insns: Instruction[] = flat.map(({ item, slot: at }) => {
      if ("funcRef" in item) {
        const t = slotOf.get(item.funcRef)!;
        return { kind: "ld_imm64", dst: item.dst, pseudo: BPF_PSEUDO_FUNC, lo: t - at - 1, hi: 0 };
      }
      if (!("jumpTo" in item)) return item as Instruction;
      const rel = slotOf.get(item.jumpTo)! - at - 1;
      const insn = item.insn;
      switch (insn.kind) {
        case "jcc": return { ...insn, off: rel };
        case "ja": return { ...insn, off: rel };
        case "gotol": return { ...insn, imm: rel };
        case "call": return { ...insn, imm: rel };
        default: throw new Error(`cannot patch ${insn.kind}`);
      }
    });
    return Bytecode.fromInstructions(insns);
  }
}

export function randomProgram(seed: number, options: GenOptions = {}): GenProgram {
  const rng = new Rng(seed);
  const g = new ProgramGen(rng, options);
  return { code: g.build(), bufLen: g.bufLen };
}

// ---------------- the differential harness ----------------

/** The deterministic test helper: r0 = a mix of r1..r5 (no BigInt: 32-bit words). */
function fuzzHelpers(): HelperDef[] {
  return [
    {
      id: FUZZ_HELPER, name: "fuzz_mix", proto: { args: [], ret: { kind: "integer" } } as unknown as HelperDef["proto"],
      fn: (call) => {
        let lo = 0x9e3779b9;
        let hi = 0x7f4a7c15;
        for (let r = 1; r <= 5; r++) {
          lo = Math.imul(lo ^ call.u32(r), 0x85ebca6b) ^ (hi >>> 13);
          hi = Math.imul(hi ^ call.hi(r), 0xc2b2ae35) ^ (lo >>> 16);
        }
        call.ret64(lo, hi);
      },
    },
    {
      id: BPF_FUNC_loop, name: "loop", proto: { args: [], ret: { kind: "integer" } } as unknown as HelperDef["proto"],
      fn: (call) => {
        // bpf_loop(nr_loops, callback_fn, callback_ctx, flags): arguments first, then callbacks.
        const nr = call.u32(1) & 7;
        const fnPc = call.u32(2);
        const ctx = call.num(3);
        let i = 0;
        for (; i < nr; i++) {
          const ret = call.exec.invokeCallback(fnPc, i, ctx, 0, 0, 0);
          if (ret % 2 === 1) {
            i++;
            break;
          }
        }
        call.ret(i);
      },
    },
  ];
}

export interface Outcome {
  readonly fault?: string;
  readonly error?: string;
  readonly r0?: bigint;
  readonly executed?: number;
  readonly buffer: Uint8Array;
  readonly stack: Uint8Array;
}

export interface DiffCase {
  readonly code: Bytecode;
  readonly buffer: Uint8Array;
  readonly checked: boolean;
  readonly budget?: number;
  /** Tail-call targets by index (index % targets.length); none falls through. */
  readonly targets?: readonly Bytecode[];
  /** Back the address space with a SharedArrayBuffer (the JIT then uses wasm atomics). */
  readonly shared?: boolean;
}

/** Runs `c` on one engine in a fresh address space (identical allocation order for both engines). */
export function runOn(kind: "interp" | "jit", c: DiffCase): Outcome {
  const space = new AddressSpace({ shared: c.shared });
  const buf = space.allocBytes(c.buffer);
  space.mapRegion(buf, c.buffer.length, "mem", true, "buffer");
  const targets: ExecutableCode[] = (c.targets ?? []).map((code) => ({ code }));
  const env: EngineEnv = {
    space,
    helpers: new HelperRegistry(fuzzHelpers()),
    checked: c.checked,
    budget: c.budget ?? 100_000,
    cpu: 0,
    tailCallTarget: (_map, index) => (targets.length === 0 || index % 3 === 2 ? undefined : targets[index % targets.length]),
    packetBounds: () => ({ data: buf, end: buf + c.buffer.length }),
  };
  let engine: Engine | undefined;
  let fault: string | undefined;
  let error: string | undefined;
  let r0: bigint | undefined;
  let stackTop = 0;
  try {
    engine = kind === "interp" ? new Interpreter(c.code, env) : new JitEngine(c.code, env);
    stackTop = (engine as Interpreter | JitEngine).frameTop;
    engine.run(buf, c.buffer.length);
    r0 = engine.lastR0();
  } catch (e) {
    if (e instanceof ProgramFault) fault = e.message;
    else error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const out: Outcome = {
    fault, error, r0,
    executed: c.checked && engine ? engine.executed : undefined,
    buffer: space.read(buf, c.buffer.length),
    stack: stackTop ? space.read(stackTop - 4096, 4096) : new Uint8Array(),
  };
  engine?.dispose();
  return out;
}

const eqBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Differences between the two engines' outcomes, or [] when they agree. */
export function compareOutcomes(a: Outcome, b: Outcome): string[] {
  const diffs: string[] = [];
  if (a.error !== b.error) diffs.push(`error: interp ${a.error} / jit ${b.error}`);
  if (a.fault !== b.fault) diffs.push(`fault: interp ${a.fault} / jit ${b.fault}`);
  if (a.r0 !== b.r0) diffs.push(`r0: interp ${a.r0?.toString(16)} / jit ${b.r0?.toString(16)}`);
  if (a.executed !== b.executed && a.fault === undefined && b.fault === undefined) {
    diffs.push(`executed: interp ${a.executed} / jit ${b.executed}`);
  }
  if (!eqBytes(a.buffer, b.buffer)) diffs.push("buffer contents differ");
  if (!eqBytes(a.stack, b.stack)) diffs.push("stack contents differ");
  return diffs;
}

/** One differential case from a seed: program, input, mode and budget all derived from it. */
export function caseFromSeed(seed: number): DiffCase {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const checked = rng.chance(0.5);
  const wild = checked && rng.chance(0.5);
  const tailCalls = rng.chance(0.2);
  const p = randomProgram(seed, { insns: 10 + rng.int(60), wild, tailCalls });
  const buffer = new Uint8Array(p.bufLen);
  for (let i = 0; i < buffer.length; i++) buffer[i] = rng.u32() & 0xff;
  const targets = tailCalls
    ? [randomProgram(seed + 1, { insns: 10, wild, bufLen: p.bufLen, tailCalls: true }).code,
       randomProgram(seed + 2, { insns: 20, wild, bufLen: p.bufLen }).code]
    : undefined;
  const budget = checked && rng.chance(0.3) ? 1 + rng.int(400) : undefined;
  // Unchecked runs on a shared memory compile BPF atomics to wasm atomics.
  const shared = !checked && rng.chance(0.25);
  return { code: p.code, buffer, checked, budget, targets, shared };
}

/** Runs the seed's case on both engines; returns the differences (empty when they agree). */
export function diffSeed(seed: number): string[] {
  const c = caseFromSeed(seed);
  return compareOutcomes(runOn("interp", c), runOn("jit", c));
}
