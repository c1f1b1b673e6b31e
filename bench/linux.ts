/**
 * The linux backend's user-space side, measured: what a Node program pays to
 * read a kernel map through bpf() (BPF_MAP_LOOKUP_ELEM per call: LinuxMap.lookup,
 * which copies the value into a new Buffer, and lookupInto, which writes it into
 * the caller's buffer and allocates nothing; BPF_MAP_LOOKUP_BATCH per element for
 * comparison), for an array and a hash map; and how many ring buffer records per
 * second flow from a program (test-run with repeat, one record per run) through
 * RingBufReader.
 *
 *   npm run bench:linux [-- --quick]
 *
 * Needs bpf() (root or CAP_BPF); elsewhere it says why and exits.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LinuxMap } from "../src/linux/map.js";
import { linuxBackend } from "../src/linux/backend.js";
import { RingBufReader } from "../src/linux/ringbuf.js";
import { syscallsAvailable } from "../src/linux/syscall.js";
import { MapType } from "../src/linux/constants.js";
import { ObjectSpec } from "../src/object/spec.js";

const quick = process.argv.includes("--quick");
const MS = quick ? 300 : 1500;
const N = 1024;

const fixtures = fileURLToPath(new URL("../test/fixtures/bench/", import.meta.url.replace("/bench/out/bench/", "/bench/")));

interface Row {
  readonly what: string;
  readonly nsPerOp: number;
  readonly note: string;
}
const rows: Row[] = [];

/**
 * ns per call of `op`: warm-up, then the best of five rounds (the machine is
 * shared; the minimum is the least disturbed figure).
 */
function measure(what: string, op: (i: number) => number, note = ""): void {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += op(i & (N - 1));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    let calls = 0;
    const t0 = process.hrtime.bigint();
    let t = t0;
    while (Number(t - t0) / 1e6 < MS / 5) {
      for (let i = 0; i < 5_000; i++) sink += op(i & (N - 1));
      calls += 5_000;
      t = process.hrtime.bigint();
    }
    best = Math.min(best, Number(t - t0) / calls);
  }
  if (sink === 0.5) console.log("");
  rows.push({ what, nsPerOp: best, note });
}

function kernelUnavailable(): string | null {
  if (!syscallsAvailable()) return `bpf() needs Linux x86-64 with koffi (this is ${process.platform}/${process.arch})`;
  try {
    LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }).close();
    return null;
  } catch (e) {
    return `BPF_MAP_CREATE failed: ${(e as Error).message} (need root or CAP_BPF)`;
  }
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

function mapLookups(): void {
  const keys = Array.from({ length: N }, (_, i) => u32((i * 7) % N));
  const value = Buffer.alloc(8, 0x5a);

  using array = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: N, name: "bench_array" });
  const out = new Uint8Array(array.valueBytes);
  measure("array lookup (LinuxMap.lookup)", (i) => array.lookup(keys[i])!.length, "u32 key, 8-byte value; a new Buffer per call");
  measure("array lookupInto", (i) => (array.lookupInto(keys[i], out) ? out[0] : 0), "same, into the caller's buffer");
  measure("array update", (i) => (array.update(keys[i], value), 1));
  const arrayBatch = batchPerElement(array);
  rows.push({ what: "array lookupBatch, per element", nsPerOp: arrayBatch, note: `${N} elements per dump` });

  using hash = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 8, maxEntries: 2 * N, name: "bench_hash" });
  const hkeys = Array.from({ length: N }, (_, i) => {
    const k = Buffer.alloc(16);
    for (let w = 0; w < 4; w++) k.writeUInt32LE((i * 2654435761 + w * 97) >>> 0, w * 4);
    return k;
  });
  for (const k of hkeys) hash.update(k, value);
  const miss = Buffer.alloc(16, 0xff);
  const hout = new Uint8Array(hash.valueBytes);
  measure("hash lookup (LinuxMap.lookup)", (i) => hash.lookup(hkeys[i])!.length, "16-byte key, hit; a new Buffer per call");
  measure("hash lookupInto", (i) => (hash.lookupInto(hkeys[i], hout) ? hout[0] : 0), "same, into the caller's buffer");
  measure("hash lookupInto (miss)", () => (hash.lookupInto(miss, hout) ? 1 : 0), "ENOENT");
  measure("hash update (existing key)", (i) => (hash.update(hkeys[i], value), 1));
  rows.push({ what: "hash lookupBatch, per element", nsPerOp: batchPerElement(hash), note: `${N} elements per dump` });
}

