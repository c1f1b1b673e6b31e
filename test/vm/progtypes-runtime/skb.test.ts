/**
 * skb PROG_TEST_RUN (socket_filter, sched_cls, sched_act, cgroup_skb, lwt_*):
 * the vm against the kernel's bpf_prog_test_run_skb, field by field, for the
 * packets, ctx_in rules and flags the kernel checks.
 */
import { describe, expect, test } from "vitest";
import type { RunOptions } from "../../../src/api/types.js";
import {
  BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_LWT_IN, BPF_PROG_TYPE_LWT_OUT, BPF_PROG_TYPE_LWT_XMIT, BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
} from "../../../src/vm/progtypes/constants.js";
import { createMap } from "../../../src/vm/maps/create.js";
import { LocalStorageMap } from "../../../src/vm/maps/local_storage.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { AddressSpace } from "../../../src/vm/memory.js";
import { describeKernel } from "../../helpers/kernel.js";
import { differential } from "./diff.js";
import { TestServices, vmProgram } from "./harness.js";
import { ethFrame, ipv4Frame, ipv6Frame, pattern, skbCtx } from "./packets.js";

const TYPES: readonly [string, number][] = [
  ["socket_filter", BPF_PROG_TYPE_SOCKET_FILTER], ["sched_cls", BPF_PROG_TYPE_SCHED_CLS], ["sched_act", BPF_PROG_TYPE_SCHED_ACT],
  ["lwt_in", BPF_PROG_TYPE_LWT_IN], ["lwt_out", BPF_PROG_TYPE_LWT_OUT], ["lwt_xmit", BPF_PROG_TYPE_LWT_XMIT],
];
const read = (off: number): string => `r0 = *(u32 *)(r1 + ${off})\nexit`;
const DATA_LEN = "r2 = *(u32 *)(r1 + 76)\nr0 = *(u32 *)(r1 + 80)\nr0 -= r2\nexit";

/** Fields each type may read (per its is_valid_access), with a name. */
const FIELDS: readonly [string, number, readonly number[]][] = [
  ["len", 0, [1, 3, 4, 10, 11, 12]],
  ["pkt_type", 4, [1, 3, 4, 10, 11, 12]],
  ["mark", 8, [1, 3, 4, 10, 11, 12]],
  ["queue_mapping", 12, [1, 3, 4, 10, 11, 12]],
  ["protocol", 16, [1, 3, 4, 10, 11, 12]],
  ["vlan_present", 20, [1, 3, 4, 10, 11, 12]],
  ["priority", 32, [1, 3, 4, 10, 11, 12]],
  ["ingress_ifindex", 36, [1, 3, 4, 10, 11, 12]],
  ["ifindex", 40, [1, 3, 4, 10, 11, 12]],
  ["tc_index", 44, [1, 3, 4, 10, 11, 12]],
  ["cb[4]", 64, [1, 3, 4, 10, 11, 12]],
  ["hash", 68, [1, 3, 4, 10, 11, 12]],
  ["tc_classid", 72, [3, 4]],
  ["napi_id", 84, [1, 3, 4]],
  ["wire_len", 160, [3, 4]],
  ["gso_segs", 164, [1, 3, 4]],
  ["gso_size", 176, [1, 3, 4]],
];

const FULL_CTX = skbCtx({ 8: 7, 32: 9, 36: 3, 40: 1, 48: 0x11, 52: 0x22, 64: 0x55, 152: 1000, 160: 100, 164: 2, 176: 9, 184: 77 });

interface Case {
  readonly name: string;
  readonly progType: number;
  readonly code: string;
  readonly options: RunOptions;
}

