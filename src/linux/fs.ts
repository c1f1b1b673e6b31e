/**
 * The filesystems the backend needs — bpffs (pins), tracefs (tracepoint ids,
 * trace_pipe), cgroup v2 (cgroup links) — found in /proc/self/mounts and mounted
 * when missing, idempotently. Also the possible-CPU count (per-CPU maps, perf buffers).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { BpfCommandError, NotSupportedError, errnoName } from "../errors.js";
import { sys } from "./sys.js";

export const BPFFS_DEFAULT = "/sys/fs/bpf";
const TRACEFS_CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

interface MountEntry {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
}

/** Mount table of this process's mount namespace. */
export function mounts(): MountEntry[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const [source, target, fstype] = l.split(" ");
      // Spaces and tabs in mount points are octal-escaped (\040) in /proc/mounts.
      const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      return { source, target: unescape(target), fstype };
    });
}

function isMountedAs(path: string, fstype: string): boolean {
  // The last mount on a path hides the earlier ones.
  const onPath = mounts().filter((m) => m.target === path);
  return onPath.length > 0 && onPath[onPath.length - 1].fstype === fstype;
}

function mountIfMissing(path: string, fstype: string, source: string): void {
  if (isMountedAs(path, fstype)) return;
  if (!existsSync(path)) mkdirSync(path, { recursive: true });
  const r = sys().mount(source, path, fstype, 0);
  // EBUSY: mounted concurrently by someone else, which is what we wanted.
  if (r < 0 && !(r === -16 && isMountedAs(path, fstype))) {
    throw new BpfCommandError(errnoName(-r), `mount -t ${fstype} ${source} ${path}`);
  }
}

/** Makes sure a bpffs is mounted at `path` (default /sys/fs/bpf). */
export function ensureBpffs(path = BPFFS_DEFAULT): string {
  mountIfMissing(path, "bpf", "bpf");
  return path;
}

/** Whether `path` lies inside some bpffs mount. */
export function onBpffs(path: string): boolean {
  return mounts().some((m) => m.fstype === "bpf" && (path === m.target || path.startsWith(m.target.endsWith("/") ? m.target : m.target + "/")));
}

let tracefsRoot: string | undefined;

/** The tracefs root, mounting it at /sys/kernel/tracing when no tracefs is mounted. */
export function tracefs(): string {
  if (tracefsRoot) return tracefsRoot;
  const all = mounts();
  for (const c of TRACEFS_CANDIDATES) {
    if (all.some((m) => m.target === c && m.fstype === "tracefs")) return (tracefsRoot = c);
  }
  const anyTracefs = all.find((m) => m.fstype === "tracefs");
  if (anyTracefs) return (tracefsRoot = anyTracefs.target);
  if (!existsSync(TRACEFS_CANDIDATES[0])) {
    throw new NotSupportedError("tracefs", "no /sys/kernel/tracing: kernel built without CONFIG_TRACING");
  }
  mountIfMissing(TRACEFS_CANDIDATES[0], "tracefs", "tracefs");
  return (tracefsRoot = TRACEFS_CANDIDATES[0]);
}

/** The perf event id of tracepoint category/name (tracefs events/CAT/NAME/id). */
export function tracepointId(category: string, name: string): number {
  if (/[/\0]|^\.\.?$/.test(category) || /[/\0]|^\.\.?$/.test(name)) {
    throw new RangeError(`invalid tracepoint ${category}/${name}`);
  }
  const file = `${tracefs()}/events/${category}/${name}/id`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotSupportedError(`tracepoint ${category}/${name}`, `no ${file}`);
    }
    throw e;
  }
  return Number(text.trim());
}

/** The cgroup v2 mount point (unified hierarchy; /sys/fs/cgroup/unified on hybrid systems). */
export function cgroup2Root(): string {
  const m = mounts().find((e) => e.fstype === "cgroup2");
  if (!m) throw new NotSupportedError("cgroup v2", "no cgroup2 filesystem mounted");
  return m.target;
}

/** Parses a CPU list like "0-3,5,7-8". */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

let possible: number | undefined;

/**
 * Number of possible CPUs: the kernel sizes per-CPU values and perf event arrays
 * by num_possible_cpus(), which counts up to the highest possible CPU id.
 */
export function possibleCpus(): number {
  if (possible !== undefined) return possible;
  const cpus = parseCpuList(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
  return (possible = Math.max(...cpus) + 1);
}

/** The online CPUs (perf buffers open one event per online CPU). */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
}
