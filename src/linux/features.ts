/**
 * What the running kernel supports, asked of the kernel itself (like libbpf's
 * libbpf_probes.c): program types by loading "r0 = 0; exit", map types by
 * creating a tiny map, helpers by loading a call and reading the verifier's
 * verdict, attach mechanisms by trying them. Results are cached per process.
 *
 * `require*` throw NotSupportedError naming the feature and, where known, the
 * kernel version that introduced it; tests use the `*Reason` forms to skip.
 */
import { readFileSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import type { Instruction } from "../isa/instruction.js";
import { btfLoad, linkCreateRaw } from "./bpf.js";
import {
  AttachType, HELPER_NAMES, MAP_TYPE_SINCE, MapFlags, MapType, PROG_TYPE_SINCE, ProgFlags, ProgType,
  mapTypeName, progTypeName,
} from "./constants.js";
import { Fd } from "./fd.js";
import { BtfKind, vmlinuxBtf } from "./kernel-btf.js";
import { LinuxMap } from "./map.js";
import { progLoadRaw } from "./program.js";
import { sys } from "./sys.js";

const EINVAL = 22;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

const RET0: Instruction[] = [
  { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "imm", imm: 0 } },
  { kind: "exit" },
];

/** LINUX_VERSION_CODE of the running kernel (KERNEL_VERSION(a, b, c)), for kprobe programs on old kernels. */
export function kernelVersionCode(): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(readFileSync("/proc/sys/kernel/osrelease", "utf8"));
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** The attributes a program type needs for a minimal load to get past attr checks. */
function probeLoadExtras(type: number): { expectedAttachType?: number; flags?: number; kernVersion?: number; attachBtfId?: number } {
  switch (type) {
    case ProgType.BPF_PROG_TYPE_KPROBE: return { kernVersion: kernelVersionCode() };
    case ProgType.BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return { expectedAttachType: AttachType.BPF_CGROUP_INET4_CONNECT };
    case ProgType.BPF_PROG_TYPE_CGROUP_SOCKOPT: return { expectedAttachType: AttachType.BPF_CGROUP_GETSOCKOPT };
    case ProgType.BPF_PROG_TYPE_SK_LOOKUP: return { expectedAttachType: AttachType.BPF_SK_LOOKUP };
    case ProgType.BPF_PROG_TYPE_NETFILTER: return { expectedAttachType: AttachType.BPF_NETFILTER };
    case ProgType.BPF_PROG_TYPE_SYSCALL: return { flags: ProgFlags.BPF_F_SLEEPABLE };
    case ProgType.BPF_PROG_TYPE_TRACING: return { expectedAttachType: AttachType.BPF_TRACE_FENTRY, attachBtfId: 1 };
    case ProgType.BPF_PROG_TYPE_LSM: return { expectedAttachType: AttachType.BPF_LSM_MAC, attachBtfId: 1 };
    case ProgType.BPF_PROG_TYPE_EXT: case ProgType.BPF_PROG_TYPE_STRUCT_OPS: return { attachBtfId: 1 };
    default: return {};
  }
}

const progCache = new Map<number, boolean>();

/**
 * Whether the kernel knows program type `type`. A type it does not know fails
 * with EINVAL before the verifier runs (no log); anything else — a load, a
 * verifier complaint about the minimal program or its attach target, EPERM under
 * lockdown — means the type exists.
 */
export function probeProgType(type: number): boolean {
  const cached = progCache.get(type);
  if (cached !== undefined) return cached;
  const { ret, log } = progLoadRaw({ type, insns: RET0, ...probeLoadExtras(type) });
  if (ret >= 0) sys().close(ret);
  const ok = ret >= 0 || log.trim() !== "" || (ret !== -EINVAL && ret !== -EOPNOTSUPP);
  progCache.set(type, ok);
  return ok;
}

/** A raw BTF blob: int; struct bpf_spin_lock { int val; }; struct val { int cnt; struct bpf_spin_lock l; } (libbpf's probe BTF). */
function storageProbeBtf(): Uint8Array {
  const strs = Buffer.from("\0bpf_spin_lock\0val\0cnt\0l\0", "latin1");
  const info = (kind: number, vlen: number): number => (kind << 24) | vlen;
  const words = [
    0, info(BtfKind.INT, 0), 4, (1 << 24) | 32, // [1] int: signed, 32 bits
    1, info(BtfKind.STRUCT, 1), 4, 15, 1, 0, // [2] struct bpf_spin_lock { int val; }
    15, info(BtfKind.STRUCT, 2), 8, 19, 1, 0, 23, 2, 32, // [3] struct val { int cnt; struct bpf_spin_lock l; }
  ];
  const types = Buffer.from(new Uint32Array(words).buffer);
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0); // BTF_MAGIC
  hdr.writeUInt8(1, 2); // BTF_VERSION
  hdr.writeUInt32LE(24, 4); // hdr_len
  hdr.writeUInt32LE(0, 8); // type_off
  hdr.writeUInt32LE(types.length, 12);
  hdr.writeUInt32LE(types.length, 16); // str_off
  hdr.writeUInt32LE(strs.length, 20);
  return Buffer.concat([hdr, types, strs]);
}

