/**
 * The differential corpus: programs loaded into both the kernel and our verifier.
 * Families are generated (ALU bounds, branch refinement, stack, packet) and the
 * rest are hand-written cases around one rule each. Nothing here states the
 * expected verdict: the kernel is the judge at test time.
 */
import type { Bytecode } from "../../../src/isa/bytecode.js";
import {
  ADD, AND, ARSH, B, DIV, DW, F, H, JA, JEQ, JGE, JGT, JLE, JLT, JNE, JSET, JSGE, JSGT, JSLE, JSLT, LSH, MOD, MUL, NEG, OR,
  PT, RSH, SUB, W, XOR, gotol, alu32i, alu32r, alu64i, alu64r, atomic, bswap, call, callLocal, endian, exit, ja, jmp32i, jmp32r, jmpi,
  jmpr, ldAbs, ldFunc, ldImm64, ldInd, ldMap, ldMapValue, ldx, ldxsx, lookup, mov32i, mov32r, mov64i, mov64r, movsx32, movsx64, prog,
  rawInsn, st, stx, type I,
} from "./asm.js";
import type { FuncInfo } from "../../../src/vm/verifier/types.js";
import type { KernelMapSpec } from "./kernel-load.js";

export interface CorpusCase {
  readonly name: string;
  readonly code: Bytecode;
  readonly progType: number;
  readonly maps?: readonly KernelMapSpec[];
  readonly license?: string;
  readonly attach?: number;
  /** Functions (int f(void) in BTF) for programs with callbacks or global functions. */
  readonly funcInfo?: readonly FuncInfo[];
}

export const M = {
  hash8: { type: 1, keySize: 8, valueSize: 8, maxEntries: 1, name: "hash_8b" },
  hash48: { type: 1, keySize: 8, valueSize: 48, maxEntries: 1, name: "hash_48b" },
  array48: { type: 2, keySize: 4, valueSize: 48, maxEntries: 1, name: "array_48b" },
  array4x8: { type: 2, keySize: 4, valueSize: 8, maxEntries: 4, name: "array_4x8" },
  ringbuf: { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb" },
  progArray: { type: 3, keySize: 4, valueSize: 4, maxEntries: 4, name: "jmp_table" },
  rdonly: { type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 1 << 7, name: "ro_array" },
} as const satisfies Record<string, KernelMapSpec>;

const cases: CorpusCase[] = [];
const add = (name: string, progType: number, code: Bytecode, maps?: KernelMapSpec[], extra: Partial<CorpusCase> = {}): void => {
  cases.push({ name, progType, code, maps, ...extra });
};

const OPS: Array<[string, number]> = [
  ["add", ADD], ["sub", SUB], ["mul", MUL], ["div", DIV], ["or", OR], ["and", AND], ["lsh", LSH], ["rsh", RSH],
  ["mod", MOD], ["xor", XOR], ["arsh", ARSH],
];

// --- A. ALU bounds: an unknown byte, one operation, then used as an offset into a 48-byte value.
for (const [name, op] of OPS) {
  for (const k of [1, 3, 47, 0x3f, -1]) {
    if ((op === DIV || op === MOD) && k === 0) continue;
    if ((op === LSH || op === RSH || op === ARSH) && (k < 0 || k > 31)) continue;
    for (const wide of [true, false]) {
      add(`alu bounds: ${wide ? "" : "w"}${name} ${k}`, PT.XDP, prog(
        lookup(0, 4),
        jmpi(JEQ, 0, 0, 4),
        ldx(B, 1, 0, 0),
        wide ? alu64i(op, 1, k) : alu32i(op, 1, k),
        alu64r(ADD, 0, 1),
        ldx(B, 0, 0, 0),
        mov64i(0, 0),
        exit(),
      ), [M.array48]);
    }
  }
}
for (const [nm, insn] of [
  ["neg", alu64i(NEG, 1, 0)], ["wneg", alu32i(NEG, 1, 0)], ["be16", endian(true, 1, 16)], ["le16", endian(false, 1, 16)],
  ["be32", endian(true, 1, 32)], ["bswap16", bswap(1, 16)], ["bswap64", bswap(1, 64)], ["movsx8", movsx64(1, 1, 8)],
  ["movsx32 w", movsx32(1, 1, 8)], ["mov32", mov32r(1, 1)], ["sdiv 2", alu64i(DIV, 1, 2, 1)], ["smod 5", alu64i(MOD, 1, 5, 1)],
] as const) {
  add(`alu bounds: ${nm}`, PT.XDP, prog(lookup(0, 4), jmpi(JEQ, 0, 0, 4), ldx(B, 1, 0, 0), insn, alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), [M.array48]);
}
// Register-register ALU with two bounded operands.
for (const [name, op] of OPS) {
  add(`alu bounds: reg ${name}`, PT.XDP, prog(
    lookup(0, 4), jmpi(JEQ, 0, 0, 7), ldx(B, 1, 0, 0), ldx(B, 2, 0, 1), alu64i(AND, 1, 15), alu64i(AND, 2, 7),
    alu64r(op, 1, 2), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit(),
  ), [M.array48]);
}

// --- B. Branch refinement: an unknown value compared with a constant, then used as an offset on either side.
const JOPS: Array<[string, number]> = [
  ["jeq", JEQ], ["jne", JNE], ["jgt", JGT], ["jge", JGE], ["jlt", JLT], ["jle", JLE], ["jsgt", JSGT], ["jsge", JSGE],
  ["jslt", JSLT], ["jsle", JSLE], ["jset", JSET],
];
for (const [name, op] of JOPS) {
  for (const size of [W, DW]) {
    for (const k of [40, 48]) {
      for (const j32 of [false, true]) {
        add(`branch refine: ${j32 ? "w" : ""}${name} ${size === W ? "u32" : "u64"} ${k}`, PT.XDP, prog(
          lookup(0, 4),
          jmpi(JEQ, 0, 0, 8),
          ldx(size, 1, 0, 0),
          j32 ? jmp32i(op, 1, k, 3) : jmpi(op, 1, k, 3),
          alu64r(ADD, 0, 1),
          ldx(B, 0, 0, 0),
          ja(2),
          alu64r(ADD, 0, 1),
          ldx(B, 0, 0, 0),
          mov64i(0, 0),
          exit(),
        ), [M.array48]);
      }
    }
  }
}
// Register comparisons against a bounded register.
for (const [name, op] of JOPS) {
  add(`branch refine: reg ${name}`, PT.XDP, prog(
    lookup(0, 4), jmpi(JEQ, 0, 0, 9), ldx(W, 1, 0, 0), mov64i(2, 40),
    jmpr(op, 1, 2, 3), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), ja(2), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit(),
  ), [M.array48]);
}

