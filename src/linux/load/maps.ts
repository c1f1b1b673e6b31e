/**
 * Maps of an object spec created in the kernel, as libbpf does it
 * (libbpf.c, bpf_object__create_maps / bpf_object__create_map /
 * bpf_object__populate_internal_map / init_map_in_map_slots):
 * - ring buffer sizes rounded up to a power-of-two number of pages
 *   (adjust_ringbuf_sz), perf event arrays of max_entries 0 sized to the
 *   possible CPUs;
 * - BTF key/value type ids passed along, except for the map types whose
 *   values are kernel objects (libbpf clears them); a refusal with BTF is
 *   retried without it, as libbpf does;
 * - map-in-map outer maps created from their inner template, which is then
 *   closed; initial slots filled once every map exists;
 * - global data written, .rodata and .kconfig frozen;
 * - maps pinned by name reuse a compatible pin (else MapIncompatibleError),
 *   or are pinned once initialized.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BpfCommandError, LoadError, MapError, NotSupportedError } from "../../errors.js";
import type { MapSpec } from "../../object/types.js";
import { LIBBPF_PIN_BY_NAME } from "../../object/uapi.js";
import { MapType, mapTypeName } from "../constants.js";
import { possibleCpus } from "../fs.js";
import { LinuxMap, MapIncompatibleError, type MapOptions } from "../map.js";
import { sys } from "../sys.js";
import type { Resources } from "./resources.js";

/** Map types whose key/value BTF the kernel refuses or ignores (libbpf.c, bpf_object__create_map). */
const NO_BTF_TYPES: ReadonlySet<number> = new Set([
  MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY, MapType.BPF_MAP_TYPE_CGROUP_ARRAY, MapType.BPF_MAP_TYPE_STACK_TRACE,
  MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, MapType.BPF_MAP_TYPE_HASH_OF_MAPS, MapType.BPF_MAP_TYPE_DEVMAP,
  MapType.BPF_MAP_TYPE_DEVMAP_HASH, MapType.BPF_MAP_TYPE_CPUMAP, MapType.BPF_MAP_TYPE_XSKMAP,
  MapType.BPF_MAP_TYPE_SOCKMAP, MapType.BPF_MAP_TYPE_SOCKHASH, MapType.BPF_MAP_TYPE_QUEUE, MapType.BPF_MAP_TYPE_STACK,
  MapType.BPF_MAP_TYPE_ARENA,
]);

export const isMapInMap = (t: number): boolean => t === MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS || t === MapType.BPF_MAP_TYPE_HASH_OF_MAPS;

/** libbpf.c, adjust_ringbuf_sz: the smallest power-of-two multiple of the page size that holds `size`. */
export function ringbufSize(size: number, pageSize = sys().pageSize): number {
  let n = pageSize;
  while (n < size && n <= 0x7fff_ffff) n *= 2;
  return n;
}

/** BPF_MAP_CREATE parameters for a spec, with libbpf's load-time adjustments. */
export function mapOptions(spec: MapSpec, btfFd: number | undefined): MapOptions {
  let maxEntries = spec.maxEntries;
  if (spec.type === MapType.BPF_MAP_TYPE_RINGBUF || spec.type === MapType.BPF_MAP_TYPE_USER_RINGBUF) maxEntries = ringbufSize(maxEntries);
  if (spec.type === MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && maxEntries === 0) maxEntries = possibleCpus();
  const withBtf = btfFd !== undefined && !NO_BTF_TYPES.has(spec.type) && (spec.btfKeyTypeId !== 0 || spec.btfValueTypeId !== 0);
  return {
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries,
    flags: spec.flags,
    name: spec.kernelName,
    numaNode: spec.numaNode,
    mapExtra: spec.mapExtra,
    ...(withBtf ? { btfFd, btfKeyTypeId: spec.btfKeyTypeId, btfValueTypeId: spec.btfValueTypeId } : {}),
  };
}

/** BPF_MAP_CREATE, retried without BTF when the kernel refuses the map with it. */
function createWithBtfFallback(opts: MapOptions): LinuxMap {
  try {
    return LinuxMap.create(opts);
  } catch (e) {
    if (opts.btfFd === undefined) throw e;
    const { btfFd: _fd, btfKeyTypeId: _k, btfValueTypeId: _v, ...plain } = opts;
    try {
      return LinuxMap.create(plain);
    } catch {
      throw e;
    }
  }
}

export interface CreatedMap {
  readonly spec: MapSpec;
  readonly map: LinuxMap;
  /** Where it is pinned (LIBBPF_PIN_BY_NAME), if it is. */
  readonly pinPath?: string;
  /** An existing pin was reused: nothing was initialized. */
  readonly reused: boolean;
  /** Handed in through LoadOptions.replaceMaps. */
  readonly replaced: boolean;
}