const mapCache = new Map<number, boolean>();

/** Whether the kernel can create maps of type `type`. */
export function probeMapType(type: number): boolean {
  const cached = mapCache.get(type);
  if (cached !== undefined) return cached;
  let keySize = 4;
  let valueSize = 4;
  let maxEntries = 1;
  let flags = 0;
  let btf: Fd | null = null;
  let inner: LinuxMap | null = null;
  let btfIds: { btfKeyTypeId?: number; btfValueTypeId?: number; btfVmlinuxValueTypeId?: number } = {};
  let expectErrno = 0;
  switch (type) {
    case MapType.BPF_MAP_TYPE_STACK_TRACE: valueSize = 8; break;
    case MapType.BPF_MAP_TYPE_LPM_TRIE: keySize = 8; valueSize = 8; flags = MapFlags.BPF_F_NO_PREALLOC; break;
    case MapType.BPF_MAP_TYPE_CGROUP_STORAGE:
    case MapType.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      keySize = 16; valueSize = 8; maxEntries = 0; break; // sizeof(struct bpf_cgroup_storage_key), padded
    case MapType.BPF_MAP_TYPE_QUEUE: case MapType.BPF_MAP_TYPE_STACK: case MapType.BPF_MAP_TYPE_BLOOM_FILTER:
      keySize = 0; break;
    case MapType.BPF_MAP_TYPE_RINGBUF: case MapType.BPF_MAP_TYPE_USER_RINGBUF:
      keySize = 0; valueSize = 0; maxEntries = sys().pageSize; break;
    case MapType.BPF_MAP_TYPE_ARENA:
      keySize = 0; valueSize = 0; maxEntries = 1; flags = MapFlags.BPF_F_MMAPABLE; break;
    case MapType.BPF_MAP_TYPE_SK_STORAGE: case MapType.BPF_MAP_TYPE_INODE_STORAGE:
    case MapType.BPF_MAP_TYPE_TASK_STORAGE: case MapType.BPF_MAP_TYPE_CGRP_STORAGE:
      valueSize = 8; maxEntries = 0; flags = MapFlags.BPF_F_NO_PREALLOC;
      try {
        btf = new Fd(btfLoad(storageProbeBtf()).fd, "probe BTF");
      } catch {
        mapCache.set(type, false);
        return false;
      }
      btfIds = { btfKeyTypeId: 1, btfValueTypeId: 3 };
      break;
    case MapType.BPF_MAP_TYPE_STRUCT_OPS:
      // A made-up struct_ops value type: a kernel that knows struct_ops says ENOTSUPP.
      btfIds = { btfVmlinuxValueTypeId: 1 };
      expectErrno = ENOTSUPP;
      break;
    case MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS: case MapType.BPF_MAP_TYPE_HASH_OF_MAPS:
      try {
        inner = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
      } catch {
        mapCache.set(type, false);
        return false;
      }
      break;
    default: break;
  }
  let ok: boolean;
  try {
    using m = LinuxMap.create({
      type, keySize, valueSize, maxEntries, flags, ...btfIds,
      ...(btf ? { btfFd: btf.value } : {}), ...(inner ? { innerMapFd: inner.fd.value } : {}),
    });
    ok = m.fd.value >= 0 && expectErrno === 0;
  } catch (e) {
    const errno = (e as { errno?: number }).errno ?? 0;
    ok = expectErrno !== 0 && errno === expectErrno;
  } finally {
    btf?.close();
    inner?.close();
  }
  mapCache.set(type, ok);
  return ok;
}

const helperCache = new Map<string, boolean>();

/**
 * Whether programs of type `progType` may call helper `helper` (BPF_FUNC_* id).
 * The call's arguments are garbage, so the load fails either way; what matters
 * is whether the verifier objects to the helper itself ("unknown func",
 * "invalid func", "cannot use helper") or only to its arguments.
 */
export function probeHelper(progType: number, helper: number): boolean {
  const key = `${progType}/${helper}`;
  const cached = helperCache.get(key);
  if (cached !== undefined) return cached;
  const insns: Instruction[] = [{ kind: "call", target: "helper", imm: helper, off: 0 }, { kind: "exit" }];
  const { ret, log } = progLoadRaw({ type: progType, insns, logLevel: 1, ...probeLoadExtras(progType) });
  if (ret >= 0) sys().close(ret);
  const ok = ret >= 0 || (log !== "" && !/invalid func |unknown func |cannot use helper /.test(log));
  helperCache.set(key, ok);
  return ok;
}

