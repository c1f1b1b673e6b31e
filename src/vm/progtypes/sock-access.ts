/**
 * Loads through socket pointers, which the verifier's check_sock_access
 * (kernel/bpf/verifier.c) checks with the is_valid_access functions of
 * net/core/filter.c rather than a program type's:
 *
 * - PTR_TO_SOCKET, struct bpf_sock: bpf_sock_is_valid_access. family, type,
 *   protocol, src_port, state and rx_queue_mapping take narrow loads at their
 *   first byte only; the addresses anywhere inside; dst_port (__be16) also
 *   reads as a u32; bound_dev_if, mark and priority only as whole u32s.
 * - PTR_TO_SOCK_COMMON: bpf_sock_common_is_valid_access, the same less
 *   type .. priority (fields a struct sock_common does not have).
 * - PTR_TO_TCP_SOCK, struct bpf_tcp_sock: bpf_tcp_sock_is_valid_access, whole
 *   u32 fields, bytes_received and bytes_acked whole u64s.
 * - PTR_TO_XDP_SOCK, struct bpf_xdp_sock: bpf_xdp_sock_is_valid_access, its u32.
 *
 * All are read-only: check_mem_access refuses stores before asking.
 */
import { accessRows, checkCtxAccess, type FieldAccess } from "./access.js";
import { bpfSock } from "./ctx/bpf_sock.js";

const start = { read: "narrowStart" } as const satisfies FieldAccess;
const narrow = { read: "narrow" } as const satisfies FieldAccess;
const whole = { read: "exact" } as const satisfies FieldAccess;

const sockRows = accessRows(bpfSock, {
  bound_dev_if: whole, family: start, type: start, protocol: start, mark: whole, priority: whole,
  src_ip4: narrow, src_ip6: narrow, src_port: start, dst_port: { read: { narrowOr: 4 } }, dst_ip4: narrow, dst_ip6: narrow,
  state: start, rx_queue_mapping: start,
});

/** bpf_ctx_range_till(struct bpf_sock, type, priority): not readable through a sock_common pointer. */
const NOT_IN_SOCK_COMMON: ReadonlySet<string> = new Set(["type", "protocol", "mark", "priority"]);
const sockCommonRows = sockRows.filter((r) => !NOT_IN_SOCK_COMMON.has(r.field.name));

/** offsetofend(struct bpf_tcp_sock, icsk_retransmits): the readable part of struct bpf_tcp_sock. include/uapi/linux/bpf.h. */
export const BPF_TCP_SOCK_READABLE = 112;
/** offsetof(struct bpf_tcp_sock, bytes_received) and bytes_acked, its only __u64 fields. include/uapi/linux/bpf.h. */
const TCP_SOCK_U64_FIELDS: ReadonlySet<number> = new Set([80, 88]);

/** The struct a socket pointer points to, by the verifier's register type. */
export type SockPointer = "sock_common" | "sock" | "tcp_sock" | "xdp_sock";

/** May a program load `size` bytes at `off` through a pointer of this kind? */
export function sockReadOk(kind: SockPointer, off: number, size: number): boolean {
  switch (kind) {
    case "sock":
      return checkCtxAccess(bpfSock, sockRows, off, size, false).ok;
    case "sock_common":
      return checkCtxAccess(bpfSock, sockCommonRows, off, size, false).ok;
    case "tcp_sock":
      if (off < 0 || off >= BPF_TCP_SOCK_READABLE || off % size !== 0) return false;
      return size === (TCP_SOCK_U64_FIELDS.has(off) ? 8 : 4);
    case "xdp_sock":
      // bpf_xdp_sock_is_valid_access: struct bpf_xdp_sock holds one __u32, queue_id.
      return off === 0 && size === 4;
  }
}
