/**
 * Map-related kernel numbers: map types, creation flags, update flags, ring
 * buffer bits. All from include/uapi/linux/bpf.h unless noted.
 */

/** enum bpf_map_type. include/uapi/linux/bpf.h. */
export const BPF_MAP_TYPE = {
  UNSPEC: 0,
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  STRUCT_OPS: 26,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
  USER_RINGBUF: 31,
  CGRP_STORAGE: 32,
  ARENA: 33,
} as const;

export type MapTypeName = keyof typeof BPF_MAP_TYPE;

const typeNames = new Map<number, MapTypeName>(
  Object.entries(BPF_MAP_TYPE).map(([k, v]) => [v, k as MapTypeName]),
);

/** "hash", "lru_percpu_hash"... as bpftool prints them. */
export function mapTypeName(type: number): string {
  return typeNames.get(type)?.toLowerCase() ?? `unknown(${type})`;
}

// ---- BPF_MAP_CREATE map_flags. include/uapi/linux/bpf.h, the anonymous enum after BPF_ANY. ----
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_STACK_BUILD_ID = 1 << 5;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_CLONE = 1 << 9;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_PRESERVE_ELEMS = 1 << 11;
export const BPF_F_INNER_MAP = 1 << 12;
export const BPF_F_LINK = 1 << 13;
export const BPF_F_PATH_FD = 1 << 14;
export const BPF_F_VTYPE_BTF_OBJ_FD = 1 << 15;
export const BPF_F_TOKEN_FD = 1 << 16;
export const BPF_F_SEGV_ON_FAULT = 1 << 17;
export const BPF_F_NO_USER_CONV = 1 << 18;

/** include/linux/bpf.h, BPF_F_ACCESS_MASK. */
export const BPF_F_ACCESS_MASK = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

// ---- BPF_MAP_UPDATE_ELEM flags. include/uapi/linux/bpf.h. ----
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

// ---- bpf_local_storage_get flags. ----
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1 << 0;

// ---- ring buffer. include/uapi/linux/bpf.h. ----
export const BPF_RB_NO_WAKEUP = 1 << 0;
export const BPF_RB_FORCE_WAKEUP = 1 << 1;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
export const BPF_RINGBUF_BUSY_BIT = 1 << 31;
export const BPF_RINGBUF_DISCARD_BIT = 1 << 30;
export const BPF_RINGBUF_HDR_SZ = 8;

// ---- perf_event_output / get_stackid flags. include/uapi/linux/bpf.h. ----
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = 0xffffffff;
/** Upper 32 bits of the flags: ctx length for skb/xdp output (BPF_F_CTXLEN_MASK = 0xfffff << 32). */
export const BPF_F_CTXLEN_MASK_HI = 0xfffff;
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9;
export const BPF_F_REUSE_STACKID = 1 << 10;
export const BPF_F_USER_BUILD_ID = 1 << 11;

/** Page size the kernel rounds ring buffers and mmapable arrays to (x86-64). */
export const PAGE_SIZE = 4096;
/** mm/percpu.c, PCPU_MIN_UNIT_SIZE: the largest per-CPU value. */
export const PCPU_MIN_UNIT_SIZE = 32 * 1024;
/** include/linux/filter.h, MAX_BPF_STACK: hash keys live on the stack, so no larger. */
export const MAX_BPF_STACK = 512;
/** include/linux/slab.h, KMALLOC_MAX_SIZE on x86-64 (1 << (PAGE_SHIFT + MAX_PAGE_ORDER) = 4 MiB). */
export const KMALLOC_MAX_SIZE = 1 << 22;
/** include/linux/perf_event.h, sysctl_perf_event_max_stack default (PERF_MAX_STACK_DEPTH). */
export const PERF_MAX_STACK_DEPTH = 127;
