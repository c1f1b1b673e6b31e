/**
 * Local storage maps (kernel/bpf/bpf_local_storage.c and bpf_{task,inode,cgrp}_storage.c,
 * net/core/bpf_sk_storage.c; Documentation/bpf/map_sk_storage.rst,
 * map_cgrp_storage.rst): BPF_MAP_TYPE_TASK_STORAGE, INODE_STORAGE, SK_STORAGE,
 * CGRP_STORAGE. A value per owner object (task, inode, socket, cgroup), created
 * on demand by bpf_*_storage_get(map, owner, init, BPF_LOCAL_STORAGE_GET_F_CREATE).
 * max_entries must be 0, BPF_F_NO_PREALLOC is required, keys are an int (the
 * owner's fd from user space; here the owner id the runtime resolves it to),
 * and the map needs BTF for its key and value. get_next_key is ENOTSUPP.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { BpfMap, type MapAttrs, type MapOptions, keyU32, roundUp8 } from "./map.js";
import { SlotPool } from "./pool.js";
import { BPF_EXIST, BPF_F_CLONE, BPF_F_LOCK, BPF_F_NO_PREALLOC, BPF_LOCAL_STORAGE_GET_F_CREATE, BPF_NOEXIST, KMALLOC_MAX_SIZE } from "./uapi.js";

const E = ERRNO;

/** include/linux/bpf_local_storage.h, BPF_LOCAL_STORAGE_CREATE_FLAG_MASK. */
export const BPF_LOCAL_STORAGE_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_CLONE;
/** BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: KMALLOC_MAX_SIZE less the element header (bpf_local_storage_elem, 96 bytes here). */
export const BPF_LOCAL_STORAGE_MAX_VALUE_SIZE = Math.min(KMALLOC_MAX_SIZE, 0xffff) - 96;

/** bpf_local_storage_map_alloc_check(): 0 or -errno. */
export function localStorageAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  if ((flags & ~BPF_LOCAL_STORAGE_CREATE_FLAG_MASK) || !(flags & BPF_F_NO_PREALLOC) || attrs.maxEntries ||
      attrs.keySize !== 4 || !attrs.valueSize || !attrs.btfKeyTypeId || !attrs.btfValueTypeId) return -E.EINVAL;
  if (attrs.valueSize > BPF_LOCAL_STORAGE_MAX_VALUE_SIZE) return -E.E2BIG;
  return 0;
}

export class LocalStorageMap extends BpfMap {
  private readonly byOwner = new Map<number, number>();
  private readonly pool: SlotPool;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.pool = new SlotPool(space, roundUp8(this.valueSize), {
      chunk: 16,
      capacity: 1 << 24,
      prealloc: false,
      kind: "map_value",
      writable: this.progCanWrite,
      name: this.name || this.typeName,
    });
    this.onDispose(() => this.pool.dispose());
  }

  /** Owners with storage in this map. */
  get size(): number {
    return this.byOwner.size;
  }

  private create(owner: number): number {
    const slot = this.pool.take();
    if (slot < 0) return -1;
    this.byOwner.set(owner, slot);
    const a = this.pool.addr[slot];
    this.space.u8.fill(0, a, a + roundUp8(this.valueSize));
    return slot;
  }

  /**
   * bpf_*_storage_get(map, owner, value, flags): the owner's value address, or 0.
   * With BPF_LOCAL_STORAGE_GET_F_CREATE a missing value is created from `initAddr`
   * (or zeros when 0). Unknown flags give 0 (NULL).
   */
  storageGet(owner: number, initAddr: number, flags: number): number {
    if (flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE) return 0;
    const slot = this.byOwner.get(owner);
    if (slot !== undefined) return this.pool.addr[slot];
    if (!(flags & BPF_LOCAL_STORAGE_GET_F_CREATE)) return 0;
    const s = this.create(owner);
    if (s < 0) return 0;
    const a = this.pool.addr[s];
    if (initAddr) this.copyValue(this.space.u8, a, initAddr);
    return a;
  }

  /** bpf_*_storage_delete(map, owner): 0 or -ENOENT. */
  storageDelete(owner: number): number {
    const slot = this.byOwner.get(owner);
    if (slot === undefined) return -E.ENOENT;
    this.byOwner.delete(owner);
    this.pool.give(slot);
    return 0;
  }

  /** The owner went away (task exit, socket close): its storage goes too. */
  ownerGone(owner: number): void {
    this.storageDelete(owner);
  }

  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    const slot = key ? this.byOwner.get(keyU32(key)) : undefined;
    if (slot === undefined) return -E.ENOENT;
    this.copyValueOut(this.space.u8, this.pool.addr[slot], value, 0);
    return 0;
  }

  /** bpf_local_storage_update() from user space. */
  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST || ((flags & BPF_F_LOCK) && this.spinLockOff < 0)) return -E.EINVAL;
    const owner = key ? keyU32(key) : 0;
    let slot = this.byOwner.get(owner);
    const f = flags & ~BPF_F_LOCK;
    if (slot !== undefined && f === BPF_NOEXIST) return -E.EEXIST;
    if (slot === undefined && f === BPF_EXIST) return -E.ENOENT;
    if (slot === undefined) {
      slot = this.create(owner);
      if (slot < 0) return -E.ENOMEM;
    }
    this.copyValueIn(this.space.u8, this.pool.addr[slot], value, 0);
    return 0;
  }

  protected override doDelete(key: Uint8Array | null): number {
    return this.storageDelete(key ? keyU32(key) : 0);
  }

  protected override doGetNextKey(): number {
    return -E.ENOTSUPP;
  }
}
