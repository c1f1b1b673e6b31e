/**
 * skb packet helpers against the kernel, through PROG_TEST_RUN of tc (and
 * other skb) programs: r0 and the packet afterwards must be identical.
 */
import { expect, test } from "vitest";
import type { RunOptions } from "../../../src/api/types.js";
import {
  BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_LWT_XMIT, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
} from "../../../src/vm/progtypes/constants.js";
import { describeKernel } from "../../helpers/kernel.js";
import { differential } from "../progtypes-runtime/diff.js";
import { ethFrame, ipv4Frame, ipv6Frame, skbCtx, vlanFrame } from "../progtypes-runtime/packets.js";

const TC = BPF_PROG_TYPE_SCHED_CLS;
/** r6 = ctx, then `body`; the body leaves its result in r0. */
const prog = (body: string): string => `r6 = r1\n${body}\nexit`;
const loadBytes = (off: number, len: number): string =>
  prog(`r2 = ${off}\nr3 = r10\nr3 += -64\nr4 = ${len}\ncall 26\nif r0 != 0 goto +1\nr0 = *(u32 *)(r10 - 64)`);
const loadRel = (off: number, len: number, hdr: number): string =>
  prog(`r2 = ${off}\nr3 = r10\nr3 += -64\nr4 = ${len}\nr5 = ${hdr}\ncall 68\nif r0 != 0 goto +1\nr0 = *(u32 *)(r10 - 64)`);
const STACK8 = "r2 = 0x55667788\n*(u32 *)(r10 - 8) = r2\nr2 = 0x11223344\n*(u32 *)(r10 - 4) = r2\n";
const store = (off: number, len: number, flags: number | string): string =>
  prog(`${STACK8}r2 = ${off}\nr3 = r10\nr3 += -8\nr4 = ${len}\nr5 = ${flags}\ncall 9`);
const call2 = (id: number, a: number | string): string => prog(`r2 = ${a}\ncall ${id}`);
const call3 = (id: number, a: number | string, b: number | string): string => prog(`r2 = ${a}\nr3 = ${b}\ncall ${id}`);
/** Helper, then r0 = (helper r0 << 16) | ctx field at `off` (low 16 bits). */
const thenField = (call: string, off: number): string =>
  `r6 = r1\n${call}\nr0 <<= 16\nr2 = *(u32 *)(r6 + ${off})\nr2 &= 0xffff\nr0 |= r2\nexit`;
const l3 = (off: number, from: string, to: string, flags: number): string => prog(`r2 = ${off}\nr3 = ${from}\nr4 = ${to}\nr5 = ${flags}\ncall 10`);
const l4 = (off: number, from: string, to: string, flags: number): string => prog(`r2 = ${off}\nr3 = ${from}\nr4 = ${to}\nr5 = ${flags}\ncall 11`);
const diff = (fromSize: number, toSize: number, seed: string): string =>
  prog(`r2 = 0x01020304\n*(u32 *)(r10 - 8) = r2\nr2 = 0xf0e0d0c0 ll\n*(u32 *)(r10 - 4) = r2\n` +
    `r2 = 0x0a0b0c0d\n*(u32 *)(r10 - 16) = r2\nr2 = 0x7f6f5f4f\n*(u32 *)(r10 - 12) = r2\n` +
    `r1 = ${fromSize ? "r10\nr1 += -8" : "0"}\nr2 = ${fromSize}\nr3 = ${toSize ? "r10\nr3 += -16" : "0"}\nr4 = ${toSize}\nr5 = ${seed}\ncall 28`);

interface Case {
  readonly name: string;
  readonly code: string;
  readonly options: RunOptions;
  readonly progType?: number;
}

