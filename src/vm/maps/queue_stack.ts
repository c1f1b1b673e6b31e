/**
 * BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK (kernel/bpf/queue_stack_maps.c,
 * Documentation/bpf/map_queue_stack.rst): key_size 0, a ring of max_entries + 1
 * value slots with head and tail indices, exactly as the kernel keeps them.
 * Push with BPF_EXIST on a full map overwrites the oldest element; pop and peek
 * on an empty map fail with ENOENT (and zero the program's buffer). Elements are
 * only ever copied in and out, never pointed to, so they live on the JS side.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { BpfMap, type MapAttrs, type MapOptions } from "./map.js";
import { flagsAccessOk } from "./array.js";
import { BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE, BPF_MAP_TYPE, BPF_NOEXIST, KMALLOC_MAX_SIZE } from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/queue_stack_maps.c, QUEUE_STACK_CREATE_FLAG_MASK. */
export const QUEUE_STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;

/** queue_stack_map_alloc_check(): 0 or -errno. */
export function queueStackAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  if (attrs.maxEntries === 0 || attrs.keySize !== 0 || attrs.valueSize === 0 ||
      (flags & ~QUEUE_STACK_CREATE_FLAG_MASK) || !flagsAccessOk(flags)) return -E.EINVAL;
  if (attrs.valueSize > KMALLOC_MAX_SIZE) return -E.E2BIG;
  return 0;
}

export class QueueStackMap extends BpfMap {
  readonly isStack: boolean;
  /** max_entries + 1 slots: the ring is full when head + 1 == tail. */
  private readonly size: number;
  private head = 0;
  private tail = 0;
  private readonly elems: Uint8Array;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.isStack = this.type === BPF_MAP_TYPE.STACK;
    this.size = this.maxEntries + 1;
    this.elems = new Uint8Array(this.size * this.valueSize);
  }

  /** Elements held. */
  get length(): number {
    return (this.head - this.tail + this.size) % this.size;
  }

  private isFull(): boolean {
    return (this.head + 1 === this.size ? 0 : this.head + 1) === this.tail;
  }

  /** queue_stack_map_push_elem(); `write` fills the slot. */
  private push(flags: number, write: (dst: number) => void): number {
    if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -E.EINVAL;
    if (this.isFull()) {
      if (!(flags & BPF_EXIST)) return -E.E2BIG;
      if (++this.tail >= this.size) this.tail = 0;
    }
    write(this.head * this.valueSize);
    if (++this.head >= this.size) this.head = 0;
    return 0;
  }

  /** __queue_map_get() / __stack_map_get(): the slot to read, or -1 when empty. */
  private get(del: boolean): number {
    if (this.head === this.tail) return -1;
    if (!this.isStack) {
      const at = this.tail;
      if (del && ++this.tail >= this.size) this.tail = 0;
      return at * this.valueSize;
    }
    let index = this.head - 1;
    if (index < 0) index = this.size - 1;
    if (del) this.head = index;
    return index * this.valueSize;
  }

  // ---- program side ----

  override pushElem(valueAddr: number, flags: number): number {
    return this.push(flags, (dst) => this.elems.set(this.space.u8.subarray(valueAddr, valueAddr + this.valueSize), dst));
  }

  private getInto(valueAddr: number, del: boolean): number {
    const at = this.get(del);
    const u8 = this.space.u8;
    if (at < 0) {
      u8.fill(0, valueAddr, valueAddr + this.valueSize);
      return -E.ENOENT;
    }
    u8.set(this.elems.subarray(at, at + this.valueSize), valueAddr);
    return 0;
  }

  override popElem(valueAddr: number): number {
    return this.getInto(valueAddr, true);
  }

  override peekElem(valueAddr: number): number {
    return this.getInto(valueAddr, false);
  }

  // ---- syscall side: update = push, lookup = peek, lookup_and_delete = pop ----

  protected override doUpdate(_key: Uint8Array | null, value: Uint8Array, flags: number): number {
    return this.push(flags, (dst) => this.elems.set(value.subarray(0, this.valueSize), dst));
  }

  protected override doLookup(_key: Uint8Array | null, value: Uint8Array): number {
    const at = this.get(false);
    if (at < 0) return -E.ENOENT;
    value.set(this.elems.subarray(at, at + this.valueSize));
    return 0;
  }

  protected override doLookupAndDelete(_key: Uint8Array | null, value: Uint8Array): number {
    const at = this.get(true);
    if (at < 0) return -E.ENOENT;
    value.set(this.elems.subarray(at, at + this.valueSize));
    return 0;
  }

  protected override doDelete(): number {
    return -E.EINVAL;
  }

  protected override doGetNextKey(): number {
    return -E.EINVAL;
  }
}
