/**
 * bpf_ringbuf_output as the JIT emits it inline for a known ring (the fast
 * path: nothing reserved, no wrap, no wakeup due) and as the helper does it
 * otherwise: engine against engine, the ring's bytes, positions and wakeups
 * compared after every run.
 */
import { describe, expect, test, vi } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R6, R7, R9 } from "../../../src/isa/builder.js";
import { RingBufMap } from "../../../src/vm/maps/ringbuf.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { Harness, ldMap } from "../helpers/harness.js";

interface Case {
  /** Records per run. */
  readonly count: number;
  /** Sets r3 (the size) from r6 (the record's index in the run). */
  readonly size: (b: ProgramBuilder) => void;
  /** r4, all 64 bits. */
  readonly flags: bigint;
  /** Reserve a record first and submit it at the end (outputs then find a busy record). */
  readonly reserveFirst?: boolean;
  /** Runs, and after which ones the consumer catches up. */
  readonly runs: number;
  readonly consumeAfter: (run: number) => boolean;
}

function program(c: Case): { insns: ReturnType<ProgramBuilder["build"]>["instructions"] } {
  const b = new ProgramBuilder();
  for (let k = 1; k <= 40; k++) b.st(8, FP, -8 * k, (k * 0x01030507) | 0);
  b.mov(R6, 0).mov(R7, 0).mov(R9, 0);
  if (c.reserveFirst) {
    ldMap(b, R1, 0);
    b.mov(R2, 16).mov(R3, 0).call("bpf_ringbuf_reserve").mov(R9, R0);
  }
  b.label("loop");
  ldMap(b, R1, 0);
  b.mov(R2, FP).add(R2, -320);
  c.size(b);
  b.ldImm64(R4, c.flags).call("bpf_ringbuf_output");
  b.mul(R7, 31).add(R7, R0).add(R6, 1).jne(R6, c.count, "loop");
  if (c.reserveFirst) {
    b.jeq(R9, 0, "out");
    b.mov(R1, R9).mov(R2, 0).call("bpf_ringbuf_submit");
  }
  b.label("out").mov(R0, R7).exit();
  return { insns: b.build().instructions };
}

/** Per run: r0, the ring's pages and data area, and its wakeups; plus the calls that reached RingBufMap.output. */
function runAll(engine: "interp" | "jit", c: Case): { trace: unknown[]; slowCalls: number } {
  const h = new Harness();
  const ring = h.createMap({ mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBufMap;
  const spy = vi.spyOn(ring, "output");
  const prog = h.load(program(c), { maps: [ring], checked: false, engine });
  const trace: unknown[] = [];
  for (let run = 0; run < c.runs; run++) {
    const r0 = h.run(prog);
    trace.push(r0, Buffer.from(h.space.u8.slice(ring.base, ring.dataAddr + 2 * ring.size)).toString("base64"), ring.wakeups);
    if (c.consumeAfter(run)) ring.consumerPos = ring.producerPos;
  }
  return { trace, slowCalls: spy.mock.calls.length };
}

const sizeMod97 = (b: ProgramBuilder): void => void b.mov(R3, R6).mul(R3, 13).mod(R3, 97);

const CASES: Record<string, Case> = {
  "sizes 0..96, BPF_RB_NO_WAKEUP, through wraps and a full ring": {
    count: 50, size: sizeMod97, flags: 1n, runs: 8, consumeAfter: (r) => r % 2 === 1,
  },
  "flags 0: a wakeup whenever the consumer waits at the new record": {
    count: 9, size: sizeMod97, flags: 0n, runs: 12, consumeAfter: (r) => r % 3 !== 0,
  },
  "BPF_RB_FORCE_WAKEUP and both flags": {
    count: 5, size: sizeMod97, flags: 3n, runs: 3, consumeAfter: () => true,
  },
  "unknown flags, and flags with high bits, are EINVAL": {
    count: 3, size: sizeMod97, flags: (1n << 32n) | 1n, runs: 2, consumeAfter: () => false,
  },
  "a record reserved before: outputs behind a busy record": {
    count: 20, size: sizeMod97, flags: 1n, reserveFirst: true, runs: 5, consumeAfter: (r) => r % 2 === 0,
  },
  "records bigger than the inline limit": {
    count: 4, size: (b) => void b.mov(R3, 300).add(R3, R6), flags: 1n, runs: 6, consumeAfter: (r) => r % 2 === 1,
  },
  "a size with high bits is EAGAIN": {
    count: 2, size: (b) => void b.ldImm64(R3, (1n << 32n) | 8n), flags: 1n, runs: 2, consumeAfter: () => false,
  },
};

describe("jit: inline bpf_ringbuf_output agrees with the helper", () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(name, () => {
      const interp = runAll("interp", c);
      const jit = runAll("jit", c);
      expect(jit.trace).toEqual(interp.trace);
    });
  }

  test("the common case never calls into the map", () => {
    const c: Case = { count: 20, size: (b) => void b.mov(R3, 24), flags: 1n, runs: 3, consumeAfter: () => true };
    const interp = runAll("interp", c);
    const jit = runAll("jit", c);
    expect(jit.trace).toEqual(interp.trace);
    expect(interp.slowCalls).toBe(60);
    expect(jit.slowCalls).toBe(0);
  });
});
