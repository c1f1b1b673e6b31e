/**
 * What a program type tells the verifier: its context, how the context may be
 * accessed, which helpers it may call, what its return value must be. Modelled
 * on the kernel's struct bpf_verifier_ops (is_valid_access, get_func_proto) and
 * check_return_code() in kernel/bpf/verifier.c.
 *
 * The runtime half of a program type (building the context in the vm's memory,
 * PROG_TEST_RUN) extends this interface in src/vm/progtypes.
 */

/** The register type a context load produces (bpf_insn_access_aux.reg_type). */
export type CtxLoadType =
  | "scalar"
  /** Start of packet data (PTR_TO_PACKET). */
  | "pkt"
  /** Start of packet metadata (PTR_TO_PACKET_META). */
  | "pkt_meta"
  /** End of packet data (PTR_TO_PACKET_END). */
  | "pkt_end"
  /** A socket pointer, maybe NULL (PTR_TO_SOCKET_OR_NULL). */
  | "sock_or_null"
  /** A sock_common pointer, maybe NULL (PTR_TO_SOCK_COMMON_OR_NULL). */
  | "sock_common_or_null"
  /** A pointer to a kernel object of the BTF type in `btfType` (tracing args, PTR_TO_BTF_ID). */
  | "btf_id";

export type CtxAccessResult =
  | { readonly ok: false }
  | {
      readonly ok: true;
      readonly regType: CtxLoadType;
      /** For btf_id loads: the pointee type name (e.g. "task_struct"). */
      readonly btfType?: string;
      /** For btf_id loads: may it be NULL (PTR_MAYBE_NULL). */
      readonly nullable?: boolean;
    };

export interface ProgTypeVerifierInfo {
  /** BPF_PROG_TYPE_*, include/uapi/linux/bpf.h, enum bpf_prog_type. */
  readonly id: number;
  /** Short name as bpftool prints it ("xdp", "sched_cls", "tracepoint"). */
  readonly name: string;
  /** The context struct's name ("xdp_md", "__sk_buff", "pt_regs"). */
  readonly ctxStruct: string;
  /** Bytes of context the program may access. */
  readonly ctxSize: number;
  /**
   * The kernel's is_valid_access: may the program read (or write) `size` bytes at
   * `off` in its context, and what does a read produce.
   */
  isValidAccess(off: number, size: number, write: boolean, attachType: number): CtxAccessResult;
  /** The kernel's get_func_proto: may this program type call helper `id`. */
  allowsHelper(id: number, attachType: number): boolean;
  /** The range r0 must lie in at exit (check_return_code), or undefined for any value. */
  returnRange(attachType: number): readonly [number, number] | undefined;
  /** Direct packet access (may_access_direct_pkt_data): reads, writes. */
  readonly packetAccess: { readonly read: boolean; readonly write: boolean };
}
