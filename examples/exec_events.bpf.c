// SPDX-License-Identifier: MIT
/*
 * Ring buffer events: one record per exec() in the system, from the
 * sched:sched_process_exec tracepoint, streamed to user space through a BPF
 * ring buffer. Layout of the tracepoint: /sys/kernel/tracing/events/sched/
 * sched_process_exec/format.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct sched_process_exec {
	__u64 common;
	__u32 filename_loc;    /* __data_loc char[]: offset in the low 16 bits, length in the high 16 */
	__s32 pid;
	__s32 old_pid;
};

struct event {
	__u32 pid;
	__u32 uid;
	__u64 time_ns;
	char comm[16];
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_process_exec *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = ctx->pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->time_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + (ctx->filename_loc & 0xffff));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
