/**
 * XDP PROG_TEST_RUN: the vm against the kernel (bpf_prog_test_run_xdp and the
 * XDP packet helpers), case by case: retval, data_size_out, data_out, ctx_out
 * and the errno of bad input must be identical.
 */
import { describe, expect, test } from "vitest";
import type { RunOptions } from "../../../src/api/types.js";
import { BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP } from "../../../src/vm/progtypes/constants.js";
import { TestRunNoSpaceError } from "../../../src/vm/progtypes/runtime/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { differential } from "./diff.js";
import { vmProgram } from "./harness.js";
import { ipv4Frame, pattern, xdpMd } from "./packets.js";

const PASS = "r0 = 2\nexit";
const call1 = (helper: number, arg: number): string => `r2 = ${arg}\ncall ${helper}\nexit`;
const adjHead = (n: number): string => call1(44, n);
const adjTail = (n: number): string => call1(65, n);
const adjMeta = (n: number): string => call1(54, n);
/** retval: (buff_len << 16) | (data_end - data). */
const LENS = "r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr3 -= r2\nr6 = r3\ncall 188\nr0 <<= 16\nr0 |= r6\nexit";
/** Loads `len` bytes at `off` with bpf_xdp_load_bytes; returns the first word, or the error. */
const loadBytes = (off: number, len: number): string =>
  `r2 = ${off}\nr3 = r10\nr3 += -64\nr4 = ${len}\ncall 189\nif r0 != 0 goto +1\nr0 = *(u32 *)(r10 - 64)\nexit`;
/** Stores 8 bytes 0x1122334455667788 at `off` with bpf_xdp_store_bytes; returns r0. */
const storeBytes = (off: number, len = 8): string =>
  `r2 = 0x55667788\n*(u32 *)(r10 - 8) = r2\nr2 = 0x11223344\n*(u32 *)(r10 - 4) = r2\n` +
  `r2 = ${off}\nr3 = r10\nr3 += -8\nr4 = ${len}\ncall 190\nexit`;
/** Grows metadata by 8 bytes and writes 0x11223344 at its start (direct access). */
const META_WRITE =
  "r6 = r1\nr2 = -8\ncall 54\nr2 = *(u32 *)(r6 + 8)\nr3 = *(u32 *)(r6 + 0)\nr4 = r2\nr4 += 8\n" +
  "if r4 > r3 goto +2\nr5 = 0x11223344\n*(u32 *)(r2 + 0) = r5\nr0 = 2\nexit";
/** Direct packet write: swaps the first two bytes if the packet has them. */
const SWAP =
  "r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 2\nif r4 > r3 goto +4\n" +
  "r5 = *(u8 *)(r2 + 0)\nr6 = *(u8 *)(r2 + 1)\n*(u8 *)(r2 + 0) = r6\n*(u8 *)(r2 + 1) = r5\nr0 = 3\nexit";
const READ_IFINDEX = "r0 = *(u32 *)(r1 + 12)\nr2 = *(u32 *)(r1 + 16)\nr0 <<= 8\nr0 |= r2\nexit";

interface Case {
  readonly name: string;
  readonly code: string;
  readonly options: RunOptions;
  readonly attachType?: number;
}

