/**
 * Memory-probing helpers (kernel/trace/bpf_trace.c: bpf_probe_read_*,
 * bpf_probe_write_user; kernel/bpf/helpers.c: bpf_copy_from_user*).
 *
 * The vm has one address space: "kernel" and "user" memory are the same
 * mapped regions, and a bad address is one outside them (see util.ts). On a
 * bad address the destination is zeroed and the helper fails as the kernel's
 * does: -EFAULT, or -ERANGE for a kernel read of a user-range address (the
 * guard page, where NULL lands: copy_from_kernel_nofault_allowed() refuses it
 * on x86-64). The `_str` variants return the bytes copied including the NUL;
 * a string longer than the buffer is cut, NUL-terminated, and the buffer size
 * returned.
 */
import type { VmServices } from "../runtime/services.js";
import type { HelperCall, HelperDef, HelperFn } from "./abi.js";
import { helperRuntime } from "./runtime.js";
import { def, E, isMapped, isUserRange, memCheck, strncpyNofault } from "./util.js";

export const BPF_FUNC_probe_read = 4;
export const BPF_FUNC_probe_write_user = 36;
export const BPF_FUNC_probe_read_str = 45;
export const BPF_FUNC_probe_read_user = 112;
export const BPF_FUNC_probe_read_kernel = 113;
export const BPF_FUNC_probe_read_user_str = 114;
export const BPF_FUNC_probe_read_kernel_str = 115;
export const BPF_FUNC_copy_from_user = 148;
export const BPF_FUNC_copy_from_user_task = 191;

/** Which nofault accessor a helper stands for. */
type Space = "kernel" | "user" | "compat";

/**
 * How x86-64 classifies an address the vm cannot hold (upper word set):
 * below TASK_SIZE_MAX (2^47 - 4 KiB) it is user space; from 0xffff8000_00000000
 * it is canonical kernel space (unmapped here: EFAULT); in between it is
 * non-canonical (copy_from_kernel_nofault_allowed() refuses it: ERANGE).
 */
function farKind(hi: number): "user" | "kernel" | "noncanonical" {
  if (hi < 0x8000) return "user";
  return hi >= 0xffff8000 ? "kernel" : "noncanonical";
}

/** bpf_probe_read / _str pick the accessor by address: below TASK_SIZE is user memory. */
function effective(call: HelperCall, n: number, kind: Space): "kernel" | "user" {
  if (kind !== "compat") return kind;
  const hi = call.hi(n);
  if (hi !== 0) return farKind(hi) === "user" ? "user" : "kernel";
  return isUserRange(call.u32(n)) ? "user" : "kernel";
}

/** Whether a kernel read of this address is refused outright (ERANGE) rather than attempted. */
function kernelRange(call: HelperCall, n: number): "refused" | "attempted" {
  const hi = call.hi(n);
  if (hi !== 0) return farKind(hi) === "kernel" ? "attempted" : "refused";
  return isUserRange(call.u32(n)) ? "refused" : "attempted";
}

