/**
 * The structs BPF_OBJ_GET_INFO_BY_FD fills: bpf_prog_info, bpf_map_info,
 * bpf_btf_info, bpf_link_info. include/uapi/linux/bpf.h. The kernel copies
 * min(info_len, its own size) and writes back the length it used, so an older
 * kernel leaves the newer tail zero.
 */
import { Struct } from "./layout.js";

/** struct bpf_prog_info. */
export const ProgInfo = new Struct("struct bpf_prog_info", "bpf_prog_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  tag: [8, "u8[8]"],
  jited_prog_len: [16, "u32"],
  xlated_prog_len: [20, "u32"],
  jited_prog_insns: [24, "u64"],
  xlated_prog_insns: [32, "u64"],
  load_time: [40, "u64"],
  created_by_uid: [48, "u32"],
  nr_map_ids: [52, "u32"],
  map_ids: [56, "u64"],
  name: [64, "char[16]"],
  ifindex: [80, "u32"],
  /** The word holding the gpl_compatible:1 bitfield (offsetof cannot name a bitfield). */
  flags_word: [84, "u32", ""],
  netns_dev: [88, "u64"],
  netns_ino: [96, "u64"],
  nr_jited_ksyms: [104, "u32"],
  nr_jited_func_lens: [108, "u32"],
  jited_ksyms: [112, "u64"],
  jited_func_lens: [120, "u64"],
  btf_id: [128, "u32"],
  func_info_rec_size: [132, "u32"],
  func_info: [136, "u64"],
  nr_func_info: [144, "u32"],
  nr_line_info: [148, "u32"],
  line_info: [152, "u64"],
  jited_line_info: [160, "u64"],
  nr_jited_line_info: [168, "u32"],
  line_info_rec_size: [172, "u32"],
  jited_line_info_rec_size: [176, "u32"],
  nr_prog_tags: [180, "u32"],
  prog_tags: [184, "u64"],
  run_time_ns: [192, "u64"],
  run_cnt: [200, "u64"],
  recursion_misses: [208, "u64"],
  verified_insns: [216, "u32"],
  attach_btf_obj_id: [220, "u32"],
  attach_btf_id: [224, "u32"],
}, {
  gpl_compatible: { word: "flags_word", bit: 0 },
});

/** struct bpf_map_info. */
export const MapInfo = new Struct("struct bpf_map_info", "bpf_map_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  key_size: [8, "u32"],
  value_size: [12, "u32"],
  max_entries: [16, "u32"],
  map_flags: [20, "u32"],
  name: [24, "char[16]"],
  ifindex: [40, "u32"],
  btf_vmlinux_value_type_id: [44, "u32"],
  netns_dev: [48, "u64"],
  netns_ino: [56, "u64"],
  btf_id: [64, "u32"],
  btf_key_type_id: [68, "u32"],
  btf_value_type_id: [72, "u32"],
  btf_vmlinux_id: [76, "u32"],
  map_extra: [80, "u64"],
});

/** struct bpf_btf_info. */
export const BtfInfo = new Struct("struct bpf_btf_info", "bpf_btf_info", {
  btf: [0, "u64"],
  btf_size: [8, "u32"],
  id: [12, "u32"],
  name: [16, "u64"],
  name_len: [24, "u32"],
  kernel_btf: [28, "u32"],
});

/** struct bpf_link_info, with the union members by link type. */
export const LinkInfo = new Struct("struct bpf_link_info", "bpf_link_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  prog_id: [8, "u32"],
  raw_tracepoint_tp_name: [16, "u64", "raw_tracepoint.tp_name"],
  raw_tracepoint_tp_name_len: [24, "u32", "raw_tracepoint.tp_name_len"],
  tracing_attach_type: [16, "u32", "tracing.attach_type"],
  tracing_target_obj_id: [20, "u32", "tracing.target_obj_id"],
  tracing_target_btf_id: [24, "u32", "tracing.target_btf_id"],
  cgroup_cgroup_id: [16, "u64", "cgroup.cgroup_id"],
  cgroup_attach_type: [24, "u32", "cgroup.attach_type"],
  iter_target_name: [16, "u64", "iter.target_name"],
  iter_target_name_len: [24, "u32", "iter.target_name_len"],
  netns_netns_ino: [16, "u32", "netns.netns_ino"],
  netns_attach_type: [20, "u32", "netns.attach_type"],
  xdp_ifindex: [16, "u32", "xdp.ifindex"],
  struct_ops_map_id: [16, "u32", "struct_ops.map_id"],
  netfilter_pf: [16, "u32", "netfilter.pf"],
  netfilter_hooknum: [20, "u32", "netfilter.hooknum"],
  netfilter_priority: [24, "s32", "netfilter.priority"],
  netfilter_flags: [28, "u32", "netfilter.flags"],
  kprobe_multi_addrs: [16, "u64", "kprobe_multi.addrs"],
  kprobe_multi_count: [24, "u32", "kprobe_multi.count"],
  kprobe_multi_flags: [28, "u32", "kprobe_multi.flags"],
  kprobe_multi_missed: [32, "u64", "kprobe_multi.missed"],
  uprobe_multi_path: [16, "u64", "uprobe_multi.path"],
  uprobe_multi_offsets: [24, "u64", "uprobe_multi.offsets"],
  uprobe_multi_path_size: [48, "u32", "uprobe_multi.path_size"],
  uprobe_multi_count: [52, "u32", "uprobe_multi.count"],
  uprobe_multi_flags: [56, "u32", "uprobe_multi.flags"],
  uprobe_multi_pid: [60, "u32", "uprobe_multi.pid"],
  perf_event_type: [16, "u32", "perf_event.type"],
  perf_event_uprobe_file_name: [24, "u64", "perf_event.uprobe.file_name"],
  perf_event_uprobe_name_len: [32, "u32", "perf_event.uprobe.name_len"],
  perf_event_uprobe_offset: [36, "u32", "perf_event.uprobe.offset"],
  perf_event_uprobe_cookie: [40, "u64", "perf_event.uprobe.cookie"],
  perf_event_kprobe_func_name: [24, "u64", "perf_event.kprobe.func_name"],
  perf_event_kprobe_name_len: [32, "u32", "perf_event.kprobe.name_len"],
  perf_event_kprobe_offset: [36, "u32", "perf_event.kprobe.offset"],
  perf_event_kprobe_addr: [40, "u64", "perf_event.kprobe.addr"],
  perf_event_tracepoint_tp_name: [24, "u64", "perf_event.tracepoint.tp_name"],
  perf_event_tracepoint_name_len: [32, "u32", "perf_event.tracepoint.name_len"],
  perf_event_tracepoint_cookie: [40, "u64", "perf_event.tracepoint.cookie"],
  perf_event_event_config: [24, "u64", "perf_event.event.config"],
  perf_event_event_type: [32, "u32", "perf_event.event.type"],
  tcx_ifindex: [16, "u32", "tcx.ifindex"],
  tcx_attach_type: [20, "u32", "tcx.attach_type"],
  netkit_ifindex: [16, "u32", "netkit.ifindex"],
  netkit_attach_type: [20, "u32", "netkit.attach_type"],
  /** Pads the struct to sizeof(struct bpf_link_info) on 6.x (the kprobe perf_event member ends at 64). */
  perf_event_kprobe_cookie: [56, "u64", "perf_event.kprobe.cookie"],
});

export const INFO_LAYOUTS = [ProgInfo, MapInfo, BtfInfo, LinkInfo] as const;
