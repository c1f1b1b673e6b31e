/**
 * The skb program types at run time (socket_filter, sched_cls, sched_act,
 * cgroup_skb, lwt_in/out/xmit): a linear struct sk_buff in the vm's memory
 * (head, data, tail, end; MAC and network headers; the metadata helpers and
 * checksums need), the struct __sk_buff context holding its fields (32-bit vm
 * addresses in data / data_end / data_meta), the dummy socket a test run
 * attaches (a struct bpf_sock behind __sk_buff.sk), and PROG_TEST_RUN as
 * bpf_prog_test_run_skb() in net/bpf/test_run.c (Linux 6.18).
 *
 * The context is the program's own memory: fields a program may write (mark,
 * priority, cb[], tc_index, tc_classid, queue_mapping, tstamp) are read back
 * from it; fields the kernel owns are written into it by sync() after every
 * change, so a program always reads what the kernel's ctx rewrite would load.
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import type { LocalStorageMap } from "../../maps/local_storage.js";
import type { AddressSpace } from "../../memory.js";
import type { ProgTypeRunState } from "../../runtime/services.js";
import { csumFold, csumPartial } from "../../helpers/packet-csum.js";
import {
  BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_LWT_IN, BPF_PROG_TYPE_LWT_OUT, BPF_PROG_TYPE_LWT_XMIT, BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
} from "../constants.js";
import { bpfSock } from "../ctx/bpf_sock.js";
import { skBuff } from "../ctx/sk_buff.js";
import {
  BPF_F_TEST_SKB_CHECKSUM_COMPLETE, ETH_ALEN, ETH_HLEN, type MappedRegion, PAGE_SIZE, RunMemory, SKB_SHINFO_SIZE,
  ctxInit, fail, rangeIsZero, repeatRun, testFinish, testRunAttr,
} from "./common.js";
import { LOOPBACK_IFINDEX, type NetDevice, netDevices } from "./netdev.js";
import type { PacketBounds, ProgTypeRuntime, RedirectTarget, TestRunTarget } from "./types.js";

/** include/uapi/linux/if_ether.h (host order; skb->protocol holds them big-endian). */
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;
/** ETH_P_802_3_MIN: smaller EtherType values are 802.3 lengths. */
export const ETH_P_802_3_MIN = 0x0600;
/** include/uapi/linux/if_vlan.h, VLAN_HLEN. */
export const VLAN_HLEN = 4;
/** include/linux/socket.h. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
/** include/uapi/linux/if_packet.h. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
/** include/linux/skbuff.h, ip_summed values. */
export const CHECKSUM_NONE = 0;
export const CHECKSUM_UNNECESSARY = 1;
export const CHECKSUM_COMPLETE = 2;
export const CHECKSUM_PARTIAL = 3;
/** include/net/tcp_states.h, TCP_CLOSE: what sock_init_data() leaves in sk_state. */
export const TCP_CLOSE = 7;
/** NET_SKB_PAD + NET_IP_ALIGN on x86-64 (64 + 0): the headroom test_run.c reserves. */
export const SKB_TEST_HEADROOM = 64;
/** include/linux/netdevice.h, GSO_LEGACY_MAX_SIZE; GSO_MAX_SEGS. */
export const GSO_LEGACY_MAX_SIZE = 65536;
export const GSO_MAX_SEGS = 65535;
/** SKB_MAX_ALLOC = SKB_WITH_OVERHEAD(PAGE_SIZE << 2): BPF_SKB_MAX_LEN in net/core/filter.c. */
export const BPF_SKB_MAX_LEN = (PAGE_SIZE << 2) - SKB_SHINFO_SIZE;
/** include/linux/skbuff.h, SKB_MAX_CSUM_LEVEL. */
export const SKB_MAX_CSUM_LEVEL = 3;

/** Byte offsets in struct __sk_buff. */
export const SKB = Object.fromEntries(skBuff.fields.map((f) => [f.name, f.offset])) as Readonly<Record<string, number>>;
const SOCK = Object.fromEntries(bpfSock.fields.map((f) => [f.name, f.offset])) as Readonly<Record<string, number>>;

