/**
 * The packet helpers, as one factory for the runtime's helper registry:
 * XDP (packet-xdp.ts), skb (packet-skb.ts), checksums (packet-checksum.ts)
 * and redirects (packet-redirect.ts). Each reads the run's packet state (an
 * XdpBuff or SkBuff pushed by the program-type runtime) through
 * services.current().typeState, and rewrites the context's pointer fields
 * after changing the packet.
 */
import type { VmServices } from "../runtime/services.js";
import type { HelperDef } from "./abi.js";
import { checksumHelpers } from "./packet-checksum.js";
import { redirectHelpers } from "./packet-redirect.js";
import { skbHelpers } from "./packet-skb.js";
import { xdpHelpers } from "./packet-xdp.js";

export function packetHelpers(services: VmServices): HelperDef[] {
  return [...xdpHelpers(services), ...skbHelpers(services), ...checksumHelpers(services), ...redirectHelpers(services)];
}

export { xdpHelpers, skbHelpers, checksumHelpers, redirectHelpers };