// --- C. Stack.
for (const off of [-520, -512, -513, -8, -1, 0, 8, -4, -6]) {
  for (const size of [B, H, W, DW]) {
    add(`stack: store ${[4, 2, 1, 8][size >> 3]} at fp${off}`, PT.XDP, prog(st(size, 10, off, 7), mov64i(0, 0), exit()));
  }
}
for (const off of [-8, -16, -4]) {
  add(`stack: load uninit fp${off}`, PT.XDP, prog(ldx(DW, 0, 10, off), exit()));
}
add("stack: spill ctx, fill 4 bytes", PT.XDP, prog(stx(DW, 10, 1, -8), ldx(W, 0, 10, -8), exit()));
add("stack: spill ctx, fill and deref", PT.XDP, prog(stx(DW, 10, 1, -8), ldx(DW, 2, 10, -8), ldx(W, 0, 2, 0), exit()));
add("stack: spill ctx, partial overwrite", PT.XDP, prog(stx(DW, 10, 1, -8), st(W, 10, -8, 0), ldx(DW, 2, 10, -8), ldx(W, 0, 2, 0), exit()));
add("stack: spill 4-byte ctx", PT.XDP, prog(stx(W, 10, 1, -8), mov64i(0, 0), exit()));
add("stack: spill scalar 32, fill 64", PT.XDP, prog(mov64i(1, 5), stx(W, 10, 1, -8), ldx(DW, 0, 10, -8), exit()));
add("stack: spilled const keeps value", PT.XDP, prog(
  lookup(0, 4), jmpi(JEQ, 0, 0, 5), mov64i(1, 40), stx(DW, 10, 1, -16), ldx(DW, 1, 10, -16), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0),
  mov64i(0, 0), exit(),
), [M.array48]);
add("stack: spilled const out of range", PT.XDP, prog(
  lookup(0, 4), jmpi(JEQ, 0, 0, 5), mov64i(1, 48), stx(DW, 10, 1, -16), ldx(DW, 1, 10, -16), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0),
  mov64i(0, 0), exit(),
), [M.array48]);
add("stack: variable offset read", PT.XDP, prog(
  st(DW, 10, -8, 0), st(DW, 10, -16, 0), ldx(W, 1, 1, 0), alu64i(AND, 1, 8), mov64r(2, 10), alu64i(ADD, 2, -16), alu64r(ADD, 2, 1),
  ldx(DW, 0, 2, 0), exit(),
));
add("stack: variable offset write out of range", PT.XDP, prog(
  ldx(W, 1, 1, 0), alu64i(AND, 1, 15), mov64r(2, 10), alu64i(ADD, 2, -8), alu64r(ADD, 2, 1), st(DW, 2, 0, 0), mov64i(0, 0), exit(),
));
add("stack: subtract from fp", PT.XDP, prog(mov64r(2, 10), mov64i(3, 8), alu64r(SUB, 2, 3), mov64i(0, 0), exit()));
add("stack: fp is read only", PT.XDP, prog(mov64i(10, 0), exit()));
add("stack: 32-bit fp arithmetic", PT.XDP, prog(mov64r(2, 10), alu32i(ADD, 2, -8), mov64i(0, 0), exit()));
add("stack: misaligned 8-byte store", PT.XDP, prog(st(DW, 10, -12, 0), mov64i(0, 0), exit()));
add("stack: atomic add on stack", PT.XDP, prog(st(DW, 10, -8, 0), mov64i(1, 1), atomic(DW, 10, 1, -8, 0), ldx(DW, 0, 10, -8), exit()));
add("stack: atomic fetch on uninit", PT.XDP, prog(mov64i(1, 1), atomic(DW, 10, 1, -8, 1), mov64r(0, 1), exit()));

// --- D. Packet access (XDP: data at 0, data_end at 4, data_meta at 8).
for (const n of [1, 8, 14]) {
  for (const m of new Set([0, n - 1, n])) {
    for (const size of [B, W]) {
      add(`pkt: check ${n}, read ${[4, 2, 1, 8][size >> 3]}@${m}`, PT.XDP, prog(
        ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, n), jmpr(JGT, 4, 3, 2), ldx(size, 0, 2, m), exit(),
        mov64i(0, 0), exit(),
      ));
    }
  }
}
for (const [name, op, swap] of [["<", JLT, false], [">=", JGE, false], ["<=", JLE, false], ["end >= p", JGE, true], ["end < p", JLT, true], ["end > p", JGT, true], ["end <= p", JLE, true]] as const) {
  add(`pkt: compare ${name}`, PT.XDP, prog(
    ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 8), swap ? jmpr(op, 3, 4, 2) : jmpr(op, 4, 3, 2),
    ldx(B, 0, 2, 4), exit(), mov64i(0, 0), exit(),
  ));
}
add("pkt: no check", PT.XDP, prog(ldx(W, 2, 1, 0), ldx(B, 0, 2, 0), exit()));
add("pkt: write after check", PT.XDP, prog(
  ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 1), st(W, 2, 0, 1), mov64i(0, 2), exit(),
));
add("pkt: variable offset", PT.XDP, prog(
  ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 1), jmpr(JGT, 4, 3, 7), ldx(B, 5, 2, 0), alu64i(AND, 5, 15),
  alu64r(ADD, 2, 5), mov64r(4, 2), alu64i(ADD, 4, 4), jmpr(JGT, 4, 3, 1), ldx(W, 0, 2, 0), mov64i(0, 0), exit(),
));
add("pkt: negative offset", PT.XDP, prog(
  ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 1), ldx(B, 0, 2, -1), mov64i(0, 0), exit(),
));
add("pkt: meta before data", PT.XDP, prog(
  ldx(W, 2, 1, 8), ldx(W, 3, 1, 0), mov64r(4, 2), alu64i(ADD, 4, 4), jmpr(JGT, 4, 3, 1), ldx(W, 0, 2, 0), mov64i(0, 0), exit(),
));
add("pkt: pkt_end arithmetic", PT.XDP, prog(ldx(W, 3, 1, 4), alu64i(ADD, 3, 1), mov64i(0, 0), exit()));
add("pkt: helper invalidates", PT.XDP, prog(
  mov64r(6, 1), ldx(W, 2, 1, 0), ldx(W, 3, 1, 4), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 6), mov64r(7, 2), mov64r(1, 6),
  mov64i(2, 0), call(F.xdp_adjust_head), ldx(B, 0, 7, 0), exit(), mov64i(0, 0), exit(),
));
add("pkt: sched_cls data", PT.SCHED_CLS, prog(
  ldx(W, 2, 1, 76), ldx(W, 3, 1, 80), mov64r(4, 2), alu64i(ADD, 4, 14), jmpr(JGT, 4, 3, 1), ldx(H, 0, 2, 12), mov64i(0, 0), exit(),
));

// Which helpers invalidate packet pointers (bpf_helper_changes_pkt_data, net/core/filter.c):
// a pointer checked before the call is read after it.
for (const [nm, id, setup, pt] of [
  ["tail_call (xdp)", F.tail_call, [ldMap(2, 0), mov64i(3, 0)], PT.XDP],
  ["tail_call (tc)", F.tail_call, [ldMap(2, 0), mov64i(3, 0)], PT.SCHED_CLS],
  ["clone_redirect", 13, [mov64i(2, 1), mov64i(3, 0)], PT.SCHED_CLS],
  ["redirect", 23, [mov64i(1, 1), mov64i(2, 0)], PT.SCHED_CLS],
  ["csum_diff", F.csum_diff, [mov64i(1, 0), mov64i(2, 0), mov64i(3, 0), mov64i(4, 0), mov64i(5, 0)], PT.SCHED_CLS],
  ["csum_update", 40, [mov64i(2, 0)], PT.SCHED_CLS],
  ["skb_vlan_pop", 19, [], PT.SCHED_CLS],
  ["skb_change_proto", 31, [mov64i(2, 8), mov64i(3, 0)], PT.SCHED_CLS],
  ["set_hash", 48, [mov64i(2, 1)], PT.SCHED_CLS],
  ["get_current_cgroup_id", 80, [], PT.SCHED_CLS],
  ["xdp_adjust_tail", 65, [mov64i(2, 0)], PT.XDP],
  ["redirect_map", F.redirect_map, [ldMap(1, 0), mov64i(2, 0), mov64i(3, 0)], PT.XDP],
] as const) {
  const tc = pt === PT.SCHED_CLS;
  const args = (setup as readonly I[]).flat();
  add(`pkt: pointer after ${nm}`, pt, prog(
    mov64r(6, 1), ldx(W, 2, 1, tc ? 76 : 0), ldx(W, 3, 1, tc ? 80 : 4), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 5 + args.length),
    mov64r(7, 2), mov64r(1, 6), ...args, call(id), ldx(B, 0, 7, 0), exit(), mov64i(0, 0), exit(),
  ), id === F.tail_call ? [M.progArray] : id === F.redirect_map ? [{ type: 14, keySize: 4, valueSize: 4, maxEntries: 4, name: "devmap" }] : []);
}
// A tail call in a subprogram may return to the caller (after the tail-called program ran).
add("pkt: caller pointer after tail call in subprog", PT.SCHED_CLS, prog(
  mov64r(6, 1), ldx(W, 2, 1, 76), ldx(W, 3, 1, 80), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 5), mov64r(7, 2), mov64r(1, 6),
  callLocal(4), ldx(B, 0, 7, 0), exit(), mov64i(0, 0), exit(),
  ldMap(2, 0), mov64i(3, 0), call(F.tail_call), mov64i(0, 0), exit(),
), [M.progArray], { funcInfo: [{ name: "main", insn: 0 }, { name: "sub", insn: 13 }] });
add("pkt: callee pointer after tail call in subprog", PT.SCHED_CLS, prog(
  mov64r(6, 1), ldx(W, 2, 1, 76), ldx(W, 3, 1, 80), mov64r(4, 2), alu64i(ADD, 4, 8), jmpr(JGT, 4, 3, 3), mov64r(1, 6),
  callLocal(3), exit(), mov64i(0, 0), exit(),
  mov64r(7, 2), ldMap(2, 0), mov64i(3, 0), call(F.tail_call), ldx(B, 0, 7, 0), exit(),
), [M.progArray], { funcInfo: [{ name: "main", insn: 0 }, { name: "sub", insn: 11 }] });
for (const btf of [false, true]) {
  add(`tail call in subprog returns a scalar${btf ? "" : " (no BTF)"}`, PT.XDP, prog(
    callLocal(2), alu64i(AND, 0, 1), exit(), ldMap(2, 0), mov64i(3, 0), call(F.tail_call), mov64i(0, 2), exit(),
  ), [M.progArray], btf ? { funcInfo: [{ name: "main", insn: 0 }, { name: "sub", insn: 3 }] } : {});
}
add("ld_abs in subprog (no BTF)", PT.SOCKET_FILTER, prog(mov64r(6, 1), callLocal(1), exit(), ldAbs(B, 0), exit()));

