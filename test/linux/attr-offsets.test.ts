/**
 * Every field of every kernel struct layout in src/linux/attr is checked against C:
 * a generated program prints offsetof() and sizeof() of each field (and the bit
 * position of each bitfield), compiled twice —
 *   1. against the installed uapi headers (<linux/bpf.h>, <linux/perf_event.h>);
 *      fields newer than those headers are listed and checked by pass 2 only;
 *   2. against the running kernel's own types (vmlinux.h dumped from its BTF).
 * Skips, saying why, without a C compiler (or without kernel BTF for pass 2).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { formatBtfC } from "../../src/btf/dump-c.js";
import { loadBtf } from "../../src/btf/load.js";
import { BPF_ATTR_LAYOUTS } from "../../src/linux/attr/bpf-attr.js";
import { INFO_LAYOUTS } from "../../src/linux/attr/info.js";
import type { Struct } from "../../src/linux/attr/layout.js";
import { PERF_LAYOUTS } from "../../src/linux/attr/perf-event.js";
import { EPOLL_EVENT } from "../../src/linux/poller.js";

const layouts: ReadonlyArray<Struct<string>> = [...BPF_ATTR_LAYOUTS, ...INFO_LAYOUTS, ...PERF_LAYOUTS, EPOLL_EVENT];

function findCompiler(): string | null {
  for (const cc of [process.env.CC, "gcc", "cc", "clang-19", "clang"]) {
    if (cc && spawnSync(cc, ["--version"], { stdio: "ignore" }).status === 0) return cc;
  }
  return null;
}

interface Check {
  readonly layout: string;
  readonly field: string;
  readonly expectOffset: number;
  readonly expectSize: number;
  readonly line: string;
}

/** One C statement per check, so a compile error names the field by its line. */
function checks(): Check[] {
  const out: Check[] = [];
  layouts.forEach((l, li) => {
    const T = l.cType;
    for (const f of Object.values(l.fields)) {
      if (f.c === "") continue; // a bitfield word: its bits are checked below
      out.push({
        layout: l.name, field: f.name, expectOffset: f.offset, expectSize: f.size,
        line: `P(${li}, "${f.name}", __builtin_offsetof(${T}, ${f.c}), sizeof(((${T} *)0)->${f.c}));`,
      });
    }
    for (const [name, b] of Object.entries(l.bits)) {
      const word = (l.fields as Record<string, { offset: number }>)[b.word];
      const ones = (1 << (b.width ?? 1)) - 1;
      out.push({
        layout: l.name, field: `${name} (bit)`, expectOffset: word.offset * 8 + b.bit, expectSize: b.width ?? 1,
        line: `{ union { ${T} s; unsigned char b[sizeof(${T})]; } u; __builtin_memset(&u, 0, sizeof u); u.s.${name} = ${ones}; B(${li}, "${name} (bit)", u.b, sizeof u); }`,
      });
    }
  });
  return out;
}

const PRELUDE = `
int printf(const char *, ...);
static void P(int l, const char *f, unsigned long off, unsigned long size) { printf("%d %s %lu %lu\\n", l, f, off, size); }
static void B(int l, const char *f, const unsigned char *b, unsigned long n) {
  unsigned long first = 0, count = 0;
  for (unsigned long i = 0; i < n * 8; i++) if (b[i / 8] >> (i % 8) & 1) { if (!count) first = i; count++; }
  printf("%d %s %lu %lu\\n", l, f, first, count);
}
`;

interface Result {
  got: Map<string, [number, number]>;
  missing: string[];
}