/** NotSupportedError unless the kernel knows program type `type`. */
export function requireProgType(type: number): void {
  if (!probeProgType(type)) {
    const since = PROG_TYPE_SINCE[type];
    throw new NotSupportedError(`program type ${progTypeName(type)}`, since ? `needs Linux ${since}` : undefined);
  }
}

/** NotSupportedError unless the kernel can create maps of type `type`. */
export function requireMapType(type: number): void {
  if (!probeMapType(type)) {
    const since = MAP_TYPE_SINCE[type];
    throw new NotSupportedError(`map type ${mapTypeName(type)}`, since ? `needs Linux ${since}` : undefined);
  }
}

/** NotSupportedError unless programs of `progType` may call `helper`. */
export function requireHelper(progType: number, helper: number): void {
  if (!probeHelper(progType, helper)) {
    throw new NotSupportedError(`helper bpf_${HELPER_NAMES[helper] ?? helper} in ${progTypeName(progType)} programs`);
  }
}

let kprobeReason: string | null | undefined;

/** Why kprobes cannot be attached here (no kprobe PMU), or null. */
export function kprobeUnavailableReason(): string | null {
  if (kprobeReason !== undefined) return kprobeReason;
  try {
    readFileSync("/sys/bus/event_source/devices/kprobe/type");
    return (kprobeReason = null);
  } catch {
    return (kprobeReason = "kernel built without kprobes (CONFIG_KPROBES / CONFIG_KPROBE_EVENTS): no kprobe PMU");
  }
}

const trampolineReasons = new Map<string, string | null>();

/**
 * Why a BTF-trampoline program (fentry, fexit, fmod_ret, lsm) cannot be loaded
 * here, or null: tries a real load against a function every BTF kernel has.
 * Lockdown ("integrity" or "confidentiality") refuses these loads.
 */
export function trampolineUnavailableReason(kind: "fentry" | "fexit" | "lsm"): string | null {
  const cached = trampolineReasons.get(kind);
  if (cached !== undefined) return cached;
  let reason: string | null = null;
  try {
    const index = vmlinuxBtf();
    const target = kind === "lsm" ? "bpf_lsm_file_open" : "bpf_fentry_test1";
    const id = index.find(target, BtfKind.FUNC);
    if (id === undefined) {
      reason = `no BTF function ${target} to probe with`;
    } else {
      const opts = kind === "lsm"
        ? { type: ProgType.BPF_PROG_TYPE_LSM, expectedAttachType: AttachType.BPF_LSM_MAC }
        : { type: ProgType.BPF_PROG_TYPE_TRACING, expectedAttachType: kind === "fentry" ? AttachType.BPF_TRACE_FENTRY : AttachType.BPF_TRACE_FEXIT };
      const { ret, log } = progLoadRaw({ ...opts, insns: RET0, attachBtfId: id });
      if (ret >= 0) sys().close(ret);
      else reason = `${kind} programs refused by this kernel: ${errnoText(-ret)}${log.trim() ? ` (${log.trim().split("\n").pop()})` : lockdownNote()}`;
    }
  } catch (e) {
    reason = (e as Error).message;
  }
  trampolineReasons.set(kind, reason);
  return reason;
}

function errnoText(errno: number): string {
  const names: Record<number, string> = { 1: "EPERM", 13: "EACCES", 22: "EINVAL", 95: "EOPNOTSUPP", 524: "ENOTSUPP" };
  return names[errno] ?? `errno ${errno}`;
}

function lockdownNote(): string {
  try {
    const mode = /\[(\w+)\]/.exec(readFileSync("/sys/kernel/security/lockdown", "utf8"))?.[1];
    return mode && mode !== "none" ? ` (kernel lockdown: ${mode})` : "";
  } catch {
    return " (kernel lockdown or missing trampoline support)";
  }
}

let tcxReason: string | null | undefined;

/** Why tcx links are unavailable (before 6.6), or null: BPF_TCX_INGRESS on ifindex 1 (lo). */
export function tcxUnavailableReason(): string | null {
  if (tcxReason !== undefined) return tcxReason;
  const { ret } = progLoadRaw({ type: ProgType.BPF_PROG_TYPE_SCHED_CLS, insns: RET0 });
  if (ret < 0) return (tcxReason = "cannot load sched_cls programs");
  try {
    // A bogus target ifindex: a kernel with tcx says ENODEV, one without says EINVAL.
    const r = linkCreateRaw({ prog_fd: ret, target_ifindex: 0x7fffffff, attach_type: AttachType.BPF_TCX_INGRESS });
    if (r >= 0) sys().close(r);
    tcxReason = r === -EINVAL ? "tcx links need Linux 6.6" : null;
  } finally {
    sys().close(ret);
  }
  return tcxReason;
}
