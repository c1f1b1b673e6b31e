import { readFileSync, unlinkSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  attachCgroup, attachKprobe, attachRawTracepoint, attachTcx, attachTracepoint, attachTracing, attachUprobe, attachXdp,
  lsmLoadOptions, tpBtfLoadOptions, tracingLoadOptions,
} from "../../src/linux/attach.js";
import { AttachType, MapType, ProgType } from "../../src/linux/constants.js";
import { kprobeUnavailableReason, tcxUnavailableReason, trampolineUnavailableReason } from "../../src/linux/features.js";
import { cgroup2Root } from "../../src/linux/fs.js";
import { LinuxLink } from "../../src/linux/link.js";
import { LinuxMap, u32 } from "../../src/linux/map.js";
import { ifIndex, inNetns } from "../../src/linux/netns.js";
import { LinuxProgram } from "../../src/linux/program.js";
import { sys } from "../../src/linux/sys.js";
import {
  type NetnsPair, createCgroup, createNetnsPair, describeKernel, netnsUnavailableReason, testFeature,
} from "../helpers/kernel.js";
import { counterProgram } from "./asm.js";

const pid = process.pid;

function counter(): LinuxMap {
  return LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: "t_count" });
}
const count = (m: LinuxMap): bigint => m.lookup(u32(0))!.readBigUInt64LE();
const getpids = (n: number): void => {
  for (let i = 0; i < n; i++) sys().getpid();
};

/** The path of the libc this process runs (from /proc/self/maps). */
function libcPath(): string {
  const line = readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => /\/libc\.so\.6$/.test(l) || /\/libc-[\d.]+\.so$/.test(l));
  if (!line) throw new Error("libc not mapped");
  return line.slice(line.indexOf("/"));
}

describeKernel("linux links: tracing hooks", () => {
  test("tracepoint: a program on syscalls:sys_enter_getpid counts this process's getpid calls", () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_TRACEPOINT, insns: counterProgram(m.fd.value, 0, pid), name: "t_tp" });
    using link = attachTracepoint(p, "syscalls", "sys_enter_getpid");
    getpids(25);
    expect(count(m)).toBe(25n);
    const info = link.info();
    expect(info.typeName).toBe("perf_event");
    expect(info.progId).toBe(p.id);
    expect(info.details).toMatchObject({ event_type: "tracepoint", tracepoint: "sys_enter_getpid" });
    link.close();
    getpids(5);
    expect(count(m)).toBe(25n);
  });

  test("raw_tracepoint: sys_enter sees every syscall; the link cannot be detached (EOPNOTSUPP) only closed", () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_RAW_TRACEPOINT, insns: counterProgram(m.fd.value, 0, pid) });
    using link = attachRawTracepoint(p, "sys_enter");
    getpids(10);
    expect(count(m)).toBeGreaterThanOrEqual(10n);
    expect(link.info()).toMatchObject({ typeName: "raw_tracepoint", details: { tp_name: "sys_enter" } });
    expect(() => link.detach()).toThrow(/EOPNOTSUPP/);
    link.close();
    const before = count(m);
    getpids(10);
    expect(count(m)).toBe(before);
  });

  test("a pinned link stays attached after its fd is closed, until the pin is removed", () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_RAW_TRACEPOINT, insns: counterProgram(m.fd.value, 0, pid) });
    const path = `/sys/fs/bpf/tsbpf-test-link-${pid}`;
    const link = attachRawTracepoint(p, "sys_enter");
    const id = link.id;
    link.pin(path);
    link.close();
    const before = count(m);
    getpids(10);
    expect(count(m) - before).toBeGreaterThanOrEqual(10n);
    using again = LinuxLink.fromPin(path);
    expect(again.info().id).toBe(id);
    again.close();
    unlinkSync(path);
    // The last reference goes away in a workqueue (bpf_link_put defers the release): wait for it.
    let stable = false;
    for (let i = 0; i < 50 && !stable; i++) {
      const after = count(m);
      getpids(10);
      stable = count(m) === after;
      if (!stable) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    expect(stable).toBe(true);
  });

  test("tp_btf: a BTF raw tracepoint found by name in vmlinux BTF (btf_trace_sys_enter)", () => {
    using m = counter();
    using p = LinuxProgram.load({ ...tpBtfLoadOptions("sys_enter"), insns: counterProgram(m.fd.value, 0, pid), name: "t_tp_btf" });
    using link = attachTracing(p);
    getpids(10);
    expect(count(m)).toBeGreaterThanOrEqual(10n);
    // BPF_LINK_CREATE with BPF_TRACE_RAW_TP makes a raw_tracepoint link.
    expect(link.info()).toMatchObject({ typeName: "raw_tracepoint", details: { tp_name: "sys_enter" } });
  });

  test("uprobe: libc's syscall() in this process, found by symbol in the ELF file", () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_KPROBE, insns: counterProgram(m.fd.value, 0) });
    using link = attachUprobe(p, libcPath(), "syscall", { pid });
    getpids(20);
    expect(count(m)).toBeGreaterThanOrEqual(20n);
    expect(link.info().details).toMatchObject({ event_type: "uprobe", file: libcPath() });
  });

  test("uretprobe: fires on return from libc's syscall()", () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_KPROBE, insns: counterProgram(m.fd.value, 0) });
    using link = attachUprobe(p, libcPath(), "syscall", { pid, retprobe: true });
    getpids(20);
    expect(count(m)).toBeGreaterThanOrEqual(20n);
    expect(link.info().details).toMatchObject({ event_type: "uretprobe" });
  });

  testFeature("kprobe: __x64_sys_getpid", kprobeUnavailableReason, () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_KPROBE, insns: counterProgram(m.fd.value, 0, pid) });
    using _link = attachKprobe(p, "__x64_sys_getpid");
    getpids(10);
    expect(count(m)).toBe(10n);
  });

  testFeature("kretprobe: __x64_sys_getpid", kprobeUnavailableReason, () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_KPROBE, insns: counterProgram(m.fd.value, 0, pid) });
    using _link = attachKprobe(p, "__x64_sys_getpid", { retprobe: true });
    getpids(10);
    expect(count(m)).toBe(10n);
  });

  test("kprobe without a kprobe PMU is a NotSupportedError naming the reason", () => {
    if (kprobeUnavailableReason() === null) return;
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_KPROBE, insns: counterProgram(m.fd.value, 0, pid) });
    expect(() => attachKprobe(p, "__x64_sys_getpid")).toThrow(/not supported: kprobe .*CONFIG_KPROBES/);
  });

  for (const kind of ["fentry", "fexit"] as const) {
    testFeature(`${kind}: __x64_sys_getpid counts this process's getpid calls`, () => trampolineUnavailableReason(kind), () => {
      using m = counter();
      using p = LinuxProgram.load({ ...tracingLoadOptions(kind, "__x64_sys_getpid"), insns: counterProgram(m.fd.value, 0, pid) });
      using link = attachTracing(p);
      getpids(10);
      expect(count(m)).toBe(10n);
      expect(link.info().details).toMatchObject({ attach_type: kind === "fentry" ? "trace_fentry" : "trace_fexit" });
    });
  }

  testFeature("lsm: file_open", () => trampolineUnavailableReason("lsm"), () => {
    using m = counter();
    using p = LinuxProgram.load({ ...lsmLoadOptions("file_open"), insns: counterProgram(m.fd.value, 0, pid) });
    using _link = attachTracing(p);
    readFileSync("/proc/self/stat");
    expect(count(m)).toBeGreaterThanOrEqual(1n);
  });
});

