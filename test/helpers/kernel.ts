/**
 * Gating for tests that need the real kernel. Such tests skip, saying why, where
 * bpf() is unavailable (another OS, no privilege); with TSBPF_KERNEL_TESTS=required
 * (set in CI here, where the kernel is available) a skip becomes a failure.
 */
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
