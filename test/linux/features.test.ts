import { expect, test } from "vitest";
import { NotSupportedError } from "../../src/errors.js";
import { MapType, ProgType } from "../../src/linux/constants.js";
import {
  kprobeUnavailableReason, probeHelper, probeMapType, probeProgType, requireMapType, requireProgType,
  tcxUnavailableReason, trampolineUnavailableReason,
} from "../../src/linux/features.js";
import { describeKernel } from "../helpers/kernel.js";
import { H } from "./asm.js";

describeKernel("feature probes", () => {
  test.each([
    ["socket_filter", ProgType.BPF_PROG_TYPE_SOCKET_FILTER],
    ["xdp", ProgType.BPF_PROG_TYPE_XDP],
    ["sched_cls", ProgType.BPF_PROG_TYPE_SCHED_CLS],
    ["tracepoint", ProgType.BPF_PROG_TYPE_TRACEPOINT],
    ["raw_tracepoint", ProgType.BPF_PROG_TYPE_RAW_TRACEPOINT],
    ["cgroup_skb", ProgType.BPF_PROG_TYPE_CGROUP_SKB],
    ["cgroup_sock_addr", ProgType.BPF_PROG_TYPE_CGROUP_SOCK_ADDR],
    ["sk_lookup", ProgType.BPF_PROG_TYPE_SK_LOOKUP],
    ["tracing", ProgType.BPF_PROG_TYPE_TRACING],
    ["lsm", ProgType.BPF_PROG_TYPE_LSM],
    ["syscall", ProgType.BPF_PROG_TYPE_SYSCALL],
    ["netfilter", ProgType.BPF_PROG_TYPE_NETFILTER],
  ])("program type %s is supported by a 6.x kernel", (_name, type) => {
    expect(probeProgType(type)).toBe(true);
  });

  test("an unknown program type is not supported and requireProgType names it", () => {
    expect(probeProgType(200)).toBe(false);
    expect(() => requireProgType(200)).toThrow(NotSupportedError);
  });

  test.each(Object.entries(MapType).filter(([n]) => n !== "BPF_MAP_TYPE_UNSPEC"))("map type %s is supported by a 6.x kernel", (_name, type) => {
    expect(probeMapType(type)).toBe(true);
  });

  test("an unknown map type is refused with a NotSupportedError naming it", () => {
    expect(probeMapType(250)).toBe(false);
    expect(() => requireMapType(250)).toThrow(/not supported: map type type 250/);
  });

  test("helpers: allowed and refused per program type", () => {
    expect(probeHelper(ProgType.BPF_PROG_TYPE_XDP, H.map_lookup_elem)).toBe(true);
    expect(probeHelper(ProgType.BPF_PROG_TYPE_XDP, H.ringbuf_output)).toBe(true);
    expect(probeHelper(ProgType.BPF_PROG_TYPE_TRACEPOINT, H.get_current_pid_tgid)).toBe(true);
    // bpf_xdp_adjust_head (44) only exists for XDP programs.
    expect(probeHelper(ProgType.BPF_PROG_TYPE_SOCKET_FILTER, 44)).toBe(false);
    expect(probeHelper(ProgType.BPF_PROG_TYPE_XDP, 44)).toBe(true);
    // An id past the last helper.
    expect(probeHelper(ProgType.BPF_PROG_TYPE_XDP, 10_000)).toBe(false);
  });

  test("attach-mechanism probes give a reason or null", () => {
    for (const r of [kprobeUnavailableReason(), tcxUnavailableReason(), trampolineUnavailableReason("fentry"), trampolineUnavailableReason("lsm")]) {
      expect(r === null || typeof r === "string").toBe(true);
    }
    console.info(`kprobe: ${kprobeUnavailableReason()}; tcx: ${tcxUnavailableReason()}; fentry: ${trampolineUnavailableReason("fentry")}; lsm: ${trampolineUnavailableReason("lsm")}`);
  });
});
