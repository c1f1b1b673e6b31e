/**
 * Every helper the kernel defines, by id, with the kernel's prototype (struct
 * bpf_func_proto): argument types and flags, return type, gpl_only, pkt_access,
 * might_sleep, callbacks, the argument a release helper releases.
 *
 * Ids and names: include/uapi/linux/bpf.h, enum bpf_func_id (___BPF_FUNC_MAPPER),
 * checked against this kernel's BTF (test/vm/helpers/protos.test.ts). Prototypes:
 * kernel/bpf/helpers.c (base helpers, timers, dynptrs, strings), kernel/trace/bpf_trace.c
 * (tracing), net/core/filter.c (networking), kernel/bpf/{ringbuf,stackmap,
 * bpf_task_storage,bpf_inode_storage,bpf_cgrp_storage,cgroup,bpf_iter,task_iter,
 * syscall,bpf_lsm}.c, net/core/{sock_map,bpf_sk_storage}.c, net/core/lwt_bpf.c,
 * net/ipv6/seg6_local.c, drivers/media/rc/bpf-lirc.c, as of Linux 6.18.
 *
 * Where the kernel returns a different proto for the same id depending on the
 * program type (perf_event_output, get_stackid, sk_storage_get, ...), the entry in
 * `helperProtos` is the most common one and `helperProtoVariants` names the others;
 * each program type picks its variant (src/vm/progtypes).
 */
import type { ArgSpec, HelperProto, RetSpec } from "./proto.js";

// ---------------------------------------------------------------------------
// Argument shorthands (enum bpf_arg_type with flags, include/linux/bpf.h)

const any: ArgSpec = { type: "anything" };
const map: ArgSpec = { type: "const_map_ptr" };
const key: ArgSpec = { type: "map_key" };
const value: ArgSpec = { type: "map_value" };
/** ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE (map_pop_elem / peek). */
const valueOut: ArgSpec = { type: "map_value", uninit: true, write: true };
/** ARG_PTR_TO_MAP_VALUE_OR_NULL (local storage init value). */
const valueOrNull: ArgSpec = { type: "map_value", nullable: true };
const ctx: ArgSpec = { type: "ctx" };
/** ARG_PTR_TO_CTX_OR_NULL. */
const ctxOrNull: ArgSpec = { type: "ctx", nullable: true };
/** ARG_PTR_TO_MEM | MEM_RDONLY: memory the helper reads. */
const memIn: ArgSpec = { type: "mem", readonly: true };
/** ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY. */
const memInOrNull: ArgSpec = { type: "mem", readonly: true, nullable: true };
/** ARG_PTR_TO_MEM (read and written). */
const memRw: ArgSpec = { type: "mem" };
/** ARG_PTR_TO_MEM | MEM_WRITE: memory the helper writes (may read too). */
const memWrite: ArgSpec = { type: "mem", write: true };
/** ARG_PTR_TO_MEM_OR_NULL (written; NULL allowed with size 0). */
const memOrNull: ArgSpec = { type: "mem", nullable: true, write: true };
/** ARG_PTR_TO_UNINIT_MEM = ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE: filled by the helper. */
const memOut: ArgSpec = { type: "mem", uninit: true, write: true };
const size: ArgSpec = { type: "const_size" };
const sizeOrZero: ArgSpec = { type: "const_size_or_zero" };
const allocSizeOrZero: ArgSpec = { type: "const_alloc_size_or_zero" };
const func: ArgSpec = { type: "func" };
/** ARG_PTR_TO_STACK_OR_NULL (callback context). */
const stackOrNull: ArgSpec = { type: "stack", nullable: true };
const constStr: ArgSpec = { type: "const_str" };
const spinLock: ArgSpec = { type: "spin_lock" };
const timer: ArgSpec = { type: "timer" };
const sockCommon: ArgSpec = { type: "sock_common" };
const btfSockCommon: ArgSpec = { type: "btf_id_sock_common" };
const btf = (btfType: string, nullable = false): ArgSpec => ({ type: "btf_id", btfType, ...(nullable ? { nullable } : {}) });
/** ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED, `n` bytes (strtol's res, get_func_arg's value). */
const fixedOut = (n: number): ArgSpec => ({ type: "mem", fixedSize: n, uninit: true, write: true, aligned: true });
/** ARG_PTR_TO_FIXED_SIZE_MEM | MEM_RDONLY, `n` bytes. */
const fixedIn = (n: number): ArgSpec => ({ type: "mem", fixedSize: n, readonly: true });

