/**
 * struct bpf_sock, 80 bytes. The context of cgroup_sock programs (and what sk pointers point to).
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfSock = layout("bpf_sock", 80, [
  ["bound_dev_if", 0, 4, "__u32"],
  ["family", 4, 4, "__u32"],
  ["type", 8, 4, "__u32"],
  ["protocol", 12, 4, "__u32"],
  ["mark", 16, 4, "__u32"],
  ["priority", 20, 4, "__u32"],
  ["src_ip4", 24, 4, "__u32"],
  ["src_ip6", 28, 4, "__u32", 4],
  ["src_port", 44, 4, "__u32"],
  ["dst_port", 48, 2, "__be16"],
  ["dst_ip4", 52, 4, "__u32"],
  ["dst_ip6", 56, 4, "__u32", 4],
  ["state", 72, 4, "__u32"],
  ["rx_queue_mapping", 76, 4, "__s32"],
]);
