/**
 * Helpers the kernel defines that the vm cannot provide, by id, with why. The
 * registry (defaultHelpers) leaves them out, so loading a program that calls
 * one fails in the verifier ("program of this type cannot use helper
 * bpf_<name>#<id>", the kernel's wording for a helper the program cannot
 * have), and an unverified program calling one faults ("call to unknown
 * helper"). Ids not listed here and not implemented are the packet helpers'
 * (src/vm/helpers/packet*.ts) or ones no family covers yet.
 */
export const VM_UNSUPPORTED_HELPERS: ReadonlyMap<number, string> = new Map([
  [22, "perf_event_read: the vm's perf events are BPF output rings with no counters"],
  [55, "perf_event_read_value: no hardware or software counters in the vm"],
  [56, "perf_prog_read_value: no perf_event programs' counters in the vm"],
  [58, "override_return: the vm has no kernel functions to override (CONFIG_BPF_KPROBE_OVERRIDE)"],
  [111, "skb_output: tracing programs see no struct sk_buff in the vm"],
  [119, "read_branch_records: no LBR in the vm"],
  [121, "xdp_output: tracing programs see no struct xdp_buff in the vm"],
  [126, "seq_printf: the vm has no seq_file iterators"],
  [127, "seq_write: the vm has no seq_file iterators"],
  [147, "d_path: the vm has no dentries"],
  [149, "snprintf_btf: needs vmlinux BTF of kernel objects the vm does not have"],
  [150, "seq_printf_btf: the vm has no seq_file iterators"],
  [153, "per_cpu_ptr: the vm has no kernel per-CPU variables (ksyms)"],
  [154, "this_cpu_ptr: the vm has no kernel per-CPU variables (ksyms)"],
  [161, "ima_inode_hash: no IMA in the vm"],
  [162, "sock_from_file: no files in the vm"],
  [166, "sys_bpf: syscall programs cannot re-enter the vm's bpf() surface"],
  [167, "btf_find_by_name_kind: no kernel BTF in the vm"],
  [168, "sys_close: no file descriptors for programs in the vm"],
  [175, "task_pt_regs: the vm's task has no pt_regs"],
  [176, "get_branch_snapshot: no LBR in the vm"],
  [179, "kallsyms_lookup_name: no kallsyms in the vm"],
  [180, "find_vma: the vm's task has no VMAs"],
  [183, "get_func_arg: inlined by the verifier for trampolines the vm does not have"],
  [184, "get_func_ret: inlined by the verifier for trampolines the vm does not have"],
  [185, "get_func_arg_cnt: inlined by the verifier for trampolines the vm does not have"],
  [193, "ima_file_hash: no IMA in the vm"],
]);
