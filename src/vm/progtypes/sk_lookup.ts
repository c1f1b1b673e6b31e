/**
 * BPF_PROG_TYPE_SK_LOOKUP. net/core/filter.c: sk_lookup_is_valid_access
 * (read-only; sk a PTR_TO_SOCKET_OR_NULL over the union with cookie; u32 fields
 * narrow; remote_port a __be16 that also reads as a u32, with its zero padding
 * readable for backward compatibility), sk_lookup_func_proto (sk_assign with a
 * socket-or-NULL argument, sk_release, perf_event_output). Returns SK_DROP (0)
 * or SK_PASS (1).
 */
import { accessRows, span } from "./access.js";
import { BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP } from "./constants.js";
import { bpfSkLookup } from "./ctx/bpf_sk_lookup.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { helperSet, SK_BASE_FUNCS } from "./funcs.js";

const r = { read: "narrow" } as const;
const rows = accessRows(bpfSkLookup, {
  sk: { read: "exact", load: "sock_or_null" },
  family: r, protocol: r, remote_ip4: r, remote_ip6: r,
  remote_port: { read: { narrowOr: 4 } },
  remote_port_pad: r,
  local_ip4: r, local_ip6: r, local_port: r, ingress_ifindex: r,
}, [span("remote_port_pad", 38, 2)]);
const helpers = helperSet(SK_BASE_FUNCS, [25, 86], { 124: { variant: "sk_lookup" } });

export const skLookup = defineProgType({
  id: BPF_PROG_TYPE_SK_LOOKUP,
  name: "sk_lookup",
  uapiName: "BPF_PROG_TYPE_SK_LOOKUP",
  ctxStruct: "bpf_sk_lookup",
  ctxSize: bpfSkLookup.size,
  ctxLayout: bpfSkLookup,
  attachTypes: [BPF_SK_LOOKUP],
  access: () => rows,
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
