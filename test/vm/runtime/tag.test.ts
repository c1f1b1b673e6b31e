import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { programTag, sha256 } from "../../../src/vm/runtime/tag.js";

describe("program tag", () => {
  test("sha256 matches node:crypto on lengths around block boundaries", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
      expect(Buffer.from(sha256(data)).toString("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });

  test("tag of `w0 = 2; exit` is the one Linux 6.18 reports for bench_empty", () => {
    // bpftool prog show on this kernel: "tag":"d4f8542f2b42fac5"
    const code = Bytecode.fromBytes(Uint8Array.from(Buffer.from("b4000000020000009500000000000000", "hex")));
    expect(programTag(code)).toBe("d4f8542f2b42fac5");
  });

  test("map fds do not change the tag", () => {
    const withFd = (fd: number): Bytecode =>
      Bytecode.fromRaw([
        { opcode: 0x18, dst: 1, src: 1, off: 0, imm: fd },
        { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 },
        { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ]);
    expect(programTag(withFd(3))).toBe(programTag(withFd(42)));
  });
});