// --- E. Control flow.
// Linked scalars (collect_linked_regs): only live registers are linked and refined together.
add("linked: a dead copy keeps its bounds", PT.XDP, prog(call(7), mov64r(7, 0), jmpi(JEQ, 7, 0, 1), alu64i(XOR, 7, 1), mov64r(0, 7), exit()));
add("linked: a live copy is refined", PT.XDP, prog(call(7), mov64r(7, 0), jmpi(JGT, 7, 4, 2), alu64r(ADD, 0, 7), exit(), mov64i(0, 0), exit()));
add("linked: a spilled copy is refined", PT.XDP, prog(
  call(7), stx(DW, 10, 0, -8), mov64r(6, 0), jmpi(JGT, 6, 7, 3), ldx(DW, 0, 10, -8), alu64i(AND, 0, 0xff), exit(), mov64i(0, 0), exit(),
));
add("linked: a deep spilled copy bounds a stack offset", PT.XDP, prog(
  st(DW, 10, -16, 0), st(DW, 10, -8, 0),
  call(7), stx(DW, 10, 0, -400), mov64r(6, 0), jmpi(JGT, 6, 7, 7), ldx(DW, 0, 10, -400),
  mov64r(2, 10), alu64i(ADD, 2, -16), alu64r(ADD, 2, 0), st(B, 2, 0, 1), mov64i(0, 0), exit(), mov64i(0, 0), exit(),
));
// do_refine_retval_range: the CPU number is below nr_cpu_ids (at most 8192 in any kernel config), so
// the branch is dead and its uninitialised read never checked; string copies return at most the size.
add("retval: smp_processor_id below nr_cpu_ids", PT.XDP, prog(call(8), jmp32i(JSGE, 0, 8192, 2), mov64i(0, 2), exit(), alu64r(ADD, 0, 1), exit()));
add("retval: smp_processor_id is not below 2", PT.XDP, prog(call(8), jmp32i(JSGE, 0, 1, 2), mov64i(0, 2), exit(), alu64r(ADD, 0, 1), exit()));
add("retval: probe_read_str returns at most its size", PT.KPROBE, prog(
  mov64r(1, 10), alu64i(ADD, 1, -16), mov64i(2, 16), mov64i(3, 0), call(45), jmpi(JSGT, 0, 16, 2), mov64i(0, 0), exit(), alu64r(ADD, 0, 5), exit(),
));
add("cfg: unreachable", PT.XDP, prog(mov64i(0, 0), exit(), mov64i(0, 1), exit()));
add("cfg: no exit", PT.XDP, prog(mov64i(0, 0)));
add("cfg: jump out of range", PT.XDP, prog(mov64i(0, 0), ja(5), exit()));
add("cfg: jump backwards out of range", PT.XDP, prog(mov64i(0, 0), ja(-3), exit()));
add("cfg: jump into ldimm64", PT.XDP, prog(jmpi(JEQ, 1, 0, 1), ldImm64(0, 1n), exit()));
add("cfg: falls off the end", PT.XDP, prog(mov64i(0, 0), jmpi(JEQ, 0, 0, 1), exit(), mov64i(0, 1)));
add("cfg: ldimm64 as last", PT.XDP, prog(mov64i(0, 0), exit(), rawInsn(0x18, 0, 0, 0, 1)));
add("cfg: ja to self", PT.XDP, prog(mov64i(0, 0), ja(-1), exit()));
add("cfg: infinite loop", PT.XDP, prog(mov64i(0, 0), jmpi(JEQ, 0, 0, -1), exit()));
add("cfg: unbounded counter", PT.XDP, prog(ldx(W, 1, 1, 0), alu64i(ADD, 1, 1), jmpi(JNE, 1, 0, -2), mov64i(0, 0), exit()));
for (const n of [4, 100, 10000, 200000]) {
  add(`cfg: bounded loop ${n}`, PT.XDP, prog(mov64i(1, 0), mov64i(0, 0), alu64i(ADD, 0, 3), alu64i(ADD, 1, 1), jmpi(JLT, 1, n, -3), exit()));
}
add("cfg: loop with unknown bound checked", PT.XDP, prog(
  ldx(W, 2, 1, 0), alu64i(AND, 2, 63), mov64i(1, 0), mov64i(0, 0), alu64i(ADD, 0, 1), alu64i(ADD, 1, 1), jmpr(JLT, 1, 2, -3), exit(),
));
add("cfg: gotol", PT.XDP, prog(mov64i(0, 1), gotol(1), mov64i(0, 2), exit()));
add("cfg: reserved fields in exit", PT.XDP, prog(mov64i(0, 0), rawInsn(0x95, 1, 0, 0, 0)));
add("cfg: unknown opcode", PT.XDP, prog(mov64i(0, 0), rawInsn(0xff, 0, 0, 0, 0), exit()));
add("cfg: r0 not init", PT.XDP, prog(exit()));
add("cfg: r11 source", PT.XDP, prog(rawInsn(0xbf, 0, 11, 0, 0), exit()));
add("cfg: uninit r2", PT.XDP, prog(mov64r(0, 2), exit()));
add("cfg: div by zero imm", PT.XDP, prog(mov64i(0, 1), alu64i(DIV, 0, 0), exit()));
add("cfg: invalid shift", PT.XDP, prog(mov64i(0, 1), alu64i(LSH, 0, 64), exit()));
add("cfg: wshift 32", PT.XDP, prog(mov64i(0, 1), alu32i(RSH, 0, 32), exit()));
add("cfg: dead branch code", PT.XDP, prog(mov64i(0, 0), jmpi(JEQ, 0, 1, 1), exit(), ldx(DW, 0, 0, 0), exit()));

