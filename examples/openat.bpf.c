// SPDX-License-Identifier: MIT
/*
 * openat counter: every openat() in the system, counted per process (tgid)
 * in a hash map, with the process's command name recorded on first sight.
 * The tracepoint's layout is /sys/kernel/tracing/events/syscalls/
 * sys_enter_openat/format.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* syscalls:sys_enter_openat, as tracefs describes it. */
struct sys_enter_openat {
	__u64 common;          /* common_type, common_flags, common_preempt_count, common_pid */
	__s32 syscall_nr;
	__u32 pad;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

struct counter {
	__u64 count;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);              /* tgid */
	__type(value, struct counter);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(struct sys_enter_openat *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct counter *c = bpf_map_lookup_elem(&counts, &tgid);

	if (!c) {
		struct counter init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		/* Another CPU may have added it meanwhile: then count on its entry. */
		bpf_map_update_elem(&counts, &tgid, &init, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &tgid);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->count, 1);
	return 0;
}
