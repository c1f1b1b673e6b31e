/**
 * Attaching programs to hooks; each returns a LinuxLink that detaches on close.
 *
 *   tracepoint        perf_event_open(PERF_TYPE_TRACEPOINT, tracefs id) + BPF_LINK_CREATE(BPF_PERF_EVENT)
 *   kprobe/kretprobe  perf_event_open(kprobe PMU, func, offset)         + BPF_LINK_CREATE(BPF_PERF_EVENT)
 *   uprobe/uretprobe  perf_event_open(uprobe PMU, path, file offset)    + BPF_LINK_CREATE(BPF_PERF_EVENT)
 *   raw_tracepoint    BPF_RAW_TRACEPOINT_OPEN(name)
 *   tp_btf, fentry, fexit, fmod_ret, lsm
 *                     BPF_LINK_CREATE(expected attach type) or BPF_RAW_TRACEPOINT_OPEN(NULL) before 5.10;
 *                     the target was fixed at load time (attach_btf_id: see *LoadOptions below)
 *   xdp               BPF_LINK_CREATE(BPF_XDP, ifindex)      (5.9)
 *   tcx               BPF_LINK_CREATE(BPF_TCX_INGRESS/EGRESS) (6.6)
 *   cgroup            BPF_LINK_CREATE(cgroup dir fd, attach type) (5.7)
 *
 * Perf-event hooks fall back to PERF_EVENT_IOC_SET_BPF + ENABLE where the kernel
 * has no BPF_PERF_EVENT links (before 5.15), as libbpf does.
 */
import { closeSync, constants, openSync } from "node:fs";
import { BpfCommandError, NotSupportedError, errnoName } from "../errors.js";
import {
  PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF, PERF_TYPE_TRACEPOINT,
} from "./attr/perf-event.js";
import { addr, cString, linkCreate, linkCreateRaw, rawTracepointOpen } from "./bpf.js";
import { AttachType, ProgType } from "./constants.js";
import { ElfSymbols } from "./elf-symbols.js";
import { Fd } from "./fd.js";
import { tracepointId } from "./fs.js";
import { BtfKind, vmlinuxTypeId } from "./kernel-btf.js";
import { type AttachKind, LinuxLink } from "./link.js";
import { perfEventOpen, pmuConfigBit, pmuType } from "./perf.js";
import type { LinuxProgram } from "./program.js";
import { sys } from "./sys.js";

const EINVAL = 22;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

/** Attaches a program to an open perf event (tracepoint, kprobe, uprobe, or one the caller opened). */
export function attachPerfEvent(program: LinuxProgram, perf: Fd, kind: AttachKind, cookie = 0n): LinuxLink {
  const r = linkCreateRaw({
    prog_fd: program.fd.value, target_fd: perf.value, attach_type: AttachType.BPF_PERF_EVENT,
    ...(cookie ? { perf_event_bpf_cookie: cookie } : {}),
  });
  if (r >= 0) return new LinuxLink(kind, new Fd(r, `${kind} link`), perf, program);
  // Before 5.15 the kernel refuses perf-event links (EINVAL); attach the old way.
  if (r !== -EINVAL && r !== -EOPNOTSUPP && r !== -ENOTSUPP) {
    perf.close();
    throw new BpfCommandError(errnoName(-r), `BPF_LINK_CREATE (${kind})`);
  }
  if (cookie) {
    perf.close();
    throw new NotSupportedError("BPF cookies on perf-event attachments", "needs BPF_PERF_EVENT links, Linux 5.15");
  }
  const s = sys();
  for (const [req, arg, what] of [[PERF_EVENT_IOC_SET_BPF, program.fd.value, "PERF_EVENT_IOC_SET_BPF"], [PERF_EVENT_IOC_ENABLE, 0, "PERF_EVENT_IOC_ENABLE"]] as const) {
    const e = s.ioctl(perf.value, req, arg);
    if (e < 0) {
      perf.close();
      throw new BpfCommandError(errnoName(-e), `${what} (${kind})`);
    }
  }
  return new LinuxLink(kind, null, perf, program);
}

