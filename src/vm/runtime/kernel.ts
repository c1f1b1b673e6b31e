/**
 * The vm kernel: one address space, its maps, programs, links and BTF objects,
 * and a command surface shaped like bpf(2) with the kernel's errno semantics
 * (kernel/bpf/syscall.c). File descriptors are this runtime's own numbers.
 */
import { BpfCommandError, type ErrnoName, NotSupportedError, VerifierError, errnoName } from "../../errors.js";
import { Bytecode } from "../../isa/bytecode.js";
import {
  BPF_COMPLEXITY_LIMIT_INSNS, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE, OP_LD_IMM64,
} from "../../isa/opcodes.js";
import type { RunOptions, RunResult } from "../../api/types.js";
import { DEFAULT_BUDGET, type EngineEnv } from "../engine.js";
import { type EngineKind, createEngine } from "../engines.js";
import { HelperRegistry } from "../helpers/abi.js";
import { defaultHelpers } from "../helpers/index.js";
import { type HostEnv, realHost } from "../host.js";
import { ArrayMap } from "../maps/array.js";
import { tryCreateMap } from "../maps/create.js";
import { type BatchArgs, type BatchCmd, type BpfMap, type MapAttrs, mapAt } from "../maps/map.js";
import { ProgArrayMap } from "../maps/prog_array.js";
import { AddressSpace, type AddressSpaceOptions } from "../memory.js";
import { progTypeById } from "../progtypes/index.js";
import { progTypeRuntime } from "../progtypes/runtime/index.js";
import type { ProgTypeRunState } from "./services.js";
import { VmMapObject } from "./map-object.js";
import { type KernelObject, ObjectTable, type ObjectKind } from "./objects.js";
import { VmProgram } from "./program.js";
import type { RunState, RunningProgram, VmServices } from "./services.js";
import { programTag } from "./tag.js";
import { TracePipe } from "./trace-pipe.js";
import { VmBtfObject } from "./btf-object.js";
import { loadBtf } from "../../btf/load.js";
import { HookRegistry } from "../hooks/registry.js";
import { JitEngine } from "../jit/engine.js";
import { type ProgramVerifier, type VerifierMode, isGplCompatible } from "./verify.js";
import { vmVerifier } from "./verifier-adapter.js";

export interface VmKernelOptions {
  /** CPUs of the vm. Default 2. */
  readonly ncpus?: number;
  /** Clocks and the "current task". Default: the real host. */
  readonly host?: HostEnv;
  /** Engine for verified programs and unverified ones alike. */
  readonly engine?: EngineKind;
  /** Verifier mode for loads that don't choose. Default strict. */
  readonly verifierMode?: VerifierMode;
  /** The verifier; without one only `off` loads work. */
  readonly verifier?: ProgramVerifier;
  readonly memory?: AddressSpaceOptions;
  /** Instructions one unverified run may execute. */
  readonly budget?: number;
}

/** BPF_PROG_LOAD attributes the vm understands. */
export interface ProgLoadAttrs {
  readonly progType: number;
  readonly expectedAttachType?: number;
  readonly insns: Bytecode;
  readonly license: string;
  readonly name?: string;
  /** fd_array for BPF_PSEUDO_MAP_IDX(_VALUE) references. */
  readonly fdArray?: readonly number[];
  /** 0, 1 or 2 (the kernel's log_level without BPF_LOG_STATS). */
  readonly logLevel?: number;
  readonly verifierMode?: VerifierMode;
  /** BTF for func/line info in the log (parsed by the loader). */
  readonly debugInfo?: unknown;
  /** prog_btf_fd: the program's BTF object (info reports its id; the program holds it). */
  readonly btfFd?: number;
}

export interface ProgLoadResult {
  readonly fd: number;
  readonly log: string;
}

const fail = (code: ErrnoName, what: string): never => {
  throw new BpfCommandError(code, what);
};

/** Turns a map's 0 / -errno into a BpfCommandError. */
function check(rc: number, what: string): void {
  if (rc < 0) throw new BpfCommandError(errnoName(rc), what);
}