export interface MapCreateOptions {
  readonly btfFd?: number;
  readonly pinPath: string;
  /** Already-open maps to use instead of creating the named ones (the loader owns these fds). */
  readonly replace: ReadonlyMap<string, LinuxMap>;
  /** The .kconfig map's value (computed by the caller). */
  readonly kconfig?: { readonly mapName: string; readonly data: Uint8Array };
}

/** What differs between an existing map and what the spec asks for (libbpf's map_is_reuse_compat). */
function incompatibilities(m: LinuxMap, opts: MapOptions): string[] {
  return m.incompatibilities(opts);
}

/**
 * Creates every map of the spec. Each fd and pin goes into `res` as soon as it
 * exists, so a failure anywhere leaves nothing behind once res is rolled back.
 */
export function createMaps(specs: ReadonlyMap<string, MapSpec>, o: MapCreateOptions, res: Resources): Map<string, CreatedMap> {
  const out = new Map<string, CreatedMap>();
  for (const spec of specs.values()) {
    const what = `create map ${spec.name}`;
    const replaced = o.replace.get(spec.name);
    if (replaced) {
      res.own(replaced);
      const bad = incompatibilities(replaced, mapOptions(spec, undefined));
      if (bad.length) throw new LoadError(`${what}: replacement map is incompatible: ${bad.join(", ")}`);
      out.set(spec.name, { spec, map: replaced, reused: true, replaced: true });
      continue;
    }
    if (spec.type === MapType.BPF_MAP_TYPE_STRUCT_OPS) {
      throw new NotSupportedError(`struct_ops map '${spec.name}'`, "the linux backend does not register struct_ops yet");
    }
    const opts = mapOptions(spec, o.btfFd);
    const pinPath = spec.pinning === LIBBPF_PIN_BY_NAME ? join(o.pinPath, spec.name) : undefined;
    try {
      if (pinPath && existsSync(pinPath)) {
        const m = res.own(LinuxMap.fromPin(pinPath));
        const bad = incompatibilities(m, opts);
        if (bad.length) throw new MapIncompatibleError(pinPath, bad);
        out.set(spec.name, { spec, map: m, pinPath, reused: true, replaced: false });
        continue;
      }
      let inner: LinuxMap | undefined;
      if (isMapInMap(spec.type)) {
        if (!spec.innerMap) throw new LoadError(`${what}: map-in-map without an inner map definition`);
        inner = res.own(createWithBtfFallback(mapOptions(spec.innerMap, o.btfFd)));
      }
      let m: LinuxMap;
      try {
        m = res.own(createWithBtfFallback(inner ? { ...opts, innerMapFd: inner.fd.value } : opts));
      } finally {
        // The template only shapes the outer map; libbpf destroys it right after.
        if (inner) res.release(inner);
      }
      const data = o.kconfig?.mapName === spec.name ? o.kconfig.data : spec.data;
      const step = (op: string, f: () => void): void => {
        try {
          f();
        } catch (e) {
          throw new LoadError(`${op} map ${spec.name}: ${(e as Error).message}`, { cause: e });
        }
      };
      if (data) {
        if (data.length !== m.valueSize) throw new LoadError(`${what}: initial data is ${data.length} bytes, value_size is ${m.valueSize}`);
        step("initialize", () => m.update(new Uint8Array(4), data));
      }
      if (spec.freeze) step("freeze", () => m.freeze());
      if (pinPath) {
        step("pin", () => m.pin(pinPath));
        res.pinned(pinPath);
      }
      out.set(spec.name, { spec, map: m, ...(pinPath ? { pinPath } : {}), reused: false, replaced: false });
    } catch (e) {
      if (e instanceof LoadError || e instanceof NotSupportedError) throw e;
      // MapError / BpfCommandError already say "create hash map NAME: EINVAL": keep the errno, not the repetition.
      const code = e instanceof MapError || e instanceof BpfCommandError ? e.code : (e as Error).message;
      throw new LoadError(`${what} (${mapTypeName(spec.type)}): ${code}`, { cause: e });
    }
  }
  // Every map exists now: point the outer maps' initial slots at their inner maps.
  for (const c of out.values()) {
    if (!isMapInMap(c.spec.type) || c.reused) continue;
    if (c.spec.initialSlots.length && c.map.keySize !== 4) {
      throw new LoadError(`map ${c.spec.name}: initial slots need a 4-byte key, key_size is ${c.map.keySize}`);
    }
    for (const slot of c.spec.initialSlots) {
      const target = out.get(slot.target);
      if (!target) throw new LoadError(`map ${c.spec.name}: slot [${slot.index}] names map '${slot.target}', which was not created`);
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, target.map.fd.value, true);
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, slot.index, true);
      try {
        c.map.update(k, v);
      } catch (e) {
        throw new LoadError(`map ${c.spec.name}: initialize slot [${slot.index}] to map '${slot.target}': ${(e as Error).message}`, { cause: e });
      }
    }
  }
  return out;
}