const p20 = pattern(20);
const cases: Case[] = [
  // sizes and data_out
  { name: "a 14-byte packet passes", code: PASS, options: { data: pattern(14) } },
  { name: "a 13-byte packet is EINVAL", code: PASS, options: { data: pattern(13) } },
  { name: "no packet is EINVAL", code: PASS, options: {} },
  { name: "3520 bytes fill the linear area", code: LENS, options: { data: pattern(3520) } },
  { name: "3521 bytes spill into a fragment", code: LENS, options: { data: pattern(3521) } },
  { name: "9000 bytes make a multi-buffer packet", code: LENS, options: { data: pattern(9000) } },
  { name: "73152 bytes use all 17 fragments", code: PASS, options: { data: pattern(73152) } },
  { name: "73153 bytes need an 18th fragment: ENOMEM", code: PASS, options: { data: pattern(73153) } },
  { name: "data_out too small: ENOSPC with what fits", code: PASS, options: { data: p20, dataOutSize: 10 } },
  { name: "multi-buffer ENOSPC keeps the fragments at the end", code: PASS, options: { data: pattern(5000), dataOutSize: 4000 } },
  { name: "multi-buffer ENOSPC, linear part cut", code: PASS, options: { data: pattern(5000), dataOutSize: 3000 } },
  { name: "multi-buffer data_out smaller than the fragments", code: PASS, options: { data: pattern(5000), dataOutSize: 1000 } },
  { name: "direct packet writes show in data_out", code: SWAP, options: { data: ipv4Frame(60) } },
  // bpf_xdp_adjust_head
  { name: "adjust_head -216 reaches the xdp_frame", code: adjHead(-216), options: { data: p20 } },
  { name: "adjust_head -217 is EINVAL", code: adjHead(-217), options: { data: p20 } },
  { name: "adjust_head +6 leaves an Ethernet header", code: adjHead(6), options: { data: p20 } },
  { name: "adjust_head +7 is EINVAL", code: adjHead(7), options: { data: p20 } },
  { name: "repeat keeps adjusting the same buffer", code: adjHead(1), options: { data: p20, repeat: 3 } },
  // bpf_xdp_adjust_tail
  { name: "adjust_tail grows to the shared-info tailroom, zeroed", code: adjTail(3500), options: { data: p20 } },
  { name: "adjust_tail past the tailroom is EINVAL", code: adjTail(3501), options: { data: p20 } },
  { name: "adjust_tail -6 leaves an Ethernet header", code: adjTail(-6), options: { data: p20 } },
  { name: "adjust_tail -7 is EINVAL", code: adjTail(-7), options: { data: p20 } },
  { name: "adjust_tail grows the last fragment", code: adjTail(100), options: { data: pattern(5000) } },
  { name: "adjust_tail beyond the fragment's page is EINVAL", code: adjTail(4000), options: { data: pattern(5000) } },
  { name: "adjust_tail frees a whole fragment", code: adjTail(-1480), options: { data: pattern(5000) } },
  { name: "adjust_tail frees a fragment and cuts the linear part", code: adjTail(-1500), options: { data: pattern(5000) } },
  { name: "adjust_tail shrinks within a fragment", code: adjTail(-100), options: { data: pattern(9000) } },
  { name: "adjust_tail cannot shrink below an Ethernet header", code: adjTail(-8990), options: { data: pattern(9000) } },
  // bpf_xdp_adjust_meta
  { name: "adjust_meta -4 shows metadata in data_out", code: adjMeta(-4), options: { data: p20 } },
  { name: "adjust_meta -216 is the most metadata", code: adjMeta(-216), options: { data: p20 } },
  { name: "adjust_meta -220 crosses the xdp_frame: EINVAL", code: adjMeta(-220), options: { data: p20 } },
  { name: "adjust_meta -3 is not a multiple of 4: EACCES", code: adjMeta(-3), options: { data: p20 } },
  { name: "adjust_meta +4 beyond data is EINVAL", code: adjMeta(4), options: { data: p20 } },
  { name: "metadata written through data_meta", code: META_WRITE, options: { data: p20 } },
  // load / store bytes
  { name: "load_bytes in the linear part", code: loadBytes(2, 8), options: { data: p20 } },
  { name: "load_bytes across into a fragment", code: loadBytes(3516, 8), options: { data: pattern(5000) } },
  { name: "load_bytes past the end is EINVAL", code: loadBytes(16, 8), options: { data: p20 } },
  { name: "load_bytes offset above 0xffff is EFAULT", code: loadBytes(0x10000, 8), options: { data: p20 } },
  { name: "store_bytes in the linear part", code: storeBytes(4), options: { data: p20 } },
  { name: "store_bytes across a fragment boundary", code: storeBytes(3516), options: { data: pattern(5000) } },
  { name: "store_bytes inside a fragment", code: storeBytes(4000), options: { data: pattern(9000) } },
  { name: "store_bytes past the end is EINVAL", code: storeBytes(13), options: { data: p20 } },
  // redirect
  { name: "bpf_redirect returns XDP_REDIRECT", code: "r1 = 5\nr2 = 0\ncall 23\nexit", options: { data: p20 } },
  { name: "bpf_redirect with flags returns XDP_ABORTED", code: "r1 = 5\nr2 = 1\ncall 23\nexit", options: { data: p20 } },
  // ctx_in / ctx_out
  { name: "the default rxq is lo, queue 0", code: READ_IFINDEX, options: { data: p20 } },
  { name: "ctx_in with ingress lo", code: READ_IFINDEX, options: { data: p20, ctx: xdpMd({ dataEnd: 20, ingress: 1 }) } },
  { name: "ctx_in rx_queue_index 1 on lo is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20, ingress: 1, rxq: 1 }) } },
  { name: "ctx_in rx_queue_index without ingress is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20, rxq: 1 }) } },
  { name: "ctx_in unknown ingress_ifindex is ENODEV", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20, ingress: 0x7ffff0 }) } },
  { name: "ctx_in egress_ifindex is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20, egress: 1 }) } },
  { name: "ctx_in data_meta is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20, dataMeta: 4 }) } },
  { name: "ctx_in data > data_end is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ data: 24, dataEnd: 20 }) } },
  { name: "ctx_in data_end > size is EINVAL", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 21 }) } },
  { name: "ctx_in metadata of 32 bytes", code: LENS, options: { data: pattern(52), ctx: xdpMd({ data: 32, dataEnd: 52 }) } },
  { name: "ctx_in metadata of 216 bytes", code: PASS, options: { data: pattern(236), ctx: xdpMd({ data: 216, dataEnd: 236 }) } },
  { name: "ctx_in metadata of 220 bytes is EINVAL", code: PASS, options: { data: pattern(240), ctx: xdpMd({ data: 220, dataEnd: 240 }) } },
  { name: "ctx_in metadata of 6 bytes is EINVAL", code: PASS, options: { data: pattern(26), ctx: xdpMd({ data: 6, dataEnd: 26 }) } },
  { name: "ctx_in metadata leaves less than an Ethernet header: EINVAL", code: PASS, options: { data: pattern(17), ctx: xdpMd({ data: 4, dataEnd: 17 }) } },
  { name: "ctx_in metadata + adjust_head to the frame", code: adjHead(-184), options: { data: pattern(52), ctx: xdpMd({ data: 32, dataEnd: 52 }) } },
  { name: "ctx_in metadata + adjust_head too far", code: adjHead(-185), options: { data: pattern(52), ctx: xdpMd({ data: 32, dataEnd: 52 }) } },
  { name: "ctx_in data_end names a 14-byte linear part", code: LENS, options: { data: pattern(100), ctx: xdpMd({ dataEnd: 14 }) } },
  { name: "ctx_in data_end names a 10-byte linear part", code: LENS, options: { data: pattern(100), ctx: xdpMd({ dataEnd: 10 }) } },
  { name: "ctx_in short (8 bytes) is zero-extended", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20 }).subarray(0, 8) } },
  { name: "ctx_in longer with a non-zero tail is E2BIG", code: PASS, options: { data: p20, ctx: Uint8Array.from([...xdpMd({ dataEnd: 20 }), 1]) } },
  { name: "ctx_in longer with a zero tail is accepted", code: PASS, options: { data: p20, ctx: Uint8Array.from([...xdpMd({ dataEnd: 20 }), 0, 0]) } },
  { name: "ctx_out alone means a zero linear part", code: adjHead(4), options: { data: p20, ctxOutSize: 24 } },
  { name: "ctx_out too small: ENOSPC", code: PASS, options: { data: p20, ctx: xdpMd({ dataEnd: 20 }), ctxOutSize: 8 } },
  { name: "data_out ENOSPC leaves ctx_out unwritten", code: PASS, options: { data: p20, dataOutSize: 5, ctx: xdpMd({ dataEnd: 20 }), ctxOutSize: 8 } },
  // flags
  { name: "BPF_F_TEST_RUN_ON_CPU is EINVAL", code: PASS, options: { data: p20, flags: 1 } },
  { name: "BPF_F_TEST_SKB_CHECKSUM_COMPLETE is EINVAL", code: PASS, options: { data: p20, flags: 4 } },
  { name: "cpu is ignored", code: PASS, options: { data: p20, cpu: 1 } },
  { name: "live frames: retval 0, data_out untouched", code: "r2 = 4\ncall 44\nr0 = 3\nexit", options: { data: p20, flags: 2, repeat: 5 } },
  { name: "live frames fit a page with its xdp_page_head", code: PASS, options: { data: pattern(3408), flags: 2 } },
  { name: "live frames cannot be multi-buffer", code: PASS, options: { data: pattern(3409), flags: 2 } },
  { name: "live frames refuse ctx_out", code: PASS, options: { data: p20, flags: 2, ctx: xdpMd({ dataEnd: 20 }) } },
  // attach types
  { name: "devmap programs cannot be test-run", code: PASS, options: { data: p20 }, attachType: BPF_XDP_DEVMAP },
];

