/**
 * Redirect helpers (net/core/filter.c): bpf_redirect (the XDP and the tc
 * flavours), bpf_redirect_map (XDP), bpf_redirect_peer, bpf_redirect_neigh
 * and bpf_clone_redirect. They record the target in the run's state (struct
 * bpf_redirect_info); the vm has no devices to send to, so a test run only
 * reports the verdict, as the kernel's does, and hooks hand the target and
 * the packet to the host.
 */
import type { VmServices } from "../runtime/services.js";
import { netDevices } from "../progtypes/runtime/netdev.js";
import { SkBuff } from "../progtypes/runtime/skb.js";
import { XDP_ABORTED, XDP_REDIRECT, XdpBuff } from "../progtypes/runtime/xdp.js";
import type { HelperDef } from "./abi.js";
import { EINVAL, ERANGE, def, runState, skbOf } from "./packet-common.js";

export const BPF_FUNC_clone_redirect = 13;
export const BPF_FUNC_redirect = 23;
export const BPF_FUNC_redirect_map = 51;
export const BPF_FUNC_redirect_neigh = 152;
export const BPF_FUNC_redirect_peer = 155;

/** include/uapi/linux/bpf.h. */
export const BPF_F_INGRESS = 1 << 0;
export const BPF_F_BROADCAST = 1 << 3;
export const BPF_F_EXCLUDE_INGRESS = 1 << 4;
/** include/uapi/linux/pkt_cls.h. */
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;
/** XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX: redirect_map's fallback verdict bits. */
const XDP_ACTION_MASK = 3;
/** include/uapi/linux/bpf.h, enum bpf_map_type. */
const BPF_MAP_TYPE_DEVMAP = 14;
const BPF_MAP_TYPE_DEVMAP_HASH = 25;
/** sizeof(struct bpf_redir_neigh). */
const BPF_REDIR_NEIGH_SIZE = 20;

export function redirectHelpers(services: VmServices): HelperDef[] {
  // A scratch key for map lookups: redirect_map passes the key by value.
  let keyAddr = 0;
  const key = (v: number): number => {
    if (!keyAddr) keyAddr = services.space.alloc(8);
    services.space.u32[keyAddr >> 2] = v;
    return keyAddr;
  };
  return [
    def(BPF_FUNC_redirect, (call) => {
      const state = runState(services);
      const ifindex = call.u32(1);
      const flags = call.u32(2);
      if (state instanceof XdpBuff) {
        // bpf_xdp_redirect(): no flags; the device is resolved when the verdict is acted on.
        if (flags || call.hi(2)) return call.ret(XDP_ABORTED);
        state.redirect = { ifindex, flags: 0 };
        return call.ret(XDP_REDIRECT);
      }
      if (call.hi(2) || flags & ~BPF_F_INGRESS) return call.ret(TC_ACT_SHOT);
      if (state instanceof SkBuff) state.redirect = { ifindex, flags };
      call.ret(TC_ACT_REDIRECT);
    }),
    def(BPF_FUNC_redirect_map, (call) => {
      const state = runState(services);
      const mapAddr = call.addr(1);
      const map = services.mapAt(mapAddr);
      const index = call.u32(2);
      const flags = call.u32(3);
      const isDevmap = map !== undefined && (map.type === BPF_MAP_TYPE_DEVMAP || map.type === BPF_MAP_TYPE_DEVMAP_HASH);
      const flagMask = isDevmap ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0;
      // The low bits are the verdict when the lookup fails.
      if (call.hi(3) || flags & ~(XDP_ACTION_MASK | flagMask)) return call.ret(XDP_ABORTED);
      const found = map ? map.lookupElem(key(index), services.current().cpu) : 0;
      if (!found && !(flags & BPF_F_BROADCAST)) {
        if (state instanceof XdpBuff) state.redirect = undefined;
        return call.ret(flags & XDP_ACTION_MASK);
      }
      if (state instanceof XdpBuff) state.redirect = { ifindex: index, flags, mapId: map?.id ?? 0 };
      call.ret(XDP_REDIRECT);
    }),
    def(BPF_FUNC_redirect_peer, (call) => {
      if (call.u32(2) || call.hi(2)) return call.ret(TC_ACT_SHOT);
      const state = runState(services);
      if (state instanceof SkBuff) state.redirect = { ifindex: call.u32(1), flags: 0 };
      call.ret(TC_ACT_REDIRECT);
    }),
    def(BPF_FUNC_redirect_neigh, (call) => {
      const plen = call.i32(3);
      if ((plen && plen < BPF_REDIR_NEIGH_SIZE) || call.u32(4) || call.hi(4)) return call.ret(TC_ACT_SHOT);
      const state = runState(services);
      if (state instanceof SkBuff) state.redirect = { ifindex: call.u32(1), flags: 0 };
      call.ret(TC_ACT_REDIRECT);
    }),
    def(BPF_FUNC_clone_redirect, (call) => {
      const skb = skbOf(services, call, "clone_redirect");
      const ifindex = call.u32(2);
      const flags = call.u32(3);
      if (call.hi(3) || flags & ~BPF_F_INGRESS) return call.ret(-EINVAL);
      if (!netDevices(services.space).get(ifindex)) return call.ret(-EINVAL);
      // bpf_try_make_head_writable() recomputes the data pointers.
      skb.dataPointers = true;
      skb.sync();
      // __bpf_redirect_common(): the clone must carry a link-layer header.
      if (skb.macHeader < 0 || skb.macHeader >= skb.networkHeader || skb.len === 0) return call.ret(-ERANGE);
      skb.clones.push({ ifindex, flags, packet: skb.space.read(skb.macHeader, skb.tail - skb.macHeader) });
      call.ret(0);
    }),
  ];
}
