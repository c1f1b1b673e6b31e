/**
 * The vm's trace pipe: where bpf_trace_printk / bpf_trace_vprintk lines go, as
 * the kernel's /sys/kernel/tracing/trace_pipe. Reading consumes lines; a bounded
 * buffer drops the oldest lines when full (the kernel's ring buffer overwrites)
 * and counts them.
 */

export class TracePipe {
  private lines: string[] = [];
  private head = 0;
  private waiters: (() => void)[] = [];
  /** Lines lost because nobody read them in time. */
  dropped = 0;

  constructor(readonly capacity = 65536) {}

  /** Appends one line (without its newline). */
  write(line: string): void {
    if (this.lines.length - this.head >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.lines.push(line);
    if (this.head > 4096 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** Takes every line written so far. */
  drain(): string[] {
    const out = this.lines.slice(this.head);
    this.lines = [];
    this.head = 0;
    return out;
  }

  get pending(): number {
    return this.lines.length - this.head;
  }

  /** Lines as they come; ends when `signal` aborts. */
  async *read(signal?: AbortSignal): AsyncGenerator<string> {
    while (!signal?.aborted) {
      if (this.pending > 0) {
        for (const line of this.drain()) yield line;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }
}