/** ns per element of a whole-map BPF_MAP_LOOKUP_BATCH dump (best of several). */
function batchPerElement(m: LinuxMap): number {
  let best = Infinity;
  const rounds = quick ? 10 : 40;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const n = m.lookupBatch().length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

/**
 * Ring buffer throughput with the benchmark suite's 08_ringbuf_ktime (24-byte
 * records into a 32 MiB ring, BPF_RB_NO_WAKEUP): the kernel produces `batch`
 * records in one test run, then RingBufReader.poll consumes them; rates for
 * each side and for the two in turn.
 */
function ringbuf(): { produce: number; consume: number; endToEnd: number; records: number } {
  const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(fixtures + "08_ringbuf_ktime.bpf.o")));
  using coll = linuxBackend().load(spec);
  const prog = coll.program("bench_ringbuf_ktime");
  using reader = new RingBufReader(coll.map("events").kernel);
  const data = new Uint8Array(readFileSync(fixtures + "inputs/pkt_udp64.bin"));
  // The ring holds 1,048,576 records of 32 bytes (header included): stay well under.
  const batch = quick ? 100_000 : 500_000;
  let bytes = 0;
  const consume = (d: Uint8Array, off: number, len: number): void => {
    bytes += len + d[off];
  };
  prog.run({ data, repeat: 1000 });
  reader.poll(consume);
  let produceNs = 0;
  let consumeNs = 0;
  let records = 0;
  const rounds = quick ? 3 : 8;
  let bestProduce = 0;
  let bestConsume = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const res = prog.run({ data, repeat: batch });
    const t1 = process.hrtime.bigint();
    if (res.retval !== 2) throw new Error(`bench_ringbuf_ktime returned ${res.retval} (ring full?)`);
    const n = reader.poll(consume);
    const t2 = process.hrtime.bigint();
    if (n !== batch) throw new Error(`consumed ${n} records, produced ${batch}`);
    produceNs += Number(t1 - t0);
    consumeNs += Number(t2 - t1);
    records += n;
    bestProduce = Math.max(bestProduce, batch / (Number(t1 - t0) / 1e9));
    bestConsume = Math.max(bestConsume, n / (Number(t2 - t1) / 1e9));
  }
  if (bytes === 0) throw new Error("no record bytes read");
  return { produce: bestProduce, consume: bestConsume, endToEnd: records / ((produceNs + consumeNs) / 1e9), records };
}

const reason = kernelUnavailable();
if (reason) {
  console.log(`bench:linux skipped: ${reason}`);
} else {
  console.log(`tsbpf linux backend: bpf() from Node ${process.version}, best of 5 rounds of ${MS / 5} ms${quick ? " (quick)" : ""}`);
  console.log("");
  mapLookups();
  const fmtNs = (ns: number): string => (ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} us` : `${ns.toFixed(0)} ns`);
  const fmtRate = (perS: number): string => (perS >= 1e6 ? `${(perS / 1e6).toFixed(2)} M` : `${(perS / 1e3).toFixed(0)} k`);
  const w = Math.max(48, ...rows.map((r) => r.what.length));
  console.log(`${"map operation (bpf() from Node)".padEnd(w)}  ${"per op".padStart(9)}  ${"ops/s".padStart(10)}  note`);
  for (const r of rows) {
    console.log(`${r.what.padEnd(w)}  ${fmtNs(r.nsPerOp).padStart(9)}  ${fmtRate(1e9 / r.nsPerOp).padStart(10)}  ${r.note}`);
  }
  const rb = ringbuf();
  console.log("");
  console.log(`${"ring buffer (08_ringbuf_ktime, 24-byte records)".padEnd(w)}  ${"records/s".padStart(9)}`);
  console.log(`${"  kernel producing (test run, repeat)".padEnd(w)}  ${fmtRate(rb.produce).padStart(9)}`);
  console.log(`${"  RingBufReader.poll consuming".padEnd(w)}  ${fmtRate(rb.consume).padStart(9)}`);
  console.log(`${"  produce then consume, in turn".padEnd(w)}  ${fmtRate(rb.endToEnd).padStart(9)}  (${rb.records} records)`);
}
