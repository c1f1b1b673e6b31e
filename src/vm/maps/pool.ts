/**
 * Fixed-size slots inside the address space, for map elements and values. Slots
 * come in chunks (one allocation and one checked-mode region each), so a
 * program's value pointer always lands in a mapped region, and slot index ->
 * address is one typed-array load. The free list is JS-side metadata, out of any
 * program's reach.
 *
 * Reuse order follows the kernel's allocators: a preallocated pool reuses the
 * most recently freed slot first (pcpu_freelist is a LIFO), an on-demand pool
 * reuses the oldest (freed memory returns only after an RCU grace period).
 */
import type { AddressSpace, Region, RegionKind } from "../memory.js";

export interface SlotPoolOptions {
  /** Slots allocated at once. */
  chunk: number;
  /** Upper bound on slots (the pool never grows past it). */
  capacity: number;
  /** Allocate everything up front (BPF maps without BPF_F_NO_PREALLOC). */
  prealloc: boolean;
  /** Region kind and writability for checked-mode programs. */
  kind: RegionKind;
  writable: boolean;
  name: string;
  /** Alignment of the chunk (slot sizes are multiples of 8). */
  align?: number;
}

export class SlotPool {
  /** Address of each slot (0 while its chunk is not allocated). */
  addr: Uint32Array;
  /** Slots allocated so far. */
  allocated = 0;
  private free: Int32Array;
  private freeHead = 0;
  private freeCount = 0;
  private readonly lifo: boolean;
  private readonly chunks: { addr: number; region: Region }[] = [];

  constructor(
    readonly space: AddressSpace,
    readonly slotSize: number,
    readonly opts: SlotPoolOptions,
  ) {
    this.lifo = opts.prealloc;
    // On-demand pools size their bookkeeping as they grow: max_entries may be huge.
    const initial = opts.prealloc ? opts.capacity : Math.min(opts.capacity, opts.chunk);
    this.addr = new Uint32Array(initial);
    this.free = new Int32Array(initial);
    if (opts.prealloc) this.grow(opts.capacity);
  }

  /** Slots handed out and not yet freed. */
  get inUse(): number {
    return this.allocated - this.freeCount;
  }

  private grow(n: number): void {
    const need = this.allocated + n;
    if (need > this.addr.length) {
      const size = Math.min(this.opts.capacity, Math.max(need, this.addr.length * 2));
      const addr = new Uint32Array(size);
      addr.set(this.addr);
      this.addr = addr;
      // Linearise the free ring into the bigger one.
      const free = new Int32Array(size);
      for (let i = 0; i < this.freeCount; i++) free[i] = this.free[(this.freeHead + i) % this.free.length];
      this.free = free;
      this.freeHead = 0;
    }
    const bytes = n * this.slotSize;
    const a = this.space.alloc(bytes, this.opts.align ?? 8);
    const region = this.space.mapRegion(a, bytes, this.opts.kind, this.opts.writable, this.opts.name);
    this.chunks.push({ addr: a, region });
    const first = this.allocated;
    for (let i = 0; i < n; i++) this.addr[first + i] = a + i * this.slotSize;
    // New slots go on the free list in index order: the first pop returns the lowest.
    for (let i = n - 1; i >= 0; i--) this.pushFree(first + i, true);
    this.allocated += n;
  }

  private pushFree(slot: number, front: boolean): void {
    const cap = this.free.length;
    if (this.lifo || front) {
      this.freeHead = (this.freeHead - 1 + cap) % cap;
      this.free[this.freeHead] = slot;
    } else {
      this.free[(this.freeHead + this.freeCount) % cap] = slot;
    }
    this.freeCount++;
  }

  /** A free slot index, or -1 when the pool is exhausted. The slot's bytes are not cleared. */
  take(): number {
    if (this.freeCount === 0) {
      const room = this.opts.capacity - this.allocated;
      if (room <= 0) return -1;
      this.grow(Math.min(room, Math.max(this.opts.chunk, this.allocated >> 1)));
    }
    const slot = this.free[this.freeHead];
    this.freeHead = (this.freeHead + 1) % this.free.length;
    this.freeCount--;
    return slot;
  }

  /** Returns a slot to the pool. */
  give(slot: number): void {
    this.pushFree(slot, false);
  }

  /** Makes every chunk read-only or writable for checked-mode programs. */
  setWritable(writable: boolean): void {
    for (const c of this.chunks) {
      this.space.unmapRegion(c.region);
      c.region = this.space.mapRegion(c.region.start, c.region.end - c.region.start, c.region.kind, writable, c.region.name);
    }
  }

  dispose(): void {
    for (const c of this.chunks) {
      this.space.unmapRegion(c.region);
      this.space.free(c.addr);
    }
    this.chunks.length = 0;
  }
}
