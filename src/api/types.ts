/**
 * The one API over both backends: what a loaded collection, program, map and link
 * look like to users, whichever "kernel" holds them (cilium/ebpf's Collection,
 * Program, Map, Link). A backend implements these; user code never needs to know
 * which one it has.
 */
import type { ObjectSpec } from "../object/spec.js";

/** PROG_TEST_RUN input (include/uapi/linux/bpf.h, union bpf_attr .test). */
export interface RunOptions {
  /** Packet or input data (data_in). */
  readonly data?: Uint8Array;
  /** Context (ctx_in), for program types that accept one. */
  readonly ctx?: Uint8Array;
  /** Runs on the same input; the kernel reports the mean time per run. 0 and 1 both mean once. */
  readonly repeat?: number;
  /** Room for data_out; defaults to enough for the input plus the program type's headroom/tailroom rules. */
  readonly dataOutSize?: number;
  /** Room for ctx_out; defaults to the context size when ctx is given. */
  readonly ctxOutSize?: number;
  /** BPF_F_TEST_RUN_ON_CPU flags and cpu, where supported. */
  readonly flags?: number;
  readonly cpu?: number;
}

export interface RunResult {
  /** r0 as the kernel reports it: a u32. */
  readonly retval: number;
  /** Mean nanoseconds per run, as the kernel's duration. */
  readonly durationNs: number;
  /** data_out as the kernel writes it (the packet after the program), if the type has one. */
  readonly dataOut?: Uint8Array;
  /** data_size_out: the packet size after the program, even when dataOut was too small. */
  readonly dataSizeOut: number;
  readonly ctxOut?: Uint8Array;
}

export interface ProgramInfo {
  readonly id: number;
  readonly name: string;
  /** bpftool's type name ("xdp", "tracepoint", ...). */
  readonly type: string;
  readonly typeId: number;
  readonly tag: string;
  readonly xlatedInsns: number;
  readonly mapIds: readonly number[];
  readonly gplCompatible: boolean;
}

export interface MapInfo {
  readonly id: number;
  readonly name: string;
  /** bpftool's type name ("hash", "array", ...). */
  readonly type: string;
  readonly typeId: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly frozen: boolean;
}

/** A codec between user values and the bytes the map stores. */
export interface Codec<T> {
  readonly size: number;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Map update flags. include/uapi/linux/bpf.h. */
export const UpdateFlags = {
  /** BPF_ANY: create or update. */
  Any: 0,
  /** BPF_NOEXIST: create only. */
  NoExist: 1,
  /** BPF_EXIST: update only. */
  Exist: 2,
  /** BPF_F_LOCK: take the value's bpf_spin_lock. */
  Lock: 4,
} as const;

export interface BatchResult {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
}

export interface MapHandle extends Disposable {
  readonly name: string;
  readonly info: MapInfo;
  /** The value, or undefined when the key is absent (ENOENT). Per-CPU maps return all CPUs' values concatenated. */
  lookup(key: Uint8Array, flags?: number): Uint8Array | undefined;
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  /** Returns false when the key was absent. */
  delete(key: Uint8Array): boolean;
  lookupAndDelete(key: Uint8Array | null, flags?: number): Uint8Array | undefined;
  /** The key after `key` (or the first key for null), or undefined at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | undefined;
  keys(): IterableIterator<Uint8Array>;
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  lookupBatch(): BatchResult;
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags?: number): number;
  deleteBatch(keys: readonly Uint8Array[]): number;
  freeze(): void;
  /** Typed view with codecs. */
  typed<K, V>(key: Codec<K>, value: Codec<V>): TypedMap<K, V>;
  /** Zero-copy view of a BPF_F_MMAPABLE array's values. */
  mmap?(): Uint8Array;
  pin(path: string): void;
}

export interface TypedMap<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V, flags?: number): void;
  delete(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  [Symbol.iterator](): IterableIterator<[K, V]>;
}

/** Where to attach a program; each backend supports what it can (NotSupportedError otherwise). */
export type AttachTarget =
  | { readonly kind: "tracepoint"; readonly category: string; readonly name: string }
  | { readonly kind: "raw_tracepoint"; readonly name: string }
  | { readonly kind: "tp_btf"; readonly name?: string }
  | { readonly kind: "kprobe" | "kretprobe"; readonly symbol: string; readonly offset?: number }
  | { readonly kind: "uprobe" | "uretprobe"; readonly binary: string; readonly symbol?: string; readonly offset?: number; readonly pid?: number }
  | { readonly kind: "fentry" | "fexit" | "lsm"; readonly name?: string }
  | { readonly kind: "xdp"; readonly ifindex: number; readonly flags?: number }
  | { readonly kind: "tcx"; readonly ifindex: number; readonly direction: "ingress" | "egress" }
  | { readonly kind: "cgroup"; readonly path: string; readonly attachType?: number }
  /** A vm hook point by name (user-space attach points; vm backend only). */
  | { readonly kind: "hook"; readonly name: string };

export interface Link extends Disposable {
  readonly id: number;
  readonly target: AttachTarget;
  pin(path: string): void;
  /** Detaches now (also what dispose does). */
  detach(): void;
}

export interface Program extends Disposable {
  readonly name: string;
  readonly sectionName: string;
  readonly info: ProgramInfo;
  /** PROG_TEST_RUN. */
  run(options?: RunOptions): RunResult;
  attach(target?: AttachTarget): Link;
  /** Instructions after the verifier's fix-ups (bpftool prog dump xlated). */
  xlated(): Uint8Array;
  pin(path: string): void;
}

export interface Collection extends Disposable {
  readonly programs: ReadonlyMap<string, Program>;
  readonly maps: ReadonlyMap<string, MapHandle>;
  program(name: string): Program;
  map(name: string): MapHandle;
}

/** Options for loading an object spec into a backend. */
export interface LoadOptions {
  /** Load only these programs (by function name); default: every program with autoload. */
  readonly programs?: readonly string[];
  /** Verifier log level for program loads (0, 1, 2). */
  readonly logLevel?: number;
  /** Directory for maps pinned by name (LIBBPF_PIN_BY_NAME); default /sys/fs/bpf. */
  readonly pinPath?: string;
  /** Use these already-loaded maps instead of creating the named ones. */
  readonly replaceMaps?: Readonly<Record<string, MapHandle>>;
  /** vm only: the verifier mode (strict, warn, off). */
  readonly verifierMode?: "strict" | "warn" | "off";
}

/** A "kernel" that can hold programs and maps: the vm, or Linux through bpf(). */
export interface Backend {
  readonly name: "vm" | "linux";
  /** Creates maps, resolves relocations and CO-RE, loads the programs. */
  load(spec: ObjectSpec, options?: LoadOptions): Collection;
}
