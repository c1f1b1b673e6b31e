/**
 * A wakeup latch for readers: producers call `notify()` (from a map's wakeup
 * callback); an async consumer awaits `wait()`, which resolves on the next notify
 * (or at once if one arrived since the last wait) — the epoll-shaped contract of
 * the kernel's ring and perf buffers, without busy polling.
 */
export class Wakeups {
  private pending = false;
  private waiter: (() => void) | undefined;
  closed = false;

  notify(): void {
    this.pending = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  wait(): Promise<void> {
    if (this.pending || this.closed) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiter = () => {
        this.pending = false;
        resolve();
      };
    });
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  /** The records `drain` returns, batch by batch, waiting for a wakeup when one is empty; after close, what is left. */
  async *records<T>(drain: () => T[]): AsyncGenerator<T> {
    while (!this.closed) {
      const batch = drain();
      for (const rec of batch) yield rec;
      if (batch.length === 0) await this.wait();
    }
    for (const rec of drain()) yield rec;
  }
}