/** The vm's view of skb->sk: the fields __sk_buff and struct bpf_sock expose. */
export interface SkbSock {
  family: number;
  /** sk_rcv_saddr / sk_daddr as stored (network order bytes), or the IPv6 addresses. */
  readonly srcIp4: Uint8Array;
  readonly dstIp4: Uint8Array;
  readonly srcIp6: Uint8Array;
  readonly dstIp6: Uint8Array;
  /** The struct bpf_sock __sk_buff.sk points to: the socket pointer programs see, and its sk storage owner id. */
  readonly addr: number;
  /** sk->sk_state. */
  readonly state: number;
  /** sk->sk_protocol (IPPROTO_*) and sk->sk_type (SOCK_*): 0 for the test run's bpf_dummy_proto socket. */
  readonly protocol: number;
  readonly type: number;
  /** The sk storage maps holding a value for it (sk->sk_bpf_storage), emptied when it goes (bpf_sk_storage_free). */
  readonly storage: Set<LocalStorageMap>;
}

/**
 * struct sk_buff, linear (test runs and hooks never build paged skbs).
 * Pointers are vm addresses inside [head, end).
 */
export class SkBuff implements ProgTypeRunState {
  readonly kind = "skb";
  head: number;
  end: number;
  data: number;
  tail: number;
  /** skb->mac_header and skb->network_header as addresses; -1 when unset. */
  macHeader = -1;
  networkHeader = -1;
  transportHeader = -1;
  macLen = 0;
  /** skb->protocol, host order (0x0800 for IPv4). */
  protocol = 0;
  pktType = PACKET_HOST;
  hash = 0;
  l4Hash = false;
  swHash = false;
  /** The hardware-accelerated VLAN tag (skb->vlan_proto host order, skb->vlan_tci). */
  vlanProto = 0;
  vlanTci = 0;
  ipSummed = CHECKSUM_NONE;
  /** skb->csum (u32) for CHECKSUM_COMPLETE. */
  csum = 0;
  csumLevel = 0;
  encapsulation = false;
  gsoSegs = 0;
  gsoSize = 0;
  /** skb_shinfo(skb)->hwtstamps.hwtstamp as (lo, hi) words. */
  hwtstampLo = 0;
  hwtstampHi = 0;
  /** qdisc_skb_cb.pkt_len: __sk_buff.wire_len. */
  wireLen = 0;
  /** skb->skb_iif: __sk_buff.ingress_ifindex. */
  skbIif = 0;
  /** skb->dev. */
  dev: NetDevice;
  sock: SkbSock | undefined;
  /** Whether data_end / data_meta were computed into the cb (bpf_compute_data_pointers). */
  dataPointers = false;
  /** Set by bpf_redirect (bpf_redirect_info). */
  redirect: RedirectTarget | undefined;
  /** Copies sent by bpf_clone_redirect: the device and the bytes from skb->data. */
  readonly clones: { ifindex: number; flags: number; packet: Uint8Array }[] = [];

  private readonly packet: MappedRegion;

  constructor(
    readonly memory: RunMemory,
    readonly ctx: number,
    head: number,
    size: number,
    dev: NetDevice,
  ) {
    this.head = head;
    this.end = head + size;
    this.data = head;
    this.tail = head;
    this.dev = dev;
    this.packet = memory.region("packet", true, "skb data");
  }

  get space(): AddressSpace {
    return this.memory.space;
  }

  get len(): number {
    return this.tail - this.data;
  }

  get headroom(): number {
    return this.data - this.head;
  }

  get tailroom(): number {
    return this.end - this.tail;
  }

  get vlanPresent(): boolean {
    return this.vlanProto !== 0 || this.vlanTci !== 0;
  }

  /** skb_network_offset(): network header relative to data (may be negative). */
  get networkOffset(): number {
    return this.networkHeader - this.data;
  }

  /** pskb_expand_head(): more room at either end; every pointer follows the bytes. */
  expand(nhead: number, ntail: number): void {
    const oldHead = this.head;
    const size = this.end - this.head + nhead + ntail;
    const fresh = this.memory.alloc(size);
    const u8 = this.space.u8;
    u8.copyWithin(fresh + nhead, oldHead, this.end);
    const delta = fresh + nhead - oldHead;
    this.head = fresh;
    this.end = fresh + size;
    this.data += delta;
    this.tail += delta;
    if (this.macHeader >= 0) this.macHeader += delta;
    if (this.networkHeader >= 0) this.networkHeader += delta;
    if (this.transportHeader >= 0) this.transportHeader += delta;
    this.memory.release(oldHead);
  }

