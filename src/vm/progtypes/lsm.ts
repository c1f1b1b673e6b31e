/**
 * BPF_PROG_TYPE_LSM. The ctx is the hook's arguments as u64 args[], typed from
 * the hook's BTF (btf_ctx_access), like tracing programs. kernel/bpf/bpf_lsm.c
 * bpf_lsm_func_proto: inode storage, bprm_opts_set, ima hashes, d_path (for the
 * allowed hooks), sk storage, get/set_retval and setsockopt/getsockopt on BTF
 * sockets for BPF_LSM_CGROUP, then tracing_prog_func_proto. check_return_code:
 * BPF_LSM_MAC hooks returning int may return -MAX_ERRNO..0 (bool hooks 0..1,
 * void hooks anything: bpf_lsm_get_retval_range); BPF_LSM_CGROUP returns 0 or 1
 * (exactly 1 for void hooks).
 *
 * Not checked against the kernel here: this test machine's kernel refuses to
 * load LSM programs (EPERM).
 */
import { BPF_LSM_CGROUP, BPF_LSM_MAC, BPF_PROG_TYPE_LSM, MAX_BPF_FUNC_ARGS } from "./constants.js";
import { defineProgType } from "./define.js";
import { helperSet } from "./funcs.js";
import { tracingCtxAccess, tracingHelpers } from "./tracing.js";

/** MAX_ERRNO, include/linux/err.h. */
const MAX_ERRNO = 4095;

const helpers = helperSet(tracingHelpers, [145, 146, 159, 161, 193], {
  107: {},
  108: {},
  49: { variant: "sk", attach: [BPF_LSM_CGROUP] },
  57: { variant: "sk", attach: [BPF_LSM_CGROUP] },
  186: { attach: [BPF_LSM_CGROUP] },
  187: { attach: [BPF_LSM_CGROUP] },
});

export const lsm = defineProgType({
  id: BPF_PROG_TYPE_LSM,
  name: "lsm",
  uapiName: "BPF_PROG_TYPE_LSM",
  ctxStruct: "u64[] (the LSM hook's arguments)",
  ctxSize: 8 * MAX_BPF_FUNC_ARGS,
  attachTypes: [BPF_LSM_MAC, BPF_LSM_CGROUP],
  isValidAccess: tracingCtxAccess,
  helpers: () => helpers,
  returnRange: (at) => (at === BPF_LSM_CGROUP ? [0, 1] : [-MAX_ERRNO, 0]),
  packetAccess: { read: false, write: false },
});
