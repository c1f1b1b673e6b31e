/** A typed view over any backend's map handle, through key and value codecs. */
import type { Codec, MapHandle, TypedMap } from "./types.js";

export function typedMap<K, V>(map: MapHandle, key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
  const check = (what: string, codec: Codec<unknown>, size: number): void => {
    if (codec.size !== size) throw new RangeError(`map ${map.name}: ${what} codec is ${codec.size} bytes, the map's ${what} is ${size}`);
  };
  check("key", key, map.info.keySize);
  const typed: TypedMap<K, V> = {
    get: (k) => {
      const v = map.lookup(key.encode(k));
      return v === undefined ? undefined : value.decode(v);
    },
    set: (k, v, flags) => map.update(key.encode(k), value.encode(v), flags),
    delete: (k) => map.delete(key.encode(k)),
    *entries() {
      for (const [k, v] of map.entries()) yield [key.decode(k), value.decode(v)];
    },
    *keys() {
      for (const k of map.keys()) yield key.decode(k);
    },
    [Symbol.iterator]: () => typed.entries(),
  };
  return typed;
}