// --- F. Maps and helpers.
add("map: lookup, no null check", PT.XDP, prog(lookup(0), ldx(DW, 0, 0, 0), exit()), [M.hash8]);
add("map: lookup, null checked", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 1), ldx(DW, 0, 0, 0), mov64i(0, 0), exit()), [M.hash8]);
add("map: lookup, jne check", PT.XDP, prog(lookup(0), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit(), ldx(DW, 0, 0, 0), exit()), [M.hash8]);
add("map: value read past end", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 1), ldx(DW, 0, 0, 4), mov64i(0, 0), exit()), [M.hash8]);
add("map: value negative offset", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 1), ldx(B, 0, 0, -1), mov64i(0, 0), exit()), [M.hash8]);
add("map: uninit key", PT.XDP, prog(mov64r(2, 10), alu64i(ADD, 2, -8), ldMap(1, 0), call(F.map_lookup_elem), mov64i(0, 0), exit()), [M.hash8]);
add("map: key too small on stack", PT.XDP, prog(st(W, 10, -4, 0), mov64r(2, 10), alu64i(ADD, 2, -4), ldMap(1, 0), call(F.map_lookup_elem), mov64i(0, 0), exit()), [M.hash8]);
add("map: key is scalar", PT.XDP, prog(mov64i(2, 0), ldMap(1, 0), call(F.map_lookup_elem), mov64i(0, 0), exit()), [M.hash8]);
add("map: map arg is scalar", PT.XDP, prog(st(DW, 10, -8, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(1, 0), call(F.map_lookup_elem), mov64i(0, 0), exit()));
add("map: update value uninit", PT.XDP, prog(st(DW, 10, -8, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64r(3, 10), alu64i(ADD, 3, -16), mov64i(4, 0), ldMap(1, 0), call(F.map_update_elem), mov64i(0, 0), exit()), [M.hash8]);
add("map: update ok", PT.XDP, prog(st(DW, 10, -8, 0), st(DW, 10, -16, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64r(3, 10), alu64i(ADD, 3, -16), mov64i(4, 0), ldMap(1, 0), call(F.map_update_elem), mov64i(0, 0), exit()), [M.hash8]);
add("map: arith on map_ptr", PT.XDP, prog(ldMap(1, 0), alu64i(ADD, 1, 8), mov64i(0, 0), exit()), [M.hash8]);
add("map: arith on value_or_null", PT.XDP, prog(lookup(0), alu64i(ADD, 0, 8), mov64i(0, 0), exit()), [M.hash8]);
add("map: wrong id null check", PT.XDP, prog(
  lookup(0), mov64r(6, 0), st(DW, 10, -8, 0), mov64r(2, 10), alu64i(ADD, 2, -8), ldMap(1, 0), call(F.map_lookup_elem),
  jmpi(JEQ, 0, 0, 1), ldx(DW, 0, 6, 0), mov64i(0, 0), exit(),
), [M.hash8]);
add("map: copy then check", PT.XDP, prog(lookup(0), mov64r(6, 0), jmpi(JEQ, 0, 0, 1), ldx(DW, 0, 6, 0), mov64i(0, 0), exit()), [M.hash8]);
add("map: array const key no check", PT.XDP, prog(lookup(0, 4), ldx(DW, 0, 0, 0), exit()), [M.array48]);
add("map: array key out of range", PT.XDP, prog(st(W, 10, -4, 5), mov64r(2, 10), alu64i(ADD, 2, -4), ldMap(1, 0), call(F.map_lookup_elem), ldx(DW, 0, 0, 0), exit()), [M.array48]);
add("map: unbounded index", PT.XDP, prog(lookup(0, 4), jmpi(JEQ, 0, 0, 4), ldx(W, 1, 0, 0), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), [M.array48]);
add("map: rdonly write", PT.XDP, prog(lookup(0, 4), jmpi(JEQ, 0, 0, 1), st(DW, 0, 0, 1), mov64i(0, 0), exit()), [M.rdonly]);
add("map: rdonly update", PT.XDP, prog(st(W, 10, -4, 0), st(DW, 10, -16, 0), mov64r(2, 10), alu64i(ADD, 2, -4), mov64r(3, 10), alu64i(ADD, 3, -16), mov64i(4, 0), ldMap(1, 0), call(F.map_update_elem), mov64i(0, 0), exit()), [M.rdonly]);
add("map: direct value load", PT.XDP, prog(ldMapValue(1, 0, 8), ldx(DW, 0, 1, 0), exit()), [{ ...M.array48 }]);
add("map: direct value past end", PT.XDP, prog(ldMapValue(1, 0, 44), ldx(DW, 0, 1, 0), exit()), [{ ...M.array48 }]);
add("map: atomic on value", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 2), mov64i(1, 1), atomic(DW, 0, 1, 0, 0), mov64i(0, 0), exit()), [M.hash8]);
add("map: store pointer into value (priv)", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 1), stx(DW, 0, 10, 0), mov64i(0, 0), exit()), [M.hash8]);
add("helper: unknown id", PT.XDP, prog(call(100000), mov64i(0, 0), exit()));
add("helper: not allowed for xdp", PT.XDP, prog(call(F.get_current_pid_tgid), mov64i(0, 0), exit()));
add("helper: gpl only from non-gpl", PT.KPROBE, prog(mov64r(1, 10), alu64i(ADD, 1, -8), mov64i(2, 8), mov64i(3, 0), call(F.probe_read_kernel), mov64i(0, 0), exit()), [], { license: "MIT" });
add("helper: ktime", PT.XDP, prog(call(F.ktime_get_ns), exit()));
add("helper: r1 clobbered", PT.XDP, prog(call(F.ktime_get_ns), mov64r(0, 1), exit()));
add("helper: r6 preserved", PT.XDP, prog(mov64i(6, 3), call(F.ktime_get_ns), mov64r(0, 6), exit()));
add("helper: ringbuf output", PT.XDP, prog(st(DW, 10, -8, 0), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(3, 8), mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [M.ringbuf]);
add("helper: ringbuf output size 0 ok", PT.XDP, prog(ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(3, 0), mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [M.ringbuf]);
add("helper: ringbuf output uninit", PT.XDP, prog(ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(3, 8), mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [M.ringbuf]);
add("helper: ringbuf output unbounded size", PT.XDP, prog(st(DW, 10, -8, 0), ldx(W, 3, 1, 0), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [M.ringbuf]);
add("helper: ringbuf output negative size", PT.XDP, prog(st(DW, 10, -8, 0), mov64i(3, -1), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [M.ringbuf]);
const reserve = [ldMap(1, 0), mov64i(2, 16), mov64i(3, 0), call(F.ringbuf_reserve)];
add("ringbuf: reserve leak", PT.XDP, prog(...reserve, mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: reserve, check, submit", PT.XDP, prog(...reserve, jmpi(JEQ, 0, 0, 4), st(DW, 0, 0, 1), mov64r(1, 0), mov64i(2, 0), call(F.ringbuf_submit), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: submit unchecked", PT.XDP, prog(...reserve, mov64r(1, 0), mov64i(2, 0), call(F.ringbuf_submit), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: write past reservation", PT.XDP, prog(...reserve, jmpi(JEQ, 0, 0, 4), st(DW, 0, 12, 1), mov64r(1, 0), mov64i(2, 0), call(F.ringbuf_discard), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: use after submit", PT.XDP, prog(...reserve, jmpi(JEQ, 0, 0, 5), mov64r(6, 0), mov64r(1, 0), mov64i(2, 0), call(F.ringbuf_submit), st(DW, 6, 0, 1), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: submit modified pointer", PT.XDP, prog(...reserve, jmpi(JEQ, 0, 0, 4), alu64i(ADD, 0, 8), mov64r(1, 0), mov64i(2, 0), call(F.ringbuf_submit), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: non-const size", PT.XDP, prog(ldx(W, 2, 1, 0), ldMap(1, 0), mov64i(3, 0), call(F.ringbuf_reserve), mov64i(0, 0), exit()), [M.ringbuf]);
add("ringbuf: wrong map type", PT.XDP, prog(ldMap(1, 0), mov64i(2, 16), mov64i(3, 0), call(F.ringbuf_reserve), mov64i(0, 0), exit()), [M.hash8]);
add("tail call", PT.XDP, prog(ldMap(2, 0), mov64i(3, 0), call(F.tail_call), mov64i(0, 0), exit()), [M.progArray]);
add("tail call with hash map", PT.XDP, prog(ldMap(2, 0), mov64i(3, 0), call(F.tail_call), mov64i(0, 0), exit()), [M.hash8]);
add("lookup in prog array", PT.XDP, prog(lookup(0, 4), mov64i(0, 0), exit()), [M.progArray]);
// check_map_func_compatibility from both sides: which maps each helper takes, which helpers each map allows.
const CPUMAP = { type: 16, keySize: 4, valueSize: 4, maxEntries: 2, name: "cpus" };
const BLOOM = { type: 30, keySize: 0, valueSize: 8, maxEntries: 16, name: "bloom" };
const PERF = { type: 4, keySize: 4, valueSize: 4, maxEntries: 2, name: "perf" };
add("map compat: redirect_map with a hash map", PT.XDP, prog(ldMap(1, 0), mov64i(2, 0), mov64i(3, 0), call(F.redirect_map), exit()), [M.hash8]);
add("map compat: redirect_map with a cpumap", PT.XDP, prog(ldMap(1, 0), mov64i(2, 0), mov64i(3, 0), call(F.redirect_map), exit()), [CPUMAP]);
add("map compat: lookup in a cpumap", PT.XDP, prog(lookup(0, 4), mov64i(0, 0), exit()), [CPUMAP]);
add("map compat: pop from a bloom filter", PT.XDP, prog(ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), call(88), mov64i(0, 0), exit()), [BLOOM]);
add("map compat: peek into a bloom filter", PT.XDP, prog(st(DW, 10, -8, 0), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), call(89), mov64i(0, 0), exit()), [BLOOM]);
const QUEUE = { type: 22, keySize: 0, valueSize: 8, maxEntries: 16, name: "queue" };
add("map compat: peek into a queue", PT.XDP, prog(st(DW, 10, -8, 0), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), call(89), mov64i(0, 0), exit()), [QUEUE]);
add("map compat: pop from a queue into uninit stack", PT.XDP, prog(ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), call(88), ldx(DW, 0, 10, -8), mov64i(0, 0), exit()), [QUEUE]);
add("map compat: peek into a bloom filter from uninit stack", PT.XDP, prog(ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), call(89), mov64i(0, 0), exit()), [BLOOM]);
add("map compat: lookup in a bloom filter", PT.XDP, prog(lookup(0, 4), mov64i(0, 0), exit()), [BLOOM]);
add("map compat: perf output into an array", PT.XDP, prog(st(DW, 10, -8, 0), ldMap(2, 0), mov64i(3, 0), mov64r(4, 10), alu64i(ADD, 4, -8), mov64i(5, 8),
  call(F.perf_event_output), mov64i(0, 0), exit()), [M.array48]);
add("map compat: ringbuf output into a perf array", PT.XDP, prog(st(DW, 10, -8, 0), ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), mov64i(3, 8),
  mov64i(4, 0), call(F.ringbuf_output), mov64i(0, 0), exit()), [PERF]);
add("kfunc call in dead code", PT.XDP, prog(mov64i(0, 0), jmpi(JEQ, 0, 0, 1), rawInsn(0x85, 0, 2, 0, 93), exit()));

// --- G. Pointers, ctx, return values.
add("ctx: read data_end", PT.XDP, prog(ldx(W, 0, 1, 4), mov64i(0, 0), exit()));
add("ctx: read past end", PT.XDP, prog(ldx(W, 0, 1, 64), exit()));
add("ctx: misaligned read", PT.XDP, prog(ldx(W, 0, 1, 2), exit()));
add("ctx: narrow read of data", PT.XDP, prog(ldx(H, 0, 1, 0), exit()));
add("ctx: write", PT.XDP, prog(st(W, 1, 0, 0), mov64i(0, 0), exit()));
add("ctx: modified ptr", PT.XDP, prog(alu64i(ADD, 1, 4), ldx(W, 0, 1, 0), exit()));
add("ctx: 64-bit read", PT.XDP, prog(ldx(DW, 0, 1, 0), exit()));
add("ctx: kprobe regs read", PT.KPROBE, prog(ldx(DW, 0, 1, 8), exit()));
add("ctx: kprobe regs misaligned", PT.KPROBE, prog(ldx(DW, 0, 1, 4), exit()));
add("ctx: socket filter len", PT.SOCKET_FILTER, prog(ldx(W, 0, 1, 0), exit()));
add("ctx: socket filter data", PT.SOCKET_FILTER, prog(ldx(W, 0, 1, 76), exit()));
add("ptr: ctx & 0xff", PT.XDP, prog(alu64i(AND, 1, 0xff), mov64i(0, 0), exit()));
add("ptr: ctx * 2", PT.XDP, prog(alu64i(MUL, 1, 2), mov64i(0, 0), exit()));
add("ptr: ptr - ptr", PT.XDP, prog(mov64r(2, 10), alu64r(SUB, 2, 1), mov64r(0, 2), exit()));
add("ptr: ptr + ptr", PT.XDP, prog(mov64r(2, 10), alu64r(ADD, 2, 1), mov64i(0, 0), exit()));
add("ptr: scalar - ptr", PT.XDP, prog(mov64i(2, 5), alu64r(SUB, 2, 1), mov64i(0, 0), exit()));
add("ptr: return ctx (xdp)", PT.XDP, prog(mov64r(0, 1), exit()));
add("ptr: return ctx (cgroup_skb)", PT.CGROUP_SKB, prog(mov64r(0, 1), exit()));
add("ret: cgroup_skb returns 2", PT.CGROUP_SKB, prog(mov64i(0, 2), exit()));
add("ret: cgroup_skb returns 1", PT.CGROUP_SKB, prog(mov64i(0, 1), exit()));
add("ret: cgroup_skb returns unknown", PT.CGROUP_SKB, prog(ldx(W, 0, 1, 0), exit()));
add("ret: cgroup_skb bounded", PT.CGROUP_SKB, prog(ldx(W, 0, 1, 0), alu64i(AND, 0, 1), exit()));
add("ptr: compare pointers", PT.XDP, prog(mov64r(2, 10), jmpr(JEQ, 1, 2, 0), mov64i(0, 0), exit()));
add("ptr: 32-bit move of pointer", PT.XDP, prog(mov32r(0, 1), exit()));
add("ptr: deref scalar", PT.XDP, prog(mov64i(1, 0x1000), ldx(DW, 0, 1, 0), exit()));
add("ptr: deref null", PT.XDP, prog(mov64i(1, 0), ldx(DW, 0, 1, 0), exit()));
add("ld_abs: in socket filter", PT.SOCKET_FILTER, prog(mov64r(6, 1), ldAbs(B, 12), exit()));
add("ld_abs: in xdp", PT.XDP, prog(mov64r(6, 1), ldAbs(B, 12), exit()));
add("ld_abs: r6 not ctx", PT.SOCKET_FILTER, prog(mov64i(6, 0), ldAbs(H, 12), exit()));
add("ld_ind: in socket filter", PT.SOCKET_FILTER, prog(mov64r(6, 1), mov64i(2, 4), ldInd(W, 2, 12), exit()));
add("ldsx: sign-extended byte", PT.XDP, prog(lookup(0, 4), jmpi(JEQ, 0, 0, 4), ldxsx(B, 1, 0, 0), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), [M.array48]);
add("jset on pointer", PT.XDP, prog(jmpi(JSET, 1, 1, 0), mov64i(0, 0), exit()));
add("jmp32 on pointer", PT.XDP, prog(jmp32i(JEQ, 1, 0, 0), mov64i(0, 0), exit()));
add("jmp32 reg", PT.XDP, prog(ldx(W, 1, 1, 0), mov64i(2, 4), jmp32r(JGT, 1, 2, 1), mov64i(0, 0), mov64i(0, 1), exit()));
add("alu32 reg", PT.XDP, prog(mov32i(1, 5), mov32i(2, 7), alu32r(MUL, 1, 2), mov32r(0, 1), exit()));
add("ld_imm64 value", PT.XDP, prog(ldImm64(0, 0x123456789n), exit()));

// --- H. bpf-to-bpf calls.
add("call: simple", PT.XDP, prog(mov64i(1, 3), callLocal(2), alu64i(ADD, 0, 1), exit(), mov64r(0, 1), exit()));
add("call: r0 from callee", PT.XDP, prog(callLocal(1), exit(), mov64i(0, 7), exit()));
add("call: callee reads uninit r6", PT.XDP, prog(mov64i(6, 1), callLocal(2), mov64i(0, 0), exit(), mov64r(0, 6), exit()));
add("call: caller stack pointer", PT.XDP, prog(st(DW, 10, -8, 5), mov64r(1, 10), alu64i(ADD, 1, -8), callLocal(1), exit(), ldx(DW, 0, 1, 0), exit()));
add("call: return stack pointer", PT.XDP, prog(callLocal(2), mov64i(0, 0), exit(), mov64r(0, 10), exit()));
add("call: out of range", PT.XDP, prog(callLocal(10), exit()));
add("call: recursion", PT.XDP, prog(callLocal(1), exit(), callLocal(-1), exit()));
add("call: deep chain", PT.XDP, prog(
  callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(),
  callLocal(1), exit(), callLocal(1), exit(), mov64i(0, 0), exit(),
));
add("call: stack 300+300", PT.XDP, prog(st(DW, 10, -300, 0), callLocal(2), mov64i(0, 0), exit(), st(DW, 10, -300, 0), mov64i(0, 0), exit()));
add("call: loop of calls", PT.XDP, prog(mov64i(6, 0), mov64r(1, 6), callLocal(4), alu64i(ADD, 6, 1), jmpi(JLT, 6, 10, -4), mov64i(0, 0), exit(), mov64r(0, 1), exit()));

add("call: stack 256+256", PT.XDP, prog(st(DW, 10, -256, 0), callLocal(2), mov64i(0, 0), exit(), st(DW, 10, -256, 0), mov64i(0, 0), exit()));
add("call: stack 264+248", PT.XDP, prog(st(DW, 10, -264, 0), callLocal(2), mov64i(0, 0), exit(), st(DW, 10, -248, 0), mov64i(0, 0), exit()));
add("call: stack 264+256", PT.XDP, prog(st(DW, 10, -264, 0), callLocal(2), mov64i(0, 0), exit(), st(DW, 10, -256, 0), mov64i(0, 0), exit()));
add("may_goto: loop", PT.XDP, prog(mov64i(0, 0), rawInsn(0xe5, 0, 0, 2, 0), alu64i(ADD, 0, 1), ja(-3), exit()));
add("may_goto: bad imm", PT.XDP, prog(mov64i(0, 0), rawInsn(0xe5, 0, 0, 0, 1), exit()));
add("atomic: fetch add into map value", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 3), mov64i(1, 1), atomic(DW, 0, 1, 0, 1), mov64r(0, 1), exit(), mov64i(0, 0), exit()), [M.hash8]);
add("atomic: cmpxchg on stack", PT.XDP, prog(st(DW, 10, -8, 0), mov64i(0, 0), mov64i(1, 1), atomic(DW, 10, 1, -8, 0xf1), exit()));
add("atomic: xchg pointer into map", PT.XDP, prog(lookup(0), jmpi(JEQ, 0, 0, 2), mov64r(1, 10), atomic(DW, 0, 1, 0, 0xe1), mov64i(0, 0), exit()), [M.hash8]);
add("atomic: 16-bit add", PT.XDP, prog(st(DW, 10, -8, 0), mov64i(1, 1), atomic(H, 10, 1, -8, 0), mov64i(0, 0), exit()));
add("spill: scalar id through stack refines copy", PT.XDP, prog(
  lookup(0, 4), jmpi(JEQ, 0, 0, 7), ldx(W, 1, 0, 0), stx(DW, 10, 1, -16), ldx(DW, 2, 10, -16), jmpi(JGT, 2, 40, 2), alu64r(ADD, 0, 1),
  ldx(B, 0, 0, 0), mov64i(0, 0), exit(),
), [M.array48]);
add("spill: copy refines original", PT.XDP, prog(
  lookup(0, 4), jmpi(JEQ, 0, 0, 6), ldx(W, 1, 0, 0), mov64r(2, 1), jmpi(JGT, 2, 40, 2), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0),
  mov64i(0, 0), exit(),
), [M.array48]);

