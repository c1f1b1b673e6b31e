/** Tiny instruction builders for kernel tests (programs written without clang). */
import { type Instruction, imm, reg } from "../../src/isa/instruction.js";
import { BPF_PSEUDO_MAP_FD } from "../../src/isa/opcodes.js";

export const mov = (dst: number, v: number): Instruction => ({ kind: "alu", op: "mov", wide: true, dst, src: imm(v) });
export const movr = (dst: number, src: number): Instruction => ({ kind: "alu", op: "mov", wide: true, dst, src: reg(src) });
export const add = (dst: number, v: number): Instruction => ({ kind: "alu", op: "add", wide: true, dst, src: imm(v) });
export const exit: Instruction = { kind: "exit" };
export const call = (helper: number): Instruction => ({ kind: "call", target: "helper", imm: helper, off: 0 });
export const ldMapFd = (dst: number, fd: number): Instruction => ({ kind: "ld_imm64", dst, pseudo: BPF_PSEUDO_MAP_FD, lo: fd, hi: 0 });
export const ldImm64 = (dst: number, v: bigint): Instruction => ({
  kind: "ld_imm64", dst, pseudo: 0, lo: Number(BigInt.asIntN(32, v)), hi: Number(BigInt.asIntN(32, v >> 32n)),
});
export const stw = (dst: number, off: number, v: number): Instruction => ({ kind: "st", size: 4, dst, off, imm: v });
export const stdw = (dst: number, off: number, v: number): Instruction => ({ kind: "st", size: 8, dst, off, imm: v });
export const stx = (size: 1 | 2 | 4 | 8, dst: number, off: number, src: number): Instruction => ({ kind: "stx", size, dst, off, src });
export const ldx = (size: 1 | 2 | 4 | 8, dst: number, src: number, off: number): Instruction => ({ kind: "ldx", size, signed: false, dst, src, off });
export const jeq = (dst: number, v: number, off: number): Instruction => ({ kind: "jcc", op: "jeq", wide: true, dst, src: imm(v), off });
export const jne = (dst: number, v: number, off: number): Instruction => ({ kind: "jcc", op: "jne", wide: true, dst, src: imm(v), off });
export const atomicAdd = (dst: number, off: number, src: number): Instruction => ({ kind: "atomic", op: "add", fetch: false, size: 8, dst, src, off });

/** BPF_FUNC_* ids used in tests. include/uapi/linux/bpf.h. */
export const H = {
  map_lookup_elem: 1,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_current_pid_tgid: 14,
  perf_event_output: 25,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
} as const;

/**
 * A program that adds 1 to the u64 at index 0 of `counterFd` (an array map, 8-byte
 * values) and returns `ret`. When `pid` is given, it counts only that tgid.
 */
export function counterProgram(counterFd: number, ret = 0, pid?: number): Instruction[] {
  const filter: Instruction[] = pid === undefined ? [] : [
    call(H.get_current_pid_tgid),
    { kind: "alu", op: "rsh", wide: true, dst: 0, src: imm(32) },
    jne(0, pid, 9), // over the 9 slots below to "r0 = ret"
  ];
  return [
    ...filter,
    stw(10, -4, 0),
    movr(2, 10),
    add(2, -4),
    ldMapFd(1, counterFd),
    call(H.map_lookup_elem),
    jeq(0, 0, 2),
    mov(1, 1),
    atomicAdd(0, 0, 1),
    mov(0, ret),
    exit,
  ];
}
