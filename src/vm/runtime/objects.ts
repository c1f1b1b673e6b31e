/**
 * The vm kernel's object model: every map, program, link and BTF object has a
 * global id (allocated cyclically from 1 like the kernel's idr), a reference
 * count, and is reached from user space through file descriptors or pins. An
 * object is destroyed when its last reference (fd, pin, or holder such as a link
 * or prog_array slot) goes away.
 */
import { BpfCommandError } from "../../errors.js";

export type ObjectKind = "map" | "prog" | "link" | "btf";

/** Something the runtime hands out ids and fds for. */
export abstract class KernelObject {
  abstract readonly kind: ObjectKind;
  id = 0;
  private refs = 0;
  private released = false;
  /** Called after onRelease (the object table unlists the id). */
  afterRelease?: () => void;

  /** Takes a reference (an fd, a pin, a holder). */
  get(): this {
    if (this.released) throw new Error(`use of released ${this.kind} ${this.id}`);
    this.refs++;
    return this;
  }

  /** Drops a reference; the last one destroys the object. */
  put(): void {
    if (this.refs <= 0) throw new Error(`${this.kind} ${this.id}: reference count underflow`);
    if (--this.refs === 0) {
      this.released = true;
      this.onRelease();
      this.afterRelease?.();
    }
  }

  get refCount(): number {
    return this.refs;
  }

  get alive(): boolean {
    return !this.released;
  }

  /** Frees what the object holds (memory, held references). */
  protected abstract onRelease(): void;
}

/** Id allocation: cyclic from 1 up to INT_MAX, skipping ids in use (kernel idr_alloc_cyclic). */
class IdSpace<T extends KernelObject> {
  private readonly byId = new Map<number, T>();
  private next = 1;

  alloc(obj: T): number {
    for (;;) {
      const id = this.next;
      this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
      if (!this.byId.has(id)) {
        this.byId.set(id, obj);
        return id;
      }
    }
  }

  remove(id: number): void {
    this.byId.delete(id);
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  /** The smallest id greater than `start` (BPF_*_GET_NEXT_ID), or undefined. */
  nextAfter(start: number): number | undefined {
    let best: number | undefined;
    for (const id of this.byId.keys()) if (id > start && (best === undefined || id < best)) best = id;
    return best;
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }
}

/**
 * Ids, file descriptors and the pin namespace of one vm runtime. Fds start at 3
 * like a process's after stdio, and are reused lowest-first like the kernel's.
 */
export class ObjectTable {
  private readonly ids: Record<ObjectKind, IdSpace<KernelObject>> = {
    map: new IdSpace(), prog: new IdSpace(), link: new IdSpace(), btf: new IdSpace(),
  };
  private readonly fds = new Map<number, KernelObject>();
  private readonly pins = new Map<string, KernelObject>();

  /** Registers a new object (id assigned) and returns an fd holding the first reference. */
  register(obj: KernelObject): number {
    obj.id = this.ids[obj.kind].alloc(obj);
    // Unlisting on release keeps GET_NEXT_ID/GET_FD_BY_ID from seeing dead objects.
    obj.afterRelease = () => this.ids[obj.kind].remove(obj.id);
    return this.newFd(obj);
  }

  /** A new fd holding a new reference to `obj`. */
  newFd(obj: KernelObject): number {
    obj.get();
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, obj);
    return fd;
  }

  close(fd: number): void {
    const obj = this.fds.get(fd);
    if (!obj) throw new BpfCommandError("EBADF", `close(${fd})`);
    this.fds.delete(fd);
    obj.put();
  }

  /** The object behind an fd, checked for kind (EBADF / EINVAL as the kernel's fdget + type checks). */
  fromFd<K extends ObjectKind>(fd: number, kind: K, op: string): KernelObject & { kind: K } {
    const obj = this.fds.get(fd);
    if (!obj) throw new BpfCommandError("EBADF", `${op}: fd ${fd}`);
    if (obj.kind !== kind) throw new BpfCommandError("EINVAL", `${op}: fd ${fd} is a ${obj.kind}, not a ${kind}`);
    return obj as KernelObject & { kind: K };
  }

  /** The object behind an fd, whatever its kind (EBADF when none). */
  fromAny(fd: number, op: string): KernelObject {
    const obj = this.fds.get(fd);
    if (!obj) throw new BpfCommandError("EBADF", `${op}: fd ${fd}`);
    return obj;
  }

  byId(kind: ObjectKind, id: number): KernelObject | undefined {
    return this.ids[kind].get(id);
  }

  nextId(kind: ObjectKind, start: number): number | undefined {
    return this.ids[kind].nextAfter(start);
  }

  all(kind: ObjectKind): KernelObject[] {
    return [...this.ids[kind].values()].sort((a, b) => a.id - b.id);
  }

  /** BPF_OBJ_PIN: the pin holds a reference. EEXIST if the path is taken. */
  pin(fd: number, path: string): void {
    const obj = this.fds.get(fd);
    if (!obj) throw new BpfCommandError("EBADF", `pin ${path}`);
    const key = normalisePinPath(path);
    if (this.pins.has(key)) throw new BpfCommandError("EEXIST", `pin ${path}`);
    this.pins.set(key, obj.get());
  }

  /** BPF_OBJ_GET: a new fd for a pinned object. */
  getPinned(path: string): number {
    const obj = this.pins.get(normalisePinPath(path));
    if (!obj) throw new BpfCommandError("ENOENT", `get pinned ${path}`);
    return this.newFd(obj);
  }

  pinnedAt(path: string): KernelObject | undefined {
    return this.pins.get(normalisePinPath(path));
  }

  /** unlink(2) of a pin: drops the pin's reference. */
  unpin(path: string): void {
    const key = normalisePinPath(path);
    const obj = this.pins.get(key);
    if (!obj) throw new BpfCommandError("ENOENT", `unpin ${path}`);
    this.pins.delete(key);
    obj.put();
  }

  pinPaths(): string[] {
    return [...this.pins.keys()].sort();
  }

  openFds(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }
}

/** Pins live in a bpffs-like namespace: absolute paths, no empty or dot components. */
function normalisePinPath(path: string): string {
  if (!path.startsWith("/")) throw new BpfCommandError("EINVAL", `pin path '${path}' is not absolute`);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0 || parts.some((p) => p === "." || p === "..")) {
    throw new BpfCommandError("EINVAL", `pin path '${path}'`);
  }
  return "/" + parts.join("/");
}
