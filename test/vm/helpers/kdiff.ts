/**
 * The kernel side of the helper differential tests: the same program (see
 * harness.ts for the map-reference convention) loaded with BPF_PROG_LOAD and
 * run with BPF_PROG_TEST_RUN, its maps created with BPF_MAP_CREATE, and the
 * bpf_trace_printk events it emits read from a private tracefs instance.
 *
 * Programs are BPF_PROG_TYPE_RAW_TRACEPOINT by default (a tracing type whose
 * test run executes in this process's context, on a chosen CPU). Subprograms
 * (callbacks) need BTF func_info: a minimal BTF with one `int (void)` FUNC per
 * subprogram is built here, as are map value types with bpf_spin_lock /
 * bpf_timer fields.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "../../../src/isa/opcodes.js";
import { LinuxBtf, LinuxMap, LinuxProgram } from "../../../src/linux/index.js";
import { tracefs } from "../../../src/linux/fs.js";
import type { Prog } from "./harness.js";

export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_PROG_TYPE_SYSCALL = 31;
/** include/uapi/linux/bpf.h: BPF_PROG_TEST_RUN flags. */
export const BPF_F_TEST_RUN_ON_CPU = 1;

// ---------------------------------------------------------------- BTF

const BTF_KIND_INT = 1;
const BTF_KIND_STRUCT = 4;
const BTF_KIND_FUNC = 12;
const BTF_KIND_FUNC_PROTO = 13;
const BTF_KIND_ARRAY = 3;

/** A tiny BTF writer: ints, arrays, structs, funcs. Type ids start at 1 in creation order. */
export class MiniBtf {
  private readonly words: number[] = [];
  private readonly strs: number[] = [0];
  private n = 0;

  private str(s: string): number {
    if (!s) return 0;
    const off = this.strs.length;
    for (const c of Buffer.from(s)) this.strs.push(c);
    this.strs.push(0);
    return off;
  }

  int(name = "int", size = 4, signed = true): number {
    this.words.push(this.str(name), BTF_KIND_INT << 24, size, ((signed ? 1 : 0) << 24) | (size * 8));
    return ++this.n;
  }

  array(elem: number, index: number, nelems: number): number {
    this.words.push(0, BTF_KIND_ARRAY << 24, 0, elem, index, nelems);
    return ++this.n;
  }

  /** members: [name, type, byte offset]. */
  struct(name: string, size: number, members: readonly (readonly [string, number, number])[]): number {
    this.words.push(this.str(name), ((BTF_KIND_STRUCT << 24) | members.length) >>> 0, size);
    for (const [m, t, off] of members) this.words.push(this.str(m), t, off * 8);
    return ++this.n;
  }

  /** FUNC_PROTO `ret (void)` and a static FUNC named `name` of it; returns the FUNC id. */
  func(name: string, ret: number): number {
    this.words.push(0, BTF_KIND_FUNC_PROTO << 24, ret);
    const proto = ++this.n;
    this.words.push(this.str(name), BTF_KIND_FUNC << 24, proto);
    return ++this.n;
  }

  encode(): Uint8Array {
    const types = Buffer.from(new Uint32Array(this.words.map((w) => w >>> 0)).buffer);
    const s = Buffer.from(this.strs);
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr[2] = 1;
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(s.length, 20);
    return Buffer.concat([hdr, types, s]);
  }
}

// ---------------------------------------------------------------- maps and programs

export interface KMapSpec {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly mapExtra?: bigint;
  /** A value with a special field: the kernel needs BTF naming it. */
  readonly special?: { readonly kind: "spin_lock" | "timer"; readonly offset: number };
}

/** Creates a kernel map; special fields get a BTF value type `struct val { ...; struct bpf_spin_lock|bpf_timer f; }`. */
export function kernelMap(spec: KMapSpec, keep: { close(): void }[]): LinuxMap {
  if (!spec.special) {
    const m = LinuxMap.create({ type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags, mapExtra: spec.mapExtra });
    keep.push(m);
    return m;
  }
  const b = new MiniBtf();
  const u32 = b.int("unsigned int", 4, false);
  const u64 = b.int("long long unsigned int", 8, false);
  const { kind, offset } = spec.special;
  const fieldSize = kind === "spin_lock" ? 4 : 16;
  const special = kind === "spin_lock"
    ? b.struct("bpf_spin_lock", 4, [["val", u32, 0]])
    : b.struct("bpf_timer", 16, [["__opaque", b.array(u64, u32, 2), 0]]);
  const members: [string, number, number][] = [];
  // Fill the value with u32 words around the special field.
  for (let off = 0; off < spec.valueSize; ) {
    if (off === offset) {
      members.push(["f", special, off]);
      off += fieldSize;
    } else {
      members.push([`w${off}`, u32, off]);
      off += 4;
    }
  }
  const val = b.struct("val", spec.valueSize, members);
  const key = spec.keySize === 4 ? u32 : b.struct("key", spec.keySize, []);
  const btf = LinuxBtf.load(b.encode());
  keep.push(btf);
  const m = LinuxMap.create({
    type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags,
    btfFd: btf.fd.value, btfKeyTypeId: key, btfValueTypeId: val,
  });
  keep.push(m);
  return m;
}

/** Resolves map references to fds. */
export function linkKernel(prog: Prog, fds: readonly number[]): Bytecode {
  return Bytecode.fromInstructions(prog.insns.map((i) => {
    if (i.kind === "ld_imm64" && (i.pseudo === BPF_PSEUDO_MAP_FD || i.pseudo === BPF_PSEUDO_MAP_VALUE)) return { ...i, lo: fds[i.lo] };
    return i;
  }));
}

