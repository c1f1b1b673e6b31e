/**
 * Every helper the vm implements, built for one runtime. Each family is a
 * factory taking the runtime's services.
 */
import type { VmServices } from "../runtime/services.js";
import type { HelperDef } from "./abi.js";
import { packetHelpers } from "./packet.js";
import { timeHelpers } from "./time.js";

export function defaultHelpers(services: VmServices): HelperDef[] {
  return [...timeHelpers(services.host), ...packetHelpers(services)];
}