export function memoryHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const rt = helperRuntime(services);

  /** -errno for a read of [src, src+len) through `kind`, or 0 when it is readable. */
  const readError = (call: HelperCall, srcArg: number, len: number, kind: Space): number => {
    const k = effective(call, srcArg, kind);
    if (k === "kernel" && kernelRange(call, srcArg) === "refused") return -E.ERANGE;
    if (call.hi(srcArg) !== 0 || !isMapped(services.space, call.u32(srcArg), len)) return -E.EFAULT;
    return 0;
  };

  /** bpf_probe_read{,_user,_kernel}(dst, size, unsafe_ptr): 0, or the error with dst zeroed. */
  const read = (kind: Space): HelperFn => (call) => {
    const dst = call.addr(1);
    const size = call.u32(2);
    check(dst, size, true, call.pc);
    // Even an empty kernel read of a user-range address is ERANGE (the range check comes first).
    const err = readError(call, 3, size, kind);
    const u8 = services.space.u8;
    if (err) {
      u8.fill(0, dst, dst + size);
      return call.ret(err);
    }
    const src = call.u32(3);
    u8.copyWithin(dst, src, src + size);
    call.ret(0);
  };

  /** bpf_probe_read{,_user,_kernel}_str(dst, size, unsafe_ptr). */
  const readStr = (kind: Space): HelperFn => (call) => {
    const dst = call.addr(1);
    const size = call.u32(2);
    check(dst, size, true, call.pc);
    if (size === 0) return call.ret(0);
    const src = call.u32(3);
    const far = call.hi(3) !== 0;
    const k = effective(call, 3, kind);
    const u8 = services.space.u8;
    let ret: number;
    if (k === "kernel" && kernelRange(call, 3) === "refused") ret = -E.ERANGE;
    else if (far) ret = -E.EFAULT;
    else if (dst <= src + size && src <= dst + size) {
      // Overlapping buffers: stage, so the copy reads the source as it was.
      const tmp = new Uint8Array(size);
      ret = strncpyNofault(services.space, tmp, 0, src, size);
      if (ret > 0) u8.set(tmp.subarray(0, ret), dst);
    } else {
      ret = strncpyNofault(services.space, u8, dst, src, size);
    }
    // The whole buffer is cleared on error, so ignored errors never leak stale bytes.
    if (ret < 0) u8.fill(0, dst, dst + size);
    call.ret(ret);
  };

  /** bpf_copy_from_user(dst, size, user_ptr): 0, or -EFAULT with dst zeroed. */
  const copyFromUser: HelperFn = (call) => {
    const dst = call.addr(1);
    const size = call.u32(2);
    check(dst, size, true, call.pc);
    if (size === 0) return call.ret(0);
    const u8 = services.space.u8;
    if (readError(call, 3, size, "user")) {
      u8.fill(0, dst, dst + size);
      return call.ret(-E.EFAULT);
    }
    const src = call.u32(3);
    u8.copyWithin(dst, src, src + size);
    call.ret(0);
  };

  /**
   * bpf_copy_from_user_task(dst, size, user_ptr, task, flags): the vm has one
   * task; another task's memory cannot be reached (EFAULT, dst zeroed).
   */
  const copyFromUserTask: HelperFn = (call) => {
    const dst = call.addr(1);
    const size = call.u32(2);
    check(dst, size, true, call.pc);
    if (call.u32(5) !== 0 || call.hi(5) !== 0) return call.ret(-E.EINVAL);
    if (size === 0) return call.ret(0);
    const u8 = services.space.u8;
    const ownTask = call.u32(4) === rt.taskAddr && call.hi(4) === 0;
    if (!ownTask || readError(call, 3, size, "user")) {
      u8.fill(0, dst, dst + size);
      return call.ret(-E.EFAULT);
    }
    const src = call.u32(3);
    u8.copyWithin(dst, src, src + size);
    call.ret(0);
  };

  /**
   * bpf_probe_write_user(unsafe_ptr, src, size): writes into "user" memory —
   * in the vm, any writable mapped region; anything else is EFAULT
   * (copy_to_user_nofault()).
   */
  const writeUser: HelperFn = (call) => {
    const src = call.addr(2);
    const size = call.u32(3);
    check(src, size, false, call.pc);
    const dst = call.u32(1);
    if (call.hi(1) !== 0 || !isMapped(services.space, dst, size, true)) return call.ret(-E.EFAULT);
    services.space.u8.copyWithin(dst, src, src + size);
    call.ret(0);
  };

  return [
    def(BPF_FUNC_probe_read, read("compat")),
    def(BPF_FUNC_probe_read_str, readStr("compat")),
    def(BPF_FUNC_probe_read_user, read("user")),
    def(BPF_FUNC_probe_read_kernel, read("kernel")),
    def(BPF_FUNC_probe_read_user_str, readStr("user")),
    def(BPF_FUNC_probe_read_kernel_str, readStr("kernel")),
    def(BPF_FUNC_copy_from_user, copyFromUser),
    def(BPF_FUNC_copy_from_user_task, copyFromUserTask),
    def(BPF_FUNC_probe_write_user, writeUser),
  ];
}
