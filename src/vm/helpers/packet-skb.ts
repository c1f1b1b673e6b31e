/**
 * skb packet helpers, as net/core/filter.c (and the skb primitives they use in
 * net/core/skbuff.c, include/linux/skbuff.h, include/linux/if_vlan.h)
 * implement them for linear skbs: load / store bytes, pull, change head /
 * tail / proto / type, adjust_room, VLAN push / pop, the hash helpers and the
 * cgroup classid. Every helper that in the kernel ends in
 * bpf_compute_data_pointers() re-syncs the __sk_buff context.
 */
import type { VmServices } from "../runtime/services.js";
import {
  BPF_SKB_MAX_LEN, CHECKSUM_COMPLETE, CHECKSUM_NONE, CHECKSUM_PARTIAL, CHECKSUM_UNNECESSARY, ETH_P_802_2, ETH_P_802_3,
  ETH_P_802_3_MIN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, PACKET_OTHERHOST, type SkBuff, VLAN_HLEN, htons,
} from "../progtypes/runtime/skb.js";
import { ETH_ALEN, ETH_HLEN } from "../progtypes/runtime/common.js";
import { jhashBytes } from "../maps/jhash.js";
import type { HelperCall, HelperDef } from "./abi.js";
import { csumBlockAdd, csumBlockSub, csumPartial } from "./packet-csum.js";
import {
  EALREADY, EFAULT, EINVAL, ENOMEM, ENOTSUPP, def, isFlowDissector, runState, skbOf,
} from "./packet-common.js";

export const BPF_FUNC_skb_store_bytes = 9;
export const BPF_FUNC_get_cgroup_classid = 17;
export const BPF_FUNC_skb_vlan_push = 18;
export const BPF_FUNC_skb_vlan_pop = 19;
export const BPF_FUNC_get_route_realm = 24;
export const BPF_FUNC_skb_load_bytes = 26;
export const BPF_FUNC_skb_change_proto = 31;
export const BPF_FUNC_skb_change_type = 32;
export const BPF_FUNC_get_hash_recalc = 34;
export const BPF_FUNC_skb_change_tail = 38;
export const BPF_FUNC_skb_pull_data = 39;
export const BPF_FUNC_set_hash_invalid = 41;
export const BPF_FUNC_skb_change_head = 43;
export const BPF_FUNC_set_hash = 48;
export const BPF_FUNC_skb_adjust_room = 50;
export const BPF_FUNC_skb_load_bytes_relative = 68;
export const BPF_FUNC_skb_cgroup_classid = 151;

/** include/uapi/linux/bpf.h flags. */
export const BPF_F_RECOMPUTE_CSUM = 1 << 0;
export const BPF_F_INVALIDATE_HASH = 1 << 1;
export const BPF_HDR_START_MAC = 0;
export const BPF_HDR_START_NET = 1;
export const BPF_ADJ_ROOM_NET = 0;
export const BPF_ADJ_ROOM_MAC = 1;
export const BPF_F_ADJ_ROOM_FIXED_GSO = 1 << 0;
export const BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 = 1 << 1;
export const BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 = 1 << 2;
export const BPF_F_ADJ_ROOM_ENCAP_L4_GRE = 1 << 3;
export const BPF_F_ADJ_ROOM_ENCAP_L4_UDP = 1 << 4;
export const BPF_F_ADJ_ROOM_NO_CSUM_RESET = 1 << 5;
export const BPF_F_ADJ_ROOM_ENCAP_L2_ETH = 1 << 6;
export const BPF_F_ADJ_ROOM_DECAP_L3_IPV4 = 1 << 7;
export const BPF_F_ADJ_ROOM_DECAP_L3_IPV6 = 1 << 8;
/** BPF_ADJ_ROOM_ENCAP_L2_SHIFT: the inner MAC length sits in the flags' top byte. */
export const BPF_ADJ_ROOM_ENCAP_L2_SHIFT = 56;

const ENCAP_L3_MASK = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
const DECAP_L3_MASK = BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_DECAP_L3_IPV6;
/** BPF_F_ADJ_ROOM_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET, low word (the high word may carry only the L2 length byte). */
const ADJ_ROOM_LOW_MASK = BPF_F_ADJ_ROOM_FIXED_GSO | ENCAP_L3_MASK | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
  BPF_F_ADJ_ROOM_ENCAP_L2_ETH | DECAP_L3_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET;
