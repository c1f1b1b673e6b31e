import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import type { Io } from "../../src/cli/command.js";
import { main } from "../../src/cli/main.js";

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(t: string) { io.stdout += t; },
    err(t: string) { io.stderr += t; },
    readStdin: async () => "",
  };
  return io;
}

const golden = (name: string): string => fileURLToPath(new URL(`../isa/golden/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tsbpf-disasm-"));

describe("tsbpf disasm", () => {
  test("prints raw bytecode in llvm-objdump's style by default", async () => {
    const io = capture();
    expect(await main(["disasm", golden("kernel-xdp.text.bin")], io)).toBe(0);
    // The same lines llvm-objdump-19 printed for the clang object, without its
    // symbol header (raw bytecode has no symbols).
    const objdump = readFileSync(golden("kernel-xdp.objdump.txt"), "utf8").split("\n").filter((l) => /^\s+\d+:\t/.test(l));
    expect(io.stdout.trimEnd().split("\n")).toEqual(objdump.map((l) => l.replace(/<prog(\+0x[0-9a-f]+)?>/, (_m, off: string | undefined) => `<.text${off ?? ""}>`)));
  });

  test("--style xlated prints bpftool's xlated style", async () => {
    const io = capture();
    expect(await main(["disasm", golden("kernel-v4.bin"), "--style", "xlated"], io)).toBe(0);
    const lines = io.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("   0: (bf) r6 = r1");
    expect(lines).toContain(" 130: (85) call pc+1");
  });

  test("-j gives instruction texts by slot", async () => {
    const io = capture();
    const bin = join(dir, "x.bin");
    writeFileSync(bin, Uint8Array.from([0xb7, 0, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
    expect(await main(["-j", "disasm", bin, "--style=xlated"], io)).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual([{ instructions: [{ pc: 0, text: "r0 = 42" }, { pc: 1, text: "exit" }] }]);
  });

  test("an invalid instruction exits 1 naming its index and opcode", async () => {
    const io = capture();
    const bin = join(dir, "bad.bin");
    writeFileSync(bin, Uint8Array.from([0x95, 0, 0, 0, 0, 0, 0, 0, 0xe7, 1, 0, 0, 0, 0, 0, 0]));
    expect(await main(["disasm", bin], io)).toBe(1);
    expect(io.stderr).toBe("tsbpf: invalid instruction 1: opcode 0xe7: unknown ALU operation\n");
  });

  test("an ELF object is refused until the object reader exists", async () => {
    const io = capture();
    const bin = join(dir, "x.o");
    writeFileSync(bin, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
    expect(await main(["disasm", bin], io)).toBe(1);
    expect(io.stderr).toMatch(/not supported: ELF objects in disasm/);
  });

  test("an unknown style is a usage error", async () => {
    const io = capture();
    expect(await main(["disasm", golden("kernel-v4.bin"), "--style", "gnu"], io)).toBe(2);
    expect(io.stderr).toMatch(/--style takes llvm or xlated, not 'gnu'/);
  });
});
