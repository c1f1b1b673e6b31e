/**
 * Program (src/api/types.ts) over a kernel program: BPF_PROG_TEST_RUN, attach
 * to any hook the kernel offers (with a default target from the section name),
 * the xlated image, pins.
 */
import type { AttachTarget, Program, ProgramInfo, RunOptions, RunResult } from "../../api/types.js";
import { NotSupportedError, TsbpfError } from "../../errors.js";
import type { ProgramSpec } from "../../object/types.js";
import {
  attachCgroup, attachKprobe, attachRawTracepoint, attachTcx, attachTracepoint, attachTracing, attachUprobe, attachXdp,
} from "../attach.js";
import { ProgType, progTypeName } from "../constants.js";
import type { LinuxLink } from "../link.js";
import type { LinuxProgram } from "../program.js";
import { sys } from "../sys.js";
import { defaultAttachTarget } from "./auto-attach.js";
import { LinuxLinkHandle } from "./link.js";

/** An attach that failed; names the program and the hook, keeps the kernel's error as cause. */
export class AttachError extends TsbpfError {
  constructor(
    message: string,
    readonly program: string,
    readonly target: AttachTarget,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Program types whose BPF_PROG_TEST_RUN takes a context but refuses ctx_out,
 * data and repeat (net/bpf/test_run.c: bpf_prog_test_run_raw_tp,
 * bpf_prog_test_run_syscall, bpf_prog_test_run_tracing).
 */
const CTX_IN_ONLY: ReadonlySet<number> = new Set([
  ProgType.BPF_PROG_TYPE_RAW_TRACEPOINT, ProgType.BPF_PROG_TYPE_SYSCALL, ProgType.BPF_PROG_TYPE_TRACING,
]);

export function describeTarget(t: AttachTarget): string {
  switch (t.kind) {
    case "tracepoint": return `tracepoint ${t.category}:${t.name}`;
    case "raw_tracepoint": return `raw_tracepoint ${t.name}`;
    case "tp_btf": case "fentry": case "fexit": case "lsm": return `${t.kind}${t.name ? ` ${t.name}` : ""}`;
    case "kprobe": case "kretprobe": return `${t.kind} ${t.symbol}${t.offset ? `+${t.offset}` : ""}`;
    case "uprobe": case "uretprobe": return `${t.kind} ${t.binary}:${t.symbol ?? t.offset ?? 0}`;
    case "xdp": return `xdp ifindex ${t.ifindex}`;
    case "tcx": return `tcx ${t.direction} ifindex ${t.ifindex}`;
    case "cgroup": return `cgroup ${t.path}`;
    case "hook": return `hook ${t.name}`;
  }
}

export class LinuxProgramHandle implements Program {
  readonly links = new Set<LinuxLinkHandle>();

  constructor(
    readonly spec: ProgramSpec,
    readonly kernel: LinuxProgram,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get sectionName(): string {
    return this.spec.sectionName;
  }

  /** The verifier log (LoadOptions.logLevel > 0; "" otherwise). */
  get verifierLog(): string {
    return this.kernel.verifierLog;
  }

  get info(): ProgramInfo {
    const i = this.kernel.info();
    return {
      id: i.id,
      name: i.name,
      type: progTypeName(i.type),
      typeId: i.type,
      tag: i.tag,
      xlatedInsns: i.xlatedProgLen / 8,
      mapIds: this.kernel.mapIds(),
      gplCompatible: i.gplCompatible,
    };
  }

  /**
   * BPF_PROG_TEST_RUN. Without dataOutSize, data_out has room for the input
   * plus a page and grows once if the kernel needs more; with dataOutSize the
   * kernel's ENOSPC is reported as it happens: dataOut holds what fit,
   * dataSizeOut the full size.
   */
  run(options: RunOptions = {}): RunResult {
    const data = options.data;
    const type = this.kernel.type;
    const ctxInOnly = CTX_IN_ONLY.has(type);
    // BPF_PROG_TYPE_SYSCALL writes the context back into ctx_in: run on a copy and hand that back.
    const ctx = options.ctx ? (type === ProgType.BPF_PROG_TYPE_SYSCALL ? Uint8Array.from(options.ctx) : options.ctx) : undefined;
    const repeat = options.repeat ?? 0;
    const r = this.kernel.testRun({
      ...(data ? { data, dataOutSize: options.dataOutSize ?? data.length + sys().pageSize } : {}),
      ...(ctx ? { ctx } : {}),
      ...(options.ctxOutSize !== undefined ? { ctxOutSize: options.ctxOutSize } : ctxInOnly ? { ctxOutSize: 0 } : {}),
      // Types without repeat support refuse any repeat value; 0 and 1 both mean once.
      repeat: ctxInOnly && repeat <= 1 ? 0 : repeat,
      flags: options.flags ?? 0,
      cpu: options.cpu ?? 0,
      truncate: options.dataOutSize !== undefined,
    });
    const ctxOut = type === ProgType.BPF_PROG_TYPE_SYSCALL ? ctx : r.ctx?.length ? r.ctx : undefined;
    return {
      retval: r.retval >>> 0,
      durationNs: r.duration,
      dataSizeOut: r.dataSizeOut,
      ...(r.data ? { dataOut: r.data } : {}),
      ...(ctxOut ? { ctxOut } : {}),
    };
  }

  /** Attaches to `target`, or to what the section name implies (SEC("tracepoint/syscalls/sys_enter_openat")). */
  attach(target?: AttachTarget): LinuxLinkHandle {
    const t = target ?? defaultAttachTarget(this.spec.sectionName);
    let link: LinuxLink;
    try {
      link = this.attachKernel(t);
    } catch (e) {
      if (e instanceof NotSupportedError) throw e;
      throw new AttachError(`attach program ${this.name} to ${describeTarget(t)}: ${(e as Error).message}`, this.name, t, { cause: e });
    }
    const handle = new LinuxLinkHandle(link, t, () => this.links.delete(handle));
    this.links.add(handle);
    return handle;
  }

  private attachKernel(t: AttachTarget): LinuxLink {
    const p = this.kernel;
    switch (t.kind) {
      case "tracepoint": return attachTracepoint(p, t.category, t.name);
      case "raw_tracepoint": return attachRawTracepoint(p, t.name);
      case "tp_btf": case "fentry": case "fexit": case "lsm": {
        if (p.type !== ProgType.BPF_PROG_TYPE_TRACING && p.type !== ProgType.BPF_PROG_TYPE_LSM) {
          throw new TsbpfError(`a ${progTypeName(p.type)} program cannot attach to ${t.kind}`);
        }
        // The kernel fixed the target at load time (attach_btf_id from the section name).
        if (t.name && t.name !== this.spec.attachTarget) {
          throw new TsbpfError(`the target was fixed at load time to '${this.spec.attachTarget}' (section '${this.spec.sectionName}')`);
        }
        return attachTracing(p);
      }
      case "kprobe": case "kretprobe":
        return attachKprobe(p, t.symbol, { retprobe: t.kind === "kretprobe", ...(t.offset ? { offset: t.offset } : {}) });
      case "uprobe": case "uretprobe":
        return attachUprobe(p, t.binary, t.symbol ?? t.offset ?? 0, {
          retprobe: t.kind === "uretprobe",
          ...(t.pid !== undefined ? { pid: t.pid } : {}),
          ...(t.symbol !== undefined && t.offset ? { offset: t.offset } : {}),
        });
      case "xdp": return attachXdp(p, t.ifindex, { flags: t.flags ?? 0 });
      case "tcx": return attachTcx(p, t.ifindex, t.direction);
      case "cgroup": {
        const attachType = t.attachType ?? this.spec.expectedAttachType;
        return attachCgroup(p, t.path, attachType);
      }
      case "hook":
        throw new NotSupportedError(`hook '${t.name}'`, "hook points are the vm backend's user-space attach points");
    }
  }

  xlated(): Uint8Array {
    return this.kernel.xlatedInsns();
  }

  pin(path: string): void {
    this.kernel.pin(path);
  }

  /** Closes the program and every link attached through it that is still open. */
  close(): void {
    for (const l of [...this.links]) l.close();
    this.kernel.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
