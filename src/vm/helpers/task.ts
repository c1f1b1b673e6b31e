/**
 * CPU, task and id helpers (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c).
 * The "current task" is the host's (HostEnv.task): the vm runs programs on
 * behalf of the process hosting it. There is no task_struct: get_current_task
 * returns the runtime's pseudo task object (runtime.ts).
 */
import { PROC_PID_INIT_INO } from "../host.js";
import { LocalStorageMap } from "../maps/local_storage.js";
import { BPF_MAP_TYPE } from "../maps/uapi.js";
import type { VmServices } from "../runtime/services.js";
import type { HelperDef } from "./abi.js";
import { helperRuntime } from "./runtime.js";
import { E, def, mapArg, memCheck, wrongMap } from "./util.js";

export const BPF_FUNC_get_prandom_u32 = 7;
export const BPF_FUNC_get_smp_processor_id = 8;
export const BPF_FUNC_get_current_pid_tgid = 14;
export const BPF_FUNC_get_current_uid_gid = 15;
export const BPF_FUNC_get_current_comm = 16;
export const BPF_FUNC_get_current_task = 35;
export const BPF_FUNC_get_numa_node_id = 42;
export const BPF_FUNC_get_current_cgroup_id = 80;
export const BPF_FUNC_send_signal = 109;
export const BPF_FUNC_send_signal_thread = 117;
export const BPF_FUNC_get_ns_current_pid_tgid = 120;
export const BPF_FUNC_get_current_ancestor_cgroup_id = 123;
export const BPF_FUNC_get_current_task_btf = 158;
export const BPF_FUNC_get_func_ip = 173;
export const BPF_FUNC_get_attach_cookie = 174;
export const BPF_FUNC_task_storage_get = 156;
export const BPF_FUNC_task_storage_delete = 157;

/** include/linux/sched.h, TASK_COMM_LEN. */
export const TASK_COMM_LEN = 16;
/** sizeof(struct bpf_pidns_info): u32 pid, u32 tgid. include/uapi/linux/bpf.h. */
const BPF_PIDNS_INFO_SIZE = 8;
/** include/uapi/asm-generic/signal.h, _NSIG: valid_signal() accepts 0.._NSIG. */
const NSIG = 64;

const encoder = new TextEncoder();

/** The current task's comm as the kernel keeps it: at most TASK_COMM_LEN - 1 bytes. */
export function commBytes(comm: string): Uint8Array {
  return encoder.encode(comm).subarray(0, TASK_COMM_LEN - 1);
}