// --- I. Callbacks (bpf_loop) and functions with BTF func_info.
const fns = (...names: Array<[string, number, boolean?]>): FuncInfo[] => names.map(([name, insn, global]) => ({ name, insn, global }));
add("bpf_loop: callback returns 0", PT.XDP, prog(mov64i(1, 10), ldFunc(2, 6), mov64i(3, 0), mov64i(4, 0), call(F.loop), mov64i(0, 0), exit(), mov64i(0, 0), exit()), [], { funcInfo: fns(["main", 0], ["cb", 8]) });
add("bpf_loop: callback returns 2", PT.XDP, prog(mov64i(1, 10), ldFunc(2, 6), mov64i(3, 0), mov64i(4, 0), call(F.loop), mov64i(0, 0), exit(), mov64i(0, 2), exit()), [], { funcInfo: fns(["main", 0], ["cb", 8]) });
add("bpf_loop: callback counts through ctx", PT.XDP, prog(
  st(DW, 10, -8, 0), mov64i(1, 100), ldFunc(2, 7), mov64r(3, 10), alu64i(ADD, 3, -8), mov64i(4, 0), call(F.loop), ldx(DW, 0, 10, -8), exit(),
  ldx(DW, 1, 2, 0), alu64i(ADD, 1, 1), stx(DW, 2, 1, 0), mov64i(0, 0), exit(),
), [], { funcInfo: fns(["main", 0], ["cb", 10]) });
add("bpf_loop: callback reads past ctx", PT.XDP, prog(
  st(DW, 10, -8, 0), mov64i(1, 4), ldFunc(2, 7), mov64r(3, 10), alu64i(ADD, 3, -8), mov64i(4, 0), call(F.loop), mov64i(0, 0), exit(),
  ldx(DW, 1, 2, 8), mov64i(0, 0), exit(),
), [], { funcInfo: fns(["main", 0], ["cb", 10]) });
add("bpf_loop: index bounds", PT.XDP, prog(
  lookup(0, 4), jmpi(JEQ, 0, 0, 7), mov64i(1, 8), ldFunc(2, 6), mov64r(3, 0), mov64i(4, 0), call(F.loop), mov64i(0, 0), exit(),
  mov64r(0, 2), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit(),
), [M.array48], { funcInfo: fns(["main", 0], ["cb", 15]) });
add("bpf_loop: nr_loops is a pointer", PT.XDP, prog(mov64i(4, 0), ldFunc(2, 5), mov64r(3, 10), call(F.loop), mov64i(0, 0), exit(),
  mov64i(0, 0), exit()), [], { funcInfo: fns(["main", 0], ["cb", 7]) });
