/**
 * Checksum helpers, as net/core/filter.c implements them with the arithmetic
 * of include/net/checksum.h (packet-csum.ts): bpf_csum_diff, bpf_l3_csum_replace,
 * bpf_l4_csum_replace (pseudo-header, mangled-0 and IPv6 flags, the field size
 * in the flags' low bits), bpf_csum_update, bpf_csum_level. A test-run skb is
 * CHECKSUM_NONE, or CHECKSUM_COMPLETE with BPF_F_TEST_SKB_CHECKSUM_COMPLETE,
 * and skb->csum follows the changes as in the kernel.
 */
import type { VmServices } from "../runtime/services.js";
import { CHECKSUM_COMPLETE, CHECKSUM_NONE, CHECKSUM_PARTIAL, CHECKSUM_UNNECESSARY, SKB_MAX_CSUM_LEVEL, type SkBuff } from "../progtypes/runtime/skb.js";
import type { HelperCall, HelperDef } from "./abi.js";
import {
  csumAdd, csumFold, csumFrom32to16, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub,
} from "./packet-csum.js";
import { EACCES, EFAULT, EINVAL, ENOTSUPP, def, skbOf } from "./packet-common.js";

export const BPF_FUNC_l3_csum_replace = 10;
export const BPF_FUNC_l4_csum_replace = 11;
export const BPF_FUNC_csum_diff = 28;
export const BPF_FUNC_csum_update = 40;
export const BPF_FUNC_csum_level = 135;

/** include/uapi/linux/bpf.h, BPF_FUNC_l3/l4_csum_replace flags. */
export const BPF_F_HDR_FIELD_MASK = 0xf;
export const BPF_F_PSEUDO_HDR = 1 << 4;
export const BPF_F_MARK_MANGLED_0 = 1 << 5;
export const BPF_F_MARK_ENFORCE = 1 << 6;
export const BPF_F_IPV6 = 1 << 7;
/** include/uapi/linux/bpf.h, BPF_FUNC_csum_level levels. */
export const BPF_CSUM_LEVEL_QUERY = 0;
export const BPF_CSUM_LEVEL_INC = 1;
export const BPF_CSUM_LEVEL_DEC = 2;
export const BPF_CSUM_LEVEL_RESET = 3;
/** include/net/checksum.h, CSUM_MANGLED_0: a UDP checksum that computed to 0. */
export const CSUM_MANGLED_0 = 0xffff;

/** The helpers' common start: flags checked, offset even and below 64 KiB, the field writable. */
function fieldAt(skb: SkBuff, offset: number): number {
  if (offset > 0xffff || offset & 1) return -EFAULT;
  skb.dataPointers = true;
  if (offset + 2 > skb.len) return -EFAULT;
  return skb.data + offset;
}

const readSum = (skb: SkBuff, p: number): number => skb.space.u8[p] | (skb.space.u8[p + 1] << 8);
const writeSum = (skb: SkBuff, p: number, v: number): void => {
  skb.space.u8[p] = v & 0xff;
  skb.space.u8[p + 1] = (v >>> 8) & 0xff;
};

function l3Replace(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "l3_csum_replace");
  const flags = call.u32(5);
  if (call.hi(5) || flags & ~BPF_F_HDR_FIELD_MASK) return -EINVAL;
  const p = fieldAt(skb, call.u32(2));
  skb.sync();
  if (p < 0) return p;
  const from = call.u32(3);
  const to = call.u32(4);
  const sum = readSum(skb, p);
  switch (flags & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (from || call.hi(3)) return -EINVAL;
      writeSum(skb, p, csumReplaceByDiff(sum, to));
      return 0;
    case 2:
      writeSum(skb, p, csumReplace2(sum, from & 0xffff, to & 0xffff));
      return 0;
    case 4:
      writeSum(skb, p, csumReplace4(sum, from, to));
      return 0;
    default:
      return -EINVAL;
  }
}

/** inet_proto_csum_replace4(); the 2-byte form zero-extends its values into it. */
function protoReplace4(skb: SkBuff, p: number, from: number, to: number, pseudo: boolean): void {
  const sum = readSum(skb, p);
  if (skb.ipSummed !== CHECKSUM_PARTIAL) {
    writeSum(skb, p, csumReplace4(sum, from, to));
    if (skb.ipSummed === CHECKSUM_COMPLETE && pseudo) skb.csum = ~csumAdd(csumSub(~skb.csum >>> 0, from), to) >>> 0;
  } else if (pseudo) {
    writeSum(skb, p, ~csumFold(csumAdd(csumSub(sum, from), to)) & 0xffff);
  }
}