export function taskHelpers(services: VmServices): HelperDef[] {
  const check = memCheck(services);
  const host = services.host;
  const rt = helperRuntime(services);
  const map = mapArg(services);

  /**
   * The task-storage owner a task pointer stands for: the vm has one task (the
   * pseudo task_struct), owned by the host task's pid; NULL or any other
   * pointer is no task.
   */
  const taskOwner = (call: Parameters<HelperDef["fn"]>[0], n: number): number =>
    call.hi(n) === 0 && call.u32(n) === rt.taskAddr ? host.task.pid : -1;

  const taskStorage = (call: Parameters<HelperDef["fn"]>[0], id: number): LocalStorageMap => {
    const m = map(call, 1);
    if (!(m instanceof LocalStorageMap) || m.type !== BPF_MAP_TYPE.TASK_STORAGE) throw wrongMap(call, m, id === BPF_FUNC_task_storage_get ? "task_storage_get" : "task_storage_delete", id);
    return m;
  };

  /** bpf_send_signal_common(): EINVAL for a signal number past _NSIG, EPERM for init, then the host. */
  const signal = (scope: "process" | "thread"): HelperDef["fn"] => (call) => {
    const sig = call.u32(1);
    if (sig > NSIG) return call.ret(-E.EINVAL);
    // is_global_init(): never signal pid 1.
    if (host.task.tgid === 1) return call.ret(-E.EPERM);
    call.ret(host.sendSignal ? host.sendSignal(sig, scope) : -E.EPERM);
  };

  return [
    def(BPF_FUNC_get_prandom_u32, (call) => call.ret64(host.randomU32(), 0)),
    def(BPF_FUNC_get_smp_processor_id, (call) => call.ret64(call.exec.cpu, 0)),
    def(BPF_FUNC_get_numa_node_id, (call) => call.ret64(host.numaNode, 0)),
    // (u64)tgid << 32 | pid
    def(BPF_FUNC_get_current_pid_tgid, (call) => call.ret64(host.task.pid, host.task.tgid)),
    // (u64)gid << 32 | uid
    def(BPF_FUNC_get_current_uid_gid, (call) => call.ret64(host.task.uid, host.task.gid)),
    /** bpf_get_current_comm(buf, size): strscpy_pad() — cut to size - 1, NUL-terminated, zero-padded; 0. */
    def(BPF_FUNC_get_current_comm, (call) => {
      const buf = call.addr(1);
      const size = call.u32(2);
      check(buf, size, true, call.pc);
      const u8 = services.space.u8;
      u8.fill(0, buf, buf + size);
      if (size > 0) {
        const c = commBytes(host.task.comm);
        u8.set(c.subarray(0, Math.min(c.length, size - 1)), buf);
      }
      call.ret(0);
    }),
    def(BPF_FUNC_get_current_task, (call) => call.ret64(rt.taskAddr, 0)),
    def(BPF_FUNC_get_current_task_btf, (call) => call.ret64(rt.taskAddr, 0)),
    /** bpf_get_current_cgroup_id(): the id of the task's cgroup v2 cgroup. */
    def(BPF_FUNC_get_current_cgroup_id, (call) => {
      const ids = host.cgroupIds ?? [1n];
      call.retBig(ids.length ? ids[ids.length - 1] : 0n);
    }),
    /** bpf_get_current_ancestor_cgroup_id(level): the ancestor at `level` (root 0), 0 past the task's own level. */
    def(BPF_FUNC_get_current_ancestor_cgroup_id, (call) => {
      const ids = host.cgroupIds ?? [1n];
      const level = call.i32(1);
      call.retBig(level >= 0 && level < ids.length ? ids[level] : 0n);
    }),
    /** bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size). */
    def(BPF_FUNC_get_ns_current_pid_tgid, (call) => {
      const nsdata = call.addr(3);
      const size = call.u32(4);
      check(nsdata, size, true, call.pc);
      const ns = host.pidNamespace ?? { dev: 0, ino: PROC_PID_INIT_INO, pid: host.task.pid, tgid: host.task.tgid };
      // dev must fit a dev_t (u32); the namespace must be the task's.
      const ok = size === BPF_PIDNS_INFO_SIZE && call.hi(1) === 0 &&
        call.u32(1) === ns.dev >>> 0 && call.hi(2) === 0 && call.u32(2) === ns.ino >>> 0;
      const u8 = services.space.u8;
      if (!ok) {
        u8.fill(0, nsdata, nsdata + size);
        return call.ret(-E.EINVAL);
      }
      services.space.dv.setUint32(nsdata, ns.pid >>> 0, true);
      services.space.dv.setUint32(nsdata + 4, ns.tgid >>> 0, true);
      call.ret(0);
    }),
    /** bpf_get_func_ip(ctx): the traced function's address where the hook has one, else 0. */
    def(BPF_FUNC_get_func_ip, (call) => call.ret(services.current().funcIp ?? 0)),
    /** bpf_get_attach_cookie(ctx): the cookie of the link that fired (0 without one). */
    def(BPF_FUNC_get_attach_cookie, (call) => {
      const r = services.current();
      call.ret64(r.attachCookieLo ?? 0, r.attachCookieHi ?? 0);
    }),
    /**
     * bpf_task_storage_get(map, task, value, flags): the task's value, created
     * (from value, or zeroed) with BPF_LOCAL_STORAGE_GET_F_CREATE; NULL for no
     * task or unknown flags (kernel/bpf/bpf_task_storage.c).
     */
    def(BPF_FUNC_task_storage_get, (call) => {
      const m = taskStorage(call, BPF_FUNC_task_storage_get);
      const owner = taskOwner(call, 2);
      const init = call.u32(3);
      if (init !== 0 || call.hi(3) !== 0) check(call.addr(3), m.valueSize, false, call.pc);
      const flags = call.hi(4) !== 0 ? 0xffffffff : call.u32(4);
      call.ret64(owner < 0 ? 0 : m.storageGet(owner, init, flags), 0);
    }),
    /** bpf_task_storage_delete(map, task): 0, -ENOENT, or -EINVAL for no task. */
    def(BPF_FUNC_task_storage_delete, (call) => {
      const m = taskStorage(call, BPF_FUNC_task_storage_delete);
      const owner = taskOwner(call, 2);
      call.ret(owner < 0 ? -E.EINVAL : m.storageDelete(owner));
    }),
    def(BPF_FUNC_send_signal, signal("process")),
    def(BPF_FUNC_send_signal_thread, signal("thread")),
  ];
}
