// SPDX-License-Identifier: MIT
/*
 * XDP UDP drop: UDP datagrams to a port listed in drop_ports are dropped
 * before the network stack sees them; everything else passes. stats counts
 * what happened: [0] dropped, [1] UDP passed, [2] other traffic passed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);              /* UDP destination port, host order */
	__type(value, __u8);
} drop_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

enum { DROPPED = 0, UDP_PASSED = 1, OTHER_PASSED = 2 };

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &what);

	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

SEC("xdp")
int udp_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u16 port;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(OTHER_PASSED, XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
		return count(OTHER_PASSED, XDP_PASS);
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return count(OTHER_PASSED, XDP_PASS);
	port = bpf_ntohs(udp->dest);
	if (bpf_map_lookup_elem(&drop_ports, &port))
		return count(DROPPED, XDP_DROP);
	return count(UDP_PASSED, XDP_PASS);
}
