import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { R_BPF_64_32, R_BPF_64_64, SHF_EXECINSTR, STT_FUNC } from "../../src/elf/constants.js";
import { ElfFile } from "../../src/elf/reader.js";
import { objectNameFromPath } from "../../src/object/maps.js";
import { ObjectSpec } from "../../src/object/spec.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const objects = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => ({ name: f, url: new URL(f, d) })));

interface Golden {
  sections: Array<[number, string, number, number, number, number, number, number, number, number]>;
  symbols: Array<[string, number, number, number, number, number, number]>;
  relocations: Array<[number, Array<[number, number, string]>]>;
}

describe("program relocations agree with llvm-readelf-19's relocation sections", () => {
  test.each(objects)("$name: every instruction relocation shows up in each program holding that code", ({ name, url }) => {
    const bytes = new Uint8Array(readFileSync(url));
    const spec = ObjectSpec.fromBytes(bytes, { name: objectNameFromPath(name) });
    const elf = ElfFile.parse(bytes);
    const golden = JSON.parse(readFileSync(new URL(`../elf/golden/${name.replace(/\.o$/, "")}.readelf.json`, import.meta.url), "utf8")) as Golden;
    const funcs = golden.symbols.filter((s) => s[4] === STT_FUNC);
    let checked = 0;
    for (const [relSec, relocs] of golden.relocations) {
      const target = golden.sections[golden.sections[relSec][7]];
      if (!(target[3] & SHF_EXECINSTR)) continue;
      for (const [off, type, symName] of relocs) {
        // The function holding the relocated instruction.
        const fn = funcs.find((f) => f[6] === target[0] && off >= f[1] && off < f[1] + f[2]);
        expect(fn, `${target[1]}+${off}`).toBeDefined();
        if (!fn) continue;
        const holders = [...spec.programs.values()].flatMap((p) => p.functions.filter((f) => f.name === fn[0]).map((f) => ({ p, at: f.insnIndex + (off - fn[1]) / 8 })));
        expect(holders.length, `${fn[0]} is linked somewhere`).toBeGreaterThan(0);
        for (const { p, at } of holders) {
          const r = p.relocations.find((x) => x.insnIndex === at);
          expect(r, `${p.name} insn ${at} (${symName})`).toBeDefined();
          if (!r) continue;
          const sym = elf.symbols.find((s) => s.name === symName);
          if (type === R_BPF_64_32) expect(["subprog", "ksym"]).toContain(r.kind);
          else if (type === R_BPF_64_64) expect(["map", "map_value", "kconfig", "ksym", "func_ptr"]).toContain(r.kind);
          if (r.kind === "map" || r.kind === "kconfig" || r.kind === "ksym") expect(r.target).toBe(symName);
          if (r.kind === "map_value" && sym && sym.name) expect(r.offset).toBeGreaterThanOrEqual(Number(sym.value));
          checked++;
        }
      }
    }
    if (name === "maps.bpf.o") expect(checked).toBe(8);
    if (name === "subprogs.bpf.o") expect(checked).toBeGreaterThan(5);
  });
});
