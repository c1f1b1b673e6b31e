/**
 * The xlated style: instruction text as `bpftool prog dump xlated` prints it — the
 * kernel's print_bpf_insn (kernel/bpf/disasm.c, Linux 6.18) with bpftool's
 * callbacks for immediates (tools/bpf/bpftool/xlated_dumper.c, print_imm:
 * "map[id:N]", "map[id:N][0]+M", "subprog[+N]").
 *
 * Calls print as the kernel's verifier log does, from the helper id this bytecode
 * carries ("call bpf_map_lookup_elem#1", "call pc+3"): bpftool instead resolves a
 * loaded program's rewritten call addresses through /proc/kallsyms.
 *
 * Extensions where the kernel's text would lose bits (not printed by any tool):
 *  - "callx r2" (the kernel ignores BPF_X and prints "call bpf_unspec#0").
 *  - kfunc calls print "call kernel-function#ID" as the kernel does without BTF
 *    names, plus "@OFF" when off (the fd_array index) is not 0.
 *  - LD_IMM64 whose pseudo src bpftool prints as a bare number (BPF_PSEUDO_BTF_ID,
 *    BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, or a map/func load with a second
 *    imm bpftool would not show) prints LLVM's "ld_pseudo r1, 3, 0x7".
 */
import { helperName } from "./helper-names.js";
import type { AluOp, Instruction, Size } from "./instruction.js";
import { JMP_SYMBOLS } from "./disasm-llvm.js";
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "./opcodes.js";

/** kernel/bpf/disasm.c, bpf_alu_string and bpf_alu_sign_string. */
const ALU_OPS: Record<AluOp, string> = {
  add: "+=", sub: "-=", mul: "*=", div: "/=", sdiv: "s/=", or: "|=", and: "&=", lsh: "<<=", rsh: ">>=",
  mod: "%=", smod: "s%=", xor: "^=", mov: "=", arsh: "s>>=",
};

const ATOMIC_ALU: Record<"add" | "or" | "and" | "xor", string> = { add: "+=", or: "|=", and: "&=", xor: "^=" };

/** printf's "%+d". */
const plus = (v: number): string => (v < 0 ? String(v) : `+${v}`);
const uType = (size: Size): string => `u${size * 8}`;
/** "(r10 -4)", "(r1 +0)": the kernel's "(r%d %+d)". */
const memRef = (reg: number, off: number): string => `(r${reg} ${plus(off)})`;

export function formatXlated(insn: Instruction): string {
  switch (insn.kind) {
    case "alu": {
      const p = insn.wide ? "r" : "w";
      const src = insn.src.kind === "reg" ? `${p}${insn.src.reg}` : String(insn.src.imm);
      return `${p}${insn.dst} ${ALU_OPS[insn.op]} ${src}`;
    }
    case "neg": {
      const p = insn.wide ? "r" : "w";
      return `${p}${insn.dst} = -${p}${insn.dst}`;
    }
    case "movsx": {
      const p = insn.wide ? "r" : "w";
      return `${p}${insn.dst} = (s${insn.bits})${p}${insn.src}`;
    }
    case "addr_space_cast":
      return `r${insn.dst} = addr_space_cast(r${insn.src}, ${insn.imm >>> 16}, ${insn.imm & 0xffff})`;
    case "endian":
      return `r${insn.dst} = ${insn.order}${insn.bits} r${insn.dst}`;
    case "jcc": {
      const p = insn.wide ? "r" : "w";
      const src = insn.src.kind === "reg" ? `${p}${insn.src.reg}` : `0x${(insn.src.imm >>> 0).toString(16)}`;
      return `if ${p}${insn.dst} ${JMP_SYMBOLS[insn.op]} ${src} goto pc${plus(insn.off)}`;
    }
    case "ja":
      return `goto pc${plus(insn.off)}`;
    case "gotol":
      return `gotol pc${plus(insn.imm)}`;
    case "may_goto":
      return `may_goto pc${plus(insn.off)}`;
    case "call":
      switch (insn.target) {
        case "helper":
          return `call ${helperName(insn.imm) ?? "unknown"}#${insn.imm}`;
        case "local":
          return `call pc${plus(insn.imm)}`;
        case "kfunc":
          return `call kernel-function#${insn.imm}${insn.off !== 0 ? `@${insn.off}` : ""}`;
      }
      break;
    case "callx":
      return `callx r${insn.reg}`;
    case "exit":
      return "exit";
    case "ld_imm64": {
      const lo = insn.lo >>> 0;
      if (insn.pseudo === 0) {
        return `r${insn.dst} = 0x${((BigInt(insn.hi >>> 0) << 32n) | BigInt(lo)).toString(16)}`;
      }
      if (insn.pseudo === BPF_PSEUDO_MAP_FD && insn.hi === 0) return `r${insn.dst} = map[id:${lo}]`;
      if (insn.pseudo === BPF_PSEUDO_MAP_VALUE) return `r${insn.dst} = map[id:${lo}][0]+${insn.hi >>> 0}`;
      if (insn.pseudo === BPF_PSEUDO_FUNC && insn.hi === 0) return `r${insn.dst} = subprog[${plus(insn.lo)}]`;
      const full = (BigInt(insn.hi >>> 0) << 32n) | BigInt(lo);
      return `ld_pseudo r${insn.dst}, ${insn.pseudo}, 0x${full.toString(16)}`;
    }
    case "ld_abs":
      return `r0 = *(${uType(insn.size)} *)skb[${insn.imm}]`;
    case "ld_ind":
      return `r0 = *(${uType(insn.size)} *)skb[r${insn.src} + ${insn.imm}]`;
    case "ldx":
      return `r${insn.dst} = *(${insn.signed ? "s" : "u"}${insn.size * 8} *)${memRef(insn.src, insn.off)}`;
    case "st":
      return `*(${uType(insn.size)} *)${memRef(insn.dst, insn.off)} = ${insn.imm}`;
    case "stx":
      return `*(${uType(insn.size)} *)${memRef(insn.dst, insn.off)} = r${insn.src}`;
    case "atomic": {
      const w = insn.size === 8 ? "64" : "";
      const ref = `(${uType(insn.size)} *)${memRef(insn.dst, insn.off)}`;
      switch (insn.op) {
        case "xchg":
          return `r${insn.src} = atomic${w}_xchg(${ref}, r${insn.src})`;
        case "cmpxchg":
          return `r0 = atomic${w}_cmpxchg(${ref}, r0, r${insn.src})`;
        default:
          return insn.fetch
            ? `r${insn.src} = atomic${w}_fetch_${insn.op}(${ref}, r${insn.src})`
            : `lock *${ref} ${ATOMIC_ALU[insn.op]} r${insn.src}`;
      }
    }
    case "load_acquire":
      return `r${insn.dst} = load_acquire((${uType(insn.size)} *)${memRef(insn.src, insn.off)})`;
    case "store_release":
      return `store_release((${uType(insn.size)} *)${memRef(insn.dst, insn.off)}, r${insn.src})`;
  }
}