// Return shorthands (enum bpf_return_type)
const int: RetSpec = { type: "integer" };
const voidRet: RetSpec = { type: "void" };
const mapValueOrNull: RetSpec = { type: "map_value", nullable: true };
const btfRet = (btfType: string, nullable = true, trusted = false): RetSpec =>
  ({ type: "btf_id", nullable, btfType, ...(trusted ? { trusted } : {}) });

type P = HelperProto;
const p = (args: readonly ArgSpec[], ret: RetSpec = int, flags: Omit<HelperProto, "args" | "ret"> = {}): P => ({ args, ret, ...flags });
const gpl = { gplOnly: true } as const;
const pkt = { pktAccess: true } as const;
/** bpf_helper_changes_pkt_data() in net/core/filter.c lists these. */
const changes = { changesPktData: true } as const;

/**
 * [id, name, proto]. Order and ids: enum bpf_func_id. Comments name the kernel's
 * proto object when it is not bpf_<name>_proto.
 */
const TABLE: readonly (readonly [number, string, P])[] = [
  // kernel/bpf/helpers.c
  [1, "map_lookup_elem", p([map, key], mapValueOrNull, pkt)],
  [2, "map_update_elem", p([map, key, value, any], int, pkt)],
  [3, "map_delete_elem", p([map, key], int, pkt)],
  // kernel/trace/bpf_trace.c, bpf_probe_read_compat_proto
  [4, "probe_read", p([memOut, sizeOrZero, any], int, gpl)],
  [5, "ktime_get_ns", p([])],
  // kernel/trace/bpf_trace.c, bpf_trace_printk_proto: only arg1 and arg2 are
  // typed, so the verifier never reads R3-R5 (bpf_printk with fewer than three
  // arguments leaves them uninitialized; the format decides at run time).
  [6, "trace_printk", p([memIn, size], int, gpl)],
  [7, "get_prandom_u32", p([])],
  [8, "get_smp_processor_id", p([])],
  // net/core/filter.c
  [9, "skb_store_bytes", p([ctx, any, memIn, size, any], int, changes)],
  [10, "l3_csum_replace", p([ctx, any, any, any, any], int, changes)],
  [11, "l4_csum_replace", p([ctx, any, any, any, any], int, changes)],
  // kernel/bpf/core.c, bpf_tail_call_proto
  [12, "tail_call", p([ctx, map, any], voidRet)],
  [13, "clone_redirect", p([ctx, any, any])],
  [14, "get_current_pid_tgid", p([])],
  [15, "get_current_uid_gid", p([])],
  [16, "get_current_comm", p([memOut, size])],
  // net/core/filter.c: bpf_get_cgroup_classid_proto (skb ctx); variant "curr" takes no argument
  [17, "get_cgroup_classid", p([ctx])],
  [18, "skb_vlan_push", p([ctx, any, any], int, changes)],
  [19, "skb_vlan_pop", p([ctx], int, changes)],
  [20, "skb_get_tunnel_key", p([ctx, memOut, size, any])],
  [21, "skb_set_tunnel_key", p([ctx, memIn, size, any])],
  // kernel/trace/bpf_trace.c
  [22, "perf_event_read", p([map, any])],
  [23, "redirect", p([any, any])],
  [24, "get_route_realm", p([ctx])],
  // kernel/trace/bpf_trace.c bpf_perf_event_output_proto; filter.c bpf_skb_event_output_proto etc.
  [25, "perf_event_output", p([ctx, map, any, memIn, sizeOrZero], int, gpl)],
  [26, "skb_load_bytes", p([ctx, any, memOut, size])],
  // kernel/bpf/stackmap.c via bpf_trace.c bpf_get_stackid_proto_tp
  [27, "get_stackid", p([ctx, map, any], int, gpl)],
  [28, "csum_diff", p([memInOrNull, sizeOrZero, memInOrNull, sizeOrZero, any], int, pkt)],
  [29, "skb_get_tunnel_opt", p([ctx, memOut, size])],
  [30, "skb_set_tunnel_opt", p([ctx, memIn, size])],
  [31, "skb_change_proto", p([ctx, any, any], int, changes)],
  [32, "skb_change_type", p([ctx, any])],
  [33, "skb_under_cgroup", p([ctx, map, any])],
  [34, "get_hash_recalc", p([ctx])],
  [35, "get_current_task", p([])],
  // kernel/trace/bpf_trace.c bpf_probe_write_user_proto (CAP_SYS_ADMIN, not under lockdown)
  [36, "probe_write_user", p([any, memIn, size], int, gpl)],
  [37, "current_task_under_cgroup", p([map, any])],
  [38, "skb_change_tail", p([ctx, any, any], int, changes)],
  [39, "skb_pull_data", p([ctx, any], int, changes)],
  [40, "csum_update", p([ctx, any])],
  [41, "set_hash_invalid", p([ctx])],
  [42, "get_numa_node_id", p([])],
  [43, "skb_change_head", p([ctx, any, any], int, changes)],
  [44, "xdp_adjust_head", p([ctx, any], int, changes)],
  [45, "probe_read_str", p([memOut, sizeOrZero, any], int, gpl)],
  // filter.c bpf_get_socket_cookie_proto (skb); variants for sock_addr, sock_ops, sock and BTF sockets
  [46, "get_socket_cookie", p([ctx])],
  [47, "get_socket_uid", p([ctx])],
  [48, "set_hash", p([ctx, any])],
  // filter.c bpf_sock_addr_setsockopt_proto / bpf_sock_ops_setsockopt_proto
  [49, "setsockopt", p([ctx, any, any, memIn, size])],
  [50, "skb_adjust_room", p([ctx, any, any, any], int, changes)],
  // filter.c bpf_xdp_redirect_map_proto
  [51, "redirect_map", p([map, any, any])],
  // net/core/sock_map.c bpf_sk_redirect_map_proto
  [52, "sk_redirect_map", p([ctx, map, any, any])],
  [53, "sock_map_update", p([ctx, map, key, any])],
  [54, "xdp_adjust_meta", p([ctx, any], int, changes)],
  [55, "perf_event_read_value", p([map, any, memOut, size], int, gpl)],
  [56, "perf_prog_read_value", p([ctx, memOut, size], int, gpl)],
  [57, "getsockopt", p([ctx, any, any, memOut, size])],
  // kernel/trace/bpf_trace.c (CONFIG_BPF_KPROBE_OVERRIDE)
  [58, "override_return", p([ctx, any], int, gpl)],
  [59, "sock_ops_cb_flags_set", p([ctx, any])],
  [60, "msg_redirect_map", p([ctx, map, any, any])],
  [61, "msg_apply_bytes", p([ctx, any])],
  [62, "msg_cork_bytes", p([ctx, any])],
  [63, "msg_pull_data", p([ctx, any, any, any], int, changes)],
  [64, "bind", p([ctx, memIn, size])],
  [65, "xdp_adjust_tail", p([ctx, any], int, changes)],
  [66, "skb_get_xfrm_state", p([ctx, any, memOut, size, any])],
  [67, "get_stack", p([ctx, memOut, sizeOrZero, any], int, gpl)],
  [68, "skb_load_bytes_relative", p([ctx, any, memOut, size, any])],
  // filter.c bpf_skb_fib_lookup_proto / bpf_xdp_fib_lookup_proto: params are read and written
  [69, "fib_lookup", p([ctx, memRw, size, any])],
  [70, "sock_hash_update", p([ctx, map, key, any])],
  [71, "msg_redirect_hash", p([ctx, map, key, any])],
  [72, "sk_redirect_hash", p([ctx, map, key, any])],
  // filter.c bpf_lwt_in_push_encap_proto / bpf_lwt_xmit_push_encap_proto
  [73, "lwt_push_encap", p([ctx, any, memIn, size], int, changes)],
  // net/ipv6/seg6_local.c
  [74, "lwt_seg6_store_bytes", p([ctx, any, memIn, size], int, changes)],
  [75, "lwt_seg6_adjust_srh", p([ctx, any, any], int, changes)],
  [76, "lwt_seg6_action", p([ctx, any, memIn, size], int, changes)],
  // drivers/media/rc/bpf-lirc.c
  [77, "rc_repeat", p([ctx], int, gpl)],
  [78, "rc_keydown", p([ctx, any, any, any], int, gpl)],
  [79, "skb_cgroup_id", p([ctx])],
  [80, "get_current_cgroup_id", p([])],
  // kernel/bpf/helpers.c bpf_get_local_storage_proto (CONFIG_CGROUP_BPF): RET_PTR_TO_MAP_VALUE, never NULL
  [81, "get_local_storage", p([map, any], { type: "map_value", nullable: false })],
  // net/core/filter.c sk_select_reuseport_proto
  [82, "sk_select_reuseport", p([ctx, map, key, any])],
  [83, "skb_ancestor_cgroup_id", p([ctx, any])],
  [84, "sk_lookup_tcp", p([ctx, memIn, size, any, any], { type: "socket", nullable: true, acquires: true }, { ...pkt, acquires: true })],
  [85, "sk_lookup_udp", p([ctx, memIn, size, any, any], { type: "socket", nullable: true, acquires: true }, { ...pkt, acquires: true })],
  [86, "sk_release", p([btfSockCommon], int, { releasesArg: 1 })],
  [87, "map_push_elem", p([map, value, any], int, pkt)],
  [88, "map_pop_elem", p([map, valueOut])],
  [89, "map_peek_elem", p([map, valueOut])],
  [90, "msg_push_data", p([ctx, any, any, any], int, changes)],
  [91, "msg_pop_data", p([ctx, any, any, any], int, changes)],
  [92, "rc_pointer_rel", p([ctx, any, any], int, gpl)],
  [93, "spin_lock", p([spinLock], voidRet)],
  [94, "spin_unlock", p([spinLock], voidRet)],
  [95, "sk_fullsock", p([sockCommon], { type: "socket", nullable: true, acquires: false })],
  [96, "tcp_sock", p([sockCommon], { type: "tcp_sock", nullable: true })],
  [97, "skb_ecn_set_ce", p([ctx])],
  [98, "get_listener_sock", p([sockCommon], { type: "socket", nullable: true, acquires: false })],
  [99, "skc_lookup_tcp", p([ctx, memIn, size, any, any], { type: "sock_common", nullable: true, acquires: true }, { ...pkt, acquires: true })],
  [100, "tcp_check_syncookie", p([btfSockCommon, memIn, size, memIn, size], int, pkt)],
  // kernel/bpf/cgroup.c
  [101, "sysctl_get_name", p([ctx, memWrite, size, any])],
  [102, "sysctl_get_current_value", p([ctx, memOut, size])],
  [103, "sysctl_get_new_value", p([ctx, memOut, size])],
  [104, "sysctl_set_new_value", p([ctx, memIn, size])],
  [105, "strtol", p([memIn, size, any, fixedOut(8)])],
  [106, "strtoul", p([memIn, size, any, fixedOut(8)])],
  // net/core/bpf_sk_storage.c bpf_sk_storage_get_proto; variants cg_sock (ctx) and tracing (BTF sock)
  [107, "sk_storage_get", p([map, btfSockCommon, valueOrNull, any], mapValueOrNull)],
  [108, "sk_storage_delete", p([map, btfSockCommon])],
  [109, "send_signal", p([any])],
  [110, "tcp_gen_syncookie", p([btfSockCommon, memIn, size, memIn, size], int, pkt)],
  // kernel/trace/bpf_trace.c bpf_skb_output_proto (tracing programs)
  [111, "skb_output", p([btf("sk_buff"), map, any, memIn, sizeOrZero], int, gpl)],
  [112, "probe_read_user", p([memOut, sizeOrZero, any], int, gpl)],
  [113, "probe_read_kernel", p([memOut, sizeOrZero, any], int, gpl)],
  [114, "probe_read_user_str", p([memOut, sizeOrZero, any], int, gpl)],
  [115, "probe_read_kernel_str", p([memOut, sizeOrZero, any], int, gpl)],
  [116, "tcp_send_ack", p([btf("tcp_sock"), any])],
  [117, "send_signal_thread", p([any])],
  [118, "jiffies64", p([])],
  [119, "read_branch_records", p([ctx, memOrNull, sizeOrZero, any], int, gpl)],
  [120, "get_ns_current_pid_tgid", p([any, any, memOut, size])],
  [121, "xdp_output", p([btf("xdp_buff"), map, any, memIn, sizeOrZero], int, gpl)],
  // filter.c bpf_get_netns_cookie_sock_proto etc. (ARG_PTR_TO_CTX_OR_NULL); skb variant takes the ctx
  [122, "get_netns_cookie", p([ctxOrNull])],
  [123, "get_current_ancestor_cgroup_id", p([any])],
  // filter.c bpf_sk_assign_proto (tc); variant sk_lookup (bpf_sk_lookup_assign_proto)
  [124, "sk_assign", p([ctx, btfSockCommon, any])],
  [125, "ktime_get_boot_ns", p([])],
  // kernel/trace/bpf_trace.c (iterators)
  [126, "seq_printf", p([btf("seq_file"), memIn, size, memInOrNull, sizeOrZero], int, gpl)],
  [127, "seq_write", p([btf("seq_file"), memIn, sizeOrZero], int, gpl)],
  [128, "sk_cgroup_id", p([btfSockCommon])],
  [129, "sk_ancestor_cgroup_id", p([btfSockCommon, any])],
  // kernel/bpf/ringbuf.c
  [130, "ringbuf_output", p([map, memIn, sizeOrZero, any])],
  [131, "ringbuf_reserve", p([map, allocSizeOrZero, any], { type: "mem", nullable: true, ringbuf: true, sizeArg: 2 }, { acquires: true })],
  [132, "ringbuf_submit", p([{ type: "ringbuf_mem" }, any], voidRet, { releasesArg: 1 })],
  [133, "ringbuf_discard", p([{ type: "ringbuf_mem" }, any], voidRet, { releasesArg: 1 })],
  [134, "ringbuf_query", p([map, any])],
  [135, "csum_level", p([ctx, any])],
  // filter.c bpf_skc_to_*_proto: RET_PTR_TO_BTF_ID_OR_NULL
  [136, "skc_to_tcp6_sock", p([btfSockCommon], btfRet("tcp6_sock"))],
  [137, "skc_to_tcp_sock", p([btfSockCommon], btfRet("tcp_sock"))],
  [138, "skc_to_tcp_timewait_sock", p([btfSockCommon], btfRet("tcp_timewait_sock"))],
  [139, "skc_to_tcp_request_sock", p([btfSockCommon], btfRet("tcp_request_sock"))],
  [140, "skc_to_udp6_sock", p([btfSockCommon], btfRet("udp6_sock"))],
  // kernel/bpf/stackmap.c
  [141, "get_task_stack", p([btf("task_struct"), memOut, sizeOrZero, any])],
  // filter.c (sock_ops header options)
  [142, "load_hdr_opt", p([ctx, memWrite, size, any])],
  [143, "store_hdr_opt", p([ctx, memIn, size, any])],
  [144, "reserve_hdr_opt", p([ctx, any, any])],
  // kernel/bpf/bpf_inode_storage.c
  [145, "inode_storage_get", p([map, btf("inode", true), valueOrNull, any], mapValueOrNull)],
  [146, "inode_storage_delete", p([map, btf("inode", true)])],
  // kernel/trace/bpf_trace.c
  [147, "d_path", p([btf("path"), memWrite, sizeOrZero], int, { allowed: "bpf_d_path_allowed" })],
  [148, "copy_from_user", p([memOut, sizeOrZero, any], int, { mightSleep: true })],
  [149, "snprintf_btf", p([memWrite, size, memIn, size, any], int, gpl)],
  [150, "seq_printf_btf", p([btf("seq_file"), memIn, sizeOrZero, any])],
  [151, "skb_cgroup_classid", p([ctx])],
  [152, "redirect_neigh", p([any, memInOrNull, sizeOrZero, any])],
  [153, "per_cpu_ptr", p([{ type: "percpu_btf_id" }, any], { type: "mem_or_btf_id", nullable: true, readonly: true })],
  [154, "this_cpu_ptr", p([{ type: "percpu_btf_id" }], { type: "mem_or_btf_id", nullable: false, readonly: true })],
  [155, "redirect_peer", p([any, any])],
  // kernel/bpf/bpf_task_storage.c (also *_recur_proto, same shape)
  [156, "task_storage_get", p([map, btf("task_struct", true), valueOrNull, any], mapValueOrNull)],
  [157, "task_storage_delete", p([map, btf("task_struct", true)])],
  [158, "get_current_task_btf", p([], btfRet("task_struct", false, true))],
  // kernel/bpf/bpf_lsm.c
  [159, "bprm_opts_set", p([btf("linux_binprm"), any])],
  [160, "ktime_get_coarse_ns", p([])],
  [161, "ima_inode_hash", p([btf("inode"), memOut, size], int, { mightSleep: true, allowed: "bpf_ima_inode_hash_allowed" })],
  [162, "sock_from_file", p([btf("file")], btfRet("socket"))],
  // filter.c bpf_skb_check_mtu_proto / bpf_xdp_check_mtu_proto: mtu_len is u32 in/out
  [163, "check_mtu", p([ctx, any, { type: "mem", fixedSize: 4, write: true, aligned: true }, any, any])],
  // kernel/bpf/bpf_iter.c: callback(map, key, value, ctx) returns 0 or 1
  [164, "for_each_map_elem", p([map, func, stackOrNull, any], int, {
    callback: { funcArg: 2, params: ["map_ptr", "map_key", "map_value", "callback_ctx"], retRange: [0, 1] },
  })],
  [165, "snprintf", p([memOrNull, sizeOrZero, constStr, memInOrNull, sizeOrZero], int, gpl)],
  // kernel/bpf/syscall.c (BPF_PROG_TYPE_SYSCALL)
  [166, "sys_bpf", p([any, memIn, size])],
  [167, "btf_find_by_name_kind", p([memIn, size, any, any])],
  [168, "sys_close", p([any])],
  // kernel/bpf/helpers.c timers: callback(map, key, value) must return 0
  [169, "timer_init", p([timer, map, any])],
  [170, "timer_set_callback", p([timer, func], int, {
    callback: { funcArg: 2, params: ["map_ptr", "map_key", "map_value"], retRange: [0, 0] },
  })],
  [171, "timer_start", p([timer, any, any])],
  [172, "timer_cancel", p([timer])],
  // kernel/trace/bpf_trace.c bpf_get_func_ip_proto_tracing / _kprobe / _kprobe_multi / _uprobe_multi
  [173, "get_func_ip", p([ctx])],
  [174, "get_attach_cookie", p([ctx])],
  [175, "task_pt_regs", p([btf("task_struct")], btfRet("pt_regs", false, true))],
  [176, "get_branch_snapshot", p([memOut, sizeOrZero, any], int, gpl)],
  [177, "trace_vprintk", p([memIn, size, memInOrNull, sizeOrZero], int, gpl)],
  [178, "skc_to_unix_sock", p([btfSockCommon], btfRet("unix_sock"))],
  [179, "kallsyms_lookup_name", p([memIn, size, any, fixedOut(8)])],
  // kernel/bpf/task_iter.c: callback(task, vma, ctx) returns 0 or 1
  [180, "find_vma", p([btf("task_struct"), any, func, stackOrNull, any], int, {
    callback: { funcArg: 3, params: ["task", "vma", "callback_ctx"], retRange: [0, 1] },
  })],
  // kernel/bpf/bpf_iter.c: callback(index, ctx) returns 0 or 1
  [181, "loop", p([any, func, stackOrNull, any], int, {
    callback: { funcArg: 2, params: ["scalar", "callback_ctx"], retRange: [0, 1] },
  })],
  [182, "strncmp", p([memIn, size, constStr])],
  // kernel/trace/bpf_trace.c (fentry/fexit; inlined by the verifier)
  [183, "get_func_arg", p([ctx, any, fixedOut(8)])],
  [184, "get_func_ret", p([ctx, fixedOut(8)])],
  [185, "get_func_arg_cnt", p([ctx])],
  // kernel/bpf/cgroup.c
  [186, "get_retval", p([])],
  [187, "set_retval", p([any])],
  [188, "xdp_get_buff_len", p([ctx])],
  [189, "xdp_load_bytes", p([ctx, any, memOut, size])],
  [190, "xdp_store_bytes", p([ctx, any, memIn, size])],
  [191, "copy_from_user_task", p([memOut, sizeOrZero, any, btf("task_struct"), any], int, { gplOnly: true, mightSleep: true })],
  [192, "skb_set_tstamp", p([ctx, any, any])],
  [193, "ima_file_hash", p([btf("file"), memOut, size], int, { mightSleep: true, allowed: "bpf_ima_inode_hash_allowed" })],
  // kernel/bpf/helpers.c: dst is a kptr field; ptr is released (OBJ_RELEASE), the old one acquired
  [194, "kptr_xchg", p([{ type: "kptr_xchg_dest" }, { type: "btf_id", nullable: true }], { type: "kptr", nullable: true }, { releasesArg: 2, acquires: true })],
  [195, "map_lookup_percpu_elem", p([map, key, any], mapValueOrNull, pkt)],
  // net/core/filter.c bpf_skc_to_mptcp_sock_proto takes ARG_PTR_TO_SOCK_COMMON, unlike the other casts.
  [196, "skc_to_mptcp_sock", p([sockCommon], btfRet("mptcp_sock"))],
  // kernel/bpf/helpers.c, kernel/bpf/ringbuf.c: dynptrs
  [197, "dynptr_from_mem", p([memOut, sizeOrZero, any, { type: "dynptr", dynptrType: "local", uninit: true, write: true }])],
  [198, "ringbuf_reserve_dynptr", p([map, any, any, { type: "dynptr", dynptrType: "ringbuf", uninit: true, write: true }], int, { acquires: true })],
  [199, "ringbuf_submit_dynptr", p([{ type: "dynptr", dynptrType: "ringbuf" }, any], voidRet, { releasesArg: 1 })],
  [200, "ringbuf_discard_dynptr", p([{ type: "dynptr", dynptrType: "ringbuf" }, any], voidRet, { releasesArg: 1 })],
  [201, "dynptr_read", p([memOut, sizeOrZero, { type: "dynptr", readonly: true }, any, any])],
  [202, "dynptr_write", p([{ type: "dynptr", readonly: true }, any, memIn, sizeOrZero, any])],
  [203, "dynptr_data", p([{ type: "dynptr", readonly: true }, any, allocSizeOrZero], { type: "dynptr_mem", nullable: true, sizeArg: 3 })],
  // filter.c: headers of sizeof(struct iphdr) = 20, sizeof(struct ipv6hdr) = 40, sizeof(struct tcphdr) = 20
  [204, "tcp_raw_gen_syncookie_ipv4", p([fixedIn(20), memIn, sizeOrZero], int, pkt)],
  [205, "tcp_raw_gen_syncookie_ipv6", p([fixedIn(40), memIn, sizeOrZero], int, pkt)],
  [206, "tcp_raw_check_syncookie_ipv4", p([fixedIn(20), fixedIn(20)], int, pkt)],
  [207, "tcp_raw_check_syncookie_ipv6", p([fixedIn(40), fixedIn(20)], int, pkt)],
  [208, "ktime_get_tai_ns", p([])],
  // kernel/bpf/ringbuf.c: callback(dynptr, ctx) returns 0 or 1
  [209, "user_ringbuf_drain", p([map, func, stackOrNull, any], int, {
    callback: { funcArg: 2, params: ["dynptr", "callback_ctx"], retRange: [0, 1] },
  })],
  // kernel/bpf/bpf_cgrp_storage.c
  [210, "cgrp_storage_get", p([map, btf("cgroup"), valueOrNull, any], mapValueOrNull)],
  [211, "cgrp_storage_delete", p([map, btf("cgroup")])],
];

