/**
 * struct xdp_md, 24 bytes. The context of XDP programs.
 * include/uapi/linux/bpf.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const xdpMd = layout("xdp_md", 24, [
  ["data", 0, 4, "__u32"],
  ["data_end", 4, 4, "__u32"],
  ["data_meta", 8, 4, "__u32"],
  ["ingress_ifindex", 12, 4, "__u32"],
  ["rx_queue_index", 16, 4, "__u32"],
  ["egress_ifindex", 20, 4, "__u32"],
], ["data", "data_end", "data_meta"]);
