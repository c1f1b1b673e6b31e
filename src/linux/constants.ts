/**
 * Kernel numbers the linux backend speaks: bpf() commands, map, program, attach and
 * link types, flags. All from include/uapi/linux/bpf.h unless noted; verified
 * against the running kernel's BTF (test/linux/attr-offsets.test.ts covers layouts).
 * Kernel names stay kernel names so they can be searched for.
 */

import { AttachType, MapType, ProgType } from "../object/uapi.js";

// The uapi enums live with the object layer (core, browser-safe); the linux
// backend speaks the same numbers.
export { AttachType, MapType, ProgType };

/** enum bpf_cmd. include/uapi/linux/bpf.h. */
export const BpfCmd = {
  BPF_MAP_CREATE: 0,
  BPF_MAP_LOOKUP_ELEM: 1,
  BPF_MAP_UPDATE_ELEM: 2,
  BPF_MAP_DELETE_ELEM: 3,
  BPF_MAP_GET_NEXT_KEY: 4,
  BPF_PROG_LOAD: 5,
  BPF_OBJ_PIN: 6,
  BPF_OBJ_GET: 7,
  BPF_PROG_ATTACH: 8,
  BPF_PROG_DETACH: 9,
  BPF_PROG_TEST_RUN: 10,
  BPF_PROG_GET_NEXT_ID: 11,
  BPF_MAP_GET_NEXT_ID: 12,
  BPF_PROG_GET_FD_BY_ID: 13,
  BPF_MAP_GET_FD_BY_ID: 14,
  BPF_OBJ_GET_INFO_BY_FD: 15,
  BPF_PROG_QUERY: 16,
  BPF_RAW_TRACEPOINT_OPEN: 17,
  BPF_BTF_LOAD: 18,
  BPF_BTF_GET_FD_BY_ID: 19,
  BPF_TASK_FD_QUERY: 20,
  BPF_MAP_LOOKUP_AND_DELETE_ELEM: 21,
  BPF_MAP_FREEZE: 22,
  BPF_BTF_GET_NEXT_ID: 23,
  BPF_MAP_LOOKUP_BATCH: 24,
  BPF_MAP_LOOKUP_AND_DELETE_BATCH: 25,
  BPF_MAP_UPDATE_BATCH: 26,
  BPF_MAP_DELETE_BATCH: 27,
  BPF_LINK_CREATE: 28,
  BPF_LINK_UPDATE: 29,
  BPF_LINK_GET_FD_BY_ID: 30,
  BPF_LINK_GET_NEXT_ID: 31,
  BPF_ENABLE_STATS: 32,
  BPF_ITER_CREATE: 33,
  BPF_LINK_DETACH: 34,
  BPF_PROG_BIND_MAP: 35,
  BPF_TOKEN_CREATE: 36,
} as const;




/** enum bpf_link_type. include/uapi/linux/bpf.h. */
export const LinkType = {
  BPF_LINK_TYPE_UNSPEC: 0,
  BPF_LINK_TYPE_RAW_TRACEPOINT: 1,
  BPF_LINK_TYPE_TRACING: 2,
  BPF_LINK_TYPE_CGROUP: 3,
  BPF_LINK_TYPE_ITER: 4,
  BPF_LINK_TYPE_NETNS: 5,
  BPF_LINK_TYPE_XDP: 6,
  BPF_LINK_TYPE_PERF_EVENT: 7,
  BPF_LINK_TYPE_KPROBE_MULTI: 8,
  BPF_LINK_TYPE_STRUCT_OPS: 9,
  BPF_LINK_TYPE_NETFILTER: 10,
  BPF_LINK_TYPE_TCX: 11,
  BPF_LINK_TYPE_UPROBE_MULTI: 12,
  BPF_LINK_TYPE_NETKIT: 13,
  BPF_LINK_TYPE_SOCKMAP: 14,
} as const;

