/**
 * Link (src/api/types.ts) over a kernel attachment. dispose() closes this
 * process's reference (a pinned link stays attached); detach() takes the
 * program off the hook now: BPF_LINK_DETACH where the link type implements
 * it (xdp, tcx, cgroup, netns...), else by closing the link (perf-event,
 * raw tracepoint and tracing links answer EOPNOTSUPP to BPF_LINK_DETACH).
 */
import type { AttachTarget, Link } from "../../api/types.js";
import { BpfCommandError } from "../../errors.js";
import type { LinuxLink } from "../link.js";

const EOPNOTSUPP = 95;
const EINVAL = 22;

export class LinuxLinkHandle implements Link {
  #onClose: (() => void) | undefined;

  constructor(
    readonly kernel: LinuxLink,
    readonly target: AttachTarget,
    onClose?: () => void,
  ) {
    this.#onClose = onClose;
  }

  /** The bpf_link id (0 for a legacy perf-event attachment, which has no link). */
  get id(): number {
    return this.kernel.fd && !this.kernel.fd.closed ? this.kernel.id : 0;
  }

  pin(path: string): void {
    this.kernel.pin(path);
  }

  detach(): void {
    if (this.kernel.fd?.closed) return;
    try {
      this.kernel.detach();
    } catch (e) {
      if (!(e instanceof BpfCommandError) || (e.errno !== EOPNOTSUPP && e.errno !== EINVAL)) throw e;
      this.close();
    }
  }

  close(): void {
    this.kernel.close();
    const cb = this.#onClose;
    this.#onClose = undefined;
    cb?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
