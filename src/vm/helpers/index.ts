/**
 * Every helper the vm implements, built for one runtime. Each family is a
 * factory taking the runtime's services. The registry holds exactly these:
 * a helper id missing from it is one the vm does not offer (see
 * unsupported.ts), and the verifier refuses programs that call it.
 */
import type { VmServices } from "../runtime/services.js";
import type { HelperDef } from "./abi.js";
import { controlHelpers } from "./control.js";
import { dynptrHelpers } from "./dynptr.js";
import { mapHelpers } from "./maps.js";
import { memoryHelpers } from "./memory.js";
import { packetHelpers } from "./packet.js";
import { perfHelpers } from "./perf.js";
import { printkHelpers } from "./printk.js";
import { ringbufHelpers } from "./ringbuf.js";
import { sockHelpers } from "./sock.js";
import { taskHelpers } from "./task.js";
import { timeHelpers } from "./time.js";
import { timerHelpers } from "./timers.js";

export { helperRuntime, HelperRuntime } from "./runtime.js";
export { VmTimers } from "./timers.js";
export { VM_UNSUPPORTED_HELPERS } from "./unsupported.js";

export function defaultHelpers(services: VmServices): HelperDef[] {
  return [
    ...mapHelpers(services),
    ...ringbufHelpers(services),
    ...dynptrHelpers(services),
    ...perfHelpers(services),
    ...printkHelpers(services),
    ...timeHelpers(services.host),
    ...taskHelpers(services),
    ...memoryHelpers(services),
    ...controlHelpers(services),
    ...timerHelpers(services),
    ...packetHelpers(services),
    ...sockHelpers(services),
  ];
}
