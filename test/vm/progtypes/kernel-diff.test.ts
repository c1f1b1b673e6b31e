/**
 * Differential tests against the kernel verifier: for each program type and
 * attach type, the kernel's verdict on context loads and stores at every offset
 * and size, on a call to every helper id, and on exits with edge return values,
 * against isValidAccess / allowsHelper / returnRange.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { Instruction } from "../../../src/isa/instruction.js";
import type { CtxAccessResult } from "../../../src/vm/progtypes/types.js";
import { describeKernel } from "../../helpers/kernel.js";
import { exit, kernelCases, load, mov, okReturn, unloadableReason, type KernelCase } from "./kernel-cases.js";

/**
 * Helpers whose availability depends on more than the tables: kernel config and
 * lockdown. The kernel here lacks CONFIG_BPF_KPROBE_OVERRIDE (override_return)
 * and runs lockdown=integrity, which hides probe_write_user
 * (LOCKDOWN_BPF_WRITE_USER); our tables record both as available with that note.
 */
const CONFIG_DEPENDENT = new Set([36, 58]);

/** The offsets a sweep covers: the whole ctx and a little beyond, or samples of huge contexts. */
function offsets(c: KernelCase): number[] {
  const size = c.info.ctxSize;
  // An instruction offset is an s16: the largest contexts are sampled up to 32767.
  if (size > 1024) return [-32768, -4096, -16, -8, -4, -1, 0, 1, 2, 4, 7, 8, 12, 16, 60, 2048, 8184, 8188, 8191, 8192, 8200, 32760, 32766, 32767];
  const out: number[] = [];
  for (let off = -8; off < size + 8; off++) out.push(off);
  return out;
}

const ldx = (size: 1 | 2 | 4 | 8, off: number): Instruction => ({ kind: "ldx", size, signed: false, dst: 0, src: 1, off });
const stx = (size: 1 | 2 | 4 | 8, off: number): Instruction => ({ kind: "stx", size, dst: 1, src: 2, off });

/** The register type the kernel gave r0 after the load, from the log_level 2 state line. */
function loadedType(log: string): string {
  const m = /^0: \(\w+\) r0 = \*\(\w+ \*\)\(r1 [^)]*\)\s+; R0_?w?=([a-z_0-9]+)/m.exec(log);
  return m ? m[1] : "?";
}

/** The kernel's name for a CtxLoadType (reg_type_str). */
function kernelName(r: CtxAccessResult): string {
  if (!r.ok) return "-";
  switch (r.regType) {
    case "scalar": return "scalar";
    case "btf_id": return `trusted_ptr_${r.btfType ?? ""}`;
    default: return r.regType;
  }
}

const cases = kernelCases();

describeKernel("program types agree with the kernel verifier", () => {
  for (const c of cases) {
    describe(c.label, () => {
      let skip: string | null = null;
      beforeAll(() => {
        skip = unloadableReason(c);
      });

      test(`ctx loads and stores: isValidAccess agrees with the kernel at every offset and size`, (ctx) => {
        if (skip) ctx.skip(skip);
        const ret = okReturn(c);
        const diffs: string[] = [];
        for (const off of offsets(c)) {
          for (const size of [1, 2, 4, 8] as const) {
            const oursR = c.info.isValidAccess(off, size, false, c.attachType);
            const kr = load(c, [ldx(size, off), mov(0, ret), exit], 2);
            const kernelR = kr.ok ? loadedType(kr.log) : "-";
            if (kernelName(oursR) !== kernelR) diffs.push(`read ${size}@${off}: ours ${kernelName(oursR)}, kernel ${kernelR}`);
            const oursW = c.info.isValidAccess(off, size, true, c.attachType).ok;
            const kw = load(c, [mov(2, 0), stx(size, off), mov(0, ret), exit], 0).ok;
            if (oursW !== kw) diffs.push(`write ${size}@${off}: ours ${oursW}, kernel ${kw}`);
          }
        }
        expect(diffs).toEqual([]);
      });

      test(`helper calls: allowsHelper agrees with the kernel for every helper id`, (ctx) => {
        if (skip) ctx.skip(skip);
        const diffs: string[] = [];
        for (let id = 1; id <= 211; id++) {
          if (CONFIG_DEPENDENT.has(id)) continue;
          const r = load(c, [mov(1, 0), mov(2, 0), mov(3, 0), mov(4, 0), mov(5, 0), { kind: "call", target: "helper", imm: id, off: 0 }, mov(0, okReturn(c)), exit]);
          const kernel = !/program of this type cannot use helper|unknown func/.test(r.log);
          if (kernel !== c.info.allowsHelper(id, c.attachType)) diffs.push(`helper ${id}: ours ${!kernel}, kernel ${kernel}`);
        }
        expect(diffs).toEqual([]);
      });

      test(`exit values: returnRange agrees with the kernel's check_return_code`, (ctx) => {
        if (skip) ctx.skip(skip);
        const range = c.info.returnRange(c.attachType);
        for (const v of [-4096, -1, 0, 1, 2, 3, 4, 0x7fffffff]) {
          const ours = range === undefined || (v >= range[0] && v <= range[1]);
          expect([v, load(c, [mov(0, v), exit], 0).ok]).toEqual([v, ours]);
        }
      });
    });
  }
});
