/**
 * The bpf() commands as typed functions over raw fds: the layer cilium/ebpf calls
 * internal/sys. Each function fills its bpf_attr view (attr/bpf-attr.ts), keeps
 * every buffer whose address went into the attr reachable until the call returns,
 * and throws BpfCommandError naming the command and the kernel's errno.
 * The object layer (map.ts, program.ts, link.ts, btf-object.ts) wraps the fds.
 */
import { BpfCommandError, BtfError, errnoName } from "../errors.js";
import {
  BtfLoadAttr, EnableStatsAttr, GetIdAttr, InfoAttr, LinkCreateAttr, LinkDetachAttr, LinkUpdateAttr,
  MapElemAttr, ObjAttr, ProgBindMapAttr, RawTracepointAttr,
} from "./attr/bpf-attr.js";
import type { Struct, Value } from "./attr/layout.js";
import { BpfCmd } from "./constants.js";
import { sys } from "./sys.js";

/** Buffers referenced by address from the attr of the call in flight. */
let inFlight: readonly unknown[] | null = null;

/**
 * bpf(cmd, attr): the result, or -errno. `keep` holds the buffers whose addresses
 * are inside attr: without a live reference V8 may collect one mid-call.
 */
export function bpfRaw(cmd: number, attr: Buffer, size: number, keep?: readonly unknown[]): number {
  inFlight = keep ?? null;
  try {
    return sys().bpf(cmd, attr, size);
  } finally {
    inFlight = null;
  }
}

/** Runs fn with `keep` reachable (for other system calls whose arguments hold addresses). */
export function holding<T>(keep: readonly unknown[], fn: () => T): T {
  inFlight = keep;
  try {
    return fn();
  } finally {
    inFlight = null;
  }
}

/** Like bpfRaw, but throws BpfCommandError(`what`) on failure. */
export function bpfCall(cmd: number, attr: Buffer, size: number, what: string, keep?: readonly unknown[]): number {
  const r = bpfRaw(cmd, attr, size, keep);
  if (r < 0) throw new BpfCommandError(errnoName(-r), what);
  return r;
}

/** The address of a buffer for a pointer field (0 for none). */
export function addr(buf: Uint8Array | null | undefined): bigint {
  if (!buf || buf.length === 0) return 0n;
  return sys().address(asBuffer(buf));
}

/** A Buffer over the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A NUL-terminated C string in a fresh buffer. */
export function cString(s: string): Buffer {
  return Buffer.from(s + "\0", "utf8");
}

/** Encodes a struct, calls, and returns the result fd/value; throws on failure. */
export function command<K extends string>(
  cmd: number,
  layout: Struct<K>,
  values: Partial<Record<K, Value>>,
  what: string,
  keep?: readonly unknown[],
): number {
  const attr = layout.encode(values);
  return bpfCall(cmd, attr, layout.size, what, keep);
}

// --- objects in bpffs -------------------------------------------------------------

/** BPF_OBJ_PIN: pins fd at path (inside a bpffs mount). */
export function objPin(fd: number, path: string): void {
  const p = cString(path);
  command(BpfCmd.BPF_OBJ_PIN, ObjAttr, { pathname: addr(p), bpf_fd: fd }, `BPF_OBJ_PIN ${path}`, [p]);
}

/** BPF_OBJ_GET: a new fd for the object pinned at path. file_flags: BPF_F_RDONLY / BPF_F_WRONLY. */
export function objGet(path: string, fileFlags = 0): number {
  const p = cString(path);
  return command(BpfCmd.BPF_OBJ_GET, ObjAttr, { pathname: addr(p), file_flags: fileFlags }, `BPF_OBJ_GET ${path}`, [p]);
}

// --- ids ----------------------------------------------------------------------------

export type ObjectKind = "prog" | "map" | "btf" | "link";

const NEXT_ID: Record<ObjectKind, number> = {
  prog: BpfCmd.BPF_PROG_GET_NEXT_ID,
  map: BpfCmd.BPF_MAP_GET_NEXT_ID,
  btf: BpfCmd.BPF_BTF_GET_NEXT_ID,
  link: BpfCmd.BPF_LINK_GET_NEXT_ID,
};
const FD_BY_ID: Record<ObjectKind, number> = {
  prog: BpfCmd.BPF_PROG_GET_FD_BY_ID,
  map: BpfCmd.BPF_MAP_GET_FD_BY_ID,
  btf: BpfCmd.BPF_BTF_GET_FD_BY_ID,
  link: BpfCmd.BPF_LINK_GET_FD_BY_ID,
};

