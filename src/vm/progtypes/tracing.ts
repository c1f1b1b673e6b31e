/**
 * BPF_PROG_TYPE_TRACING (fentry, fexit, fmod_ret, tp_btf, iterators).
 * kernel/trace/bpf_trace.c: tracing_prog_is_valid_access = bpf_tracing_ctx_access
 * (read-only aligned loads inside u64 args[MAX_BPF_FUNC_ARGS]) plus btf_ctx_access
 * (kernel/bpf/btf.c), which types each argument from the attach target's BTF:
 * pointers become PTR_TO_BTF_ID of the pointee, fexit's slot after the last
 * argument is the return value. That typing needs the target's BTF, so here a
 * load is a scalar; the verifier refines it when it has the target.
 * check_return_code: fentry/fexit return 0; fmod_ret and tp_btf any; iterators 0 or 1.
 *
 * Not checked against the kernel in this repository's tests: this test machine's
 * kernel refuses to load tracing programs (EPERM). The helper set follows
 * tracing_prog_func_proto by reading, not by probing.
 */
import {
  BPF_MODIFY_RETURN, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT, BPF_TRACE_ITER, BPF_TRACE_RAW_TP, MAX_BPF_FUNC_ARGS,
} from "./constants.js";
import { defineProgType } from "./define.js";
import { helperSet, TRACE_FUNCS } from "./funcs.js";
import type { CtxAccessResult } from "./types.js";
import { DENY, isPow2, SCALAR } from "./tracing-access.js";

const ARGS_SIZE = 8 * MAX_BPF_FUNC_ARGS;

/** bpf_tracing_ctx_access (include/linux/bpf.h... kernel/trace/bpf_trace.c): the BTF-independent part. */
export const tracingCtxAccess = (off: number, size: number, write: boolean): CtxAccessResult =>
  !write && isPow2(size) && off >= 0 && off + size <= ARGS_SIZE && off % size === 0 ? SCALAR : DENY;

/**
 * tracing_prog_func_proto: skb_output, xdp_output, the BTF-socket casts and
 * sk_storage (tracing variant), seq_printf/seq_write/seq_printf_btf (iterators),
 * d_path, sock_from_file, get_func_arg/ret/arg_cnt (fentry/fexit), get_socket_cookie
 * on a BTF socket, xdp_get_buff_len on a BTF xdp_buff, then the tracing base.
 */
export const tracingHelpers = helperSet(TRACE_FUNCS, [111, 121, 126, 127, 136, 137, 138, 139, 140, 147, 150, 162, 178, 183, 184, 185, 196], {
  46: { variant: "ptr" },
  107: { variant: "tracing" },
  108: { variant: "tracing" },
  188: { variant: "trace" },
});

export const tracing = defineProgType({
  id: BPF_PROG_TYPE_TRACING,
  name: "tracing",
  uapiName: "BPF_PROG_TYPE_TRACING",
  ctxStruct: "u64[] (the attach target's arguments)",
  ctxSize: ARGS_SIZE,
  attachTypes: [BPF_TRACE_FENTRY, BPF_TRACE_FEXIT, BPF_MODIFY_RETURN, BPF_TRACE_RAW_TP, BPF_TRACE_ITER],
  isValidAccess: tracingCtxAccess,
  helpers: () => tracingHelpers,
  returnRange: (at) =>
    at === BPF_TRACE_FENTRY || at === BPF_TRACE_FEXIT ? [0, 0] : at === BPF_TRACE_ITER ? [0, 1] : undefined,
  packetAccess: { read: false, write: false },
});
