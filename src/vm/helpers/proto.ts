/**
 * Helper prototypes: what the verifier checks at each helper call. Modelled on the
 * kernel's struct bpf_func_proto (include/linux/bpf.h: enum bpf_arg_type,
 * enum bpf_return_type and the type flags PTR_MAYBE_NULL, MEM_RDONLY, MEM_UNINIT,
 * MEM_FIXED_SIZE, MEM_RINGBUF, MEM_ALLOC).
 */

/** Base argument types (enum bpf_arg_type, without flags). */
export type ArgBase =
  /** Any scalar or pointer. ARG_ANYTHING. */
  | "anything"
  /** A map pointer known at verification time. ARG_CONST_MAP_PTR. */
  | "const_map_ptr"
  /** Pointer to key_size initialised bytes (stack, map value, packet). ARG_PTR_TO_MAP_KEY. */
  | "map_key"
  /** Pointer to value_size bytes (initialised unless `uninit`). ARG_PTR_TO_MAP_VALUE. */
  | "map_value"
  /** Pointer to memory whose size is the next argument (or `fixedSize`). ARG_PTR_TO_MEM. */
  | "mem"
  /** The size of the preceding `mem` argument: a constant-bounded scalar > 0. ARG_CONST_SIZE. */
  | "const_size"
  /** Like const_size but 0 allowed. ARG_CONST_SIZE_OR_ZERO. */
  | "const_size_or_zero"
  /** Allocation size for ringbuf_reserve. ARG_CONST_ALLOC_SIZE_OR_ZERO. */
  | "const_alloc_size_or_zero"
  /** The program's context pointer, unmodified. ARG_PTR_TO_CTX. */
  | "ctx"
  /** Pointer into the stack. ARG_PTR_TO_STACK. */
  | "stack"
  /** A subprogram (BPF_PSEUDO_FUNC) to call back. ARG_PTR_TO_FUNC. */
  | "func"
  /** Pointer to a NUL-terminated string in a read-only (frozen) map value. ARG_PTR_TO_CONST_STR. */
  | "const_str"
  /** struct bpf_spin_lock inside a map value. ARG_PTR_TO_SPIN_LOCK. */
  | "spin_lock"
  /** struct bpf_timer inside a map value. ARG_PTR_TO_TIMER. */
  | "timer"
  /** A ring buffer record from ringbuf_reserve. ARG_PTR_TO_RINGBUF_MEM. */
  | "ringbuf_mem"
  /** A kernel object of a BTF type (`btfType`). ARG_PTR_TO_BTF_ID. */
  | "btf_id"
  /** struct bpf_dynptr on the stack. ARG_PTR_TO_DYNPTR. */
  | "dynptr"
  /** A socket-like pointer of any of the sock_common family. ARG_PTR_TO_SOCK_COMMON. */
  | "sock_common"
  /** A full socket (PTR_TO_SOCKET). ARG_PTR_TO_SOCKET. */
  | "socket"
  /** A sock_common-family pointer, including BTF-typed socket pointers. ARG_PTR_TO_BTF_ID_SOCK_COMMON. */
  | "btf_id_sock_common"
  /** A __percpu kernel variable (ld_imm64 of a ksym). ARG_PTR_TO_PERCPU_BTF_ID. */
  | "percpu_btf_id"
  /** A kptr field in a map value, exchanged by kptr_xchg. ARG_KPTR_XCHG_DEST. */
  | "kptr_xchg_dest";

export interface ArgSpec {
  readonly type: ArgBase;
  /** NULL accepted (PTR_MAYBE_NULL). */
  readonly nullable?: boolean;
  /** Memory is only read (MEM_RDONLY): read-only memory is accepted. */
  readonly readonly?: boolean;
  /** Memory is written, not read: need not be initialised (MEM_UNINIT). */
  readonly uninit?: boolean;
  /** Fixed size in bytes for `mem` arguments without a size argument (MEM_FIXED_SIZE). */
  readonly fixedSize?: number;
  /** BTF type name for `btf_id` arguments (e.g. "task_struct"). */
  readonly btfType?: string;
  /** The helper writes the memory (MEM_WRITE). */
  readonly write?: boolean;
  /** The memory must be aligned to its size (MEM_ALIGNED). */
  readonly aligned?: boolean;
  /** For `dynptr` arguments: the dynptr kind required or created (DYNPTR_TYPE_LOCAL / _RINGBUF). */
  readonly dynptrType?: "local" | "ringbuf";
}

