/**
 * The vm's single address space: one WebAssembly.Memory holding every byte a
 * program can touch (stack frames, ctx, packets, map values, global data, ring
 * buffers). A register pointer is an address into it (DESIGN.md, "Memory model").
 *
 * - Addresses below GUARD_SIZE are never handed out, so null (plus any small
 *   offset) never points at live data; the helper-call register area lives there,
 *   out of every program's reach.
 * - Allocation metadata is kept on the JS side, never in the memory itself, so a
 *   program run without the verifier cannot corrupt it.
 * - Regions are what a program may touch in checked (unverified) mode; an
 *   allocation becomes reachable only once mapped as a region.
 */
import { ProgramFault } from "../errors.js";

/** Bytes in a WebAssembly page. */
export const WASM_PAGE = 65536;
/** Bytes at the start of the space that are never allocated. */
export const GUARD_SIZE = WASM_PAGE;
/** The largest wasm32 memory: 65536 pages, 4 GiB. */
export const MAX_PAGES = 65536;

export type RegionKind =
  | "stack" | "ctx" | "packet" | "map_value" | "global_data" | "ringbuf" | "mem" | "readonly";

export interface Region {
  readonly start: number;
  readonly end: number;
  readonly kind: RegionKind;
  readonly writable: boolean;
  readonly name: string;
}

export interface AddressSpaceOptions {
  /** Initial size in bytes (rounded up to pages). */
  initialBytes?: number;
  /** Maximum size in bytes (rounded up to pages, at most 4 GiB). */
  maxBytes?: number;
  /** Back the space with a SharedArrayBuffer (for workers). */
  shared?: boolean;
}

const ALLOC_GRAIN = 16;

export class AddressSpace {
  readonly memory: WebAssembly.Memory;
  readonly maxPages: number;
  /** Views over the memory. Re-read after any call that may allocate: growing replaces them. */
  u8!: Uint8Array;
  i8!: Int8Array;
  u16!: Uint16Array;
  i16!: Int16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  f64!: Float64Array;
  dv!: DataView;

  private top = GUARD_SIZE;
  private readonly sizes = new Map<number, number>();
  /** Free blocks by size (multiples of ALLOC_GRAIN). */
  private readonly freeBySize = new Map<number, number[]>();
  private readonly regions: Region[] = [];
  private lastRegion: Region | undefined;
  private readonly growListeners = new Set<() => void>();