describeKernel("linux links: network hooks", () => {
  let net: NetnsPair | undefined;
  const netReason = netnsUnavailableReason();
  beforeAll(() => {
    if (netReason === null) net = createNetnsPair();
  });
  afterAll(() => net?.remove());

  /** Some traffic that must reach ifB: ARP and a UDP datagram from nsA. */
  const traffic = (): void => {
    net!.exec(net!.nsA, `for i in 1 2 3; do echo x > /dev/udp/${net!.ipB}/9; done; true`);
  };

  testFeature("xdp: a program on a veth in a test namespace sees its packets", () => netReason, () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: counterProgram(m.fd.value, 2 /* XDP_PASS */) });
    const ifindex = inNetns(net!.nsB, () => ifIndex(net!.ifB));
    using link = inNetns(net!.nsB, () => attachXdp(p, ifindex));
    traffic();
    expect(count(m)).toBeGreaterThanOrEqual(1n);
    expect(link.info()).toMatchObject({ typeName: "xdp", details: { ifindex } });
    // BPF_LINK_UPDATE swaps the program in place; with the old program named, only if it is still attached.
    using m2 = counter();
    using p2 = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: counterProgram(m2.fd.value, 2) });
    link.update(p2, p);
    expect(link.info().progId).toBe(p2.id);
    expect(() => link.update(p, p)).toThrow(/EPERM/);
    traffic();
    expect(count(m2)).toBeGreaterThanOrEqual(1n);
  });

  testFeature("tcx ingress: a sched_cls program on the same veth", () => netReason ?? tcxUnavailableReason(), () => {
    using m = counter();
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_SCHED_CLS, insns: counterProgram(m.fd.value, 0 /* TCX_PASS */) });
    const ifindex = inNetns(net!.nsB, () => ifIndex(net!.ifB));
    using link = inNetns(net!.nsB, () => attachTcx(p, ifindex, "ingress"));
    traffic();
    expect(count(m)).toBeGreaterThanOrEqual(1n);
    expect(link.info()).toMatchObject({ typeName: "tcx", details: { ifindex, attach_type: "tcx_ingress" } });
  });

  testFeature("cgroup: cgroup_skb egress on a test cgroup counts a child's packets", () => {
    try {
      cgroup2Root();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }, () => {
    const cg = createCgroup(cgroup2Root());
    try {
      using m = counter();
      using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_CGROUP_SKB, insns: counterProgram(m.fd.value, 1 /* allow */) });
      using link = attachCgroup(p, cg.path, AttachType.BPF_CGROUP_INET_EGRESS);
      cg.execIn("echo x > /dev/udp/127.0.0.1/9");
      expect(count(m)).toBeGreaterThanOrEqual(1n);
      expect(link.info()).toMatchObject({ typeName: "cgroup", details: { attach_type: "cgroup_inet_egress" } });
      // BPF_LINK_DETACH: the link stays open but no longer counts.
      link.detach();
      const before = count(m);
      cg.execIn("echo x > /dev/udp/127.0.0.1/9");
      expect(count(m)).toBe(before);
    } finally {
      cg.remove();
    }
  });
});