const IPHDR = 20;
const IPV6HDR = 40;
const INT_MAX = 0x7fffffff;

/** skb_ensure_writable() on a linear skb: the first `len` bytes must exist. */
function mayPull(skb: SkBuff, len: number): boolean {
  return len <= skb.len;
}

/** bpf_try_make_writable(): 0 or -ENOMEM; data pointers are recomputed either way. */
function tryMakeWritable(skb: SkBuff, len: number): number {
  skb.dataPointers = true;
  return mayPull(skb, len) ? 0 : -ENOMEM;
}

function loadBytes(services: VmServices, call: HelperCall): number {
  const to = call.addr(3);
  const len = call.u32(4);
  services.checkMem(to, len, true, call.pc);
  const state = runState(services);
  const u8 = services.space.u8;
  const offset = call.u32(2);
  // bpf_flow_dissector_load_bytes: in a test run there is no skb behind the dissector.
  if (isFlowDissector(state)) {
    if (offset <= 0xffff && state.skb && offset + len <= state.dataEnd - state.data) {
      u8.copyWithin(to, state.data + offset, state.data + offset + len);
      return 0;
    }
    u8.fill(0, to, to + len);
    return -EFAULT;
  }
  const skb = skbOf(services, call, "skb_load_bytes");
  if (offset <= INT_MAX && offset + len <= skb.len) {
    u8.copyWithin(to, skb.data + offset, skb.data + offset + len);
    return 0;
  }
  u8.fill(0, to, to + len);
  return -EFAULT;
}

function loadBytesRelative(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_load_bytes_relative");
  const to = call.addr(3);
  const len = call.u32(4);
  services.checkMem(to, len, true, call.pc);
  const offset = call.u32(2);
  const header = call.u32(5);
  const u8 = services.space.u8;
  let start = -1;
  if (offset <= 0xffff) {
    if (header === BPF_HDR_START_MAC && skb.macHeader >= 0) start = skb.macHeader;
    else if (header === BPF_HDR_START_NET) start = skb.networkHeader;
  }
  if (start >= 0 && start + offset + len <= skb.tail) {
    u8.copyWithin(to, start + offset, start + offset + len);
    return 0;
  }
  u8.fill(0, to, to + len);
  return -EFAULT;
}

