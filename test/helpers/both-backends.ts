/**
 * Differential testing across backends: the same object bytes loaded into each
 * backend given (vm, linux, ...), then run and compared — return values,
 * output packets, and full map contents. Written against the Backend interface
 * only, so any backend factory fits.
 *
 *   using all = loadInBackends(bytes, await availableBackends());
 *   const runs = all.run("xdp_prog", { data: pkt });     // { vm: RunResult, linux: RunResult }
 *   expect(runs.vm.retval).toBe(runs.linux.retval);
 *   expect(all.mapContents().vm).toEqual(all.mapContents().linux);
 *
 * The second half (snapshot()) is what test/differential builds on: one
 * backend at a time, a program's runs, and the *complete* state after them —
 * every map, including the ones mapContents() leaves out (ring buffer and perf
 * buffer records, queue/stack contents, prog-array and map-in-map slots by
 * name), with a reason for what cannot be listed at all. Reading ring and
 * perf buffers takes each backend's own readers (EventTaps); everything else
 * goes through the Backend interface.
 */
import { readFileSync, statSync } from "node:fs";
import type { Backend, Collection, LoadOptions, MapHandle, RunOptions, RunResult } from "../../src/api/types.js";
import { LinuxCollection } from "../../src/linux/api/collection.js";
import { possibleCpus } from "../../src/linux/fs.js";
import { PerfBufReader as LinuxPerfReader } from "../../src/linux/perfbuf.js";
import { RingBufReader as LinuxRingReader } from "../../src/linux/ringbuf.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { VmCollection, type VmMapHandle, vmBackend } from "../../src/vm/backend.js";
import { type HostEnv, realHost } from "../../src/vm/host.js";
import { PerfEventArrayMap } from "../../src/vm/maps/perf_event_array.js";
import { RingBufMap } from "../../src/vm/maps/ringbuf.js";
import { PerfBufReader as VmPerfReader } from "../../src/vm/readers/perf.js";
import { RingBufReader as VmRingReader } from "../../src/vm/readers/ringbuf.js";
import { kernelUnavailableReason } from "./kernel.js";

export type BackendFactory = () => Backend;

/** A map's entries as [key hex, value hex], sorted by key; or why they cannot be listed. */
export type MapContents = Array<[string, string]> | { readonly unreadable: string };

