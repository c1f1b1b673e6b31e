/**
 * TC hooks (tcx semantics, include/net/tcx.h): a device's ingress or egress
 * point where sched_cls / sched_act programs see each packet as an skb from
 * its MAC header. Programs run in attach order while they return TCX_NEXT
 * (-1, or any code tcx does not know); TCX_PASS (0), TCX_DROP (2) and
 * TCX_REDIRECT (7) end the chain. The result is the verdict, the packet as
 * the programs left it, the skb fields they may have set, and the redirect
 * and clone targets for the host to act on.
 */
import { BPF_PROG_TYPE_SCHED_ACT, BPF_PROG_TYPE_SCHED_CLS } from "../progtypes/constants.js";
import { ETH_HLEN, RunMemory } from "../progtypes/runtime/common.js";
import type { NetDevice } from "../progtypes/runtime/netdev.js";
import { PACKET_HOST, SKB, createSkBuff } from "../progtypes/runtime/skb.js";
import type { RedirectTarget } from "../progtypes/runtime/types.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";

/** include/uapi/linux/bpf.h, enum tcx_action_base. */
export const TCX_NEXT = -1;
export const TCX_PASS = 0;
export const TCX_DROP = 2;
export const TCX_REDIRECT = 7;

export type TcDirection = "ingress" | "egress";
export type TcVerdict = "pass" | "drop" | "redirect";

export interface TcFireOptions {
  /** skb->mark and skb->priority on entry. */
  readonly mark?: number;
  readonly priority?: number;
}

export interface TcFireResult {
  readonly verdict: TcVerdict;
  /** The final program's code (TCX_PASS if no program ended the chain). */
  readonly code: number;
  /** The packet from its MAC header, after the programs. */
  readonly packet: Uint8Array;
  readonly mark: number;
  readonly priority: number;
  /** Where bpf_redirect / redirect_peer / redirect_neigh pointed, for a redirect verdict. */
  readonly redirect?: RedirectTarget;
  /** Copies bpf_clone_redirect sent, each from its MAC header. */
  readonly clones: readonly { readonly ifindex: number; readonly flags: number; readonly packet: Uint8Array }[];
  readonly results: readonly ProgramResult[];
}

export class TcHook extends Hook {
  readonly kind = "tc";

  constructor(
    name: string,
    services: VmServices,
    readonly device: NetDevice,
    readonly direction: TcDirection,
  ) {
    super(name, services);
  }

  protected accepts(p: RunningProgram): boolean {
    return p.progType === BPF_PROG_TYPE_SCHED_CLS || p.progType === BPF_PROG_TYPE_SCHED_ACT;
  }

  fire(frame: Uint8Array, options: TcFireOptions = {}): TcFireResult {
    if (frame.length < ETH_HLEN) throw new RangeError(`a frame has at least ${ETH_HLEN} bytes`);
    const memory = new RunMemory(this.services.space);
    try {
      // No socket at ingress; at egress the vm has none to attach either.
      const skb = createSkBuff(memory, frame, { dev: this.device, sock: false });
      skb.push(ETH_HLEN);
      if (this.direction === "ingress") skb.skbIif = this.device.ifindex;
      else skb.pktType = PACKET_HOST;
      skb.wireLen = skb.len;
      skb.dataPointers = true;
      const u32 = this.services.space.u32;
      u32[(skb.ctx + SKB.mark) >> 2] = options.mark ?? 0;
      u32[(skb.ctx + SKB.priority) >> 2] = options.priority ?? 0;
      skb.sync();
      const results: ProgramResult[] = [];
      let code = TCX_PASS;
      this.each((run, link) => {
        skb.redirect = undefined;
        const r = run(skb.ctx, skb);
        results.push(this.result(link, r));
        const c = r | 0;
        if (c === TCX_PASS || c === TCX_DROP || c === TCX_REDIRECT) {
          code = c;
          return false;
        }
        code = TCX_PASS;
        return true;
      });
      const verdict: TcVerdict = code === TCX_DROP ? "drop" : code === TCX_REDIRECT ? "redirect" : "pass";
      return {
        verdict,
        code,
        packet: skb.bytes(),
        mark: skb.mark,
        priority: skb.priority,
        ...(verdict === "redirect" && skb.redirect ? { redirect: skb.redirect } : {}),
        clones: skb.clones,
        results,
      };
    } finally {
      memory.dispose();
    }
  }
}
