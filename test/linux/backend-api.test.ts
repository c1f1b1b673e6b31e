import { existsSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { struct, u32, u64 } from "../../src/api/codecs.js";
import { NotSupportedError } from "../../src/errors.js";
import { defaultAttachTarget } from "../../src/linux/api/auto-attach.js";
import { AttachError } from "../../src/linux/api/program.js";
import { linuxBackend } from "../../src/linux/backend.js";
import { kprobeUnavailableReason, tcxUnavailableReason } from "../../src/linux/features.js";
import { cgroup2Root, possibleCpus } from "../../src/linux/fs.js";
import { ifIndex, inNetns } from "../../src/linux/netns.js";
import { LinuxLink } from "../../src/linux/link.js";
import { LinuxProgram } from "../../src/linux/program.js";
import { sys } from "../../src/linux/sys.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { createCgroup, createNetnsPair, describeKernel, netnsUnavailableReason, testFeature } from "../helpers/kernel.js";

const load = (path: string, name: string): ObjectSpec => ObjectSpec.fromBytes(readFileSync(new URL(path, import.meta.url)), { name });
const backend = linuxBackend();
const le32 = (v: number): Uint8Array => u32.encode(v);

describe("default attach targets from section names (libbpf's auto-attach)", () => {
  const cases: Array<[string, unknown]> = [
    ["tracepoint/syscalls/sys_enter_openat", { kind: "tracepoint", category: "syscalls", name: "sys_enter_openat" }],
    ["tp/sched/sched_switch", { kind: "tracepoint", category: "sched", name: "sched_switch" }],
    ["raw_tracepoint/sys_enter", { kind: "raw_tracepoint", name: "sys_enter" }],
    ["raw_tp.w/sched_switch", { kind: "raw_tracepoint", name: "sched_switch" }],
    ["tp_btf/sched_switch", { kind: "tp_btf", name: "sched_switch" }],
    ["fentry/do_unlinkat", { kind: "fentry", name: "do_unlinkat" }],
    ["fexit.s/do_unlinkat", { kind: "fexit", name: "do_unlinkat" }],
    ["lsm/file_open", { kind: "lsm", name: "file_open" }],
    ["kprobe/do_unlinkat", { kind: "kprobe", symbol: "do_unlinkat" }],
    ["kprobe/do_unlinkat+0x10", { kind: "kprobe", symbol: "do_unlinkat", offset: 16 }],
    ["kretprobe/do_unlinkat", { kind: "kretprobe", symbol: "do_unlinkat" }],
    ["ksyscall/openat", { kind: "kprobe", symbol: "__x64_sys_openat" }],
    ["uprobe//bin/sh:main", { kind: "uprobe", binary: "/bin/sh", symbol: "main" }],
    ["uretprobe//lib/libc.so.6:malloc+4", { kind: "uretprobe", binary: "/lib/libc.so.6", symbol: "malloc", offset: 4 }],
    ["uprobe//bin/true:0x1234", { kind: "uprobe", binary: "/bin/true", offset: 0x1234 }],
  ];
  test.each(cases)("SEC(%j)", (section, want) => {
    expect(defaultAttachTarget(section)).toEqual(want);
  });

  test.each(["xdp", "tc", "tcx/ingress", "cgroup/sock", "sockops", "tracepoint/syscalls", "kprobe", "perf_event"])(
    "SEC(%j) has no default target: NotSupportedError saying what to give",
    (section) => {
      expect(() => defaultAttachTarget(section)).toThrow(NotSupportedError);
    },
  );
});

describeKernel("linux API: maps", () => {
  test("lookup, update, delete (false when absent), nextKey, keys, entries, batches, typed views", () => {
    using coll = backend.load(load("../fixtures/object/maps.bpf.o", "maps"), { programs: [], pinPath: `/sys/fs/bpf/tsbpf-api-${process.pid}` });
    try {
      const flows = coll.map("flows");
      const Key = struct({ saddr: u32, daddr: u32, sport: struct({ v: u32 }) });
      expect(Key.size).toBe(12);
      expect(flows.info).toMatchObject({ name: "flows", type: "hash", keySize: 12, valueSize: 8, maxEntries: 1024, frozen: false });
      const k = (i: number): Uint8Array => Key.encode({ saddr: i, daddr: 2, sport: { v: 3 } });
      flows.update(k(1), u64.encode(10n));
      flows.update(k(2), u64.encode(20n));
      expect(u64.decode(flows.lookup(k(1))!)).toBe(10n);
      expect(flows.lookup(k(9))).toBeUndefined();
      expect(flows.delete(k(9))).toBe(false);
      expect([...flows.keys()].length).toBe(2);
      expect(flows.nextKey(null)).toBeDefined();
      const batch = flows.lookupBatch();
      expect(batch.keys.length).toBe(2);
      expect(batch.values.map((v) => u64.decode(v)).sort()).toEqual([10n, 20n]);
      expect(flows.updateBatch([k(3), k(4)], [u64.encode(3n), u64.encode(4n)])).toBe(2);
      expect(flows.deleteBatch([k(3), k(4)])).toBe(2);
      expect(flows.delete(k(2))).toBe(true);
      const typed = flows.typed(Key, u64);
      expect([...typed].map(([key, v]) => [key.saddr, v])).toEqual([[1, 10n]]);
      expect(flows.lookupAndDelete(k(1))).toBeDefined();
      expect([...flows.entries()]).toEqual([]);
      const counters = coll.map("counters");
      // Per-CPU values come back concatenated, 8-byte aligned per CPU.
      expect(counters.lookup(le32(0))!.length).toBe(8 * possibleCpus());
      const inner = coll.map("inner_a");
      inner.freeze();
      expect(inner.info.frozen).toBe(true);
    } finally {
      coll.map("tsbpf_pinned").kernel.close();
      rmSync(`/sys/fs/bpf/tsbpf-api-${process.pid}`, { recursive: true, force: true });
    }
  });
});

describeKernel("linux API: programs and links", () => {
  const core = (): ObjectSpec => load("../fixtures/linux/core.bpf.o", "core");

  test("info, xlated image and pin of a loaded program", () => {
    using coll = backend.load(core());
    const p = coll.program("core_task");
    const info = p.info;
    expect(info).toMatchObject({ name: "core_task", type: "raw_tracepoint", gplCompatible: true });
    expect(info.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(p.xlated().length).toBe(info.xlatedInsns * 8);
    expect(info.mapIds.length).toBeGreaterThan(0);
    const path = `/sys/fs/bpf/tsbpf-api-prog-${process.pid}`;
    p.pin(path);
    using again = LinuxProgram.fromPin(path);
    expect(again.id).toBe(info.id);
    unlinkSync(path);
  });

  test("raw_tp: attach() with no target uses the section's tracepoint; dispose detaches", () => {
    using coll = backend.load(core());
    const bss = coll.map("core.bss");
    const tgidSeen = (): bigint => u64.decode(bss.lookup(le32(0))!);
    const link = coll.program("core_task").attach();
    expect(link.target).toEqual({ kind: "raw_tracepoint", name: "sys_enter" });
    expect(link.id).toBeGreaterThan(0);
    sys().getpid();
    expect(tgidSeen()).toBeGreaterThan(0n);
    link[Symbol.dispose]();
    bss.update(le32(0), new Uint8Array(32));
    sys().getpid();
    expect(tgidSeen()).toBe(0n);
  });

  test("a pinned link stays after dispose; detach() takes the program off the hook even then", () => {
    using coll = backend.load(core());
    const bss = coll.map("core.bss");
    const path = `/sys/fs/bpf/tsbpf-api-link-${process.pid}`;
    const link = coll.program("core_task").attach();
    link.pin(path);
    const id = link.id;
    link[Symbol.dispose]();
    bss.update(le32(0), new Uint8Array(32));
    sys().getpid();
    expect(u64.decode(bss.lookup(le32(0))!)).toBe(BigInt(process.pid));
    using pinned = LinuxLink.fromPin(path);
    expect(pinned.info().id).toBe(id);
    pinned.close();
    unlinkSync(path);
  });

  test("tp_btf: attach() to the target fixed at load time; another name is refused", () => {
    using coll = backend.load(load("../fixtures/object/core.bpf.o", "core"), { programs: ["core_direct"] });
    const p = coll.program("core_direct");
    expect(() => p.attach({ kind: "tp_btf", name: "sched_wakeup" })).toThrow(AttachError);
    using link = p.attach();
    expect(link.target).toEqual({ kind: "tp_btf", name: "sched_switch" });
    expect(link.id).toBeGreaterThan(0);
  });

  test("uprobe: an explicit target on a libc function", () => {
    const libc = readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => /\/libc\.so\.6$/.test(l));
    const path = libc?.slice(libc.indexOf("/"));
    expect(path && existsSync(path)).toBeTruthy();
    using coll = backend.load(load("../fixtures/object/sections.bpf.o", "sections"), { programs: ["p_uprobe"] });
    using link = coll.program("p_uprobe").attach({ kind: "uprobe", binary: path!, symbol: "getpid", pid: process.pid });
    expect(link.id).toBeGreaterThan(0);
  });

  testFeature("kprobe: attach() with no target uses the section's function", kprobeUnavailableReason, () => {
    using coll = backend.load(load("../fixtures/object/sections.bpf.o", "sections"), { programs: ["p_kprobe"] });
    using link = coll.program("p_kprobe").attach();
    expect(link.target).toEqual({ kind: "kprobe", symbol: "do_unlinkat" });
  });

  test("xdp without a target, and vm hook points, are NotSupportedError; kernel refusals are AttachErrors with the cause", () => {
    using coll = backend.load(load("../fixtures/object/sections.bpf.o", "sections"), { programs: ["p_xdp", "p_tracepoint"] });
    expect(() => coll.program("p_xdp").attach()).toThrow(/auto-attach of SEC\("xdp"\).*ifindex/);
    expect(() => coll.program("p_xdp").attach({ kind: "hook", name: "x" })).toThrow(NotSupportedError);
    let err: unknown;
    try {
      coll.program("p_xdp").attach({ kind: "xdp", ifindex: 0x7fff_fff0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AttachError);
    expect((err as Error).message).toMatch(/^attach program p_xdp to xdp ifindex 2147483632: /);
    expect((err as AttachError).cause).toBeDefined();
    expect(() => coll.program("p_tracepoint").attach({ kind: "tracepoint", category: "syscalls", name: "no_such_tp" })).toThrow(NotSupportedError);
  });

  testFeature("tcx and cgroup targets: sched_cls on a veth ingress, cgroup_skb on a fresh cgroup (its section's attach type)",
    () => netnsUnavailableReason() ?? tcxUnavailableReason(), () => {
      const net = createNetnsPair();
      const cg = createCgroup(cgroup2Root());
      try {
        using coll = backend.load(load("../fixtures/object/sections.bpf.o", "sections"), { programs: ["p_tcx_ingress", "p_cgroup_skb_egress"] });
        using tcx = inNetns(net.nsA, () => coll.program("p_tcx_ingress").attach({ kind: "tcx", ifindex: ifIndex(net.ifA), direction: "ingress" }));
        expect(tcx.id).toBeGreaterThan(0);
        using cgl = coll.program("p_cgroup_skb_egress").attach({ kind: "cgroup", path: cg.path });
        expect(cgl.kernel.info().details).toMatchObject({ attach_type: "cgroup_inet_egress" });
        cgl.detach();
        tcx.detach();
      } finally {
        cg.remove();
        net.remove();
      }
    });

  test("a program whose section libbpf does not know cannot be loaded, and says why", () => {
    expect(() => backend.load(load("../fixtures/object/sections.bpf.o", "sections"), { programs: ["p_unknown"] }))
      .toThrow("load program p_unknown: section 'not_a_known_section' does not name a program type libbpf knows");
  });

  test("disposing the collection closes links attached through its programs", () => {
    const coll = backend.load(core());
    const link = coll.program("core_task").attach();
    const id = link.id;
    coll[Symbol.dispose]();
    expect(id).toBeGreaterThan(0);
    expect(link.id).toBe(0);
  });
});