add("func ptr without func_info", PT.XDP, prog(ldFunc(2, 2), mov64i(0, 0), exit(), mov64i(0, 0), exit()));
add("static call with func_info", PT.XDP, prog(callLocal(1), exit(), mov64i(0, 4), exit()), [], { funcInfo: fns(["main", 0], ["f", 2]) });
add("global call with func_info", PT.XDP, prog(callLocal(1), exit(), mov64i(0, 4), exit()), [], { funcInfo: fns(["main", 0, true], ["f", 2, true]) });

// --- J. Ported from the kernel's tools/testing/selftests/bpf/verifier/*.c (jump.c, bounds.c,
// value_ptr_arith.c, jmp32.c): the programs, re-expressed with our builders; the kernel judges.
const H8 = [M.hash8];
const randU = [call(F.get_prandom_u32), mov64r(7, 0)];
const randS = [call(F.get_prandom_u32), mov64r(7, 0), alu64i(LSH, 7, 32), alu64i(ARSH, 7, 32)];
add("selftest jump: test 1", PT.XDP, prog(
  mov64r(2, 10), stx(DW, 2, 1, -8), jmpi(JEQ, 1, 0, 1), st(DW, 2, -8, 0), jmpi(JEQ, 1, 1, 1), st(DW, 2, -16, 1), jmpi(JEQ, 1, 2, 1),
  st(DW, 2, -8, 2), jmpi(JEQ, 1, 3, 1), st(DW, 2, -16, 3), jmpi(JEQ, 1, 4, 1), st(DW, 2, -8, 4), jmpi(JEQ, 1, 5, 1), st(DW, 2, -32, 5),
  mov64i(0, 0), exit(),
));
add("selftest jump: test 2", PT.XDP, prog(
  mov64r(2, 10), jmpi(JEQ, 1, 0, 2), st(DW, 2, -8, 0), ja(14), jmpi(JEQ, 1, 1, 2), st(DW, 2, -16, 0), ja(11), jmpi(JEQ, 1, 2, 2),
  st(DW, 2, -32, 0), ja(8), jmpi(JEQ, 1, 3, 2), st(DW, 2, -40, 0), ja(5), jmpi(JEQ, 1, 4, 2), st(DW, 2, -48, 0), ja(2),
  jmpi(JEQ, 1, 5, 1), st(DW, 2, -56, 0), mov64i(0, 0), exit(),
));
add("selftest jump: test 3", PT.XDP, prog(
  mov64r(2, 10), jmpi(JEQ, 1, 0, 3), st(DW, 2, -8, 0), alu64i(ADD, 2, -8), ja(19), jmpi(JEQ, 1, 1, 3), st(DW, 2, -16, 0),
  alu64i(ADD, 2, -16), ja(15), jmpi(JEQ, 1, 2, 3), st(DW, 2, -32, 0), alu64i(ADD, 2, -32), ja(11), jmpi(JEQ, 1, 3, 3),
  st(DW, 2, -40, 0), alu64i(ADD, 2, -40), ja(7), jmpi(JEQ, 1, 4, 3), st(DW, 2, -48, 0), alu64i(ADD, 2, -48), ja(3),
  jmpi(JEQ, 1, 5, 0), st(DW, 2, -56, 0), alu64i(ADD, 2, -56), ldMap(1, 0), call(F.map_delete_elem), exit(),
), H8);
add("selftest jump: test 4", PT.XDP, prog(...Array.from({ length: 36 }, (_, i) => jmpi(JEQ, 1, 10, (i % 4) + 1)), jmpi(JEQ, 1, 10, 0),
  jmpi(JEQ, 1, 10, 0), jmpi(JEQ, 1, 10, 0), jmpi(JEQ, 1, 10, 0), mov64i(0, 0), exit()));
