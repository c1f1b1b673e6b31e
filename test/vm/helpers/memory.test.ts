import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R9 } from "../../../src/isa/builder.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { describeKernel } from "../../helpers/kernel.js";
import { Harness, type Prog, ldMapValue } from "./harness.js";
import { kernelLoad, kernelMap, kernelRunRawTp, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";
import { cstr, stackBytes } from "./progs.js";

const T = BPF_MAP_TYPE;
const SRC = "hello, world"; // 12 bytes + NUL

/** Where a read comes from. */
type Src = "stack" | "null" | "guard" | "noncanonical" | "kernelhalf" | "userhalf";

interface ReadCase {
  readonly fn: string;
  readonly size: number;
  readonly src: Src;
  /** Pinned Linux 6.18 results: r0 and the first 8 bytes of the destination (pre-filled with 0xa5). */
  readonly expect?: readonly [bigint, bigint];
}

const A5 = -0x5a5a5a5a5a5a5a5bn; // 0xa5a5a5a5a5a5a5a5 as s64
const HELLO = 0x77202c6f6c6c6568n; // "hello, w"
const CASES: readonly ReadCase[] = [
  { fn: "bpf_probe_read_kernel", size: 8, src: "stack", expect: [0n, HELLO] },
  { fn: "bpf_probe_read_kernel", size: 8, src: "null", expect: [-34n, 0n] },
  { fn: "bpf_probe_read_kernel", size: 0, src: "null", expect: [-34n, A5] },
  { fn: "bpf_probe_read_kernel", size: 8, src: "guard", expect: [-34n, 0n] },
  { fn: "bpf_probe_read_kernel", size: 8, src: "noncanonical", expect: [-34n, 0n] },
  { fn: "bpf_probe_read_kernel", size: 8, src: "userhalf" },
  { fn: "bpf_probe_read", size: 8, src: "stack", expect: [0n, HELLO] },
  { fn: "bpf_probe_read", size: 8, src: "null", expect: [-14n, 0n] },
  { fn: "bpf_probe_read", size: 8, src: "noncanonical" },
  { fn: "bpf_probe_read_user", size: 8, src: "null", expect: [-14n, 0n] },
  { fn: "bpf_probe_read_user", size: 0, src: "null", expect: [0n, A5] },
  { fn: "bpf_probe_read_user", size: 8, src: "noncanonical", expect: [-14n, 0n] },
  { fn: "bpf_probe_read_kernel_str", size: 32, src: "stack", expect: [13n, HELLO] },
  { fn: "bpf_probe_read_kernel_str", size: 5, src: "stack", expect: [5n, BigInt.asIntN(64, 0xa5a5a5006c6c6568n)] },
  { fn: "bpf_probe_read_kernel_str", size: 32, src: "null", expect: [-34n, 0n] },
  { fn: "bpf_probe_read_kernel_str", size: 0, src: "null", expect: [0n, A5] },
  { fn: "bpf_probe_read_kernel_str", size: 8, src: "noncanonical" },
  { fn: "bpf_probe_read_str", size: 32, src: "stack", expect: [13n, HELLO] },
  { fn: "bpf_probe_read_str", size: 32, src: "null", expect: [-14n, 0n] },
  { fn: "bpf_probe_read_user_str", size: 32, src: "null", expect: [-14n, 0n] },
  { fn: "bpf_probe_read_user_str", size: 8, src: "userhalf" },
];

const SRC_AT = 160;
const DST_AT = 64;

function loadSrc(b: ProgramBuilder, src: Src): void {
  switch (src) {
    case "stack": b.mov(R3, FP).add(R3, -SRC_AT); break;
    case "null": b.mov(R3, 0); break;
    case "guard": b.mov(R3, 0x1000); break;
    case "noncanonical": b.ldImm64(R3, 0xdead000000000000n); break;
    case "kernelhalf": b.ldImm64(R3, 0xffffffff00000000n); break;
    case "userhalf": b.ldImm64(R3, 0x10000000000n); break;
  }
}

function readProg(cases: readonly ReadCase[]): Prog {
  const b = new ProgramBuilder();
  stackBytes(b, cstr(SRC), SRC_AT);
  cases.forEach((c, i) => {
    stackBytes(b, new Uint8Array(32).fill(0xa5), DST_AT);
    b.mov(R1, FP).add(R1, -DST_AT).mov(R2, c.size);
    loadSrc(b, c.src);
    b.call(c.fn);
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 16 * i, R0).ldx(8, R1, FP, -DST_AT).stx(8, R9, 16 * i + 8, R1);
  });
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

function runVm(prog: Prog, n: number, checked = true): bigint[] {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 16 * n, maxEntries: 1 });
  h.run(h.load(prog, { maps: [rec], checked }));
  return words(rec.lookup(new Uint8Array(4))!, 2 * n);
}

