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
  | "btf_id"
  /** A full socket, never NULL (PTR_TO_SOCKET: sk_msg_md.sk, bpf_sock_addr.sk, bpf_sockopt.sk). */
  | "sock"
  /** struct bpf_flow_keys of a flow dissector program (PTR_TO_FLOW_KEYS). */
  | "flow_keys"
  /** The writable tracepoint buffer of raw_tracepoint_writable programs (PTR_TO_TP_BUFFER). */
  | "tp_buffer";

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
  allowsHelper(id: number, attachType: number, opts?: HelperOptions): boolean;
  /** The range r0 must lie in at exit (check_return_code), or undefined for any value. */
  returnRange(attachType: number): readonly [number, number] | undefined;
  /** Direct packet access (may_access_direct_pkt_data): reads, writes. */
  readonly packetAccess: { readonly read: boolean; readonly write: boolean };

  // --- Additions (all optional, so hand-written infos stay valid) ---

  /** The context layout (src/vm/progtypes/ctx), when the context is a fixed uapi struct. */
  readonly ctxLayout?: import("./ctx/layout.js").CtxLayout;
  /** BPF_PROG_TYPE_* name as the uapi spells it ("BPF_PROG_TYPE_XDP"). */
  readonly uapiName?: string;
  /** Attach types this program type accepts as expected_attach_type (the first is the default). */
  readonly attachTypes?: readonly number[];
  /**
   * The prototype this program type gets for helper `id` (the kernel's
   * get_func_proto result), or undefined when it may not call it.
   */
  helperProto?(id: number, attachType: number, opts?: HelperOptions): import("../helpers/proto.js").HelperProto | undefined;
  /** Per-field access rules for an attach type: what the kernel's is_valid_access allows, as data. */
  ctxAccess?(attachType: number): readonly import("./access.js").FieldAccessRow[];
}

/** The program's privileges and flags that change which helpers it gets. */
export interface HelperOptions {
  /**
   * Capabilities held (bpf_token_capable): by default all (root). Without
   * "perfmon" the kernel hides bpf_base_func_proto's tracing helpers and the
   * skc_to_* casts; without "bpf", the CAP_BPF tier too.
   */
  readonly caps?: { readonly bpf: boolean; readonly perfmon: boolean };
  /** BPF_F_SLEEPABLE: picks the sleepable variants (get_task_stack). */
  readonly sleepable?: boolean;
}
