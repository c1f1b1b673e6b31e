import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ELF64_SHDR_SIZE } from "../../src/elf/constants.js";
import { ElfFile } from "../../src/elf/reader.js";
import { ElfError } from "../../src/errors.js";
import { mutate, rng } from "./fuzz.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const inputs = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => new Uint8Array(readFileSync(new URL(f, d)))));

/** Header, section header table and symbol/relocation tables: where mutations hurt most. */
function hotRanges(bytes: Uint8Array): Array<[number, number]> {
  const elf = ElfFile.parse(bytes);
  const ranges: Array<[number, number]> = [[0, 64], [elf.header.shoff, elf.header.shoff + elf.header.shnum * ELF64_SHDR_SIZE]];
  for (const s of elf.sections) {
    if (s.name === ".symtab" || s.name.startsWith(".rel") || s.name === ".strtab") ranges.push([s.offset, s.offset + s.size]);
  }
  return ranges;
}

describe("ELF reader fuzz", () => {
  test("10,000 mutated and truncated real objects either parse or throw ElfError", () => {
    const r = rng(0x5eed);
    const hot = inputs.map(hotRanges);
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 10_000; i++) {
      const k = i % inputs.length;
      const bytes = mutate(inputs[k], r, hot[k]);
      try {
        const elf = ElfFile.parse(bytes);
        // Everything is parsed up front; touch it anyway so lazy bugs would show.
        for (const s of elf.sections) void s.data.length;
        for (const rs of elf.relocationSections) for (const x of rs.relocations) void elf.symbols[x.symbolIndex];
        parsed++;
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`case ${i} (input ${k}) threw ${String(e)}`, { cause: e });
        rejected++;
      }
    }
    expect(parsed + rejected).toBe(10_000);
    // Both outcomes must be common, or the mutations are not exercising the reader.
    expect(parsed).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });
});
