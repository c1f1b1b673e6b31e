/**
 * Everything a load creates, so that a failure part-way undoes all of it: fds
 * closed (newest first) and the pins this load made removed. Pins that existed
 * before (reused maps) are never touched.
 */
import { unlinkSync } from "node:fs";

interface Closable {
  close(): void;
}

export class Resources {
  private readonly owned: Closable[] = [];
  private readonly pins: string[] = [];

  /** Tracks an object until commit(); returns it. */
  own<T extends Closable>(x: T): T {
    this.owned.push(x);
    return x;
  }

  /** Closes one tracked object now. */
  release(x: Closable): void {
    const i = this.owned.indexOf(x);
    if (i >= 0) this.owned.splice(i, 1);
    x.close();
  }

  /** A pin this load created. */
  pinned(path: string): void {
    this.pins.push(path);
  }

  /** Undoes everything tracked; never throws (the load's own error is what matters). */
  rollback(): void {
    for (const x of this.owned.splice(0).reverse()) {
      try {
        x.close();
      } catch {
        // already closed
      }
    }
    for (const p of this.pins.splice(0).reverse()) {
      try {
        unlinkSync(p);
      } catch {
        // removed meanwhile
      }
    }
  }

  /** The load succeeded: the collection owns everything now. */
  commit(): void {
    this.owned.length = 0;
    this.pins.length = 0;
  }
}
