import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { assembleBytecode } from "../../src/isa/asm.js";
import { Bytecode } from "../../src/isa/bytecode.js";
import { disassemble, disassembleLines, formatInstruction } from "../../src/isa/disasm.js";

// Oracle captures (llvm-objdump-19, bpftool, the 6.18 verifier's log) come from
// golden/capture.ts; the .txt goldens named after a style are tsbpf's own output.
const golden = (name: string): string => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));
const read = (name: string): string => readFileSync(golden(name), "utf8");
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(golden(name)));

const allKinds = Bytecode.fromBytes(Uint8Array.from(
  read("all-kinds.hex").split(/\s+/).filter(Boolean).join("").match(/../g)!.map((h) => parseInt(h, 16)),
));
const f = new Map([[0, "f"]]);

/**
 * Where tsbpf's llvm style prints something else than llvm-objdump-19, on purpose
 * (src/isa/disasm-llvm.ts lists why). Every entry must be needed by the capture.
 */
const LLVM_DEVIATIONS: ReadonlyArray<{ why: string; objdump: RegExp; ours: RegExp }> = [
  { why: "LD_IND keeps its imm", objdump: /skb\[r\d\]$/, ours: /skb\[r\d [+-] 0x[0-9a-f]+\]$/ },
  { why: "LLVM 19 does not know load_acquire", objdump: /^(lock \*\(u(32|64) \*\)\(r0 \+ 0x8\) \+= [rw]1|<unknown>)$/, ours: /^[rw]0 = load_acquire\(\(u\d+ \*\)\(r1 \+ 0x8\)\)$/ },
  { why: "LLVM 19 does not know store_release", objdump: /^<unknown>$/, ours: /^store_release\(\(u\d+ \*\)\(r1 - 0x4\), [rw]2\)$/ },
  { why: "a local call with imm >= 0 has a sign", objdump: /^call 0x3$/, ours: /^call \+0x3$/ },
  { why: "a kfunc call is not a helper call", objdump: /^call 0x7b$/, ours: /^call kfunc 0x7b(, 0x2)?$/ },
  { why: "ld_pseudo shows the whole 64-bit immediate", objdump: /^ld_pseudo\tr1, 0x[26], 0x[25]$/, ours: /^ld_pseudo\tr1, 0x[26], 0x[18]0+[25]$/ },
];

function instructionLines(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+):\t(?:[0-9a-f]{2} )+[0-9a-f]{2}\t(.*)$/.exec(line) ?? /^\s*(\d+):\t(?:[0-9a-f]{2} )+[0-9a-f]{2}$/.exec(line);
    if (m) out.set(Number(m[1]), m[2] ?? "");
  }
  return out;
}

describe("disassembler, llvm style", () => {
  test("prints every instruction kind as the golden file says", async () => {
    await expect(disassemble(allKinds, { symbols: f })).toMatchFileSnapshot(golden("all-kinds.llvm.txt"));
  });

  test("matches llvm-objdump-19 -d --mcpu=v4 except for the documented deviations", () => {
    const theirs = instructionLines(read("all-kinds.objdump.txt"));
    const ours = instructionLines(disassemble(allKinds, { symbols: f }));
    expect([...ours.keys()]).toEqual([...theirs.keys()]);
    const used = new Set<string>();
    for (const [pc, line] of ours) {
      const objdump = theirs.get(pc)!;
      if (objdump === line) continue;
      const dev = LLVM_DEVIATIONS.find((d) => d.objdump.test(objdump) && d.ours.test(line));
      expect(dev, `slot ${pc}: llvm-objdump '${objdump}', tsbpf '${line}'`).toBeDefined();
      used.add(dev!.why);
    }
    expect([...used].sort()).toEqual(LLVM_DEVIATIONS.map((d) => d.why).sort());
  });

  test("prints a clang-built object section exactly as llvm-objdump-19 does", () => {
    const code = Bytecode.fromBytes(bytes("kernel-xdp.text.bin"));
    expect(disassemble(code, { symbols: new Map([[0, "prog"]]), section: "xdp" })).toBe(read("kernel-xdp.objdump.txt"));
  });

  test("annotates jump targets relative to the section when there are no symbols", () => {
    const code = assembleBytecode("goto +3\nexit\nexit\nexit\nexit");
    expect(disassemble(code).split("\n")[0]).toBe("       0:\t05 00 03 00 00 00 00 00\tgoto +0x3 <.text+0x20>");
    expect(disassemble(code, { prefix: false, section: "xdp" }).split("\n")[0]).toBe("goto +0x3 <xdp+0x20>");
  });

  test("annotates targets before the first instruction the way llvm-objdump wraps them", () => {
    const code = assembleBytecode("goto -16");
    expect(disassemble(code, { prefix: false, symbols: f })).toBe("goto -0x10 <f+0xffffffffffffff88>\n");
  });

  test("prints big-endian bytes with the dst register in the high nibble", () => {
    const code = assembleBytecode("r1 = r2\nexit");
    expect(disassemble(code, { order: "be" }).split("\n")[0]).toBe("       0:\tbf 12 00 00 00 00 00 00\tr1 = r2");
  });
});