/** BPF_*_GET_NEXT_ID: the next id after `start`, or undefined at the end (ENOENT). */
export function nextId(kind: ObjectKind, start: number): number | undefined {
  const attr = GetIdAttr.encode({ start_id: start });
  const r = bpfRaw(NEXT_ID[kind], attr, GetIdAttr.size);
  if (r === -2 /* ENOENT */) return undefined;
  if (r < 0) throw new BpfCommandError(errnoName(-r), `BPF_${kind.toUpperCase()}_GET_NEXT_ID`);
  return GetIdAttr.num(attr, "next_id");
}

/** Every id of a kind, in order. */
export function* allIds(kind: ObjectKind): Generator<number> {
  let id = 0;
  for (;;) {
    const next = nextId(kind, id);
    if (next === undefined) return;
    yield (id = next);
  }
}

/** BPF_*_GET_FD_BY_ID. open_flags: BPF_F_RDONLY / BPF_F_WRONLY for maps. */
export function fdById(kind: ObjectKind, id: number, openFlags = 0): number {
  return command(FD_BY_ID[kind], GetIdAttr, { start_id: id, open_flags: openFlags }, `BPF_${kind.toUpperCase()}_GET_FD_BY_ID ${id}`);
}

// --- info ---------------------------------------------------------------------------

/**
 * BPF_OBJ_GET_INFO_BY_FD into `info` (a buffer laid out as `layout`, possibly with
 * pointer fields already set by the caller). Returns the length the kernel filled.
 */
export function objInfo<K extends string>(fd: number, layout: Struct<K>, info: Buffer, keep?: readonly unknown[]): number {
  const attr = InfoAttr.encode({ bpf_fd: fd, info_len: info.length, info: addr(info) });
  bpfCall(BpfCmd.BPF_OBJ_GET_INFO_BY_FD, attr, InfoAttr.size, `BPF_OBJ_GET_INFO_BY_FD (${layout.name})`, [info, ...(keep ?? [])]);
  return InfoAttr.num(attr, "info_len");
}

/** The info struct for fd, with no arrays requested. */
export function objInfoSimple<K extends string>(fd: number, layout: Struct<K>): Buffer {
  // Room for a newer kernel's longer struct is not needed: the kernel copies min(len, its size).
  const info = layout.alloc(align8(layout.size));
  objInfo(fd, layout, info);
  return info;
}

export const align8 = (n: number): number => (n + 7) & ~7;

// --- maps, small commands -------------------------------------------------------------

/** BPF_MAP_FREEZE: user space can no longer write the map (programs still can). */
export function mapFreeze(fd: number): void {
  command(BpfCmd.BPF_MAP_FREEZE, MapElemAttr, { map_fd: fd }, "BPF_MAP_FREEZE");
}

/** BPF_PROG_BIND_MAP: keeps a map alive as long as the program (e.g. .rodata with no references). */
export function progBindMap(progFd: number, mapFd: number): void {
  command(BpfCmd.BPF_PROG_BIND_MAP, ProgBindMapAttr, { prog_fd: progFd, map_fd: mapFd }, "BPF_PROG_BIND_MAP");
}

// --- BTF ----

