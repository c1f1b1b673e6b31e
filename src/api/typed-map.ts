/**
 * TypedMap over any MapHandle: keys and values through codecs. Backend-neutral,
 * so both backends' MapHandle.typed() return this.
 */
import { MapError } from "../errors.js";
import type { Codec, MapHandle, TypedMap } from "./types.js";

export function typedMap<K, V>(map: MapHandle, key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
  const info = map.info;
  // Keyless maps (queue, stack, bloom filter) have key_size 0 and take no key.
  if (info.keySize !== 0 && key.size !== info.keySize) {
    throw new MapError("EINVAL", `map ${map.name}: key codec is ${key.size} bytes, key_size is ${info.keySize}`);
  }
  function* entries(): IterableIterator<[K, V]> {
    for (const [k, v] of map.entries()) yield [key.decode(k), value.decode(v)];
  }
  return {
    get(k) {
      const v = map.lookup(key.encode(k));
      return v === undefined ? undefined : value.decode(v);
    },
    set(k, v, flags) {
      map.update(key.encode(k), value.encode(v), flags);
    },
    delete: (k) => map.delete(key.encode(k)),
    entries,
    *keys() {
      for (const k of map.keys()) yield key.decode(k);
    },
    [Symbol.iterator]: entries,
  };
}
