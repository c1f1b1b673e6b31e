import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ELF64_SHDR_SIZE } from "../../src/elf/constants.js";
import { ElfFile } from "../../src/elf/reader.js";
import { BtfError, ElfError, LoadError } from "../../src/errors.js";
import { applyCoreRelocations, resolveCoreRelocations } from "../../src/object/core.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { mutate, rng } from "../elf/fuzz.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const inputs = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => new Uint8Array(readFileSync(new URL(f, d)))));

/** The tables and sections the object layer reads: symbols, relocations, .maps, .BTF, .BTF.ext, program code. */
function hotRanges(bytes: Uint8Array): Array<[number, number]> {
  const elf = ElfFile.parse(bytes);
  const ranges: Array<[number, number]> = [[0, 64], [elf.header.shoff, elf.header.shoff + elf.header.shnum * ELF64_SHDR_SIZE]];
  for (const s of elf.sections) {
    if (s.name.startsWith(".debug") || s.name.startsWith(".rel.debug") || s.size === 0 || s.type === 8) continue;
    ranges.push([s.offset, s.offset + Math.min(s.size, 512)]);
  }
  return ranges;
}

describe("object fuzz", () => {
  test("4,000 mutated objects give a spec or one ElfError, BtfError or LoadError", () => {
    const r = rng(0x0b1ec7);
    const hot = inputs.map(hotRanges);
    let opened = 0;
    for (let i = 0; i < 4_000; i++) {
      const k = i % inputs.length;
      const bytes = mutate(inputs[k], r, hot[k]);
      let spec: ObjectSpec | undefined;
      try {
        spec = ObjectSpec.fromBytes(bytes);
        opened++;
        // CO-RE against the object's own BTF exercises the resolver on damaged records too.
        if (spec.btf && i % 4 === 0) {
          const res = resolveCoreRelocations(spec, [spec.btf]);
          for (const p of spec.programs.values()) applyCoreRelocations(p, res);
        }
      } catch (e) {
        if (!(e instanceof ElfError || e instanceof BtfError || e instanceof LoadError)) {
          throw new Error(`case ${i} (input ${k}) threw ${String(e)}`, { cause: e });
        }
      }
    }
    expect(opened).toBeGreaterThan(400);
  });
});
