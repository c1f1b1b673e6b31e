import { describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R5, R6 } from "../../../src/isa/builder.js";
import { BPF_PSEUDO_MAP_FD } from "../../../src/isa/opcodes.js";
import { PerfEventArrayMap } from "../../../src/vm/maps/perf_event_array.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { PerfBufReader } from "../../../src/vm/readers/index.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";
import { Bytecode } from "../../../src/isa/bytecode.js";
import { FixedHost } from "./harness.js";
import { parseEvents } from "./kdiff.js";

/**
 * The helpers inside the real vm runtime (VmKernel): maps by fd, programs
 * loaded unverified, BPF_PROG_TEST_RUN through the program-type runtime —
 * here XDP, whose xdp_buff is the run state bpf_perf_event_output reads.
 */
describe("helpers in VmKernel", () => {
  test("an XDP program: perf_event_output with packet bytes, trace_printk, map update", () => {
    const k = new VmKernel({ verifierMode: "off", host: new FixedHost(), ncpus: 2 });
    const peaFd = k.mapCreate({ mapType: BPF_MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    const hashFd = k.mapCreate({ mapType: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
    const pea = k.mapObject(peaFd, "test").map as PerfEventArrayMap;
    const reader = new PerfBufReader(pea);
    const ld = (b: ProgramBuilder, r: number, fd: number): ProgramBuilder => b.raw({ kind: "ld_imm64", dst: r, pseudo: BPF_PSEUDO_MAP_FD, lo: fd, hi: 0 });
    const b = new ProgramBuilder().mov(R6, R1).st(4, FP, -8, 0x61626364).mov(R1, R6);
    ld(b, 2, peaFd);
    b.ldImm64(R3, 0xffffffffn | (6n << 32n)).mov(R4, FP).add(R4, -8).mov(R5, 4).call("bpf_perf_event_output");
    b.stx(8, FP, -16, R0).st(4, FP, -20, 7);
    ld(b, 1, hashFd);
    b.mov(R2, FP).add(R2, -20).mov(R3, FP).add(R3, -16).mov(R4, 0).call("bpf_map_update_elem");
    b.st(4, FP, -24, 0x00216968).mov(R1, FP).add(R1, -24).mov(R2, 4).call("bpf_trace_printk");
    b.mov(R0, 2).exit();
    const { fd } = k.progLoad({ progType: 6, insns: Bytecode.fromInstructions(b.build().instructions), license: "GPL", name: "xdp_helpers" });
    const packet = new Uint8Array(Array.from({ length: 60 }, (_, i) => i));
    const r = k.progTestRun(fd, { data: packet });
    expect(r.retval).toBe(2);
    const samples = reader.drain();
    expect(samples).toHaveLength(1);
    const s = samples[0] as { kind: "sample"; data: Uint8Array };
    expect([...s.data.subarray(0, 10)]).toEqual([0x64, 0x63, 0x62, 0x61, 0, 1, 2, 3, 4, 5]);
    expect(k.mapLookupElem(hashFd, new Uint8Array([7, 0, 0, 0]))).toEqual(new Uint8Array(8));
    const [e] = parseEvents(k.tracePipe.drain());
    expect(e.lines).toEqual(["hi!"]);
    expect(e.comm).toBe("vmtest");
  });
});
