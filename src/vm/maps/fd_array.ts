/**
 * The fd-holding arrays (kernel/bpf/arraymap.c, "fd_array"): prog_array,
 * perf_event_array, array_of_maps, cgroup_array. Key u32, value a u32 fd on
 * update; each slot holds an object (a program, a perf event, a map). User
 * space looks up ids where the kernel offers them; programs reach the objects
 * through their own helpers (tail calls, perf_event_output, map-in-map lookups).
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { BpfMap, type MapAttrs, type MapOptions, type ObjectResolver, keyU32, putU32 } from "./map.js";
import { arrayAllocCheck } from "./array.js";
import { BPF_ANY, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG } from "./uapi.js";

const E = ERRNO;

/** fd_array_map_alloc_check(): 0 or -errno. */
export function fdArrayAllocCheck(attrs: MapAttrs): number {
  if (attrs.valueSize !== 4) return -E.EINVAL;
  if ((attrs.mapFlags ?? 0) & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) return -E.EINVAL;
  return arrayAllocCheck(attrs);
}

export abstract class FdArrayMap<T> extends BpfMap {
  protected readonly slots: (T | undefined)[];
  protected readonly resolver: ObjectResolver;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.slots = new Array<T | undefined>(this.maxEntries).fill(undefined);
    this.resolver = options.resolver ?? {};
  }

  override get userValueSize(): number {
    return 4;
  }

  /** map_fd_get_ptr(): the object for an fd, or -errno. */
  protected abstract fromFd(fd: number): T | number;

  /** map_fd_sys_lookup_elem(): the id user space sees, or undefined where the kernel has no lookup (ENOTSUPP). */
  protected abstract sysId(obj: T): number | undefined;

  /** The object in slot `index` (the tail-call / output / map-in-map primitive). */
  get(index: number): T | undefined {
    return index < this.maxEntries ? this.slots[index] : undefined;
  }

  /** Puts an object in a slot directly (for the runtime and tests); 0 or -errno like update. */
  set(index: number, obj: T | undefined): number {
    if (index >= this.maxEntries) return -E.E2BIG;
    this.slots[index] = obj;
    return 0;
  }

  /** Empties every slot (the kernel clears a prog_array when its last user reference goes). */
  clear(): void {
    this.slots.fill(undefined);
  }

  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    const index = key ? keyU32(key) : 0xffffffff;
    const obj = index < this.maxEntries ? this.slots[index] : undefined;
    if (obj === undefined) return this.hasSysLookup ? -E.ENOENT : -E.ENOTSUPP;
    const id = this.sysId(obj);
    if (id === undefined) return -E.ENOTSUPP;
    putU32(value, 0, id);
    return 0;
  }

  /** Whether user space may look up (map_fd_sys_lookup_elem exists). */
  protected get hasSysLookup(): boolean {
    return true;
  }

  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (flags !== BPF_ANY) return -E.EINVAL;
    if (index >= this.maxEntries) return -E.E2BIG;
    const obj = this.fromFd(keyU32(value));
    if (typeof obj === "number") return obj;
    this.slots[index] = obj;
    return 0;
  }

  protected override doDelete(key: Uint8Array | null): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (this.slots[index] === undefined) return -E.ENOENT;
    this.slots[index] = undefined;
    return 0;
  }

  protected override doGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    const index = key ? keyU32(key) : 0xffffffff;
    if (!key || index >= this.maxEntries) {
      putU32(next, 0, 0);
      return 0;
    }
    if (index === this.maxEntries - 1) return -E.ENOENT;
    putU32(next, 0, index + 1);
    return 0;
  }

  /** Programs cannot look fd arrays up (the verifier refuses); deleting a slot is allowed. */
  override deleteElem(keyAddr: number): number {
    const u8 = this.space.u8;
    const index = (u8[keyAddr] | (u8[keyAddr + 1] << 8) | (u8[keyAddr + 2] << 16) | (u8[keyAddr + 3] << 24)) >>> 0;
    if (index >= this.maxEntries) return -E.E2BIG;
    if (this.slots[index] === undefined) return -E.ENOENT;
    this.slots[index] = undefined;
    return 0;
  }
}
