/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS (kernel/bpf/map_in_map.c,
 * Documentation/bpf/map_of_maps.rst). Creation takes an inner map as a template
 * (inner_map_fd); every map stored later must match it: same type, key_size,
 * value_size, map_flags and special fields, and for array-like inner maps the
 * same max_entries unless the template has BPF_F_INNER_MAP
 * (bpf_map_meta_equal / array_map_meta_equal). Maps of maps nest one level only.
 * User space stores fds and reads back map ids; a program's lookup returns the
 * inner map itself (its descriptor address), ready for another map helper.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { BpfMap, type MapAttrs, type MapOptions, type ObjectResolver, mapAt, putU32, keyU32 } from "./map.js";
import { FdArrayMap } from "./fd_array.js";
import { HashMap } from "./hash.js";
import { BPF_F_INNER_MAP, BPF_MAP_TYPE } from "./uapi.js";

const E = ERRNO;

/** Snapshot of the inner map template (struct bpf_map inner_map_meta). */
export interface InnerMapMeta {
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  readonly fields: string;
}

const isMapInMap = (t: number): boolean => t === BPF_MAP_TYPE.ARRAY_OF_MAPS || t === BPF_MAP_TYPE.HASH_OF_MAPS;
const arrayLike = (t: number): boolean =>
  t === BPF_MAP_TYPE.ARRAY || t === BPF_MAP_TYPE.PERCPU_ARRAY || t === BPF_MAP_TYPE.PROG_ARRAY ||
  t === BPF_MAP_TYPE.PERF_EVENT_ARRAY || t === BPF_MAP_TYPE.CGROUP_ARRAY;

/** bpf_map_meta_alloc(): the template from the inner map, or -errno. */
export function innerMapMeta(attrs: MapAttrs, options: MapOptions): InnerMapMeta | number {
  const inner = attrs.innerMap ?? (attrs.innerMapFd !== undefined ? options.resolver?.map?.(attrs.innerMapFd) : undefined);
  if (!inner) return -E.EBADF;
  // Does not support more than one level of map-in-map.
  if (isMapInMap(inner.type)) return -E.EINVAL;
  if (inner.type === BPF_MAP_TYPE.STRUCT_OPS) return -E.ENOTSUPP;
  return metaOf(inner);
}

function metaOf(m: BpfMap): InnerMapMeta {
  return {
    mapType: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    mapFlags: m.flags,
    fields: JSON.stringify(m.valueFields),
  };
}

/** bpf_map_meta_equal(), with array_map_meta_equal()'s max_entries rule. */
export function metaEqual(meta: InnerMapMeta, m: BpfMap): boolean {
  const o = metaOf(m);
  if (meta.mapType !== o.mapType || meta.keySize !== o.keySize || meta.valueSize !== o.valueSize ||
      meta.mapFlags !== o.mapFlags || meta.fields !== o.fields) return false;
  if (arrayLike(meta.mapType) && !(meta.mapFlags & BPF_F_INNER_MAP)) return meta.maxEntries === o.maxEntries;
  return true;
}

export class ArrayOfMapsMap extends FdArrayMap<BpfMap> {
  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions, readonly meta: InnerMapMeta) {
    super(space, attrs, options);
  }

  protected override fromFd(fd: number): BpfMap | number {
    const m = this.resolver.map?.(fd);
    if (!m) return -E.EBADF;
    return metaEqual(this.meta, m) ? m : -E.EINVAL;
  }

  override set(index: number, m: BpfMap | undefined): number {
    if (m && !metaEqual(this.meta, m)) return -E.EINVAL;
    return super.set(index, m);
  }

  protected override sysId(m: BpfMap): number {
    return m.id;
  }

  /** array_of_map_lookup_elem(): the inner map's descriptor address, or 0. */
  override lookupElem(keyAddr: number): number {
    const u8 = this.space.u8;
    const index = (u8[keyAddr] | (u8[keyAddr + 1] << 8) | (u8[keyAddr + 2] << 16) | (u8[keyAddr + 3] << 24)) >>> 0;
    const m = index < this.maxEntries ? this.slots[index] : undefined;
    return m ? m.addr : 0;
  }
}

export class HashOfMapsMap extends HashMap {
  private readonly resolver: ObjectResolver;
  private readonly scratch4 = new Uint8Array(4);

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions, readonly meta: InnerMapMeta) {
    super(space, attrs, options);
    this.resolver = options.resolver ?? {};
  }

  /** htab_of_map_lookup_elem(): the inner map's descriptor address, or 0. */
  override lookupElem(keyAddr: number, cpu: number): number {
    const v = super.lookupElem(keyAddr, cpu);
    return v ? this.space.u32[v >>> 2] : 0;
  }

  override updateElem(): number {
    return -E.ENOTSUPP;
  }

  /** Stores a map object under `key` directly (for the runtime and tests). */
  put(key: Uint8Array, m: BpfMap, flags = 0): number {
    if (!metaEqual(this.meta, m)) return -E.EINVAL;
    putU32(this.scratch4, 0, m.addr);
    return super.doUpdate(key, this.scratch4, flags);
  }

  /** bpf_fd_htab_map_update_elem(): the fd is resolved first, then the hash update's checks. */
  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    const m = this.resolver.map?.(keyU32(value));
    if (!m) return -E.EBADF;
    if (!metaEqual(this.meta, m)) return -E.EINVAL;
    putU32(this.scratch4, 0, m.addr);
    return super.doUpdate(key, this.scratch4, flags);
  }

  /** User space reads map ids (bpf_map_fd_sys_lookup_elem). */
  protected override copyOut(e: number, out: Uint8Array): void {
    const tmp = this.scratch4;
    super.copyOut(e, tmp, 0);
    const m = mapAt(this.space, keyU32(tmp));
    putU32(out, 0, m ? m.id : 0);
  }

  /** The inner map stored under `key`, if any. */
  inner(key: Uint8Array): BpfMap | undefined {
    const out = new Uint8Array(4);
    if (this.lookupAddrOf(key, out)) return undefined;
    return mapAt(this.space, keyU32(out));
  }

  private lookupAddrOf(key: Uint8Array, out: Uint8Array): number {
    const k = this.stageKey(key);
    const v = super.lookupElem(k, 0);
    if (!v) return -E.ENOENT;
    putU32(out, 0, this.space.u32[v >>> 2]);
    return 0;
  }
}
