/**
 * Cost of one helper call through the engines: a BPF loop of N iterations
 * calling the helper, minus the same loop with the call replaced by a mov
 * (arguments set up the same way), divided by N. Reports ns per call for
 * bpf_map_lookup_elem (hash, array), bpf_map_update_elem (hash),
 * bpf_ringbuf_output, bpf_ktime_get_ns and bpf_get_smp_processor_id, for the
 * interpreter and the JIT, unchecked (verified programs) and checked.
 *
 *   npm run bench:helpers
 */
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R6 } from "../src/isa/builder.js";
import { BPF_PSEUDO_MAP_FD } from "../src/isa/opcodes.js";
import { Bytecode } from "../src/isa/bytecode.js";
import { DEFAULT_BUDGET, type EngineEnv } from "../src/vm/engine.js";
import { type EngineKind, createEngine } from "../src/vm/engines.js";
import { HelperRegistry } from "../src/vm/helpers/abi.js";
import { defaultHelpers } from "../src/vm/helpers/index.js";
import { realHost } from "../src/vm/host.js";
import { createMap } from "../src/vm/maps/create.js";
import { type BpfMap, mapAt } from "../src/vm/maps/map.js";
import { RingBufMap } from "../src/vm/maps/ringbuf.js";
import { AddressSpace } from "../src/vm/memory.js";
import type { RunState, VmServices } from "../src/vm/runtime/services.js";
import { TracePipe } from "../src/vm/runtime/trace-pipe.js";

const N = 1_000_000;

class Services implements VmServices {
  readonly space = new AddressSpace();
  readonly host = realHost();
  readonly ncpus = 2;
  readonly tracePipe = new TracePipe();
  readonly helpers = new HelperRegistry(defaultHelpers(this));
  readonly runs: RunState[] = [];
  mapAt(addr: number): BpfMap | undefined {
    return mapAt(this.space, addr);
  }
  current(): RunState {
    return this.runs[this.runs.length - 1];
  }
  checkMem(addr: number, len: number, write: boolean, pc: number): void {
    if (this.runs[this.runs.length - 1]?.program.checked) this.space.checkAccess(addr, 0, len, write, pc);
  }
}

/** loop: setup(); call helper (or not); r6--; while r6. */
function loop(setup: (b: ProgramBuilder) => void, helper: string | null): ProgramBuilder {
  const b = new ProgramBuilder().st(8, FP, -8, 1).st(8, FP, -16, 7).st(8, FP, -24, 0).mov(R6, N).label("top");
  setup(b);
  if (helper) b.call(helper);
  else b.mov(R0, 0);
  return b.add(R6, -1).jne(R6, 0, "top").mov(R0, 0).exit();
}

function code(b: ProgramBuilder, map?: BpfMap): Bytecode {
  const insns = b.build().instructions.map((i) => (i.kind === "ld_imm64" && i.pseudo === BPF_PSEUDO_MAP_FD && map ? { ...i, lo: map.addr, hi: 0 } : i));
  return Bytecode.fromInstructions(insns);
}

function time(s: Services, c: Bytecode, kind: EngineKind, checked: boolean, beforeRep: () => void = () => {}): number {
  const env: EngineEnv = { space: s.space, helpers: s.helpers, checked, budget: DEFAULT_BUDGET, cpu: 0 };
  const e = createEngine(kind, c, env);
  const prog = { id: 1, name: "bench", progType: 17, attachType: 0, checked, gplCompatible: true };
  s.runs.push({ program: prog, cpu: 0, ctx: 0 });
  let best = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    beforeRep();
    const t0 = process.hrtime.bigint();
    e.run(0);
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  s.runs.pop();
  e.dispose();
  return best;
}

interface Case {
  readonly name: string;
  readonly map?: (s: Services) => BpfMap;
  readonly setup: (b: ProgramBuilder) => void;
  readonly helper: string;
}

const mapArg = (b: ProgramBuilder): ProgramBuilder => b.raw({ kind: "ld_imm64", dst: 1, pseudo: BPF_PSEUDO_MAP_FD, lo: 0, hi: 0 });

const CASES: readonly Case[] = [
  {
    name: "map_lookup_elem (hash, 4-byte key, hit)",
    map: (s) => {
      const m = createMap(s.space, { mapType: 1, keySize: 4, valueSize: 8, maxEntries: 1024 }, { ncpus: 2 });
      m.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8));
      return m;
    },
    setup: (b) => void mapArg(b).mov(R2, FP).add(R2, -8),
    helper: "bpf_map_lookup_elem",
  },
  {
    name: "map_lookup_elem (array)",
    map: (s) => createMap(s.space, { mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1024 }, { ncpus: 2 }),
    setup: (b) => void mapArg(b).mov(R2, FP).add(R2, -8),
    helper: "bpf_map_lookup_elem",
  },
  {
    name: "map_update_elem (hash, existing key)",
    map: (s) => createMap(s.space, { mapType: 1, keySize: 4, valueSize: 8, maxEntries: 1024 }, { ncpus: 2 }),
    setup: (b) => void mapArg(b).mov(R2, FP).add(R2, -8).mov(R3, FP).add(R3, -16).mov(R4, 0),
    helper: "bpf_map_update_elem",
  },
  {
    name: "ringbuf_output (8 bytes; consumer keeps up)",
    map: (s) => createMap(s.space, { mapType: 27, keySize: 0, valueSize: 0, maxEntries: 1 << 26 }, { ncpus: 2 }),
    setup: (b) => void mapArg(b).mov(R2, FP).add(R2, -8).mov(R3, 8).mov(R4, 1),
    helper: "bpf_ringbuf_output",
  },
  { name: "ktime_get_ns", setup: () => {}, helper: "bpf_ktime_get_ns" },
  { name: "get_smp_processor_id", setup: () => {}, helper: "bpf_get_smp_processor_id" },
];

const rows: string[] = [];
for (const kind of ["interp", "jit"] as const) {
  for (const checked of [false, true]) {
    for (const c of CASES) {
      const s = new Services();
      const map = c.map?.(s);
      const withCall = code(loop(c.setup, c.helper), map);
      const without = code(loop(c.setup, null), map);
      // The ring's consumer keeps up: every repetition starts with an empty ring.
      const drain = (): void => {
        if (map instanceof RingBufMap) map.consumerPos = map.producerPos;
      };
      const tCall = time(s, withCall, kind, checked, drain);
      const tBase = time(s, without, kind, checked, drain);
      rows.push(`${kind.padEnd(6)} ${(checked ? "checked" : "verified").padEnd(8)} ${c.name.padEnd(44)} ${((tCall - tBase) / N).toFixed(1).padStart(6)} ns/call (loop ${(tBase / N).toFixed(1)} ns/iter)`);
    }
  }
}
console.log(rows.join("\n"));