/** A tracepoint (tracefs events/CATEGORY/NAME), for BPF_PROG_TYPE_TRACEPOINT programs. */
export function attachTracepoint(program: LinuxProgram, category: string, name: string, opts: { cookie?: bigint } = {}): LinuxLink {
  const id = tracepointId(category, name);
  const perf = perfEventOpen({ type: PERF_TYPE_TRACEPOINT, config: id }, { pid: -1, cpu: 0, what: `tracepoint ${category}:${name}` });
  return attachPerfEvent(program, perf, "tracepoint", opts.cookie);
}

/** A raw tracepoint by name (BPF_PROG_TYPE_RAW_TRACEPOINT programs). */
export function attachRawTracepoint(program: LinuxProgram, name: string, opts: { cookie?: bigint } = {}): LinuxLink {
  const fd = rawTracepointOpen(name, program.fd.value, opts.cookie);
  return new LinuxLink("raw_tracepoint", new Fd(fd, `raw_tracepoint ${name}`), null, program);
}

/** Load options for a tp_btf program on raw tracepoint `name` (BTF typedef btf_trace_<name>). */
export function tpBtfLoadOptions(name: string): { type: number; expectedAttachType: number; attachBtfId: number } {
  return {
    type: ProgType.BPF_PROG_TYPE_TRACING,
    expectedAttachType: AttachType.BPF_TRACE_RAW_TP,
    attachBtfId: vmlinuxTypeId(`btf_trace_${name}`, BtfKind.TYPEDEF),
  };
}

/** Load options for fentry / fexit / fmod_ret on kernel function `fn`. */
export function tracingLoadOptions(kind: "fentry" | "fexit" | "fmod_ret", fn: string): { type: number; expectedAttachType: number; attachBtfId: number } {
  const attach = { fentry: AttachType.BPF_TRACE_FENTRY, fexit: AttachType.BPF_TRACE_FEXIT, fmod_ret: AttachType.BPF_MODIFY_RETURN }[kind];
  return { type: ProgType.BPF_PROG_TYPE_TRACING, expectedAttachType: attach, attachBtfId: vmlinuxTypeId(fn, BtfKind.FUNC) };
}

/** Load options for an LSM program on hook `hook` (BTF function bpf_lsm_<hook>). */
export function lsmLoadOptions(hook: string): { type: number; expectedAttachType: number; attachBtfId: number } {
  return { type: ProgType.BPF_PROG_TYPE_LSM, expectedAttachType: AttachType.BPF_LSM_MAC, attachBtfId: vmlinuxTypeId(`bpf_lsm_${hook}`, BtfKind.FUNC) };
}

const TRACING_KINDS: Record<number, AttachKind> = {
  [AttachType.BPF_TRACE_RAW_TP]: "tp_btf",
  [AttachType.BPF_TRACE_FENTRY]: "fentry",
  [AttachType.BPF_TRACE_FEXIT]: "fexit",
  [AttachType.BPF_MODIFY_RETURN]: "fmod_ret",
  [AttachType.BPF_LSM_MAC]: "lsm",
};

/**
 * Attaches a BTF-targeted program (tp_btf, fentry, fexit, fmod_ret, lsm) to the
 * target chosen at load time. `program.expectedAttachType` says which.
 */
export function attachTracing(program: LinuxProgram, opts: { cookie?: bigint } = {}): LinuxLink {
  const attachType = program.expectedAttachType;
  const kind = TRACING_KINDS[attachType] ?? "other";
  const r = linkCreateRaw({
    prog_fd: program.fd.value, attach_type: attachType,
    ...(opts.cookie ? { tracing_cookie: opts.cookie } : {}),
  });
  if (r >= 0) return new LinuxLink(kind, new Fd(r, `${kind} link`), null, program);
  if (r !== -EINVAL || opts.cookie) throw new BpfCommandError(errnoName(-r), `BPF_LINK_CREATE (${kind})`);
  // Before 5.10 tracing programs attach through BPF_RAW_TRACEPOINT_OPEN with no name.
  return new LinuxLink(kind, new Fd(rawTracepointOpen(null, program.fd.value), `${kind} link`), null, program);
}

