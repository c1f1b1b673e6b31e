/**
 * What the differential harness (fixtures.test.ts) does with each fixture
 * program: its inputs (default: by program type), map setup before the runs,
 * extra reads after them, what it normalises (only what cannot match, with
 * why), and the programs it skips or the kernel refuses, with why.
 *
 * Keys are fixture paths under test/fixtures ("maps/hash.bpf.o"), then
 * program names ("*": every program of the object, under the program's own
 * entry). A program not listed gets the defaults of its type.
 */
import { readFileSync, statSync } from "node:fs";
import assert from "node:assert/strict";
import type { Collection, RunOptions } from "../../src/api/types.js";
import type { ObjectSpec } from "../../src/object/spec.js";
import { type MapDump, type Snapshot, hostCpus } from "../helpers/both-backends.js";

/** include/uapi/linux/bpf.h, enum bpf_prog_type (the ones that matter here). */
export const PROG_TYPE = {
  SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7, CGROUP_SKB: 8,
  CGROUP_SOCK: 9, LWT_IN: 10, LWT_OUT: 11, LWT_XMIT: 12, SOCK_OPS: 13, SK_SKB: 14, CGROUP_DEVICE: 15, SK_MSG: 16,
  RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, LWT_SEG6LOCAL: 19, LIRC_MODE2: 20, SK_REUSEPORT: 21, FLOW_DISSECTOR: 22,
  CGROUP_SYSCTL: 23, RAW_TRACEPOINT_WRITABLE: 24, CGROUP_SOCKOPT: 25, TRACING: 26, STRUCT_OPS: 27, EXT: 28, LSM: 29,
  SK_LOOKUP: 30, SYSCALL: 31, NETFILTER: 32,
} as const;

/**
 * Program types whose bpf_prog_ops have a .test_run (net/bpf/test_run.c and
 * net/core/filter.c, kernel/trace/bpf_trace.c, as of Linux 6.18). Tracing
 * programs run only for fentry/fexit/fmod_ret; other tracing attach types
 * fail the run itself, which is compared like any result.
 */
export const TEST_RUN_TYPES: ReadonlySet<number> = new Set([
  PROG_TYPE.SOCKET_FILTER, PROG_TYPE.SCHED_CLS, PROG_TYPE.SCHED_ACT, PROG_TYPE.XDP, PROG_TYPE.CGROUP_SKB,
  PROG_TYPE.LWT_IN, PROG_TYPE.LWT_OUT, PROG_TYPE.LWT_XMIT, PROG_TYPE.RAW_TRACEPOINT, PROG_TYPE.FLOW_DISSECTOR,
  PROG_TYPE.TRACING, PROG_TYPE.SK_LOOKUP, PROG_TYPE.SYSCALL, PROG_TYPE.NETFILTER,
]);

export interface CaseSpec {
  /** Input of each run, in order; default: defaultRuns(type). */
  readonly runs?: readonly RunOptions[];
  /** Before the runs, in every backend alike. */
  readonly setup?: (c: Collection) => void;
  /** After the runs: more to compare (e.g. lookups with BPF_F_LOCK). */
  readonly probe?: (c: Collection) => unknown;
  /** Replaces what cannot match between backends (a clock, a random value) — the comment says what and why. */
  readonly normalize?: (s: Snapshot) => void;
  /** Facts about the result every backend must show (so a fixture cannot pass by doing nothing). */
  readonly check?: (o: Observed) => void;
  /** Written to be refused at load on every backend, and why (the verdict is what is compared). */
  readonly refused?: string;
  /** Not run at all, and why. */
  readonly skip?: string;
  /** Not compared against the kernel, and why (the JIT/interpreter comparison still runs). */
  readonly kernelSkip?: string;
  /**
   * A vm/kernel difference this case shows, found and reported but not fixed
   * here (the file it is in belongs to other work): what differs, precisely.
   * The kernel comparison then asserts that the two still differ.
   */
  readonly knownDifference?: string;
}

const fixture = (path: string): Uint8Array => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));

/** The benchmark suite's 64-byte UDP packet: 192.168.1.77:40000 -> 10.1.2.200:53, first byte 0x02. */
export const PKT_UDP64 = fixture("bench/inputs/pkt_udp64.bin");
export const PKT_MEMCACHED = fixture("bench/inputs/pkt_udp_memcached.bin");
export const PKT_1500 = fixture("bench/inputs/pkt_1500.bin");