/** The kernel rejected BTF: the summary is the log's last line, the whole log is kept. */
export class KernelBtfError extends BtfError {
  constructor(message: string, readonly log: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// --------------------------------------------------------------------------------

export interface BtfLoadResult {
  readonly fd: number;
  readonly log: string;
}

/** BPF_BTF_LOAD with an optional log (level 0: no log). Throws with the log on failure. */
export function btfLoad(data: Uint8Array, logLevel = 0, logSize = 64 * 1024): BtfLoadResult {
  const btf = asBuffer(data);
  let log: Buffer | null = logLevel > 0 ? Buffer.alloc(logSize) : null;
  for (;;) {
    const attr = BtfLoadAttr.encode({
      btf: addr(btf), btf_size: btf.length,
      btf_log_buf: addr(log), btf_log_size: log?.length ?? 0, btf_log_level: log ? logLevel : 0,
    });
    const r = bpfRaw(BpfCmd.BPF_BTF_LOAD, attr, BtfLoadAttr.size, [btf, log]);
    const text = log ? cStringAt(log) : "";
    if (r >= 0) return { fd: r, log: text };
    if (r === -28 /* ENOSPC */ && log && log.length < 0x3fffffff) {
      log = Buffer.alloc(Math.min(Math.max(BtfLoadAttr.num(attr, "btf_log_true_size"), log.length * 4), 0x3fffffff));
      continue;
    }
    if (!log) {
      log = Buffer.alloc(logSize);
      logLevel = 1;
      continue;
    }
    const cause = new BpfCommandError(errnoName(-r), "BPF_BTF_LOAD");
    throw new KernelBtfError(`BPF_BTF_LOAD: ${text ? lastLogLine(text) : cause.code}`, text, { cause });
  }
}

/** A NUL-terminated string from the start of buf. */
export function cStringAt(buf: Buffer, offset = 0): string {
  const end = buf.indexOf(0, offset);
  return buf.toString("utf8", offset, end < 0 ? buf.length : end);
}

/** The last line of a kernel log that says something (not the statistics footer). */
export function lastLogLine(log: string): string {
  const lines = log.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  const noise = [
    /^processed \d+ insns/, /^verification time/, /^stack depth/, /^max_states_per_insn/, /^-- END PROG LOAD LOG --/,
  ];
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!noise.some((re) => re.test(lines[i]))) return lines[i];
  }
  return lines[lines.length - 1] ?? "";
}

// --- links --------------------------------------------------------------------------------

/** BPF_LINK_CREATE with the given fields (names as LinkCreateAttr). */
export function linkCreate(
  values: Partial<Record<keyof typeof LinkCreateAttr.fields & string, Value>>,
  what: string,
  keep?: readonly unknown[],
): number {
  return command(BpfCmd.BPF_LINK_CREATE, LinkCreateAttr, values, `BPF_LINK_CREATE (${what})`, keep);
}

/** Same as linkCreate, but returns -errno instead of throwing (for fallbacks). */
export function linkCreateRaw(
  values: Partial<Record<keyof typeof LinkCreateAttr.fields & string, Value>>,
  keep?: readonly unknown[],
): number {
  return bpfRaw(BpfCmd.BPF_LINK_CREATE, LinkCreateAttr.encode(values), LinkCreateAttr.size, keep);
}

/** BPF_LINK_DETACH: the link stays, but no longer attaches its program. */
export function linkDetach(linkFd: number): void {
  command(BpfCmd.BPF_LINK_DETACH, LinkDetachAttr, { link_fd: linkFd }, "BPF_LINK_DETACH");
}

/** BPF_LINK_UPDATE: replace the program (optionally only if it is still oldProgFd; flag BPF_F_REPLACE). */
export function linkUpdate(linkFd: number, newProgFd: number, oldProgFd?: number): void {
  const BPF_F_REPLACE = 1 << 2; // include/uapi/linux/bpf.h
  command(BpfCmd.BPF_LINK_UPDATE, LinkUpdateAttr, {
    link_fd: linkFd, new_prog_fd: newProgFd,
    ...(oldProgFd !== undefined ? { old_prog_fd: oldProgFd, flags: BPF_F_REPLACE } : {}),
  }, "BPF_LINK_UPDATE");
}

/** BPF_RAW_TRACEPOINT_OPEN: name for raw_tracepoint programs, null for tp_btf / fentry / fexit / lsm. */
export function rawTracepointOpen(name: string | null, progFd: number, cookie = 0n): number {
  const n = name === null ? null : cString(name);
  const values: Partial<Record<keyof typeof RawTracepointAttr.fields & string, Value>> = { name: addr(n), prog_fd: progFd };
  if (cookie) values.cookie = cookie;
  return command(BpfCmd.BPF_RAW_TRACEPOINT_OPEN, RawTracepointAttr, values, `BPF_RAW_TRACEPOINT_OPEN ${name ?? "(BTF)"}`, [n]);
}

/** BPF_ENABLE_STATS: run_time_ns/run_cnt accounting while the returned fd is open. */
export function enableStats(type = 0 /* BPF_STATS_RUN_TIME */): number {
  return command(BpfCmd.BPF_ENABLE_STATS, EnableStatsAttr, { type }, "BPF_ENABLE_STATS");
}
