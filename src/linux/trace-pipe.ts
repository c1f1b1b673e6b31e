/**
 * tracefs trace_pipe as an async stream of lines: what bpf_trace_printk() writes.
 * Reading trace_pipe consumes it for every reader in the system, and a blocking
 * read would tie up a libuv thread-pool thread indefinitely, so the file is opened
 * O_NONBLOCK and read only when epoll (poller.ts) says it is readable.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { tracefs } from "./fs.js";
import { type Watch, watchFd } from "./poller.js";

/** One trace_pipe line, split like bpftool prog tracelog shows it. */
export interface TraceLine {
  readonly raw: string;
  /** "node-1234" style task (comm-pid), CPU, flags, timestamp and message when the line parses. */
  readonly task?: string;
  readonly pid?: number;
  readonly cpu?: number;
  readonly timestamp?: number;
  readonly message?: string;
}

// "           <...>-1234    [001] d..31  1234.567890: bpf_trace_printk: hello"
const LINE = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(?:bpf_trace_printk:\s)?(.*)$/;

export function parseTraceLine(raw: string): TraceLine {
  const m = LINE.exec(raw);
  if (!m) return { raw };
  return { raw, task: m[1].trim(), pid: Number(m[2]), cpu: Number(m[3]), timestamp: Number(m[4]), message: m[5] };
}

export class TracePipeReader implements Disposable, AsyncIterable<TraceLine> {
  private fd: number;
  private watch: Watch | null = null;
  private pending = "";
  private readonly buf = Buffer.alloc(64 * 1024);
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(path = `${tracefs()}/trace_pipe`) {
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** The complete lines available now (non-blocking). */
  readLines(): TraceLine[] {
    if (this.closed) return [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
        throw e;
      }
      if (n <= 0) break;
      this.pending += this.buf.toString("utf8", 0, n);
    }
    const parts = this.pending.split("\n");
    this.pending = parts.pop() ?? "";
    return parts.filter((l) => l.length > 0).map(parseTraceLine);
  }

  private ready(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.watch ??= watchFd(this.fd, () => {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      });
      this.watch.arm();
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TraceLine> {
    while (!this.closed) {
      const lines = this.readLines();
      for (const l of lines) yield l;
      if (lines.length === 0) await this.ready();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watch?.close();
    closeSync(this.fd);
    this.fd = -1;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
