/**
 * The vm's maps: every map type with the kernel's semantics, in one address space.
 *
 * - `createMap(space, attrs, options)` / `tryCreateMap` (-errno): BPF_MAP_CREATE.
 * - `BpfMap`: `sys*` methods are the bpf() command surface (bytes in/out, 0 or
 *   -errno), `lookupElem`/`updateElem`/`deleteElem`/`pushElem`/`popElem`/`peekElem`
 *   the program side (addresses, no allocation), `addr` the descriptor an
 *   LD_IMM64 map reference resolves to (`mapAt(space, addr)` goes back).
 * - Type-specific primitives: `ArrayMap.inline` (JIT), `RingBufMap.reserve/submit/
 *   discard/output/query`, `UserRingBufMap.drain`, `PerfEventArrayMap.output`,
 *   `ProgArrayMap.tailCallTarget` / `tailCallTarget(space, mapAddr, index)`,
 *   `StackTraceMap.getStackId`, `LocalStorageMap.storageGet/storageDelete`.
 */
export * from "./uapi.js";
export * from "./map.js";
export * from "./create.js";
export { ArrayMap, PercpuArrayMap, type ArrayInline, type MappedValues } from "./array.js";
export { HashMap } from "./hash.js";
export { LpmTrieMap } from "./lpm_trie.js";
export { QueueStackMap } from "./queue_stack.js";
export { BloomFilterMap } from "./bloom_filter.js";
export { RingBufBase, RingBufMap, type RingSource, ringRecordSize } from "./ringbuf.js";
export { UserRingBufMap, type DrainCallback } from "./user_ringbuf.js";
export { FdArrayMap } from "./fd_array.js";
export { ProgArrayMap, tailCallTarget } from "./prog_array.js";
export { PerfEventArrayMap, PerfEventRing, type PerfRingOptions, PERF_RECORD_LOST, PERF_RECORD_SAMPLE } from "./perf_event_array.js";
export { ArrayOfMapsMap, HashOfMapsMap, type InnerMapMeta } from "./map_in_map.js";
export { StackTraceMap } from "./stack_trace.js";
export { LocalStorageMap } from "./local_storage.js";
export { jhashBytes, jhashWords } from "./jhash.js";