describe("probe_read helpers on the vm", () => {
  test("results and destinations, as Linux 6.18 gives them", () => {
    const pinned = CASES.filter((c) => c.expect);
    const got = runVm(readProg(pinned), pinned.length);
    pinned.forEach((c, i) => expect([got[2 * i], got[2 * i + 1]], `${c.fn}(${c.size}, ${c.src})`).toEqual(c.expect));
  });

  test("the vm's user memory is its own memory: probe_read_user and copy_from_user read mapped regions", () => {
    const b = new ProgramBuilder();
    stackBytes(b, cstr(SRC), SRC_AT);
    b.mov(R1, FP).add(R1, -DST_AT).mov(R2, 8).mov(R3, FP).add(R3, -SRC_AT).call("bpf_probe_read_user");
    b.jne(R0, 0, "out");
    b.mov(R1, FP).add(R1, -DST_AT).mov(R2, 8).mov(R3, FP).add(R3, -SRC_AT).call("bpf_copy_from_user");
    b.jne(R0, 0, "out").ldx(8, R0, FP, -DST_AT).label("out").exit();
    const h = new Harness();
    expect(h.run(h.load({ insns: b.build().instructions }))).toBe(BigInt.asUintN(64, HELLO));
  });

  test("copy_from_user of a bad address zeroes the buffer and fails with EFAULT", () => {
    const b = new ProgramBuilder();
    stackBytes(b, new Uint8Array(8).fill(0xa5), DST_AT);
    b.mov(R1, FP).add(R1, -DST_AT).mov(R2, 8).mov(R3, 0x7fff0000).call("bpf_copy_from_user")
      .ldx(8, R1, FP, -DST_AT).jeq(R1, 0, "z").mov(R0, 1).label("z").exit();
    const h = new Harness();
    expect(h.runSigned(h.load({ insns: b.build().instructions }))).toBe(-14n);
  });

  test("probe_write_user writes writable mapped memory only", () => {
    const b = new ProgramBuilder().st(8, FP, -8, 0).st(8, FP, -16, 0x77);
    b.mov(R1, FP).add(R1, -8).mov(R2, FP).add(R2, -16).mov(R3, 8).call("bpf_probe_write_user").jne(R0, 0, "out")
      .mov(R1, 0x100).mov(R2, FP).add(R2, -16).mov(R3, 8).call("bpf_probe_write_user").jne(R0, -14, "out")
      .ldx(8, R0, FP, -8).label("out").exit();
    const h = new Harness();
    expect(h.run(h.load({ insns: b.build().instructions }))).toBe(0x77n);
  });

  test("an unverified program's destination must be writable memory", () => {
    const b = new ProgramBuilder().mov(R1, 0x20).mov(R2, 8).mov(R3, FP).add(R3, -8).call("bpf_probe_read_kernel").exit();
    const h = new Harness();
    expect(() => h.run(h.load({ insns: b.build().instructions }))).toThrow(/null pointer/);
  });
});

describeKernel("probe_read helpers: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test("kernel, compat and user reads of the stack, NULL, the guard page and far addresses", () => {
    const prog = readProg(CASES);
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 16 * CASES.length, maxEntries: 1 }, keep);
    kernelRunRawTp(kernelLoad(prog, [rec], keep));
    const k = words(rec.lookup(new Uint8Array(4))!, 2 * CASES.length);
    const vm = runVm(prog, CASES.length);
    CASES.forEach((c, i) => expect([vm[2 * i], vm[2 * i + 1]], `${c.fn}(${c.size}, ${c.src})`).toEqual([k[2 * i], k[2 * i + 1]]));
  });
});
