/** is_valid_access for the tracing family, whose contexts are not field tables. */
import type { CtxAccessResult } from "./types.js";

export const DENY: CtxAccessResult = { ok: false };
export const SCALAR: CtxAccessResult = { ok: true, regType: "scalar" };
export const isPow2 = (n: number): boolean => n > 0 && n <= 8 && (n & (n - 1)) === 0;