export interface KLoad {
  readonly type?: number;
  readonly expectedAttachType?: number;
  readonly flags?: number;
}

/** BPF_PROG_LOAD, with func_info when the program has subprograms. */
export function kernelLoad(prog: Prog, maps: readonly LinuxMap[], keep: { close(): void }[], opts: KLoad = {}): LinuxProgram {
  const code = linkKernel(prog, maps.map((m) => m.fd.value));
  const subs = prog.subprogs ?? [];
  let btf: { fd: number; funcInfo: Uint8Array; funcInfoRecSize: number } | undefined;
  if (subs.length) {
    const b = new MiniBtf();
    const int = b.int();
    const ids = ["main", ...subs.map((_, i) => `sub${i}`)].map((n) => b.func(n, int));
    const lb = LinuxBtf.load(b.encode());
    keep.push(lb);
    const fi = Buffer.alloc(8 * ids.length);
    [0, ...subs].forEach((off, i) => {
      fi.writeUInt32LE(off, 8 * i);
      fi.writeUInt32LE(ids[i], 8 * i + 4);
    });
    btf = { fd: lb.fd.value, funcInfo: fi, funcInfoRecSize: 8 };
  }
  const p = LinuxProgram.load({
    type: opts.type ?? BPF_PROG_TYPE_RAW_TRACEPOINT, insns: code.toBytes(), license: "GPL",
    ...(opts.expectedAttachType !== undefined ? { expectedAttachType: opts.expectedAttachType } : {}),
    ...(opts.flags !== undefined ? { flags: opts.flags } : {}),
    ...(btf ? { btf } : {}),
  });
  keep.push(p);
  return p;
}

/**
 * Runs a raw_tracepoint program once in this task's context; returns the u32
 * retval. Not BPF_F_TEST_RUN_ON_CPU: on another CPU the kernel runs the
 * program from an IPI, in hard-irq context and on whatever task was current
 * there. Pin the process with pinCpu() to choose the CPU.
 */
export function kernelRunRawTp(p: LinuxProgram): number {
  return p.testRun({ ctx: new Uint8Array(8), ctxOutSize: 0 }).retval >>> 0;
}

/** Runs an skb program (socket filter, tc) once on a 64-byte zero packet; returns the u32 retval. */
export function kernelRunSkb(p: LinuxProgram, data: Uint8Array = new Uint8Array(64)): number {
  return p.testRun({ data }).retval >>> 0;
}

/**
 * Pins this thread (the one that makes the test-run syscalls) to `cpu`, so
 * runs happen there in task context; returns a function restoring the old
 * affinity.
 */
export function pinCpu(cpu: number): () => void {
  const tid = String(process.pid);
  const before = execFileSync("taskset", ["-pc", tid], { encoding: "utf8" }).trim().split(": ").pop()!;
  execFileSync("taskset", ["-pc", String(cpu), tid], { stdio: "ignore" });
  return () => void execFileSync("taskset", ["-pc", before, tid], { stdio: "ignore" });
}

// ---------------------------------------------------------------- trace events

/** A bpf_trace_printk event as trace_pipe shows it: the header fields and the text lines after "bpf_trace_printk: ". */
export interface TraceEvent {
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  readonly flags: string;
  readonly secs: number;
  readonly usecs: number;
  readonly lines: readonly string[];
}

const HEADER = /^(.{16})-(\d+)\s*\[(\d{3})\] (\S{5}) ([ \d]{5,})\.(\d{6}): bpf_trace_printk: (.*)$/s;

/** Groups trace lines into events (continuation lines belong to the event above). */
export function parseEvents(lines: readonly string[]): TraceEvent[] {
  const out: { comm: string; pid: number; cpu: number; flags: string; secs: number; usecs: number; lines: string[] }[] = [];
  for (const l of lines) {
    const m = HEADER.exec(l);
    if (m) out.push({ comm: m[1].trim(), pid: Number(m[2]), cpu: Number(m[3]), flags: m[4], secs: Number(m[5]), usecs: Number(m[6]), lines: [m[7]] });
    else if (out.length) out[out.length - 1].lines.push(l);
  }
  return out;
}

/**
 * A private tracefs instance with the bpf_trace:bpf_trace_printk event on: it
 * receives every bpf_trace_printk in the system, so events are filtered by
 * this process's pid. Reading `trace` (not trace_pipe) never competes with
 * other readers.
 */
export class TraceInstance {
  readonly dir: string;
  constructor() {
    this.dir = `${tracefs()}/instances/tsbpf-helpers-${process.pid}`;
    if (!existsSync(this.dir)) mkdirSync(this.dir);
    writeFileSync(`${this.dir}/events/bpf_trace/bpf_trace_printk/enable`, "1");
    this.clear();
  }
  clear(): void {
    writeFileSync(`${this.dir}/trace`, "");
  }
  /** This process's events since the last clear (then clears). */
  take(): TraceEvent[] {
    const text = readFileSync(`${this.dir}/trace`, "latin1");
    this.clear();
    // The file ends with a newline: drop the final empty string it leaves.
    const lines = text.split("\n").filter((l) => !l.startsWith("#"));
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    return parseEvents(lines).filter((e) => e.pid === process.pid);
  }
  close(): void {
    try {
      writeFileSync(`${this.dir}/events/bpf_trace/bpf_trace_printk/enable`, "0");
      rmdirSync(this.dir);
    } catch {
      // Best effort: the instance may still be busy; it holds no state worth keeping.
    }
  }
}

/** Why tracefs instances cannot be used here, or null. */
export function traceUnavailableReason(): string | null {
  try {
    const root = tracefs();
    return existsSync(`${root}/instances`) ? null : "tracefs has no instances directory";
  } catch (e) {
    return (e as Error).message;
  }
}
