/**
 * The JIT engine: compiles a program to WebAssembly (codegen.ts), links it to
 * the address space's memory and to the helper, tail-call, packet and
 * region-check imports, and runs it with the same contract and the same faults
 * as the reference interpreter.
 *
 * Nothing 64-bit crosses the JS boundary as BigInt: registers pass through the
 * guard-page areas of the memory (layout.ts), imports take i32 arguments.
 */
import { InvalidInstructionError, NotSupportedError, ProgramFault } from "../../errors.js";
import type { Bytecode } from "../../isa/bytecode.js";
import { MAX_BPF_STACK, MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT, OP_LD_IMM64 } from "../../isa/opcodes.js";
import type { Engine, EngineEnv } from "../engine.js";
import { CALL_AREA, type Execution, HelperCall } from "../helpers/abi.js";
import type { Region } from "../memory.js";
import { legacyPacketAddress } from "../progtypes/runtime/ldabs.js";
import { type CompiledProgram, IMPORT, type InlineHelper, type InlineHook, compileProgram, planInlining } from "./codegen.js";
import { CALLBACK_AREA, Fault, JIT_BUDGET, JIT_REGS } from "./layout.js";
import { ARG_REGS } from "./liveness.js";

const TWO32 = 4294967296;

export interface JitOptions {
  /**
   * Per helper call site, an inline replacement (e.g. an array-map lookup with
   * the map's value base, stride and max_entries). Used for unchecked programs.
   */
  readonly inlineHelper?: InlineHook;
}

/**
 * The program is beyond what V8 compiles (a function body over 7,654,321 bytes,
 * about 800k simple instructions in one BPF function). createEngine falls back
 * to the interpreter, as the kernel does when its JIT fails without
 * CONFIG_BPF_JIT_ALWAYS_ON.
 */
export class JitLimitError extends NotSupportedError {}

/** Thrown through wasm frames when LD_ABS / LD_IND reads outside the packet: the run returns 0. */
const PACKET_ABORT: unique symbol = Symbol("packet load outside the packet");

interface Instance {
  readonly code: Bytecode;
  readonly compiled: CompiledProgram;
  entry: (fp: number) => number;
  /** The `repeat` export, when the module has one. */
  repeat: ((fp: number, ctx: number, n: number) => number) | undefined;
  cb: (index: number, fp: number) => void;
  caches?: { rdS: WebAssembly.Global; rdE: WebAssembly.Global; wrS: WebAssembly.Global; wrE: WebAssembly.Global };
}

const moduleCache = new WeakMap<Bytecode, Map<string, CompiledProgram>>();

/**
 * Compiles `code` or returns the module compiled before for the same bytecode
 * object and options (tail-call targets and repeated loads share it).
 */
export function compileCached(
  code: Bytecode, checked: boolean, shared: boolean, maxPages: number, inline?: InlineHook,
): CompiledProgram {
  return compilePlanned(code, checked, shared, maxPages, inline).compiled;
}

/** compileCached, with the inlining plan the module was compiled for (direct helpers' functions included). */
function compilePlanned(
  code: Bytecode, checked: boolean, shared: boolean, maxPages: number, inline?: InlineHook,
): { compiled: CompiledProgram; sites: ReadonlyMap<number, InlineHelper> } {
  const sites = inline && !checked ? planInlining(code, inline) : new Map<number, InlineHelper>();
  // Direct helpers' functions are bound per instance: the key holds their signatures only.
  const key = `${checked ? 1 : 0}${shared ? 1 : 0}:${shared ? maxPages : 0}:${sites.size ? JSON.stringify([...sites]) : ""}`;
  let byKey = moduleCache.get(code);
  if (!byKey) moduleCache.set(code, (byKey = new Map()));
  let compiled = byKey.get(key);
  if (!compiled) {
    compiled = compileProgram(code, { checked, shared, maxPages, inlineSites: sites });
    byKey.set(key, compiled);
  }
  return { compiled, sites };
}

const isShared = (buf: ArrayBuffer): boolean =>
  typeof SharedArrayBuffer !== "undefined" && (buf as unknown) instanceof SharedArrayBuffer;

function fn<T>(v: WebAssembly.ExportValue | undefined): T {
  if (typeof v !== "function") throw new Error("jit: module export missing (internal error)");
  return v as unknown as T;
}

function glob(v: WebAssembly.ExportValue | undefined): WebAssembly.Global {
  if (!(v instanceof WebAssembly.Global)) throw new Error("jit: module global missing (internal error)");
  return v;
}