/** Compiles and runs; drops lines the header does not know (reported in `missing`). */
function run(cc: string, dir: string, includes: string, all: Check[]): Result {
  let active = all.slice();
  const missing: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const src = `${includes}\n${PRELUDE}\nint main(void) {\n${active.map((c) => c.line).join("\n")}\nreturn 0; }\n`;
    const firstLine = src.split("\n").findIndex((l) => l.startsWith("int main")) + 2;
    writeFileSync(join(dir, "offsets.c"), src);
    const r = spawnSync(cc, ["-w", "-o", join(dir, "offsets"), join(dir, "offsets.c")], { encoding: "utf8" });
    if (r.status === 0) {
      const got = new Map<string, [number, number]>();
      for (const line of execFileSync(join(dir, "offsets"), { encoding: "utf8" }).trim().split("\n")) {
        const [l, ...rest] = line.split(" ");
        const size = Number(rest.pop());
        const off = Number(rest.pop());
        got.set(`${layouts[Number(l)].name}.${rest.join(" ")}`, [off, size]);
      }
      return { got, missing };
    }
    // "offsets.c:123:..." error lines name the statements to drop.
    const bad = new Set<number>();
    for (const m of r.stderr.matchAll(/offsets\.c:(\d+):\d+: error/g)) bad.add(Number(m[1]) - firstLine);
    if (bad.size === 0) throw new Error(`compiling offsets.c failed:\n${r.stderr}`);
    const next: Check[] = [];
    active.forEach((c, i) => (bad.has(i) ? missing.push(`${c.layout}.${c.field}`) : next.push(c)));
    active = next;
  }
  throw new Error("offsets.c: too many compile rounds");
}

const cc = findCompiler();
const dir = mkdtempSync(join(tmpdir(), "tsbpf-offsets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compare(result: Result, all: Check[], exempt: ReadonlySet<string>): void {
  const wrong: string[] = [];
  for (const c of all) {
    const key = `${c.layout}.${c.field}`;
    const got = result.got.get(key);
    if (!got) {
      if (!exempt.has(key)) wrong.push(`${key}: not checked`);
      continue;
    }
    if (got[0] !== c.expectOffset || got[1] !== c.expectSize) {
      wrong.push(`${key}: layout says offset ${c.expectOffset} size ${c.expectSize}, C says ${got[0]} / ${got[1]}`);
    }
  }
  expect(wrong).toEqual([]);
}

const ccReason = cc ? null : "no C compiler (gcc, cc, clang) on PATH";
const vmlinuxReason = !existsSync("/sys/kernel/btf/vmlinux")
  ? "no /sys/kernel/btf/vmlinux"
  : null;

describe.skipIf(ccReason !== null)(`kernel struct layouts vs C offsetof()${ccReason ? ` [skipped: ${ccReason}]` : ""}`, () => {
  const all = checks();
  let uapi: Result | undefined;
  let kernel: Result | undefined;

  test("every field matches the installed uapi headers (fields newer than the headers are listed)", () => {
    uapi = run(cc!, dir, "#include <linux/bpf.h>\n#include <linux/perf_event.h>\n#include <sys/epoll.h>", all);
    if (uapi.missing.length) console.info(`fields newer than the installed uapi headers (checked against vmlinux BTF): ${uapi.missing.join(", ")}`);
    // Most fields must be there: a header so old that most of the layout is unknown checks nothing.
    expect(uapi.got.size).toBeGreaterThan(all.length * 0.7);
    compare(uapi, all, new Set(uapi.missing));
  });

  test.skipIf(vmlinuxReason !== null)(`every field matches the running kernel's BTF (vmlinux.h)${vmlinuxReason ? ` [skipped: ${vmlinuxReason}]` : ""}`, () => {
    // vmlinux.h as `bpftool btf dump ... format c` writes it, by src/btf (byte-identical, test/btf).
    const header = formatBtfC(loadBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))).btf);
    writeFileSync(join(dir, "vmlinux.h"), header);
    kernel = run(cc!, dir, `#include "${join(dir, "vmlinux.h")}"`, all);
    if (kernel.missing.length) console.info(`fields newer than the running kernel: ${kernel.missing.join(", ")}`);
    compare(kernel, all, new Set(kernel.missing));
  });

  test("every field is known to the uapi header or the running kernel (a misspelt designator is not)", () => {
    const unknown = all
      .map((c) => `${c.layout}.${c.field}`)
      .filter((k) => !uapi?.got.has(k) && !kernel?.got.has(k));
    expect(unknown).toEqual([]);
  });
});
