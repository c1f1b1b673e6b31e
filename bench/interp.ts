/**
 * Interpreter speed: ns per run and ns per executed instruction, for programs
 * written in assembly, in verified mode (checked: false, what a program the
 * verifier accepted runs in) and checked mode (every access checked, as
 * unverified programs run).
 *
 *   npm run bench:interp            (compiles bench/ with tsc into bench/out, runs it)
 *   npm run bench:interp -- --quick (fewer repetitions)
 *
 * For reference: uBPF's interpreter runs about 11 ns per executed instruction on
 * the machine these numbers were first taken on.
 */
import { assembleBytecode } from "../src/isa/asm.js";
import type { Bytecode } from "../src/isa/bytecode.js";
import { DEFAULT_BUDGET, type EngineEnv } from "../src/vm/engine.js";
import { HelperRegistry } from "../src/vm/helpers/abi.js";
import { Interpreter } from "../src/vm/interp/interpreter.js";
import { AddressSpace } from "../src/vm/memory.js";

interface Case {
  readonly name: string;
  readonly what: string;
  readonly code: Bytecode;
  /** Input memory (r1 = its address, r2 = its length). */
  readonly input: Uint8Array;
  /** Expected r0, to prove the program ran to completion correctly. */
  readonly expect: bigint;
}

/** 1,000,000 iterations of six 64/32-bit ALU ops and the loop's own two. */
const ALU_LOOP = `
    r0 = 0
    r1 = 1000000
  loop:
    r0 += r1
    r2 = r0
    r2 <<= 3
    r0 ^= r2
    w3 = w0
    r0 += r3
    r1 += -1
    if r1 != 0 goto loop
    exit
`;

/**
 * The 64-bit LCG folded into an FNV hash of /work/shared/bench/progs/01_alu_lcg,
 * 1,000,000 iterations: 64-bit multiplies on every iteration.
 */
const ALU_LCG = `
    r0 = r2
    r3 = 0xcbf29ce484222325 ll
    r4 = 1000000
  loop:
    r5 = 6364136223846793005 ll
    r0 *= r5
    r5 = 1442695040888963407 ll
    r0 += r5
    r5 = r0
    r5 >>= 33
    r3 ^= r5
    r5 = 0x100000001b3 ll
    r3 *= r5
    r4 += -1
    if r4 != 0 goto loop
    r0 = r3
    r0 >>= 32
    r0 ^= r3
    w0 = w0
    exit
`;

/**
 * The byte-wise Internet-style checksum of /work/shared/bench/progs/02_xdp_csum
 * over a 1500-byte packet: even offsets are the high byte, a bounds check
 * against the end before every byte, then fold and complement.
 */
const CSUM = `
    r3 = r1
    r3 += r2          # r3 = end
    w0 = 0
    w4 = 0            # i
  loop:
    r5 = r1
    r5 += 1
    if r5 > r3 goto done
    w6 = *(u8 *)(r1 + 0)
    w7 = w4
    w7 &= 1
    if w7 != 0 goto odd
    w6 <<= 8
  odd:
    w0 += w6
    r1 += 1
    w4 += 1
    if w4 < 1500 goto loop
  done:
    w1 = w0
    w1 >>= 16
    w0 &= 0xffff
    w0 += w1
    w1 = w0
    w1 >>= 16
    w0 += w1
    w0 ^= -1
    w0 &= 0xffff
    exit
`;

function csumReference(p: Uint8Array): bigint {
  let sum = 0;
  for (let i = 0; i < p.length && i < 1500; i++) sum += i & 1 ? p[i] : p[i] << 8;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return BigInt(~sum & 0xffff);
}

function lcgReference(seed: bigint): bigint {
  const M = (1n << 64n) - 1n;
  let x = seed;
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < 1_000_000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & M;
    h ^= x >> 33n;
    h = (h * 0x100000001b3n) & M;
  }
  return (h ^ (h >> 32n)) & 0xffffffffn;
}

function aluReference(): bigint {
  const M = (1n << 64n) - 1n;
  let r0 = 0n;
  for (let r1 = 1_000_000n; r1 !== 0n; r1--) {
    r0 = (r0 + r1) & M;
    r0 ^= (r0 << 3n) & M;
    r0 = (r0 + (r0 & 0xffffffffn)) & M;
  }
  return r0;
}

const packet = Uint8Array.from({ length: 1500 }, (_, i) => (i * 131 + 7) & 0xff);
const small = new Uint8Array(64);

const cases: Case[] = [
  { name: "alu-loop", what: "1M iterations of 6 ALU ops + loop", code: assembleBytecode(ALU_LOOP), input: small, expect: aluReference() },
  { name: "alu-lcg", what: "1M iterations of a 64-bit LCG + FNV hash", code: assembleBytecode(ALU_LCG), input: small, expect: lcgReference(64n) },
  { name: "csum-1500", what: "byte checksum of a 1500-byte packet", code: assembleBytecode(CSUM), input: packet, expect: csumReference(packet) },
];

interface Result {
  readonly nsPerRun: number;
  readonly nsPerInsn: number;
  readonly insnsPerRun: number;
}

function measure(c: Case, checked: boolean, minMillis: number): Result {
  const space = new AddressSpace();
  const env: EngineEnv = { space, helpers: new HelperRegistry(), checked, budget: DEFAULT_BUDGET, cpu: 0 };
  const addr = space.allocBytes(c.input);
  space.mapRegion(addr, c.input.length, "packet", true, "input");
  const vm = new Interpreter(c.code, env);
  try {
    // Warm up until the JIT settles, and check the answer.
    const warmEnd = performance.now() + minMillis / 4;
    do {
      vm.run(addr, c.input.length);
      if (vm.lastR0() !== c.expect) throw new Error(`${c.name}: r0 = 0x${vm.lastR0().toString(16)}, expected 0x${c.expect.toString(16)}`);
    } while (performance.now() < warmEnd);
    let runs = 0;
    let insns = 0;
    const start = performance.now();
    let now = start;
    while (now - start < minMillis) {
      vm.run(addr, c.input.length);
      insns += vm.executed;
      runs++;
      now = performance.now();
    }
    const ns = (now - start) * 1e6;
    return { nsPerRun: ns / runs, nsPerInsn: ns / insns, insnsPerRun: insns / runs };
  } finally {
    vm.dispose();
  }
}

const quick = process.argv.includes("--quick");
const minMillis = quick ? 300 : 2000;
const fmt = (n: number, digits: number): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

console.log(`tsbpf interpreter, Node ${process.version}, ${quick ? "quick" : "full"} run (${minMillis} ms per measurement)`);
console.log("case       mode       insns/run      ns/run   ns/insn   what");
for (const c of cases) {
  for (const checked of [false, true]) {
    const r = measure(c, checked, minMillis);
    console.log(
      `${c.name.padEnd(10)} ${(checked ? "checked" : "verified").padEnd(8)} ${fmt(r.insnsPerRun, 0).padStart(11)} ${fmt(r.nsPerRun, 0).padStart(11)} ${fmt(r.nsPerInsn, 2).padStart(9)}   ${c.what}`,
    );
  }
}