export class JitEngine implements Engine, Execution {
  private readonly stackRegion: Region;
  private readonly stackBase: number;
  private readonly stackTop: number;
  private readonly call: HelperCall;
  private readonly main: Instance;
  private readonly targets = new Map<Bytecode, Instance>();
  private readonly shared: boolean;
  /** The instance whose code is running (tail calls switch it) and its frame at the last helper call. */
  private current: Instance;
  private fp: number;
  private tailCalls = 0;
  private steps = 0;
  private budgetFault = false;
  private r0lo = 0;
  private r0hi = 0;
  private ctxAddr = 0;
  private disposed = false;

  constructor(
    private readonly program: Bytecode,
    private readonly env: EngineEnv,
    private readonly options: JitOptions = {},
  ) {
    validate(program);
    const size = MAX_CALL_FRAMES * MAX_BPF_STACK;
    this.stackBase = env.space.alloc(size, 16);
    this.stackTop = this.stackBase + size;
    this.stackRegion = env.space.mapRegion(this.stackBase, size, "stack", true, "stack");
    this.call = new HelperCall(env.space);
    this.shared = isShared(env.space.memory.buffer);
    this.fp = this.stackTop;
    try {
      this.main = this.instantiate(program);
    } catch (e) {
      this.dispose();
      // Only V8's size limits fall back; any other CompileError is a JIT bug and must show.
      if (e instanceof WebAssembly.CompileError && /maximum|too (large|many)|exceeds/i.test(e.message)) {
        throw new JitLimitError("jit compilation", e.message);
      }
      throw e;
    }
    this.current = this.main;
  }

  get cpu(): number {
    return this.env.cpu;
  }

  get ctx(): number {
    return this.ctxAddr;
  }

  /** Instructions the last run executed: exact in checked mode; not counted (0) in unchecked mode. */
  get executed(): number {
    return this.env.checked ? this.steps : 0;
  }

  /** Address of the top of frame 0's stack (r10 at entry). */
  get frameTop(): number {
    return this.stackTop;
  }

  /** The compiled form of the program (for `prog dump jited` and tests). */
  get compiled(): CompiledProgram {
    return this.main.compiled;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.env.space.unmapRegion(this.stackRegion);
    this.env.space.free(this.stackBase);
  }

  lastR0(): bigint {
    return (BigInt(this.r0hi >>> 0) << 32n) | BigInt(this.r0lo >>> 0);
  }

  run(r1: number, r2 = 0, r3 = 0, r4 = 0, r5 = 0): number {
    const main = this.main;
    const p = main.compiled.entryParams;
    // The common case (one u32 argument, an entry reading at most r1) inline; the
    // rest apart, so that this stays small enough for V8 to inline into callers.
    if (r1 >>> 0 === r1 && r2 === 0 && r3 === 0 && r4 === 0 && r5 === 0 && (p & ~0b10) === 0) {
      if (p !== 0) {
        const u32 = this.env.space.u32;
        u32[(JIT_REGS >> 2) + 2] = r1;
        u32[(JIT_REGS >> 2) + 3] = 0;
      }
    } else {
      this.setRegs(p, r1, r2, r3, r4, r5);
    }
    this.ctxAddr = r1;
    this.tailCalls = 0;
    this.fp = this.stackTop;
    this.current = main;
    if (this.env.checked) return this.runChecked(main);
    let ret: number;
    try {
      ret = main.entry(this.stackTop);
    } catch (e) {
      return this.caught(e);
    }
    this.r0lo = ret;
    this.r0hi = this.env.space.u32[(JIT_REGS >> 2) + 1];
    return ret >>> 0;
  }

  /** run()'s registers in general: r1..r5 as given (unsigned, below 2^53), what else the entry reads 0. */
  private setRegs(p: number, r1: number, r2: number, r3: number, r4: number, r5: number): void {
    if (!(r1 >>> 0 === r1 && r2 >>> 0 === r2 && r3 >>> 0 === r3 && r4 >>> 0 === r4 && r5 >>> 0 === r5)) {
      checkArg(1, r1);
      checkArg(2, r2);
      checkArg(3, r3);
      checkArg(4, r4);
      checkArg(5, r5);
    }
    const u32 = this.env.space.u32;
    const base = JIT_REGS >> 2;
    // The entry reads only the registers it uses; r0 and r6..r9 start at 0 as in the interpreter.
    if ((p & ~ARG_REGS) !== 0) u32.fill(0, base, base + 20);
    if (p & 0b10) setWords(u32, base + 2, r1);
    if (p & 0b100) setWords(u32, base + 4, r2);
    if (p & 0b1000) setWords(u32, base + 6, r3);
    if (p & 0b10000) setWords(u32, base + 8, r4);
    if (p & 0b100000) setWords(u32, base + 10, r5);
  }

