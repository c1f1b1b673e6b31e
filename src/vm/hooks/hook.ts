/**
 * Hook points of the vm: where the host, standing in for the kernel's events,
 * runs attached programs. The vm has no real tracepoints, kprobes or network
 * devices; an application embedding eBPF defines the attach points it has
 * (src/vm/hooks/registry.ts) and fires them with the event's data. Each hook
 * builds the context its program types expect, runs every attached program
 * in attach order (with the link's cookie for bpf_get_attach_cookie) and
 * returns what they answered.
 */
import { BpfCommandError } from "../../errors.js";
import type { ProgTypeRunState, RunningProgram, VmServices } from "../runtime/services.js";

/** One program run a hook asks for. */
export interface HookRun {
  readonly typeState?: ProgTypeRunState;
  /** bpf_get_attach_cookie of the link, as (lo, hi) words. */
  readonly cookieLo: number;
  readonly cookieHi: number;
  /** bpf_get_func_ip: the hooked function's address, for kprobe-like hooks. */
  readonly funcIp?: number;
  /** The CPU to run on; the runtime's current one when absent. */
  readonly cpu?: number;
}

/**
 * A loaded program as hooks run it. The runtime's program objects provide
 * this: `run` makes the run current (RunState with typeState, cookie, funcIp)
 * and returns r0's low 32 bits, unsigned.
 */
export interface HookProgram {
  readonly program: RunningProgram;
  run(ctx: number, run: HookRun): number;
}

export interface AttachOptions {
  /** bpf_get_attach_cookie() for runs through this link (BPF_LINK_CREATE's cookie). */
  readonly cookie?: bigint;
}

/** An attachment of a program to a hook; detach() ends it (idempotent). */
export interface HookLink {
  readonly id: number;
  readonly hook: Hook;
  readonly program: HookProgram;
  readonly cookie: bigint;
  readonly attached: boolean;
  detach(): void;
}

/** What one attached program answered. */
export interface ProgramResult {
  readonly linkId: number;
  readonly programId: number;
  /** r0, u32. */
  readonly retval: number;
}

export type HookKind = "tracepoint" | "raw_tracepoint" | "kprobe" | "xdp" | "tc" | "custom";

let nextLinkId = 1;

class Link implements HookLink {
  readonly id = nextLinkId++;
  attached = true;
  readonly cookieLo: number;
  readonly cookieHi: number;

  constructor(
    readonly hook: Hook,
    readonly program: HookProgram,
    readonly cookie: bigint,
    private readonly onDetach: (l: Link) => void,
  ) {
    const c = BigInt.asUintN(64, cookie);
    this.cookieLo = Number(c & 0xffffffffn);
    this.cookieHi = Number(c >> 32n);
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.onDetach(this);
  }
}

export abstract class Hook {
  abstract readonly kind: HookKind;
  /** In attach order; subclasses read, never change, it. */
  protected readonly links: Link[] = [];

  constructor(
    /** The name the registry knows the hook by ("tracepoint:syscalls/sys_enter_openat"). */
    readonly name: string,
    protected readonly services: VmServices,
  ) {}

  /** BPF_PROG_TYPE_* (and for some, attach types) the hook runs. */
  protected abstract accepts(program: RunningProgram): boolean;

  /** Attaches after the programs already there. EINVAL for a program type the hook cannot run. */
  attach(program: HookProgram, options: AttachOptions = {}): HookLink {
    if (!this.accepts(program.program)) {
      throw new BpfCommandError("EINVAL", `attach ${program.program.name} (program type ${program.program.progType}) to ${this.kind} hook ${this.name}`);
    }
    const link = new Link(this, program, options.cookie ?? 0n, (l) => {
      const i = this.links.indexOf(l);
      if (i >= 0) this.links.splice(i, 1);
    });
    this.links.push(link);
    return link;
  }

  /** Links in attach order. */
  attachments(): readonly HookLink[] {
    return [...this.links];
  }

  get attachedCount(): number {
    return this.links.length;
  }

  /**
   * Runs `body` for each link in attach order (a snapshot: programs attached
   * or detached during the run take effect on the next fire); `body` returns
   * false to stop the chain.
   */
  protected each(body: (run: (ctx: number, state?: ProgTypeRunState, funcIp?: number) => number, link: HookLink) => boolean | void): void {
    for (const link of [...this.links]) {
      if (!link.attached) continue;
      const run = (ctx: number, state?: ProgTypeRunState, funcIp?: number): number =>
        link.program.run(ctx, { typeState: state, cookieLo: link.cookieLo, cookieHi: link.cookieHi, ...(funcIp !== undefined ? { funcIp } : {}) }) >>> 0;
      if (body(run, link) === false) break;
    }
  }

  /** The ProgramResult of one run. */
  protected result(link: HookLink, retval: number): ProgramResult {
    return { linkId: link.id, programId: link.program.program.id, retval: retval >>> 0 };
  }
}
