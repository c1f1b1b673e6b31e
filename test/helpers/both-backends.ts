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
 */
import type { Backend, Collection, LoadOptions, RunOptions, RunResult } from "../../src/api/types.js";
import { ObjectSpec } from "../../src/object/spec.js";
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
