/**
 * Ring buffer events: every exec() in the system streamed from the
 * sched:sched_process_exec tracepoint through a BPF ring buffer to an async
 * iterator, printed as they arrive. So there is always something to see, the
 * example also runs a few short commands of its own.
 *
 *   npm run example:exec -- [SECONDS=5]
 *
 * Needs root (bpf(), tracefs).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cstring, struct, u32, u64 } from "../src/api/codecs.js";
import { linuxBackend } from "../src/linux/backend.js";
import { RingBufReader } from "../src/linux/ringbuf.js";
import { objectSpecFromFile } from "../src/object/node.js";

const seconds = Number(process.argv[2] ?? 5);
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error("usage: exec-events [SECONDS=5]");
  process.exit(2);
}

/** struct event in exec_events.bpf.c. */
const Event = struct({ pid: u32, uid: u32, timeNs: u64, comm: cstring(16), filename: cstring(128) });

const spec = await objectSpecFromFile(fileURLToPath(new URL("exec_events.bpf.o", import.meta.url)));
using coll = linuxBackend().load(spec);
using link = coll.program("on_exec").attach();
using events = new RingBufReader(coll.map("events").kernel);
console.log(`tracing exec() for ${seconds}s (link ${link.id})\n${"PID".padStart(8)} ${"UID".padStart(6)}  ${"COMM".padEnd(16)} FILENAME`);

// Some exec()s of our own, once a second.
const demo = setInterval(() => spawn("/bin/sh", ["-c", "true"], { stdio: "ignore" }), 1000);
const stop = setTimeout(() => events.close(), seconds * 1000);

let n = 0;
for await (const record of events) {
  const e = Event.decode(record);
  n++;
  console.log(`${String(e.pid).padStart(8)} ${String(e.uid).padStart(6)}  ${e.comm.padEnd(16)} ${e.filename}`);
}
clearInterval(demo);
clearTimeout(stop);
console.log(`\n${n} exec events`);
