import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Btf } from "../../src/btf/btf.js";
import { formatBtfC } from "../../src/btf/dump-c.js";
import { formatBtfRaw, formatBtfRawJson } from "../../src/btf/dump-raw.js";
import { loadBtf } from "../../src/btf/load.js";

const dirs = [new URL("../fixtures/object/", import.meta.url), new URL("../fixtures/bench/", import.meta.url)];
const objects = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".o")).sort().map((f) => ({ name: f.replace(/\.o$/, ""), url: new URL(f, d) })));
const golden = (file: string): string => readFileSync(new URL(`golden/${file}`, import.meta.url), "utf8");
const load = (url: URL): Btf => loadBtf(new Uint8Array(readFileSync(url))).btf;

describe("btf dump matches bpftool v7.1 (golden files)", () => {
  test.each(objects)("$name: format raw", ({ name, url }) => {
    expect(formatBtfRaw(load(url))).toBe(golden(`${name}.raw.txt`));
  });

  test.each(objects)("$name: format c", ({ name, url }) => {
    expect(formatBtfC(load(url))).toBe(golden(`${name}.h`));
  });

  test.each([
    { file: "btf_kinds.bpf", pretty: false, out: "btf_kinds.bpf.json" },
    { file: "btf_kinds.bpf", pretty: true, out: "btf_kinds.bpf.pretty.json" },
    { file: "maps.bpf", pretty: false, out: "maps.bpf.json" },
  ])("$file: -j/-p JSON ($out)", ({ file, pretty, out }) => {
    const btf = load(new URL(`../fixtures/object/${file}.o`, import.meta.url));
    expect(formatBtfRawJson(btf, { pretty })).toBe(golden(out));
  });

  test("dumping a subset of ids prints just those types", () => {
    const btf = load(new URL("../fixtures/object/btf_kinds.bpf.o", import.meta.url));
    const lines = golden("btf_kinds.bpf.raw.txt").split(/\n(?=\[)/);
    expect(formatBtfRaw(btf, { ids: [3, 22] })).toBe(`${lines[2]}\n${lines[21]}\n`);
  });

  test("C dump of chosen root types pulls in what they need, once", () => {
    const btf = load(new URL("../fixtures/object/btf_kinds.bpf.o", import.meta.url));
    const sink = btf.find("struct", "kitchen_sink");
    expect(sink).toBeDefined();
    const text = formatBtfC(btf, { rootIds: [sink?.id ?? 0, sink?.id ?? 0], header: false });
    expect(text).toContain("struct opaque;\n\nunion opaque_u;\n\ntypedef int (*callback_t)(void *, int);");
    expect(text.match(/^struct kitchen_sink \{/gm)).toHaveLength(1);
    expect(text.endsWith("\tint tail[0];\n};\n\n")).toBe(true);
  });
});

const VMLINUX = "/sys/kernel/btf/vmlinux";
const bpftool = (() => {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const vmlinuxReason = !existsSync(VMLINUX) ? `${VMLINUX} is missing` : !bpftool ? "bpftool is not installed" : null;

describe.skipIf(vmlinuxReason !== null)(`btf dump of the running kernel's vmlinux matches bpftool${vmlinuxReason ? ` (skipped: ${vmlinuxReason})` : ""}`, () => {
  const run = (...args: string[]): string => execFileSync("bpftool", args, { maxBuffer: 1 << 30, encoding: "utf8" });
  const vmlinux = (): Btf => Btf.parse(new Uint8Array(readFileSync(VMLINUX)));

  test("parses in well under a second of CPU time", () => {
    const bytes = new Uint8Array(readFileSync(VMLINUX));
    // CPU time, best of three: the machine is shared (wall time says more about the
    // neighbours than about us), and the first run also pays for JIT warm-up.
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      const btf = Btf.parse(bytes);
      const used = process.cpuUsage(t0);
      best = Math.min(best, (used.user + used.system) / 1000);
      expect(btf.typeCount).toBeGreaterThan(10_000);
    }
    expect(best).toBeLessThan(1000);
  });

  test("format raw is byte-identical", () => {
    expect(formatBtfRaw(vmlinux()) === run("btf", "dump", "file", VMLINUX)).toBe(true);
  });

  test("format c is byte-identical", () => {
    expect(formatBtfC(vmlinux()) === run("btf", "dump", "file", VMLINUX, "format", "c")).toBe(true);
  });

  test("-j JSON is byte-identical", () => {
    expect(formatBtfRawJson(vmlinux()) === run("-j", "btf", "dump", "file", VMLINUX)).toBe(true);
  });
});