  /** skb_cow / skb_cow_head: at least `room` bytes of headroom. */
  cowHead(room: number): void {
    if (this.headroom < room) this.expand(alignUp(room - this.headroom, 32), 0);
  }

  /** __skb_push. */
  push(n: number): void {
    this.cowHead(n);
    this.data -= n;
  }

  /** __skb_pull. */
  pull(n: number): void {
    this.data += n;
  }

  /** __skb_put with room made as needed. */
  put(n: number): void {
    if (this.tailroom < n) this.expand(0, n - this.tailroom);
    this.tail += n;
  }

  /** __skb_trim / __skb_set_length. */
  setLength(n: number): void {
    this.tail = this.data + n;
  }

  /** skb_clear_hash(). */
  clearHash(): void {
    this.hash = 0;
    this.l4Hash = false;
    this.swHash = false;
  }

  /** skb_postpull_rcsum(): bytes [start, start+len) left the checksummed data. */
  postpullRcsum(start: number, len: number): void {
    if (this.ipSummed === CHECKSUM_COMPLETE) this.csum = ~csumPartial(this.space.u8, start, len, ~this.csum >>> 0) >>> 0;
    else if (this.ipSummed === CHECKSUM_PARTIAL) this.ipSummed = CHECKSUM_NONE;
  }

  /** skb_postpush_rcsum(): bytes [start, start+len) joined the checksummed data. */
  postpushRcsum(start: number, len: number): void {
    if (this.ipSummed === CHECKSUM_COMPLETE) this.csum = csumPartial(this.space.u8, start, len, this.csum);
  }

  /**
   * Writes the kernel-owned __sk_buff fields into the context and re-maps the
   * data for checked programs. Program-writable fields stay as they are.
   */
  sync(): void {
    const { u32, u8 } = this.space;
    const w = (off: number, v: number): void => {
      u32[(this.ctx + off) >> 2] = v >>> 0;
    };
    w(SKB.len, this.len);
    w(SKB.pkt_type, this.pktType);
    w(SKB.protocol, htons(this.protocol));
    w(SKB.vlan_present, this.vlanPresent ? 1 : 0);
    w(SKB.vlan_tci, this.vlanTci);
    w(SKB.vlan_proto, htons(this.vlanProto));
    w(SKB.ingress_ifindex, this.skbIif);
    w(SKB.ifindex, this.dev.ifindex);
    w(SKB.hash, this.hash);
    w(SKB.data, this.data);
    // bpf_compute_data_pointers(): data_end is the end of the linear data, data_meta = data (no skb metadata).
    w(SKB.data_end, this.dataPointers ? this.tail : 0);
    w(SKB.data_meta, this.dataPointers ? this.data : 0);
    w(SKB.wire_len, this.wireLen);
    w(SKB.gso_segs, this.gsoSegs);
    w(SKB.gso_size, this.gsoSize);
    w(SKB.hwtstamp, this.hwtstampLo);
    w(SKB.hwtstamp + 4, this.hwtstampHi);
    const sk = this.sock;
    if (sk) {
      w(SKB.family, sk.family);
      u8.set(sk.dstIp4, this.ctx + SKB.remote_ip4);
      u8.set(sk.srcIp4, this.ctx + SKB.local_ip4);
      u8.set(sk.dstIp6, this.ctx + SKB.remote_ip6);
      u8.set(sk.srcIp6, this.ctx + SKB.local_ip6);
      w(SKB.sk, sk.addr);
      w(SKB.sk + 4, 0);
    }
    this.packet.set(this.data, this.tail);
  }

  /** The program-written fields, as the kernel would read them back from the skb. */
  get mark(): number {
    return this.space.u32[(this.ctx + SKB.mark) >> 2];
  }

  get priority(): number {
    return this.space.u32[(this.ctx + SKB.priority) >> 2];
  }

