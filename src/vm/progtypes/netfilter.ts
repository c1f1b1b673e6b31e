/**
 * BPF_PROG_TYPE_NETFILTER. net/netfilter/nf_bpf_link.c: nf_is_valid_access
 * (read-only u64 loads of state and skb, trusted BTF pointers to struct
 * nf_hook_state and struct sk_buff), bpf_nf_func_proto (bpf_base_func_proto
 * only). Returns NF_DROP (0) or NF_ACCEPT (1).
 */
import { accessRows } from "./access.js";
import { BPF_NETFILTER, BPF_PROG_TYPE_NETFILTER } from "./constants.js";
import { bpfNfCtx } from "./ctx/bpf_nf_ctx.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { BASE_FUNCS } from "./funcs.js";

const rows = accessRows(bpfNfCtx, {
  state: { read: "exact", load: "btf_id", btfType: "nf_hook_state" },
  skb: { read: "exact", load: "btf_id", btfType: "sk_buff" },
});

export const netfilter = defineProgType({
  id: BPF_PROG_TYPE_NETFILTER,
  name: "netfilter",
  uapiName: "BPF_PROG_TYPE_NETFILTER",
  ctxStruct: "bpf_nf_ctx",
  ctxSize: bpfNfCtx.size,
  ctxLayout: bpfNfCtx,
  attachTypes: [BPF_NETFILTER],
  access: () => rows,
  helpers: () => BASE_FUNCS,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
