import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R7, R9 } from "../../../src/isa/builder.js";
import { RingBufReader as KernelRingReader } from "../../../src/linux/index.js";
import { RingBufMap } from "../../../src/vm/maps/ringbuf.js";
import { UserRingBufMap } from "../../../src/vm/maps/user_ringbuf.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { RingBufReader } from "../../../src/vm/readers/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { Harness, type Prog, ldMap, ldMapValue } from "./harness.js";
import { kernelLoad, kernelMap, kernelRunRawTp, pinCpu } from "./kdiff.js";
import { record, words } from "./mapops.js";
import { stackBytes } from "./progs.js";

const T = BPF_MAP_TYPE;
const RING = 4096;

/**
 * One program through the ring buffer helpers; r0 of each step in the record
 * (map 0), the ring is map 1. Every reserve is released on every path, as the
 * verifier demands.
 */
function ringProg(): Prog {
  const b = new ProgramBuilder();
  ldMapValue(b, R9, 0);
  let slot = 0;
  const rec = (): void => {
    b.stx(8, R9, 8 * slot++, R0);
  };
  stackBytes(b, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 64);
  // 1: ringbuf_output(12 bytes), 2: bad flags
  ldMap(b, R1, 1);
  b.mov(R2, FP).add(R2, -64).mov(R3, 12).mov(R4, 0).call("bpf_ringbuf_output");
  rec();
  ldMap(b, R1, 1);
  b.mov(R2, FP).add(R2, -64).mov(R3, 12).mov(R4, 4).call("bpf_ringbuf_output");
  rec();
  // 3: reserve 16, fill, submit
  ldMap(b, R1, 1);
  b.mov(R2, 16).mov(R3, 0).call("bpf_ringbuf_reserve").mov(R6, R0).mov(R0, 1).jne(R6, 0, "r1").mov(R0, 0).label("r1");
  rec();
  b.jeq(R6, 0, "r1done").ldImm64(R1, 0x1122334455667788n).stx(8, R6, 0, R1).stx(8, R6, 8, R1)
    .mov(R1, R6).mov(R2, 0).call("bpf_ringbuf_submit").label("r1done");
  // 4: reserve 8, discard
  ldMap(b, R1, 1);
  b.mov(R2, 8).mov(R3, 0).call("bpf_ringbuf_reserve").mov(R6, R0).mov(R0, 1).jne(R6, 0, "r2").mov(R0, 0).label("r2");
  rec();
  b.jeq(R6, 0, "r2done").mov(R1, R6).mov(R2, 0).call("bpf_ringbuf_discard").label("r2done");
  // 5: reserve with flags: NULL
  ldMap(b, R1, 1);
  b.mov(R2, 8).mov(R3, 1).call("bpf_ringbuf_reserve").mov(R6, R0).mov(R0, 1).jne(R6, 0, "r3").mov(R0, 0).label("r3");
  rec();
  b.jeq(R6, 0, "r3done").mov(R1, R6).mov(R2, 0).call("bpf_ringbuf_discard").label("r3done");
  // 6: reserve more than the ring: NULL
  ldMap(b, R1, 1);
  b.mov(R2, RING + 8).mov(R3, 0).call("bpf_ringbuf_reserve").mov(R6, R0).mov(R0, 1).jne(R6, 0, "r4").mov(R0, 0).label("r4");
  rec();
  b.jeq(R6, 0, "r4done").mov(R1, R6).mov(R2, 0).call("bpf_ringbuf_discard").label("r4done");
  // 7..11: query
  for (const q of [0, 1, 2, 3, 99]) {
    ldMap(b, R1, 1);
    b.mov(R2, q).call("bpf_ringbuf_query");
    rec();
  }
  // 12: reserve_dynptr 24, write 8 at 0, data(8, 8) written directly, submit
  ldMap(b, R1, 1);
  b.mov(R2, 24).mov(R3, 0).mov(R4, FP).add(R4, -32).call("bpf_ringbuf_reserve_dynptr");
  rec();
  b.mov(R1, FP).add(R1, -32).mov(R2, 0).mov(R3, FP).add(R3, -64).mov(R4, 8).mov(R5, 0).call("bpf_dynptr_write");
  rec();
  b.mov(R1, FP).add(R1, -32).mov(R2, 8).mov(R3, 8).call("bpf_dynptr_data").mov(R7, R0).mov(R0, 1).jne(R7, 0, "d1").mov(R0, 0).label("d1");
  rec();
  b.jeq(R7, 0, "d1done").st(8, R7, 0, 0x5a5a).label("d1done");
  // write past the end: E2BIG
  b.mov(R1, FP).add(R1, -32).mov(R2, 20).mov(R3, FP).add(R3, -64).mov(R4, 8).mov(R5, 0).call("bpf_dynptr_write");
  rec();
  b.mov(R1, FP).add(R1, -32).mov(R2, 0).call("bpf_ringbuf_submit_dynptr");
  // 16: reserve_dynptr with flags: EINVAL (the dynptr is NULL; discarding it is a no-op)
  ldMap(b, R1, 1);
  b.mov(R2, 8).mov(R3, 1).mov(R4, FP).add(R4, -32).call("bpf_ringbuf_reserve_dynptr");
  rec();
  b.mov(R1, FP).add(R1, -32).mov(R2, 0).call("bpf_ringbuf_discard_dynptr");
  // 17: reserve_dynptr too big for the ring: EINVAL
  ldMap(b, R1, 1);
  b.mov(R2, RING * 2).mov(R3, 0).mov(R4, FP).add(R4, -32).call("bpf_ringbuf_reserve_dynptr");
  rec();
  b.mov(R1, FP).add(R1, -32).mov(R2, 0).call("bpf_ringbuf_discard_dynptr");
  // 18: query AVAIL_DATA / PROD_POS at the end
  ldMap(b, R1, 1);
  b.mov(R2, 0).call("bpf_ringbuf_query");
  rec();
  ldMap(b, R1, 1);
  b.mov(R2, 3).call("bpf_ringbuf_query");
  rec();
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

const SLOTS = 19;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function runVm(checked = true): { rec: bigint[]; records: string[]; ring: RingBufMap } {
  const h = new Harness();
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const ring = h.createMap({ mapType: T.RINGBUF, keySize: 0, valueSize: 0, maxEntries: RING }) as RingBufMap;
  h.run(h.load(ringProg(), { maps: [rec, ring], checked }));
  const records = new RingBufReader(ring).drain().map(hex);
  return { rec: words(rec.lookup(new Uint8Array(4))!, SLOTS), records, ring };
}

describe("ring buffer helpers on the vm", () => {
  test("output, reserve/submit/discard, query and the dynptr forms", () => {
    const { rec, records } = runVm();
    // Records: output (12, 8-byte header: 24 bytes), reserve 16 (24), discarded 8 (16), dynptr 24 (32).
    expect(rec).toEqual([
      0n, -22n, 1n, 1n, 0n, 0n, 64n, 4096n, 0n, 64n, 0n, 0n, 0n, 1n, -7n, -22n, -22n, 96n, 96n,
    ]);
    expect(records).toEqual([
      "0102030405060708090a0b0c",
      "88776655443322118877665544332211",
      "0102030405060708" + "5a5a000000000000" + "0000000000000000",
    ]);
  });

  test("verified programs (unchecked) behave the same", () => {
    expect(runVm(false).rec).toEqual(runVm(true).rec);
  });

  test("submitting something that is not a reserved record faults in checked mode", () => {
    const h = new Harness();
    const b = new ProgramBuilder().mov(R1, FP).add(R1, -16).st(8, FP, -16, 0).mov(R2, 0).call("bpf_ringbuf_submit").exit();
    expect(() => h.run(h.load({ insns: b.build().instructions }))).toThrow(/not a reserved ring buffer record/);
  });

  test("bpf_user_ringbuf_drain hands each committed sample to the callback as a dynptr", () => {
    const h = new Harness();
    const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 });
    const urb = h.createMap({ mapType: T.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: RING }) as UserRingBufMap;
    urb.write(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    const s = urb.reserve(8);
    h.space.u8.set([9, 9, 9, 9, 9, 9, 9, 9], s);
    urb.submit(s, true); // discarded: skipped
    urb.write(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]));
    urb.write(new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]));
    const b = new ProgramBuilder();
    ldMap(b, R1, 1);
    b.ldFunc(R2, "cb").mov(R3, 0).mov(R4, 0).call("bpf_user_ringbuf_drain");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 0, R0).mov(R0, 0).exit();
    b.label("cb");
    // cb(dynptr, ctx): read 8 bytes into the stack, add to record[1]; stop after the value 2.
    b.mov(R6, R1).mov(R1, FP).add(R1, -8).mov(R2, 8).mov(R3, R6).mov(R4, 0).mov(R5, 0).call("bpf_dynptr_read");
    ldMapValue(b, R9, 0);
    b.ldx(8, R1, FP, -8).ldx(8, R2, R9, 8).add(R2, R1).stx(8, R9, 8, R2)
      .mov(R0, 0).jne(R1, 2, "c").mov(R0, 1).label("c").exit();
    h.run(h.load({ insns: b.build().instructions }, { maps: [rec, urb] }));
    const r = record(rec.lookup(new Uint8Array(4))!, 1);
    expect(r).toEqual([2n, 3n]); // two callbacks (values 1 and 2), stopped at 2
    // The third sample is still there for the next drain.
    expect(urb.consumerPos).toBeLessThan(urb.producerPos);
  });
});

describeKernel("ring buffer helpers: vm and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test("return values, queries and the records user space reads", () => {
    const vm = runVm();
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 }, keep);
    const ring = kernelMap({ type: T.RINGBUF, keySize: 0, valueSize: 0, maxEntries: RING }, keep);
    kernelRunRawTp(kernelLoad(ringProg(), [rec, ring], keep));
    const reader = new KernelRingReader(ring);
    keep.push(reader);
    const records: string[] = [];
    reader.poll((data, off, len) => records.push(hex(data.subarray(off, off + len))));
    expect(vm.rec).toEqual(words(rec.lookup(new Uint8Array(4))!, SLOTS));
    expect(vm.records).toEqual(records);
  });
});