export class VmKernel implements VmServices {
  readonly space: AddressSpace;
  readonly host: HostEnv;
  readonly ncpus: number;
  readonly tracePipe = new TracePipe();
  readonly objects = new ObjectTable();
  readonly helpers: HelperRegistry;
  /** The vm's attach points: what the host fires in place of kernel events. */
  readonly hooks: HookRegistry;
  readonly engineKind: EngineKind;
  readonly verifierMode: VerifierMode;
  private readonly verifier?: ProgramVerifier;
  private readonly budget: number;
  /**
   * Runs in progress, innermost last. Frames are reused across runs (a run is
   * the hot path of a test run with repeat), so nothing is allocated per run.
   */
  private readonly frames: RunFrame[] = [];
  private depth = 0;
  /** The CPU user-space-triggered runs execute on. */
  cpu = 0;

  constructor(options: VmKernelOptions = {}) {
    this.space = new AddressSpace(options.memory);
    this.host = options.host ?? realHost();
    this.ncpus = options.ncpus ?? 2;
    this.engineKind = options.engine ?? "jit";
    this.verifierMode = options.verifierMode ?? "strict";
    this.verifier = options.verifier ?? vmVerifier();
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.helpers = new HelperRegistry(defaultHelpers(this));
    this.hooks = new HookRegistry(this);
  }

  // ---------------- VmServices ----------------

  mapAt(addr: number): BpfMap | undefined {
    return mapAt(this.space, addr);
  }

  current(): RunState {
    if (this.depth === 0) throw new Error("no program is running");
    return this.frames[this.depth - 1];
  }

  checkMem(addr: number, len: number, write: boolean, pc: number): void {
    // A zero-length range touches nothing (NULL with size 0 is a valid helper argument).
    if (len > 0 && this.depth > 0 && this.frames[this.depth - 1].program.checked) this.space.checkAccess(addr, 0, len, write, pc);
  }

