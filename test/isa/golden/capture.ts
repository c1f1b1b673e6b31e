/**
 * Regenerates the oracle captures the disassembly golden tests compare with. Not a
 * test: run it by hand on a Linux machine with clang-19, llvm-mc-19,
 * llvm-objdump-19, llvm-objcopy-19, bpftool and root (bpf() works):
 *
 *   npx vite-node test/isa/golden/capture.ts
 *
 * Writes, next to this file:
 *   all-kinds.objdump.txt     llvm-objdump-19 -d --mcpu=v4 of all-kinds.hex
 *   kernel-v4.bin             kernel-v4.s assembled by tsbpf
 *   kernel-v4.verifier.txt    each instruction's line from the 6.18 verifier's log
 *                             (log_level 2) loading it as a socket filter: the
 *                             kernel's own disasm.c text
 *   kernel-xdp.text.bin       the xdp section of kernel-xdp.bpf.c built by clang-19
 *   kernel-xdp.objdump.txt    llvm-objdump-19 -d --mcpu=v4 of that section
 *   kernel-xdp.xlated.bin     the program's xlated bytes after bpftool loaded it
 *   kernel-xdp.bpftool.txt    bpftool prog dump xlated of the same program
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assembleBytecode } from "../../../src/isa/asm.js";
import { addressOf, bpfSyscall, closeFd } from "../../../src/linux/syscall.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tsbpf-capture-"));
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" });

/** llvm-objdump's output from the first symbol header on (the file line names a temp path). */
function objdump(obj: string, section: string): string {
  const text = run("llvm-objdump-19", ["-d", "--mcpu=v4", "-j", section, obj]);
  return text.slice(text.indexOf("\n0000000000000000 <"));
}

function allKinds(): void {
  const slots = readFileSync(join(here, "all-kinds.hex"), "utf8").split(/\s+/).filter(Boolean).join("").match(/.{16}/g) ?? [];
  // .quad takes the slot as a little-endian 64-bit number.
  const quads = slots.map((s) => ` .quad 0x${s.match(/../g)!.reverse().join("")}\n`).join("");
  writeFileSync(join(tmp, "all.s"), `.text\n.globl f\nf:\n${quads}`);
  run("llvm-mc-19", ["-triple", "bpfel", "-filetype=obj", "-o", join(tmp, "all.o"), join(tmp, "all.s")]);
  writeFileSync(join(here, "all-kinds.objdump.txt"), objdump(join(tmp, "all.o"), ".text"));
}

/** BPF_PROG_LOAD with a level-2 log; returns the fd (or -errno) and the log. include/uapi/linux/bpf.h, union bpf_attr. */
function progLoad(type: number, insns: Uint8Array): { fd: number; log: string } {
  const code = Buffer.from(insns);
  const license = Buffer.from("GPL\0");
  const log = Buffer.alloc(16 << 20);
  const attr = Buffer.alloc(160);
  attr.writeUInt32LE(type, 0); // prog_type
  attr.writeUInt32LE(code.length / 8, 4); // insn_cnt
  attr.writeBigUInt64LE(addressOf(code), 8); // insns
  attr.writeBigUInt64LE(addressOf(license), 16); // license
  attr.writeUInt32LE(2, 24); // log_level
  attr.writeUInt32LE(log.length, 28); // log_size
  attr.writeBigUInt64LE(addressOf(log), 32); // log_buf
  const r = bpfSyscall(5, attr); // BPF_PROG_LOAD
  const text = log.toString("utf8", 0, log.indexOf(0));
  return { fd: r.ret < 0 ? -r.errno : r.ret, log: text };
}

function kernelV4(): void {
  const code = assembleBytecode(readFileSync(join(here, "kernel-v4.s"), "utf8"), { source: "kernel-v4.s" });
  const bytes = code.toBytes();
  writeFileSync(join(here, "kernel-v4.bin"), bytes);
  const { fd, log } = progLoad(1, bytes); // BPF_PROG_TYPE_SOCKET_FILTER
  if (fd < 0) throw new Error(`kernel-v4 failed to load (errno ${-fd}):\n${log}`);
  closeFd(fd);
  // Keep each instruction's first line ("12: (bf) r3 = (s8)r1"), without the
  // register state the log appends after ";", in instruction order.
  const lines = new Map<number, string>();
  for (const line of log.split("\n")) {
    const m = /^(\d+): (\([0-9a-f]{2}\) .*?)\s*(?:;.*)?$/.exec(line);
    if (m && !lines.has(Number(m[1]))) lines.set(Number(m[1]), `${m[1]}: ${m[2]}`);
  }
  const sorted = [...lines].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
  writeFileSync(join(here, "kernel-v4.verifier.txt"), sorted.join("\n") + "\n");
}

function kernelXdp(): void {
  const obj = join(tmp, "xdp.o");
  run("clang-19", ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", "-c", join(here, "kernel-xdp.bpf.c"), "-o", obj]);
  run("llvm-objcopy-19", ["-O", "binary", "--only-section=xdp", obj, join(here, "kernel-xdp.text.bin")]);
  writeFileSync(join(here, "kernel-xdp.objdump.txt"), objdump(obj, "xdp"));
  const pin = `/sys/fs/bpf/tsbpf_capture_${process.pid}`;
  run("bpftool", ["prog", "load", obj, pin]);
  try {
    writeFileSync(join(here, "kernel-xdp.bpftool.txt"), run("bpftool", ["prog", "dump", "xlated", "pinned", pin]));
    run("bpftool", ["prog", "dump", "xlated", "pinned", pin, "file", join(here, "kernel-xdp.xlated.bin")]);
  } finally {
    rmSync(pin);
  }
}

try {
  allKinds();
  kernelV4();
  kernelXdp();
} finally {
  rmSync(tmp, { recursive: true });
}
