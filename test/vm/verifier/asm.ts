/**
 * Instruction builders named after the kernel's include/linux/filter.h macros
 * (BPF_MOV64_IMM, BPF_LDX_MEM, ...), so test programs read like the kernel's own
 * verifier tests. Each returns raw slots; `prog(...)` flattens them into Bytecode.
 */
import { Bytecode } from "../../../src/isa/bytecode.js";
import type { RawInsn } from "../../../src/isa/instruction.js";

export type I = RawInsn | RawInsn[];

const raw = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ opcode, dst, src, off, imm: imm | 0 });

export const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
export const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80,
  MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0;
export const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70, JLT = 0xa0,
  JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0;

export const mov64i = (d: number, imm: number): RawInsn => raw(0xb7, d, 0, 0, imm);
export const mov32i = (d: number, imm: number): RawInsn => raw(0xb4, d, 0, 0, imm);
export const mov64r = (d: number, s: number): RawInsn => raw(0xbf, d, s);
export const mov32r = (d: number, s: number): RawInsn => raw(0xbc, d, s);
export const movsx64 = (d: number, s: number, bits: 8 | 16 | 32): RawInsn => raw(0xbf, d, s, bits);
export const movsx32 = (d: number, s: number, bits: 8 | 16): RawInsn => raw(0xbc, d, s, bits);
export const alu64i = (op: number, d: number, imm: number, off = 0): RawInsn => raw(0x07 | op, d, 0, off, imm);
export const alu32i = (op: number, d: number, imm: number, off = 0): RawInsn => raw(0x04 | op, d, 0, off, imm);
export const alu64r = (op: number, d: number, s: number, off = 0): RawInsn => raw(0x0f | op, d, s, off);
export const alu32r = (op: number, d: number, s: number, off = 0): RawInsn => raw(0x0c | op, d, s, off);
export const endian = (be: boolean, d: number, bits: 16 | 32 | 64): RawInsn => raw(be ? 0xdc : 0xd4, d, 0, 0, bits);
export const bswap = (d: number, bits: 16 | 32 | 64): RawInsn => raw(0xd7, d, 0, 0, bits);
export const ldx = (size: number, d: number, s: number, off: number): RawInsn => raw(0x61 | size, d, s, off);
export const ldxsx = (size: number, d: number, s: number, off: number): RawInsn => raw(0x81 | size, d, s, off);
export const stx = (size: number, d: number, s: number, off: number): RawInsn => raw(0x63 | size, d, s, off);
export const st = (size: number, d: number, off: number, imm: number): RawInsn => raw(0x62 | size, d, 0, off, imm);
export const atomic = (size: number, d: number, s: number, off: number, op: number): RawInsn => raw(0xc3 | size, d, s, off, op);
export const jmpi = (op: number, d: number, imm: number, off: number): RawInsn => raw(0x05 | op, d, 0, off, imm);
export const jmpr = (op: number, d: number, s: number, off: number): RawInsn => raw(0x0d | op, d, s, off);
export const jmp32i = (op: number, d: number, imm: number, off: number): RawInsn => raw(0x06 | op, d, 0, off, imm);
export const jmp32r = (op: number, d: number, s: number, off: number): RawInsn => raw(0x0e | op, d, s, off);
export const ja = (off: number): RawInsn => raw(0x05, 0, 0, off);
export const gotol = (imm: number): RawInsn => raw(0x06, 0, 0, 0, imm);
export const call = (id: number): RawInsn => raw(0x85, 0, 0, 0, id);
export const callLocal = (rel: number): RawInsn => raw(0x85, 0, 1, 0, rel);
export const exit = (): RawInsn => raw(0x95);
export const ldImm64 = (d: number, v: bigint): RawInsn[] => {
  const u = BigInt.asUintN(64, v);
  return [raw(0x18, d, 0, 0, Number(u & 0xffffffffn) | 0), raw(0, 0, 0, 0, Number(u >> 32n) | 0)];
};
/** BPF_LD_MAP_FD with a map handle (index into the test's maps). */
export const ldMap = (d: number, handle: number): RawInsn[] => [raw(0x18, d, 1, 0, handle), raw(0)];
/** BPF_PSEUDO_MAP_VALUE: pointer to the value of a one-element array map at `off`. */
export const ldMapValue = (d: number, handle: number, off: number): RawInsn[] => [raw(0x18, d, 2, 0, handle), raw(0, 0, 0, 0, off)];
export const ldFunc = (d: number, rel: number): RawInsn[] => [raw(0x18, d, 4, 0, rel), raw(0)];
export const ldAbs = (size: number, imm: number): RawInsn => raw(0x20 | size, 0, 0, 0, imm);
export const ldInd = (size: number, s: number, imm: number): RawInsn => raw(0x40 | size, 0, s, 0, imm);
export const rawInsn = raw;

export const prog = (...insns: I[]): Bytecode => Bytecode.fromRaw(insns.flat());

/** Helper ids (include/uapi/linux/bpf.h). */
export const F = {
  map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, probe_read: 4, ktime_get_ns: 5, trace_printk: 6,
  get_prandom_u32: 7, get_smp_processor_id: 8, tail_call: 12, get_current_pid_tgid: 14, perf_event_output: 25,
  skb_load_bytes: 26, probe_read_kernel: 113, ringbuf_output: 130, ringbuf_reserve: 131, ringbuf_submit: 132,
  ringbuf_discard: 133, loop: 181, xdp_adjust_head: 44, redirect_map: 51, csum_diff: 28,
} as const;

/** Program types (enum bpf_prog_type). */
export const PT = { SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, TRACEPOINT: 5, XDP: 6, CGROUP_SKB: 8, FLOW_DISSECTOR: 22 } as const;

/** The usual map-lookup prologue: key 0 at fp-8, r0 = lookup(map, &key). 7 slots. */
export const lookup = (handle: number, keyBytes: 4 | 8 = 8): RawInsn[] => [
  keyBytes === 8 ? st(DW, 10, -8, 0) : st(W, 10, -4, 0),
  mov64r(2, 10),
  alu64i(ADD, 2, -keyBytes),
  ...ldMap(1, handle),
  call(F.map_lookup_elem),
];