  withRun<T>(run: RunState, fn: () => T): T {
    const f = this.enter(run.program, run.cpu, run.ctx, run.typeState);
    f.attachCookieLo = run.attachCookieLo;
    f.attachCookieHi = run.attachCookieHi;
    f.funcIp = run.funcIp;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  // ---------------- objects ----------------

  close(fd: number): void {
    this.objects.close(fd);
  }

  mapObject(fd: number, op: string): VmMapObject {
    return this.objects.fromFd(fd, "map", op) as unknown as VmMapObject;
  }

  program(fd: number, op: string): VmProgram {
    return this.objects.fromFd(fd, "prog", op) as unknown as VmProgram;
  }

  objPin(fd: number, path: string): void {
    this.objects.pin(fd, path);
  }

  objGet(path: string): number {
    return this.objects.getPinned(path);
  }

  getNextId(kind: ObjectKind, start: number): number {
    return this.objects.nextId(kind, start) ?? fail("ENOENT", `${kind} get next id after ${start}`);
  }

  getFdById(kind: ObjectKind, id: number): number {
    const obj: KernelObject | undefined = this.objects.byId(kind, id);
    if (!obj) fail("ENOENT", `${kind} get fd by id ${id}`);
    return this.objects.newFd(obj!);
  }

  // ---------------- BTF and object info ----------------

  /**
   * BPF_BTF_LOAD: a raw BTF blob (as the kernel takes it; ELF files are the
   * loader's business). Malformed BTF is EINVAL, its reason in the message as
   * the kernel puts it in the log.
   */
  btfLoad(bytes: Uint8Array): number {
    let parsed;
    try {
      parsed = loadBtf(bytes);
    } catch (e) {
      throw new BpfCommandError("EINVAL", `btf load: ${(e as Error).message}`, { cause: e });
    }
    if (parsed.format !== "raw") throw new BpfCommandError("EINVAL", "btf load: not a raw BTF blob");
    return this.objects.register(new VmBtfObject(parsed.btf, bytes.slice()));
  }

  /** BPF_OBJ_GET_INFO_BY_FD, as plain objects (the kernel's bpf_*_info fields that mean something in the vm). */
  objGetInfo(fd: number): VmObjectInfo {
    const obj = this.objects.fromAny(fd, "obj get info");
    switch (obj.kind) {
      case "prog": {
        const p = obj as unknown as VmProgram;
        return {
          kind: "prog", id: p.id, type: p.progType, typeName: p.progTypeInfo.name, name: p.name, tag: p.tag,
          xlatedProgLen: p.xlated.length * 8, jited: p.engine instanceof JitEngine, mapIds: p.maps.map((m) => m.id),
          loadTime: p.loadTime, gplCompatible: p.gplCompatible, btfId: p.btfId, verifiedInsns: p.processedInsns,
          runCnt: p.runCount, runTimeNs: p.runTimeNs,
        };
      }
      case "map": {
        const { map } = obj as unknown as VmMapObject;
        return {
          kind: "map", id: obj.id, type: map.type, typeName: map.typeName, name: map.name, keySize: map.keySize,
          valueSize: map.valueSize, maxEntries: map.maxEntries, mapFlags: map.flags, frozen: map.frozen,
          btfKeyTypeId: map.btfKeyTypeId, btfValueTypeId: map.btfValueTypeId,
        };
      }
      case "btf": {
        const b = obj as unknown as VmBtfObject;
        return { kind: "btf", id: b.id, btfSize: b.bytes.length, name: b.name, kernelBtf: false };
      }
      case "link":
        return { kind: "link", id: obj.id };
    }
  }

  /** The bytes of a loaded BTF object (BTF_GET_INFO's btf buffer). */
  btfBytes(fd: number): Uint8Array {
    return (this.objects.fromFd(fd, "btf", "btf get info") as unknown as VmBtfObject).bytes.slice();
  }

  // ---------------- maps ----------------

  /** BPF_MAP_CREATE. Inner maps (map-in-map) come as inner_map_fd. */
  mapCreate(attrs: MapAttrs): number {
    const created = tryCreateMap(this.space, attrs, {
      ncpus: this.ncpus,
      resolver: {
        map: (fd) => this.tryFromFd(fd, "map")?.map,
        program: (fd) => this.tryFromFd(fd, "prog"),
      },
    });
    if (typeof created === "number") throw new BpfCommandError(errnoName(created), "map create");
    const obj = new VmMapObject(created);
    const fd = this.objects.register(obj);
    created.id = obj.id;
    return fd;
  }

  private tryFromFd(fd: number, kind: "map"): VmMapObject | undefined;
  private tryFromFd(fd: number, kind: "prog"): VmProgram | undefined;
  private tryFromFd(fd: number, kind: "map" | "prog"): VmMapObject | VmProgram | undefined {
    try {
      return kind === "map" ? this.mapObject(fd, "resolve") : this.program(fd, "resolve");
    } catch {
      return undefined;
    }
  }

  mapLookupElem(fd: number, key: Uint8Array | null, flags = 0): Uint8Array {
    const { map } = this.mapObject(fd, "map lookup");
    const value = new Uint8Array(map.userValueSize);
    check(map.sysLookup(key, value, flags), `map ${map.name || map.id} lookup`);
    return value;
  }

  mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    const { map } = this.mapObject(fd, "map update");
    if (value.length !== map.userValueSize) fail("EINVAL", `map ${map.name || map.id} update: value of ${value.length} bytes, expected ${map.userValueSize}`);
    if (key && key.length !== map.keySize) fail("EINVAL", `map ${map.name || map.id} update: key of ${key.length} bytes, expected ${map.keySize}`);
    check(map.sysUpdate(key, value, flags), `map ${map.name || map.id} update`);
  }

  mapDeleteElem(fd: number, key: Uint8Array | null): void {
    const { map } = this.mapObject(fd, "map delete");
    check(map.sysDelete(key), `map ${map.name || map.id} delete`);
  }

  mapGetNextKey(fd: number, key: Uint8Array | null): Uint8Array {
    const { map } = this.mapObject(fd, "map get next key");
    const next = new Uint8Array(map.keySize);
    check(map.sysGetNextKey(key, next), `map ${map.name || map.id} get next key`);
    return next;
  }

  mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, flags = 0): Uint8Array {
    const { map } = this.mapObject(fd, "map lookup and delete");
    const value = new Uint8Array(map.userValueSize);
    check(map.sysLookupAndDelete(key, value, flags), `map ${map.name || map.id} lookup and delete`);
    return value;
  }

  /** The BPF_MAP_*_BATCH commands; `args.count` is updated as the kernel writes it back. */
  mapBatch(fd: number, cmd: BatchCmd, args: BatchArgs): void {
    const { map } = this.mapObject(fd, `map ${cmd} batch`);
    check(map.sysBatch(cmd, args), `map ${map.name || map.id} ${cmd} batch`);
  }

  mapFreeze(fd: number): void {
    const { map } = this.mapObject(fd, "map freeze");
    check(map.sysFreeze(), `map ${map.name || map.id} freeze`);
  }

  // ---------------- programs ----------------

  /** BPF_PROG_LOAD: resolve maps, verify, fix up, pick an engine. */
  progLoad(attrs: ProgLoadAttrs): ProgLoadResult {
    const name = attrs.name ?? "";
    const what = `load program ${name || "(unnamed)"}`;
    const progType = progTypeById(attrs.progType) ?? fail("EINVAL", `${what}: unknown program type ${attrs.progType}`);
    const n = attrs.insns.length;
    if (n === 0) fail("EINVAL", `${what}: no instructions`);
    if (n > BPF_COMPLEXITY_LIMIT_INSNS) fail("E2BIG", `${what}: ${n} instructions`);
    if (name.length >= 16 || !/^[A-Za-z0-9_.]*$/.test(name)) fail("EINVAL", `${what}: bad name`);

    const { maps, byHandle } = this.resolveMapRefs(attrs, what);
    const btf = attrs.btfFd !== undefined ? (this.objects.fromFd(attrs.btfFd, "btf", what) as unknown as VmBtfObject) : undefined;
    const mode = attrs.verifierMode ?? this.verifierMode;
    const gpl = isGplCompatible(attrs.license);
    let log = "";
    let verified = false;
    let processed = 0;
    let code = attrs.insns;
    let origin: readonly number[] | undefined;
    let maxCtxOffset = 0;
    let minCtxOffset = 0;
    if (mode !== "off") {
      if (!this.verifier) throw new NotSupportedError("verifier", "this vm kernel was created without a verifier; load with verifierMode 'off'");
      const outcome = this.verifier({
        code: attrs.insns, progType, attachType: attrs.expectedAttachType ?? 0,
        maps: (handle) => byHandle.get(handle)?.map, license: attrs.license, gplCompatible: gpl,
        logLevel: attrs.logLevel ?? 0, helpers: this.helpers, debugInfo: attrs.debugInfo, ncpus: this.ncpus,
      });
      log = outcome.log;
      processed = outcome.processedInsns;
      if (!outcome.accepted) {
        if (mode === "strict") throw new BpfCommandError((outcome.error?.errno ?? "EACCES") as ErrnoName, `${what}`, { cause: outcome.error ?? new VerifierError("rejected", log) });
      } else {
        verified = true;
        code = outcome.xlated;
        origin = outcome.xlatedOrigin;
        maxCtxOffset = outcome.maxCtxOffset ?? 0;
        minCtxOffset = outcome.minCtxOffset ?? 0;
      }
    }
    const exec = code.clone();
    const xlated = code.clone();
    this.patchMapRefs(exec, xlated, byHandle);

    const prog = new VmProgram({
      name, progType, attachType: attrs.expectedAttachType ?? 0, code: exec, xlated,
      tag: programTag(attrs.insns), maps, license: attrs.license, gplCompatible: gpl, verified,
      verifierLog: log, processedInsns: processed, maxCtxOffset, minCtxOffset, loadTime: Date.now(), ...(origin ? { xlatedOrigin: origin } : {}),
      ...(btf ? { btf } : {}),
    });
    const env: EngineEnv = {
      space: this.space,
      helpers: this.helpers,
      checked: !verified,
      budget: this.budget,
      cpu: 0,
      tailCallTarget: (mapAddr, index) => {
        const m = this.mapAt(mapAddr);
        if (!(m instanceof ProgArrayMap)) return undefined;
        const target = m.tailCallTarget(index) as VmProgram | undefined;
        return target?.alive ? target : undefined;
      },
      packetBounds: () => {
        const state = this.depth > 0 ? this.frames[this.depth - 1].typeState : undefined;
        return state ? progTypeRuntime(prog.progType)?.packetBounds?.(state) : undefined;
      },
    };
    prog.env = env;
    prog.engine = createEngine(this.engineKind, exec, env);
    const fd = this.objects.register(prog);
    return { fd, log };
  }

  /**
   * Runs a program once on `ctx` as the current run; returns r0's low 32 bits.
   * `link` carries what a hook's link adds: the attach cookie and the traced
   * function's address.
   */
  runProgram(
    prog: VmProgram, ctx: number, typeState?: ProgTypeRunState, cpu = this.cpu,
    link?: { readonly cookieLo: number; readonly cookieHi: number; readonly funcIp?: number },
  ): number {
    prog.env.cpu = cpu;
    const f = this.enter(prog, cpu, ctx, typeState);
    f.attachCookieLo = link?.cookieLo;
    f.attachCookieHi = link?.cookieHi;
    f.funcIp = link?.funcIp;
    try {
      return prog.engine.run(ctx);
    } finally {
      this.depth--;
    }
  }

  /**
   * `n` runs (n >= 1) of runProgram(prog, ctx, typeState, cpu) without a link:
   * one run frame for all of them (every run would push the same one), the
   * loop in the engine when it has one.
   */
  runProgramRepeat(prog: VmProgram, ctx: number, typeState: ProgTypeRunState | undefined, n: number, cpu = this.cpu): number {
    prog.env.cpu = cpu;
    const f = this.enter(prog, cpu, ctx, typeState);
    f.attachCookieLo = undefined;
    f.attachCookieHi = undefined;
    f.funcIp = undefined;
    try {
      const engine = prog.engine;
      if (engine.runRepeat) return engine.runRepeat(ctx, n);
      let ret = 0;
      for (let i = 0; i < n; i++) ret = engine.run(ctx);
      return ret;
    } finally {
      this.depth--;
    }
  }

  /** Pushes a run frame (reusing the one at this depth). */
  private enter(program: RunningProgram, cpu: number, ctx: number, typeState: ProgTypeRunState | undefined): RunFrame {
    let f = this.frames[this.depth];
    if (!f) this.frames.push((f = new RunFrame()));
    f.program = program;
    f.cpu = cpu;
    f.ctx = ctx;
    f.typeState = typeState;
    this.depth++;
    return f;
  }

  /** BPF_PROG_TEST_RUN. */
  progTestRun(fd: number, options: RunOptions = {}): RunResult {
    const prog = this.program(fd, "prog test run");
    const runtime = progTypeRuntime(prog.progType);
    if (!runtime) fail("ENOTSUPP", `test run of ${prog.progTypeInfo.name} programs`);
    const cpu = options.cpu ?? this.cpu;
    return runtime!.testRun(
      {
        services: this, program: prog, maxCtxOffset: prog.maxCtxOffset,
        run: (ctx, typeState, runCpu) => this.runProgram(prog, ctx, typeState, runCpu ?? cpu),
        runRepeat: (ctx, typeState, n, runCpu) => this.runProgramRepeat(prog, ctx, typeState, n, runCpu ?? cpu),
      },
      options,
    );
  }

  // ---------------- map references ----------------

  /**
   * resolve_pseudo_ldimm64(): every LD_IMM64 map reference names a map by fd (or
   * by fd_array index); the program keeps a reference to each map it uses.
   */
  private resolveMapRefs(attrs: ProgLoadAttrs, what: string): { maps: VmMapObject[]; byHandle: Map<number, VmMapObject> } {
    const code = attrs.insns;
    const byHandle = new Map<number, VmMapObject>();
    const used = new Set<VmMapObject>();
    for (let i = 0; i < code.length; i++) {
      if (code.opcode[i] !== OP_LD_IMM64) continue;
      if (i + 1 >= code.length) fail("EINVAL", `${what}: invalid bpf_ld_imm64 insn ${i}`);
      const src = code.src[i];
      if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_MAP_IDX_VALUE) {
        const byIndex = src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_MAP_IDX_VALUE;
        const fd = byIndex ? attrs.fdArray?.[code.imm[i]] : code.imm[i];
        if (fd === undefined) fail("EINVAL", `${what}: fd_array index ${code.imm[i]} at insn ${i}`);
        const obj = this.tryFromFd(fd!, "map") ?? fail("EBADF", `${what}: fd ${fd} is not pointing to valid bpf_map (insn ${i})`);
        byHandle.set(code.imm[i], obj);
        used.add(obj);
      }
      i++;
    }
    return { maps: [...used], byHandle };
  }

  /**
   * Replaces map handles: in the executable code by the map's descriptor address
   * (or, for map values, the value's address); in the xlated code by the map id,
   * which is what `bpftool prog dump xlated` prints as map[id:N].
   */
  private patchMapRefs(exec: Bytecode, xlated: Bytecode, byHandle: Map<number, VmMapObject>): void {
    for (let i = 0; i + 1 < exec.length; i++) {
      if (exec.opcode[i] !== OP_LD_IMM64) continue;
      const src = exec.src[i];
      const obj = byHandle.get(exec.imm[i]);
      if (obj && (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX)) {
        exec.imm[i] = obj.map.addr;
        exec.imm[i + 1] = 0;
        xlated.src[i] = BPF_PSEUDO_MAP_FD;
        xlated.imm[i] = obj.id;
      } else if (obj && (src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX_VALUE)) {
        const off = exec.imm[i + 1];
        exec.imm[i] = directValueAddr(obj.map, off);
        exec.imm[i + 1] = 0;
        xlated.src[i] = BPF_PSEUDO_MAP_VALUE;
        xlated.imm[i] = obj.id;
      }
      i++;
    }
  }
}

