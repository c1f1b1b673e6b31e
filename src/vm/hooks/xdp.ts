/**
 * XDP device hooks: a vm network device the host injects frames into. Each
 * frame becomes an xdp_buff (the layout test runs use: 256 bytes of headroom,
 * page fragments beyond one page) and runs through the attached XDP programs
 * in order, as a libxdp dispatcher chains them: the next program runs while
 * the verdict is XDP_PASS, the first other verdict is final. The result is
 * the verdict, the frame as the programs left it (metadata separately), and
 * where a redirect pointed: the host decides what XDP_TX and XDP_REDIRECT
 * mean, there being no real device.
 */
import { BPF_PROG_TYPE_XDP } from "../progtypes/constants.js";
import { RunMemory } from "../progtypes/runtime/common.js";
import type { NetDevice } from "../progtypes/runtime/netdev.js";
import type { RedirectTarget } from "../progtypes/runtime/types.js";
import { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX, createXdpBuff } from "../progtypes/runtime/xdp.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";

export type XdpActionName = "aborted" | "drop" | "pass" | "tx" | "redirect" | "invalid";

export function xdpActionName(action: number): XdpActionName {
  switch (action) {
    case XDP_ABORTED: return "aborted";
    case XDP_DROP: return "drop";
    case XDP_PASS: return "pass";
    case XDP_TX: return "tx";
    case XDP_REDIRECT: return "redirect";
    default: return "invalid";
  }
}

export interface XdpFireOptions {
  /** The RX queue the frame arrived on (xdp_md.rx_queue_index). Default 0. */
  readonly rxQueueIndex?: number;
}

export interface XdpFireResult {
  /** The final verdict (u32 as returned; unknown values act as XDP_ABORTED in a driver). */
  readonly action: number;
  readonly actionName: XdpActionName;
  /** The frame from data to its end (fragments included), after the programs. */
  readonly packet: Uint8Array;
  /** Metadata the programs left before data (bpf_xdp_adjust_meta). */
  readonly meta: Uint8Array;
  /** The redirect target of an XDP_REDIRECT verdict. */
  readonly redirect?: RedirectTarget;
  readonly results: readonly ProgramResult[];
}

export class XdpHook extends Hook {
  readonly kind = "xdp";

  constructor(
    name: string,
    services: VmServices,
    readonly device: NetDevice,
  ) {
    super(name, services);
  }

  protected accepts(p: RunningProgram): boolean {
    return p.progType === BPF_PROG_TYPE_XDP;
  }

  /** Runs a received frame through the chain. */
  fire(frame: Uint8Array, options: XdpFireOptions = {}): XdpFireResult {
    const rxq = options.rxQueueIndex ?? 0;
    if (!Number.isInteger(rxq) || rxq < 0 || rxq >= this.device.rxQueues) throw new RangeError(`${this.device.name} has no RX queue ${rxq}`);
    const memory = new RunMemory(this.services.space);
    try {
      const xdp = createXdpBuff(memory, frame, { dev: this.device, rxQueueIndex: rxq });
      const results: ProgramResult[] = [];
      let action = XDP_PASS;
      this.each((run, link) => {
        xdp.redirect = undefined;
        action = run(xdp.ctx, xdp);
        results.push(this.result(link, action));
        return action === XDP_PASS;
      });
      return {
        action,
        actionName: xdpActionName(action),
        packet: xdp.packetBytes(),
        meta: this.services.space.read(xdp.dataMeta, xdp.data - xdp.dataMeta),
        ...(action === XDP_REDIRECT && xdp.redirect ? { redirect: xdp.redirect } : {}),
        results,
      };
    } finally {
      memory.dispose();
    }
  }
}
