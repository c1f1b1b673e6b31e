/**
 * JIT benchmark: ns per run and per executed instruction on the interpreter and
 * the JIT, the kernel's JIT on the same programs (BPF_PROG_TEST_RUN through
 * bpftool, when root and the prebuilt objects are there), and compile time per
 * 1,000 instructions.
 *
 *   npm run bench:jit [-- --quick]
 *
 * The kernel side loads ../shared/bench/progs/build/*.bpf.o (TSBPF_BENCH_PROGS
 * overrides the directory) with bpftool; without root, bpftool or the objects,
 * it prints the reference figures of that directory's README instead.
 *
 * The machine is shared and noisy: every figure is the best of several trials,
 * and kernel and JIT trials alternate so both see the same conditions.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { Interpreter } from "../src/vm/interp/interpreter.js";
import { compileProgram } from "../src/vm/jit/codegen.js";
import { JitEngine } from "../src/vm/jit/engine.js";
import { BENCH_PROGRAMS, type BenchProgram, xdpSetup } from "./jit-progs.js";
import { randomProgram } from "../test/vm/jit/gen.js";

const quick = process.argv.includes("--quick");
const PROGS_DIR = process.env.TSBPF_BENCH_PROGS ?? resolve(process.cwd(), "../shared/bench/progs");
const OBJECTS: Record<string, string> = {
  alu_lcg: "01_alu_lcg", xdp_csum: "02_xdp_csum", bpf2bpf_call: "06_bpf2bpf_call", stack_memops: "07_stack_memops",
};
const INPUTS: Record<string, string> = {
  alu_lcg: "pkt_udp64", xdp_csum: "pkt_1500", bpf2bpf_call: "pkt_udp64", stack_memops: "pkt_udp64",
};

/** Best ns/run over `trials` trials of `runs` runs each. */
function timeRuns(fn: () => void, runs: number, trials: number): number {
  let best = Infinity;
  for (let t = 0; t < trials; t++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0) / runs;
    if (ns < best) best = ns;
  }
  return best;
}

/** Runs until `ms` have passed, so V8 tiers the wasm up to TurboFan before timing. */
function warm(fn: () => void, ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) for (let i = 0; i < 10; i++) fn();
}

class Kernel {
  private readonly pinned = new Map<string, string>();
  readonly reason: string | undefined;

  constructor() {
    this.reason = this.probe();
  }

  private probe(): string | undefined {
    if (process.getuid?.() !== 0) return "not root";
    if (!existsSync(`${PROGS_DIR}/build`)) return `no ${PROGS_DIR}/build`;
    try {
      execFileSync("bpftool", ["version"], { stdio: "pipe" });
    } catch {
      return "no bpftool";
    }
    if (!existsSync("/sys/fs/bpf")) return "no bpffs";
    return undefined;
  }

  /** Best ns/run of `trials` BPF_PROG_TEST_RUN calls with `repeat` runs each, or undefined. */
  run(name: string, repeat: number, trials: number): number | undefined {
    if (this.reason) return undefined;
    let pin = this.pinned.get(name);
    if (!pin) {
      pin = `/sys/fs/bpf/tsbpf_bench_${name}_${process.pid}`;
      mkdirSync("/sys/fs/bpf", { recursive: true });
      execFileSync("bpftool", ["prog", "load", `${PROGS_DIR}/build/${OBJECTS[name]}.bpf.o`, pin, "type", "xdp"], { stdio: "pipe" });
      this.pinned.set(name, pin);
    }
    let best = Infinity;
    for (let t = 0; t < trials; t++) {
      const out = execFileSync("bpftool", [
        "prog", "run", "pinned", pin, "data_in", `${PROGS_DIR}/inputs/${INPUTS[name]}.bin`, "repeat", String(repeat),
      ], { stdio: "pipe" }).toString();
      const m = /duration \(average\): (\d+)ns/.exec(out);
      if (m) best = Math.min(best, Number(m[1]));
    }
    return Number.isFinite(best) ? best : undefined;
  }

  close(): void {
    for (const pin of this.pinned.values()) rmSync(pin, { force: true });
  }
}

interface Row {
  name: string;
  insns: number;
  interpNs: number;
  jitNs: number;
  /** Checked mode: every access checked against the regions, the budget counted per block. */
  jitCheckedNs: number;
  kernelNs: number | undefined;
  kernelRef: number;
}

