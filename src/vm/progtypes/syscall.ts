/**
 * BPF_PROG_TYPE_SYSCALL. kernel/bpf/syscall.c: syscall_prog_is_valid_access —
 * the ctx is plain memory the caller passes (ctx_size_hint at run time): any
 * aligned read or write below U16_MAX. syscall_prog_func_proto: sys_bpf,
 * sys_close, btf_find_by_name_kind, kallsyms_lookup_name, then
 * tracing_prog_func_proto (which brings the BTF-socket casts, d_path,
 * sk_storage's tracing variant, ...). Syscall programs are sleepable. Any return value.
 */
import { BPF_PROG_TYPE_SYSCALL } from "./constants.js";
import { defineProgType } from "./define.js";
import { BASE_FUNCS, helperSet } from "./funcs.js";
import { DENY, isPow2, SCALAR } from "./tracing-access.js";

/** U16_MAX (include/linux/limits.h): the ctx offset bound syscall_prog_is_valid_access uses. */
const U16_MAX = 65535;

/** The tracing set without get_attach_cookie (174): syscall programs have no attachment. */
const helpers = helperSet(BASE_FUNCS, [4, 25, 27, 45, 67, 173, 111, 121, 136, 137, 138, 139, 140, 147, 162, 166, 167, 168, 178, 179, 196], {
  46: { variant: "ptr" },
  107: { variant: "tracing" },
  108: { variant: "tracing" },
  188: { variant: "trace" },
});

export const syscall = defineProgType({
  id: BPF_PROG_TYPE_SYSCALL,
  name: "syscall",
  uapiName: "BPF_PROG_TYPE_SYSCALL",
  ctxStruct: "(user memory)",
  ctxSize: U16_MAX,
  attachTypes: [0],
  isValidAccess: (off, size) => (isPow2(size) && off >= 0 && off < U16_MAX && off % size === 0 ? SCALAR : DENY),
  helpers: () => helpers,
  returnRange: () => undefined,
  packetAccess: { read: false, write: false },
});