  /** An unchecked run threw: LD_ABS outside the packet ends it with r0 = 0; anything else goes on as a fault. */
  private caught(e: unknown): number {
    if (e !== PACKET_ABORT) throw this.translate(e);
    this.r0lo = 0;
    this.r0hi = 0;
    return 0;
  }

  /**
   * `n` runs (n >= 1) with r1 as given and r2..r5 = 0: exactly `n` calls of
   * run(r1), returning the last one's result. Verified programs that need
   * nothing from the engine between runs loop inside the module (a test run's
   * repeat, without a JavaScript round trip per run).
   */
  runRepeat(r1: number, n: number): number {
    const main = this.main;
    const repeat = main.repeat;
    if (repeat === undefined || r1 >>> 0 !== r1 || this.env.checked) {
      let ret = 0;
      for (let i = 0; i < n; i++) ret = this.run(r1);
      return ret;
    }
    this.ctxAddr = r1;
    this.tailCalls = 0;
    this.fp = this.stackTop;
    this.current = main;
    let ret: number;
    try {
      ret = repeat(this.stackTop, r1, n);
    } catch (e) {
      throw this.translate(e);
    }
    this.r0lo = ret;
    this.r0hi = this.env.space.u32[(JIT_REGS >> 2) + 1];
    return ret >>> 0;
  }

  /** A checked run: the budget set up (and a nested run's restored), steps counted. */
  private runChecked(main: Instance): number {
    const space = this.env.space;
    let u32 = space.u32;
    const base = JIT_REGS >> 2;
    const bb = JIT_BUDGET >> 2;
    // Nested runs (a helper running another program) get their own budget; restore ours after.
    const savedLo = u32[bb];
    const savedHi = u32[bb + 1];
    const limit = Math.min(this.env.budget, Number.MAX_SAFE_INTEGER);
    setWords(u32, bb, limit);
    this.budgetFault = false;
    let ret: number;
    try {
      ret = main.entry(this.stackTop);
      u32 = space.u32;
      this.r0lo = ret;
      this.r0hi = u32[base + 1];
    } catch (e) {
      if (e !== PACKET_ABORT) throw this.translate(e);
      ret = 0;
      this.r0lo = 0;
      this.r0hi = 0;
    } finally {
      u32 = space.u32;
      if (!this.budgetFault) this.steps = limit - (u32[bb] + u32[bb + 1] * TWO32);
      u32[bb] = savedLo;
      u32[bb + 1] = savedHi;
    }
    return ret >>> 0;
  }

  invokeCallback(fnPc: number, r1: number, r2: number, r3: number, r4: number, r5: number): number {
    const inst = this.current;
    const depth = (this.stackTop - this.fp) / MAX_BPF_STACK + 1;
    if (depth >= MAX_CALL_FRAMES) throw new ProgramFault(this.call.pc, "callback exceeds the call depth limit");
    if (!Number.isInteger(fnPc) || fnPc < 0 || fnPc >= inst.code.length) {
      throw new ProgramFault(this.call.pc, `callback target ${fnPc} is not an instruction`);
    }
    const index = inst.compiled.callbackIndex.get(fnPc);
    if (index === undefined) {
      throw new ProgramFault(this.call.pc, `callback target ${fnPc} is not a subprogram the program loads with BPF_PSEUDO_FUNC`);
    }
    checkArg(1, r1);
    checkArg(2, r2);
    checkArg(3, r3);
    checkArg(4, r4);
    checkArg(5, r5);
    const space = this.env.space;
    let u32 = space.u32;
    const cba = CALLBACK_AREA >> 2;
    setWords(u32, cba + 2, r1);
    setWords(u32, cba + 4, r2);
    setWords(u32, cba + 6, r3);
    setWords(u32, cba + 8, r4);
    setWords(u32, cba + 10, r5);
    // A callback sees r0 / r6..r9 as they were at the helper call, every time it is invoked.
    const spill = inst.compiled.cbSpill !== 0 ? u32.slice(JIT_REGS >> 2, (JIT_REGS >> 2) + 20) : undefined;
    const savedFp = this.fp;
    try {
      inst.cb(index, savedFp - MAX_BPF_STACK);
      u32 = space.u32;
      return (u32[cba + 1] >>> 0) * TWO32 + (u32[cba] >>> 0);
    } finally {
      this.fp = savedFp;
      this.current = inst;
      if (spill) space.u32.set(spill, JIT_REGS >> 2);
    }
  }

