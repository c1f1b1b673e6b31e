/**
 * Runs one program through the kernel verifier and ours and extracts what the
 * differential tests compare: verdict, the error line and the processed count.
 */
import type { Bytecode } from "../../../src/isa/bytecode.js";
import type { VerifierResult } from "../../../src/vm/verifier/types.js";
import { type Prog, runVerifier } from "./harness.js";
import { closeFdSafe, kernelCreateMap, kernelLoad, minimalFuncBtf } from "./kernel-load.js";

export interface Side {
  accepted: boolean;
  errorLine: string;
  processed: number;
  log: string;
}

/** The kernel's last meaningful line: the one before "processed N insns". */
export function errorLine(log: string): string {
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  const i = lines.findIndex((l) => l.startsWith("processed "));
  const before = i < 0 ? lines : lines.slice(0, i);
  return normalize(before[before.length - 1] ?? "");
}

/** What must differ between kernel and vm: map addresses. */
export const normalize = (s: string): string => s.replace(/0xffff[0-9a-f]{12}/g, "0xMAP");

const processedOf = (log: string): number => Number(/processed (\d+) insns/.exec(log)?.[1] ?? -1);

/** The kernel's verdict alone (no log: cheap enough for fuzzing); the log only when it rejects. */
export function kernelJudge(p: Prog): { accepted: boolean; errorLine: string } {
  const quick = runKernel(p, 0);
  if (quick.accepted) return { accepted: true, errorLine: "" };
  const k = runKernel(p, 1, 1 << 20);
  return { accepted: k.accepted, errorLine: k.errorLine };
}

export function runKernel(p: Prog, level: 0 | 1 | 2 | 4 = 1, logSize = 64 << 20): Side {
  const fds = (p.maps ?? []).map((m) => kernelCreateMap(m));
  try {
    const code: Bytecode = p.code.clone();
    for (let i = 0; i < code.length; i++) {
      if (code.opcode[i] === 0x18 && [1, 2].includes(code.src[i])) code.imm[i] = fds[code.imm[i]];
      if (code.opcode[i] === 0x18) i++;
    }
    // Programs with functions (bpf_loop callbacks, global functions) need BTF func_info in the kernel.
    const funcs = p.funcInfo && p.funcInfo.length > 1 ? p.funcInfo : undefined;
    const r = kernelLoad(code, {
      progType: p.progType, license: p.license ?? "GPL", logLevel: level, expectedAttachType: p.attach, logSize,
      ...(funcs ? { btf: minimalFuncBtf(funcs.map((f) => ({ name: f.name, global: f.global }))), funcInfo: funcs.map((f, i) => ({ insn: f.insn, typeId: 3 + i })) } : {}),
    });
    closeFdSafe(r.fd);
    return { accepted: r.accepted, errorLine: r.accepted ? "" : errorLine(r.log), processed: processedOf(r.log), log: r.log };
  } finally {
    fds.forEach(closeFdSafe);
  }
}

export function runOurs(p: Prog, level: 1 | 2 = 1): Side & { result: VerifierResult } {
  const result = runVerifier(p, { logLevel: level });
  return {
    accepted: result.accepted, errorLine: result.accepted ? "" : errorLine(result.log), processed: result.stats.processedInsns,
    log: result.log, result,
  };
}
