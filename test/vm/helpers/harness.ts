/**
 * A minimal vm runtime for helper tests: one address space, maps, the helper
 * registry (defaultHelpers), an interpreter per program, and a VmServices with
 * a run-state stack. Programs run either checked (unverified: every access and
 * helper pointer checked) or unchecked (as a verified program would).
 *
 * Programs are instruction lists whose map references are LD_IMM64 with
 * src BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE and imm = an index into the
 * program's map list (`map[id:N]` in pseudo-C assembly, `ldMap(b, reg, N)` with
 * the builder); `link` resolves them to this runtime's addresses, and the
 * kernel side (kdiff.ts) to fds.
 */
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { Register, ProgramBuilder } from "../../../src/isa/builder.js";
import type { Instruction } from "../../../src/isa/instruction.js";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "../../../src/isa/opcodes.js";
import { DEFAULT_BUDGET, type Engine, type EngineEnv } from "../../../src/vm/engine.js";
import { type EngineKind, createEngine } from "../../../src/vm/engines.js";
import { HelperRegistry } from "../../../src/vm/helpers/abi.js";
import { defaultHelpers } from "../../../src/vm/helpers/index.js";
import { type HostEnv, HOST_HZ } from "../../../src/vm/host.js";
import { Interpreter } from "../../../src/vm/interp/interpreter.js";
import { ArrayMap } from "../../../src/vm/maps/array.js";
import { createMap } from "../../../src/vm/maps/create.js";
import { type BpfMap, type MapAttrs, mapAt } from "../../../src/vm/maps/map.js";
import { AddressSpace } from "../../../src/vm/memory.js";
import type { ProgTypeRunState, RunState, RunningProgram, VmServices } from "../../../src/vm/runtime/services.js";
import { TracePipe } from "../../../src/vm/runtime/trace-pipe.js";

/** A program: instructions plus where its subprograms start (slots), for the kernel's BTF func_info. */
export interface Prog {
  readonly insns: readonly Instruction[];
  readonly subprogs?: readonly number[];
}

/** A host with fixed clocks and task, advanced by hand. */
export class FixedHost implements HostEnv {
  mono = 5_123_456_789;
  boot = 6_000_000_000;
  tai = 1_700_000_000_000_000_000;
  rand = 0x12345678;
  task = { pid: 4242, tgid: 4240, uid: 1000, gid: 100, comm: "vmtest" };
  numaNode = 0;
  callStack?: (kind: "kernel" | "user") => readonly bigint[];
  cgroupIds?: readonly bigint[];
  sendSignal?: (sig: number, scope: "process" | "thread") => number;
  monotonicNs(): number {
    return this.mono;
  }
  bootNs(): number {
    return this.boot;
  }
  coarseNs(): number {
    return Math.floor(this.mono / 4_000_000) * 4_000_000;
  }
  taiNs(): number {
    return this.tai;
  }
  jiffies(): number {
    return Math.floor((this.mono * HOST_HZ) / 1e9);
  }
  randomU32(): number {
    // xorshift32: deterministic and different every call.
    let x = this.rand;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rand = x >>> 0;
    return this.rand;
  }
  advance(ns: number): void {
    this.mono += ns;
    this.boot += ns;
    this.tai += ns;
  }
}

export interface LoadOptions {
  /** Run checked (unverified). Default true: tests exercise the pointer checks. */
  readonly checked?: boolean;
  readonly maps?: readonly BpfMap[];
  readonly progType?: number;
  readonly name?: string;
  /** The engine (default: the interpreter). */
  readonly engine?: EngineKind;
}

export interface RunOpts {
  readonly ctx?: number;
  readonly cpu?: number;
  readonly typeState?: ProgTypeRunState;
  readonly cookie?: bigint;
  readonly funcIp?: number;
}

export class HarnessProgram implements RunningProgram {
  readonly id: number;
  readonly progType: number;
  readonly attachType = 0;
  readonly gplCompatible = true;
  constructor(
    readonly name: string,
    readonly engine: Engine,
    readonly env: EngineEnv,
    readonly checked: boolean,
    progType: number,
    id: number,
  ) {
    this.progType = progType;
    this.id = id;
  }
}

/** The map value address a BPF_PSEUDO_MAP_VALUE reference resolves to (single-element arrays). */
function valueAddr(map: BpfMap, off: number): number {
  if (!(map instanceof ArrayMap) || map.maxEntries !== 1) throw new Error(`map ${map.name}: direct value access needs a 1-entry array`);
  return map.base + off;
}