/** A kprobe or kretprobe on kernel function `fn` (+ offset), via the kprobe PMU. */
export function attachKprobe(program: LinuxProgram, fn: string, opts: { retprobe?: boolean; offset?: number; cookie?: bigint } = {}): LinuxLink {
  const type = pmuType("kprobe");
  const ret = opts.retprobe ? 1n << BigInt(pmuConfigBit("kprobe", "retprobe")) : 0n;
  const name = cString(fn);
  const perf = perfEventOpen(
    { type, config: ret, kprobe_func: addr(name), probe_offset: opts.offset ?? 0 },
    { pid: -1, cpu: 0, what: `${opts.retprobe ? "kretprobe" : "kprobe"} ${fn}`, keep: [name] },
  );
  return attachPerfEvent(program, perf, opts.retprobe ? "kretprobe" : "kprobe", opts.cookie);
}

export interface UprobeOptions {
  readonly retprobe?: boolean;
  /** Only this process (default: every process that maps the file). */
  readonly pid?: number;
  /** Added to the symbol's offset. */
  readonly offset?: number;
  readonly cookie?: bigint;
}

/**
 * A uprobe or uretprobe on `target` in the ELF file at `path`: a function symbol
 * (looked up in .symtab, then .dynsym) or a file offset.
 */
export function attachUprobe(program: LinuxProgram, path: string, target: string | number, opts: UprobeOptions = {}): LinuxLink {
  const offset = (typeof target === "number" ? target : new ElfSymbols(path).offsetOf(target)) + (opts.offset ?? 0);
  const type = pmuType("uprobe");
  const ret = opts.retprobe ? 1n << BigInt(pmuConfigBit("uprobe", "retprobe")) : 0n;
  const file = cString(path);
  const pid = opts.pid ?? -1;
  const kind = opts.retprobe ? "uretprobe" : "uprobe";
  const perf = perfEventOpen(
    { type, config: ret, uprobe_path: addr(file), probe_offset: offset },
    // perf needs a CPU when not bound to a process, and "any CPU" (-1) when it is.
    { pid, cpu: pid === -1 ? 0 : -1, what: `${kind} ${path}:${target}`, keep: [file] },
  );
  return attachPerfEvent(program, perf, kind, opts.cookie);
}

/** XDP on an interface (ifindex in the calling thread's network namespace). flags: XdpFlags.XDP_FLAGS_*_MODE. */
export function attachXdp(program: LinuxProgram, ifindex: number, opts: { flags?: number } = {}): LinuxLink {
  const fd = linkCreate({ prog_fd: program.fd.value, target_ifindex: ifindex, attach_type: AttachType.BPF_XDP, flags: opts.flags ?? 0 }, `xdp ifindex ${ifindex}`);
  return new LinuxLink("xdp", new Fd(fd, `xdp link ifindex ${ifindex}`), null, program);
}

/** TC through tcx (6.6+): SCHED_CLS programs on ingress or egress. */
export function attachTcx(program: LinuxProgram, ifindex: number, direction: "ingress" | "egress"): LinuxLink {
  const attachType = direction === "ingress" ? AttachType.BPF_TCX_INGRESS : AttachType.BPF_TCX_EGRESS;
  const r = linkCreateRaw({ prog_fd: program.fd.value, target_ifindex: ifindex, attach_type: attachType });
  if (r === -EINVAL) {
    throw new NotSupportedError(`tcx ${direction} link`, "needs Linux 6.6 (BPF_TCX_INGRESS/EGRESS); or the program is not sched_cls");
  }
  if (r < 0) throw new BpfCommandError(errnoName(-r), `BPF_LINK_CREATE (tcx ${direction} ifindex ${ifindex})`);
  return new LinuxLink("tcx", new Fd(r, `tcx ${direction} link`), null, program);
}

/** A cgroup v2 hook (attachType: AttachType.BPF_CGROUP_*) on the cgroup directory `path`. */
export function attachCgroup(program: LinuxProgram, path: string, attachType: number): LinuxLink {
  const dir = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const fd = linkCreate({ prog_fd: program.fd.value, target_fd: dir, attach_type: attachType }, `cgroup ${path}`);
    return new LinuxLink("cgroup", new Fd(fd, `cgroup link ${path}`), null, program);
  } finally {
    // The link holds its own reference to the cgroup.
    closeSync(dir);
  }
}
