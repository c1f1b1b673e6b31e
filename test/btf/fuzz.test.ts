import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Btf } from "../../src/btf/btf.js";
import { CoreResolver } from "../../src/btf/core.js";
import { formatBtfC } from "../../src/btf/dump-c.js";
import { formatBtfRaw, formatBtfRawJson } from "../../src/btf/dump-raw.js";
import { encodeBtf } from "../../src/btf/encode.js";
import { parseBtfExt } from "../../src/btf/ext.js";
import { ElfFile } from "../../src/elf/reader.js";
import { BtfError } from "../../src/errors.js";
import { mutate, rng } from "../elf/fuzz.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const elfs = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => ElfFile.parse(new Uint8Array(readFileSync(new URL(f, d))))));
const btfs = elfs.map((e) => e.section(".BTF")?.data.slice() ?? new Uint8Array());
const exts = elfs.map((e, i) => ({ ext: e.section(".BTF.ext")?.data.slice(), btf: Btf.parse(btfs[i]) })).filter((x) => x.ext);

/** The header and the first types are where layout lives. */
const hot = (b: Uint8Array): Array<[number, number]> => [[0, 24], [24, Math.min(b.length, 24 + 256)]];

function expectOnlyBtfError(i: number, f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof BtfError) return false;
    throw new Error(`case ${i} threw ${String(e)}`, { cause: e });
  }
}

describe("BTF fuzz", () => {
  test("10,000 mutated .BTF blobs parse or throw BtfError, and whatever parses prints, sizes and encodes", () => {
    const r = rng(0xb7f);
    const core = exts.find((x) => x.btf.find("struct", "task_struct"));
    let parsed = 0;
    for (let i = 0; i < 10_000; i++) {
      const k = i % btfs.length;
      const bytes = mutate(btfs[k], r, hot(btfs[k]));
      let btf: Btf | undefined;
      if (!expectOnlyBtfError(i, () => (btf = Btf.parse(bytes)))) continue;
      parsed++;
      const b = btf as Btf;
      expectOnlyBtfError(i, () => formatBtfRaw(b));
      expectOnlyBtfError(i, () => formatBtfRawJson(b));
      expectOnlyBtfError(i, () => formatBtfC(b));
      for (const t of b.types) {
        expectOnlyBtfError(i, () => b.sizeof(t.id));
        expectOnlyBtfError(i, () => b.alignof(t.id));
      }
      expectOnlyBtfError(i, () => Btf.parse(encodeBtf(b)));
      // The mutated BTF as a CO-RE target for core.bpf.o's relocations.
      if (core && i % 10 === 0) {
        const res = new CoreResolver(core.btf, [b]);
        for (const s of parseBtfExt(core.ext ?? new Uint8Array(), core.btf).coreRelos) {
          for (const rec of s.records) expectOnlyBtfError(i, () => res.resolve(rec));
        }
      }
    }
    expect(parsed).toBeGreaterThan(1000);
  });

  test("5,000 mutated .BTF.ext sections parse or throw BtfError", () => {
    const r = rng(0xe47);
    let parsed = 0;
    for (let i = 0; i < 5_000; i++) {
      const { ext, btf } = exts[i % exts.length];
      const bytes = mutate(ext ?? new Uint8Array(), r, [[0, 32], [32, 128]]);
      if (expectOnlyBtfError(i, () => parseBtfExt(bytes, btf))) parsed++;
    }
    expect(parsed).toBeGreaterThan(200);
  });
});