/** Resolves map references for the vm. */
export function linkVm(prog: Prog, maps: readonly BpfMap[]): Bytecode {
  const out = prog.insns.map((i) => {
    if (i.kind !== "ld_imm64") return i;
    if (i.pseudo === BPF_PSEUDO_MAP_FD) return { ...i, lo: maps[i.lo].addr, hi: 0 };
    if (i.pseudo === BPF_PSEUDO_MAP_VALUE) return { ...i, lo: valueAddr(maps[i.lo], i.hi), hi: 0 };
    return i;
  });
  return Bytecode.fromInstructions(out);
}

/** dst = map N (BPF_PSEUDO_MAP_FD with the map's index). */
export function ldMap(b: ProgramBuilder, dst: Register, index: number): ProgramBuilder {
  return b.raw({ kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_FD, lo: index, hi: 0 });
}

/** dst = &value of map N + off (BPF_PSEUDO_MAP_VALUE; the map must be a 1-entry array). */
export function ldMapValue(b: ProgramBuilder, dst: Register, index: number, off = 0): ProgramBuilder {
  return b.raw({ kind: "ld_imm64", dst: dst.n, pseudo: BPF_PSEUDO_MAP_VALUE, lo: index, hi: off });
}

export class Harness implements VmServices {
  readonly space = new AddressSpace();
  readonly tracePipe = new TracePipe();
  readonly helpers: HelperRegistry;
  readonly ncpus: number;
  /** A zeroed 64-byte context (what a raw_tp test run's ctx looks like to these programs). */
  readonly ctx: number;
  private readonly runs: RunState[] = [];
  private nextId = 1;

  constructor(readonly host: HostEnv = new FixedHost(), ncpus = 2) {
    this.ncpus = ncpus;
    this.helpers = new HelperRegistry(defaultHelpers(this));
    this.ctx = this.space.alloc(64, 8);
    this.space.mapRegion(this.ctx, 64, "ctx", true, "ctx");
  }

  mapAt(addr: number): BpfMap | undefined {
    return mapAt(this.space, addr);
  }

  current(): RunState {
    const r = this.runs[this.runs.length - 1];
    if (!r) throw new Error("no program is running");
    return r;
  }

  checkMem(addr: number, len: number, write: boolean, pc: number): void {
    if (this.runs[this.runs.length - 1]?.program.checked) this.space.checkAccess(addr, 0, len, write, pc);
  }

  withRun<T>(run: RunState, fn: () => T): T {
    this.runs.push(run);
    try {
      return fn();
    } finally {
      this.runs.pop();
    }
  }

  createMap(attrs: MapAttrs): BpfMap {
    return createMap(this.space, attrs, { ncpus: this.ncpus, hashSeed: 0 });
  }

  load(prog: Prog | Bytecode, opts: LoadOptions = {}): HarnessProgram {
    const code = prog instanceof Bytecode ? prog : linkVm(prog, opts.maps ?? []);
    const checked = opts.checked ?? true;
    const env: EngineEnv = { space: this.space, helpers: this.helpers, checked, budget: DEFAULT_BUDGET, cpu: 0 };
    const engine = opts.engine ? createEngine(opts.engine, code, env) : new Interpreter(code, env);
    return new HarnessProgram(opts.name ?? "test", engine, env, checked, opts.progType ?? 17, this.nextId++);
  }

  /** Runs once; returns r0 (all 64 bits). */
  run(prog: HarnessProgram, opts: RunOpts = {}): bigint {
    const cpu = opts.cpu ?? 0;
    prog.env.cpu = cpu;
    const cookie = opts.cookie ?? 0n;
    const state: RunState = {
      program: prog, cpu, ctx: opts.ctx ?? this.ctx,
      ...(opts.typeState ? { typeState: opts.typeState } : {}),
      attachCookieLo: Number(cookie & 0xffffffffn), attachCookieHi: Number(cookie >> 32n),
      ...(opts.funcIp !== undefined ? { funcIp: opts.funcIp } : {}),
    };
    this.runs.push(state);
    try {
      prog.engine.run(state.ctx);
      return prog.engine.lastR0();
    } finally {
      this.runs.pop();
    }
  }

  /** Runs once and returns r0 as a signed 64-bit value. */
  runSigned(prog: HarnessProgram, opts: RunOpts = {}): bigint {
    return BigInt.asIntN(64, this.run(prog, opts));
  }
}

/** Little-endian helpers for reading results out of map values. */
export function u64At(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}
export function s64At(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(off, true);
}
export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
export function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}
