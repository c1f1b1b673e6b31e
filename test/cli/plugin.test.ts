import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import type { Io } from "../../src/cli/command.js";
import { main } from "../../src/cli/main.js";
import { parseConformanceFile } from "../../src/conformance/datafile.js";

function capture(stdin = ""): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(t: string) { io.stdout += t; },
    err(t: string) { io.stderr += t; },
    readStdin: async () => stdin,
  };
  return io;
}

/** The runner's encoding (bpf_conformance.cc, _base_16_encode): "%02x" then two spaces per byte. */
const base16 = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0") + "  ").join("");

const dataDir = fileURLToPath(new URL("../conformance/data/", import.meta.url));
const files = readdirSync(dataDir).filter((f) => f.endsWith(".data")).sort();

describe("tsbpf plugin (bpf_conformance plugin protocol)", () => {
  test("runs every conformance file as the upstream runner would, printing r0 in hex", async () => {
    for (const f of files) {
      const c = parseConformanceFile(readFileSync(dataDir + f, "utf8"), f);
      const io = capture(base16(c.code.toBytes()) + "\n");
      const code = await main(["plugin", base16(c.memory), ""], io);
      expect(code, `${f}: ${io.stdout}`).toBe(0);
      // The runner parses stdout with stoull(.., 16) and compares 32 bits.
      expect(BigInt("0x" + io.stdout.trim()) & 0xffffffffn, f).toBe(c.result! & 0xffffffffn);
      expect(io.stdout, f).toBe(c.result!.toString(16) + "\n");
    }
  });

  test("takes the program from --program and the options as one argument", async () => {
    const io = capture();
    const prog = "b7 00 00 00 05 00 00 00 0f 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00";
    expect(await main(["plugin", "", "--program " + prog + " --engine interp"], io)).toBe(0);
    expect(io.stdout).toBe("5\n");
  });

  test("r1 points at the memory and r2 holds its length", async () => {
    // r0 = *(u16 *)(r1 + 1) + r2
    const prog = "69 10 01 00 00 00 00 00  0f 20 00 00 00 00 00 00  95 00 00 00 00 00 00 00";
    const io = capture(prog);
    expect(await main(["plugin", "aa  bb  cc  dd"], io)).toBe(0);
    expect(io.stdout).toBe((0xccbb + 4).toString(16) + "\n");
  });

  test("a failing program prints the error on stdout and exits 1", async () => {
    // r0 = *(u64 *)(r2 + 0): r2 is the length, so this reads the never-mapped first page.
    const io = capture("79 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    expect(await main(["plugin", "00"], io)).toBe(1);
    expect(io.stdout).toMatch(/^program fault at instruction 0: /);
  });

  test("an invalid instruction or malformed hex is reported the same way", async () => {
    const bad = capture("e7 01 00 00 00 00 00 00");
    expect(await main(["plugin"], bad)).toBe(1);
    expect(bad.stdout).toBe("invalid instruction 0: opcode 0xe7: unknown ALU operation\n");
    const hex = capture("b7 00 zz");
    expect(await main(["plugin"], hex)).toBe(1);
    expect(hex.stdout).toBe("program: 'zz' is not a hex byte\n");
  });

  test("--engine jit (or uBPF's --jit) runs the program on the JIT engine", async () => {
    const prog = "b7 00 00 00 05 00 00 00 07 00 00 00 25 00 00 00 95 00 00 00 00 00 00 00";
    for (const options of ["--engine jit", "--jit", "--engine=interp"]) {
      const io = capture(prog);
      expect(await main(["plugin", "", options], io), options).toBe(0);
      expect(io.stdout, options).toBe("2a\n");
    }
  });

  test("an unknown engine is a usage error", async () => {
    const io = capture("95 00 00 00 00 00 00 00");
    expect(await main(["plugin", "", "--engine wasm"], io)).toBe(2);
    expect(io.stderr).toMatch(/--engine takes interp or jit, not 'wasm'/);
  });
});
