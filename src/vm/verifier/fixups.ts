/**
 * The rewrites the kernel applies after a successful verification, so the vm's
 * "xlated" program matches what `bpftool prog dump xlated` shows for the kernel
 * (kernel/bpf/verifier.c, bpf_check after do_check):
 *
 * - opt_hard_wire_dead_code_branches, opt_remove_dead_code, opt_remove_nops
 *   (privileged programs), sanitize_dead_code (unprivileged: dead code becomes `ja -1`);
 * - do_misc_fixups: div/mod by a register get the zero-divisor guard
 *   (chk_and_div / chk_and_mod), sdiv/smod by the constant -1 become neg / mov 0;
 *   bpf_map_lookup_elem on an array map is inlined (array_map_gen_lookup) when
 *   the map tells its value offset.
 *
 * Not done (the vm's engines handle these themselves): ctx access conversion
 * (convert_ctx_accesses), LD_ABS/LD_IND rewriting (bpf_gen_ld_abs), tail call
 * rewriting to BPF_TAIL_CALL, bpf_loop inlining, hash map lookup inlining, sdiv/smod
 * by register guards (they need the hidden BPF_REG_AX), helper call address
 * resolution.
 */
import { Bytecode } from "../../isa/bytecode.js";
import type { RawInsn } from "../../isa/instruction.js";
import type { InsnAux } from "./types.js";

interface Out {
  raw: RawInsn;
  /** Original slot this instruction came from (-1 for inserted ones). */
  origin: number;
  /** A jump/call whose target is the original slot `target` (relinked after patching). */
  target?: number;
  /** Which field carries the offset of a relinked jump. */
  field?: "off" | "imm";
}

const isCondJump = (op: number): boolean => {
  const cls = op & 7;
  const jop = op & 0xf0;
  return (cls === 5 || cls === 6) && jop !== 0x00 && jop !== 0x80 && jop !== 0x90 && jop !== 0xe0;
};

const r = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ opcode, dst, src, off, imm });

export interface FixupOptions {
  readonly privileged: boolean;
}

export function applyFixups(code: Bytecode, aux: readonly InsnAux[], opts: FixupOptions): { xlated: Bytecode; origin: number[]; applied: string[] } {
  const n = code.length;
  const applied: string[] = [];
  const work = code.clone();
  const tail = code.imm64Tails();
  const seen = (i: number): boolean => aux[i]?.seen === true;

  if (opts.privileged) {
    // opt_hard_wire_dead_code_branches
    for (let i = 0; i < n; i++) {
      if (tail[i] || !isCondJump(work.opcode[i])) continue;
      let off: number;
      if (!seen(i + 1)) off = work.off[i];
      else if (!seen(i + 1 + work.off[i])) off = 0;
      else continue;
      work.set(i, r(0x05, 0, 0, off, 0));
      applied.push(`insn ${i}: branch with a dead side hard-wired to ja ${off}`);
    }
  }

  // Build the output with relinkable jumps.
  const outs: Out[][] = [];
  let deadCount = 0;
  for (let i = 0; i < n; i++) {
    if (tail[i]) { outs.push([]); continue; }
    const raw = work.raw(i);
    const op = raw.opcode;
    const a = aux[i];
    if (!seen(i)) {
      if (opts.privileged) {
        outs.push([]);
        if (op === 0x18 && i + 1 < n) outs.push([]), i++;
        deadCount++;
      } else {
        // sanitize_dead_code: trap dead code in a self loop.
        outs.push([{ raw: r(0x05, 0, 0, -1, 0), origin: i }]);
        if (op === 0x18 && i + 1 < n) { outs.push([{ raw: r(0x05, 0, 0, -1, 0), origin: i + 1 }]); i++; }
        deadCount++;
      }
      continue;
    }
    const cls = op & 7;
    const jop = op & 0xf0;
    const list: Out[] = [];
    if ((cls === 5 || cls === 6) && jop !== 0x80 && jop !== 0x90) {
      const off = op === 0x06 ? raw.imm : raw.off;
      list.push({ raw, origin: i, target: i + off + 1, field: op === 0x06 ? "imm" : "off" });
    } else if (op === 0x85 && raw.src === 1) {
      list.push({ raw, origin: i, target: i + raw.imm + 1, field: "imm" });
    } else if (op === 0x18) {
      const second = work.raw(i + 1);
      if (raw.src === 4) list.push({ raw, origin: i, target: i + raw.imm + 1, field: "imm" });
      else list.push({ raw, origin: i });
      outs.push(list);
      outs.push([{ raw: second, origin: i + 1 }]);
      i++;
      continue;
    } else if ((cls === 4 || cls === 7) && (jop === 0x30 || jop === 0x90) && (op & 8) && a.divByReg) {
      list.push(...divModGuard(raw, i));
      applied.push(`insn ${i}: ${jop === 0x30 ? "div" : "mod"} by register guarded against a zero divisor`);
    } else if ((cls === 4 || cls === 7) && (jop === 0x30 || jop === 0x90) && !(op & 8) && raw.off === 1 && raw.imm === -1) {
      const is64 = cls === 7;
      list.push(jop === 0x30
        ? { raw: r((is64 ? 0x07 : 0x04) | 0x80, raw.dst), origin: i }
        : { raw: r(is64 ? 0xb7 : 0xb4, raw.dst, 0, 0, 0), origin: i });
      applied.push(`insn ${i}: s${jop === 0x30 ? "div" : "mod"} by -1 rewritten`);
    } else if (op === 0x85 && raw.src === 0 && raw.imm === 1 && a.inlineArrayLookup && a.map?.inlineValueOffset !== undefined) {
      list.push(...arrayLookup(a, i));
      applied.push(`insn ${i}: array map lookup inlined`);
    } else {
      list.push({ raw, origin: i });
    }
    outs.push(list);
  }
  if (deadCount) applied.push(`${deadCount} dead instruction(s) ${opts.privileged ? "removed" : "sanitized"}`);

  // opt_remove_nops: `ja 0` (privileged only; left over from hard-wired branches).
  if (opts.privileged) {
    for (let i = 0; i < outs.length; i++) {
      const l = outs[i];
      if (l.length === 1 && l[0].raw.opcode === 0x05 && l[0].target === i + 1) {
        outs[i] = [];
        applied.push(`insn ${i}: nop removed`);
      }
    }
  }

  // Lay out and relink.
  const start = new Array<number>(n + 1).fill(0);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    start[i] = pos;
    pos += outs[i].length;
  }
  start[n] = pos;
  // A jump into removed code lands on the next kept instruction.
  const flat: Out[] = [];
  for (const l of outs) flat.push(...l);
  const xlated = new Bytecode(flat.length);
  const origin: number[] = [];
  flat.forEach((o, k) => {
    const raw = { ...o.raw };
    if (o.target !== undefined && o.field) {
      const t = start[Math.min(o.target, n)];
      const rel = t - k - 1;
      if (o.field === "off") raw.off = rel;
      else raw.imm = rel;
    }
    xlated.set(k, raw);
    origin.push(o.origin);
  });
  return { xlated, origin, applied };
}

