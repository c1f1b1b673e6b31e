/**
 * What the packet helpers share: the helper definition shape (id and
 * prototype from protos.ts), and finding the run's packet state (the
 * xdp_buff or sk_buff the program-type runtime pushed for this run).
 */
import { ProgramFault } from "../../errors.js";
import type { ProgTypeRunState, VmServices } from "../runtime/services.js";
import { FlowDissectorState } from "../progtypes/runtime/flow_dissector.js";
import { SkBuff } from "../progtypes/runtime/skb.js";
import { XdpBuff } from "../progtypes/runtime/xdp.js";
import type { HelperCall, HelperDef, HelperFn } from "./abi.js";
import { helperProtos } from "./protos.js";

/** A helper by kernel id, with the kernel's prototype. */
export function def(id: number, fn: HelperFn): HelperDef {
  const p = helperProtos.get(id);
  if (!p) throw new Error(`no prototype for helper ${id}`);
  return { id, name: p.name, proto: p.proto, fn };
}

/** include/uapi/linux/errno-base.h and include/linux/errno.h, as helpers return them (negated). */
export const EPERM = 1;
export const ENOENT = 2;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EINVAL = 22;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;
export const EALREADY = 114;
export const ENOTSUPP = 524;

function current(services: VmServices): { state: ProgTypeRunState | undefined; checked: boolean; ctx: number } {
  const run = services.current();
  return { state: run.typeState, checked: run.program.checked, ctx: run.ctx };
}

/**
 * The state of kind T for a helper whose r1 is the context; in checked mode
 * r1 must be the run's context pointer (the verifier proves it otherwise).
 */
function stateOf<T extends ProgTypeRunState>(services: VmServices, call: HelperCall, is: (s: ProgTypeRunState | undefined) => s is T, what: string, name: string): T {
  const { state, checked, ctx } = current(services);
  if (!is(state)) throw new ProgramFault(call.pc, `bpf_${name} needs ${what} context`);
  if (checked && (call.hi(1) !== 0 || call.u32(1) !== ctx)) throw new ProgramFault(call.pc, `bpf_${name}: r1 is not the context`);
  return state;
}

export function xdpOf(services: VmServices, call: HelperCall, name: string): XdpBuff {
  return stateOf(services, call, (s): s is XdpBuff => s instanceof XdpBuff, "an XDP", name);
}

export function skbOf(services: VmServices, call: HelperCall, name: string): SkBuff {
  return stateOf(services, call, (s): s is SkBuff => s instanceof SkBuff, "an skb", name);
}

/** The run's state without a context argument (redirect helpers take none). */
export function runState(services: VmServices): ProgTypeRunState | undefined {
  return services.current().typeState;
}

export function isFlowDissector(s: ProgTypeRunState | undefined): s is FlowDissectorState {
  return s instanceof FlowDissectorState;
}

/** An unsigned 32-bit argument as `int` (the helper's C prototype takes it signed). */
export function asInt(v: number): number {
  return v | 0;
}

/** Argument n as a u64 known to be below 2^32, or -1 when the upper word is set. */
export function u32OrBig(call: HelperCall, n: number): number {
  return call.hi(n) === 0 ? call.u32(n) : -1;
}
