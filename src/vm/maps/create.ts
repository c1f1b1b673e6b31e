/**
 * createMap(): BPF_MAP_CREATE for the vm. The generic checks of map_create() in
 * kernel/bpf/syscall.c, then the type's own alloc_check, in the kernel's order,
 * each failing with the kernel's errno; then the map.
 */
import { ERRNO, type ErrnoName, MapError, NotSupportedError, errnoName } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { ArrayMap, PercpuArrayMap, arrayAllocCheck } from "./array.js";
import { BloomFilterMap, bloomAllocCheck } from "./bloom_filter.js";
import { fdArrayAllocCheck } from "./fd_array.js";
import { HashMap, htabAllocCheck } from "./hash.js";
import { LocalStorageMap, localStorageAllocCheck } from "./local_storage.js";
import { LpmTrieMap, lpmAllocCheck } from "./lpm_trie.js";
import type { BpfMap, MapAttrs, MapOptions } from "./map.js";
import { ArrayOfMapsMap, HashOfMapsMap, innerMapMeta } from "./map_in_map.js";
import { PerfEventArrayMap } from "./perf_event_array.js";
import { ProgArrayMap } from "./prog_array.js";
import { QueueStackMap, queueStackAllocCheck } from "./queue_stack.js";
import { RingBufMap, ringbufAllocCheck } from "./ringbuf.js";
import { StackTraceMap, stackTraceAllocCheck } from "./stack_trace.js";
import { BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_TOKEN_FD, BPF_F_WRONLY, BPF_MAP_TYPE, mapTypeName } from "./uapi.js";
import { UserRingBufMap } from "./user_ringbuf.js";

const E = ERRNO;
const T = BPF_MAP_TYPE;

/** BPF_OBJ_NAME_LEN. include/uapi/linux/bpf.h. */
export const BPF_OBJ_NAME_LEN = 16;

/** bpf_obj_name_cpy(): [A-Za-z0-9_.]*, NUL within 16 bytes. */
function nameOk(name: string): boolean {
  return name.length < BPF_OBJ_NAME_LEN && /^[A-Za-z0-9_.]*$/.test(name);
}

/** Checks and creates; returns the map or -errno (for the runtime's bpf() surface). */
export function tryCreateMap(space: AddressSpace, attrs: MapAttrs, options: MapOptions = {}): BpfMap | number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  const a: MapAttrs = flags & BPF_F_TOKEN_FD ? { ...attrs, mapFlags: flags & ~BPF_F_TOKEN_FD } : attrs;
  const f = (a.mapFlags ?? 0) >>> 0;
  if (a.btfVmlinuxValueTypeId) {
    if (a.mapType !== T.STRUCT_OPS || a.btfKeyTypeId || a.btfValueTypeId) return -E.EINVAL;
  } else if (a.btfKeyTypeId && !a.btfValueTypeId) {
    return -E.EINVAL;
  }
  if (a.mapType !== T.BLOOM_FILTER && a.mapType !== T.ARENA && BigInt(a.mapExtra ?? 0) !== 0n) return -E.EINVAL;
  if ((f & BPF_F_RDONLY) && (f & BPF_F_WRONLY)) return -E.EINVAL;
  if ((f & BPF_F_NUMA_NODE) && ((a.numaNode ?? 0) >>> 0) >= (options.numaNodes ?? 1)) return -E.EINVAL;
  const check = allocCheck(a, options);
  if (typeof check === "number" && check < 0) return check;
  // BPF tokens (delegated permissions) do not exist in the vm: no fd is a token.
  if (flags & BPF_F_TOKEN_FD) return -E.EINVAL;
  if (a.name !== undefined && !nameOk(a.name)) return -E.EINVAL;
  try {
    return construct(space, a, options, check);
  } catch (err) {
    // The space is exhausted: the kernel's bpf_map_area_alloc() fails the same way.
    if (err instanceof RangeError) return -E.ENOMEM;
    throw err;
  }
}

type Check = number | ReturnType<typeof innerMapMeta>;

