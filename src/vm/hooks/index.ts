/** vm hook points: what the host fires in place of kernel events. See hook.ts and registry.ts. */
export { Hook, type HookKind, type HookLink, type HookProgram, type HookRun, type AttachOptions, type ProgramResult } from "./hook.js";
export { HookRegistry, type DeviceSpec } from "./registry.js";
export {
  TracepointHook, SYS_ENTER_OPENAT, COMMON_FIELDS, parseTracepointFormat, writeField,
  type TracepointFormat, type TracepointField, type FieldValue, type TracepointFireResult,
} from "./tracepoint.js";
export { RawTracepointHook, type RawTracepointFireResult } from "./raw-tracepoint.js";
export { KprobeHook, ARG_REGS, type PtRegName, type KprobeFire, type KprobeFireResult } from "./kprobe.js";
export { XdpHook, xdpActionName, type XdpActionName, type XdpFireOptions, type XdpFireResult } from "./xdp.js";
export { TcHook, TCX_NEXT, TCX_PASS, TCX_DROP, TCX_REDIRECT, type TcDirection, type TcVerdict, type TcFireOptions, type TcFireResult } from "./tc.js";
export { CustomHook, type CustomHookOptions, type CustomFireResult } from "./custom.js";