/** A copy of `pkt` with bytes replaced at `offset`. */
export function patched(pkt: Uint8Array, offset: number, bytes: readonly number[]): Uint8Array {
  const out = Uint8Array.from(pkt);
  out.set(bytes, offset);
  return out;
}

/** Little-endian u64s: a raw tracepoint's arguments, a syscall program's context. */
export function u64s(...values: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigUint64(i * 8, BigInt(v), true));
  return out;
}

/**
 * struct bpf_sk_lookup (include/uapi/linux/bpf.h) for ctx_in: family AF_INET,
 * protocol TCP, 10.0.0.1:12345 -> 10.0.0.2:80.
 */
export function skLookupCtx(): Uint8Array {
  const b = new Uint8Array(72);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, 2, true); // family = AF_INET
  dv.setUint32(12, 6, true); // protocol = IPPROTO_TCP
  b.set([10, 0, 0, 1], 16); // remote_ip4
  dv.setUint16(36, 12345, false); // remote_port, network order
  b.set([10, 0, 0, 2], 40); // local_ip4
  dv.setUint32(60, 80, true); // local_port, host order
  // ingress_ifindex stays 0: the kernel refuses a test-run context with anything past local_port.
  return b;
}

const PACKET_TYPES: ReadonlySet<number> = new Set([
  PROG_TYPE.SOCKET_FILTER, PROG_TYPE.SCHED_CLS, PROG_TYPE.SCHED_ACT, PROG_TYPE.XDP, PROG_TYPE.CGROUP_SKB,
  PROG_TYPE.LWT_IN, PROG_TYPE.LWT_OUT, PROG_TYPE.LWT_XMIT, PROG_TYPE.FLOW_DISSECTOR, PROG_TYPE.NETFILTER,
]);

/** The input a program of `type` gets when its case names none. */
export function defaultRuns(type: number): RunOptions[] {
  if (PACKET_TYPES.has(type)) return [{ data: PKT_UDP64, repeat: 3 }];
  // Raw tracepoint runs take ctx_in only (no repeat): six arguments.
  if (type === PROG_TYPE.RAW_TRACEPOINT) return [{ ctx: u64s(1, 2, 3, 4, 5, 6) }];
  if (type === PROG_TYPE.SYSCALL) return [{ ctx: u64s(0x1122334455667788n, 42) }];
  if (type === PROG_TYPE.SK_LOOKUP) return [{ ctx: skLookupCtx() }];
  return [{}];
}

/** The records a ring buffer or perf event array map received, from a snapshot. */
export function records(s: Snapshot, map: string): string[] {
  const d: MapDump | undefined = s.maps[map];
  return d && "records" in d ? d.records : [];
}

/** Where a global variable of an object lives: its data map and byte range (from the DATASEC in BTF). */
export interface GlobalVar {
  readonly map: string;
  readonly offset: number;
  readonly size: number;
}

/** Every global of an object's .data, .bss and .rodata maps, by name. */
export function globalVars(spec: ObjectSpec): Map<string, GlobalVar> {
  const out = new Map<string, GlobalVar>();
  const btf = spec.btf;
  if (!btf) return out;
  for (const m of spec.maps.values()) {
    if (!m.btfValueTypeId || !["data", "bss", "rodata"].includes(m.source)) continue;
    const sec = btf.type(m.btfValueTypeId);
    if (sec.kind !== "datasec") continue;
    for (const v of sec.vars) {
      const t = btf.type(v.type);
      if (t.kind === "var") out.set(t.name, { map: m.name, offset: v.offset, size: v.size });
    }
  }
  return out;
}

/** A snapshot with its object's globals readable by name: what checks look at. */
export class Observed {
  constructor(
    readonly snapshot: Snapshot,
    private readonly vars: ReadonlyMap<string, GlobalVar>,
  ) {}

