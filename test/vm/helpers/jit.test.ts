import { describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4 } from "../../../src/isa/builder.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { Harness, le32, le64 } from "./harness.js";
import { parseEvents } from "./kdiff.js";
import { compileOps, words } from "./mapops.js";
import { cstr, tracePrintk } from "./progs.js";

/**
 * The helpers through the JIT: programs the interpreter runs in the other
 * files (map operations, printk, callbacks), engine against engine, checked
 * and unchecked.
 */
const T = BPF_MAP_TYPE;
const ENGINES = ["interp", "jit"] as const;

describe("helpers through the JIT agree with the interpreter", () => {
  const ops = compileOps([
    { op: "update", map: 1, key: le32(1), value: le64(5n) },
    { op: "lookup", map: 1, key: le32(1) },
    { op: "update", map: 1, key: le32(1), value: le64(6n), flags: 1 },
    { op: "delete", map: 1, key: le32(1) },
    { op: "lookup", map: 1, key: le32(1) },
  ]);

  for (const checked of [true, false]) {
    test(`map helpers (${checked ? "checked" : "unchecked"})`, () => {
      const results = ENGINES.map((engine) => {
        const h = new Harness();
        const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 80, maxEntries: 1 });
        const m = h.createMap({ mapType: T.HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
        h.run(h.load(ops, { maps: [rec, m], checked, engine }));
        return words(rec.lookup(new Uint8Array(4))!, 10);
      });
      expect(results[1]).toEqual(results[0]);
      expect(results[0]).toEqual([0n, 0n, 1n, 5n, -17n, 0n, 0n, 0n, 0n, -1n]);
    });

    test(`trace_printk (${checked ? "checked" : "unchecked"})`, () => {
      const results = ENGINES.map((engine) => {
        const h = new Harness();
        const r = h.run(h.load(tracePrintk(cstr("%d|%s|%llx\n"), [-3, { str: "jit" }, 0xabcdef0123n]), { checked, engine }));
        return [r, parseEvents(h.tracePipe.drain()).map((e) => e.lines)];
      });
      expect(results[1]).toEqual(results[0]);
    });
  }

  test("callbacks (bpf_loop) run on the JIT's own frames", () => {
    const b = new ProgramBuilder().st(8, FP, -8, 0).mov(R1, 10).ldFunc(R2, "cb").mov(R3, FP).add(R3, -8).mov(R4, 0)
      .call("bpf_loop").ldx(8, R1, FP, -8).mul(R1, 100).add(R0, R1).exit()
      .label("cb").ldx(8, R3, R2, 0).add(R3, R1).stx(8, R2, 0, R3).mov(R0, 0).exit();
    const prog = { insns: b.build().instructions };
    for (const engine of ENGINES) {
      const h = new Harness();
      expect(h.run(h.load(prog, { engine }))).toBe(10n + 4500n);
    }
  });
});