/** The highest helper id plus one. include/uapi/linux/bpf.h, __BPF_FUNC_MAX_ID (Linux 6.18). */
export const BPF_FUNC_MAX_ID = 212;

/** Every helper by id: name without the "bpf_" prefix, and the default prototype. */
export const helperProtos: ReadonlyMap<number, { readonly name: string; readonly proto: HelperProto }> = new Map(
  TABLE.map(([id, name, proto]) => [id, { name, proto }]),
);

const idByName: ReadonlyMap<string, number> = new Map(TABLE.map(([id, name]) => [name, id]));

/** The helper id for a name, with or without the "bpf_" prefix. */
export function helperIdByName(name: string): number | undefined {
  return idByName.get(name) ?? (name.startsWith("bpf_") ? idByName.get(name.slice(4)) : undefined);
}

/** A helper's name (without "bpf_"), or undefined for an unknown id. */
export function helperName(id: number): string | undefined {
  return helperProtos.get(id)?.name;
}

/**
 * Named alternatives to the default proto for ids whose proto the kernel picks by
 * program type. Program types choose with `helperProtoFor` (src/vm/progtypes).
 */
export const helperProtoVariants: ReadonlyMap<number, Readonly<Record<string, HelperProto>>> = new Map<number, Record<string, HelperProto>>([
  // net/core/filter.c bpf_get_cgroup_classid_curr_proto: the current task's classid, no ctx.
  [17, { curr: p([]) }],
  // net/core/filter.c: bpf_get_socket_cookie_sock_addr_proto, _sock_ops_proto, _sock_proto
  // take the ctx; bpf_get_socket_ptr_cookie_proto takes any socket pointer (tracing, sk_msg...).
  [46, { ptr: p([{ type: "btf_id_sock_common", nullable: true }]) }],
  // net/core/filter.c bpf_sk_lookup_assign_proto: ARG_PTR_TO_SOCKET_OR_NULL.
  [124, { sk_lookup: p([ctx, { type: "socket", nullable: true }, any]) }],
  // net/core/bpf_sk_storage.c: bpf_sk_storage_get_cg_sock_proto (the ctx is the socket);
  // bpf_sk_storage_{get,delete}_tracing_proto (BTF sock, allowed only in some tracing programs).
  [107, {
    cg_sock: p([map, ctx, valueOrNull, any], mapValueOrNull),
    tracing: p([map, btf("sock", true), valueOrNull, any], mapValueOrNull, { allowed: "bpf_sk_storage_tracing_allowed" }),
  }],
  [108, { tracing: p([map, btf("sock", true)], int, { allowed: "bpf_sk_storage_tracing_allowed" }) }],
  // filter.c bpf_sk_setsockopt_proto / bpf_unlocked_sk_setsockopt_proto and getsockopt (lsm, tracing, cgroup_sockopt... via BTF socket)
  [49, { sk: p([btfSockCommon, any, any, memIn, size]) }],
  [57, { sk: p([btfSockCommon, any, any, memOut, size]) }],
  // net/core/filter.c bpf_xdp_get_buff_len_trace_proto: a BTF struct xdp_buff (tracing, syscall).
  [188, { trace: p([btf("xdp_buff")]) }],
  // kernel/bpf/stackmap.c bpf_get_task_stack_sleepable_proto: same shape, may sleep.
  [141, { sleepable: p([btf("task_struct"), memOut, sizeOrZero, any], int, { mightSleep: true }) }],
  // kernel/bpf/stackmap.c bpf_get_stack_sleepable_proto (sleepable tracing programs).
  [67, { sleepable: p([ctx, memOut, sizeOrZero, any], int, { gplOnly: true, mightSleep: true }) }],
]);

/** A variant by name, or the default proto when the name is undefined or unknown. */
export function helperProtoVariant(id: number, variant?: string): HelperProto | undefined {
  if (variant !== undefined) {
    const v = helperProtoVariants.get(id)?.[variant];
    if (v) return v;
  }
  return helperProtos.get(id)?.proto;
}
