/**
 * Runs bpf_conformance cases on a vm engine, as the upstream runner's plugin
 * contract describes: r1 = input memory, r2 = its length, r10 = top of a
 * 512-byte stack, helper 5 available; unverified, so every access is checked.
 */
import { TsbpfError } from "../errors.js";
import { HelperRegistry } from "../vm/helpers/abi.js";
import { timeHelpers } from "../vm/helpers/time.js";
import { realHost } from "../vm/host.js";
import { AddressSpace } from "../vm/memory.js";
import { DEFAULT_BUDGET, type EngineEnv } from "../vm/engine.js";
import { type EngineKind, createEngine } from "../vm/engines.js";
import type { Bytecode } from "../isa/bytecode.js";
import type { ConformanceCase } from "./datafile.js";

export interface CaseOutcome {
  readonly name: string;
  readonly passed: boolean;
  /** r0 as 64 bits, when the program ran to completion. */
  readonly r0?: bigint;
  /** Error text, when loading or running failed. */
  readonly error?: string;
  readonly detail: string;
}

/** Runs a program over `memory` the conformance way; returns r0 or throws the engine's error. */
export function runRaw(code: Bytecode, memory: Uint8Array, engine: EngineKind = "interp"): bigint {
  const space = new AddressSpace();
  const env: EngineEnv = {
    space,
    helpers: new HelperRegistry(timeHelpers(realHost())),
    checked: true,
    budget: DEFAULT_BUDGET,
    cpu: 0,
  };
  let memAddr = 0;
  if (memory.length > 0) {
    memAddr = space.allocBytes(memory);
    space.mapRegion(memAddr, memory.length, "mem", true, "input memory");
  }
  const vm = createEngine(engine, code, env);
  try {
    vm.run(memAddr, memory.length);
    return vm.lastR0();
  } finally {
    vm.dispose();
  }
}

export function runCase(c: ConformanceCase, engine: EngineKind = "interp"): CaseOutcome {
  let r0: bigint;
  try {
    r0 = runRaw(c.code, c.memory, engine);
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    const passed = c.error !== undefined;
    return { name: c.name, passed, error: e.message, detail: passed ? "failed as expected" : `error: ${e.message}` };
  }
  if (c.result === undefined) {
    return { name: c.name, passed: false, r0, detail: `returned 0x${r0.toString(16)}, expected error '${c.error}'` };
  }
  const passed = r0 === c.result;
  return {
    name: c.name, passed, r0,
    detail: passed ? "ok" : `returned 0x${r0.toString(16)}, expected 0x${c.result.toString(16)}`,
  };
}