function allocCheck(a: MapAttrs, options: MapOptions): Check {
  switch (a.mapType) {
    case T.ARRAY:
    case T.PERCPU_ARRAY:
      return arrayAllocCheck(a);
    case T.PROG_ARRAY:
    case T.PERF_EVENT_ARRAY:
      return fdArrayAllocCheck(a);
    case T.ARRAY_OF_MAPS: {
      const r = fdArrayAllocCheck(a);
      return r < 0 ? r : innerMapMeta(a, options);
    }
    case T.HASH_OF_MAPS: {
      if (a.valueSize !== 4) return -E.EINVAL;
      const r = htabAllocCheck(a, options);
      return r < 0 ? r : innerMapMeta(a, options);
    }
    case T.HASH:
    case T.PERCPU_HASH:
    case T.LRU_HASH:
    case T.LRU_PERCPU_HASH:
      return htabAllocCheck(a, options);
    case T.LPM_TRIE:
      return lpmAllocCheck(a);
    case T.QUEUE:
    case T.STACK:
      return queueStackAllocCheck(a);
    case T.BLOOM_FILTER:
      return bloomAllocCheck(a);
    case T.RINGBUF:
    case T.USER_RINGBUF:
      return ringbufAllocCheck(a);
    case T.STACK_TRACE:
      return stackTraceAllocCheck(a);
    case T.TASK_STORAGE:
    case T.INODE_STORAGE:
    case T.SK_STORAGE:
    case T.CGRP_STORAGE:
      return localStorageAllocCheck(a);
    case T.CGROUP_ARRAY:
    case T.DEVMAP:
    case T.SOCKMAP:
    case T.CPUMAP:
    case T.XSKMAP:
    case T.SOCKHASH:
    case T.CGROUP_STORAGE:
    case T.REUSEPORT_SOCKARRAY:
    case T.PERCPU_CGROUP_STORAGE:
    case T.DEVMAP_HASH:
    case T.STRUCT_OPS:
    case T.ARENA:
      throw new NotSupportedError(`map type ${mapTypeName(a.mapType)}`, "not implemented by the vm backend");
    default:
      return -E.EINVAL;
  }
}

function construct(space: AddressSpace, a: MapAttrs, options: MapOptions, check: Check): BpfMap {
  switch (a.mapType) {
    case T.ARRAY: return new ArrayMap(space, a, options);
    case T.PERCPU_ARRAY: return new PercpuArrayMap(space, a, options);
    case T.PROG_ARRAY: return new ProgArrayMap(space, a, options);
    case T.PERF_EVENT_ARRAY: return new PerfEventArrayMap(space, a, options);
    case T.ARRAY_OF_MAPS: return new ArrayOfMapsMap(space, a, options, check as Exclude<Check, number>);
    case T.HASH_OF_MAPS: return new HashOfMapsMap(space, a, options, check as Exclude<Check, number>);
    case T.LPM_TRIE: return new LpmTrieMap(space, a, options);
    case T.QUEUE:
    case T.STACK: return new QueueStackMap(space, a, options);
    case T.BLOOM_FILTER: return new BloomFilterMap(space, a, options);
    case T.RINGBUF: return new RingBufMap(space, a, options);
    case T.USER_RINGBUF: return new UserRingBufMap(space, a, options);
    case T.STACK_TRACE: return new StackTraceMap(space, a, options);
    case T.TASK_STORAGE:
    case T.INODE_STORAGE:
    case T.SK_STORAGE:
    case T.CGRP_STORAGE: return new LocalStorageMap(space, a, options);
    default: return new HashMap(space, a, options);
  }
}

/** BPF_MAP_CREATE: the map, or a MapError with the kernel's errno. */
export function createMap(space: AddressSpace, attrs: MapAttrs, options: MapOptions = {}): BpfMap {
  const r = tryCreateMap(space, attrs, options);
  if (typeof r !== "number") return r;
  const name = errnoName(r);
  throw new MapError((name in ERRNO ? name : "EINVAL") as ErrnoName, `create ${mapTypeName(attrs.mapType)} map${attrs.name ? ` ${attrs.name}` : ""}`);
}
