/**
 * What helper families share: map arguments, memory probing with the vm's
 * notion of a "bad address", and little-endian access to the space.
 *
 * A bad address, in the vm, is one outside every mapped region of the space
 * (memory.ts): the kernel's "this page faults". The first 64 KiB (the guard
 * page, where NULL and small offsets from it land) stand for the user half of
 * an x86-64 address space: the kernel-memory helpers refuse them with ERANGE
 * (copy_from_kernel_nofault_allowed() in arch/x86/mm/maccess.c), the
 * user-memory helpers fault with EFAULT — which is what a NULL pointer gets
 * from the kernel, checked by the differential tests.
 */
import { ERRNO, ProgramFault } from "../../errors.js";
import type { BpfMap } from "../maps/map.js";
import { type AddressSpace, GUARD_SIZE } from "../memory.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef, HelperFn } from "./abi.js";
import { helperProtos } from "./protos.js";

export const E = ERRNO;

/** A HelperDef for `id` with the kernel's prototype and name from protos.ts. */
export function def(id: number, fn: HelperFn, direct?: HelperDef["direct"]): HelperDef {
  const p = helperProtos.get(id);
  if (!p) throw new Error(`no prototype for helper ${id}`);
  return direct ? { id, name: p.name, proto: p.proto, fn, direct } : { id, name: p.name, proto: p.proto, fn };
}

/** A map argument resolver with a one-entry cache (map helpers are hot). */
export type MapArg = (call: HelperCall, n: number) => BpfMap;

/**
 * Resolves argument `n` as a map pointer (what an LD_IMM64 map reference
 * loaded). A verified program can only pass maps; for an unverified one a
 * garbage pointer is a fault, the runtime analogue of the verifier's
 * "R1 type=scalar expected=map_ptr".
 */
export function mapArg(services: VmServices): MapArg {
  let lastAddr = -1;
  let last: BpfMap | undefined;
  return (call, n) => {
    const a = call.u32(n);
    if (a === lastAddr && call.hi(n) === 0 && !last!.isDisposed) return last!;
    const m = call.hi(n) === 0 ? services.mapAt(a) : undefined;
    if (!m) throw new ProgramFault(call.pc, `R${n} is not a map pointer (0x${call.big(n).toString(16)})`);
    lastAddr = a;
    last = m;
    return m;
  };
}

/**
 * services.checkMem for arguments that may be empty: a zero-length range is
 * never checked (the verifier lets any pointer, NULL included, go with size 0).
 */
export type MemCheck = (addr: number, len: number, write: boolean, pc: number) => void;
export function memCheck(services: VmServices): MemCheck {
  return (addr, len, write, pc) => {
    if (len > 0) services.checkMem(addr, len, write, pc);
  };
}

/** The fault for a map of the wrong type, in the verifier's words (check_map_func_compatibility). */
export function wrongMap(call: HelperCall, map: BpfMap, helper: string, id: number): ProgramFault {
  return new ProgramFault(call.pc, `cannot pass map_type ${map.type} into func bpf_${helper}#${id}`);
}

/** Whether every byte of [addr, addr+len) lies in mapped regions (writable ones when `write`). */
export function isMapped(space: AddressSpace, addr: number, len: number, write = false): boolean {
  if (len <= 0) return true;
  let a = addr;
  const end = addr + len;
  while (a < end) {
    const r = space.regionOf(a, 1);
    if (!r || (write && !r.writable)) return false;
    a = r.end;
  }
  return true;
}

/** A 64-bit pointer argument that cannot be in the vm: upper bits set. */
export function farPointer(call: HelperCall, n: number): boolean {
  return call.hi(n) !== 0;
}

/** Addresses the vm treats as user-space ones (the guard page: NULL and near it). */
export function isUserRange(addr: number): boolean {
  return addr < GUARD_SIZE;
}

/**
 * strncpy_from_{kernel,user}_nofault(): copies the string at `src` into `dst`
 * (at most `count` bytes including the NUL; a longer string is cut and
 * NUL-terminated at count - 1). Returns the bytes copied including the NUL, or
 * -EFAULT when a byte before the NUL is unmapped (dst[0] is then 0). Writes
 * through `u8` (dst in the space) — callers pass a staging array for
 * destinations outside it.
 */
export function strncpyNofault(space: AddressSpace, dst: Uint8Array, dstOff: number, src: number, count: number): number {
  if (count <= 0) return 0;
  const u8 = space.u8;
  let i = 0;
  let limit = 0;
  for (;;) {
    if (src + i >= limit) {
      const r = space.regionOf(src + i, 1);
      if (!r) {
        dst[dstOff] = 0;
        return -E.EFAULT;
      }
      limit = r.end;
    }
    const c = u8[src + i];
    dst[dstOff + i] = c;
    i++;
    if (c === 0) return i;
    if (i >= count) {
      dst[dstOff + i - 1] = 0;
      return i;
    }
  }
}

/** Length of the NUL-terminated string at `addr`, scanning at most `max` bytes of mapped memory; -1 if none. */
export function cstrlen(space: AddressSpace, addr: number, max: number): number {
  const u8 = space.u8;
  let limit = 0;
  for (let i = 0; i < max; i++) {
    if (addr + i >= limit) {
      const r = space.regionOf(addr + i, 1);
      if (!r) return -1;
      limit = r.end;
    }
    if (u8[addr + i] === 0) return i;
  }
  return -1;
}

/** Writes a little-endian u64 given as two words. */
export function putU64(space: AddressSpace, addr: number, lo: number, hi: number): void {
  if ((addr & 3) === 0) {
    space.u32[addr >>> 2] = lo >>> 0;
    space.u32[(addr >>> 2) + 1] = hi >>> 0;
  } else {
    space.dv.setUint32(addr, lo >>> 0, true);
    space.dv.setUint32(addr + 4, hi >>> 0, true);
  }
}

/** Writes a little-endian u64 from a bigint (not for hot paths). */
export function putBig(space: AddressSpace, addr: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  putU64(space, addr, Number(u & 0xffffffffn), Number(u >> 32n));
}

/** Reads a little-endian u64 as a bigint (not for hot paths). */
export function getBig(space: AddressSpace, addr: number): bigint {
  return space.dv.getBigUint64(addr, true);
}