/** inet_proto_csum_replace_by_diff(). */
function protoReplaceByDiff(skb: SkBuff, p: number, diff: number, pseudo: boolean, ipv6: boolean): void {
  const sum = readSum(skb, p);
  if (skb.ipSummed !== CHECKSUM_PARTIAL) {
    writeSum(skb, p, csumReplaceByDiff(sum, diff));
    if (skb.ipSummed === CHECKSUM_COMPLETE && pseudo && !ipv6) skb.csum = ~csumSub(diff, skb.csum) >>> 0;
  } else if (pseudo) {
    writeSum(skb, p, ~csumFold(csumAdd(diff, sum)) & 0xffff);
  }
}

function l4Replace(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "l4_csum_replace");
  const flags = call.u32(5);
  const pseudo = (flags & BPF_F_PSEUDO_HDR) !== 0;
  const mmzero = (flags & BPF_F_MARK_MANGLED_0) !== 0;
  const mforce = (flags & BPF_F_MARK_ENFORCE) !== 0;
  const ipv6 = (flags & BPF_F_IPV6) !== 0;
  if (call.hi(5) || flags & ~(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6)) return -EINVAL;
  const p = fieldAt(skb, call.u32(2));
  skb.sync();
  if (p < 0) return p;
  // A UDP checksum of 0 means "none": left alone unless enforced.
  if (mmzero && !mforce && readSum(skb, p) === 0) return 0;
  const from = call.u32(3);
  const to = call.u32(4);
  switch (flags & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (from || call.hi(3)) return -EINVAL;
      protoReplaceByDiff(skb, p, to, pseudo, ipv6);
      break;
    case 2:
      protoReplace4(skb, p, from & 0xffff, to & 0xffff, pseudo);
      break;
    case 4:
      protoReplace4(skb, p, from, to, pseudo);
      break;
    default:
      return -EINVAL;
  }
  if (mmzero && readSum(skb, p) === 0) writeSum(skb, p, CSUM_MANGLED_0);
  return 0;
}

/**
 * bpf_csum_diff(): the checksum of `to` minus that of `from`, seeded, folded to
 * 16 bits (csum_from32to16, Linux 6.12+).
 */
function csumDiff(services: VmServices, call: HelperCall): number {
  const from = call.addr(1);
  const fromSize = call.u32(2);
  const to = call.addr(3);
  const toSize = call.u32(4);
  services.checkMem(from, fromSize, false, call.pc);
  services.checkMem(to, toSize, false, call.pc);
  const u8 = services.space.u8;
  let ret = call.u32(5);
  if (fromSize && toSize) ret = csumSub(csumPartial(u8, to, toSize, ret), csumPartial(u8, from, fromSize, 0));
  else if (toSize) ret = csumPartial(u8, to, toSize, ret);
  else if (fromSize) ret = ~csumPartial(u8, from, fromSize, ~ret >>> 0) >>> 0;
  return csumFrom32to16(ret);
}

function csumLevel(services: VmServices, call: HelperCall): number {
  const skb = skbOf(services, call, "csum_level");
  const level = call.hi(2) ? -1 : call.u32(2);
  switch (level) {
    case BPF_CSUM_LEVEL_INC:
      if (skb.ipSummed === CHECKSUM_UNNECESSARY) {
        if (skb.csumLevel < SKB_MAX_CSUM_LEVEL) skb.csumLevel++;
      } else if (skb.ipSummed === CHECKSUM_NONE) {
        skb.ipSummed = CHECKSUM_UNNECESSARY;
        skb.csumLevel = 0;
      }
      return 0;
    case BPF_CSUM_LEVEL_DEC:
      if (skb.ipSummed === CHECKSUM_UNNECESSARY) {
        if (skb.csumLevel === 0) skb.ipSummed = CHECKSUM_NONE;
        else skb.csumLevel--;
      }
      return 0;
    case BPF_CSUM_LEVEL_RESET:
      if (skb.ipSummed === CHECKSUM_UNNECESSARY) {
        skb.ipSummed = CHECKSUM_NONE;
        skb.csumLevel = 0;
      }
      return 0;
    case BPF_CSUM_LEVEL_QUERY:
      return skb.ipSummed === CHECKSUM_UNNECESSARY ? skb.csumLevel : -EACCES;
    default:
      return -EINVAL;
  }
}

export function checksumHelpers(services: VmServices): HelperDef[] {
  return [
    def(BPF_FUNC_csum_diff, (call) => call.ret(csumDiff(services, call))),
    def(BPF_FUNC_l3_csum_replace, (call) => call.ret(l3Replace(services, call))),
    def(BPF_FUNC_l4_csum_replace, (call) => call.ret(l4Replace(services, call))),
    def(BPF_FUNC_csum_update, (call) => {
      const skb = skbOf(services, call, "csum_update");
      // The sum r0 returns is the u32 skb->csum, zero-extended.
      if (skb.ipSummed === CHECKSUM_COMPLETE) call.ret64((skb.csum = csumAdd(skb.csum, call.u32(2))), 0);
      else call.ret(-ENOTSUPP);
    }),
    def(BPF_FUNC_csum_level, (call) => call.ret(csumLevel(services, call))),
  ];
}
