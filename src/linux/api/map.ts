/**
 * MapHandle (src/api/types.ts) over a kernel map: the backend-neutral element
 * operations, batches, freeze, typed views, a zero-copy mmap of
 * BPF_F_MMAPABLE arrays (global data), pins. The raw LinuxMap stays reachable
 * (`kernel`) for what only the kernel has (ring buffer and perf buffer readers).
 */
import type { BatchResult, Codec, MapHandle, MapInfo, TypedMap } from "../../api/types.js";
import { typedMap } from "../../api/typed-map.js";
import { MapError } from "../../errors.js";
import { MapFlags, mapTypeName } from "../constants.js";
import { fdinfo } from "../inspect.js";
import type { LinuxMap, MapMmap } from "../map.js";

export class LinuxMapHandle implements MapHandle {
  #mmap: MapMmap | null = null;

  constructor(
    /** The name in the object (spec.maps key), which may be longer than the kernel's 15 characters. */
    readonly name: string,
    readonly kernel: LinuxMap,
  ) {}

  get info(): MapInfo {
    const m = this.kernel;
    const i = m.info();
    return {
      id: i.id,
      name: i.name,
      type: mapTypeName(i.type),
      typeId: i.type,
      keySize: i.keySize,
      valueSize: i.valueSize,
      maxEntries: i.maxEntries,
      flags: i.flags,
      // bpf_map_info has no frozen bit; the kernel shows it in fdinfo (kernel/bpf/syscall.c, bpf_map_show_fdinfo).
      frozen: Number(fdinfo(m.fd.value, "frozen") ?? 0) !== 0,
    };
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    return this.kernel.lookup(key, flags);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.kernel.update(key, value, flags);
  }

  delete(key: Uint8Array): boolean {
    try {
      this.kernel.delete(key);
      return true;
    } catch (e) {
      if (e instanceof MapError && e.code === "ENOENT") return false;
      throw e;
    }
  }

  lookupAndDelete(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    return this.kernel.lookupAndDelete(key, flags);
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    return this.kernel.nextKey(key);
  }

  keys(): IterableIterator<Uint8Array> {
    return this.kernel.keys();
  }

  entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.kernel.entries();
  }

  lookupBatch(): BatchResult {
    const all = this.kernel.lookupBatch();
    return { keys: all.map(([k]) => k), values: all.map(([, v]) => v) };
  }

  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags = 0): number {
    return this.kernel.updateBatch(keys, values, flags);
  }

  deleteBatch(keys: readonly Uint8Array[]): number {
    return this.kernel.deleteBatch(keys);
  }

  freeze(): void {
    this.kernel.freeze();
  }

  typed<K, V>(key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
    return typedMap(this, key, value);
  }

  /**
   * The values of a BPF_F_MMAPABLE array, shared with programs (no copy):
   * element i at i * round_up(value_size, 8). Read-only once the map is frozen
   * (.rodata, .kconfig). The same view is returned until dispose.
   */
  mmap(): Uint8Array {
    if (this.#mmap) return this.#mmap.bytes;
    if (!(this.kernel.flags & MapFlags.BPF_F_MMAPABLE)) {
      throw new MapError("EINVAL", `map ${this.name}: mmap needs BPF_F_MMAPABLE`);
    }
    this.#mmap = this.kernel.mmap({ readOnly: this.info.frozen });
    return this.#mmap.bytes;
  }

  pin(path: string): void {
    this.kernel.pin(path);
  }

  close(): void {
    this.#mmap?.close();
    this.#mmap = null;
    this.kernel.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
