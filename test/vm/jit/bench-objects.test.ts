/**
 * The JIT's fast paths on the benchmark objects (test/fixtures/bench): a test
 * run's repeat looping inside the module, and direct helper imports for call
 * sites with a known map (map lookup/update, ringbuf output) or none (the
 * clock). Each must leave exactly what the interpreter leaves: return values,
 * the high half of r0, map contents, ring buffer records.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Collection } from "../../../src/api/types.js";
import { ObjectSpec } from "../../../src/object/spec.js";
import { type EngineKind } from "../../../src/vm/engines.js";
import { VmProgramHandle, vmBackend } from "../../../src/vm/backend.js";
import { JitEngine } from "../../../src/vm/jit/engine.js";
import { RingBufMap } from "../../../src/vm/maps/ringbuf.js";
import { RingBufReader } from "../../../src/vm/readers/ringbuf.js";

const dir = new URL("../../fixtures/bench/", import.meta.url);
const file = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(p, dir)));

function load(engine: EngineKind, object: string, program: string): { coll: Collection; prog: VmProgramHandle } {
  const coll = vmBackend({ engine }).load(ObjectSpec.fromBytes(file(object)), { programs: [program] });
  if (object.startsWith("05_")) {
    const m = coll.map("routes");
    for (const line of new TextDecoder().decode(file("inputs/lpm_routes.txt")).split("\n")) {
      const r = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
      if (!r) continue;
      const key = new Uint8Array([Number(r[5]), 0, 0, 0, +r[1], +r[2], +r[3], +r[4]]);
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, Number(r[6]), true);
      m.update(key, value);
    }
  }
  return { coll, prog: coll.program(program) as VmProgramHandle };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Every map's contents (sorted), and each ring buffer's records with the 8-byte timestamp cut off. */
function snapshot(coll: Collection, prog: VmProgramHandle): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of prog.object.maps) {
    if (m.map instanceof RingBufMap) {
      out[m.map.name] = new RingBufReader(m.map).drain().map((r) => hex(r.subarray(8)));
    } else {
      out[m.map.name] = [...coll.map(m.map.name).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
    }
  }
  return out;
}

const CASES = [
  ["00_empty.bpf.o", "bench_empty", "pkt_udp64.bin"],
  ["02_xdp_csum.bpf.o", "bench_xdp_csum", "pkt_1500.bin"],
  ["03_xdp_parse_udp.bpf.o", "bench_xdp_parse_udp", "pkt_udp_memcached.bin"],
  ["04_hash_map.bpf.o", "bench_hash_map", "pkt_udp64.bin"],
  ["05_lpm_trie.bpf.o", "bench_lpm_trie", "pkt_udp64.bin"],
  ["06_bpf2bpf_call.bpf.o", "bench_bpf2bpf_call", "pkt_udp64.bin"],
  ["08_ringbuf_ktime.bpf.o", "bench_ringbuf_ktime", "pkt_udp64.bin"],
] as const;

describe("jit on the benchmark objects", () => {
  for (const [object, program, input] of CASES) {
    test(`${program}: test runs with repeat 1, 7 and 40 leave what the interpreter leaves`, () => {
      const data = file(`inputs/${input}`);
      const a = load("interp", object, program);
      const b = load("jit", object, program);
      try {
        for (const repeat of [1, 7, 40]) {
          const ra = a.prog.run({ data, repeat });
          const rb = b.prog.run({ data, repeat });
          expect(rb.retval).toBe(ra.retval);
          expect(hex(rb.dataOut!)).toBe(hex(ra.dataOut!));
          expect(b.prog.object.engine.lastR0()).toBe(a.prog.object.engine.lastR0());
          expect(snapshot(b.coll, b.prog)).toEqual(snapshot(a.coll, a.prog));
        }
      } finally {
        a.coll[Symbol.dispose]();
        b.coll[Symbol.dispose]();
      }
    });
  }

  test("known-map helper calls and the clock are direct imports; the repeat loop is in the module", () => {
    const imports = (object: string, program: string): { names: string[]; calls: number } => {
      const { coll, prog } = load("jit", object, program);
      try {
        const engine = prog.object.engine as JitEngine;
        expect(engine).toBeInstanceOf(JitEngine);
        const mod = engine.compiled.module;
        expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toContain("repeat");
        const code = prog.object.code;
        let calls = 0;
        for (let pc = 0; pc < code.length; pc++) if (code.opcode[pc] === 0x85 && code.src[pc] === 0) calls++;
        return { names: WebAssembly.Module.imports(mod).filter((i) => i.kind === "function").map((i) => i.name).sort(), calls };
      } finally {
        coll[Symbol.dispose]();
      }
    };
    // Every lookup and update is its own import; no generic helper import is left.
    const hash = imports("04_hash_map.bpf.o", "bench_hash_map");
    expect(hash.calls).toBeGreaterThanOrEqual(8);
    expect(hash.names.filter((n) => /^d\d+$/.test(n))).toHaveLength(hash.calls);
    expect(hash.names.filter((n) => /^h\d+$/.test(n))).toEqual([]);
    expect(imports("08_ringbuf_ktime.bpf.o", "bench_ringbuf_ktime").names.filter((n) => /^[dh]\d+$/.test(n))).toHaveLength(2);
    // The array lookup is inlined by the verifier's fix-up: no import at all.
    expect(imports("03_xdp_parse_udp.bpf.o", "bench_xdp_parse_udp").names.filter((n) => /^[dh]\d+$/.test(n))).toEqual([]);
  });

  test("closing the map's handle leaves the direct helpers on the map the program holds", () => {
    const { coll, prog } = load("jit", "04_hash_map.bpf.o", "bench_hash_map");
    try {
      const data = file("inputs/pkt_udp64.bin");
      expect(prog.run({ data }).retval).toBe(0);
      expect(prog.run({ data, repeat: 3 }).retval).toBe(4);
      // The program holds its map: closing the collection's handle keeps it alive.
      coll.map("flows")[Symbol.dispose]();
      expect(prog.run({ data }).retval).toBe(4);
    } finally {
      coll[Symbol.dispose]();
    }
  });
});