  /** The bytes from data to tail. */
  bytes(): Uint8Array {
    return this.space.u8.slice(this.data, this.tail);
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A 16-bit value as the little-endian machine stores its big-endian form (htons read as u16). */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

export interface SkBuffInit {
  /** Headroom before the packet. Default SKB_TEST_HEADROOM. */
  readonly headroom?: number;
  readonly dev?: NetDevice;
  /** Attach the test run's dummy socket (sk_alloc + sock_init_data). Default true. */
  readonly sock?: boolean;
}

/**
 * Builds an skb holding `packet` from its Ethernet header, as test_run.c
 * does: reserve the headroom, put the bytes, eth_type_trans() (MAC header at
 * the start, data pulled past it, protocol and pkt_type from the header),
 * network header at data. Returns it with data at the network header; the
 * caller pushes the Ethernet header back for L2 program types.
 */
export function createSkBuff(memory: RunMemory, packet: Uint8Array, init: SkBuffInit = {}): SkBuff {
  const headroom = init.headroom ?? SKB_TEST_HEADROOM;
  const size = headroom + alignUp(packet.length, 64);
  const head = memory.alloc(size);
  const ctx = memory.alloc(skBuff.size);
  memory.region("ctx", true, "__sk_buff", ctx, ctx + skBuff.size);
  const dev = init.dev ?? netDevices(memory.space).loopback;
  const skb = new SkBuff(memory, ctx, head, size, dev);
  skb.data = head + headroom;
  skb.tail = skb.data;
  skb.put(packet.length);
  memory.space.u8.set(packet, skb.data);
  // eth_type_trans()
  skb.macHeader = skb.data;
  skb.protocol = ethTypeTrans(skb, dev);
  skb.networkHeader = skb.data;
  if (init.sock ?? true) skb.sock = attachDummySock(memory);
  return skb;
}

/**
 * eth_type_trans() in net/ethernet/eth.c: pulls the Ethernet header, sets
 * pkt_type from the destination MAC against the device's, returns the
 * protocol: the EtherType, or 802.3 / 802.2 for length fields.
 */
function ethTypeTrans(skb: SkBuff, dev: NetDevice): number {
  const u8 = skb.space.u8;
  const eth = skb.data;
  skb.pull(ETH_HLEN);
  let toUs = true;
  for (let i = 0; i < ETH_ALEN; i++) if (u8[eth + i] !== dev.mac[i]) toUs = false;
  if (!toUs) {
    if (u8[eth] & 1) {
      let bcast = true;
      for (let i = 0; i < ETH_ALEN; i++) if (u8[eth + i] !== (dev.broadcast ? dev.broadcast[i] : 0xff)) bcast = false;
      skb.pktType = bcast ? PACKET_BROADCAST : PACKET_MULTICAST;
    } else {
      skb.pktType = PACKET_OTHERHOST;
    }
  }
  const proto = (u8[eth + 12] << 8) | u8[eth + 13];
  if (proto >= ETH_P_802_3_MIN) return proto;
  // A raw 802.3 frame starts its payload with 0xFFFF (IPX); anything else is 802.2 LLC.
  if (skb.len >= 2 && u8[skb.data] === 0xff && u8[skb.data + 1] === 0xff) return ETH_P_802_3;
  return ETH_P_802_2;
}

/**
 * sk_alloc(AF_UNSPEC) + sock_init_data(NULL, sk): the socket a test-run skb
 * belongs to, freed with the run (sk_free(), its sk storage with it).
 */
function attachDummySock(memory: RunMemory): SkbSock {
  const addr = memory.alloc(bpfSock.size);
  memory.region("ctx", false, "bpf_sock", addr, addr + bpfSock.size);
  const sk: SkbSock = {
    family: AF_UNSPEC, srcIp4: new Uint8Array(4), dstIp4: new Uint8Array(4), srcIp6: new Uint8Array(16), dstIp6: new Uint8Array(16), addr,
    state: TCP_CLOSE, protocol: 0, type: 0, storage: new Set(),
  };
  memory.onDispose(() => {
    for (const m of sk.storage) if (!m.isDisposed) m.ownerGone(addr);
    sk.storage.clear();
  });
  return sk;
}

/** Writes struct bpf_sock for the dummy socket (the fields bpf_sock_convert_ctx_access loads). */
export function writeBpfSock(space: AddressSpace, sk: SkbSock): void {
  const { u8, dv } = space;
  const a = sk.addr;
  u8.fill(0, a, a + bpfSock.size);
  dv.setUint32(a + SOCK.family, sk.family, true);
  u8.set(sk.srcIp4, a + SOCK.src_ip4);
  u8.set(sk.srcIp6, a + SOCK.src_ip6);
  u8.set(sk.dstIp4, a + SOCK.dst_ip4);
  u8.set(sk.dstIp6, a + SOCK.dst_ip6);
  dv.setUint32(a + SOCK.state, sk.state, true);
  // sk_rx_queue_get() with no queue recorded.
  dv.setInt32(a + SOCK.rx_queue_mapping, -1, true);
}

/** Which skb program types see the Ethernet header (is_l2 in bpf_prog_test_run_skb). */
function isL2(progType: number): boolean {
  return progType === BPF_PROG_TYPE_SCHED_CLS || progType === BPF_PROG_TYPE_SCHED_ACT;
}

/** Field checks of convert___skb_to_skb(): only these __sk_buff fields may be set in ctx_in. */
const ALLOWED_CTX_RANGES: readonly (readonly [number, number])[] = [
  [SKB.mark, SKB.mark + 4],
  [SKB.priority, SKB.ifindex + 4], // priority, ingress_ifindex, ifindex
  [SKB.cb, SKB.cb + 20],
  [SKB.tstamp, SKB.gso_segs + 4], // tstamp, wire_len, gso_segs
  [SKB.gso_size, SKB.gso_size + 4],
  [SKB.hwtstamp, SKB.hwtstamp + 8],
];

function ctxFieldsValid(ctx: Uint8Array): boolean {
  let from = 0;
  for (const [start, end] of ALLOWED_CTX_RANGES) {
    if (!rangeIsZero(ctx, from, start)) return false;
    from = end;
  }
  return rangeIsZero(ctx, from, skBuff.size);
}

/** bpf_prog_test_run_skb(). */
function testRunSkb(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, skBuff.size);
  const progType = target.program.progType;
  const what = `skb program ${target.program.name}`;
  if (attr.flags & ~BPF_F_TEST_SKB_CHECKSUM_COMPLETE || attr.cpu || attr.batchSize) fail("EINVAL", `${what}: flags, cpu or batch_size`);
  const size = attr.dataSizeIn;
  if (size < ETH_HLEN) fail("EINVAL", `${what}: packet shorter than an Ethernet header`);
  // bpf_test_init(): the packet must fit in a page with the headroom and skb_shared_info.
  if (size > PAGE_SIZE - SKB_TEST_HEADROOM - SKB_SHINFO_SIZE) fail("EINVAL", `${what}: ${size}-byte packet does not fit in a page`);
  const ctx = ctxInit(attr, skBuff.size);
  const cdv = ctx ? new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength) : undefined;
  const memory = new RunMemory(target.services.space);
  try {
    const devs = netDevices(memory.space);
    let dev = devs.loopback;
    const ctxIfindex = cdv?.getUint32(SKB.ifindex, true) ?? 0;
    if (ctxIfindex > LOOPBACK_IFINDEX) {
      const d = devs.get(ctxIfindex);
      if (!d) fail("ENODEV", `${what}: no device with ifindex ${ctxIfindex}`);
      dev = d;
    }
    const skb = createSkBuff(memory, attr.dataIn!, { dev });
    const u8 = memory.space.u8;
    const sk = skb.sock!;
    const net = skb.networkHeader;
    switch (skb.protocol) {
      case ETH_P_IP:
        if (skb.len < 20) fail("EINVAL", `${what}: IPv4 packet shorter than an IP header`);
        sk.family = AF_INET;
        sk.srcIp4.set(u8.subarray(net + 12, net + 16));
        sk.dstIp4.set(u8.subarray(net + 16, net + 20));
        break;
      case ETH_P_IPV6:
        if (skb.len < 40) fail("EINVAL", `${what}: IPv6 packet shorter than an IPv6 header`);
        sk.family = AF_INET6;
        sk.srcIp6.set(u8.subarray(net + 8, net + 24));
        sk.dstIp6.set(u8.subarray(net + 24, net + 40));
        break;
    }
    writeBpfSock(memory.space, sk);
    const l2 = isL2(progType);
    if (l2) skb.push(ETH_HLEN);
    skb.dataPointers = true;
    // convert___skb_to_skb()
    const c = memory.space.u8;
    if (ctx && cdv) {
      if (!ctxFieldsValid(ctx)) fail("EINVAL", `${what}: ctx_in sets a __sk_buff field test runs do not take`);
      c.set(ctx.subarray(SKB.mark, SKB.mark + 4), skb.ctx + SKB.mark);
      c.set(ctx.subarray(SKB.priority, SKB.priority + 4), skb.ctx + SKB.priority);
      c.set(ctx.subarray(SKB.cb, SKB.cb + 20), skb.ctx + SKB.cb);
      c.set(ctx.subarray(SKB.tstamp, SKB.tstamp + 8), skb.ctx + SKB.tstamp);
      skb.skbIif = cdv.getUint32(SKB.ingress_ifindex, true);
      const wire = cdv.getUint32(SKB.wire_len, true);
      if (wire === 0) skb.wireLen = skb.len;
      else {
        if (wire < skb.len || wire > GSO_LEGACY_MAX_SIZE) fail("EINVAL", `${what}: wire_len ${wire}`);
        skb.wireLen = wire;
      }
      const segs = cdv.getUint32(SKB.gso_segs, true);
      if (segs > GSO_MAX_SEGS) fail("EINVAL", `${what}: gso_segs ${segs}`);
      skb.gsoSegs = segs;
      skb.gsoSize = cdv.getUint32(SKB.gso_size, true);
      skb.hwtstampLo = cdv.getUint32(SKB.hwtstamp, true);
      skb.hwtstampHi = cdv.getUint32(SKB.hwtstamp + 4, true);
    }
    // Without a ctx the qdisc cb's pkt_len stays 0.
    const csumComplete = (attr.flags & BPF_F_TEST_SKB_CHECKSUM_COMPLETE) !== 0;
    if (csumComplete) {
      skb.csum = csumPartial(c, skb.networkHeader, skb.tail - skb.networkHeader, 0);
      skb.ipSummed = CHECKSUM_COMPLETE;
    }
    skb.sync();
    const result = repeatRun(target, attr.repeat, () => target.run(skb.ctx, skb));
    if (!l2) {
      // The Ethernet header goes back, zeroed: non-L2 types never see it.
      skb.push(ETH_HLEN);
      memory.space.u8.fill(0, skb.data, skb.data + ETH_HLEN);
    }
    // Helpers may have grown the memory: views taken before the run are stale.
    const after = memory.space.u8;
    if (csumComplete) {
      const off = skb.networkHeader;
      const now = csumPartial(after, off, skb.tail - off, 0);
      if (csumFold(skb.csum) !== csumFold(now)) fail("EBADMSG", `${what}: skb->csum no longer matches the packet`);
    }
    // convert_skb_to___skb()
    if (ctx && cdv) {
      cdv.setUint32(SKB.mark, skb.mark, true);
      cdv.setUint32(SKB.priority, skb.priority, true);
      cdv.setUint32(SKB.ingress_ifindex, skb.skbIif, true);
      cdv.setUint32(SKB.ifindex, skb.dev.ifindex, true);
      ctx.set(after.subarray(skb.ctx + SKB.tstamp, skb.ctx + SKB.tstamp + 8), SKB.tstamp);
      ctx.set(after.subarray(skb.ctx + SKB.cb, skb.ctx + SKB.cb + 20), SKB.cb);
      cdv.setUint32(SKB.wire_len, skb.wireLen, true);
      cdv.setUint32(SKB.gso_segs, skb.gsoSegs, true);
      cdv.setUint32(SKB.hwtstamp, skb.hwtstampLo, true);
      cdv.setUint32(SKB.hwtstamp + 4, skb.hwtstampHi, true);
    }
    return testFinish(attr, { ...result, data: [skb.bytes()], ctx }, what);
  } finally {
    memory.dispose();
  }
}

/** LD_ABS / LD_IND bounds of an skb (and the headers for negative offsets). */
export function skbPacketBounds(state: ProgTypeRunState): PacketBounds | undefined {
  if (!(state instanceof SkBuff)) return undefined;
  return {
    data: state.data,
    end: state.tail,
    head: state.head,
    net: state.networkHeader,
    ...(state.macHeader >= 0 ? { mac: state.macHeader } : {}),
  };
}

function skbRuntime(progType: number): ProgTypeRuntime {
  return { progType, ctxOutDefault: skBuff.size, testRun: testRunSkb, packetBounds: skbPacketBounds };
}

export const skbRuntimes: readonly ProgTypeRuntime[] = [
  BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SCHED_ACT, BPF_PROG_TYPE_CGROUP_SKB,
  BPF_PROG_TYPE_LWT_IN, BPF_PROG_TYPE_LWT_OUT, BPF_PROG_TYPE_LWT_XMIT,
].map(skbRuntime);
