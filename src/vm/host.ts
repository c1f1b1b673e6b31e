/**
 * What a user-space host answers where a kernel would consult its own state:
 * clocks, the "current task", randomness. Tests fix these to make runs
 * deterministic; the default reads the real process and clocks.
 */

export interface HostEnv {
  /** CLOCK_MONOTONIC in nanoseconds (bpf_ktime_get_ns). */
  monotonicNs(): number;
  /** CLOCK_BOOTTIME in nanoseconds (bpf_ktime_get_boot_ns). */
  bootNs(): number;
  /** CLOCK_MONOTONIC_COARSE in nanoseconds (bpf_ktime_get_coarse_ns). */
  coarseNs(): number;
  /** CLOCK_TAI in nanoseconds (bpf_ktime_get_tai_ns). */
  taiNs(): number;
  /** jiffies (bpf_jiffies64); CONFIG_HZ ticks since boot. */
  jiffies(): number;
  /** A uniformly random u32 (bpf_get_prandom_u32). */
  randomU32(): number;
  /** The current task: thread id (pid), process id (tgid), uid, gid and comm (at most 15 bytes). */
  readonly task: { pid: number; tgid: number; uid: number; gid: number; comm: string };
  /** NUMA node of the current CPU. */
  readonly numaNode: number;
}

/** CONFIG_HZ used to derive jiffies on a host without them (Debian's kernels use 250). */
export const HOST_HZ = 250;

const hostStart = performance.timeOrigin;

/** The real host: Node's clocks and process. */
export function realHost(): HostEnv {
  const monotonicNs = (): number => Math.round(performance.now() * 1e6) + 1_000_000_000;
  return {
    monotonicNs,
    bootNs: monotonicNs,
    coarseNs: () => Math.floor(monotonicNs() / 4_000_000) * 4_000_000,
    // TAI is UTC plus 37 leap seconds since 2017 (IERS Bulletin C).
    taiNs: () => Math.round((hostStart + performance.now()) * 1e6) + 37e9,
    jiffies: () => Math.floor((monotonicNs() * HOST_HZ) / 1e9),
    randomU32: () => (Math.random() * 4294967296) >>> 0,
    task: {
      pid: typeof process !== "undefined" ? process.pid : 1,
      tgid: typeof process !== "undefined" ? process.pid : 1,
      uid: typeof process !== "undefined" && process.getuid ? process.getuid() : 0,
      gid: typeof process !== "undefined" && process.getgid ? process.getgid() : 0,
      comm: "node",
    },
    numaNode: 0,
  };
}