add("selftest jump: test 5", PT.XDP, prog(mov64r(2, 10), mov64r(3, 2),
  ...Array.from({ length: 5 }, () => [jmpi(JGE, 1, 0, 2), stx(DW, 2, 3, -8), ja(2), stx(DW, 2, 2, -8), ja(0), mov64i(0, 0)]).flat(),
  exit()));
const lk8 = [st(DW, 10, -8, 0), mov64r(2, 10), alu64i(ADD, 2, -8), ...ldMap(1, 0), call(F.map_lookup_elem)];
add("selftest bounds: subtraction (map value) variant 1", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 9), ldx(B, 1, 0, 0), jmpi(JGT, 1, 0xff, 7),
  ldx(B, 3, 0, 1), jmpi(JGT, 3, 0xff, 5), alu64r(SUB, 1, 3), alu64i(RSH, 1, 56), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), H8);
add("selftest bounds: subtraction (map value) variant 2", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 8), ldx(B, 1, 0, 0), jmpi(JGT, 1, 0xff, 6),
  ldx(B, 3, 0, 1), jmpi(JGT, 3, 0xff, 4), alu64r(SUB, 1, 3), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), exit(), mov64i(0, 0), exit()), H8);
add("selftest bounds: subtraction on pointers", PT.XDP, prog(mov64i(0, 0), ...ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), st(DW, 2, 0, 9),
  call(F.map_lookup_elem), mov64r(9, 10), alu64r(SUB, 9, 0), ...ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -8), st(DW, 2, 0, 0),
  call(F.map_lookup_elem), jmpi(JNE, 0, 0, 1), exit(), stx(DW, 0, 9, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: zero-extended MOV", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 4), mov32i(2, -1), alu64i(RSH, 2, 32), alu64r(ADD, 0, 2),
  ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: sign-extended MOV 1", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 4), mov64i(2, -1), alu64i(RSH, 2, 32), alu64r(ADD, 0, 2),
  ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: sign-extended MOV 2", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 4), mov64i(2, -1), alu64i(RSH, 2, 36), alu64r(ADD, 0, 2),
  ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: truncation of non-boundary-crossing range", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 9), ldx(B, 1, 0, 0), mov64i(2, 1),
  alu64i(LSH, 2, 36), alu64r(ADD, 1, 2), alu64i(ADD, 1, 0x7fffffff), alu32i(SUB, 1, 0x7fffffff), alu64i(RSH, 1, 8), alu64r(ADD, 0, 1),
  ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: truncation of boundary-crossing range 1", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 8), ldx(B, 1, 0, 0),
  alu64i(ADD, 1, 0xffffff80 >> 1), alu64i(ADD, 1, 0xffffff80 >> 1), alu32i(ADD, 1, 0), alu64i(SUB, 1, 0xffffff80 >> 1),
  alu64i(SUB, 1, 0xffffff80 >> 1), alu64r(ADD, 0, 1), mov64i(0, 0), exit()), H8);
add("selftest bounds: truncation of boundary-crossing range 2", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 8), ldx(B, 1, 0, 0),
  alu64i(ADD, 1, 0xffffff80 >> 1), alu64i(ADD, 1, 0xffffff80 >> 1), mov32r(1, 1), alu64i(SUB, 1, 0xffffff80 >> 1),
  alu64i(SUB, 1, 0xffffff80 >> 1), alu64r(ADD, 0, 1), mov64i(0, 0), exit()), H8);
add("selftest bounds: wrapping 32-bit addition", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 5), mov64i(1, 0x7fffffff), alu64i(ADD, 1, 0x7fffffff),
  alu32i(ADD, 1, 2), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: shift with oversized count", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 6), mov64i(2, 32), mov64i(1, 1), alu32r(LSH, 1, 2),
  alu64i(AND, 1, 0xffff), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: right shift of maybe-negative", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 6), ldx(B, 1, 0, 0), alu64i(SUB, 1, 1),
  alu64i(RSH, 1, 8), alu64i(RSH, 1, 8), alu64r(ADD, 0, 1), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), H8);
add("selftest bounds: 32-bit right shift with 64-bit input", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 6), mov64i(1, 2), alu64i(LSH, 1, 31),
  alu32i(RSH, 1, 31), alu32i(SUB, 1, 2), alu64r(ADD, 0, 1), mov64i(0, 0), exit()), H8);
add("selftest bounds: off+size signed 32bit overflow 1", PT.XDP, prog(...lk8, jmpi(JNE, 0, 0, 1), exit(), alu64i(ADD, 0, 0x7ffffffe),
  ldx(DW, 0, 0, 0), ja(0), exit()), H8);
add("selftest bounds: off+size signed 32bit overflow 2", PT.XDP, prog(...lk8, jmpi(JNE, 0, 0, 1), exit(), alu64i(ADD, 0, 0x1fffffff),
  alu64i(ADD, 0, 0x1fffffff), alu64i(ADD, 0, 0x1fffffff), ldx(DW, 0, 0, 0), ja(0), exit()), H8);
add("selftest bounds: off+size signed 32bit overflow 3", PT.XDP, prog(...lk8, jmpi(JNE, 0, 0, 1), exit(), alu64i(SUB, 0, 0x1fffffff),
  alu64i(SUB, 0, 0x1fffffff), ldx(DW, 0, 0, 2), ja(0), exit()), H8);
const lk16 = [mov64i(0, 1), ...ldMap(1, 0), mov64r(2, 10), alu64i(ADD, 2, -16), st(DW, 10, -16, 0), call(F.map_lookup_elem)];
add("selftest value_ptr_arith: mixing value pointer and scalar 1", PT.XDP, prog(...lk16, jmpi(JNE, 0, 0, 1), exit(), ldx(B, 1, 0, 0),
  jmpi(JNE, 1, 0, 3), mov64r(2, 0), mov64i(3, 0), ja(2), mov64i(2, 0), mov64i(3, 0x100000), alu64r(ADD, 2, 3), jmpi(JNE, 1, 0, 1), ja(4),
  mov64i(0, 0x13371337), jmpi(JNE, 2, 0x100000, 2), mov64i(0, 0), exit(), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), [M.array48]);
add("selftest value_ptr_arith: mixing value pointer and scalar 2", PT.XDP, prog(...lk16, jmpi(JNE, 0, 0, 1), exit(), ldx(B, 1, 0, 0),
  jmpi(JEQ, 1, 0, 3), mov64i(2, 0), mov64i(3, 0x100000), ja(2), mov64r(2, 0), mov64i(3, 0), alu64r(ADD, 2, 3), jmpi(JNE, 1, 0, 1), ja(4),
  mov64i(0, 0x13371337), jmpi(JNE, 2, 0x100000, 2), mov64i(0, 0), exit(), ldx(B, 0, 0, 0), mov64i(0, 0), exit()), [M.array48]);
add("selftest value_ptr_arith: alu with different scalars 1", PT.XDP, prog(...lk16, jmpi(JNE, 0, 0, 1), exit(), ldx(W, 1, 0, 0),
  jmpi(JEQ, 1, 0, 3), mov64i(2, 0), mov64i(3, 0x100000), ja(2), mov64i(2, 42), mov64i(3, 0x100001), alu64r(ADD, 2, 3), mov64r(0, 2), exit()), [M.array48]);
add("selftest value_ptr_arith: alu with different scalars 3", PT.XDP, prog(mov64i(0, 22), alu64i(MUL, 0, -1), mov64r(7, 0), mov64i(0, 22),
  alu64i(MUL, 0, -1), mov64r(6, 0), mov64r(8, 6), alu64r(ADD, 8, 7), mov64r(0, 8), exit()));
add("selftest value_ptr_arith: upper oob arith 1", PT.XDP, prog(...lk8, jmpi(JEQ, 0, 0, 4), mov64i(1, 48), alu64r(ADD, 0, 1), alu64r(SUB, 0, 1),
  ldx(B, 0, 0, 0), mov64i(0, 1), exit()), [M.array48]);
add("selftest jmp32: jset32 ignores upper bits", PT.XDP, prog(mov64i(0, 0), ldImm64(7, 0x8000000000000000n), ldImm64(8, 0x8000000000000000n),
  jmpr(JSET, 7, 8, 1), exit(), jmp32r(JSET, 7, 8, 1), mov64i(0, 2), exit()));
add("selftest jmp32: jset32 min/max deduction", PT.XDP, prog(...randU, mov64i(0, 0), jmp32i(JSET, 7, 0x10, 1), exit(), jmp32i(JGE, 7, 0x10, 1),
  ldx(B, 8, 9, 0), exit()));
