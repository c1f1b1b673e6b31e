/**
 * The vm backend: the public API (src/api/types.ts) over a VmKernel. Each
 * backend instance owns one vm kernel; collections loaded into it share its maps
 * namespace, pins and hooks.
 */
import type {
  AttachTarget, Backend, BatchResult, Codec, Collection, Link, LoadOptions, MapHandle, MapInfo, Program, ProgramInfo,
  RunOptions, RunResult, TypedMap,
} from "../api/types.js";
import { typedMap } from "../api/typed-map.js";
import { BpfCommandError, LoadError, NotSupportedError, errnoName } from "../errors.js";
import type { ObjectSpec } from "../object/spec.js";
import type { ProgramSpec } from "../object/types.js";
import type { HookLink } from "./hooks/index.js";
import { type VmLoadOptions, loadIntoKernel } from "./loader.js";
import { ArrayMap, type MappedValues } from "./maps/array.js";
import type { BatchArgs } from "./maps/map.js";
import { KernelObject } from "./runtime/objects.js";
import { VmKernel, type VmKernelOptions } from "./runtime/kernel.js";
import type { VmProgram } from "./runtime/program.js";

export interface VmBackendOptions extends VmKernelOptions {
  /** An existing kernel to load into (to share maps, pins and hooks between backends' users). */
  readonly kernel?: VmKernel;
}

export interface VmBackend extends Backend {
  readonly name: "vm";
  readonly kernel: VmKernel;
  load(spec: ObjectSpec, options?: VmLoadOptions): VmCollection;
}

/** A vm backend (the default backend). */
export function vmBackend(options: VmBackendOptions = {}): VmBackend {
  const kernel = options.kernel ?? new VmKernel(options);
  return {
    name: "vm",
    kernel,
    load: (spec, loadOptions) => new VmCollection(kernel, spec, loadOptions),
  };
}

export class VmCollection implements Collection {
  readonly programs: ReadonlyMap<string, VmProgramHandle>;
  readonly maps: ReadonlyMap<string, VmMapHandle>;
  private disposed = false;

  constructor(readonly kernel: VmKernel, spec: ObjectSpec, options: LoadOptions = {}) {
    const loaded = loadIntoKernel(kernel, spec, options);
    this.maps = new Map([...loaded.maps].map(([name, m]) => [name, new VmMapHandle(kernel, m.fd, name)]));
    this.programs = new Map([...loaded.programs].map(([name, p]) => [name, new VmProgramHandle(kernel, p.fd, p.spec, p.log)]));
  }

  program(name: string): VmProgramHandle {
    return this.programs.get(name) ?? thrown(new LoadError(`no program '${name}' in this collection (have: ${[...this.programs.keys()].join(", ")})`));
  }

  map(name: string): VmMapHandle {
    return this.maps.get(name) ?? thrown(new LoadError(`no map '${name}' in this collection (have: ${[...this.maps.keys()].join(", ")})`));
  }

  [Symbol.dispose](): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.programs.values()) p[Symbol.dispose]();
    for (const m of this.maps.values()) m[Symbol.dispose]();
  }
}

const thrown = (e: Error): never => {
  throw e;
};

export class VmProgramHandle implements Program {
  readonly name: string;
  readonly sectionName: string;
  private closed = false;

  constructor(
    readonly kernel: VmKernel,
    readonly fd: number,
    readonly spec: ProgramSpec,
    /** The verifier log of the load. */
    readonly log: string,
  ) {
    this.name = spec.name;
    this.sectionName = spec.sectionName;
  }

  /** The kernel object. */
  get object(): VmProgram {
    return this.kernel.program(this.fd, `program ${this.name}`);
  }

  get info(): ProgramInfo {
    const p = this.object;
    return {
      id: p.id, name: p.name, type: p.progTypeInfo.name, typeId: p.progType, tag: p.tag,
      xlatedInsns: p.xlated.length, mapIds: p.maps.map((m) => m.id), gplCompatible: p.gplCompatible,
    };
  }

  run(options: RunOptions = {}): RunResult {
    return this.kernel.progTestRun(this.fd, options);
  }

  attach(target?: AttachTarget): Link {
    const t = target ?? defaultTarget(this.spec);
    const hook = this.kernel.hooks.forTarget(t);
    const prog = this.object;
    const link = hook.attach({
      program: prog,
      run: (ctx, run) => this.kernel.runProgram(prog, ctx, run.typeState, run.cpu, run),
    });
    return new VmLinkHandle(this.kernel, link, t);
  }

  xlated(): Uint8Array {
    return this.object.xlated.toBytes();
  }

  pin(path: string): void {
    this.kernel.objPin(this.fd, path);
  }

  [Symbol.dispose](): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.close(this.fd);
  }
}

/** libbpf's auto-attach: the target a section name implies. */
function defaultTarget(spec: ProgramSpec): AttachTarget {
  const sec = spec.sectionName;
  let m: RegExpExecArray | null;
  if ((m = /^(?:tracepoint|tp)\/([^/]+)\/(.+)$/.exec(sec))) return { kind: "tracepoint", category: m[1], name: m[2] };
  if ((m = /^(?:raw_tracepoint|raw_tp)\/(.+)$/.exec(sec))) return { kind: "raw_tracepoint", name: m[1] };
  if ((m = /^(kprobe|kretprobe)\/([^+]+)(?:\+(\d+))?$/.exec(sec))) {
    return { kind: m[1] as "kprobe" | "kretprobe", symbol: m[2], ...(m[3] ? { offset: Number(m[3]) } : {}) };
  }
  throw new NotSupportedError(`attaching SEC("${sec}") without a target`, "pass an AttachTarget");
}