export interface LoadInBackendsOptions {
  /** Object name (prefix of internal map names); default: the object's own (STT_FILE). */
  readonly name?: string;
  readonly load?: LoadOptions;
  /** Adjusts each backend's own copy of the spec before it loads (e.g. .rodata values). */
  readonly prepare?: (spec: ObjectSpec) => void;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/**
 * Map types whose values are backend-local handles (program or map ids, fds),
 * or that cannot be iterated from user space: left out of comparisons.
 * include/uapi/linux/bpf.h, enum bpf_map_type.
 */
const NOT_COMPARABLE: ReadonlySet<string> = new Set([
  "prog_array", "perf_event_array", "array_of_maps", "hash_of_maps", "ringbuf", "user_ringbuf", "queue", "stack",
  "bloom_filter", "cgroup_array", "stack_trace", "devmap", "devmap_hash", "cpumap", "xskmap", "sockmap", "sockhash",
  "reuseport_sockarray", "sk_storage", "inode_storage", "task_storage", "cgrp_storage", "struct_ops", "arena",
]);

/** The entries of every comparable map of a collection. */
export function mapContents(c: Collection): Record<string, MapContents> {
  const out: Record<string, MapContents> = {};
  for (const [name, m] of c.maps) {
    const type = m.info.type;
    if (NOT_COMPARABLE.has(type)) continue;
    try {
      out[name] = [...m.entries()].map(([k, v]): [string, string] => [hex(k), hex(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    } catch (e) {
      out[name] = { unreadable: (e as Error).message };
    }
  }
  return out;
}

export class LoadedEverywhere implements Disposable {
  constructor(readonly collections: ReadonlyMap<string, Collection>) {}

  /** The backends' names, in the order given ("linux", "vm"; a repeated kind gets "#2"). */
  get backends(): string[] {
    return [...this.collections.keys()];
  }

  collection(backend: string): Collection {
    const c = this.collections.get(backend);
    if (!c) throw new Error(`not loaded in backend '${backend}' (have: ${this.backends.join(", ")})`);
    return c;
  }

  /** Runs `program` once in each backend with the same options (each gets its own copy of the input). */
  run(program: string, options: RunOptions = {}): Record<string, RunResult> {
    const out: Record<string, RunResult> = {};
    for (const [name, c] of this.collections) {
      out[name] = c.program(program).run({
        ...options,
        ...(options.data ? { data: Uint8Array.from(options.data) } : {}),
        ...(options.ctx ? { ctx: Uint8Array.from(options.ctx) } : {}),
      });
    }
    return out;
  }

  /** mapContents() of each backend's collection. */
  mapContents(): Record<string, Record<string, MapContents>> {
    return Object.fromEntries([...this.collections].map(([name, c]) => [name, mapContents(c)]));
  }

  [Symbol.dispose](): void {
    for (const c of this.collections.values()) c[Symbol.dispose]();
  }
}

/**
 * Loads the same bytes into every backend. Each backend gets its own spec
 * (a spec is plain data, but a load may read it while another is adjusted).
 * If one backend refuses, the collections loaded so far are disposed and the
 * error names the backend.
 */
export function loadInBackends(bytes: Uint8Array, factories: readonly BackendFactory[], opts: LoadInBackendsOptions = {}): LoadedEverywhere {
  const loaded = new Map<string, Collection>();
  try {
    for (const make of factories) {
      const backend = make();
      const spec = ObjectSpec.fromBytes(bytes, opts.name ? { name: opts.name } : {});
      opts.prepare?.(spec);
      // Two backends of one kind (e.g. the vm's interpreter and JIT) get "vm", "vm#2".
      let key: string = backend.name;
      for (let n = 2; loaded.has(key); n++) key = `${backend.name}#${n}`;
      try {
        loaded.set(key, backend.load(spec, opts.load));
      } catch (e) {
        throw new Error(`${backend.name} backend: ${(e as Error).message}`, { cause: e });
      }
    }
  } catch (e) {
    for (const c of loaded.values()) c[Symbol.dispose]();
    throw e;
  }
  return new LoadedEverywhere(loaded);
}

/** Backend modules by name: each exports a factory function of that name. */
const MODULES: ReadonlyArray<{ readonly path: string; readonly factory: string; readonly needsKernel: boolean }> = [
  { path: "../../src/vm/backend.js", factory: "vmBackend", needsKernel: false },
  { path: "../../src/linux/backend.js", factory: "linuxBackend", needsKernel: true },
];

/**
 * The backends available here: vm when its module exists, linux when bpf()
 * works. Modules are imported by a computed path so this compiles before a
 * backend exists.
 */
export async function availableBackends(): Promise<BackendFactory[]> {
  const out: BackendFactory[] = [];
  for (const m of MODULES) {
    if (m.needsKernel && kernelUnavailableReason() !== null) continue;
    let mod: unknown;
    try {
      mod = await import(/* @vite-ignore */ m.path);
    } catch {
      continue;
    }
    const f = (mod as Record<string, unknown>)[m.factory];
    if (typeof f === "function") out.push(f as BackendFactory);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Complete state, one backend at a time (test/differential)

/** A backend with the label a comparison prints ("vm-jit", "vm-interp", "linux"). */
export interface NamedBackend {
  readonly label: string;
  readonly make: BackendFactory;
}

/** CPUs the kernel has (possible CPUs), so per-CPU values have the same layout in the vm; 2 elsewhere. */
export function hostCpus(): number {
  if (kernelUnavailableReason() !== null) return 2;
  return possibleCpus();
}

/**
 * The vm's host, made to answer as the kernel does for a test run from this
 * process: the current task is this thread (pid = tgid = process.pid for
 * Node's main thread), its comm is the kernel's (/proc/self/comm: Node
 * and vitest rename their processes, so the default "node" may not be it),
 * and its pid namespace is the one /proc/self/ns/pid names (containers have
 * their own), which bpf_get_ns_current_pid_tgid matches by device and inode.
 */
export function differentialHost(): HostEnv {
  const host = realHost();
  let comm = host.task.comm;
  let pidNamespace: HostEnv["pidNamespace"];
  try {
    comm = readFileSync("/proc/self/comm", "utf8").replace(/\n$/, "");
    const ns = statSync("/proc/self/ns/pid");
    pidNamespace = { dev: ns.dev, ino: ns.ino, pid: host.task.pid, tgid: host.task.tgid };
  } catch {
    // Not Linux: the vm's defaults stand.
  }
  return { ...host, task: { ...host.task, comm }, ...(pidNamespace ? { pidNamespace } : {}) };
}

/** The vm with its JIT and with its interpreter, sized and hosted like this machine's kernel. */
export function vmEngines(): NamedBackend[] {
  const common = { ncpus: hostCpus(), host: differentialHost() };
  return [
    { label: "vm-jit", make: () => vmBackend({ ...common, engine: "jit" }) },
    { label: "vm-interp", make: () => vmBackend({ ...common, engine: "interp" }) },
  ];
}

/** A map's complete contents, as JSON-comparable data. */
export type MapDump =
  /** Key → value (hex), sorted by key: arrays, hashes, LRU, LPM, per-CPU maps (every CPU's value), stack traces. */
  | { readonly entries: Array<[string, string]> }
  /** Prog arrays and maps of maps: key → "prog NAME" / "map NAME" (ids are backend-local; names are not). */
  | { readonly slots: Array<[string, string]> }
  /** Queues and stacks: the values in pop order (popping empties the map). */
  | { readonly popped: string[] }
  /** Ring buffers: committed records in order; perf event arrays: "cpu N hex" samples and "cpu N lost K". */
  | { readonly records: string[] }
  /** A map user space cannot list, and why. */
  | { readonly unlisted: string }
  /** A listing the backend refused (errno name or message). */
  | { readonly error: string };

const byKey = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Map types user space cannot list, with why (include/uapi/linux/bpf.h, enum
 * bpf_map_type names as bpftool prints them).
 */
export const UNLISTED: ReadonlyMap<string, string> = new Map([
  ["bloom_filter", "a bloom filter has no keys (no get_next_key); fixtures record their peeks in a listed map"],
  ["task_storage", "local storage is keyed by an owner fd and has no get_next_key; fixtures copy what they store"],
  ["sk_storage", "local storage is keyed by an owner fd and has no get_next_key; fixtures copy what they store"],
  ["inode_storage", "local storage is keyed by an owner fd and has no get_next_key"],
  ["cgrp_storage", "local storage is keyed by an owner fd and has no get_next_key"],
  ["user_ringbuf", "user space produces into a user ring buffer; there is nothing to read back"],
  ["cgroup_array", "values are cgroup fds, local to the process"],
  ["devmap", "values are device indexes of this machine"],
  ["devmap_hash", "values are device indexes of this machine"],
  ["cpumap", "values hold kernel queue state"],
  ["xskmap", "values are AF_XDP socket fds"],
  ["sockmap", "values are socket fds"],
  ["sockhash", "values are socket fds"],
  ["reuseport_sockarray", "values are socket fds"],
  ["struct_ops", "the value is a kernel structure"],
  ["arena", "an arena has no elements, only pages"],
]);

const errorText = (e: unknown): string => {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : (e as Error).message;
};

/**
 * Readers of a collection's event maps, opened before the runs (a perf event
 * array only delivers to CPUs that have a reader, as with libbpf's
 * perf_buffer) and drained after: records by map name.
 */
export class EventTaps implements Disposable {
  private readonly drains = new Map<string, () => string[]>();
  private readonly closers: Array<() => void> = [];

  constructor(c: Collection) {
    for (const [name, h] of c.maps) {
      const type = h.info.type;
      if (type !== "ringbuf" && type !== "perf_event_array") continue;
      if (c instanceof VmCollection) this.openVm(name, h as VmMapHandle);
      else if (c instanceof LinuxCollection) this.openLinux(name, c, type);
    }
  }

  private openVm(name: string, h: VmMapHandle): void {
    const map = h.kernel.mapObject(h.fd, `open reader of ${name}`).map;
    if (map instanceof RingBufMap) {
      const r = new VmRingReader(map);
      this.drains.set(name, () => r.drain().map((rec) => hex(rec)));
      this.closers.push(() => r.close());
    } else if (map instanceof PerfEventArrayMap) {
      const r = new VmPerfReader(map);
      this.drains.set(name, () => r.drain().map((rec) => (rec.kind === "sample" ? `cpu ${rec.cpu} ${hex(rec.data)}` : `cpu ${rec.cpu} lost ${rec.lost}`)));
      this.closers.push(() => r.close());
    }
  }

  private openLinux(name: string, c: LinuxCollection, type: string): void {
    const m = c.map(name).kernel;
    if (type === "ringbuf") {
      const r = new LinuxRingReader(m);
      this.drains.set(name, () => {
        const out: string[] = [];
        r.poll((data, off, len) => out.push(hex(data.subarray(off, off + len))));
        return out;
      });
      this.closers.push(() => r.close());
    } else {
      const r = new LinuxPerfReader(m);
      this.drains.set(name, () => {
        const out: string[] = [];
        r.poll((cpu, data, off, len) => out.push(`cpu ${cpu} ${hex(data.subarray(off, off + len))}`), (cpu, lost) => out.push(`cpu ${cpu} lost ${lost}`));
        return out;
      });
      this.closers.push(() => r.close());
    }
  }

  /** Every record now, by map name. */
  drain(): Record<string, string[]> {
    return Object.fromEntries([...this.drains].map(([name, d]) => [name, d()]));
  }

  [Symbol.dispose](): void {
    for (const close of this.closers) close();
  }
}

/** Ids the kernel hands out are local to it: slots are shown by the name of what they hold. */
function slotNames(c: Collection, h: MapHandle, kind: "prog" | "map"): Array<[string, string]> {
  const names = new Map<number, string>();
  if (kind === "prog") for (const [name, p] of c.programs) names.set(p.info.id, name);
  else for (const [name, m] of c.maps) names.set(m.info.id, name);
  return [...h.entries()]
    .map(([k, v]): [string, string] => {
      const id = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0, true);
      return [hex(k), `${kind} ${names.get(id) ?? "(not in this collection)"}`];
    })
    .sort(byKey);
}

/**
 * Every map of a collection, complete (see MapDump). Destructive for queues and
 * stacks (their contents are popped) and for event maps (`taps` are drained):
 * take it once, after the runs.
 */
export function dumpMaps(c: Collection, taps?: EventTaps): Record<string, MapDump> {
  const out: Record<string, MapDump> = {};
  const records = taps?.drain() ?? {};
  for (const [name, h] of c.maps) {
    const type = h.info.type;
    try {
      if (type === "ringbuf" || type === "perf_event_array") {
        out[name] = records[name] ? { records: records[name] } : { unlisted: "no reader was opened before the run" };
      } else if (UNLISTED.has(type)) {
        out[name] = { unlisted: UNLISTED.get(type)! };
      } else if (type === "prog_array") {
        out[name] = { slots: slotNames(c, h, "prog") };
      } else if (type === "array_of_maps" || type === "hash_of_maps") {
        out[name] = { slots: slotNames(c, h, "map") };
      } else if (type === "queue" || type === "stack") {
        const popped: string[] = [];
        for (let i = 0, v = h.lookupAndDelete(null); v !== undefined && i <= h.info.maxEntries; i++, v = h.lookupAndDelete(null)) popped.push(hex(v));
        out[name] = { popped };
      } else {
        out[name] = { entries: [...h.entries()].map(([k, v]): [string, string] => [hex(k), hex(v)]).sort(byKey) };
      }
    } catch (e) {
      out[name] = { error: errorText(e) };
    }
  }
  return out;
}

/** One run's observable result: what PROG_TEST_RUN writes back, or the errno it failed with. */
export interface RunSnapshot {
  readonly retval?: number;
  readonly dataOut?: string;
  readonly dataSizeOut?: number;
  readonly ctxOut?: string;
  readonly error?: string;
}

/** Everything a backend shows after loading an object and running one of its programs. */
export interface Snapshot {
  /** The load failed (verifier, map creation...): the message; nothing else is compared. */
  readonly refused?: string;
  readonly runs: RunSnapshot[];
  readonly maps: Record<string, MapDump>;
  /** What a scenario's probe() read from the collection after the runs. */
  readonly probe?: unknown;
}

/** What to do with an object in a backend: load, set up, run a program (possibly several times), read back. */
export interface Scenario {
  readonly program: string;
  /** Object name (internal map prefixes); default: the object's own. */
  readonly name?: string;
  readonly load?: LoadOptions;
  /** Input for each run, in order (state carries over between runs). */
  readonly runs: readonly RunOptions[];
  /** Before the runs: fill maps and the like through the backend-neutral API. */
  readonly setup?: (c: Collection) => void;
  /** After the runs, before the maps are dumped: read anything else worth comparing. */
  readonly probe?: (c: Collection) => unknown;
}

/** Loads `bytes` into one backend and plays the scenario; the collection is disposed after. */
export function snapshot(bytes: Uint8Array, backend: NamedBackend | BackendFactory, scenario: Scenario): Snapshot {
  const make = typeof backend === "function" ? backend : backend.make;
  let c: Collection;
  try {
    c = make().load(ObjectSpec.fromBytes(bytes, scenario.name ? { name: scenario.name } : {}), scenario.load);
  } catch (e) {
    return { refused: describeError(e), runs: [], maps: {} };
  }
  try {
    using taps = new EventTaps(c);
    scenario.setup?.(c);
    const prog = c.program(scenario.program);
    const runs = scenario.runs.map((o): RunSnapshot => {
      try {
        const r = prog.run({ ...o, ...(o.data ? { data: Uint8Array.from(o.data) } : {}), ...(o.ctx ? { ctx: Uint8Array.from(o.ctx) } : {}) });
        return {
          retval: r.retval,
          dataOut: hex(r.dataOut ?? new Uint8Array(0)),
          dataSizeOut: r.dataSizeOut,
          ...(o.ctx ? { ctxOut: hex(r.ctxOut ?? new Uint8Array(0)) } : {}),
        };
      } catch (e) {
        return { error: errorText(e) };
      }
    });
    const probe = scenario.probe?.(c);
    return { runs, maps: dumpMaps(c, taps), ...(probe !== undefined ? { probe } : {}) };
  } finally {
    c[Symbol.dispose]();
  }
}

/** The message of an error and its causes, one line. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e; x instanceof Error && parts.length < 4; x = x.cause) parts.push(x.message);
  return parts.join(" <- ") || String(e);
}
