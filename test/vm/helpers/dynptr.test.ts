import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R5, R9 } from "../../../src/isa/builder.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { describeKernel } from "../../helpers/kernel.js";
import { Harness, type Prog, ldMapValue } from "./harness.js";
import { kernelLoad, kernelMap, kernelRunRawTp, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";

const T = BPF_MAP_TYPE;
const DP = 32; // struct bpf_dynptr at r10-32
const DP2 = 16; // a second one at r10-16
const DST = 80; // 8 bytes at r10-80

/** Local dynptrs: from_mem, read, write, data, errors; r0s (and a few bytes) in the record. */
function dynptrProg(): Prog {
  const b = new ProgramBuilder();
  let slot = 0;
  const rec = (): void => {
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8 * slot++, R0);
  };
  b.st(8, FP, -DST, 0);
  const dp = (off: number): void => void b.mov(R4, FP).add(R4, -off);
  // from_mem(buf, 16, 0, dp): the kernel takes map values (not the stack) as dynptr memory.
  ldMapValue(b, R1, 1);
  b.mov(R2, 16).mov(R3, 0);
  dp(DP);
  b.call("bpf_dynptr_from_mem");
  rec();
  // read 8 at 4; read 8 at 12 (E2BIG); read with flags (EINVAL)
  for (const [off, flags] of [[4, 0], [12, 0], [0, 1]]) {
    b.mov(R1, FP).add(R1, -DST).mov(R2, 8).mov(R3, FP).add(R3, -DP).mov(R4, off).mov(R5, flags).call("bpf_dynptr_read");
    rec();
  }
  b.ldx(8, R0, FP, -DST);
  rec();
  // write 4 bytes of DST at offset 12; at offset 13 (E2BIG); with flags (EINVAL)
  for (const [off, flags] of [[12, 0], [13, 0], [0, 2]]) {
    b.mov(R1, FP).add(R1, -DP).mov(R2, off).mov(R3, FP).add(R3, -DST).mov(R4, 4).mov(R5, flags).call("bpf_dynptr_write");
    rec();
  }
  ldMapValue(b, R1, 1);
  b.ldx(8, R0, R1, 8);
  rec();
  // data(0, 8) non-NULL; data(12, 8) NULL
  for (const off of [0, 12]) {
    b.mov(R1, FP).add(R1, -DP).mov(R2, off).mov(R3, 8).call("bpf_dynptr_data").mov(R1, 1).jne(R0, 0, `d${off}`).mov(R1, 0).label(`d${off}`).mov(R0, R1);
    rec();
  }
  // from_mem with flags: EINVAL and a NULL dynptr, which read refuses (EINVAL)
  ldMapValue(b, R1, 1);
  b.mov(R2, 16).mov(R3, 1);
  dp(DP2);
  b.call("bpf_dynptr_from_mem");
  rec();
  b.mov(R1, FP).add(R1, -DST).mov(R2, 1).mov(R3, FP).add(R3, -DP2).mov(R4, 0).mov(R5, 0).call("bpf_dynptr_read");
  rec();
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}
const SLOTS = 13;

const BYTES = new Uint8Array(Array.from({ length: 16 }, (_, i) => 0x10 + i));

function runVm(checked = true): bigint[] {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const buf = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 });
  buf.update(new Uint8Array(4), BYTES);
  h.run(h.load(dynptrProg(), { maps: [rec, buf], checked }));
  return words(rec.lookup(new Uint8Array(4))!, SLOTS);
}

describe("dynptr helpers on the vm", () => {
  test("local dynptrs: bounds (E2BIG), flags (EINVAL), NULL dynptrs", () => {
    const r = runVm();
    expect(r).toEqual([
      0n, 0n, -7n, -22n, 0x1b1a191817161514n,
      0n, -7n, -22n, 0x17161514_1b1a1918n,
      1n, 0n, -22n, -22n,
    ]);
    expect(runVm(false)).toEqual(r);
  });
});

describeKernel("dynptr helpers: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test("from_mem, read, write, data", () => {
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 }, keep);
    const buf = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 }, keep);
    buf.update(new Uint8Array(4), BYTES);
    kernelRunRawTp(kernelLoad(dynptrProg(), [rec, buf], keep));
    expect(runVm()).toEqual(words(rec.lookup(new Uint8Array(4))!, SLOTS));
  });
});
