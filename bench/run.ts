/**
 * The benchmark: every program of the benchmark suite (../shared/bench/progs
 * when present, else the copies in test/fixtures/bench), loaded from its ELF
 * object into the vm with the interpreter, the vm with the JIT, and — where
 * bpf() is available — the kernel, then test-run side by side in one process:
 * ns per run (the test run's mean duration, best of the trials, trials
 * alternating between engines), the JIT/kernel ratio, and JIT compile time per
 * 1,000 instructions.
 *
 *   npm run bench [-- --quick] [-- --trials N] [-- --only NAME]
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Collection } from "../src/api/types.js";
import { linuxBackend } from "../src/linux/backend.js";
import { syscallsAvailable } from "../src/linux/syscall.js";
import { ObjectSpec } from "../src/object/spec.js";
import { VmProgramHandle, vmBackend } from "../src/vm/backend.js";
import { JitEngine } from "../src/vm/jit/engine.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const trials = Number(args[args.indexOf("--trials") + 1]) || (quick ? 2 : 5);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const shared = fileURLToPath(new URL("../../shared/bench/progs/", import.meta.url.replace("/bench/out/bench/", "/bench/")));
const fixtures = fileURLToPath(new URL("../test/fixtures/bench/", import.meta.url.replace("/bench/out/bench/", "/bench/")));
const root = existsSync(shared + "bench.tsv") ? shared : fixtures;
const path = (p: string): string => (root === fixtures ? root + p.replace(/^build\//, "") : root + p);

interface Row {
  name: string;
  object: string;
  program: string;
  input: string;
  expected: number | undefined;
  repeat: number;
  setup: string;
}

const rows: Row[] = readFileSync(root + "bench.tsv", "utf8").split("\n")
  .filter((l) => l.trim() && !l.startsWith("#"))
  .map((l) => {
    const [name, object, program, input, expected, repeat, setup] = l.split("\t");
    return { name, object, program, input, expected: expected === "-" ? undefined : Number(expected), repeat: Number(repeat), setup };
  })
  .filter((r) => !only || r.name === only);

function fillLpm(coll: Collection, setup: string): void {
  const [, map, file] = setup.split(":");
  const m = coll.map(map);
  for (const line of readFileSync(root + file, "utf8").split("\n")) {
    const r = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
    if (!r) continue;
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, Number(r[5]), true);
    key.set([+r[1], +r[2], +r[3], +r[4]], 4);
    const value = new Uint8Array(m.info.valueSize);
    new DataView(value.buffer).setUint32(0, Number(r[6]), true);
    m.update(key, value);
  }
}

type EngineName = "interp" | "jit" | "kernel";

const kernelReason = syscallsAvailable() ? null : "bpf() unavailable on this platform";

function load(engine: EngineName, row: Row): Collection {
  const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(path(row.object))));
  const backend = engine === "kernel" ? linuxBackend() : vmBackend({ engine });
  const coll = backend.load(spec, { programs: [row.program] });
  if (row.setup.startsWith("lpm:")) fillLpm(coll, row.setup);
  return coll;
}

/** One trial: a fresh load (so ring buffers start empty), a warm-up run, then the timed test run. */
function trial(engine: EngineName, row: Row, data: Uint8Array): number {
  using coll = load(engine, row);
  const prog = coll.program(row.program);
  const repeat = Math.max(1, Math.round(engine === "interp" ? row.repeat / 50 : row.repeat) / (quick ? 10 : 1));
  prog.run({ data, repeat: Math.min(repeat, 1000) });
  const r = prog.run({ data, repeat: Math.round(repeat) });
  if (row.expected !== undefined && r.retval !== row.expected >>> 0) {
    throw new Error(`${row.name} on ${engine}: returned ${r.retval}, expected ${row.expected}`);
  }
  return r.durationNs;
}

function compileMsPer1000(row: Row): number {
  using coll = load("jit", row);
  const prog = coll.program(row.program) as VmProgramHandle;
  const obj = prog.object;
  const t0 = performance.now();
  const n = 5;
  for (let i = 0; i < n; i++) new JitEngine(obj.code.clone(), { ...obj.env, checked: false }).dispose();
  return ((performance.now() - t0) / n / obj.code.length) * 1000;
}

const fmt = (ns: number | undefined): string =>
  ns === undefined ? "-" : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} us` : `${ns.toFixed(1)} ns`;

console.log(`tsbpf benchmark: ${rows.length} programs from ${root}, best of ${trials} trials${quick ? " (quick)" : ""}`);
console.log(kernelReason ? `kernel column skipped: ${kernelReason}` : "kernel: BPF_PROG_TEST_RUN on this machine's kernel JIT");
console.log("");
const header = ["program", "interp", "jit", "kernel", "jit/kernel", "jit compile ms/1k insn"];
const table: string[][] = [];
const ratios: number[] = [];
for (const row of rows) {
  const data = new Uint8Array(readFileSync(path(row.input)));
  const best: Partial<Record<EngineName, number>> = {};
  const engines: EngineName[] = kernelReason ? ["interp", "jit"] : ["interp", "jit", "kernel"];
  for (let t = 0; t < trials; t++) {
    for (const e of engines) {
      let ns: number;
      try {
        ns = trial(e, row, data);
      } catch (err) {
        if (e === "kernel") {
          console.log(`  ${row.name}: kernel run failed: ${(err as Error).message}`);
          continue;
        }
        throw err;
      }
      best[e] = Math.min(best[e] ?? Infinity, ns);
    }
  }
  const ratio = best.jit !== undefined && best.kernel ? best.jit / best.kernel : undefined;
  if (ratio !== undefined) ratios.push(ratio);
  table.push([row.name, fmt(best.interp), fmt(best.jit), fmt(best.kernel), ratio === undefined ? "-" : ratio.toFixed(2) + "x", compileMsPer1000(row).toFixed(2)]);
}
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(line(header));
for (const r of table) console.log(line(r));
if (ratios.length) {
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  console.log(`\ngeometric mean jit/kernel: ${geo.toFixed(2)}x   worst: ${Math.max(...ratios).toFixed(2)}x`);
}