function storeBytes(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_store_bytes");
  const from = call.addr(3);
  const len = call.u32(4);
  services.checkMem(from, len, false, call.pc);
  const offset = call.u32(2);
  const flags = call.u32(5);
  if (call.hi(5) || flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return -EINVAL;
  if (offset > INT_MAX) return -EFAULT;
  const err = tryMakeWritable(skb, offset + len);
  skb.sync();
  if (err) return -EFAULT;
  const ptr = skb.data + offset;
  // __skb_postpull_rcsum / __skb_postpush_rcsum at `offset` from data.
  if (flags & BPF_F_RECOMPUTE_CSUM) csumAtOffset(skb, ptr, len, offset, false);
  services.space.u8.copyWithin(ptr, from, from + len);
  if (flags & BPF_F_RECOMPUTE_CSUM) csumAtOffset(skb, ptr, len, offset, true);
  if (flags & BPF_F_INVALIDATE_HASH) skb.clearHash();
  skb.sync();
  return 0;
}

/** __skb_postpull_rcsum / __skb_postpush_rcsum with a block offset (odd offsets rotate the sum). */
function csumAtOffset(skb: SkBuff, ptr: number, len: number, offset: number, push: boolean): void {
  if (skb.ipSummed === CHECKSUM_COMPLETE) {
    const s = csumPartial(skb.space.u8, ptr, len, 0);
    skb.csum = push ? csumBlockAdd(skb.csum, s, offset) : csumBlockSub(skb.csum, s, offset);
  } else if (!push && skb.ipSummed === CHECKSUM_PARTIAL) {
    skb.ipSummed = CHECKSUM_NONE;
  }
}

function pullData(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_pull_data");
  const len = call.u32(2);
  const err = tryMakeWritable(skb, len || skb.len);
  skb.sync();
  return err;
}

function isGso(skb: SkBuff): boolean {
  return skb.gsoSize !== 0;
}

function changeHead(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_change_head");
  const room = call.u32(2);
  const newLen = (skb.len + room) >>> 0;
  let ret = 0;
  if (call.u32(3) || call.hi(3) || (!isGso(skb) && newLen > BPF_SKB_MAX_LEN) || newLen < skb.len) {
    ret = -EINVAL;
  } else {
    // Only a MAC header may be added: protocol and network header stay.
    skb.push(room);
    services.space.u8.fill(0, skb.data, skb.data + room);
    skb.macHeader = skb.data;
    skb.macLen = skb.networkHeader - skb.macHeader;
  }
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

/** __bpf_skb_min_len(): the headers a trim must keep. */
function minLen(skb: SkBuff): number {
  let min = 0;
  const net = skb.networkOffset;
  if (net > 0) min = net;
  if (skb.transportHeader >= 0) {
    const t = skb.transportHeader - skb.data;
    if (t > 0) min = t;
  }
  return min;
}

function changeTail(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_change_tail");
  const newLen = call.u32(2);
  let ret = 0;
  if (call.u32(3) || call.hi(3) || newLen > BPF_SKB_MAX_LEN || newLen < minLen(skb)) ret = -EINVAL;
  else if (skb.encapsulation) ret = -ENOTSUPP;
  else {
    const old = skb.len;
    if (newLen !== old && skb.ipSummed === CHECKSUM_COMPLETE) skb.ipSummed = CHECKSUM_NONE;
    if (newLen > old) {
      skb.put(newLen - old);
      services.space.u8.fill(0, skb.data + old, skb.data + newLen);
    } else if (newLen < old) {
      skb.setLength(newLen);
    }
    // skb_gso_reset()
    if (isGso(skb)) {
      skb.gsoSize = 0;
      skb.gsoSegs = 0;
    }
  }
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

/** bpf_skb_generic_push() + header moves of bpf_skb_net_hdr_push(): `len` zero bytes at `off`. */
function netHdrPush(skb: SkBuff, off: number, len: number): void {
  const transSame = skb.transportHeader === skb.networkHeader;
  skb.push(len);
  const u8 = skb.space.u8;
  u8.copyWithin(skb.data, skb.data + len, skb.data + len + off);
  u8.fill(0, skb.data + off, skb.data + off + len);
  if (skb.macHeader >= 0) skb.macHeader -= len;
  skb.networkHeader -= len;
  if (transSame) skb.transportHeader = skb.networkHeader;
}

/** bpf_skb_generic_pop() + bpf_skb_net_hdr_pop(): removes `len` bytes at `off`. */
function netHdrPop(skb: SkBuff, off: number, len: number): number {
  const transSame = skb.transportHeader === skb.networkHeader;
  if (!mayPull(skb, off + len)) return -ENOMEM;
  const old = skb.data;
  skb.pull(len);
  skb.postpullRcsum(old + off, len);
  skb.space.u8.copyWithin(skb.data, old, old + off);
  if (skb.macHeader >= 0) skb.macHeader += len;
  skb.networkHeader += len;
  if (transSame) skb.transportHeader = skb.networkHeader;
  return 0;
}

/** skb_mac_header_len(). */
function macHeaderLen(skb: SkBuff): number {
  return skb.networkHeader - (skb.macHeader >= 0 ? skb.macHeader : skb.networkHeader);
}

function changeProto(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_change_proto");
  const proto = htons(call.u32(2) & 0xffff);
  let ret: number;
  if (call.u32(3) || call.hi(3)) ret = -EINVAL;
  else if (skb.protocol === ETH_P_IP && proto === ETH_P_IPV6) {
    netHdrPush(skb, macHeaderLen(skb), IPV6HDR - IPHDR);
    skb.protocol = ETH_P_IPV6;
    skb.clearHash();
    ret = 0;
  } else if (skb.protocol === ETH_P_IPV6 && proto === ETH_P_IP) {
    ret = netHdrPop(skb, macHeaderLen(skb), IPV6HDR - IPHDR);
    if (!ret) {
      skb.protocol = ETH_P_IP;
      skb.clearHash();
    }
  } else ret = -ENOTSUPP;
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

function changeType(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_change_type");
  const t = call.u32(2);
  // skb_pkt_type_ok(): PACKET_HOST .. PACKET_OTHERHOST only.
  if (skb.pktType > PACKET_OTHERHOST || t > PACKET_OTHERHOST) return -EINVAL;
  skb.pktType = t;
  skb.sync();
  return 0;
}

/** bpf_skb_net_base_len(). */
function netBaseLen(skb: SkBuff): number {
  return skb.protocol === ETH_P_IP ? IPHDR : skb.protocol === ETH_P_IPV6 ? IPV6HDR : -1;
}

function netGrow(skb: SkBuff, off: number, lenDiff: number, flags: number, innerMacLen: number): number {
  const encap = (flags & ENCAP_L3_MASK) !== 0;
  // Test-run skbs carry no gso_type: a GSO skb is neither TCP nor UDP_L4.
  if (isGso(skb)) return -ENOTSUPP;
  if (encap) {
    if ((flags & ENCAP_L3_MASK) === ENCAP_L3_MASK) return -EINVAL;
    if (flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE && flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP) return -EINVAL;
    if (flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH && innerMacLen < ETH_HLEN) return -EINVAL;
    if (skb.encapsulation) return -EALREADY;
    if (innerMacLen > lenDiff) return -EINVAL;
  }
  const macLen = macHeaderLen(skb);
  netHdrPush(skb, off, lenDiff);
  if (encap) {
    skb.encapsulation = true;
    skb.networkHeader = skb.data + macLen;
    if (flags & (BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP)) {
      skb.transportHeader = skb.data + macLen + (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 ? IPV6HDR : IPHDR);
    }
    if (skb.protocol === ETH_P_IP && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6) skb.protocol = ETH_P_IPV6;
    else if (skb.protocol === ETH_P_IPV6 && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) skb.protocol = ETH_P_IP;
  }
  return 0;
}

function netShrink(skb: SkBuff, off: number, lenDiff: number, flags: number, hiFlags: number): number {
  if (hiFlags || flags & ~(BPF_F_ADJ_ROOM_FIXED_GSO | DECAP_L3_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET)) return -EINVAL;
  if (isGso(skb)) return -ENOTSUPP;
  const ret = netHdrPop(skb, off, lenDiff);
  if (ret) return ret;
  if (skb.protocol === ETH_P_IP && flags & BPF_F_ADJ_ROOM_DECAP_L3_IPV6) skb.protocol = ETH_P_IPV6;
  else if (skb.protocol === ETH_P_IPV6 && flags & BPF_F_ADJ_ROOM_DECAP_L3_IPV4) skb.protocol = ETH_P_IP;
  return 0;
}

function adjustRoom(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_adjust_room");
  const lenDiff = call.i32(2);
  const lenDiffAbs = Math.abs(lenDiff) >>> 0;
  const mode = call.u32(3);
  const flags = call.u32(4);
  const hi = call.hi(4);
  const shrink = lenDiff < 0;
  const ret = ((): number => {
    // The high word may only hold the inner MAC length (BPF_F_ADJ_ROOM_ENCAP_L2()).
    if (flags & ~ADJ_ROOM_LOW_MASK || hi & 0x00ffffff) return -EINVAL;
    if (lenDiffAbs > 0xfff) return -EFAULT;
    if (skb.protocol !== ETH_P_IP && skb.protocol !== ETH_P_IPV6) return -ENOTSUPP;
    let lenMin = netBaseLen(skb);
    let off = macHeaderLen(skb);
    if (mode === BPF_ADJ_ROOM_NET) off += netBaseLen(skb);
    else if (mode !== BPF_ADJ_ROOM_MAC) return -ENOTSUPP;
    if (flags & DECAP_L3_MASK) {
      if (!shrink) return -EINVAL;
      const d = flags & DECAP_L3_MASK;
      if (d === BPF_F_ADJ_ROOM_DECAP_L3_IPV4) lenMin = IPHDR;
      else if (d === BPF_F_ADJ_ROOM_DECAP_L3_IPV6) lenMin = IPV6HDR;
      else return -EINVAL;
    }
    const lenCur = skb.len - skb.networkOffset;
    if ((shrink && (lenDiffAbs >= lenCur || lenCur - lenDiffAbs < lenMin)) || (!shrink && skb.len + lenDiffAbs > BPF_SKB_MAX_LEN && !isGso(skb))) {
      return -ENOTSUPP;
    }
    const r = shrink ? netShrink(skb, off, lenDiffAbs, flags, hi) : netGrow(skb, off, lenDiffAbs, flags, hi >>> (BPF_ADJ_ROOM_ENCAP_L2_SHIFT - 32));
    // __skb_reset_checksum_unnecessary()
    if (!r && !(flags & BPF_F_ADJ_ROOM_NO_CSUM_RESET) && skb.ipSummed === CHECKSUM_UNNECESSARY) {
      skb.ipSummed = CHECKSUM_NONE;
      skb.csumLevel = 0;
    }
    return r;
  })();
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

function ethTypeVlan(proto: number): boolean {
  return proto === ETH_P_8021Q || proto === ETH_P_8021AD;
}

/** __vlan_insert_tag() with mac_len ETH_HLEN: a 4-byte tag after the MAC addresses. */
function vlanInsertTag(skb: SkBuff, proto: number, tci: number): void {
  skb.push(VLAN_HLEN);
  const u8 = skb.space.u8;
  u8.copyWithin(skb.data, skb.data + VLAN_HLEN, skb.data + VLAN_HLEN + 2 * ETH_ALEN);
  if (skb.macHeader >= 0) skb.macHeader -= VLAN_HLEN;
  const v = skb.data + 2 * ETH_ALEN;
  u8[v] = proto >>> 8;
  u8[v + 1] = proto & 0xff;
  u8[v + 2] = (tci >>> 8) & 0xff;
  u8[v + 3] = tci & 0xff;
}

/** __skb_vlan_pop(): removes the tag in the data; returns the TCI or -errno. */
function skbVlanPopData(skb: SkBuff): number {
  if (skb.data !== skb.macHeader) return -EINVAL;
  if (!mayPull(skb, ETH_HLEN + VLAN_HLEN)) return -ENOMEM;
  const u8 = skb.space.u8;
  skb.postpullRcsum(skb.data + 2 * ETH_ALEN, VLAN_HLEN);
  const vh = skb.data + ETH_HLEN;
  const tci = (u8[vh] << 8) | u8[vh + 1];
  const encap = (u8[vh + 2] << 8) | u8[vh + 3];
  // vlan_set_encap_proto(): an EtherType, or 802.3 / 802.2 for a length.
  if (encap >= ETH_P_802_3_MIN) skb.protocol = encap;
  else skb.protocol = skb.len >= ETH_HLEN + VLAN_HLEN + 2 && u8[vh + 4] === 0xff && u8[vh + 5] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
  u8.copyWithin(skb.data + VLAN_HLEN, skb.data, skb.data + 2 * ETH_ALEN);
  skb.pull(VLAN_HLEN);
  skb.macHeader += VLAN_HLEN;
  if (skb.networkOffset < ETH_HLEN) skb.networkHeader = skb.data + ETH_HLEN;
  skb.macLen = skb.networkHeader - skb.macHeader;
  return tci;
}

function vlanPush(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_vlan_push");
  let proto = htons(call.u32(2) & 0xffff);
  const tci = call.u32(3) & 0xffff;
  if (!ethTypeVlan(proto)) proto = ETH_P_8021Q;
  let ret = 0;
  if (skb.vlanPresent) {
    // skb_vlan_push(): the present tag moves into the data first.
    if (skb.data !== skb.macHeader) ret = -EINVAL;
    else {
      vlanInsertTag(skb, skb.vlanProto, skb.vlanTci);
      skb.protocol = skb.vlanProto;
      skb.networkHeader -= VLAN_HLEN;
      skb.postpushRcsum(skb.data + 2 * ETH_ALEN, VLAN_HLEN);
    }
  }
  if (!ret) {
    skb.vlanProto = proto;
    skb.vlanTci = tci;
  }
  skb.macLen = skb.networkHeader - skb.macHeader;
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

function vlanPop(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "skb_vlan_pop");
  const ret = ((): number => {
    if (skb.vlanPresent) {
      skb.vlanProto = 0;
      skb.vlanTci = 0;
    } else {
      if (!ethTypeVlan(skb.protocol)) return 0;
      const r = skbVlanPopData(skb);
      if (r < 0) return r;
    }
    // The next tag in the data becomes the accelerated one.
    if (!ethTypeVlan(skb.protocol)) return 0;
    const proto = skb.protocol;
    const tci = skbVlanPopData(skb);
    if (tci < 0) return tci;
    skb.vlanProto = proto;
    skb.vlanTci = tci;
    return 0;
  })();
  skb.dataPointers = true;
  skb.sync();
  return ret;
}

/**
 * __skb_get_hash(): a flow hash over the dissected addresses, protocol and
 * ports. The kernel keys its siphash with a random boot-time secret, so values
 * differ from any kernel's; the vm uses jhash with a fixed seed. Never 0.
 */
function flowHash(skb: SkBuff): number {
  const u8 = skb.space.u8;
  const n = skb.networkHeader;
  const key = new Uint8Array(40);
  let len = 0;
  const l4 = (proto: number, at: number): void => {
    key[len++] = proto;
    if ((proto === 6 || proto === 17) && at + 4 <= skb.tail) {
      key.set(u8.subarray(at, at + 4), len);
      len += 4;
    }
  };
  if (skb.protocol === ETH_P_IP && n + IPHDR <= skb.tail) {
    key.set(u8.subarray(n + 12, n + 20), 0);
    len = 8;
    l4(u8[n + 9], n + (u8[n] & 0xf) * 4);
  } else if (skb.protocol === ETH_P_IPV6 && n + IPV6HDR <= skb.tail) {
    key.set(u8.subarray(n + 8, n + 40), 0);
    len = 32;
    l4(u8[n + 6], n + IPV6HDR);
  }
  const h = jhashBytes(key, 0, len, 0) >>> 0;
  return h || 1;
}

export function skbHelpers(services: VmServices): HelperDef[] {
  return [
    def(BPF_FUNC_skb_load_bytes, (call) => call.ret(loadBytes(services, call))),
    def(BPF_FUNC_skb_load_bytes_relative, (call) => call.ret(loadBytesRelative(services, call))),
    def(BPF_FUNC_skb_store_bytes, (call) => call.ret(storeBytes(services, call))),
    def(BPF_FUNC_skb_pull_data, (call) => call.ret(pullData(services, call))),
    def(BPF_FUNC_skb_change_head, (call) => call.ret(changeHead(services, call))),
    def(BPF_FUNC_skb_change_tail, (call) => call.ret(changeTail(services, call))),
    def(BPF_FUNC_skb_change_proto, (call) => call.ret(changeProto(services, call))),
    def(BPF_FUNC_skb_change_type, (call) => call.ret(changeType(services, call))),
    def(BPF_FUNC_skb_adjust_room, (call) => call.ret(adjustRoom(services, call))),
    def(BPF_FUNC_skb_vlan_push, (call) => call.ret(vlanPush(services, call))),
    def(BPF_FUNC_skb_vlan_pop, (call) => call.ret(vlanPop(services, call))),
    def(BPF_FUNC_get_hash_recalc, (call) => {
      const skb = skbOf(services, call, "get_hash_recalc");
      if (!skb.l4Hash && !skb.swHash) {
        skb.hash = flowHash(skb);
        skb.swHash = true;
        skb.sync();
      }
      call.ret64(skb.hash, 0);
    }),
    def(BPF_FUNC_set_hash_invalid, (call) => {
      const skb = skbOf(services, call, "set_hash_invalid");
      skb.clearHash();
      skb.sync();
      call.ret(0);
    }),
    def(BPF_FUNC_set_hash, (call) => {
      const skb = skbOf(services, call, "set_hash");
      skb.hash = call.u32(2);
      skb.swHash = true;
      skb.l4Hash = true;
      skb.sync();
      call.ret(0);
    }),
    // task_get_classid() (skb programs) and bpf_get_cgroup_classid_curr (no ctx): the
    // current task's net_cls classid, 0 in the vm, which has no net_cls cgroups.
    def(BPF_FUNC_get_cgroup_classid, (call) => call.ret(0)),
    // dst_tclassid(): the routing realm of the skb's dst; vm skbs carry no route.
    def(BPF_FUNC_get_route_realm, (call) => {
      skbOf(services, call, "get_route_realm");
      call.ret(0);
    }),
    // sock_cgroup_classid() of the skb's full socket: 0 without net_cls.
    def(BPF_FUNC_skb_cgroup_classid, (call) => {
      skbOf(services, call, "skb_cgroup_classid");
      call.ret(0);
    }),
  ];
}

