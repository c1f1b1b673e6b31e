// An XDP program for the xlated golden test: bpftool prints its translated
// instructions (map references, rewritten helper calls, a bpf-to-bpf call), and
// tsbpf's xlated style must print the same text from the same bytes.
// Built with clang-19 -O2 -g -mcpu=v3 by capture.ts; loaded with bpftool.
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} arr SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} h SEC(".maps");

__u64 counter = 0;
__u32 seen[4] = {};

static __noinline int sub(int x) { return x * 3 + 1; }

SEC("xdp")
int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  __u32 k = ctx->ingress_ifindex & 3;
  __u64 *v = bpf_map_lookup_elem(&h, &k);
  if (v) __sync_fetch_and_add(v, 1);
  v = bpf_map_lookup_elem(&arr, &k);
  if (v) {
    __u64 old = __sync_fetch_and_add(v, 5);
    counter += old;
  }
  counter ^= bpf_get_prandom_u32();
  seen[ctx->rx_queue_index & 3] += 1;
  if (data + 14 > end) return XDP_ABORTED;
  __u16 proto = *(__u16 *)(data + 12);
  if (proto == bpf_htons(0x0800)) counter -= 7;
  for (int i = 0; i < 4; i++) {
    if ((signed char)((unsigned char *)data)[i] < 0) counter |= 1ULL << i;
  }
  return sub(k) > 2 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
