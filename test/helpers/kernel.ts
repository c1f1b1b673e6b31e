/**
 * Gating for tests that need the real kernel. Such tests skip, saying why, where
 * bpf() is unavailable (another OS, no privilege); with TSBPF_KERNEL_TESTS=required
 * (set in CI here, where the kernel is available) a skip becomes a failure.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { describe, test } from "vitest";
import { bpfSyscall, closeFd, syscallsAvailable } from "../../src/linux/syscall.js";

let cached: string | null | undefined;

/** Why kernel tests cannot run here, or null when they can. */
export function kernelUnavailableReason(): string | null {
  if (cached !== undefined) return cached;
  if (!syscallsAvailable()) return (cached = `bpf() needs Linux x86-64 with koffi (this is ${process.platform}/${process.arch})`);
  // BPF_MAP_CREATE (0) of a 1-entry array: the cheapest proof that bpf() works here.
  const attr = Buffer.alloc(72);
  attr.writeUInt32LE(2, 0); // BPF_MAP_TYPE_ARRAY
  attr.writeUInt32LE(4, 4);
  attr.writeUInt32LE(4, 8);
  attr.writeUInt32LE(1, 12);
  const r = bpfSyscall(0, attr);
  if (r.ret < 0) return (cached = `bpf(BPF_MAP_CREATE) failed with errno ${r.errno} (need root or CAP_BPF)`);
  closeFd(r.ret);
  return (cached = null);
}

const required = process.env.TSBPF_KERNEL_TESTS === "required";

/** describe() for kernel tests: skipped with the reason where bpf() is unavailable. */
export function describeKernel(name: string, body: () => void): void {
  const reason = kernelUnavailableReason();
  if (reason === null) {
    describe(name, body);
  } else if (required) {
    describe(name, () => {
      test(`kernel required (TSBPF_KERNEL_TESTS=required) but unavailable: ${reason}`, () => {
        throw new Error(reason);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${reason}]`, body);
  }
}

/**
 * A test that needs a kernel feature this kernel may lack (kprobes, trampolines
 * under lockdown, tcx…): `reason()` runs at collection time and returns why the
 * feature is unavailable, or null. Such a skip is about the kernel's build, not
 * about bpf() access, so TSBPF_KERNEL_TESTS=required does not turn it into a failure.
 */
export function testFeature(name: string, reason: () => string | null, body: () => void | Promise<void>): void {
  let why: string | null;
  try {
    why = kernelUnavailableReason() ?? reason();
  } catch (e) {
    why = (e as Error).message;
  }
  if (why === null) test(name, body);
  else test.skip(`${name} [skipped: ${why}]`, body);
}

let seq = 0;
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

export interface NetnsPair {
  /** Namespace names (ip netns), and the veth end inside each. */
  readonly nsA: string;
  readonly nsB: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly ipA: string;
  readonly ipB: string;
  /** Runs a shell command inside a namespace. */
  exec(ns: string, script: string): string;
  /** Deletes both namespaces (and with them the veth pair). */
  remove(): void;
}

/**
 * Two fresh network namespaces joined by a veth pair, addressed 10.199.N.1/.2.
 * Nothing outside the two namespaces is touched; remove() deletes them.
 */
export function createNetnsPair(): NetnsPair {
  const n = (process.pid % 200) + (seq++ % 50);
  const tag = `tsbpf${process.pid}x${seq}`;
  const nsA = `${tag}a`;
  const nsB = `${tag}b`;
  const ifA = `va${process.pid % 100000}x${seq}`.slice(0, 15);
  const ifB = `vb${process.pid % 100000}x${seq}`.slice(0, 15);
  const ipA = `10.199.${n}.1`;
  const ipB = `10.199.${n}.2`;
  const remove = (): void => {
    for (const ns of [nsA, nsB]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  };
  try {
    run("ip", ["netns", "add", nsA]);
    run("ip", ["netns", "add", nsB]);
    // Created inside nsA, so the pair never exists in the caller's namespace.
    run("ip", ["-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB]);
    run("ip", ["-n", nsA, "link", "set", ifB, "netns", nsB]);
    run("ip", ["-n", nsA, "addr", "add", `${ipA}/24`, "dev", ifA]);
    run("ip", ["-n", nsB, "addr", "add", `${ipB}/24`, "dev", ifB]);
    for (const [ns, dev] of [[nsA, ifA], [nsB, ifB], [nsA, "lo"], [nsB, "lo"]]) run("ip", ["-n", ns, "link", "set", dev, "up"]);
  } catch (e) {
    remove();
    throw e;
  }
  return {
    nsA, nsB, ifA, ifB, ipA, ipB, remove,
    exec: (ns, script) => run("ip", ["netns", "exec", ns, "bash", "-c", script]),
  };
}

/** Why network-namespace tests cannot run (no iproute2 / bash), or null. */
export function netnsUnavailableReason(): string | null {
  if (spawnSync("ip", ["-V"], { stdio: "ignore" }).status !== 0) return "no iproute2 'ip' command";
  if (spawnSync("bash", ["-c", "true"], { stdio: "ignore" }).status !== 0) return "no bash";
  return null;
}

export interface TempCgroup {
  readonly path: string;
  /** Runs a bash script as a child process placed in this cgroup. */
  execIn(script: string): string;
  remove(): void;
}

/** A fresh cgroup v2 directory for one test; remove() deletes it (its processes have exited). */
export function createCgroup(root: string): TempCgroup {
  const path = `${root}/tsbpf-test-${process.pid}-${seq++}`;
  mkdirSync(path);
  return {
    path,
    execIn: (script) => run("bash", ["-c", `echo $$ > ${path}/cgroup.procs && ${script}`]),
    remove: () => {
      try {
        rmdirSync(path);
      } catch {
        // A child still exiting keeps the cgroup busy for a moment.
        spawnSync("sleep", ["0.2"]);
        rmdirSync(path);
      }
    },
  };
}

/**
 * Why objects cannot be loaded and pinned through bpftool (libbpf) here, or null:
 * the tests that keep libbpf in the loop need root, bpffs and bpftool.
 */
export function bpftoolLoadUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return "loading needs root";
  if (!existsSync("/sys/fs/bpf")) return "no bpffs at /sys/fs/bpf";
  if (spawnSync("bpftool", ["version"], { stdio: "ignore" }).status !== 0) return "bpftool is not installed";
  return null;
}
