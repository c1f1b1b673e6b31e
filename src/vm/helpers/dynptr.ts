/**
 * Dynptrs (kernel/bpf/helpers.c: bpf_dynptr_from_mem, bpf_dynptr_read,
 * bpf_dynptr_write, bpf_dynptr_data). A struct bpf_dynptr lives on the
 * program's stack with the kernel's layout (struct bpf_dynptr_kern,
 * include/linux/bpf.h): data pointer (u64) at 0, size word at 8, offset at 12.
 * The size word holds the size in its low 24 bits, the type in bits 28..30 and
 * the read-only flag in bit 31.
 */
import { ProgramFault } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef } from "./abi.js";
import { def, E, memCheck } from "./util.js";

export const BPF_FUNC_dynptr_from_mem = 197;
export const BPF_FUNC_dynptr_read = 201;
export const BPF_FUNC_dynptr_write = 202;
export const BPF_FUNC_dynptr_data = 203;

/** sizeof(struct bpf_dynptr). include/uapi/linux/bpf.h. */
export const BPF_DYNPTR_SIZE = 16;
/** enum bpf_dynptr_type. include/linux/bpf.h. */
export const BPF_DYNPTR_TYPE_INVALID = 0;
export const BPF_DYNPTR_TYPE_LOCAL = 1;
export const BPF_DYNPTR_TYPE_RINGBUF = 2;
/** kernel/bpf/helpers.c: DYNPTR_MAX_SIZE, DYNPTR_TYPE_SHIFT, DYNPTR_SIZE_MASK, DYNPTR_RDONLY_BIT. */
export const DYNPTR_MAX_SIZE = (1 << 24) - 1;
const DYNPTR_TYPE_SHIFT = 28;
const DYNPTR_SIZE_MASK = 0xffffff;
const DYNPTR_RDONLY_BIT = 0x80000000;

/** A dynptr as the helpers read it. */
export interface Dynptr {
  /** Data pointer (0 for a NULL dynptr). The vm's pointers fit 32 bits; a larger one is never valid. */
  data: number;
  dataHi: number;
  size: number;
  offset: number;
  type: number;
  rdonly: boolean;
}

export function readDynptr(space: AddressSpace, ptr: number, out: Dynptr): Dynptr {
  const dv = space.dv;
  out.data = dv.getUint32(ptr, true);
  out.dataHi = dv.getUint32(ptr + 4, true);
  const sizeWord = dv.getUint32(ptr + 8, true);
  out.size = sizeWord & DYNPTR_SIZE_MASK;
  out.type = (sizeWord & ~DYNPTR_RDONLY_BIT) >>> DYNPTR_TYPE_SHIFT;
  out.rdonly = (sizeWord & DYNPTR_RDONLY_BIT) !== 0;
  out.offset = dv.getUint32(ptr + 12, true);
  return out;
}

/** bpf_dynptr_init(). */
export function initDynptr(space: AddressSpace, ptr: number, data: number, type: number, offset: number, size: number): void {
  const dv = space.dv;
  dv.setUint32(ptr, data >>> 0, true);
  dv.setUint32(ptr + 4, 0, true);
  dv.setUint32(ptr + 8, (size | (type << DYNPTR_TYPE_SHIFT)) >>> 0, true);
  dv.setUint32(ptr + 12, offset >>> 0, true);
}

/** bpf_dynptr_set_null(). */
export function nullDynptr(space: AddressSpace, ptr: number): void {
  space.u8.fill(0, ptr, ptr + BPF_DYNPTR_SIZE);
}

/** bpf_dynptr_check_off_len(): 0 or -E2BIG. */
function checkOffLen(d: Dynptr, offset: number, len: number): number {
  return len > d.size || offset > d.size - len ? -E.E2BIG : 0;
}

