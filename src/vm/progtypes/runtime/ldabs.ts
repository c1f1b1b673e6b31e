/**
 * Where a legacy LD_ABS / LD_IND load reads, as the kernel's
 * bpf_skb_load_helper_{8,16,32} decide (net/core/filter.c): a non-negative
 * offset is relative to skb->data and must fit in the linear data; negative
 * offsets at or above SKF_NET_OFF are relative to the network header, at or
 * above SKF_LL_OFF to the MAC header (bpf_internal_load_pointer_neg_helper),
 * and must stay within [head, tail). Engines call this with the bounds the
 * program-type runtime gives (EngineEnv.packetBounds).
 */
import type { PacketBounds } from "./types.js";

/** include/uapi/linux/filter.h. */
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

/** The address to load `size` bytes from, or -1: the load fails and the program returns 0. */
export function legacyPacketAddress(bounds: PacketBounds, off: number, size: number): number {
  if (off >= 0) {
    const addr = bounds.data + off;
    return addr + size <= bounds.end ? addr : -1;
  }
  let addr: number;
  if (off >= SKF_NET_OFF) {
    if (bounds.net === undefined) return -1;
    addr = bounds.net + off - SKF_NET_OFF;
  } else if (off >= SKF_LL_OFF) {
    if (bounds.mac === undefined) return -1;
    addr = bounds.mac + off - SKF_LL_OFF;
  } else {
    return -1;
  }
  return addr >= (bounds.head ?? bounds.data) && addr + size <= bounds.end ? addr : -1;
}