/** enum bpf_perf_event_type (bpf_link_info.perf_event.type). include/uapi/linux/bpf.h. */
export const PerfEventType = {
  BPF_PERF_EVENT_UNSPEC: 0,
  BPF_PERF_EVENT_UPROBE: 1,
  BPF_PERF_EVENT_URETPROBE: 2,
  BPF_PERF_EVENT_KPROBE: 3,
  BPF_PERF_EVENT_KRETPROBE: 4,
  BPF_PERF_EVENT_TRACEPOINT: 5,
  BPF_PERF_EVENT_EVENT: 6,
} as const;

/** Lower-case names without the prefix, as libbpf's *_type_name tables and bpftool print them. */
function names(table: Record<string, number>, prefix: string): readonly string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(table)) out[v] = k.slice(prefix.length).toLowerCase();
  return out;
}

export const MAP_TYPE_NAMES = names(MapType, "BPF_MAP_TYPE_");
export const PROG_TYPE_NAMES = names(ProgType, "BPF_PROG_TYPE_");
export const ATTACH_TYPE_NAMES = names(AttachType, "BPF_");
export const LINK_TYPE_NAMES = names(LinkType, "BPF_LINK_TYPE_");

export const mapTypeName = (t: number): string => MAP_TYPE_NAMES[t] ?? `type ${t}`;
export const progTypeName = (t: number): string => PROG_TYPE_NAMES[t] ?? `type ${t}`;
export const attachTypeName = (t: number): string => ATTACH_TYPE_NAMES[t] ?? `type ${t}`;
export const linkTypeName = (t: number): string => LINK_TYPE_NAMES[t] ?? `type ${t}`;

/**
 * The kernel version that introduced each map type, for NotSupportedError
 * messages. BCC docs/kernel-versions.md and the commits it cites.
 */
export const MAP_TYPE_SINCE: Readonly<Record<number, string>> = {
  1: "3.19", 2: "3.19", 3: "4.2", 4: "4.3", 5: "4.6", 6: "4.6", 7: "4.6", 8: "4.8", 9: "4.10", 10: "4.10",
  11: "4.11", 12: "4.12", 13: "4.12", 14: "4.14", 15: "4.14", 16: "4.15", 17: "4.18", 18: "4.18", 19: "4.19",
  20: "4.19", 21: "4.20", 22: "4.20", 23: "4.20", 24: "5.2", 25: "5.4", 26: "5.6", 27: "5.8", 28: "5.10",
  29: "5.11", 30: "5.16", 31: "6.1", 32: "6.2", 33: "6.9",
};

/** The kernel version that introduced each program type. BCC docs/kernel-versions.md. */
export const PROG_TYPE_SINCE: Readonly<Record<number, string>> = {
  1: "3.19", 2: "4.1", 3: "4.1", 4: "4.1", 5: "4.7", 6: "4.8", 7: "4.9", 8: "4.10", 9: "4.10", 10: "4.10",
  11: "4.10", 12: "4.10", 13: "4.13", 14: "4.14", 15: "4.15", 16: "4.17", 17: "4.17", 18: "4.17", 19: "4.18",
  20: "4.18", 21: "4.19", 22: "4.20", 23: "5.2", 24: "5.2", 25: "5.3", 26: "5.5", 27: "5.6", 28: "5.6",
  29: "5.7", 30: "5.9", 31: "5.14", 32: "6.4",
};

/** BPF_MAP_UPDATE_ELEM flags. include/uapi/linux/bpf.h. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** map_flags for BPF_MAP_CREATE. include/uapi/linux/bpf.h, the anonymous enum after BPF_F_LOCK. */
export const MapFlags = {
  BPF_F_NO_PREALLOC: 1 << 0,
  BPF_F_NO_COMMON_LRU: 1 << 1,
  BPF_F_NUMA_NODE: 1 << 2,
  BPF_F_RDONLY: 1 << 3,
  BPF_F_WRONLY: 1 << 4,
  BPF_F_STACK_BUILD_ID: 1 << 5,
  BPF_F_ZERO_SEED: 1 << 6,
  BPF_F_RDONLY_PROG: 1 << 7,
  BPF_F_WRONLY_PROG: 1 << 8,
  BPF_F_CLONE: 1 << 9,
  BPF_F_MMAPABLE: 1 << 10,
  BPF_F_PRESERVE_ELEMS: 1 << 11,
  BPF_F_INNER_MAP: 1 << 12,
  BPF_F_LINK: 1 << 13,
  BPF_F_PATH_FD: 1 << 14,
  BPF_F_VTYPE_BTF_OBJ_FD: 1 << 15,
  BPF_F_TOKEN_FD: 1 << 16,
  BPF_F_SEGV_ON_FAULT: 1 << 17,
  BPF_F_NO_USER_CONV: 1 << 18,
} as const;

