/**
 * struct pt_regs, 168 bytes. x86-64 struct pt_regs (arch/x86/include/asm/ptrace.h): the context of kprobe programs.
 * arch/x86/include/asm/ptrace.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const ptRegs = layout("pt_regs", 168, [
  ["r15", 0, 8, "long unsigned int"],
  ["r14", 8, 8, "long unsigned int"],
  ["r13", 16, 8, "long unsigned int"],
  ["r12", 24, 8, "long unsigned int"],
  ["bp", 32, 8, "long unsigned int"],
  ["bx", 40, 8, "long unsigned int"],
  ["r11", 48, 8, "long unsigned int"],
  ["r10", 56, 8, "long unsigned int"],
  ["r9", 64, 8, "long unsigned int"],
  ["r8", 72, 8, "long unsigned int"],
  ["ax", 80, 8, "long unsigned int"],
  ["cx", 88, 8, "long unsigned int"],
  ["dx", 96, 8, "long unsigned int"],
  ["si", 104, 8, "long unsigned int"],
  ["di", 112, 8, "long unsigned int"],
  ["orig_ax", 120, 8, "long unsigned int"],
  ["ip", 128, 8, "long unsigned int"],
  ["cs", 136, 2, "u16"],
  ["csx", 136, 8, "u64"],
  ["fred_cs", 136, 8, "struct fred_cs"],
  ["flags", 144, 8, "long unsigned int"],
  ["sp", 152, 8, "long unsigned int"],
  ["ss", 160, 2, "u16"],
  ["ssx", 160, 8, "u64"],
  ["fred_ss", 160, 8, "struct fred_ss"],
]);