function benchProgram(p: BenchProgram, kernel: Kernel): Row {
  const a = xdpSetup(p.packet);
  const interp = new Interpreter(p.code, a.env);
  const r = interp.run(a.ctx);
  if (r !== p.expected) throw new Error(`${p.name}: interpreter returned ${r}, expected ${p.expected}`);
  const insns = interp.executed;
  const b = xdpSetup(p.packet);
  const jit = new JitEngine(p.code, b.env);
  const rj = jit.run(b.ctx);
  if (rj !== p.expected) throw new Error(`${p.name}: JIT returned ${rj}, expected ${p.expected}`);

  // Aim for ~40 ms per JIT trial and ~150 ms per interpreter trial.
  const jitRuns = Math.max(10, Math.round(40e6 / (insns * 0.3)));
  const interpRuns = Math.max(2, Math.round(150e6 / (insns * 20)));
  const interpNs = timeRuns(() => interp.run(a.ctx), interpRuns, quick ? 1 : 3);
  warm(() => jit.run(b.ctx), quick ? 200 : 500);
  const c = xdpSetup(p.packet, true);
  const checked = new JitEngine(p.code, c.env);
  if (checked.run(c.ctx) !== p.expected) throw new Error(`${p.name}: checked JIT returned a wrong value`);
  warm(() => checked.run(c.ctx), quick ? 100 : 300);
  const jitCheckedNs = timeRuns(() => checked.run(c.ctx), jitRuns, quick ? 2 : 5);
  checked.dispose();
  let jitNs = Infinity;
  let kernelNs: number | undefined;
  const rounds = quick ? 2 : 5;
  for (let round = 0; round < rounds; round++) {
    jitNs = Math.min(jitNs, timeRuns(() => jit.run(b.ctx), jitRuns, 2));
    const k = kernel.run(p.name, jitRuns, 1);
    if (k !== undefined) kernelNs = Math.min(kernelNs ?? Infinity, k);
  }
  interp.dispose();
  jit.dispose();
  return { name: p.name, insns, interpNs, jitNs, jitCheckedNs, kernelNs, kernelRef: p.kernelNs };
}

/**
 * Compile time per program size: our code generator alone, plus V8's
 * WebAssembly.Module (fresh bytes every time: V8 caches modules by their
 * bytes), plus instantiation and the first run (V8 compiles functions lazily,
 * with Liftoff, on their first call).
 */
function compileTimes(): Array<{ what: string; insns: number; genUs: number; moduleUs: number; firstRunUs: number }> {
  const out: Array<{ what: string; insns: number; genUs: number; moduleUs: number; firstRunUs: number }> = [];
  for (const n of [1000, 10_000, 50_000]) {
    const reps = n >= 50_000 ? 3 : n >= 10_000 ? 6 : 20;
    // Straight-line and branchy code, no irreducible loops: what compilers emit.
    const codes = Array.from({ length: reps + 1 }, (_, i) => randomProgram(777 + i, { insns: n, bufLen: 256 }).code);
    let gen = Infinity;
    let total = Infinity;
    let first = Infinity;
    codes.forEach((code, i) => {
      const t0 = process.hrtime.bigint();
      compileProgram(code, { checked: false, shared: false, maxPages: 65536, skipModule: true });
      const t1 = process.hrtime.bigint();
      const compiled = compileProgram(code, { checked: false, shared: false, maxPages: 65536 });
      const t2 = process.hrtime.bigint();
      const { env } = xdpSetup(new Uint8Array(256));
      const e = new JitEngine(code, env);
      try {
        e.run(0x10000, 256);
      } catch {
        // a random program may fault; the compile work is done either way
      }
      const t3 = process.hrtime.bigint();
      e.dispose();
      void compiled;
      if (i === 0) return; // warm-up
      gen = Math.min(gen, Number(t1 - t0) / 1000);
      total = Math.min(total, Number(t2 - t1) / 1000);
      first = Math.min(first, Number(t3 - t2) / 1000);
    });
    out.push({ what: `random ${n}`, insns: codes[0].length, genUs: gen, moduleUs: total, firstRunUs: total + first });
  }
  return out;
}

function main(): void {
  const kernel = new Kernel();
  const rows: Row[] = [];
  try {
    for (const p of BENCH_PROGRAMS) rows.push(benchProgram(p, kernel));
  } finally {
    kernel.close();
  }
  const f = (x: number, d = 0): string => x.toFixed(d);
  console.log(`kernel: ${kernel.reason ? `reference figures from ${PROGS_DIR}/README.md (${kernel.reason})` : "measured now with bpftool prog run (BPF_PROG_TEST_RUN)"}`);
  console.log(["program", "insns/run", "interp ns/run", "interp ns/insn", "jit ns/run", "jit ns/insn", "kernel ns/run", "kernel ns/insn", "jit/kernel", "jit checked ns/run"].join("\t"));
  const ratios: number[] = [];
  for (const r of rows) {
    const k = r.kernelNs ?? r.kernelRef;
    ratios.push(r.jitNs / k);
    console.log([
      r.name, r.insns, f(r.interpNs), f(r.interpNs / r.insns, 2), f(r.jitNs), f(r.jitNs / r.insns, 3),
      f(k), f(k / r.insns, 3), f(r.jitNs / k, 2), f(r.jitCheckedNs),
    ].join("\t"));
  }
  const geo = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
  console.log(`geometric mean jit/kernel: ${f(geo, 2)}; worst: ${f(Math.max(...ratios), 2)}`);
  console.log("\ncompile, us per 1000 insns\tinsns\tcodegen\tcodegen + WebAssembly.Module\t+ instantiate + first run (V8 compiles lazily)");
  for (const c of compileTimes()) {
    const per = (us: number): string => f((us * 1000) / c.insns);
    console.log([c.what, c.insns, per(c.genUs), per(c.moduleUs), per(c.firstRunUs)].join("\t"));
  }
}

main();
