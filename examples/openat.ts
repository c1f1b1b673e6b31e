/**
 * openat counter: counts openat() calls per process with a tracepoint program
 * and prints the busiest processes every second.
 *
 *   npm run example:openat -- [SECONDS=5] [TOP=10]
 *
 * The program attaches with no arguments: SEC("tracepoint/syscalls/
 * sys_enter_openat") says where. Needs root (bpf(), tracefs).
 */
import { fileURLToPath } from "node:url";
import { cstring, struct, u32, u64 } from "../src/api/codecs.js";
import { linuxBackend } from "../src/linux/backend.js";
import { objectSpecFromFile } from "../src/object/node.js";

const seconds = Number(process.argv[2] ?? 5);
const top = Number(process.argv[3] ?? 10);
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(top) || top <= 0) {
  console.error("usage: openat [SECONDS=5] [TOP=10]");
  process.exit(2);
}

/** struct counter in openat.bpf.c. */
const Counter = struct({ count: u64, comm: cstring(16) });

const spec = await objectSpecFromFile(fileURLToPath(new URL("openat.bpf.o", import.meta.url)));
using coll = linuxBackend().load(spec);
using link = coll.program("count_openat").attach();
const counts = coll.map("counts").typed(u32, Counter);
console.log(`counting openat() for ${seconds}s (link id ${link.id}); top ${top} every second\n`);

const previous = new Map<number, bigint>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (let t = 1; t <= seconds; t++) {
  await sleep(1000);
  const rows = [...counts.entries()].sort((a, b) => (b[1].count > a[1].count ? 1 : b[1].count < a[1].count ? -1 : 0));
  const total = rows.reduce((s, [, c]) => s + c.count, 0n);
  console.log(`--- ${t}s: ${rows.length} processes, ${total} openat() calls`);
  console.log(`${"PID".padStart(8)}  ${"COMM".padEnd(16)} ${"TOTAL".padStart(9)} ${"+1s".padStart(7)}`);
  for (const [pid, c] of rows.slice(0, top)) {
    const delta = c.count - (previous.get(pid) ?? 0n);
    console.log(`${String(pid).padStart(8)}  ${c.comm.padEnd(16)} ${String(c.count).padStart(9)} ${String(delta).padStart(7)}`);
  }
  for (const [pid, c] of rows) previous.set(pid, c.count);
}