  constructor(options: AddressSpaceOptions = {}) {
    const initialPages = Math.max(2, Math.ceil((options.initialBytes ?? 4 * WASM_PAGE) / WASM_PAGE));
    this.maxPages = Math.min(MAX_PAGES, Math.max(initialPages, Math.ceil((options.maxBytes ?? 2 ** 32) / WASM_PAGE)));
    this.memory = new WebAssembly.Memory({
      initial: initialPages,
      maximum: this.maxPages,
      ...(options.shared ? { shared: true } : {}),
    });
    this.refreshViews();
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Called after the memory grows, with fresh views in place. */
  onGrow(listener: () => void): () => void {
    this.growListeners.add(listener);
    return () => this.growListeners.delete(listener);
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i8 = new Int8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.i16 = new Int16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.dv = new DataView(buf);
  }

  /**
   * Allocates `size` bytes aligned to `align` (a power of two, at most 4096),
   * zero-filled. Throws RangeError when the space is exhausted.
   */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad allocation size ${size}`);
    const rounded = Math.max(ALLOC_GRAIN, Math.ceil(size / ALLOC_GRAIN) * ALLOC_GRAIN);
    if (align <= ALLOC_GRAIN) {
      const list = this.freeBySize.get(rounded);
      const reused = list?.pop();
      if (reused !== undefined) {
        this.sizes.set(reused, rounded);
        this.u8.fill(0, reused, reused + rounded);
        return reused;
      }
    }
    const start = Math.ceil(this.top / align) * align;
    const end = start + rounded;
    this.ensure(end);
    this.top = end;
    this.sizes.set(start, rounded);
    return start;
  }

  /** Returns an allocation to the pool. Its bytes stay until reused. */
  free(addr: number): void {
    const size = this.sizes.get(addr);
    if (size === undefined) throw new RangeError(`free of unallocated address 0x${addr.toString(16)}`);
    this.sizes.delete(addr);
    let list = this.freeBySize.get(size);
    if (!list) this.freeBySize.set(size, (list = []));
    list.push(addr);
  }

  /** Size of the allocation at `addr`, or undefined. */
  allocationSize(addr: number): number | undefined {
    return this.sizes.get(addr);
  }

  /** Bytes handed out or held in free lists (for accounting and tests). */
  get highWater(): number {
    return this.top;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / WASM_PAGE);
    const current = have / WASM_PAGE;
    // Grow geometrically to keep the number of view refreshes small.
    const want = Math.min(this.maxPages - current, Math.max(pages, Math.ceil(current / 2)));
    if (want < pages) throw new RangeError(`vm address space exhausted (${this.maxPages} pages)`);
    this.memory.grow(want);
    this.refreshViews();
    for (const listener of this.growListeners) listener();
  }

  // ---- regions: what checked-mode programs may touch ----

  /**
   * Makes [start, start+size) reachable for checked-mode programs. Regions never
   * overlap, so the one holding an address is found by one binary search.
   */
  mapRegion(start: number, size: number, kind: RegionKind, writable: boolean, name: string = kind): Region {
    const region: Region = { start, end: start + size, kind, writable, name };
    let lo = 0;
    let hi = this.regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.regions[mid].start < start) lo = mid + 1;
      else hi = mid;
    }
    const before = this.regions[lo - 1];
    const after = this.regions[lo];
    if ((before && before.end > start) || (after && after.start < region.end)) {
      throw new RangeError(`region ${name} at 0x${start.toString(16)} overlaps another region`);
    }
    this.regions.splice(lo, 0, region);
    return region;
  }

  unmapRegion(region: Region): void {
    const i = this.regions.indexOf(region);
    if (i >= 0) this.regions.splice(i, 1);
    if (this.lastRegion === region) this.lastRegion = undefined;
  }

  /** The region holding all of [addr, addr+len), if any. */
  regionOf(addr: number, len: number): Region | undefined {
    const last = this.lastRegion;
    if (last && addr >= last.start && addr + len <= last.end) return last;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rs[mid].start <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const r = hi >= 0 ? rs[hi] : undefined;
    if (r && addr + len <= r.end) {
      this.lastRegion = r;
      return r;
    }
    return undefined;
  }

  /**
   * Checks a program's access in checked mode; throws ProgramFault naming the pc.
   * `addrHi` is the upper word of the 64-bit address (must be 0).
   */
  checkAccess(addr: number, addrHi: number, len: number, write: boolean, pc: number): void {
    if (addrHi !== 0 || addr < 0) {
      throw new ProgramFault(pc, `${write ? "write" : "read"} of ${len} bytes at 0x${hex64(addrHi, addr)} is outside the address space`);
    }
    const r = this.regionOf(addr, len);
    if (!r) {
      const what = addr < GUARD_SIZE ? " (null pointer)" : "";
      throw new ProgramFault(pc, `${write ? "write" : "read"} of ${len} bytes at 0x${addr.toString(16)} is outside every mapped region${what}`);
    }
    if (write && !r.writable) {
      throw new ProgramFault(pc, `write of ${len} bytes at 0x${addr.toString(16)} into read-only ${r.name}`);
    }
  }

  // ---- conveniences for user-space code (not for hot paths) ----

  read(addr: number, len: number): Uint8Array {
    return this.u8.slice(addr, addr + len);
  }

  write(addr: number, bytes: Uint8Array): void {
    this.u8.set(bytes, addr);
  }

  /** Copies bytes into a new allocation and returns its address. */
  allocBytes(bytes: Uint8Array, align = 8): number {
    const addr = this.alloc(bytes.length, align);
    this.u8.set(bytes, addr);
    return addr;
  }
}

export function hex64(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}
