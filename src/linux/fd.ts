/**
 * An owned file descriptor: closed exactly once, by `close()`, by `using`
 * (Symbol.dispose), or — as a safety net for objects dropped without either — by
 * a FinalizationRegistry when the owner is garbage-collected. A kernel object
 * (map, program, link, BTF) lives while some fd or pin refers to it, so a leaked
 * fd leaks kernel memory; the registry bounds that.
 *
 * Who holds the raw number must keep the Fd reachable: once the Fd is collected,
 * its number is closed and may be reused by an unrelated open().
 */
import { BpfCommandError, errnoName } from "../errors.js";
import { sys } from "./sys.js";

const registry = new FinalizationRegistry<number>((fd) => {
  sys().close(fd);
});

/** fcntl commands. include/uapi/asm-generic/fcntl.h. */
const F_DUPFD_CLOEXEC = 1030;

export class Fd {
  #fd: number;

  constructor(fd: number, readonly what: string) {
    if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`${what}: invalid fd ${fd}`);
    this.#fd = fd;
    registry.register(this, fd, this);
  }

  /** The fd number. Throws once closed, so a stale number is never passed to the kernel. */
  get value(): number {
    if (this.#fd < 0) throw new BpfCommandError("EBADF", `${this.what}: used after close`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A second fd for the same kernel object (fcntl F_DUPFD_CLOEXEC). */
  dup(): Fd {
    const r = sys().fcntl(this.value, F_DUPFD_CLOEXEC, 0);
    if (r < 0) throw new BpfCommandError(errnoName(-r), `${this.what}: dup`);
    return new Fd(r, this.what);
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    registry.unregister(this);
    sys().close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
