/**
 * The BPF instruction encoding: classes, sizes, modes, operations.
 * Numbers from RFC 9669 §3-§5 and include/uapi/linux/bpf_common.h, include/uapi/linux/bpf.h.
 */

/** Bytes per instruction slot. RFC 9669 §3. */
export const INSN_SIZE = 8;

// Instruction classes: the low 3 bits of the opcode. RFC 9669 §3.3.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const classOf = (opcode: number): number => opcode & 0x07;

// Load/store sizes (bits 3-4). RFC 9669 §5.1.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Load/store modes (bits 5-7). RFC 9669 §5.1.
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

export const sizeFieldOf = (opcode: number): number => opcode & 0x18;
export const modeOf = (opcode: number): number => opcode & 0xe0;

/** Size field -> bytes. */
export function sizeBytes(sizeField: number): 1 | 2 | 4 | 8 {
  switch (sizeField & 0x18) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
  }
}

/** Bytes -> size field. */
export function sizeField(bytes: 1 | 2 | 4 | 8): number {
  switch (bytes) {
    case 1: return BPF_B;
    case 2: return BPF_H;
    case 4: return BPF_W;
    case 8: return BPF_DW;
  }
}

// Source operand (bit 3) for ALU and JMP. RFC 9669 §3.3.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
/** For BPF_END: BPF_TO_LE shares BPF_K, BPF_TO_BE shares BPF_X. RFC 9669 §4.2. */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

export const srcFlagOf = (opcode: number): number => opcode & 0x08;
export const opOf = (opcode: number): number => opcode & 0xf0;

// ALU operations (bits 4-7). RFC 9669 §4.1.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Jump operations (bits 4-7). RFC 9669 §4.3; BPF_JCOND from include/uapi/linux/bpf.h.
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_JCOND = 0xe0;

/** src_reg of a BPF_JCOND instruction: may_goto. include/uapi/linux/bpf.h, BPF_MAY_GOTO. */
export const BPF_MAY_GOTO = 0;

// Atomic operations, carried in imm. RFC 9669 §5.3; include/uapi/linux/bpf.h.
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

// Pseudo sources of BPF_LD | BPF_IMM | BPF_DW. include/uapi/linux/bpf.h.
/** imm is a map fd; the register gets the map pointer. */
export const BPF_PSEUDO_MAP_FD = 1;
/** imm is a map fd, imm2 an offset into its value. */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** imm is a kernel BTF type id of a variable. */
export const BPF_PSEUDO_BTF_ID = 3;
/** imm is a pc-relative instruction offset of a subprogram. */
export const BPF_PSEUDO_FUNC = 4;
/** imm is an index into fd_array (a map). */
export const BPF_PSEUDO_MAP_IDX = 5;
/** imm is an index into fd_array, imm2 an offset into its value. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// Call kinds in src_reg of BPF_JMP | BPF_CALL. include/uapi/linux/bpf.h.
export const BPF_HELPER_CALL = 0;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** Registers r0..r10; r10 is the read-only frame pointer. RFC 9669 §2.4. */
export const MAX_BPF_REG = 11;
export const BPF_REG_FP = 10;

/** Bytes of stack per frame. include/linux/filter.h, MAX_BPF_STACK. */
export const MAX_BPF_STACK = 512;

/** Maximum bpf-to-bpf call depth. include/linux/bpf_verifier.h, MAX_CALL_FRAMES. */
export const MAX_CALL_FRAMES = 8;

/** Tail calls allowed in one chain. include/linux/bpf.h, MAX_TAIL_CALL_CNT. */
export const MAX_TAIL_CALL_CNT = 33;

/** Instructions a program may have. include/uapi/linux/bpf_common.h, BPF_MAXINSNS (unprivileged). */
export const BPF_MAXINSNS = 4096;

/** Instructions a privileged program may have. include/linux/bpf.h, BPF_COMPLEXITY_LIMIT_INSNS. */
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;

/** The opcode byte of LD_IMM64 (BPF_LD | BPF_IMM | BPF_DW). */
export const OP_LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;
/** The opcode byte of a call (BPF_JMP | BPF_CALL). */
export const OP_CALL = BPF_JMP | BPF_CALL;
/** The opcode byte of callx (BPF_JMP | BPF_CALL | BPF_X). */
export const OP_CALLX = BPF_JMP | BPF_CALL | BPF_X;
/** The opcode byte of exit (BPF_JMP | BPF_EXIT). */
export const OP_EXIT = BPF_JMP | BPF_EXIT;