  bytes(name: string): Buffer {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no global '${name}' in the object`);
    const d = this.snapshot.maps[v.map];
    if (!d || !("entries" in d) || d.entries.length === 0) throw new Error(`map ${v.map} of '${name}' was not listed`);
    return Buffer.from(d.entries[0][1], "hex").subarray(v.offset, v.offset + v.size);
  }

  /** A global as signed 64-bit words (the fixtures' res[]). */
  words(name: string): bigint[] {
    const b = this.bytes(name);
    return Array.from({ length: b.length >> 3 }, (_, i) => b.readBigInt64LE(i * 8));
  }

  /** A char array global up to its NUL. */
  text(name: string): string {
    const b = this.bytes(name);
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? b.length : end).toString("latin1");
  }
}

const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};

/** The same value for every CPU, padded to 8 bytes each, as per-CPU map updates take it. */
function perCpu(value: Uint8Array): Uint8Array {
  const stride = (value.length + 7) & ~7;
  const out = new Uint8Array(stride * hostCpus());
  for (let c = 0; c < hostCpus(); c++) out.set(value, c * stride);
  return out;
}

/** RFC 768 / RFC 1071: `pkt` (Ethernet + IPv4 without options + UDP) with its UDP checksum filled in. */
export function withUdpChecksum(pkt: Uint8Array): Uint8Array {
  const out = Uint8Array.from(pkt);
  const ip = 14;
  const udp = ip + 20;
  const udpLen = (out[udp + 4] << 8) | out[udp + 5];
  out[udp + 6] = out[udp + 7] = 0;
  let sum = 17 + udpLen; // pseudo header: protocol and UDP length
  for (let i = ip + 12; i < ip + 20; i += 2) sum += (out[i] << 8) | out[i + 1];
  for (let i = 0; i < udpLen; i += 2) sum += (out[udp + i] << 8) | (i + 1 < udpLen ? out[udp + i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  out[udp + 6] = c >> 8;
  out[udp + 7] = c & 0xff;
  return out;
}

/** struct xdp_md for ctx_in (include/uapi/linux/bpf.h): data and data_end are offsets into data_in. */
function xdpMd(meta: number, size: number, ingressIfindex = 0, rxQueue = 0): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, meta, true);
  dv.setUint32(4, size, true);
  dv.setUint32(12, ingressIfindex, true);
  dv.setUint32(16, rxQueue, true);
  return b;
}

/** struct __sk_buff for ctx_in (include/uapi/linux/bpf.h, 192 bytes), with mark (offset 8), priority (32) and cb[0..4] (48) set. */
function skbCtx(mark: number, priority: number, cb: readonly number[]): Uint8Array {
  const b = new Uint8Array(192);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, mark, true);
  dv.setUint32(32, priority, true);
  cb.forEach((v, i) => dv.setUint32(48 + i * 4, v, true));
  return b;
}

/** Device and inode of this process's pid namespace: what bpf_get_ns_current_pid_tgid matches. */
function pidNsArgs(): Uint8Array {
  try {
    const st = statSync("/proc/self/ns/pid", { bigint: true });
    return u64s(st.dev, st.ino);
  } catch {
    return u64s(0, 0xeffffffc); // elsewhere: the vm's default, the initial namespace
  }
}

/** The benchmark manifest's routes (inputs/lpm_routes.txt) into an LPM trie, as bench.tsv's setup says. */
function benchRoutes(c: Collection): void {
  for (const line of readFileSync(new URL("../fixtures/bench/inputs/lpm_routes.txt", import.meta.url), "utf8").split("\n")) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
    if (!m) continue;
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, Number(m[5]), true);
    key.set([1, 2, 3, 4].map((i) => Number(m[i])), 4);
    c.map("routes").update(key, le32(Number(m[6])));
  }
}

/** An IPv4 route for an LPM trie keyed by struct { u32 prefixlen; u8 addr[4]; }. */
function route(c: Collection, map: string, addr: readonly number[], len: number, hop: number): void {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setUint32(0, len, true);
  key.set(addr, 4);
  c.map(map).update(key, le32(hop));
}

const retvals = (s: Snapshot): Array<number | string | undefined> => s.runs.map((r) => r.retval ?? r.error);

/** The runs returned `want`, in order (for the benchmarks: bench.tsv's expected_retval). */
const returns = (...want: number[]) => (o: Observed): void => assert.deepEqual(retvals(o.snapshot), want, "retvals");

/** res[i] (the fixture's global results array) for each i in `want`. */
const res = (want: Readonly<Record<number, number | bigint>>) => (o: Observed): void => {
  const r = o.words("res");
  for (const [i, v] of Object.entries(want)) assert.equal(r[Number(i)], BigInt(v), `res[${i}]`);
};

/** Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h), negated as helpers return them. */
const E = { ENOENT: -2, E2BIG: -7, EACCES: -13, EFAULT: -14, EEXIST: -17, EINVAL: -22, ERANGE: -34 } as const;

/**
 * spin_lock.bpf.c's struct locked { u32 count; struct bpf_spin_lock lock; u64 bytes; u64 max; },
 * with the lock word zero (the kernel ignores it in values from user space).
 */
function lockedValue(count: number, bytes: number, max: number): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, count, true);
  dv.setBigUint64(8, BigInt(bytes), true);
  dv.setBigUint64(16, BigInt(max), true);
  return b;
}

/** Once, then three times in one run (packets carry over between repetitions). */
const ONCE_THEN_REPEAT: readonly RunOptions[] = [{ data: PKT_UDP64 }, { data: PKT_UDP64, repeat: 3 }];

/** data_size_out of each run. */
const sizes = (...want: number[]) => (o: Observed): void =>
  assert.deepEqual(o.snapshot.runs.map((r) => r.dataSizeOut), want, "data_size_out");

const linuxFixtureOnly =
  "linux loader fixture: .kconfig values, .ksyms and kfuncs (bpf_task_from_pid) of the running kernel, which the vm does not have by design";

export const CASES: Readonly<Record<string, Readonly<Record<string, CaseSpec>>>> = {
  // ---- the benchmark objects: bench.tsv's inputs and expected return values
  "bench/00_empty.bpf.o": { bench_empty: { check: returns(2) } },
  "bench/01_alu_lcg.bpf.o": { bench_alu_lcg: { check: returns(2152991694) } },
  "bench/02_xdp_csum.bpf.o": { bench_xdp_csum: { runs: [{ data: PKT_1500, repeat: 3 }], check: returns(22089) } },
  "bench/03_xdp_parse_udp.bpf.o": { bench_xdp_parse_udp: { runs: [{ data: PKT_MEMCACHED, repeat: 3 }], check: returns(1) } },
  "bench/04_hash_map.bpf.o": { bench_hash_map: { check: returns(4) } },
  "bench/05_lpm_trie.bpf.o": { bench_lpm_trie: { setup: benchRoutes, check: returns(4101) } },
  "bench/06_bpf2bpf_call.bpf.o": { bench_bpf2bpf_call: { check: returns(2657953002) } },
  "bench/07_stack_memops.bpf.o": { bench_stack_memops: { check: returns(235012622) } },
  "bench/08_ringbuf_ktime.bpf.o": {
    bench_ringbuf_ktime: {
      check: returns(2),
      // Each record starts with bpf_ktime_get_ns(): the machine's clock, read at a
      // different moment by each backend. Kept: that the clock does not go back.
      normalize: (s) => {
        const recs = records(s, "events");
        const ts = recs.map((r) => Buffer.from(r, "hex").readBigUInt64LE(0));
        assert.ok(ts.every((t, i) => t > 0n && (i === 0 || t >= ts[i - 1])), "timestamps do not go back");
        s.maps.events = { records: recs.map((r) => "<ktime>" + r.slice(16)) };
      },
    },
  },

  // ---- objects written for other layers' tests
  "linux/loader.bpf.o": {
    globals: { kernelSkip: linuxFixtureOnly },
    externs: { kernelSkip: linuxFixtureOnly },
    typed_ksym: { kernelSkip: linuxFixtureOnly },
  },
  "linux/core.bpf.o": {
    core_task: { kernelSkip: "CO-RE against the kernel's task_struct (vmlinux BTF); the vm has no task_struct by design" },
  },
  "object/core.bpf.o": {
    core_direct: { kernelSkip: "CO-RE against the kernel's task_struct (vmlinux BTF); the vm has no task_struct by design" },
  },
  "verifier/timers.bpf.o": {
    "*": {
      // The programs arm bpf_timers whose callbacks run after the test run, on the
      // kernel's clock (a 1 µs timer re-armed every millisecond: `fired` and `last`, a
      // ktime, keep changing while the maps are read); the vm fires timers from the
      // host's event loop, never during a synchronous test. So the timer maps are not
      // compared; verdicts, return values, packets and the other maps are.
      normalize: (s) => {
        for (const m of ["timers", "htimers"]) if (s.maps[m]) s.maps[m] = { unlisted: "bpf_timer callbacks fire asynchronously after the run" };
      },
    },
  },
  "object/bigendian.bpfeb.o": {
    be_prog: { kernelSkip: "a big-endian object: this kernel runs little-endian BPF (the linux backend refuses it by design)" },
  },

  // ---- maps/
  "maps/array.bpf.o": {
    array_ops: {
      setup: (c) => c.map("percpu").update(le32(1), perCpu(Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0))),
      runs: [{ data: PKT_UDP64, repeat: 3 }, { data: patched(PKT_UDP64, 0, [5, 7]) }],
      check: res({ 0: 1, 1: E.E2BIG, 2: E.EEXIST, 3: 0, 4: E.EINVAL, 5: E.EINVAL, 6: 0, 7: 5, 8: 2, 9: 1, 10: 1 }),
    },
  },
  "maps/hash.bpf.o": {
    hash_ops: {
      runs: [{ data: PKT_UDP64, repeat: 2 }, { data: patched(PKT_UDP64, 34, [0x11, 0x11]) }],
      // The last run's results: a new flow into a full map (-E2BIG) for every insert.
      check: res({ 0: E.E2BIG, 1: E.E2BIG, 5: E.E2BIG, 6: E.ENOENT, 7: E.ENOENT, 8: E.ENOENT, 11: 20, 12: 12, 13: 1, 14: 0 }),
    },
  },
  // Which keys survive is the comparison (the map dumps); the counts show evictions happened.
  "maps/lru.bpf.o": { lru_churn: { runs: [{ data: PKT_UDP64, repeat: 2 }], check: res({ 0: 80, 2: 80, 7: 80 }) } },
  "maps/lpm_trie.bpf.o": {
    lpm_ops: {
      setup: (c) => {
        route(c, "routes", [192, 168, 1, 0], 24, 70);
        route(c, "routes", [10, 1, 2, 200], 32, 80);
      },
      check: res({ 5: E.EINVAL, 6: 4, 7: 3, 8: 2, 9: 1, 10: 99, 11: 70, 12: 80, 13: 0, 14: E.ENOENT, 15: 1 }),
    },
  },
  "maps/ringbuf.bpf.o": {
    ringbuf_ops: {
      runs: [{ data: PKT_UDP64, repeat: 2 }],
      check: (o) => {
        assert.equal(records(o.snapshot, "rb").length, 6, "records in rb");
        res({ 0: 0, 1: 0, 2: 1, 8: 4096, 9: 0, 11: 0 })(o);
      },
    },
    ringbuf_dynptr: {
      runs: [{ data: PKT_UDP64, repeat: 2 }],
      check: (o) => {
        assert.equal(records(o.snapshot, "rb").length, 2, "records in rb");
        // A reservation larger than the ring fails with -EINVAL (and must still be discarded).
        res({ 3: 0, 4: 0, 5: E.E2BIG, 6: E.EINVAL })(o);
      },
    },
  },
  "maps/perf_event_array.bpf.o": {
    perf_output: {
      runs: [{ data: PKT_UDP64, repeat: 2 }],
      check: (o) => {
        assert.equal(records(o.snapshot, "events").length, 4, "records in events");
        res({ 0: 0, 1: 0, 2: E.E2BIG, 3: E.ENOENT, 4: E.EINVAL, 7: 4 })(o);
      },
    },
  },
  "maps/prog_array.bpf.o": {
    dispatch: {
      runs: [0, 1, 2, 3, 9].map((b) => ({ data: patched(PKT_UDP64, 0, [b]) })),
      // slot 0: XDP_PASS, 1: XDP_TX, 2 (empty) and 9 (past the end) fall through, 3: the
      // self-loop, which stops when the run's 33 tail calls (MAX_TAIL_CALL_CNT,
      // include/linux/bpf.h) are used up: the dispatch's own and 32 of its own.
      check: returns(2, 3, 52, 133, 59),
    },
    dispatch_sub: {},
    // MAX_TAIL_CALL_CNT (include/linux/bpf.h): 33 tail calls, so 34 runs of the program.
    tail_loop: { runs: [{ data: PKT_UDP64 }], check: returns(134) },
  },
  "maps/map_in_map.bpf.o": {
    map_in_map: {
      runs: [{ data: patched(PKT_UDP64, 0, [0, 1]), repeat: 2 }, { data: patched(PKT_UDP64, 0, [1, 3]) }],
      check: res({ 0: 1, 1: 1, 2: 0, 3: E.EEXIST, 4: 1 }),
    },
  },
  "maps/queue_stack.bpf.o": {
    queue_stack: {
      runs: [{ data: PKT_UDP64 }],
      // A BPF_EXIST push into a full queue or stack drops its oldest element
      // (queue_stack_map_push_elem, kernel/bpf/queue_stack_maps.c): 10 goes from both.
      check: res({ 0: 0, 4: E.E2BIG, 9: E.E2BIG, 10: 0, 11: 0, 13: 11, 15: 12, 17: 99, 19: 13, 20: E.ENOENT, 21: E.ENOENT, 22: E.EINVAL }),
    },
  },
  "maps/bloom_filter.bpf.o": { bloom: { check: res({ 0: 0, 1: 0, 2: 0, 3: E.EINVAL }) } },
  "maps/stack_trace.bpf.o": { stack_args: { check: res({ 0: E.EINVAL, 1: E.EINVAL, 2: E.EINVAL, 3: E.EINVAL, 4: E.EINVAL }) } },
  "maps/storage.bpf.o": {
    // The second run finds the storage the first re-created (runs 0).
    task_store: {
      runs: [{ ctx: u64s(1) }, { ctx: u64s(2) }],
      check: res({ 0: 0, 1: 1, 2: 0, 3: E.ENOENT, 4: 0, 5: 1 }),
    },
    // A tc test run's skb carries a socket the kernel makes for it (AF_INET here).
    sock_store: {
      check: res({ 6: 1, 7: 0, 8: E.ENOENT, 9: 2 }),
    },
  },

  // ---- helpers/
  "helpers/map_ops.bpf.o": {
    // 505: the values 10i+1 plus the keys 0..9; 134: the first four doubled; the per-CPU
    // walk sees only this CPU's values; CPU 2 does not exist (NULL).
    for_each: { check: res({ 0: 10, 1: 505, 2: 4, 3: 134, 4: 6, 6: E.EINVAL, 7: 3, 8: 8, 9: 77, 10: 0, 11: -1 }) },
  },
  "helpers/printk.bpf.o": {
    formats: {
      check: (o) => {
        assert.equal(o.text("out_ints"), "-42 42 48879 cafe CAFE -1 123456789abcdef|    7|7    |00007|Z|+3%");
        assert.equal(o.text("out_strs"), "[tsbpf] [     vm!] [tsbpf   ] [tsbpf]");
        assert.equal(o.text("out_addrs"), "192.168.1.77 192.168.001.077 2001:0db8:0000:0000:0000:0000:0000:0042 20010db8000000000000000000000042");
        // Truncated to the buffer; the return value counts the whole text and its NUL.
        assert.equal(o.text("out_short"), "n=12345");
        assert.equal(o.text("out_ptr"), "ffff88800badf00d");
        res({ 3: 13, 7: 10 })(o);
      },
    },
    bad_conversion: { refused: "bpf_snprintf's constant format holds %n (check_bpf_snprintf_call: \"Invalid format string\")" },
    missing_args: { refused: "bpf_snprintf's constant format has two conversions for one argument (check_bpf_snprintf_call)" },
  },
  "helpers/time.bpf.o": { clocks: { check: res({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 }) } },
  "helpers/ids.bpf.o": {
    ids: {
      runs: [{ ctx: pidNsArgs() }],
      check: (o) => {
        res({ 2: 0, 3: 0, 4: 0, 10: 0, 12: E.EINVAL, 13: 1 })(o);
        assert.equal(o.words("res")[0], (BigInt(process.pid) << 32n) | BigInt(process.pid), "pid_tgid of this thread");
      },
    },
  },
  "helpers/probe_read.bpf.o": {
    probe_read: {
      check: (o) => {
        // Addresses in the user range (NULL, 16) are -ERANGE: copy_from_kernel_nofault_allowed
        // (arch/x86/mm/maccess.c) refuses them before any fault; the destination is zeroed.
        res({ 0: 0, 1: 0, 2: 13, 3: 6, 4: E.ERANGE, 5: E.ERANGE, 6: 0 })(o);
        assert.deepEqual([o.text("out_stack"), o.text("out_map"), o.text("out_str"), o.text("out_trunc")], ["stack bytes!", "value in a map", "hello, probe", "hello"]);
        assert.deepEqual([o.text("out_fault"), o.text("out_fault_str")], ["", ""]);
      },
    },
  },
  "helpers/loop.bpf.o": {
    loops: {
      // The verifier inlines bpf_loop when flags are 0 (inline_bpf_loop, kernel/bpf/verifier.c):
      // its -E2BIG is a 32-bit move, so the 64-bit result is 0xfffffff9.
      check: res({ 0: 100, 1: 4950, 2: 7, 3: 21, 4: 0, 5: 0xfffffff9, 6: E.EINVAL, 7: 5, 8: 20, 9: 15 }),
    },
  },
  "helpers/strings.bpf.o": {
    strs: {
      check: (o) => {
        res({ 0: 0, 1: 1, 2: 1, 3: 1, 4: 6, 5: 4, 6: 4, 7: 4, 8: E.ERANGE, 9: E.EINVAL, 10: E.EINVAL, 11: E.EINVAL, 12: E.EINVAL, 13: 4, 14: 6 })(o);
        assert.deepEqual(o.words("vals").slice(0, 4), [-123n, 31n, 511n, 31n]);
      },
    },
  },
  "helpers/spin_lock.bpf.o": {
    peek: {
      // User space writes with BPF_F_LOCK (update under the value's lock; an absent
      // hash key is created), the program reads, user space reads back under the lock.
      setup: (c) => {
        c.map("by_slot").update(le32(1), lockedValue(5, 500, 50), 4 /* BPF_F_LOCK */);
        c.map("by_proto").update(le32(0x0008), lockedValue(1, 2, 3), 4);
        c.map("by_proto").update(le32(0x0008), lockedValue(7, 8, 9), 4 | 2 /* BPF_F_LOCK | BPF_EXIST */);
      },
      probe: (c) => ({
        slot1: hex(c.map("by_slot").lookup(le32(1), 4)),
        ipv4: hex(c.map("by_proto").lookup(le32(0x0008), 4)),
      }),
      check: res({ 0: 5, 1: 500, 2: 9 }),
    },
    locked_count: {
      // What user space reads with BPF_F_LOCK (the kernel copies the value under its lock).
      probe: (c) => ({
        slot1: hex(c.map("by_slot").lookup(le32(1), 4 /* BPF_F_LOCK */)),
        ipv4: hex(c.map("by_proto").lookup(le32(0x0008), 4)),
      }),
    },
  },

  // ---- progtypes/
  "progtypes/xdp.bpf.o": {
    // Each once, then with repeat 3: the repetitions run on the packet as the last one
    // left it, so the adjustments add up (until one no longer fits).
    push_header: { runs: ONCE_THEN_REPEAT, check: sizes(78, 106) },
    pull_header: { runs: ONCE_THEN_REPEAT, check: sizes(50, 22) },
    grow_tail: { runs: ONCE_THEN_REPEAT, check: (o) => (sizes(80, 112)(o), res({ 0: 0, 1: 112, 2: 0, 3: 0, 4: 0xaf, 5: E.EINVAL, 6: E.EINVAL })(o)) },
    shrink_tail: { runs: ONCE_THEN_REPEAT, check: sizes(44, 24) },
    meta: {
      runs: [
        { data: PKT_UDP64 },
        // Eight bytes of metadata in front of the packet (ctx_in data = 8).
        { data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, ...PKT_UDP64), ctx: xdpMd(8, 72) },
      ],
      // data_out starts at data_meta; ctx_out says where data now starts (16 bytes of metadata).
      check: (o) => (sizes(72, 80)(o), res({ 0: 8, 1: 0xefbeadde, 2: 0, 3: 16, 4: E.EACCES, 5: E.EINVAL })(o)),
    },
    md_fields: {
      // bpf_redirect to ingress_ifindex: XDP_REDIRECT (4) either way; ifindex 1 (lo) from ctx_in.
      runs: [{ data: PKT_UDP64 }, { data: PKT_UDP64, ctx: xdpMd(0, 64, 1, 0) }],
      check: (o) => (returns(4, 4)(o), res({ 0: 1, 1: 0, 3: 64 })(o)),
    },
  },
  "progtypes/tc.bpf.o": {
    rewrite_dst: {
      runs: [{ data: withUdpChecksum(PKT_UDP64), repeat: 2 }],
      check: res({ 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: E.EFAULT, 7: E.EINVAL, 8: E.EINVAL }),
    },
    // A valid IPv4 header sums to 0xffff. Since the Linux 6.12 rework of bpf_csum_diff
    // (net/core/filter.c: csum_partial over each buffer, folded) sizes need not be
    // multiples of 4: res[3] is a checksum, not -EINVAL.
    csum: { check: res({ 0: 0xffff }) },
    change_tail: { runs: [{ data: PKT_UDP64 }], check: res({ 0: 0, 1: 0, 2: 72, 3: 0, 4: 54, 5: E.EINVAL, 6: E.EINVAL }) },
    vlan: {
      runs: [{ data: PKT_UDP64 }],
      // The first tag goes into skb->vlan_tci (no bytes move); pushing a second moves the
      // first into the packet (+4 bytes); popping leaves it there. vlan_proto reads in
      // network order (0x8100 -> 0x0081).
      check: (o) => (sizes(68)(o), res({ 0: 0, 1: 1, 2: 100, 3: 0x81, 4: 0, 5: 68, 6: 0, 7: 100, 8: 64, 9: 0 })(o)),
    },
    fields: {
      // ctx_out: the mark, priority, cb[1] and tc_classid the program wrote.
      runs: [{ data: PKT_UDP64 }, { data: PKT_UDP64, ctx: skbCtx(7, 3, [1, 2, 3, 4, 5]) }],
      check: (o) => (returns(7, 7)(o), res({ 0: 64, 3: 7, 4: 3, 5: 6, 11: 64, 13: 0 })(o)),
    },
  },
  "progtypes/socket_filter.bpf.o": {
    classic: { check: (o) => (returns(42)(o), res({ 0: 50, 1: 17, 2: 0xc0a8014d, 3: 53, 4: 0, 5: 64 })(o)) },
    past_end: { check: returns(0) },
  },
  "progtypes/raw_tp.bpf.o": {
    args: {
      runs: [
        { ctx: u64s(5, 7, 11, 13) },
        { ctx: u64s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) },
        // BPF_F_TEST_RUN_ON_CPU (include/uapi/linux/bpf.h): run on CPU 1.
        { ctx: u64s(0, 1, 0, 0), flags: 1, cpu: 1 },
      ],
      check: (o) => (returns(12, 3, 1)(o), res({ 3: 1 })(o)),
    },
    wide_args: {
      // net/bpf/test_run.c, bpf_prog_test_run_raw_tp: ctx_size_in < prog->aux->max_ctx_offset is -EINVAL.
      runs: [{ ctx: u64s(1, 2, 3, 4, 5, 6) }, { ctx: u64s(1, 2) }],
    },
  },
  "progtypes/syscall.bpf.o": {
    // The byte sum of `in` (36), written back into the context with count + 1.
    sys_prog: { runs: [{ ctx: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0) }], check: returns(36) },
  },
  "progtypes/flow_dissector.bpf.o": {
    dissect: {
      runs: [{ data: PKT_UDP64 }, { data: PKT_MEMCACHED, repeat: 2 }],
      check: returns(0, 0),
    },
  },
  "progtypes/sk_lookup.bpf.o": { lookup: { check: (o) => (returns(1)(o), res({ 0: 2, 1: 6, 5: 80 })(o)) } },
  "progtypes/cgroup_skb.bpf.o": { egress: { check: (o) => (returns(1)(o), res({ 0: 50, 2: 17 })(o)) } },
};

const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "(absent)");
