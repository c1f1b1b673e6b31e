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
  /**
   * CPU time this process has used (user + system), in nanoseconds. Test runs
   * use it to leave out time the host spent running something else, as the
   * kernel's test timer stops while the task is rescheduled
   * (bpf_test_timer_continue in net/bpf/test_run.c). Without it a test run's
   * duration is elapsed time.
   */
  cpuTimeNs?(): number;
  /** A uniformly random u32 (bpf_get_prandom_u32). */
  randomU32(): number;
  /** The current task: thread id (pid), process id (tgid), uid, gid and comm (at most 15 bytes). */
  readonly task: { pid: number; tgid: number; uid: number; gid: number; comm: string };
  /** NUMA node of the current CPU. */
  readonly numaNode: number;

  // ---- optional: what helpers ask for that a plain host may not have ----

  /**
   * Call stack for bpf_get_stackid / bpf_get_stack / bpf_get_task_stack:
   * instruction pointers, innermost first. The vm has no kernel stack of its
   * own, so without this hook every stack is empty (bpf_get_stackid then fails
   * with EFAULT, bpf_get_stack returns 0 bytes, as the kernel does for an empty
   * callchain).
   */
  callStack?(kind: "kernel" | "user"): readonly bigint[];
  /**
   * cgroup v2 ids from the root (level 0) down to the current task's cgroup
   * (bpf_get_current_cgroup_id is the last, bpf_get_current_ancestor_cgroup_id
   * indexes by level). Default: [1n], the root cgroup alone.
   */
  readonly cgroupIds?: readonly bigint[];
  /**
   * The current task's pid namespace as bpf_get_ns_current_pid_tgid matches it
   * (st_dev and st_ino of /proc/self/ns/pid) and the task's ids inside it.
   * Default: the initial namespace (ino PROC_PID_INIT_INO, dev 0) with task.pid/tgid.
   */
  readonly pidNamespace?: { readonly dev: number; readonly ino: number; readonly pid: number; readonly tgid: number };
  /**
   * bpf_send_signal / bpf_send_signal_thread: deliver `sig` (1..64; 0 only checks)
   * to the current process or thread. Returns 0 or -errno. Without it the helpers
   * fail with EPERM (no task to signal).
   */
  sendSignal?(sig: number, scope: "process" | "thread"): number;
  /**
   * Arms a one-shot host timer (bpf_timer): calls `fire` after about `delayNs`
   * nanoseconds from the host's event loop; returns a function that disarms it.
   * Without it bpf_timer callbacks run only when the runtime's timers are run
   * explicitly (helperRuntime(services).timers.run()).
   */
  setTimer?(delayNs: number, fire: () => void): () => void;
}

/** include/linux/proc_ns.h, PROC_PID_INIT_INO: the initial pid namespace's inode number. */
export const PROC_PID_INIT_INO = 0xeffffffc;

/** CONFIG_HZ used to derive jiffies on a host without them (Debian's kernels use 250). */
export const HOST_HZ = 250;

const hostStart = performance.timeOrigin;
/** The longest delay setTimeout takes (Node: a larger one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** include/linux/jiffies.h, INITIAL_JIFFIES: jiffies start 300 s before a 32-bit wrap. */
export const INITIAL_JIFFIES = 2 ** 32 - 300 * HOST_HZ;

/**
 * CLOCK_MONOTONIC at performance.now()'s zero, in ms: Node's process.hrtime
 * reads CLOCK_MONOTONIC (libuv's uv_hrtime), so the vm's ktime_get_ns agrees
 * with the machine's clock. Elsewhere (browsers) the vm's clock starts at 1 s.
 */
const monotonicBaseMs = ((): number => {
  const hr = typeof process !== "undefined" ? process.hrtime?.bigint : undefined;
  return hr ? Number(hr()) / 1e6 - performance.now() : 1000;
})();

/** The real host: Node's clocks and process. */
export function realHost(): HostEnv {
  // One float add and multiply: bpf_ktime_get_ns is a hot helper.
  const monotonicNs = (): number => Math.round((performance.now() + monotonicBaseMs) * 1e6);
  return {
    monotonicNs,
    bootNs: monotonicNs,
    coarseNs: () => Math.floor(monotonicNs() / 4_000_000) * 4_000_000,
    // TAI is UTC plus 37 leap seconds since 2017 (IERS Bulletin C).
    taiNs: () => Math.round((hostStart + performance.now()) * 1e6) + 37e9,
    jiffies: () => INITIAL_JIFFIES + Math.floor((monotonicNs() * HOST_HZ) / 1e9),
    ...(typeof process !== "undefined" && typeof process.cpuUsage === "function"
      ? {
        cpuTimeNs: (): number => {
          const u = process.cpuUsage();
          return (u.user + u.system) * 1000;
        },
      }
      : {}),
    randomU32: () => (Math.random() * 4294967296) >>> 0,
    task: {
      pid: typeof process !== "undefined" ? process.pid : 1,
      tgid: typeof process !== "undefined" ? process.pid : 1,
      uid: typeof process !== "undefined" && process.getuid ? process.getuid() : 0,
      gid: typeof process !== "undefined" && process.getgid ? process.getgid() : 0,
      comm: "node",
    },
    numaNode: 0,
    sendSignal: (sig, scope) => {
      // The vm's "current task" is this process; a thread-directed signal goes to it too.
      void scope;
      if (typeof process === "undefined" || typeof process.kill !== "function") return -1; // EPERM
      try {
        process.kill(process.pid, sig);
        return 0;
      } catch {
        return -22; // EINVAL: the host refused the signal number
      }
    },
    setTimer: (delayNs, fire) => {
      // bpf_timer_start takes up to 2^64 - 1 ns; setTimeout at most 2^31 - 1 ms, so long delays go in steps.
      let remainingMs = Math.max(0, delayNs / 1e6);
      let t: ReturnType<typeof setTimeout>;
      const arm = (): void => {
        const step = Math.min(remainingMs, MAX_TIMEOUT_MS);
        remainingMs -= step;
        t = setTimeout(remainingMs > 0 ? arm : fire, step);
        // A pending bpf_timer must not keep the host process alive on its own.
        (t as { unref?: () => void }).unref?.();
      };
      arm();
      return () => clearTimeout(t);
    },
  };
}
