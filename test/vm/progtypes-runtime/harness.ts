/**
 * A test-only vm around the program-type runtimes: an address space, the
 * services helpers see (a run stack, checked-mode pointer checks), the packet
 * and socket helpers, an engine, and a TestRunTarget (the real one comes from the
 * runtime in src/vm/runtime). Plus the differential runner: the same bytecode
 * and RunOptions through the kernel and through the vm, as comparable outcomes.
 */
import type { RunOptions, RunResult } from "../../../src/api/types.js";
import { BpfCommandError } from "../../../src/errors.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { Instruction } from "../../../src/isa/instruction.js";
import { assemble } from "../../../src/isa/asm.js";
import { DEFAULT_BUDGET, type Engine, type EngineEnv } from "../../../src/vm/engine.js";
import { createEngine, type EngineKind } from "../../../src/vm/engines.js";
import { HelperRegistry, type HelperDef } from "../../../src/vm/helpers/abi.js";
import { packetHelpers } from "../../../src/vm/helpers/packet.js";
import { sockHelpers } from "../../../src/vm/helpers/sock.js";
import { realHost } from "../../../src/vm/host.js";
import { AddressSpace } from "../../../src/vm/memory.js";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import { TestRunNoSpaceError, progTypeRuntime, type ProgTypeRuntime, type TestRunTarget } from "../../../src/vm/progtypes/runtime/index.js";
import type { ProgTypeRunState, RunState, RunningProgram, VmServices } from "../../../src/vm/runtime/services.js";
import { TracePipe } from "../../../src/vm/runtime/trace-pipe.js";

export class TestServices implements VmServices {
  readonly host = realHost();
  readonly tracePipe = new TracePipe();
  readonly stack: RunState[] = [];
  readonly maps = new Map<number, BpfMap>();

  constructor(
    readonly space: AddressSpace,
    readonly ncpus = 2,
  ) {}

  mapAt(addr: number): BpfMap | undefined {
    return this.maps.get(addr);
  }

  current(): RunState {
    const r = this.stack[this.stack.length - 1];
    if (!r) throw new Error("no run in progress");
    return r;
  }

  checkMem(addr: number, len: number, write: boolean, pc: number): void {
    if (len === 0 || !this.current().program.checked) return;
    this.space.checkAccess(addr, 0, len, write, pc);
  }
}

export interface VmProgramOptions {
  readonly progType: number;
  readonly attachType?: number;
  readonly code: Bytecode | readonly Instruction[] | string;
  readonly engine?: EngineKind;
  /** Checked (unverified) mode; default true: the vm has no verifier in these tests. */
  readonly checked?: boolean;
  readonly name?: string;
  readonly maxCtxOffset?: number;
  /** Extra helpers (e.g. test stubs) next to the packet and socket helpers. */
  readonly helpers?: (services: VmServices) => HelperDef[];
  readonly space?: AddressSpace;
  readonly services?: TestServices;
}

export interface VmProgram {
  readonly services: TestServices;
  readonly runtime: ProgTypeRuntime;
  readonly target: TestRunTarget;
  readonly engine: Engine;
  testRun(o: RunOptions): RunResult;
  dispose(): void;
}

export function toBytecode(code: Bytecode | readonly Instruction[] | string): Bytecode {
  if (code instanceof Bytecode) return code;
  return Bytecode.fromInstructions(typeof code === "string" ? assemble(code) : code);
}

let ids = 1;

export function vmProgram(o: VmProgramOptions): VmProgram {
  const space = o.space ?? o.services?.space ?? new AddressSpace();
  const services = o.services ?? new TestServices(space);
  const runtime = progTypeRuntime(o.progType);
  if (!runtime) throw new Error(`no runtime for program type ${o.progType}`);
  const helpers = new HelperRegistry([...packetHelpers(services), ...sockHelpers(services), ...(o.helpers?.(services) ?? [])]);
  const checked = o.checked ?? true;
  const program: RunningProgram = {
    id: ids++, name: o.name ?? "test", progType: o.progType, attachType: o.attachType ?? 0, checked, gplCompatible: true,
  };
  const env: EngineEnv = {
    space, helpers, checked, budget: DEFAULT_BUDGET, cpu: 0,
    packetBounds: () => {
      const st = services.current().typeState;
      return st ? runtime.packetBounds?.(st) : undefined;
    },
  };
  const engine = createEngine(o.engine ?? "interp", toBytecode(o.code), env);
  const target: TestRunTarget = {
    services, program, maxCtxOffset: o.maxCtxOffset,
    run(ctx: number, typeState?: ProgTypeRunState, cpu?: number): number {
      const c = cpu ?? 0;
      env.cpu = c;
      services.stack.push({ program, cpu: c, ctx, typeState });
      try {
        return engine.run(ctx);
      } finally {
        services.stack.pop();
      }
    },
  };
  return {
    services, runtime, target, engine,
    testRun: (opts) => runtime.testRun(target, opts),
    dispose: () => engine.dispose(),
  };
}

/** What one backend answered, in a shape both can fill. */
export interface Outcome {
  readonly errno: number;
  readonly retval?: number;
  readonly dataSizeOut?: number;
  readonly dataOut?: string;
  readonly ctxOut?: string;
}

const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString("hex") : undefined);

/** The vm's answer: a RunResult, or the error's errno (with what ENOSPC still returned). */
export function vmOutcome(run: () => RunResult): Outcome {
  try {
    const r = run();
    return { errno: 0, retval: r.retval, dataSizeOut: r.dataSizeOut, dataOut: hex(r.dataOut), ctxOut: hex(r.ctxOut) };
  } catch (e) {
    if (e instanceof TestRunNoSpaceError) {
      const r = e.result;
      return { errno: e.errno, retval: r.retval, dataSizeOut: r.dataSizeOut, dataOut: hex(r.dataOut), ctxOut: hex(r.ctxOut) };
    }
    if (e instanceof BpfCommandError) return { errno: e.errno };
    throw e;
  }
}

/** A vm program as hooks run it: the run state carries the hook's typeState, cookie and func ip. */
export function hookProgram(p: VmProgram): import("../../../src/vm/hooks/index.js").HookProgram {
  const program = p.target.program;
  return {
    program,
    run(ctx, run) {
      p.services.stack.push({
        program, cpu: run.cpu ?? 0, ctx, typeState: run.typeState,
        attachCookieLo: run.cookieLo, attachCookieHi: run.cookieHi,
        ...(run.funcIp !== undefined ? { funcIp: run.funcIp } : {}),
      });
      try {
        return p.engine.run(ctx);
      } finally {
        p.services.stack.pop();
      }
    },
  };
}

/** Test stand-ins for helpers other files implement: bpf_get_attach_cookie (174), bpf_get_func_ip (173). */
export function runStateHelpers(services: VmServices): HelperDef[] {
  return [
    { id: 174, name: "get_attach_cookie", proto: { args: [{ type: "ctx" }], ret: { type: "integer" } },
      fn: (call) => { const r = services.current(); call.ret64(r.attachCookieLo ?? 0, r.attachCookieHi ?? 0); } },
    { id: 173, name: "get_func_ip", proto: { args: [{ type: "ctx" }], ret: { type: "integer" } },
      fn: (call) => call.ret(services.current().funcIp ?? 0) },
  ];
}