describe("disassembler, xlated style", () => {
  test("prints every instruction kind as the golden file says", async () => {
    await expect(disassemble(allKinds, { style: "xlated" })).toMatchFileSnapshot(golden("all-kinds.xlated.txt"));
  });

  test("matches the 6.18 kernel's own disasm.c (verifier log) for every instruction it loaded", () => {
    const code = Bytecode.fromBytes(bytes("kernel-v4.bin"));
    const ours = new Map(disassembleLines(code, { style: "xlated" }).map((l) => [l.pc, `${l.pc}: (${code.opcode[l.pc].toString(16).padStart(2, "0")}) ${l.text}`]));
    const kernel = read("kernel-v4.verifier.txt").trim().split("\n");
    expect(kernel).toHaveLength(ours.size);
    for (const line of kernel) {
      const pc = Number(line.slice(0, line.indexOf(":")));
      expect(ours.get(pc)).toBe(line);
    }
  });

  test("matches bpftool prog dump xlated on a loaded program's bytes", () => {
    const ours = disassemble(Bytecode.fromBytes(bytes("kernel-xdp.xlated.bin")), { style: "xlated" }).trimEnd().split("\n");
    const theirs = read("kernel-xdp.bpftool.txt").split("\n").filter((l) => /^\s*\d+: \(/.test(l));
    expect(ours).toHaveLength(theirs.length);
    // bpftool names helper calls through /proc/kallsyms (the kernel rewrote imm into
    // an address offset) and pc-relative calls through the jited symbol; tsbpf
    // prints the helper id the bytes carry. Compare the rest exactly.
    const norm = (l: string): string => l.replace(/call [^#\s]+#(-?\d+)$/, "call ?#$1").replace(/call pc[+-]\d+(#.*)?$/, "call pc");
    expect(ours.map(norm)).toEqual(theirs.map(norm));
    expect(ours.filter((l, i) => l !== theirs[i]).length).toBeLessThan(5);
  });

  test("prints helper calls with the kernel's helper names", () => {
    expect(formatInstruction({ kind: "call", target: "helper", imm: 1, off: 0 }, 0, "xlated")).toBe("call bpf_map_lookup_elem#1");
    expect(formatInstruction({ kind: "call", target: "helper", imm: 211, off: 0 }, 0, "xlated")).toBe("call bpf_cgrp_storage_delete#211");
    expect(formatInstruction({ kind: "call", target: "helper", imm: 212, off: 0 }, 0, "xlated")).toBe("call unknown#212");
  });
});

describe("round trip of the goldens", () => {
  test.each(["llvm", "xlated"] as const)("the %s golden assembles back to the same bytes", (style) => {
    const text = disassemble(allKinds, { style, symbols: f });
    expect(assembleBytecode(text).toBytes()).toEqual(allKinds.toBytes());
  });

  test("llvm-objdump-19's own output of a clang object assembles to the object's bytes", () => {
    expect(assembleBytecode(read("kernel-xdp.objdump.txt")).toBytes()).toEqual(bytes("kernel-xdp.text.bin"));
  });

  test("bpftool's xlated dump assembles to the loaded bytes, except the jited subprogram call", () => {
    const xlated = bytes("kernel-xdp.xlated.bin");
    const back = assembleBytecode(read("kernel-xdp.bpftool.txt")).toBytes();
    expect(back.length).toBe(xlated.length);
    const differing: number[] = [];
    for (let slot = 0; slot < xlated.length / 8; slot++) {
      const a = xlated.subarray(slot * 8, slot * 8 + 8).join();
      if (a !== back.subarray(slot * 8, slot * 8 + 8).join()) differing.push(slot);
    }
    // bpftool prints a jited bpf-to-bpf call as "call pc+5#<symbol>" from off, while
    // the xlated bytes carry the subprogram index in imm.
    const calls = differing.map((s) => Bytecode.fromBytes(xlated).decode(s));
    expect(calls.map((c) => c.kind === "call" && c.target)).toEqual(["local"]);
  });
});