/** prog_flags for BPF_PROG_LOAD. include/uapi/linux/bpf.h. */
export const ProgFlags = {
  BPF_F_STRICT_ALIGNMENT: 1 << 0,
  BPF_F_ANY_ALIGNMENT: 1 << 1,
  BPF_F_TEST_RND_HI32: 1 << 2,
  BPF_F_TEST_STATE_FREQ: 1 << 3,
  BPF_F_SLEEPABLE: 1 << 4,
  BPF_F_XDP_HAS_FRAGS: 1 << 5,
  BPF_F_XDP_DEV_BOUND_ONLY: 1 << 6,
  BPF_F_TEST_REG_INVARIANTS: 1 << 7,
} as const;

/** BPF_PROG_TEST_RUN flags. include/uapi/linux/bpf.h. */
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;

/** BPF_LINK_CREATE flags for uprobe_multi / kprobe_multi. include/uapi/linux/bpf.h. */
export const BPF_F_UPROBE_MULTI_RETURN = 1 << 0;
export const BPF_F_KPROBE_MULTI_RETURN = 1 << 0;

/** XDP attach flags. include/uapi/linux/if_link.h. */
export const XdpFlags = {
  XDP_FLAGS_UPDATE_IF_NOEXIST: 1 << 0,
  XDP_FLAGS_SKB_MODE: 1 << 1,
  XDP_FLAGS_DRV_MODE: 1 << 2,
  XDP_FLAGS_HW_MODE: 1 << 3,
  XDP_FLAGS_REPLACE: 1 << 4,
} as const;

/** BPF_OBJ_NAME_LEN. include/uapi/linux/bpf.h. */
export const BPF_OBJ_NAME_LEN = 16;
/** BPF_TAG_SIZE. include/uapi/linux/bpf.h. */
export const BPF_TAG_SIZE = 8;

/** log_level bits. include/linux/bpf_verifier.h (BPF_LOG_LEVEL1/2, BPF_LOG_STATS). */
export const BPF_LOG_LEVEL1 = 1;
export const BPF_LOG_LEVEL2 = 2;
export const BPF_LOG_STATS = 4;
/**
 * Largest log_size the kernel accepts: kernel/bpf/log.c, bpf_verifier_log_attr_valid()
 * rejects len_total > UINT_MAX >> 2.
 */
export const BPF_LOG_MAX_SIZE = 0xffff_ffff >>> 2;
/** Smallest log_size the kernel accepts (same check: len_total < 128). */
export const BPF_LOG_MIN_SIZE = 128;

/** enum bpf_stats_type. include/uapi/linux/bpf.h. */
export const BPF_STATS_RUN_TIME = 0;

/** Ring buffer record header bits and size. include/uapi/linux/bpf.h. */
export const BPF_RINGBUF_BUSY_BIT = 1 << 31;
export const BPF_RINGBUF_DISCARD_BIT = 1 << 30;
export const BPF_RINGBUF_HDR_SZ = 8;

/**
 * enum bpf_func_id, by id (index = BPF_FUNC_* value). include/uapi/linux/bpf.h,
 * ___BPF_FUNC_MAPPER. Names as in the enum, without the BPF_FUNC_ prefix.
 */