const cases: Case[] = [];
for (const [tname, t] of TYPES) {
  for (const [fname, off, types] of FIELDS) {
    if (!types.includes(t)) continue;
    cases.push({ name: `${tname}: ${fname} of an IPv4 packet`, progType: t, code: read(off), options: { data: ipv4Frame(60) } });
    cases.push({ name: `${tname}: ${fname} with a full ctx_in`, progType: t, code: read(off), options: { data: ipv4Frame(60), ctx: FULL_CTX } });
  }
  if (t !== BPF_PROG_TYPE_SOCKET_FILTER) {
    cases.push({ name: `${tname}: data_end - data`, progType: t, code: DATA_LEN, options: { data: ipv6Frame(80) } });
  }
  const L = read(0);
  cases.push(
    { name: `${tname}: 13 bytes is EINVAL`, progType: t, code: L, options: { data: pattern(13) } },
    { name: `${tname}: 14 bytes of a non-IP frame`, progType: t, code: L, options: { data: pattern(14) } },
    { name: `${tname}: IPv4 shorter than its header is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(33) } },
    { name: `${tname}: IPv4 with a whole header`, progType: t, code: L, options: { data: ipv4Frame(34) } },
    { name: `${tname}: IPv6 shorter than its header is EINVAL`, progType: t, code: L, options: { data: ipv6Frame(53) } },
    { name: `${tname}: 3712 bytes fit`, progType: t, code: L, options: { data: ipv4Frame(3712) } },
    { name: `${tname}: 3713 bytes do not`, progType: t, code: L, options: { data: ipv4Frame(3713) } },
    { name: `${tname}: ctx_in with len set is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 0: 1 }) } },
    { name: `${tname}: ctx_in with data set is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 76: 1 }) } },
    { name: `${tname}: ctx_in wire_len below len is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 160: 10 }) } },
    { name: `${tname}: ctx_in wire_len above 64 KiB is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 160: 65537 }) } },
    { name: `${tname}: ctx_in gso_segs above GSO_MAX_SEGS is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 164: 65536 }) } },
    { name: `${tname}: ctx_in unknown ifindex is ENODEV`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: skbCtx({ 40: 0x7ffff0 }) } },
    { name: `${tname}: ctx_out shorter than __sk_buff: ENOSPC`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: FULL_CTX.subarray(0, 68), ctxOutSize: 68 } },
    { name: `${tname}: ctx_in with a non-zero tail is E2BIG`, progType: t, code: L, options: { data: ipv4Frame(60), ctx: Uint8Array.from([...FULL_CTX, 1]) } },
    { name: `${tname}: ctx_out alone`, progType: t, code: L, options: { data: ipv4Frame(60), ctxOutSize: 192 } },
    { name: `${tname}: BPF_F_TEST_RUN_ON_CPU is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), flags: 1 } },
    { name: `${tname}: cpu is EINVAL`, progType: t, code: L, options: { data: ipv4Frame(60), cpu: 1 } },
    { name: `${tname}: CHECKSUM_COMPLETE with an unchanged packet`, progType: t, code: L, options: { data: ipv4Frame(60), flags: 4 } },
    { name: `${tname}: data_out ENOSPC`, progType: t, code: L, options: { data: ipv4Frame(60), dataOutSize: 20 } },
    { name: `${tname}: 802.2 frame protocol`, progType: t, code: read(16), options: { data: ethFrame(0x0100, 60) } },
    { name: `${tname}: raw 802.3 frame protocol`, progType: t, code: read(16), options: { data: (() => { const p = ethFrame(0x0100, 60); p[14] = 0xff; p[15] = 0xff; return p; })() } },
    { name: `${tname}: broadcast pkt_type`, progType: t, code: read(4), options: { data: (() => { const p = ipv4Frame(60); p.fill(0xff, 0, 6); return p; })() } },
    { name: `${tname}: to-us pkt_type`, progType: t, code: read(4), options: { data: (() => { const p = ipv4Frame(60); p.fill(0, 0, 6); return p; })() } },
    { name: `${tname}: other-host pkt_type`, progType: t, code: read(4), options: { data: (() => { const p = ipv4Frame(60); p[0] = 2; return p; })() } },
  );
}

// cgroup_skb returns 0 or 1: it reports fields through cb[0], copied out in ctx_out.
const toCb = (off: number, size = "u32"): string => `r2 = *(${size} *)(r1 + ${off})\n*(u32 *)(r1 + 48) = r2\nr0 = 1\nexit`;
for (const [fname, off] of [["family", 88], ["remote_ip4", 92], ["local_ip4", 96], ["remote_ip6[0]", 100], ["local_ip6[3]", 128], ["remote_port", 132], ["local_port", 136], ["protocol", 16], ["len", 0], ["napi_id", 84], ["priority", 32], ["mark", 8]] as const) {
  cases.push({ name: `cgroup_skb: ${fname} of IPv4`, progType: BPF_PROG_TYPE_CGROUP_SKB, code: toCb(off), options: { data: ipv4Frame(60), ctxOutSize: 192 } });
  cases.push({ name: `cgroup_skb: ${fname} of IPv6`, progType: BPF_PROG_TYPE_CGROUP_SKB, code: toCb(off), options: { data: ipv6Frame(80), ctx: FULL_CTX } });
}
cases.push({
  name: "cgroup_skb: data_end - data", progType: BPF_PROG_TYPE_CGROUP_SKB,
  code: "r2 = *(u32 *)(r1 + 76)\nr3 = *(u32 *)(r1 + 80)\nr3 -= r2\n*(u32 *)(r1 + 48) = r3\nr0 = 1\nexit",
  options: { data: ipv4Frame(60), ctxOutSize: 192 },
});

// The socket behind __sk_buff.sk (struct bpf_sock).
const SK = (off: number): string => `r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +2\nr0 = *(u32 *)(r1 + ${off})\nexit\nr0 = 99\nexit`;
for (const [fname, off] of [["bound_dev_if", 0], ["family", 4], ["src_ip4", 24], ["src_ip6[1]", 32], ["src_port", 44], ["dst_port", 48], ["dst_ip4", 52], ["dst_ip6[3]", 68], ["state", 72], ["rx_queue_mapping", 76]] as const) {
  cases.push({ name: `sched_cls: sk->${fname} of IPv4`, progType: BPF_PROG_TYPE_SCHED_CLS, code: SK(off), options: { data: ipv4Frame(60) } });
  cases.push({ name: `sched_cls: sk->${fname} of IPv6`, progType: BPF_PROG_TYPE_SCHED_CLS, code: SK(off), options: { data: ipv6Frame(80) } });
}
// bpf_sk_fullsock (#95): the test run's socket is a full one, so the helper gives it back (1: the same pointer).
const FULLSOCK_SAME =
  "r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +8\nr6 = r1\ncall 95\nif r0 == 0 goto +7\nr1 = 1\nif r0 == r6 goto +1\nr1 = 2\nr0 = r1\nexit\n" +
  "r0 = 99\nexit\nr0 = 98\nexit";
const FULLSOCK_FAMILY = "r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +4\ncall 95\nif r0 == 0 goto +2\nr0 = *(u32 *)(r0 + 4)\nexit\nr0 = 99\nexit";
cases.push(
  { name: "sched_cls: bpf_sk_fullsock(skb->sk) is skb->sk", progType: BPF_PROG_TYPE_SCHED_CLS, code: FULLSOCK_SAME, options: { data: ipv4Frame(60) } },
  { name: "sched_cls: family through bpf_sk_fullsock of IPv4", progType: BPF_PROG_TYPE_SCHED_CLS, code: FULLSOCK_FAMILY, options: { data: ipv4Frame(60) } },
  { name: "sched_cls: family through bpf_sk_fullsock of IPv6", progType: BPF_PROG_TYPE_SCHED_CLS, code: FULLSOCK_FAMILY, options: { data: ipv6Frame(80) } },
);
// bpf_tcp_sock (#96) and bpf_get_listener_sock (#98) on the test run's socket: it is neither TCP nor listening (NULL: 7).
const SOCK_CAST = (id: number): string =>
  `r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +6\ncall ${id}\nif r0 == 0 goto +2\nr0 = 1\nexit\nr0 = 7\nexit\nr0 = 99\nexit`;
cases.push(
  { name: "sched_cls: bpf_tcp_sock(skb->sk)", progType: BPF_PROG_TYPE_SCHED_CLS, code: SOCK_CAST(96), options: { data: ipv4Frame(60) } },
  { name: "sched_cls: bpf_get_listener_sock(skb->sk)", progType: BPF_PROG_TYPE_SCHED_CLS, code: SOCK_CAST(98), options: { data: ipv4Frame(60) } },
);

// Program writes and what ctx_out reports.
cases.push(
  { name: "sched_cls: writes to mark, priority, cb and tstamp reach ctx_out", progType: BPF_PROG_TYPE_SCHED_CLS,
    code: "r2 = 77\n*(u32 *)(r1 + 8) = r2\n*(u32 *)(r1 + 32) = r2\n*(u32 *)(r1 + 56) = r2\n*(u64 *)(r1 + 152) = r2\nr0 = 0\nexit",
    options: { data: ipv4Frame(60), ctx: FULL_CTX } },
  { name: "cgroup_skb: writes to mark reach ctx_out", progType: BPF_PROG_TYPE_CGROUP_SKB,
    code: "r2 = 78\n*(u32 *)(r1 + 8) = r2\nr0 = 1\nexit", options: { data: ipv4Frame(60), ctx: FULL_CTX } },
  { name: "socket_filter: cb writes accumulate over repeats", progType: BPF_PROG_TYPE_SOCKET_FILTER,
    code: "r2 = *(u32 *)(r1 + 48)\nr2 += 1\n*(u32 *)(r1 + 48) = r2\nr0 = r2\nexit", options: { data: ipv4Frame(60), ctx: FULL_CTX, repeat: 5 } },
  { name: "sched_cls: direct writes show in data_out", progType: BPF_PROG_TYPE_SCHED_CLS,
    code: "r2 = *(u32 *)(r1 + 76)\nr3 = *(u32 *)(r1 + 80)\nr4 = r2\nr4 += 1\nif r4 > r3 goto +2\nr5 = 0xee\n*(u8 *)(r2 + 0) = r5\nr0 = 0\nexit",
    options: { data: ipv4Frame(60) } },
);

// Legacy packet loads.
for (const [tname, t] of [["socket_filter", BPF_PROG_TYPE_SOCKET_FILTER], ["sched_cls", BPF_PROG_TYPE_SCHED_CLS]] as const) {
  for (const [what, insn] of [
    ["ldabsb 0", "r0 = *(u8 *)skb[0]"], ["ldabsh 12", "r0 = *(u16 *)skb[12]"], ["ldabsw 2", "r0 = *(u32 *)skb[2]"],
    ["ldabsb last", "r0 = *(u8 *)skb[59]"], ["ldabsb past the end", "r0 = *(u8 *)skb[60]"],
    ["ldindh", "r7 = 10\nr0 = *(u16 *)skb[r7 + 4]"],
    ["ldabsb at the MAC header (SKF_LL_OFF)", "r0 = *(u8 *)skb[-2097152]"],
    ["ldabsw in the MAC header", "r0 = *(u32 *)skb[-2097144]"],
    ["ldabsh at the network header (SKF_NET_OFF)", "r0 = *(u16 *)skb[-1048576]"],
    ["ldabsb past the end from the network header", "r0 = *(u8 *)skb[-1048530]"],
    ["ldabsb below SKF_LL_OFF", "r0 = *(u8 *)skb[-2097153]"],
    ["ldindb negative", "r7 = -1048576\nr0 = *(u8 *)skb[r7 + 9]"],
  ] as const) {
    cases.push({ name: `${tname}: ${what}`, progType: t, code: `r6 = r1\n${insn}\nexit`, options: { data: ipv4Frame(60) } });
  }
}

describeKernel("skb PROG_TEST_RUN: vm against the kernel", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { kernel, vm } = differential({ progType: c.progType, code: c.code, options: c.options });
      expect(vm).toEqual(kernel);
    });
  }
  for (const c of cases.filter((x) => x.code.includes("skb["))) {
    test(`${c.name} (JIT)`, () => {
      const { kernel, vm } = differential({ progType: c.progType, code: c.code, options: c.options, engine: "jit" });
      expect(vm).toEqual(kernel);
    });
  }
});

describe("skb PROG_TEST_RUN (vm)", () => {
  test("socket filters see the Ethernet header zeroed in data_out", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_SOCKET_FILTER, code: read(0) });
    try {
      const r = p.testRun({ data: ipv4Frame(60) });
      expect(r.retval).toBe(46);
      expect([...r.dataOut!.subarray(0, 14)]).toEqual(new Array(14).fill(0));
      expect([...r.dataOut!.subarray(14)]).toEqual([...ipv4Frame(60).subarray(14)]);
    } finally {
      p.dispose();
    }
  });

  test("a helper that grows the address space mid-run leaves the results intact", () => {
    const space = new AddressSpace({ initialBytes: 4 * 65536 });
    const p = vmProgram({ progType: BPF_PROG_TYPE_SCHED_CLS, space, code: "r6 = r1\nr2 = 9000\nr3 = 0\ncall 38\nr2 = 5\n*(u32 *)(r6 + 48) = r2\nr0 = 0\nexit" });
    try {
      // Leave too little room for the grown skb, so its reallocation grows the memory.
      space.alloc(space.byteLength - space.highWater - 2048);
      const before = space.byteLength;
      const frame = ipv4Frame(60);
      const r = p.testRun({ data: frame, ctx: skbCtx() });
      expect(space.byteLength).toBeGreaterThan(before);
      expect(r.dataSizeOut).toBe(9000);
      expect([...r.dataOut!.subarray(0, 60)]).toEqual([...frame]);
      expect(r.dataOut!.subarray(60).every((b) => b === 0)).toBe(true);
      expect(new DataView(r.ctxOut!.buffer, r.ctxOut!.byteOffset).getUint32(48, true)).toBe(5);
    } finally {
      p.dispose();
    }
  });

  test("sk storage dies with the test run's socket (bpf_sk_storage_free): each run starts without it", () => {
    const services = new TestServices(new AddressSpace());
    const m = createMap(services.space, {
      mapType: BPF_MAP_TYPE.SK_STORAGE, keySize: 4, valueSize: 8, maxEntries: 0, mapFlags: 1 /* BPF_F_NO_PREALLOC */, btfKeyTypeId: 1, btfValueTypeId: 2,
    });
    if (!(m instanceof LocalStorageMap)) throw new Error("not a local storage map");
    services.maps.set(m.addr, m);
    // 1: storage found without F_CREATE; 2: not created; 0: created and written. Repeats share the socket: 1 after the first.
    const get = (flags: number): string => `r1 = ${m.addr} ll\nr2 = r6\nr3 = 0\nr4 = ${flags}\ncall 107\n`;
    const code = `r6 = *(u64 *)(r1 + 168)\nif r6 == 0 goto +20\n${get(0)}if r0 != 0 goto +11\n${get(1)}if r0 == 0 goto +6\n` +
      "r1 = 5\n*(u64 *)(r0 + 0) = r1\nr0 = 0\nexit\nr0 = 1\nexit\nr0 = 2\nexit";
    const p = vmProgram({ progType: BPF_PROG_TYPE_SCHED_CLS, code, services });
    try {
      expect(p.testRun({ data: ipv4Frame(60) }).retval).toBe(0);
      expect(m.size).toBe(0);
      expect(p.testRun({ data: ipv4Frame(60), repeat: 3 }).retval).toBe(1);
      expect(p.testRun({ data: ipv4Frame(60) }).retval).toBe(0);
      expect(m.size).toBe(0);
    } finally {
      p.dispose();
      m.dispose();
    }
  });

  test("repeated runs reuse the memory they free", () => {
    const p = vmProgram({ progType: BPF_PROG_TYPE_SCHED_CLS, code: read(0) });
    try {
      p.testRun({ data: ipv4Frame(3000) });
      const high = p.services.space.highWater;
      for (let i = 0; i < 10; i++) p.testRun({ data: ipv4Frame(3000) });
      expect(p.services.space.highWater).toBe(high);
    } finally {
      p.dispose();
    }
  });
});