describeKernel("xdp PROG_TEST_RUN: vm against the kernel", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { kernel, vm } = differential({ progType: BPF_PROG_TYPE_XDP, code: c.code, options: c.options, attachType: c.attachType });
      expect(vm).toEqual(kernel);
    });
  }
  test("the JIT answers like the interpreter", () => {
    const { kernel, vm } = differential({ progType: BPF_PROG_TYPE_XDP, code: META_WRITE, options: { data: p20 }, engine: "jit" });
    expect(vm).toEqual(kernel);
  });
});

describe("xdp PROG_TEST_RUN (vm)", () => {
  test("ENOSPC carries the clamped data and the full size", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_XDP, code: PASS });
    try {
      p.testRun({ data: p20, dataOutSize: 10 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TestRunNoSpaceError);
      const r = (e as TestRunNoSpaceError).result;
      expect(r.dataSizeOut).toBe(20);
      expect([...r.dataOut!]).toEqual([...p20.subarray(0, 10)]);
      expect((e as TestRunNoSpaceError).code).toBe("ENOSPC");
    } finally {
      p.dispose();
    }
  });

  test("a run frees what it allocated and unmaps its regions", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_XDP, code: adjTail(100) });
    try {
      p.testRun({ data: pattern(9000) });
      const high = p.services.space.highWater;
      for (let i = 0; i < 20; i++) p.testRun({ data: pattern(9000) });
      expect(p.services.space.highWater).toBe(high);
      // Nothing of the run stays reachable for checked programs.
      expect(p.services.space.regionOf(high - 16, 1)).toBeUndefined();
    } finally {
      p.dispose();
    }
  });

  test("a checked program cannot read past data_end", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_XDP, code: "r2 = *(u32 *)(r1 + 4)\nr0 = *(u8 *)(r2 + 0)\nexit" });
    try {
      expect(() => p.testRun({ data: p20 })).toThrow(/outside every mapped region/);
    } finally {
      p.dispose();
    }
  });

  test("a checked program cannot write the xdp_md", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_XDP, code: "r2 = 0\n*(u32 *)(r1 + 4) = r2\nr0 = 2\nexit" });
    try {
      expect(() => p.testRun({ data: p20 })).toThrow(/read-only xdp_md/);
    } finally {
      p.dispose();
    }
  });

  test("duration is the mean nanoseconds per run", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_XDP, code: PASS });
    try {
      const r = p.testRun({ data: p20, repeat: 1000 });
      expect(r.durationNs).toBeGreaterThanOrEqual(0);
      expect(r.durationNs).toBeLessThan(1e8);
    } finally {
      p.dispose();
    }
  });
});