class LinkObject extends KernelObject {
  readonly kind = "link" as const;
  constructor(readonly link: HookLink) {
    super();
  }
  protected onRelease(): void {
    this.link.detach();
  }
}

export class VmLinkHandle implements Link {
  readonly id: number;
  private readonly fd: number;
  private closed = false;

  constructor(
    private readonly kernel: VmKernel,
    readonly hookLink: HookLink,
    readonly target: AttachTarget,
  ) {
    const obj = new LinkObject(hookLink);
    this.fd = kernel.objects.register(obj);
    this.id = obj.id;
  }

  pin(path: string): void {
    this.kernel.objPin(this.fd, path);
  }

  detach(): void {
    this.hookLink.detach();
    this[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.close(this.fd);
  }
}

export class VmMapHandle implements MapHandle {
  private closed = false;
  private mapping: MappedValues | undefined;

  constructor(
    readonly kernel: VmKernel,
    readonly fd: number,
    readonly name: string,
  ) {}

  private get map() {
    return this.kernel.mapObject(this.fd, `map ${this.name}`).map;
  }

  get info(): MapInfo {
    const m = this.map;
    return {
      id: m.id, name: m.name, type: m.typeName, typeId: m.type, keySize: m.keySize, valueSize: m.valueSize,
      maxEntries: m.maxEntries, flags: m.flags, frozen: m.frozen,
    };
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    return absentAsUndefined(() => this.kernel.mapLookupElem(this.fd, key, flags));
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.kernel.mapUpdateElem(this.fd, key, value, flags);
  }

  delete(key: Uint8Array): boolean {
    return absentAsUndefined(() => (this.kernel.mapDeleteElem(this.fd, key), true)) ?? false;
  }

  lookupAndDelete(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    return absentAsUndefined(() => this.kernel.mapLookupAndDeleteElem(this.fd, key, flags));
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    return absentAsUndefined(() => this.kernel.mapGetNextKey(this.fd, key));
  }

  *keys(): IterableIterator<Uint8Array> {
    let key: Uint8Array | undefined = this.nextKey(null);
    // Bounded like bpftool's dump: a map cannot have more keys than entries.
    for (let n = 0; key !== undefined && n <= this.map.maxEntries; n++) {
      yield key;
      key = this.nextKey(key);
    }
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  lookupBatch(): BatchResult {
    const m = this.map;
    const chunk = Math.max(1, Math.min(m.maxEntries, 4096));
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    let inBatch: Uint8Array | null = null;
    for (;;) {
      const args: BatchArgs = {
        inBatch, outBatch: new Uint8Array(Math.max(m.keySize, 4)), keys: new Uint8Array(chunk * m.keySize),
        values: new Uint8Array(chunk * m.userValueSize), count: chunk,
      };
      let done = false;
      try {
        this.kernel.mapBatch(this.fd, "lookup", args);
      } catch (e) {
        if (!(e instanceof BpfCommandError) || e.code !== "ENOENT") throw e;
        done = true;
      }
      for (let i = 0; i < args.count; i++) {
        keys.push(args.keys.slice(i * m.keySize, (i + 1) * m.keySize));
        values.push(args.values.slice(i * m.userValueSize, (i + 1) * m.userValueSize));
      }
      if (done || args.count === 0) return { keys, values };
      inBatch = args.outBatch;
    }
  }

  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags = 0): number {
    const m = this.map;
    if (keys.length !== values.length) throw new RangeError("updateBatch: keys and values differ in count");
    const args = {
      inBatch: null, outBatch: new Uint8Array(4), keys: concat(keys, m.keySize), values: concat(values, m.userValueSize),
      count: keys.length, elemFlags: flags,
    };
    this.kernel.mapBatch(this.fd, "update", args);
    return args.count;
  }

  deleteBatch(keys: readonly Uint8Array[]): number {
    const m = this.map;
    const args = {
      inBatch: null, outBatch: new Uint8Array(4), keys: concat(keys, m.keySize), values: new Uint8Array(0), count: keys.length,
    };
    this.kernel.mapBatch(this.fd, "delete", args);
    return args.count;
  }

  freeze(): void {
    this.kernel.mapFreeze(this.fd);
  }

  typed<K, V>(key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
    return typedMap(this, key, value);
  }

  /**
   * Zero-copy view of a BPF_F_MMAPABLE array's values, writable unless frozen;
   * the mapping lasts until the handle is disposed. Take a fresh view after the
   * vm may have grown its memory.
   */
  mmap(): Uint8Array {
    if (!this.mapping) {
      const m = this.map;
      if (!(m instanceof ArrayMap)) throw new BpfCommandError("EINVAL", `mmap of ${m.typeName} map ${this.name}`);
      const r = m.mmap(!m.frozen);
      if (typeof r === "number") throw new BpfCommandError(errnoName(r), `mmap of map ${this.name}`);
      this.mapping = r;
    }
    return this.mapping.bytes();
  }

  pin(path: string): void {
    this.kernel.objPin(this.fd, path);
  }

  [Symbol.dispose](): void {
    if (this.closed) return;
    this.closed = true;
    this.mapping?.unmap();
    this.kernel.close(this.fd);
  }
}

function absentAsUndefined<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BpfCommandError && e.code === "ENOENT") return undefined;
    throw e;
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(parts.length * size);
  parts.forEach((p, i) => {
    if (p.length !== size) throw new RangeError(`batch element ${i} is ${p.length} bytes, expected ${size}`);
    out.set(p, i * size);
  });
  return out;
}