export function dynptrHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const space = (): AddressSpace => services.space;
  const d: Dynptr = { data: 0, dataHi: 0, size: 0, offset: 0, type: 0, rdonly: false };

  /** Reads the dynptr argument; in checked mode the struct must be readable. */
  const load = (call: HelperCall, n: number): Dynptr => {
    const ptr = call.addr(n);
    check(ptr, BPF_DYNPTR_SIZE, false, call.pc);
    return readDynptr(space(), ptr, d);
  };

  /** The address of dynptr bytes [off, off+len): checked against the regions for unverified programs. */
  const dataAt = (call: HelperCall, dp: Dynptr, off: number, len: number, write: boolean): number => {
    if (dp.dataHi !== 0) throw new ProgramFault(call.pc, "dynptr data pointer is outside the vm");
    const a = dp.data + dp.offset + off;
    check(a, len, write, call.pc);
    return a;
  };

  return [
    /** bpf_dynptr_from_mem(data, size, flags, ptr): a LOCAL dynptr over [data, data+size). */
    def(BPF_FUNC_dynptr_from_mem, (call) => {
      const data = call.addr(1);
      const size = call.u32(2);
      const flagsNonzero = call.u32(3) !== 0 || call.hi(3) !== 0;
      const ptr = call.addr(4);
      check(ptr, BPF_DYNPTR_SIZE, true, call.pc);
      check(data, size, true, call.pc);
      let err = size > DYNPTR_MAX_SIZE ? -E.E2BIG : 0;
      if (!err && flagsNonzero) err = -E.EINVAL;
      if (err) {
        nullDynptr(space(), ptr);
        return call.ret(err);
      }
      initDynptr(space(), ptr, data, BPF_DYNPTR_TYPE_LOCAL, 0, size);
      call.ret(0);
    }),

    /** bpf_dynptr_read(dst, len, src, offset, flags). */
    def(BPF_FUNC_dynptr_read, (call) => {
      const dst = call.addr(1);
      const len = call.u32(2);
      const offset = call.u32(4);
      const flagsNonzero = call.u32(5) !== 0 || call.hi(5) !== 0;
      check(dst, len, true, call.pc);
      const dp = load(call, 3);
      if ((dp.data === 0 && dp.dataHi === 0) || flagsNonzero) return call.ret(-E.EINVAL);
      const err = checkOffLen(dp, offset, len);
      if (err) return call.ret(err);
      if (dp.type !== BPF_DYNPTR_TYPE_LOCAL && dp.type !== BPF_DYNPTR_TYPE_RINGBUF) {
        // skb / xdp dynptrs come from kfuncs the vm does not offer.
        throw new ProgramFault(call.pc, `bpf_dynptr_read: unknown dynptr type ${dp.type}`);
      }
      const src = dataAt(call, dp, offset, len, false);
      // memmove: source and destination may overlap.
      space().u8.copyWithin(dst, src, src + len);
      call.ret(0);
    }),

    /** bpf_dynptr_write(dst, offset, src, len, flags). */
    def(BPF_FUNC_dynptr_write, (call) => {
      const offset = call.u32(2);
      const src = call.addr(3);
      const len = call.u32(4);
      const flagsNonzero = call.u32(5) !== 0 || call.hi(5) !== 0;
      check(src, len, false, call.pc);
      const dp = load(call, 1);
      if ((dp.data === 0 && dp.dataHi === 0) || dp.rdonly) return call.ret(-E.EINVAL);
      const err = checkOffLen(dp, offset, len);
      if (err) return call.ret(err);
      if (dp.type !== BPF_DYNPTR_TYPE_LOCAL && dp.type !== BPF_DYNPTR_TYPE_RINGBUF) {
        throw new ProgramFault(call.pc, `bpf_dynptr_write: unknown dynptr type ${dp.type}`);
      }
      if (flagsNonzero) return call.ret(-E.EINVAL);
      const dst = dataAt(call, dp, offset, len, true);
      space().u8.copyWithin(dst, src, src + len);
      call.ret(0);
    }),

    /** bpf_dynptr_data(ptr, offset, len): a pointer into the dynptr's data, or NULL. */
    def(BPF_FUNC_dynptr_data, (call) => {
      const offset = call.u32(2);
      const len = call.u32(3);
      const dp = load(call, 1);
      if ((dp.data === 0 && dp.dataHi === 0) || checkOffLen(dp, offset, len) || dp.rdonly) return call.ret(0);
      if (dp.type !== BPF_DYNPTR_TYPE_LOCAL && dp.type !== BPF_DYNPTR_TYPE_RINGBUF) return call.ret(0);
      call.ret64(dataAt(call, dp, offset, len, false), 0);
    }),
  ];
}
