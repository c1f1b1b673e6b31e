/**
 * Shared test plumbing: verifier inputs from hand-written programs and from the
 * benchmark objects, with the real helper prototypes and program types.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { helperProtos } from "../../../src/vm/helpers/protos.js";
import { progTypeById } from "../../../src/vm/progtypes/index.js";
import type { ProgTypeVerifierInfo } from "../../../src/vm/progtypes/types.js";
import { verify } from "../../../src/vm/verifier/index.js";
import type { FuncInfo, LineInfo, VerifierInput, VerifierMapInfo, VerifierResult } from "../../../src/vm/verifier/types.js";
import { BENCH_MAPS } from "./bench-maps.js";
import { MiniElf } from "./elf-mini.js";
import type { KernelMapSpec } from "./kernel-load.js";

/** A fixture's path; also from the benchmarks' compiled copy of this file (bench/out/test/...). */
export const fixturePath = (rel: string): string =>
  fileURLToPath(new URL(`../../fixtures/verifier/${rel}`, import.meta.url.replace("/bench/out/test/", "/test/")));

export function progType(id: number): ProgTypeVerifierInfo {
  const p = progTypeById(id);
  if (!p) throw new Error(`no program type ${id}`);
  return p;
}

export const helper = (id: number): { name: string; proto: import("../../../src/vm/helpers/proto.js").HelperProto } | undefined => helperProtos.get(id);

export function mapInfo(spec: KernelMapSpec, extra: Partial<VerifierMapInfo> = {}): VerifierMapInfo {
  return {
    type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags ?? 0, btf: false,
    name: spec.name ?? "", ...extra,
  };
}

export interface Prog {
  readonly code: Bytecode;
  readonly progType: number;
  readonly maps?: readonly KernelMapSpec[];
  readonly license?: string;
  readonly lines?: readonly LineInfo[];
  readonly funcInfo?: readonly FuncInfo[];
  readonly attach?: number;
}

/** nr_cpu_ids here: /sys/devices/system/cpu/possible ("0-N"), else the CPUs Node sees. */
export const HOST_NR_CPU_IDS = ((): number => {
  try {
    const m = /(\d+)\s*$/.exec(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
    if (m) return Number(m[1]) + 1;
  } catch {
    // not Linux
  }
  return Math.max(1, cpus().length);
})();

export function runVerifier(p: Prog, opts: Partial<VerifierInput> = {}): VerifierResult {
  const maps = (p.maps ?? []).map((m) => mapInfo(m, m.type === 2 ? { inlineValueOffset: 312 } : {}));
  return verify({
    code: p.code, progType: progType(p.progType), helper, maps: (h) => maps[h], license: p.license ?? "GPL",
    lineInfo: p.lines, funcInfo: p.funcInfo, expectedAttachType: p.attach, nrCpuIds: HOST_NR_CPU_IDS, ...opts,
  });
}

/** A program from an object file, map handles = indices into `maps` (specs by map name). */
export function objectProg(rel: string, mapSpecs: Readonly<Record<string, KernelMapSpec>>, section = "xdp", progType = 6): Prog {
  const elf = new MiniElf(readFileSync(fixturePath(rel)));
  const prog = elf.program(section);
  const code = Bytecode.fromBytes(prog.insns);
  const mapNames = [...new Set(prog.mapRefs.values())];
  for (const [slot, nm] of prog.mapRefs) code.imm[slot] = mapNames.indexOf(nm);
  const funcInfo: FuncInfo[] = prog.funcs.map((f) => ({ insn: f.insn, name: f.name }));
  return { code, progType, maps: mapNames.map((m) => mapSpecs[m]), license: elf.license(), lines: prog.lines, funcInfo };
}

/** A benchmark object's program with map handles = indices into `maps`. */
export const benchProg = (name: string): Prog => objectProg(`../bench/${name}.bpf.o`, BENCH_MAPS);