  /** A wasm trap (never expected: checked code checks first) as a ProgramFault. */
  private translate(e: unknown): unknown {
    if (e instanceof WebAssembly.RuntimeError) {
      return new ProgramFault(this.trapPc(e), `WebAssembly trap: ${e.message}`);
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return new ProgramFault(this.trapPc(e), "host stack exhausted");
    }
    return e;
  }

  /**
   * The instruction a trap happened in, from V8's stack trace: the innermost wasm
   * frame gives a module offset, as `wasm-function[i]:0xOFF` or, for named
   * functions, `wasm://wasm/<hash>:1:<offset + 1>`. -1 when unknown.
   */
  private trapPc(e: Error): number {
    const stack = e.stack ?? "";
    const map = this.current.compiled.pcMap;
    const m = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/.exec(stack);
    if (m) return map.lookup(Number(m[1]), parseInt(m[2], 16)) ?? -1;
    const n = /wasm:\/\/wasm\/[^:\s)]+:\d+:(\d+)/.exec(stack);
    if (n) return map.lookupOffset(Number(n[1]) - 1) ?? -1;
    return -1;
  }

  private instanceFor(code: Bytecode): Instance {
    if (code === this.program) return this.main;
    let inst = this.targets.get(code);
    if (!inst) {
      validate(code);
      inst = this.instantiate(code);
      this.targets.set(code, inst);
    }
    return inst;
  }

  private instantiate(code: Bytecode): Instance {
    const { env } = this;
    const space = env.space;
    const own = this.options.inlineHelper;
    // The caller's hook first, then the helpers' own direct forms.
    const hook: InlineHook = (site) => own?.(site) ?? this.directHelper(site.helperId, site.pc, site.r1);
    const { compiled, sites } = compilePlanned(code, env.checked, this.shared, space.maxPages, hook);
    const inst: Instance = {
      code, compiled,
      entry: () => 0,
      repeat: undefined,
      cb: () => undefined,
    };
    const jit: WebAssembly.ModuleImports = {
      stack_lo: this.stackBase,
      stack_hi: this.stackTop,
      [IMPORT.fault]: (kind: number, pc: number, arg: number): never => {
        throw this.fault(inst, kind, pc, arg);
      },
    };
    for (const id of compiled.helperIds) jit[IMPORT.helper(id)] = this.helperImport(inst, id);
    for (const [pc, how] of sites) if (how.kind === "direct") jit[IMPORT.direct(pc)] = how.fn;
    jit[IMPORT.callx] = (id: number, pc: number, fp: number): void => {
      const def = env.helpers.get(id);
      if (!def) throw new ProgramFault(pc, `call to unknown helper ${id}`);
      this.enterHelper(inst, pc, fp);
      def.fn(this.call);
    };
    jit[IMPORT.tail] = (pc: number, fp: number): number => this.tailCall(pc, fp);
    jit[IMPORT.ldpkt] = (ctx: number, off: number, size: number, pc: number): number => {
      const bounds = env.packetBounds?.(ctx >>> 0);
      if (!bounds) throw new ProgramFault(pc, "LD_ABS/LD_IND needs a packet context in r6");
      const addr = legacyPacketAddress(bounds, off, size);
      if (addr < 0) throw PACKET_ABORT;
      const dv = space.dv;
      return size === 4 ? dv.getInt32(addr, false) : size === 2 ? dv.getUint16(addr, false) : dv.getUint8(addr);
    };
    jit[IMPORT.check] = (lo: number, hi: number, len: number, write: number, pc: number): void => {
      const addr = lo >>> 0;
      space.checkAccess(addr, hi, len, write !== 0, pc);
      const r = space.regionOf(addr, len);
      const c = inst.caches;
      if (!r || !c) return;
      // An end of 2^32 does not fit the i32 cache: keep the last bytes on the slow path.
      const end = Math.min(r.end, 0xffffffff);
      if (write !== 0) {
        c.wrS.value = r.start;
        c.wrE.value = end;
      } else {
        c.rdS.value = r.start;
        c.rdE.value = end;
      }
    };
    const instance = new WebAssembly.Instance(compiled.module, { env: { memory: space.memory }, jit });
    const ex = instance.exports;
    inst.entry = fn<(fp: number) => number>(ex.entry);
    if (compiled.hasRepeat) inst.repeat = fn<(fp: number, ctx: number, n: number) => number>(ex.repeat);
    inst.cb = fn<(index: number, fp: number) => void>(ex.cb);
    if (compiled.checked) {
      inst.caches = { rdS: glob(ex.rdS), rdE: glob(ex.rdE), wrS: glob(ex.wrS), wrE: glob(ex.wrE) };
    }
    return inst;
  }

  /** The registry helper's direct form for a call site, if it offers one. */
  private directHelper(id: number, pc: number, r1: { lo: number; hi: number } | undefined): InlineHelper | undefined {
    const d = this.env.helpers.get(id)?.direct?.(r1 ? { pc, r1 } : { pc }, this);
    return d ? { kind: "direct", ...d } : undefined;
  }

  private enterHelper(inst: Instance, pc: number, fp: number): void {
    this.fp = fp;
    this.current = inst;
    const u32 = this.env.space.u32;
    // r0 reads 0 unless the helper sets it, as in the interpreter.
    u32[CALL_AREA >> 2] = 0;
    u32[(CALL_AREA >> 2) + 1] = 0;
    const call = this.call;
    call.pc = pc;
    call.exec = this;
  }

  private helperImport(inst: Instance, id: number): (pc: number, fp: number) => void {
    const helpers = this.env.helpers;
    let def = helpers.get(id);
    return (pc: number, fp: number): void => {
      const d = def ?? (def = helpers.get(id));
      if (!d) throw new ProgramFault(pc, `call to unknown helper ${id}`);
      this.enterHelper(inst, pc, fp);
      d.fn(this.call);
    };
  }

  /** bpf_tail_call: runs the target in this frame; 1 if it ran (r0 in JIT_REGS), 0 to fall through. */
  private tailCall(pc: number, fp: number): number {
    const { env } = this;
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return 0;
    const u32 = env.space.u32;
    const b = JIT_REGS >> 2;
    if (u32[b + 5] !== 0 && env.checked) throw new ProgramFault(pc, "tail call map argument is not a map");
    // The index is a u32 (the kernel compares it as u32 against max_entries).
    const target = env.tailCallTarget?.(u32[b + 4], u32[b + 6]);
    if (!target) return 0;
    this.tailCalls++;
    const inst = this.instanceFor(target.code);
    const saved = this.current;
    this.current = inst;
    try {
      inst.entry(fp);
    } finally {
      this.current = saved;
    }
    return 1;
  }

  private fault(inst: Instance, kind: number, pc: number, arg: number): ProgramFault {
    switch (kind) {
      case Fault.fellOff:
        return new ProgramFault(pc, "execution fell off the end of the program");
      case Fault.jumpOutside:
        return new ProgramFault(pc, `jump to ${arg} is outside the program (${inst.code.length} instructions)`);
      case Fault.invalidOpcode:
        return new ProgramFault(pc, `invalid opcode 0x${(arg & 0xff).toString(16).padStart(2, "0")}`);
      case Fault.kfunc:
        return new ProgramFault(pc, "kfunc calls are not available in the vm");
      case Fault.callDepth:
        return new ProgramFault(pc, `call depth exceeds ${MAX_CALL_FRAMES} frames`);
      case Fault.atomicSize: {
        const op = inst.code.opcode[pc];
        return new ProgramFault(pc, `atomic operation 0x${arg.toString(16)} on ${op === 0xcb ? 2 : 1} bytes`);
      }
      case Fault.atomicOp:
        return new ProgramFault(pc, `invalid atomic operation 0x${(arg >>> 0).toString(16)}`);
      case Fault.budget:
      case Fault.budgetInBlock: {
        let at = pc;
        if (kind === Fault.budgetInBlock) {
          for (let k = 0; k < arg; k++) at += inst.code.opcode[at] === OP_LD_IMM64 ? 2 : 1;
        }
        this.budgetFault = true;
        this.steps = this.env.budget + 1;
        return new ProgramFault(at, `instruction budget of ${this.env.budget} exhausted`);
      }
      default:
        return new ProgramFault(pc, `fault ${kind}`);
    }
  }
}

/** Stores an unsigned number below 2^53 as two little-endian words. */
function setWords(u32: Uint32Array, at: number, v: number): void {
  u32[at] = v >>> 0;
  u32[at + 1] = v > 0xffffffff ? (v / TWO32) >>> 0 : 0;
}

function checkArg(r: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`register r${r} argument ${v} is not an unsigned integer below 2^53`);
  }
}

/** Rejects bytecode the interpreter would reject at construction (unknown opcodes, a cut LD_IMM64). */
function validate(code: Bytecode): void {
  for (let pc = 0; pc < code.length; pc++) {
    const insn = code.decode(pc);
    if (insn.kind === "ld_imm64") {
      if (pc + 1 >= code.length) throw new InvalidInstructionError(pc, OP_LD_IMM64, "LD_IMM64 needs a second slot");
      pc++;
    }
  }
}
