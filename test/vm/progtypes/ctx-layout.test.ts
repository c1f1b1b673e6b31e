import { describe, expect, test } from "vitest";
import { bpfCgroupDevCtx } from "../../../src/vm/progtypes/ctx/bpf_cgroup_dev_ctx.js";
import { bpfFlowKeys } from "../../../src/vm/progtypes/ctx/bpf_flow_keys.js";
import { bpfNfCtx } from "../../../src/vm/progtypes/ctx/bpf_nf_ctx.js";
import { bpfPerfEventData } from "../../../src/vm/progtypes/ctx/bpf_perf_event_data.js";
import { bpfRawTracepointArgs } from "../../../src/vm/progtypes/ctx/bpf_raw_tracepoint_args.js";
import { bpfSkLookup } from "../../../src/vm/progtypes/ctx/bpf_sk_lookup.js";
import { bpfSock } from "../../../src/vm/progtypes/ctx/bpf_sock.js";
import { bpfSockAddr } from "../../../src/vm/progtypes/ctx/bpf_sock_addr.js";
import { bpfSockOps } from "../../../src/vm/progtypes/ctx/bpf_sock_ops.js";
import { bpfSockopt } from "../../../src/vm/progtypes/ctx/bpf_sockopt.js";
import { bpfSysctl } from "../../../src/vm/progtypes/ctx/bpf_sysctl.js";
import type { CtxLayout } from "../../../src/vm/progtypes/ctx/layout.js";
import { ptRegs } from "../../../src/vm/progtypes/ctx/pt_regs.js";
import { skBuff } from "../../../src/vm/progtypes/ctx/sk_buff.js";
import { skMsgMd } from "../../../src/vm/progtypes/ctx/sk_msg_md.js";
import { skReuseportMd } from "../../../src/vm/progtypes/ctx/sk_reuseport_md.js";
import { xdpMd } from "../../../src/vm/progtypes/ctx/xdp_md.js";
import { progTypes } from "../../../src/vm/progtypes/index.js";
import { btfUnavailableReason, vmlinuxStruct } from "./kernel-load.js";

const LAYOUTS: readonly CtxLayout[] = [
  skBuff, xdpMd, bpfSock, bpfSockAddr, skMsgMd, bpfSockOps, skReuseportMd, bpfPerfEventData, ptRegs,
  bpfRawTracepointArgs, bpfSysctl, bpfSockopt, bpfSkLookup, bpfCgroupDevCtx, bpfFlowKeys, bpfNfCtx,
];

const reason = btfUnavailableReason();

describe.skipIf(reason !== null)(`context layouts match the kernel's BTF${reason ? ` [skipped: ${reason}]` : ""}`, () => {
  test.each(LAYOUTS.map((l) => [l.name, l] as const))("struct %s: size, field names, offsets, sizes and array lengths", (_n, l) => {
    const btf = vmlinuxStruct(l.name);
    expect(btf, `struct ${l.name} in vmlinux BTF`).toBeDefined();
    expect(l.size).toBe(btf?.size);
    expect(l.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size, ...(f.count !== undefined ? { count: f.count } : {}) }))).toEqual(btf?.fields);
  });
});

describe("context layouts are self-consistent", () => {
  test("every program type with a layout names it as its ctx struct and sizes its ctx from it", () => {
    for (const t of progTypes) {
      if (!t.ctxLayout) continue;
      expect(t.ctxStruct).toBe(t.ctxLayout.name);
      if (t.ctxLayout.size > 0) expect(t.ctxSize).toBe(t.ctxLayout.size);
    }
  });
  test("__sk_buff.data, data_end and data_meta are 32-bit address fields; sk and flow_keys 64-bit pointers", () => {
    const kind = (n: string) => skBuff.fields.find((f) => f.name === n)?.kind;
    expect([kind("data"), kind("data_end"), kind("data_meta"), kind("sk"), kind("flow_keys"), kind("len")]).toEqual(["addr32", "addr32", "addr32", "ptr", "ptr", "scalar"]);
  });
});