/** Return types (enum bpf_return_type). */
export type RetSpec =
  | { readonly type: "integer" }
  | { readonly type: "void" }
  /** Pointer to the value of the map passed as argument 1 (or NULL). RET_PTR_TO_MAP_VALUE_OR_NULL. */
  | { readonly type: "map_value"; readonly nullable: boolean }
  /**
   * Pointer to memory whose size is a constant argument (ringbuf_reserve).
   * RET_PTR_TO_RINGBUF_MEM_OR_NULL / RET_PTR_TO_MEM. `sizeArg` is the register
   * number (1..5) holding the size.
   */
  | { readonly type: "mem"; readonly nullable: boolean; readonly ringbuf?: boolean; readonly sizeArg?: number; readonly size?: number; readonly readonly?: boolean }
  /** Pointer to a kernel object of a BTF type. RET_PTR_TO_BTF_ID(_OR_NULL). */
  | { readonly type: "btf_id"; readonly nullable: boolean; readonly btfType: string; readonly trusted?: boolean }
  /** Pointer to a socket-like object. RET_PTR_TO_SOCKET_OR_NULL etc. */
  | { readonly type: "socket"; readonly nullable: boolean; readonly acquires: boolean }
  /** Pointer to a struct sock_common. RET_PTR_TO_SOCK_COMMON_OR_NULL. */
  | { readonly type: "sock_common"; readonly nullable: boolean; readonly acquires: boolean }
  /** Pointer to a struct bpf_tcp_sock. RET_PTR_TO_TCP_SOCK_OR_NULL. */
  | { readonly type: "tcp_sock"; readonly nullable: boolean }
  /** Pointer into a dynptr's data, of the size in the `sizeArg` register. RET_PTR_TO_DYNPTR_MEM_OR_NULL. */
  | { readonly type: "dynptr_mem"; readonly nullable: boolean; readonly sizeArg: number }
  /** A __percpu variable's address: memory of the ksym's size, or its BTF type. RET_PTR_TO_MEM_OR_BTF_ID (| MEM_RDONLY). */
  | { readonly type: "mem_or_btf_id"; readonly nullable: boolean; readonly readonly: boolean }
  /** The kptr's own BTF type, decided by the verifier at the call (kptr_xchg: ret_btf_id = BPF_PTR_POISON). */
  | { readonly type: "kptr"; readonly nullable: boolean };

export interface HelperProto {
  readonly args: readonly ArgSpec[];
  readonly ret: RetSpec;
  /** Only allowed with GPL-compatible licenses (gpl_only). */
  readonly gplOnly?: boolean;
  /** Pointer arguments may be packet pointers (pkt_access). */
  readonly pktAccess?: boolean;
  /** The helper may change packet data: the verifier forgets packet ranges (bpf_helper_changes_pkt_data). */
  readonly changesPktData?: boolean;
  /** Callback-taking helpers: which argument is the function and how it is called. */
  readonly callback?: {
    /** The register (1..5) holding the callback (ARG_PTR_TO_FUNC). */
    readonly funcArg: number;
    /** Argument kinds the callback receives, for checking the callback body. */
    readonly params: readonly ("scalar" | "ctx_arg" | "map_ptr" | "map_key" | "map_value" | "callback_ctx" | "task" | "vma" | "dynptr")[];
    /** Range the callback's r0 must lie in. */
    readonly retRange: readonly [number, number];
  };
  /**
   * Releases a reference acquired by another helper (e.g. ringbuf_submit): the
   * argument register number, 1..5, whose type carries OBJ_RELEASE.
   */
  readonly releasesArg?: number;
  /** The helper acquires a reference the program must release (is_acquire_function in kernel/bpf/verifier.c). */
  readonly acquires?: boolean;
  /** The helper may sleep: only sleepable programs may call it (bpf_func_proto.might_sleep). */
  readonly mightSleep?: boolean;
  /**
   * The kernel also runs a per-program `allowed` check (bpf_func_proto.allowed):
   * named here after the kernel function (e.g. "bpf_d_path_allowed").
   */
  readonly allowed?: string;
}

/** Shorthands for prototypes. */
export const arg = {
  anything: { type: "anything" } as ArgSpec,
  map: { type: "const_map_ptr" } as ArgSpec,
  key: { type: "map_key" } as ArgSpec,
  value: { type: "map_value" } as ArgSpec,
  mem: { type: "mem", readonly: true } as ArgSpec,
  memOrNull: { type: "mem", readonly: true, nullable: true } as ArgSpec,
  uninitMem: { type: "mem", uninit: true } as ArgSpec,
  size: { type: "const_size" } as ArgSpec,
  sizeOrZero: { type: "const_size_or_zero" } as ArgSpec,
  ctx: { type: "ctx" } as ArgSpec,
  func: { type: "func" } as ArgSpec,
  stackOrNull: { type: "stack", nullable: true } as ArgSpec,
} as const;

export const ret = {
  integer: { type: "integer" } as RetSpec,
  void: { type: "void" } as RetSpec,
  mapValueOrNull: { type: "map_value", nullable: true } as RetSpec,
} as const;
