/**
 * How to load a tiny program of each (program type, attach type) into the
 * kernel for the differential tests: the attach type, the attach target, flags,
 * and a return value the hook accepts (so the kernel judges only what a test asks).
 */
import type { Instruction } from "../../../src/isa/instruction.js";
import { imm } from "../../../src/isa/instruction.js";
import { progTypes } from "../../../src/vm/progtypes/index.js";
import type { ProgTypeVerifierInfo } from "../../../src/vm/progtypes/types.js";
import { loadProgram, vmlinuxFuncId, type LoadResult } from "./kernel-load.js";

/** BPF_F_SLEEPABLE, include/uapi/linux/bpf.h. */
const BPF_F_SLEEPABLE = 1 << 4;

export interface KernelCase {
  readonly info: ProgTypeVerifierInfo;
  readonly attachType: number;
  /** A name for test titles: "cgroup_sock_addr@10". */
  readonly label: string;
}

/** Every (type, attach type) pair the tests load. */
export function kernelCases(): KernelCase[] {
  return progTypes.flatMap((info) => (info.attachTypes ?? [0]).map((attachType) => ({ info, attachType, label: `${info.name}@${attachType}` })));
}

const ATTACH_TARGET: Readonly<Record<string, string>> = { tracing: "bpf_fentry_test1", lsm: "bpf_lsm_file_open" };

export const mov = (dst: number, v: number): Instruction => ({ kind: "alu", op: "mov", wide: true, dst, src: imm(v) });
export const exit: Instruction = { kind: "exit" };

/** An r0 value the type's return check accepts. */
export function okReturn(c: KernelCase): number {
  const range = c.info.returnRange(c.attachType);
  return range ? range[0] : 0;
}

export function load(c: KernelCase, insns: readonly Instruction[], logLevel = 1): LoadResult {
  const target = ATTACH_TARGET[c.info.name];
  return loadProgram({
    progType: c.info.id,
    insns,
    expectedAttachType: c.attachType,
    ...(target ? { attachBtfId: vmlinuxFuncId(target) ?? 0 } : {}),
    ...(c.info.name === "syscall" ? { progFlags: BPF_F_SLEEPABLE } : {}),
    logLevel,
  });
}

/** Why this case cannot be loaded here at all (the kernel refuses even `r0 = ok; exit`), or null. */
export function unloadableReason(c: KernelCase): string | null {
  const r = load(c, [mov(0, okReturn(c)), exit]);
  if (r.ok) return null;
  return `the kernel refuses a trivial ${c.label} program (errno ${r.errno}${r.log ? `: ${r.log.trim().split("\n").pop()}` : ""})`;
}
