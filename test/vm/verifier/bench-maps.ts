/**
 * The benchmark objects' maps (their BTF-defined attributes, from
 * /work/shared/bench/progs/*.bpf.c), so tests need no BTF parser to create them.
 */
import type { KernelMapSpec } from "./kernel-load.js";

/** include/uapi/linux/bpf.h, enum bpf_map_type; BPF_F_NO_PREALLOC. */
export const BENCH_MAPS: Readonly<Record<string, KernelMapSpec>> = {
  verdict_cnt: { type: 2, keySize: 4, valueSize: 8, maxEntries: 5, name: "verdict_cnt" },
  flows: { type: 1, keySize: 16, valueSize: 16, maxEntries: 1024, name: "flows" },
  routes: { type: 11, keySize: 8, valueSize: 4, maxEntries: 256, flags: 1, name: "routes" },
  events: { type: 27, keySize: 0, valueSize: 0, maxEntries: 32 * 1024 * 1024, name: "events" },
};

export const BENCH_PROGRAMS = [
  "00_empty", "01_alu_lcg", "02_xdp_csum", "03_xdp_parse_udp", "04_hash_map",
  "05_lpm_trie", "06_bpf2bpf_call", "07_stack_memops", "08_ringbuf_ktime",
] as const;

/** Kernel 6.18 figures, /work/shared/bench/progs/README.md. */
export const BENCH_KERNEL: Readonly<Record<string, { processed: number; xlated: number }>> = {
  "00_empty": { processed: 2, xlated: 2 },
  "01_alu_lcg": { processed: 450012, xlated: 25 },
  "02_xdp_csum": { processed: 18015, xlated: 26 },
  "03_xdp_parse_udp": { processed: 77, xlated: 61 },
  "04_hash_map": { processed: 182, xlated: 176 },
  "05_lpm_trie": { processed: 51, xlated: 41 },
  "06_bpf2bpf_call": { processed: 110601, xlated: 38 },
  "07_stack_memops": { processed: 28411, xlated: 63 },
  "08_ringbuf_ktime": { processed: 63, xlated: 63 },
};