/** do_misc_fixups' chk_and_div / chk_and_mod patchlets. */
function divModGuard(insn: RawInsn, i: number): Out[] {
  const is64 = (insn.opcode & 7) === 7;
  const isdiv = (insn.opcode & 0xf0) === 0x30;
  const jmp = is64 ? 0x05 : 0x06;
  if (insn.off === 1) {
    // sdiv/smod by register need BPF_REG_AX; kept as is (the engines define x/0 and INT_MIN/-1).
    return [{ raw: insn, origin: i }];
  }
  if (isdiv) {
    return [
      { raw: r(jmp | 0x50, insn.src, 0, 2, 0), origin: -1 },
      { raw: r(0xac, insn.dst, insn.dst), origin: -1 },
      { raw: r(0x05, 0, 0, 1, 0), origin: -1 },
      { raw: insn, origin: i },
    ];
  }
  const out: Out[] = [
    { raw: r(jmp | 0x10, insn.src, 0, 1 + (is64 ? 0 : 1), 0), origin: -1 },
    { raw: insn, origin: i },
  ];
  if (!is64) {
    out.push({ raw: r(0x05, 0, 0, 1, 0), origin: -1 });
    out.push({ raw: r(0xbc, insn.dst, insn.dst), origin: -1 });
  }
  return out;
}

/** array_map_gen_lookup (privileged form, without the index mask). */
function arrayLookup(a: InsnAux, i: number): Out[] {
  const map = a.map!;
  const elem = Math.ceil(map.valueSize / 8) * 8;
  const pow2 = (elem & (elem - 1)) === 0;
  const out: Out[] = [
    { raw: r(0x07, 1, 0, 0, map.inlineValueOffset ?? 0), origin: i },
    { raw: r(0x61, 0, 2, 0, 0), origin: -1 },
    { raw: r(0x35, 0, 0, 3, map.maxEntries), origin: -1 },
    { raw: pow2 ? r(0x67, 0, 0, 0, Math.log2(elem)) : r(0x27, 0, 0, 0, elem), origin: -1 },
    { raw: r(0x0f, 0, 1), origin: -1 },
    { raw: r(0x05, 0, 0, 1, 0), origin: -1 },
    { raw: r(0xb7, 0, 0, 0, 0), origin: -1 },
  ];
  return out;
}
