import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

const dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-"));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("tsbpf asm", () => {
  test("without -o prints one little-endian 64-bit word per slot, as a conformance -- raw section", async () => {
    const io = capture();
    const src = file("a.s", "r1 = 0x1122334455667788 ll\nr0 = r1\nexit\n");
    expect(await main(["asm", src], io)).toBe(0);
    expect(io.stdout).toBe("0x5566778800000118\n0x1122334400000000\n0x00000000000010bf\n0x0000000000000095\n");
  });

  test("with -o writes the raw little-endian bytecode", async () => {
    const io = capture();
    const src = file("b.s", "mov32 %r0, 7\nexit\n");
    const out = join(dir, "b.bin");
    expect(await main(["asm", src, "-o", out], io)).toBe(0);
    expect(io.stdout).toBe("");
    expect(Array.from(readFileSync(out))).toEqual([0xb4, 0, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("-j prints the words as a JSON array", async () => {
    const io = capture();
    expect(await main(["-j", "asm", file("c.s", "exit")], io)).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual(["0x0000000000000095"]);
  });

  test("malformed assembly exits 1 with file:line:column", async () => {
    const io = capture();
    const src = file("bad.s", "r0 = 1\nr0 += r11\n");
    expect(await main(["asm", src], io)).toBe(1);
    expect(io.stderr).toBe(`tsbpf: ${src}:2:7: expected a register r0..r10 or w0..w10, got 'r11'\n`);
  });

  test("a missing file argument is a usage error", async () => {
    const io = capture();
    expect(await main(["asm"], io)).toBe(2);
    expect(io.stderr).toMatch(/usage: asm FILE \[-o OUT\]/);
  });
});