/**
 * map_direct_value_addr(): only single-element arrays have one address for their
 * value (kernel/bpf/arraymap.c, array_map_direct_value_addr).
 */
function directValueAddr(map: BpfMap, off: number): number {
  if (!(map instanceof ArrayMap) || map.maxEntries !== 1) fail("EOPNOTSUPP", `map ${map.name}: direct value access`);
  if (off < 0 || off >= map.valueSize) fail("EINVAL", `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`);
  return (map as ArrayMap).base + off;
}

/** A run in progress, as helpers see it through VmServices.current(). */
class RunFrame implements RunState {
  program!: RunningProgram;
  cpu = 0;
  ctx = 0;
  typeState: ProgTypeRunState | undefined = undefined;
  attachCookieLo: number | undefined = undefined;
  attachCookieHi: number | undefined = undefined;
  funcIp: number | undefined = undefined;
}

/** What objGetInfo reports, by object kind. */
export type VmObjectInfo =
  | {
      readonly kind: "prog"; readonly id: number; readonly type: number; readonly typeName: string; readonly name: string;
      readonly tag: string; readonly xlatedProgLen: number; readonly jited: boolean; readonly mapIds: readonly number[];
      readonly loadTime: number; readonly gplCompatible: boolean; readonly btfId: number; readonly verifiedInsns: number;
      readonly runCnt: number; readonly runTimeNs: number;
    }
  | {
      readonly kind: "map"; readonly id: number; readonly type: number; readonly typeName: string; readonly name: string;
      readonly keySize: number; readonly valueSize: number; readonly maxEntries: number; readonly mapFlags: number;
      readonly frozen: boolean; readonly btfKeyTypeId: number; readonly btfValueTypeId: number;
    }
  | { readonly kind: "btf"; readonly id: number; readonly btfSize: number; readonly name: string; readonly kernelBtf: boolean }
  | { readonly kind: "link"; readonly id: number };
