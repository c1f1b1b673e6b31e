/**
 * struct bpf_nf_ctx, 16 bytes. The context of netfilter programs.
 * include/net/netfilter/nf_bpf_link.h; offsets and sizes checked against the running kernel's BTF.
 */
import { layout } from "./layout.js";

export const bpfNfCtx = layout("bpf_nf_ctx", 16, [
  ["state", 0, 8, "struct nf_hook_state *"],
  ["skb", 8, 8, "struct sk_buff *"],
]);
