import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadBtf } from "../../src/btf/load.js";
import { BtfBuilder } from "../../src/btf/encode.js";
import { main } from "../../src/cli/main.js";

async function tsbpf(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: async () => "" });
  return { code, out, err };
}

const fixture = (name: string): string => new URL(`../fixtures/object/${name}`, import.meta.url).pathname;
const golden = (name: string): string => readFileSync(new URL(`golden/${name}`, import.meta.url), "utf8");

describe("tsbpf btf dump", () => {
  test.each([
    { args: ["btf", "dump", "file", fixture("maps.bpf.o")], want: "maps.bpf.raw.txt" },
    { args: ["btf", "dump", "file", fixture("maps.bpf.o"), "format", "raw"], want: "maps.bpf.raw.txt" },
    { args: ["btf", "dump", "file", fixture("btf_kinds.bpf.o"), "format", "c"], want: "btf_kinds.bpf.h" },
    { args: ["-j", "btf", "dump", "file", fixture("maps.bpf.o")], want: "maps.bpf.json" },
    { args: ["btf", "dump", "-p", "file", fixture("btf_kinds.bpf.o")], want: "btf_kinds.bpf.pretty.json" },
  ])("$args.3 $args.4 $args.5 prints what bpftool prints", async ({ args, want }) => {
    const r = await tsbpf(...args);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(golden(want));
  });

  test("a raw BTF blob works like an object, and -B reads split BTF on a base", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
    const base = loadBtf(new Uint8Array(readFileSync(fixture("maps.bpf.o")))).btf;
    const b = new BtfBuilder({ base });
    b.addPtr(1);
    writeFileSync(join(dir, "split.btf"), b.encode());
    const elf = await tsbpf("btf", "dump", "file", fixture("maps.bpf.o"));
    const raw = join(dir, "base.btf");
    const { ElfFile } = await import("../../src/elf/reader.js");
    writeFileSync(raw, ElfFile.parse(new Uint8Array(readFileSync(fixture("maps.bpf.o")))).section(".BTF")?.data ?? new Uint8Array());
    expect((await tsbpf("btf", "dump", "file", raw)).out).toBe(elf.out);
    const split = await tsbpf("btf", "dump", "file", join(dir, "split.btf"), "-B", raw);
    expect(split.out).toBe(`[${base.typeCount}] PTR '(anon)' type_id=1\n`);
  });

  test("C with -j is refused as bpftool refuses it", async () => {
    const r = await tsbpf("-j", "btf", "dump", "file", fixture("maps.bpf.o"), "format", "c");
    expect(r).toEqual({ code: 1, out: '{"error":"JSON output for C-syntax dump is not supported"}\n', err: "" });
  });

  test.each([
    { args: ["btf", "dump", "file", fixture("maps.bpf.o"), "format", "json"], code: 2, err: /format takes c or raw/ },
    { args: ["btf", "dump"], code: 2, err: /btf dump takes 'file FILE'/ },
    { args: ["btf", "dump", "file", fixture("maps.bpf.c")], code: 1, err: /not BTF/ },
    { args: ["btf", "dump", "file", "/nonexistent/btf"], code: 1, err: /ENOENT/ },
  ])("bad input: $args.2 $args.3 $args.5 -> exit $code", async ({ args, code, err }) => {
    const r = await tsbpf(...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(err);
  });
});