add("selftest jmp32: jeq32 min/max deduction", PT.XDP, prog(...randU, mov64i(0, 0), jmp32i(JEQ, 7, 0x10, 1), exit(), jmp32i(JSGE, 7, 0xf, 1),
  ldx(B, 8, 9, 0), exit()));
add("selftest jmp32: jne32 min/max deduction", PT.XDP, prog(...randU, mov64i(0, 0), jmp32i(JNE, 7, 0x10, 1), jmpi(JNE, 7, 0x10, 1), exit(),
  ldx(B, 8, 9, 0), exit()));
for (const [nm, op32, op64] of [["jge32", JGE, JGE], ["jgt32", JGT, JGT], ["jle32", JLE, JLE], ["jlt32", JLT, JSLT], ["jsge32", JSGE, JSGE], ["jsle32", JSLE, JSLE]] as const) {
  add(`selftest jmp32: ${nm} min/max deduction`, PT.XDP, prog(...randU, mov32i(0, 2), ldImm64(8, 0x7ffffff0n | (1n << 32n)), jmp32r(op32, 7, 8, 1),
    exit(), (nm === "jgt32" || nm === "jlt32" || nm === "jsge32" || nm === "jsle32") ? jmpi(op64, 7, 0x7ffffff0, 1) : jmp32i(op64, 7, 0x7ffffff0, 1),
    ldx(DW, 0, 0, 0), exit()));
}
add("selftest jmp32: jsgt32 min/max deduction", PT.XDP, prog(...randS, mov32i(0, 2), ldImm64(8, BigInt(0xfffffffe) | (1n << 32n)), jmp32r(JSGT, 7, 8, 1),
  exit(), jmpi(JSGT, 7, -2, 1), ldx(DW, 0, 0, 0), exit()));

// --- J. Flow keys (PTR_TO_FLOW_KEYS) and socket pointers (sk_fullsock, tcp_sock).
/** r2 = skb->flow_keys (__sk_buff.flow_keys at 144). */
const flowKeys = ldx(DW, 2, 1, 144);
add("flow_keys: read nhoff", PT.FLOW_DISSECTOR, prog(flowKeys, ldx(H, 0, 2, 0), exit()));
add("flow_keys: write thoff", PT.FLOW_DISSECTOR, prog(flowKeys, st(H, 2, 2, 14), mov64i(0, 0), exit()));
add("flow_keys: read the last byte", PT.FLOW_DISSECTOR, prog(flowKeys, ldx(B, 0, 2, 55), exit()));
add("flow_keys: read past the end", PT.FLOW_DISSECTOR, prog(flowKeys, ldx(DW, 0, 2, 52), exit()));
add("flow_keys: write past the end", PT.FLOW_DISSECTOR, prog(flowKeys, st(W, 2, 56, 0), mov64i(0, 0), exit()));
add("flow_keys: negative offset", PT.FLOW_DISSECTOR, prog(flowKeys, alu64i(ADD, 2, -4), ldx(W, 0, 2, 0), exit()));
add("flow_keys: constant offset added", PT.FLOW_DISSECTOR, prog(flowKeys, alu64i(ADD, 2, 48), ldx(W, 0, 2, 4), exit()));
add("flow_keys: constant offset added, past the end", PT.FLOW_DISSECTOR, prog(flowKeys, alu64i(ADD, 2, 48), ldx(W, 0, 2, 8), exit()));
add("flow_keys: variable offset", PT.FLOW_DISSECTOR, prog(flowKeys, ldx(H, 3, 2, 0), alu64i(AND, 3, 7), alu64r(ADD, 2, 3), ldx(B, 0, 2, 0), exit()));
add("flow_keys: spilled and filled", PT.FLOW_DISSECTOR, prog(flowKeys, stx(DW, 10, 2, -8), ldx(DW, 3, 10, -8), ldx(W, 0, 3, 16), exit()));
add("flow_keys: atomic add", PT.FLOW_DISSECTOR, prog(flowKeys, mov64i(3, 1), atomic(W, 2, 3, 48, 0), mov64i(0, 0), exit()));
add("flow_keys: null check of a pointer never NULL", PT.FLOW_DISSECTOR, prog(flowKeys, jmpi(JEQ, 2, 0, 1), ldx(H, 0, 2, 10), mov64i(0, 0), exit()));

/** r1 = skb->sk (__sk_buff.sk at 168, sock_common_or_null); exits 0 when it is NULL. */
const skbSk = [ldx(DW, 1, 1, 168), jmpi(JNE, 1, 0, 2), mov64i(0, 0), exit()];
/** ... then r0 = bpf_sk_fullsock(sk), exiting 0 when NULL. */
const fullSock = [...skbSk, call(95), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit()];
add("sk_fullsock: result used without a null check", PT.SCHED_CLS, prog(...skbSk, call(95), ldx(W, 0, 0, 4), exit()));
add("sk_fullsock: null-checked result, family read", PT.SCHED_CLS, prog(...fullSock, ldx(W, 0, 0, 4), exit()));
add("sk_fullsock: skb->sk passed without a null check", PT.SCHED_CLS, prog(ldx(DW, 1, 1, 168), call(95), mov64i(0, 0), exit()));
add("sk_fullsock: ctx passed", PT.SCHED_CLS, prog(call(95), mov64i(0, 0), exit()));
add("sock: type through a full socket", PT.SCHED_CLS, prog(...fullSock, ldx(W, 0, 0, 8), exit()));
add("sock: type through sock_common", PT.SCHED_CLS, prog(...skbSk, ldx(W, 0, 1, 8), exit()));
add("sock: family through sock_common", PT.SCHED_CLS, prog(...skbSk, ldx(W, 0, 1, 4), exit()));
add("sock: byte inside family", PT.SCHED_CLS, prog(...fullSock, ldx(B, 0, 0, 5), exit()));
add("sock: first byte of family", PT.SCHED_CLS, prog(...fullSock, ldx(B, 0, 0, 4), exit()));
add("sock: byte inside src_ip4", PT.SCHED_CLS, prog(...fullSock, ldx(B, 0, 0, 25), exit()));
add("sock: dst_port as a u32", PT.SCHED_CLS, prog(...fullSock, ldx(W, 0, 0, 48), exit()));
add("sock: dst_port padding", PT.SCHED_CLS, prog(...fullSock, ldx(H, 0, 0, 50), exit()));
add("sock: mark as a u16", PT.SCHED_CLS, prog(...fullSock, ldx(H, 0, 0, 16), exit()));
add("sock: past the end", PT.SCHED_CLS, prog(...fullSock, ldx(W, 0, 0, 80), exit()));
add("sock: write", PT.SCHED_CLS, prog(...fullSock, st(W, 0, 16, 1), mov64i(0, 0), exit()));
add("sock: pointer arithmetic", PT.SCHED_CLS, prog(...fullSock, alu64i(ADD, 0, 4), ldx(W, 0, 0, 0), exit()));
add("sock: atomic add", PT.SCHED_CLS, prog(...fullSock, mov64i(3, 1), atomic(W, 0, 3, 16, 0), mov64i(0, 0), exit()));
add("sock: sk_fullsock of a full socket", PT.SCHED_CLS, prog(...fullSock, mov64r(1, 0), call(95), mov64i(0, 0), exit()));
/** ... or r0 = bpf_tcp_sock(sk), exiting 0 when NULL. */
const tcpSock = [...skbSk, call(96), jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit()];
add("tcp_sock: bytes_acked as a u64", PT.SCHED_CLS, prog(...tcpSock, ldx(DW, 0, 0, 88), exit()));
add("tcp_sock: bytes_acked as a u32", PT.SCHED_CLS, prog(...tcpSock, ldx(W, 0, 0, 88), exit()));
add("tcp_sock: icsk_retransmits", PT.SCHED_CLS, prog(...tcpSock, ldx(W, 0, 0, 108), exit()));
add("tcp_sock: past icsk_retransmits", PT.SCHED_CLS, prog(...tcpSock, ldx(W, 0, 0, 112), exit()));
add("tcp_sock: passed to sk_fullsock", PT.SCHED_CLS, prog(...tcpSock, mov64r(1, 0), call(95), mov64i(0, 0), exit()));
add("tcp_sock: unchecked result", PT.SCHED_CLS, prog(...skbSk, call(96), ldx(W, 0, 0, 0), exit()));

export const corpus: readonly CorpusCase[] = cases;