const v4 = ipv4Frame(60);
const v6 = ipv6Frame(80);
const cases: Case[] = [
  // bpf_skb_load_bytes / _relative
  { name: "load_bytes at 0", code: loadBytes(0, 8), options: { data: v4 } },
  { name: "load_bytes to the last byte", code: loadBytes(52, 8), options: { data: v4 } },
  { name: "load_bytes past the end is EFAULT", code: loadBytes(53, 8), options: { data: v4 } },
  { name: "load_bytes with a huge offset is EFAULT", code: loadBytes(-1, 4), options: { data: v4 } },
  { name: "socket_filter load_bytes starts at the network header", code: loadBytes(0, 4), options: { data: v4 }, progType: BPF_PROG_TYPE_SOCKET_FILTER },
  { name: "load_bytes_relative from the MAC header", code: loadRel(0, 8, 0), options: { data: v4 } },
  { name: "load_bytes_relative from the network header", code: loadRel(2, 8, 1), options: { data: v4 } },
  { name: "load_bytes_relative past the end is EFAULT", code: loadRel(40, 8, 1), options: { data: v4 } },
  { name: "load_bytes_relative bad header is EFAULT", code: loadRel(0, 4, 2), options: { data: v4 } },
  { name: "load_bytes_relative offset above 0xffff is EFAULT", code: loadRel(0x10000, 4, 0), options: { data: v4 } },
  { name: "socket_filter load_bytes_relative sees the MAC header", code: loadRel(0, 4, 0), options: { data: v4 }, progType: BPF_PROG_TYPE_SOCKET_FILTER },
  { name: "cgroup_skb load_bytes_relative from the network header", code: `${loadRel(12, 4, 1).slice(0, -5)}\nr0 &= 1\nexit`, options: { data: v4 }, progType: BPF_PROG_TYPE_CGROUP_SKB },
  // bpf_skb_store_bytes
  { name: "store_bytes", code: store(20, 8, 0), options: { data: v4 } },
  { name: "store_bytes at the very end", code: store(52, 8, 0), options: { data: v4 } },
  { name: "store_bytes past the end is EFAULT", code: store(53, 8, 0), options: { data: v4 } },
  { name: "store_bytes with bad flags is EINVAL", code: store(20, 8, 4), options: { data: v4 } },
  { name: "store_bytes BPF_F_INVALIDATE_HASH clears a set hash", code: prog(`r2 = 0x1234\ncall 48\nr1 = r6\n${STACK8}r2 = 20\nr3 = r10\nr3 += -8\nr4 = 8\nr5 = 2\ncall 9\nr0 = *(u32 *)(r6 + 68)`), options: { data: v4 } },
  { name: "store_bytes without recompute breaks CHECKSUM_COMPLETE: EBADMSG", code: store(20, 8, 0), options: { data: v4, flags: 4 } },
  { name: "store_bytes BPF_F_RECOMPUTE_CSUM keeps CHECKSUM_COMPLETE", code: store(20, 8, 1), options: { data: v4, flags: 4 } },
  { name: "store_bytes recompute at an odd offset", code: store(21, 7, 1), options: { data: v4, flags: 4 } },
  { name: "lwt_xmit store_bytes", code: store(4, 8, 0), options: { data: v4 }, progType: BPF_PROG_TYPE_LWT_XMIT },
  // pull / change head / change tail
  { name: "pull_data 0", code: call2(39, 0), options: { data: v4 } },
  { name: "pull_data the whole packet", code: call2(39, 60), options: { data: v4 } },
  { name: "pull_data beyond the packet is ENOMEM", code: call2(39, 61), options: { data: v4 } },
  { name: "change_head adds zeroed room", code: thenField(`r2 = 14\nr3 = 0\ncall 43`, 0), options: { data: v4 } },
  { name: "change_head beyond the headroom reallocates", code: call3(43, 200, 0), options: { data: v4 } },
  { name: "change_head with flags is EINVAL", code: call3(43, 14, 1), options: { data: v4 } },
  { name: "change_head beyond BPF_SKB_MAX_LEN is EINVAL", code: call3(43, 16005, 0), options: { data: v4 } },
  { name: "change_tail grows, zeroed", code: thenField(`r2 = 100\nr3 = 0\ncall 38`, 0), options: { data: v4 } },
  { name: "change_tail grows past the page", code: call3(38, 9000, 0), options: { data: v4 } },
  { name: "change_tail trims", code: call3(38, 20, 0), options: { data: v4 } },
  { name: "change_tail keeps the MAC header: 13 is EINVAL", code: call3(38, 13, 0), options: { data: v4 } },
  { name: "change_tail to the MAC header", code: call3(38, 14, 0), options: { data: v4 } },
  { name: "change_tail beyond BPF_SKB_MAX_LEN is EINVAL", code: call3(38, 16065, 0), options: { data: v4 } },
  { name: "change_tail with flags is EINVAL", code: call3(38, 60, 1), options: { data: v4 } },
  { name: "change_tail under CHECKSUM_COMPLETE", code: call3(38, 70, 0), options: { data: v4, flags: 4 } },
  // adjust_room
  { name: "adjust_room grows at the MAC header", code: prog(`r2 = 8\nr3 = 1\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room grows after the IP header", code: prog(`r2 = 8\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room shrinks after the IP header", code: prog(`r2 = -8\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room shrinks at the MAC header", code: prog(`r2 = -20\nr3 = 1\nr4 = 0\ncall 50`), options: { data: ipv4Frame(80) } },
  { name: "adjust_room cannot shrink below the IP header", code: prog(`r2 = -27\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room IPv6 grows", code: prog(`r2 = 16\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v6 } },
  { name: "adjust_room on ARP is ENOTSUPP", code: prog(`r2 = 8\nr3 = 0\nr4 = 0\ncall 50`), options: { data: ethFrame(0x0806, 60) } },
  { name: "adjust_room bad mode is ENOTSUPP", code: prog(`r2 = 8\nr3 = 2\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room more than 0xfff is EFAULT", code: prog(`r2 = 4096\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4 } },
  { name: "adjust_room bad flags are EINVAL", code: prog(`r2 = 8\nr3 = 0\nr4 = 0x200\ncall 50`), options: { data: v4 } },
  { name: "adjust_room IPIP encap turns IPv4 into IPv6", code: thenField(`r2 = 40\nr3 = 1\nr4 = 4\ncall 50`, 16), options: { data: v4 } },
  { name: "adjust_room encap with both L3 flags is EINVAL", code: prog(`r2 = 40\nr3 = 1\nr4 = 6\ncall 50`), options: { data: v4 } },
  { name: "adjust_room encap GRE + UDP is EINVAL", code: prog(`r2 = 40\nr3 = 1\nr4 = 26\ncall 50`), options: { data: v4 } },
  { name: "adjust_room encap L2 with a short inner MAC is EINVAL", code: prog(`r2 = 40\nr3 = 1\nr4 = 0x0a00000000000042 ll\ncall 50`), options: { data: v4 } },
  { name: "adjust_room encap L2 with an inner Ethernet header", code: prog(`r2 = 48\nr3 = 1\nr4 = 0x0e00000000000052 ll\ncall 50`), options: { data: v4 } },
  { name: "adjust_room encap twice is EALREADY", code: prog(`r2 = 20\nr3 = 1\nr4 = 2\ncall 50\nr1 = r6\nr2 = 20\nr3 = 1\nr4 = 2\ncall 50`), options: { data: v4 } },
  { name: "adjust_room decap IPv6 in IPv4", code: thenField(`r2 = -20\nr3 = 1\nr4 = 0x100\ncall 50`, 16), options: { data: ipv4Frame(100) } },
  { name: "adjust_room decap while growing is EINVAL", code: prog(`r2 = 20\nr3 = 1\nr4 = 0x80\ncall 50`), options: { data: v4 } },
  // change_proto / change_type
  { name: "change_proto IPv4 to IPv6", code: thenField(`r2 = 0xdd86\nr3 = 0\ncall 31`, 16), options: { data: v4 } },
  { name: "change_proto IPv6 to IPv4", code: thenField(`r2 = 0x0008\nr3 = 0\ncall 31`, 16), options: { data: v6 } },
  { name: "change_proto to ARP is ENOTSUPP", code: call3(31, "0x0608", 0), options: { data: v4 } },
  { name: "change_proto with flags is EINVAL", code: call3(31, "0xdd86", 1), options: { data: v4 } },
  { name: "change_type to PACKET_OTHERHOST", code: thenField(`r2 = 3\ncall 32`, 4), options: { data: v4 } },
  { name: "change_type to 4 is EINVAL", code: call2(32, 4), options: { data: v4 } },
  // VLAN
  { name: "vlan_push sets the accelerated tag", code: thenField(`r2 = 0x0081\nr3 = 5\ncall 18`, 24), options: { data: v4 } },
  { name: "vlan_push reports vlan_proto", code: thenField(`r2 = 0xa888\nr3 = 5\ncall 18`, 28), options: { data: v4 } },
  { name: "vlan_push with an odd proto uses 802.1Q", code: thenField(`r2 = 0x1234\nr3 = 5\ncall 18`, 28), options: { data: v4 } },
  { name: "vlan_push twice puts the first tag in the packet", code: prog(`r2 = 0x0081\nr3 = 5\ncall 18\nr1 = r6\nr2 = 0xa888\nr3 = 7\ncall 18\nr0 = *(u32 *)(r6 + 16)`), options: { data: v4 } },
  { name: "vlan_pop of the accelerated tag", code: prog(`r2 = 0x0081\nr3 = 5\ncall 18\nr1 = r6\ncall 19\nr0 = *(u32 *)(r6 + 20)`), options: { data: v4 } },
  { name: "vlan_pop of a tag in the packet", code: thenField(`call 19`, 16), options: { data: vlanFrame(64, 0x123) } },
  { name: "vlan_pop of QinQ moves the inner tag to the accelerator", code: thenField(`call 19`, 24), options: { data: (() => { const p = vlanFrame(68, 0x123); p.copyWithin(18, 14); p[16] = 0x81; p[17] = 0; p[18] = 0; p[19] = 9; return p; })() } },
  { name: "vlan_pop of an untagged packet", code: call2(19, 0), options: { data: v4 } },
  // hashes and classids
  { name: "set_hash then the hash field", code: thenField(`r2 = 0xabcd\ncall 48`, 68), options: { data: v4 } },
  { name: "set_hash then get_hash_recalc", code: prog(`r2 = 0x12345678\ncall 48\nr1 = r6\ncall 34`), options: { data: v4 } },
  { name: "set_hash_invalid clears it", code: prog(`r2 = 0x1234\ncall 48\nr1 = r6\ncall 41\nr0 = *(u32 *)(r6 + 68)`), options: { data: v4 } },
  { name: "get_cgroup_classid", code: prog("call 17"), options: { data: v4 } },
  { name: "get_route_realm without a route", code: prog("call 24"), options: { data: v4 } },
  // checksums
  { name: "l3_csum_replace 4 bytes", code: l3(24, "0x0d0c0b0a", "0x04030201", 4), options: { data: v4 } },
  { name: "l3_csum_replace 2 bytes", code: l3(24, "0x0b0a", "0x0201", 2), options: { data: v4 } },
  { name: "l3_csum_replace by diff", code: l3(24, "0", "0x1234abcd", 0), options: { data: v4 } },
  { name: "l3_csum_replace diff with from is EINVAL", code: l3(24, "1", "0x1234", 0), options: { data: v4 } },
  { name: "l3_csum_replace odd offset is EFAULT", code: l3(25, "0", "0x1234", 0), options: { data: v4 } },
  { name: "l3_csum_replace past the end is EFAULT", code: l3(60, "0", "0x1234", 0), options: { data: v4 } },
  { name: "l3_csum_replace size 3 is EINVAL", code: l3(24, "0", "0x1234", 3), options: { data: v4 } },
  { name: "l3_csum_replace with L4 flags is EINVAL", code: l3(24, "0", "0x1234", 0x14), options: { data: v4 } },
  { name: "l3_csum_replace with 64-bit values", code: l3(24, "0x1122334455667788 ll", "0x99aabbccddeeff00 ll", 4), options: { data: v4 } },
  { name: "l4_csum_replace 4 bytes with pseudo header", code: l4(40, "0x0d0c0b0a", "0x04030201", 0x14), options: { data: v4 } },
  { name: "l4_csum_replace 2 bytes", code: l4(40, "0x0b0a", "0x0201", 2), options: { data: v4 } },
  { name: "l4_csum_replace by diff", code: l4(40, "0", "0xfedc", 0x10), options: { data: v4 } },
  { name: "l4_csum_replace mangled-0 leaves a zero sum", code: l4(40, "0x0b0a", "0x0201", 0x22), options: { data: (() => { const p = ipv4Frame(60); p[40] = 0; p[41] = 0; return p; })() } },
  { name: "l4_csum_replace mangled-0 enforced", code: l4(40, "0x0b0a", "0x0201", 0x62), options: { data: (() => { const p = ipv4Frame(60); p[40] = 0; p[41] = 0; return p; })() } },
  { name: "l4_csum_replace mangled-0 turns 0 into 0xffff", code: l4(40, "0", "0x0000ffff", 0x20), options: { data: (() => { const p = ipv4Frame(60); p[40] = 0xff; p[41] = 0xff; return p; })() } },
  { name: "l4_csum_replace IPv6 pseudo diff", code: l4(54, "0", "0x1234", 0x90), options: { data: v6 } },
  { name: "l4_csum_replace bad flags are EINVAL", code: l4(40, "0", "0x1234", 0x100), options: { data: v4 } },
  { name: "l4_csum_replace pseudo under CHECKSUM_COMPLETE", code: l4(40, "0x0d0c0b0a", "0x04030201", 0x14), options: { data: v4, flags: 4 } },
  { name: "csum_diff from and to", code: diff(8, 8, "0"), options: { data: v4 } },
  { name: "csum_diff to only, seeded", code: diff(0, 8, "0x1234"), options: { data: v4 } },
  { name: "csum_diff from only, seeded", code: diff(8, 0, "0xffff"), options: { data: v4 } },
  { name: "csum_diff of odd sizes", code: diff(3, 7, "5"), options: { data: v4 } },
  { name: "csum_diff of nothing", code: diff(0, 0, "0x12345678"), options: { data: v4 } },
  { name: "csum_diff with an all-ones seed", code: diff(4, 4, "0xffffffff ll"), options: { data: v4 } },
  { name: "csum_update without CHECKSUM_COMPLETE is ENOTSUPP", code: call2(40, "0x1234"), options: { data: v4 } },
  { name: "csum_update under CHECKSUM_COMPLETE", code: call2(40, 0), options: { data: v4, flags: 4 } },
  { name: "csum_level query on CHECKSUM_NONE is EACCES", code: call2(135, 0), options: { data: v4 } },
  { name: "csum_level inc then query", code: prog(`r2 = 1\ncall 135\nr1 = r6\nr2 = 1\ncall 135\nr1 = r6\nr2 = 0\ncall 135`), options: { data: v4 } },
  { name: "csum_level inc, dec, query", code: prog(`r2 = 1\ncall 135\nr1 = r6\nr2 = 2\ncall 135\nr1 = r6\nr2 = 0\ncall 135`), options: { data: v4 } },
  { name: "csum_level reset", code: prog(`r2 = 1\ncall 135\nr1 = r6\nr2 = 3\ncall 135\nr1 = r6\nr2 = 0\ncall 135`), options: { data: v4 } },
  { name: "csum_level unknown is EINVAL", code: call2(135, 4), options: { data: v4 } },
  // skb->csum through the helpers that move bytes (BPF_F_TEST_SKB_CHECKSUM_COMPLETE checks it at the end)
  { name: "CHECKSUM_COMPLETE: vlan_pop from the data", code: call2(19, 0), options: { data: vlanFrame(64, 0x123), flags: 4 } },
  { name: "CHECKSUM_COMPLETE: vlan_push twice", code: prog(`r2 = 0x0081\nr3 = 5\ncall 18\nr1 = r6\nr2 = 0x0081\nr3 = 7\ncall 18`), options: { data: v4, flags: 4 } },
  { name: "CHECKSUM_COMPLETE: adjust_room shrink", code: prog(`r2 = -8\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4, flags: 4 } },
  { name: "CHECKSUM_COMPLETE: adjust_room grow", code: prog(`r2 = 8\nr3 = 0\nr4 = 0\ncall 50`), options: { data: v4, flags: 4 } },
  { name: "CHECKSUM_COMPLETE: change_head", code: call3(43, 14, 0), options: { data: v4, flags: 4 } },
  { name: "CHECKSUM_COMPLETE: change_proto IPv6 to IPv4", code: call3(31, "0x0008", 0), options: { data: v6, flags: 4 } },
  { name: "CHECKSUM_COMPLETE: csum_update with the diff of a write", code: prog(`r2 = 0x11223344\n*(u32 *)(r10 - 4) = r2\nr1 = 0\nr2 = 0\nr3 = r10\nr3 += -4\nr4 = 4\nr5 = 0\ncall 28\nr1 = r6\nr2 = r0\ncall 40`), options: { data: v4, flags: 4 } },
  // redirects
  { name: "redirect returns TC_ACT_REDIRECT", code: "r1 = 1\nr2 = 0\ncall 23\nexit", options: { data: v4 } },
  { name: "redirect with BPF_F_INGRESS", code: "r1 = 1\nr2 = 1\ncall 23\nexit", options: { data: v4 } },
  { name: "redirect with bad flags is TC_ACT_SHOT", code: "r1 = 1\nr2 = 2\ncall 23\nexit", options: { data: v4 } },
  { name: "redirect_peer with flags is TC_ACT_SHOT", code: "r1 = 1\nr2 = 1\ncall 155\nexit", options: { data: v4 } },
  { name: "redirect_peer", code: "r1 = 1\nr2 = 0\ncall 155\nexit", options: { data: v4 } },
  { name: "redirect_neigh without params", code: "r1 = 1\nr2 = 0\nr3 = 0\nr4 = 0\ncall 152\nexit", options: { data: v4 } },
  { name: "clone_redirect to an unknown device is EINVAL", code: call3(13, 0x7ffff0, 0), options: { data: v4 } },
  { name: "clone_redirect with bad flags is EINVAL", code: call3(13, 1, 2), options: { data: v4 } },
];

describeKernel("skb packet helpers: vm against the kernel", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { kernel, vm } = differential({ progType: c.progType ?? TC, code: c.code, options: c.options });
      expect(vm).toEqual(kernel);
    });
  }
  test("helpers run the same on the JIT", () => {
    const { kernel, vm } = differential({ progType: TC, code: l4(40, "0x0d0c0b0a", "0x04030201", 0x14), options: { data: v4, ctx: skbCtx({ 8: 1 }) }, engine: "jit" });
    expect(vm).toEqual(kernel);
  });
});