export const HELPER_NAMES: readonly string[] = `unspec map_lookup_elem map_update_elem map_delete_elem probe_read
  ktime_get_ns trace_printk get_prandom_u32 get_smp_processor_id skb_store_bytes l3_csum_replace
  l4_csum_replace tail_call clone_redirect get_current_pid_tgid get_current_uid_gid get_current_comm
  get_cgroup_classid skb_vlan_push skb_vlan_pop skb_get_tunnel_key skb_set_tunnel_key perf_event_read redirect
  get_route_realm perf_event_output skb_load_bytes get_stackid csum_diff skb_get_tunnel_opt skb_set_tunnel_opt
  skb_change_proto skb_change_type skb_under_cgroup get_hash_recalc get_current_task probe_write_user
  current_task_under_cgroup skb_change_tail skb_pull_data csum_update set_hash_invalid get_numa_node_id
  skb_change_head xdp_adjust_head probe_read_str get_socket_cookie get_socket_uid set_hash setsockopt
  skb_adjust_room redirect_map sk_redirect_map sock_map_update xdp_adjust_meta perf_event_read_value
  perf_prog_read_value getsockopt override_return sock_ops_cb_flags_set msg_redirect_map msg_apply_bytes
  msg_cork_bytes msg_pull_data bind xdp_adjust_tail skb_get_xfrm_state get_stack skb_load_bytes_relative
  fib_lookup sock_hash_update msg_redirect_hash sk_redirect_hash lwt_push_encap lwt_seg6_store_bytes
  lwt_seg6_adjust_srh lwt_seg6_action rc_repeat rc_keydown skb_cgroup_id get_current_cgroup_id
  get_local_storage sk_select_reuseport skb_ancestor_cgroup_id sk_lookup_tcp sk_lookup_udp sk_release
  map_push_elem map_pop_elem map_peek_elem msg_push_data msg_pop_data rc_pointer_rel spin_lock spin_unlock
  sk_fullsock tcp_sock skb_ecn_set_ce get_listener_sock skc_lookup_tcp tcp_check_syncookie sysctl_get_name
  sysctl_get_current_value sysctl_get_new_value sysctl_set_new_value strtol strtoul sk_storage_get
  sk_storage_delete send_signal tcp_gen_syncookie skb_output probe_read_user probe_read_kernel
  probe_read_user_str probe_read_kernel_str tcp_send_ack send_signal_thread jiffies64 read_branch_records
  get_ns_current_pid_tgid xdp_output get_netns_cookie get_current_ancestor_cgroup_id sk_assign
  ktime_get_boot_ns seq_printf seq_write sk_cgroup_id sk_ancestor_cgroup_id ringbuf_output ringbuf_reserve
  ringbuf_submit ringbuf_discard ringbuf_query csum_level skc_to_tcp6_sock skc_to_tcp_sock
  skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock get_task_stack load_hdr_opt store_hdr_opt
  reserve_hdr_opt inode_storage_get inode_storage_delete d_path copy_from_user snprintf_btf seq_printf_btf
  skb_cgroup_classid redirect_neigh per_cpu_ptr this_cpu_ptr redirect_peer task_storage_get
  task_storage_delete get_current_task_btf bprm_opts_set ktime_get_coarse_ns ima_inode_hash sock_from_file
  check_mtu for_each_map_elem snprintf sys_bpf btf_find_by_name_kind sys_close timer_init timer_set_callback
  timer_start timer_cancel get_func_ip get_attach_cookie task_pt_regs get_branch_snapshot trace_vprintk
  skc_to_unix_sock kallsyms_lookup_name find_vma loop strncmp get_func_arg get_func_ret get_func_arg_cnt
  get_retval set_retval xdp_get_buff_len xdp_load_bytes xdp_store_bytes copy_from_user_task skb_set_tstamp
  ima_file_hash kptr_xchg map_lookup_percpu_elem skc_to_mptcp_sock dynptr_from_mem ringbuf_reserve_dynptr
  ringbuf_submit_dynptr ringbuf_discard_dynptr dynptr_read dynptr_write dynptr_data tcp_raw_gen_syncookie_ipv4
  tcp_raw_gen_syncookie_ipv6 tcp_raw_check_syncookie_ipv4 tcp_raw_check_syncookie_ipv6 ktime_get_tai_ns
  user_ringbuf_drain cgrp_storage_get cgrp_storage_delete`.split(/\s+/);

/** A helper's id by name ("map_lookup_elem" or "bpf_map_lookup_elem"), or undefined. */
export function helperId(name: string): number | undefined {
  const i = HELPER_NAMES.indexOf(name.startsWith("bpf_") ? name.slice(4) : name);
  return i > 0 ? i : undefined;
}
