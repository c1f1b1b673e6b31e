/**
 * A loaded vm program: its xlated code, its engine, the maps it holds, and what
 * BPF_OBJ_GET_INFO_BY_FD reports about it.
 */
import type { Bytecode } from "../../isa/bytecode.js";
import type { Engine, EngineEnv, ExecutableCode } from "../engine.js";
import type { ProgramRef } from "../maps/map.js";
import type { ProgTypeVerifierInfo } from "../progtypes/types.js";
import { KernelObject } from "./objects.js";
import type { VmMapObject } from "./map-object.js";
import type { RunningProgram } from "./services.js";

export interface VmProgramInit {
  readonly name: string;
  readonly progType: ProgTypeVerifierInfo;
  readonly attachType: number;
  /** The code the engine runs (map references resolved to addresses). */
  readonly code: Bytecode;
  /** The xlated code as `prog dump xlated` shows it (map references as map ids). */
  readonly xlated: Bytecode;
  readonly tag: string;
  readonly maps: readonly VmMapObject[];
  readonly license: string;
  readonly gplCompatible: boolean;
  readonly verified: boolean;
  readonly verifierLog: string;
  readonly processedInsns: number;
  /** The end of the furthest context access the verifier saw (prog->aux->max_ctx_offset; 0 unverified). */
  readonly maxCtxOffset?: number;
  /** The lowest context offset the verifier saw accessed (below 0 only for tracepoint programs). */
  readonly minCtxOffset?: number;
  /** xlated slot -> slot of the loaded program (-1 for inserted instructions). */
  readonly xlatedOrigin?: readonly number[];
  /** The program's BTF object, held while the program lives. */
  readonly btf?: KernelObject;
  readonly loadTime: number;
}

export class VmProgram extends KernelObject implements ProgramRef, ExecutableCode, RunningProgram {
  readonly kind = "prog" as const;
  readonly name: string;
  readonly progTypeInfo: ProgTypeVerifierInfo;
  readonly attachType: number;
  readonly code: Bytecode;
  readonly xlated: Bytecode;
  readonly tag: string;
  readonly maps: readonly VmMapObject[];
  readonly license: string;
  readonly gplCompatible: boolean;
  readonly verified: boolean;
  readonly verifierLog: string;
  readonly processedInsns: number;
  readonly maxCtxOffset: number;
  readonly minCtxOffset: number;
  readonly xlatedOrigin: readonly number[];
  readonly btfId: number;
  private readonly btf?: KernelObject;
  readonly loadTime: number;
  /** Set by the kernel right after construction (the engine needs the program's env). */
  engine!: Engine;
  /** The engine's environment; the kernel sets `cpu` per run. */
  env!: EngineEnv;
  /** run_cnt / run_time_ns (BPF_ENABLE_STATS). */
  runCount = 0;
  runTimeNs = 0;

  constructor(init: VmProgramInit) {
    super();
    this.name = init.name;
    this.progTypeInfo = init.progType;
    this.attachType = init.attachType;
    this.code = init.code;
    this.xlated = init.xlated;
    this.tag = init.tag;
    this.maps = init.maps;
    this.license = init.license;
    this.gplCompatible = init.gplCompatible;
    this.verified = init.verified;
    this.verifierLog = init.verifierLog;
    this.maxCtxOffset = init.maxCtxOffset ?? 0;
    this.minCtxOffset = init.minCtxOffset ?? 0;
    this.processedInsns = init.processedInsns;
    this.xlatedOrigin = init.xlatedOrigin ?? Array.from({ length: init.xlated.length }, (_, i) => i);
    this.btf = init.btf;
    this.btfId = init.btf?.id ?? 0;
    init.btf?.get();
    this.loadTime = init.loadTime;
    // The program holds its maps for as long as it lives (used_maps in the kernel).
    for (const m of this.maps) m.get();
  }

  get progType(): number {
    return this.progTypeInfo.id;
  }

  get checked(): boolean {
    return !this.verified;
  }

  protected onRelease(): void {
    this.engine?.dispose();
    for (const m of this.maps) m.put();
    this.btf?.put();
  }
}
