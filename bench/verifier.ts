/**
 * Verification time, ours against the kernel's, side by side in one run: every
 * benchmark object (test/fixtures/bench/*.o) and the biggest programs of the
 * verifier corpus. Ours is verify()'s own clock at log level 0 (the vm loader's
 * map creation and relocation excluded); the kernel's is the "verification time
 * N usec" line BPF_LOG_STATS adds to the log (log_level 4). Each side takes the
 * best of several trials, alternating; the ratio is ours / the kernel's.
 *
 *   npm run bench:verifier [-- --trials N] [-- --only SUBSTRING]
 */
import { linuxBackend } from "../src/linux/backend.js";
import { ProgramLoadError } from "../src/linux/load/programs.js";
import { type RecordedProgram, loadIntoVm, objectSpec, recordedPrograms } from "../test/vm/verifier/programs.js";
import { runKernel } from "../test/vm/verifier/differential.js";
import { runVerifier } from "../test/vm/verifier/harness.js";
import { kernelUnavailable } from "../test/vm/verifier/kernel-load.js";

const args = process.argv.slice(2);
const trials = Number(args[args.indexOf("--trials") + 1]) || 5;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

/** The corpus programs worth timing: the benchmark objects and the biggest of the rest. */
const BIG = [
  "asm/cfg: bounded loop 10000", "asm/cfg: bounded loop 200000", "asm/cfg: unbounded counter",
  "verifier/bounded_loop.bpf.o:bounded_loop", "verifier/calls.bpf.o:loop_sum_value", "verifier/calls.bpf.o:loop_bpf_loop",
  "verifier/pkt_parse.bpf.o:xdp_parse_vlan", "verifier/pkt_parse.bpf.o:xdp_parse_tcp",
];
const programs = recordedPrograms().filter((p) => (p.name.startsWith("bench/") || BIG.includes(p.name)) && (!only || p.name.includes(only)));

const usecOf = (log: string): number => Number(/verification time (\d+) usec/.exec(log)?.[1] ?? NaN);
const processedOf = (log: string): number => Number(/processed (\d+) insns/.exec(log)?.[1] ?? -1);

function ours(p: RecordedProgram): { us: number; processed: number } {
  if (p.kind === "asm") {
    const r = runVerifier(p.prog, { logLevel: 0 });
    return { us: r.stats.timeUs, processed: r.stats.processedInsns };
  }
  const o = loadIntoVm(p, 0);
  for (const { fd } of o.loaded?.programs.values() ?? []) o.kernel.close(fd);
  for (const { fd } of o.loaded?.maps.values() ?? []) o.kernel.close(fd);
  return { us: o.outcome?.stats?.timeUs ?? NaN, processed: o.outcome?.processedInsns ?? -1 };
}

/** log_level BPF_LOG_STATS (4) alone: the kernel then prints only the statistics. */
function kernel(p: RecordedProgram): { us: number; processed: number } {
  if (p.kind === "asm") {
    const k = runKernel(p.prog, 4, 1 << 20);
    return { us: usecOf(k.log), processed: k.processed };
  }
  try {
    using coll = linuxBackend().load(objectSpec(p.file), { programs: [p.program], logLevel: 4 });
    const log = (coll.program(p.program) as unknown as { verifierLog: string }).verifierLog;
    return { us: usecOf(log), processed: processedOf(log) };
  } catch (e) {
    if (e instanceof ProgramLoadError) return { us: usecOf(e.log), processed: processedOf(e.log) };
    throw e;
  }
}

const why = kernelUnavailable();
if (why) console.log(`kernel side off: ${why}`);
const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(`verification time, best of ${trials} (µs); ratio = ours / kernel\n`);
console.log(`${"program".padEnd(52)} ${pad("processed", 10)} ${pad("ours µs", 10)} ${pad("kernel µs", 10)} ${pad("ratio", 7)} ${pad("ours ns/insn", 13)}`);
const ratios: number[] = [];
for (const p of programs) {
  let bestOurs = Infinity, bestKernel = Infinity, processed = -1, kProcessed = -1;
  for (let t = 0; t < trials; t++) {
    const o = ours(p);
    bestOurs = Math.min(bestOurs, o.us);
    processed = o.processed;
    if (!why) {
      const k = kernel(p);
      bestKernel = Math.min(bestKernel, k.us);
      kProcessed = k.processed;
    }
  }
  const ratio = why ? NaN : bestOurs / Math.max(1, bestKernel);
  if (Number.isFinite(ratio)) ratios.push(ratio);
  const note = !why && kProcessed !== processed ? `  (kernel processed ${kProcessed})` : "";
  console.log(`${p.name.padEnd(52)} ${pad(processed, 10)} ${pad(bestOurs, 10)} ${pad(why ? "-" : bestKernel, 10)} ${pad(why ? "-" : ratio.toFixed(1), 7)} ${pad(processed > 0 ? ((bestOurs * 1000) / processed).toFixed(0) : "-", 13)}${note}`);
}
if (ratios.length) {
  const geo = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
  console.log(`\ngeometric mean ratio ${geo.toFixed(1)} over ${ratios.length} programs`);
}
