/**
 * Map definitions: BTF-defined maps in .maps (libbpf.c, parse_btf_map_def),
 * the legacy "maps" section (struct bpf_map_def), and libbpf's naming of
 * internal (global data) maps (internal_map_name).
 */
import type { Btf } from "../btf/btf.js";
import type { BtfType } from "../btf/types.js";
import { LoadError } from "../errors.js";
import { BPF_OBJ_NAME_LEN, LIBBPF_PIN_BY_NAME, LIBBPF_PIN_NONE, MapType } from "./uapi.js";

/** libbpf's struct btf_map_def, as parsed from a .maps variable's struct. */
export interface BtfMapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: number;
  keyTypeId: number;
  valueTypeId: number;
  inner?: BtfMapDef;
  /** Bit offset of the `values` member (initial slots), when present. */
  valuesBitOffset?: number;
}

const isMapInMap = (t: number): boolean => t === MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS || t === MapType.BPF_MAP_TYPE_HASH_OF_MAPS;

const kindStr = (t: BtfType): string => t.kind.toUpperCase();

/**
 * An integer attribute: `int (*name)[VALUE]` encodes VALUE as the array's
 * length, costing only a pointer in the ELF data (get_map_field_int).
 */
function fieldInt(btf: Btf, mapName: string, name: string, type: number): number {
  const t = btf.skipModsAndTypedefs(type);
  if (t.kind !== "ptr") throw new LoadError(`map '${mapName}': attr '${name}': expected PTR, got ${kindStr(t)}`);
  const arr = btf.type(t.type);
  if (arr.kind !== "array") throw new LoadError(`map '${mapName}': attr '${name}': expected ARRAY, got ${kindStr(arr)}`);
  return arr.nelems;
}

/** Parses a BTF map definition struct (strict: unknown fields are errors, as libbpf does by default). */
export function parseBtfMapDef(btf: Btf, mapName: string, defId: number, strict: boolean, isInner: boolean): BtfMapDef {
  const t = btf.skipModsAndTypedefs(defId);
  if (t.kind !== "struct") throw new LoadError(`map '${mapName}': unexpected def kind ${kindStr(t)}`);
  const def: BtfMapDef = {
    type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n, pinning: LIBBPF_PIN_NONE,
    keyTypeId: 0, valueTypeId: 0,
  };
  const sized = (what: "key" | "value", sz: number): void => {
    const cur = what === "key" ? def.keySize : def.valueSize;
    if (cur && cur !== sz) throw new LoadError(`map '${mapName}': conflicting ${what} size ${cur} != ${sz}`);
    if (what === "key") def.keySize = sz;
    else def.valueSize = sz;
  };
  t.members.forEach((m, i) => {
    switch (m.name) {
      case "type": def.type = fieldInt(btf, mapName, m.name, m.type); break;
      case "max_entries": def.maxEntries = fieldInt(btf, mapName, m.name, m.type); break;
      case "map_flags": def.flags = fieldInt(btf, mapName, m.name, m.type); break;
      case "numa_node": def.numaNode = fieldInt(btf, mapName, m.name, m.type); break;
      case "map_extra": def.mapExtra = BigInt(fieldInt(btf, mapName, m.name, m.type)); break;
      case "key_size": sized("key", fieldInt(btf, mapName, m.name, m.type)); break;
      case "value_size": sized("value", fieldInt(btf, mapName, m.name, m.type)); break;
      case "key":
      case "value": {
        const p = btf.type(m.type);
        if (p.kind !== "ptr") throw new LoadError(`map '${mapName}': ${m.name} spec is not PTR: ${kindStr(p)}`);
        const sz = btf.sizeof(p.type);
        sized(m.name, sz);
        if (m.name === "key") def.keyTypeId = p.type;
        else def.valueTypeId = p.type;
        break;
      }
      case "values": {
        const inMap = isMapInMap(def.type);
        const progArray = def.type === MapType.BPF_MAP_TYPE_PROG_ARRAY;
        const desc = inMap ? "map-in-map inner" : "prog-array value";
        if (isInner) throw new LoadError(`map '${mapName}': multi-level inner maps not supported`);
        if (i !== t.members.length - 1) throw new LoadError(`map '${mapName}': 'values' member should be last`);
        if (!inMap && !progArray) throw new LoadError(`map '${mapName}': should be map-in-map or prog-array`);
        sized("value", 4);
        const arr = btf.type(m.type);
        if (arr.kind !== "array" || arr.nelems !== 0) throw new LoadError(`map '${mapName}': ${desc} spec is not a zero-sized array`);
        const ptr = btf.skipModsAndTypedefs(arr.type);
        if (ptr.kind !== "ptr") throw new LoadError(`map '${mapName}': ${desc} def is of unexpected kind ${kindStr(ptr)}`);
        const target = btf.skipModsAndTypedefs(ptr.type);
        def.valuesBitOffset = m.bitOffset;
        if (progArray) {
          if (target.kind !== "func_proto") throw new LoadError(`map '${mapName}': prog-array value def is of unexpected kind ${kindStr(target)}`);
          break;
        }
        if (target.kind !== "struct") throw new LoadError(`map '${mapName}': map-in-map inner def is of unexpected kind ${kindStr(target)}`);
        def.inner = parseBtfMapDef(btf, `${mapName}.inner`, target.id, strict, true);
        break;
      }
      case "pinning": {
        if (isInner) throw new LoadError(`map '${mapName}': inner def can't be pinned`);
        const v = fieldInt(btf, mapName, m.name, m.type);
        if (v !== LIBBPF_PIN_NONE && v !== LIBBPF_PIN_BY_NAME) throw new LoadError(`map '${mapName}': invalid pinning value ${v}`);
        def.pinning = v;
        break;
      }
      default:
        if (strict) throw new LoadError(`map '${mapName}': unknown field '${m.name}'`);
    }
  });
  if (def.type === MapType.BPF_MAP_TYPE_UNSPEC) throw new LoadError(`map '${mapName}': map type isn't specified`);
  return def;
}

/**
 * libbpf's name for an internal map: as much of the object name as fits
 * before the section name ("myobj.rodata"), only the section name for custom
 * ".data.foo"/".rodata.foo" sections, 15 characters at most, characters the
 * kernel rejects replaced by '_' (libbpf.c, internal_map_name).
 */
export function internalMapName(objName: string, realName: string): string {
  let sfxLen = Math.max(7, realName.length);
  if (sfxLen >= BPF_OBJ_NAME_LEN) sfxLen = BPF_OBJ_NAME_LEN - 1;
  const pfxLen = realName.indexOf(".", 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = (objName.slice(0, pfxLen) + realName.slice(0, sfxLen)).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** libbpf's object name from a path: the file name up to its first '.', at most 15 characters. */
export function objectNameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  return (dot >= 0 ? base.slice(0, dot) : base).slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** A map name as BPF_MAP_CREATE takes it (libbpf copies at most 15 characters). */
export const kernelMapName = (name: string): string => name.slice(0, BPF_OBJ_NAME_LEN - 1);

/** sizeof(struct bpf_map_def) with its five u32 fields (the legacy "maps" section). */
export const LEGACY_MAP_DEF_SIZE = 20;
