/**
 * The same objects through libbpf and the kernel — `bpftool prog loadall`, then
 * `bpftool prog run` — and through the vm backend: the same retval and data_out.
 * (fixtures.test.ts compares far more, through our own linux backend; this keeps
 * an independent loader, libbpf, in the loop.) Skipped, saying why, without root,
 * bpftool or bpffs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ObjectSpec } from "../../src/object/spec.js";
import { vmBackend } from "../../src/vm/backend.js";
import { bpftoolLoadUnavailableReason } from "../helpers/kernel.js";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

const why = bpftoolLoadUnavailableReason();

interface Case {
  readonly object: string;
  readonly program: string;
  readonly input: string;
  /** bench.tsv's expected return value, after its repeat count of runs. */
  readonly expected?: number;
  readonly repeat?: number;
  /** LPM routes to add to this map first (bench.tsv's "lpm:MAP:FILE" setup). */
  readonly lpm?: { readonly map: string; readonly file: string };
}

/** The benchmark programs (bench.tsv) and fixtures that run on a packet alone. */
function cases(): Case[] {
  const rows = readFileSync(join(fixtures, "bench/bench.tsv"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  const bench = rows.map((l): Case => {
    const [, object, program, input, expected, repeat, setup] = l.split("\t");
    const [kind, map, file] = setup.split(":");
    return {
      object: "bench/" + object.replace(/^build\//, ""), program, input: "bench/" + input, expected: Number(expected), repeat: Number(repeat),
      ...(kind === "lpm" ? { lpm: { map, file: "bench/" + file } } : {}),
    };
  });
  const pkt = "bench/inputs/pkt_udp64.bin";
  return [
    ...bench,
    { object: "maps/array.bpf.o", program: "array_ops", input: pkt },
    { object: "maps/hash.bpf.o", program: "hash_ops", input: pkt },
    { object: "maps/lpm_trie.bpf.o", program: "lpm_ops", input: pkt },
    { object: "maps/lru.bpf.o", program: "lru_churn", input: pkt },
    { object: "maps/ringbuf.bpf.o", program: "ringbuf_ops", input: "bench/inputs/pkt_udp_memcached.bin" },
  ];
}

/** bench.tsv's route lines: "a.b.c.d/len value" as struct { u32 prefixlen; u8 addr[4]; } -> u32. */
function routes(file: string): Array<{ key: Uint8Array; value: Uint8Array }> {
  const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  for (const line of readFileSync(join(fixtures, file), "utf8").split("\n")) {
    const r = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
    if (!r) continue;
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, Number(r[5]), true);
    key.set([+r[1], +r[2], +r[3], +r[4]], 4);
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, Number(r[6]), true);
    out.push({ key, value });
  }
  return out;
}

const hexArgs = (b: Uint8Array): string[] => Array.from(b, (x) => x.toString(16).padStart(2, "0"));

function viaBpftool(c: Case, dir: string, scratch: string): { retval: number; dataOut: Uint8Array } {
  const progs = join(dir, "progs");
  const maps = join(dir, "maps");
  const load = spawnSync("bpftool", ["prog", "loadall", join(fixtures, c.object), progs, "pinmaps", maps], { encoding: "utf8" });
  expect(load.status, load.stderr).toBe(0);
  for (const { key, value } of c.lpm ? routes(c.lpm.file) : []) {
    const u = spawnSync("bpftool", ["map", "update", "pinned", join(maps, c.lpm!.map), "key", "hex", ...hexArgs(key), "value", "hex", ...hexArgs(value)], { encoding: "utf8" });
    expect(u.status, u.stderr).toBe(0);
  }
  const out = join(scratch, "data_out");
  const run = execFileSync("bpftool", ["-j", "prog", "run", "pinned", join(progs, c.program), "data_in", join(fixtures, c.input), "data_out", out, "repeat", String(c.repeat ?? 1)], { encoding: "utf8" });
  return { retval: (JSON.parse(run) as { retval: number }).retval >>> 0, dataOut: new Uint8Array(readFileSync(out)) };
}

function viaVm(c: Case): { retval: number; dataOut: Uint8Array } {
  const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(join(fixtures, c.object))));
  using coll = vmBackend().load(spec, { programs: [c.program] });
  for (const { key, value } of c.lpm ? routes(c.lpm.file) : []) coll.map(c.lpm!.map).update(key, value);
  const r = coll.program(c.program).run({ data: new Uint8Array(readFileSync(join(fixtures, c.input))), repeat: c.repeat ?? 1 });
  return { retval: r.retval, dataOut: r.dataOut ?? new Uint8Array(0) };
}

describe.skipIf(why !== null)(`bpftool prog run (libbpf, the kernel) and the vm agree${why ? ` (skipped: ${why})` : ""}`, () => {
  for (const c of cases()) {
    test(`${c.object} ${c.program}`, () => {
      const dir = mkdtempSync("/sys/fs/bpf/tsbpf-run-");
      const scratch = mkdtempSync(join(tmpdir(), "tsbpf-run-"));
      try {
        const k = viaBpftool(c, dir, scratch);
        const v = viaVm(c);
        expect(v.retval, "retval").toBe(k.retval);
        if (c.expected !== undefined) expect(k.retval, "bench.tsv's expected value").toBe(c.expected >>> 0);
        expect(Buffer.from(v.dataOut).toString("hex"), "data_out").toBe(Buffer.from(k.dataOut).toString("hex"));
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }
});
