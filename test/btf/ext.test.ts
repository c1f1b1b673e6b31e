import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { coreReloKindName } from "../../src/btf/core.js";
import { parseBtfExt } from "../../src/btf/ext.js";
import { loadBtf } from "../../src/btf/load.js";
import { STT_FUNC } from "../../src/elf/constants.js";
import { ElfFile } from "../../src/elf/reader.js";
import { BtfError } from "../../src/errors.js";

const dir = new URL("../fixtures/object/", import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));

describe(".BTF.ext", () => {
  test("CO-RE records match llvm-objdump-19's annotations (section, offset, kind, type, access string)", () => {
    const { ext } = loadBtf(fixture("core.bpf.o"));
    const ours = (ext?.coreRelos ?? []).flatMap((s) => s.records.map((r) => ({
      section: s.section, off: r.insnOff, kind: coreReloKindName(r.kind), typeId: r.typeId, access: r.accessString,
    })));
    const golden = readFileSync(new URL("golden/core.bpf.core.txt", import.meta.url), "utf8").trim().split("\n").map((line) => {
      const [section, off, text] = line.split("\t");
      const m = /^<(\w+)> \[(\d+)\] .*?(?: \(([\d:]+)\))?$/.exec(text);
      return { section, off: parseInt(off, 16), kind: m?.[1], typeId: Number(m?.[2]), access: m?.[3] };
    });
    expect(ours).toHaveLength(golden.length);
    ours.forEach((o, i) => {
      const g = golden[i];
      expect({ ...o, access: g.access === undefined ? undefined : o.access }).toEqual(g);
    });
  });

  test.each(readdirSync(dir).filter((f) => f.endsWith(".o")).sort())("%s: func_info starts at each function symbol, naming its FUNC", (name) => {
    const bytes = fixture(name);
    const elf = ElfFile.parse(bytes);
    const { btf, ext } = loadBtf(bytes);
    const fromInfo = (ext?.funcInfo ?? []).flatMap((s) => s.records.map((r) => `${s.section}:${r.insnOff}:${btf.type(r.typeId).name}`)).sort();
    const fromSyms = elf.symbols.filter((s) => s.type === STT_FUNC).map((s) => `${elf.sections[s.sectionIndex].name}:${s.value}:${s.name}`).sort();
    expect(fromInfo).toEqual(fromSyms);
    for (const s of ext?.funcInfo ?? []) for (const r of s.records) expect(btf.type(r.typeId).kind).toBe("func");
  });

  test("line_info points at the source lines it quotes", () => {
    const { ext } = loadBtf(fixture("subprogs.bpf.o"));
    const source = readFileSync(new URL("subprogs.bpf.c", dir), "utf8").split("\n");
    const records = (ext?.lineInfo ?? []).flatMap((s) => s.records);
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) {
      expect(r.fileName).toBe("fixtures/object/subprogs.bpf.c");
      expect(source[r.line - 1]).toBe(r.lineText);
      expect(r.column).toBeLessThan(1 << 10);
    }
    expect(ext?.lineInfoRecSize).toBe(16);
    expect(ext?.funcInfoRecSize).toBe(8);
  });

  test("malformed .BTF.ext gets one BtfError", () => {
    const elf = ElfFile.parse(fixture("core.bpf.o"));
    const { btf } = loadBtf(fixture("core.bpf.o"));
    const good = elf.section(".BTF.ext")?.data.slice() ?? new Uint8Array();
    expect(parseBtfExt(good, btf).coreRelos.map((s) => s.section)).toEqual(["kprobe/do_nanosleep", "tp_btf/sched_switch"]);
    const cases: Array<[string, (v: DataView, b: Uint8Array) => Uint8Array | void, RegExp]> = [
      ["magic", (v) => v.setUint16(0, 1, true), /magic/],
      ["version", (v) => v.setUint8(2, 9), /version 9/],
      ["header length", (v) => v.setUint32(4, 8, true), /shorter than 24/],
      ["func_info past the end", (v) => v.setUint32(12, 1 << 20, true), /past the end/],
      ["record size", (v) => v.setUint32(32 + v.getUint32(8, true), 3, true), /record size 3/],
      ["no records", (v) => v.setUint32(32 + v.getUint32(8, true) + 8, 0, true), /no records/],
      ["too many records", (v) => v.setUint32(32 + v.getUint32(8, true) + 8, 99999, true), /claims 99999 records/],
      ["truncated", (_v, b) => b.slice(0, 40), /past the end|truncated/],
    ];
    for (const [what, f, error] of cases) {
      const b = good.slice();
      const replaced = f(new DataView(b.buffer), b);
      expect(() => parseBtfExt(replaced ?? b, btf), what).toThrow(error);
      try {
        parseBtfExt(replaced ?? b, btf);
      } catch (e) {
        expect(e, what).toBeInstanceOf(BtfError);
      }
    }
  });
});
