import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_STATIC } from "../../src/btf/kinds.js";
import { BtfError, ElfError, LoadError } from "../../src/errors.js";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, OP_CALL, OP_LD_IMM64 } from "../../src/isa/opcodes.js";
import { objectNameFromPath } from "../../src/object/maps.js";
import { objectSpecFromFile } from "../../src/object/node.js";
import { ObjectSpec } from "../../src/object/spec.js";
import type { MapSpec, ProgramSpec } from "../../src/object/types.js";
import {
  AttachType as A, BPF_F_LINK, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_SLEEPABLE,
  BPF_F_XDP_HAS_FRAGS, LIBBPF_PIN_BY_NAME, MapType as M, ProgType as P,
} from "../../src/object/uapi.js";

const url = (name: string): URL => new URL(name.includes("/") ? `../fixtures/${name}` : `../fixtures/object/${name}`, import.meta.url);
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(url(name)));
const open = (name: string): ObjectSpec => ObjectSpec.fromBytes(bytes(name), { name: objectNameFromPath(name) });
const prog = (spec: ObjectSpec, name: string): ProgramSpec => spec.program(name);
const map = (spec: ObjectSpec, name: string): MapSpec => spec.map(name);

describe("programs by SEC() name (libbpf's section table)", () => {
  const spec = open("sections.bpf.o");
  test.each([
    ["p_socket", P.BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, ""],
    ["p_kprobe", P.BPF_PROG_TYPE_KPROBE, 0, 0, "do_unlinkat"],
    ["p_kretprobe", P.BPF_PROG_TYPE_KPROBE, 0, 0, "do_unlinkat"],
    ["p_uprobe", P.BPF_PROG_TYPE_KPROBE, 0, 0, "/bin/sh:main"],
    ["p_uprobe_s", P.BPF_PROG_TYPE_KPROBE, 0, BPF_F_SLEEPABLE, "/bin/sh:main"],
    ["p_kprobe_multi", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI, 0, "do_*"],
    ["p_kprobe_session", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_SESSION, 0, "do_*"],
    ["p_ksyscall", P.BPF_PROG_TYPE_KPROBE, 0, 0, "openat"],
    ["p_usdt", P.BPF_PROG_TYPE_KPROBE, 0, 0, "libc:probe"],
    ["p_tracepoint", P.BPF_PROG_TYPE_TRACEPOINT, 0, 0, "syscalls/sys_enter_openat"],
    ["p_tp", P.BPF_PROG_TYPE_TRACEPOINT, 0, 0, "sched/sched_switch"],
    ["p_raw_tracepoint", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, "sched_switch"],
    ["p_raw_tp", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, "sched_switch"],
    ["p_raw_tp_w", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0, "sched_switch"],
    ["p_tp_btf", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_RAW_TP, 0, "sched_switch"],
    ["p_fentry", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, 0, "do_unlinkat"],
    ["p_fexit", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, 0, "do_unlinkat"],
    ["p_fmod_ret", P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, 0, "do_unlinkat"],
    ["p_fentry_s", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, BPF_F_SLEEPABLE, "do_unlinkat"],
    ["p_freplace", P.BPF_PROG_TYPE_EXT, 0, 0, "handler"],
    ["p_lsm", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, 0, "file_open"],
    ["p_lsm_s", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, BPF_F_SLEEPABLE, "file_open"],
    ["p_lsm_cgroup", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_CGROUP, 0, "socket_bind"],
    ["p_iter", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, 0, "task"],
    ["p_iter_s", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, BPF_F_SLEEPABLE, "task_file"],
    ["p_syscall", P.BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE, ""],
    ["p_xdp", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, 0, ""],
    ["p_xdp_frags", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, BPF_F_XDP_HAS_FRAGS, ""],
    ["p_xdp_devmap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, 0, "devmap"],
    ["p_xdp_frags_cpumap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, BPF_F_XDP_HAS_FRAGS, "cpumap"],
    ["p_perf_event", P.BPF_PROG_TYPE_PERF_EVENT, 0, 0, ""],
    ["p_lwt_in", P.BPF_PROG_TYPE_LWT_IN, 0, 0, ""],
    ["p_lwt_xmit", P.BPF_PROG_TYPE_LWT_XMIT, 0, 0, ""],
    ["p_sockops", P.BPF_PROG_TYPE_SOCK_OPS, A.BPF_CGROUP_SOCK_OPS, 0, ""],
    ["p_sk_skb_parser", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_PARSER, 0, "stream_parser"],
    ["p_sk_skb_verdict", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_VERDICT, 0, "stream_verdict"],
    ["p_sk_skb", P.BPF_PROG_TYPE_SK_SKB, 0, 0, ""],
    ["p_sk_msg", P.BPF_PROG_TYPE_SK_MSG, A.BPF_SK_MSG_VERDICT, 0, ""],
    ["p_lirc", P.BPF_PROG_TYPE_LIRC_MODE2, A.BPF_LIRC_MODE2, 0, ""],
    ["p_flow_dissector", P.BPF_PROG_TYPE_FLOW_DISSECTOR, A.BPF_FLOW_DISSECTOR, 0, ""],
    ["p_tc", P.BPF_PROG_TYPE_SCHED_CLS, 0, 0, ""],
    ["p_tc_ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, 0, "ingress"],
    ["p_tcx_ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, 0, "ingress"],
    ["p_tcx_egress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS, 0, "egress"],
    ["p_netkit_primary", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PRIMARY, 0, "primary"],
    ["p_classifier", P.BPF_PROG_TYPE_SCHED_CLS, 0, 0, ""],
    ["p_action", P.BPF_PROG_TYPE_SCHED_ACT, 0, 0, ""],
    ["p_cgroup_skb_ingress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_INGRESS, 0, "ingress"],
    ["p_cgroup_skb_egress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_EGRESS, 0, "egress"],
    ["p_cgroup_skb", P.BPF_PROG_TYPE_CGROUP_SKB, 0, 0, "skb"],
    ["p_cgroup_sock", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, 0, "sock"],
    ["p_cgroup_sock_release", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_RELEASE, 0, "sock_release"],
    ["p_cgroup_post_bind4", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET4_POST_BIND, 0, "post_bind4"],
    ["p_cgroup_bind4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_BIND, 0, "bind4"],
    ["p_cgroup_connect4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_CONNECT, 0, "connect4"],
    ["p_cgroup_connect6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_CONNECT, 0, "connect6"],
    ["p_cgroup_connect_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_CONNECT, 0, "connect_unix"],
    ["p_cgroup_sendmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP4_SENDMSG, 0, "sendmsg4"],
    ["p_cgroup_recvmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP6_RECVMSG, 0, "recvmsg6"],
    ["p_cgroup_getpeername4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_GETPEERNAME, 0, "getpeername4"],
    ["p_cgroup_getsockname6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_GETSOCKNAME, 0, "getsockname6"],
    ["p_cgroup_sysctl", P.BPF_PROG_TYPE_CGROUP_SYSCTL, A.BPF_CGROUP_SYSCTL, 0, "sysctl"],
    ["p_cgroup_getsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_GETSOCKOPT, 0, "getsockopt"],
    ["p_cgroup_setsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_SETSOCKOPT, 0, "setsockopt"],
    ["p_cgroup_dev", P.BPF_PROG_TYPE_CGROUP_DEVICE, A.BPF_CGROUP_DEVICE, 0, "dev"],
    ["p_struct_ops", P.BPF_PROG_TYPE_STRUCT_OPS, 0, 0, "test_op"],
    ["p_sk_lookup", P.BPF_PROG_TYPE_SK_LOOKUP, A.BPF_SK_LOOKUP, 0, ""],
    ["p_sk_reuseport_migrate", P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, 0, "migrate"],
    ["p_sk_reuseport", P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT, 0, ""],
    ["p_netfilter", P.BPF_PROG_TYPE_NETFILTER, A.BPF_NETFILTER, 0, ""],
    ["p_unknown", P.BPF_PROG_TYPE_UNSPEC, 0, 0, ""],
  ] as const)("%s: type %i, attach type %i, flags %i, target '%s'", (name, type, attach, flags, target) => {
    expect(prog(spec, name)).toMatchObject({ name, type, expectedAttachType: attach, flags, attachTarget: target, autoload: true });
  });

  test("fentry/fexit/lsm/tp_btf/iter/freplace attach by kernel BTF name, others do not", () => {
    const btfAttached = [...spec.programs.values()].filter((p) => p.attachBtf).map((p) => p.name);
    expect(btfAttached).toEqual([
      "p_tp_btf", "p_fentry", "p_fexit", "p_fmod_ret", "p_fentry_s", "p_freplace", "p_lsm", "p_lsm_s", "p_lsm_cgroup", "p_iter", "p_iter_s",
    ]);
  });

  test("SEC(\"?xdp\") is an xdp program that does not load by default", () => {
    expect(prog(spec, "p_xdp_noautoload")).toMatchObject({ sectionName: "xdp", type: P.BPF_PROG_TYPE_XDP, autoload: false });
  });

  test("xdp, sockops, sk_skb/..., cgroup/sock and cgroup/dev may drop their attach type on old kernels", () => {
    const optional = [...spec.programs.values()].filter((p) => p.attachTypeOptional).map((p) => p.name).sort();
    expect(optional).toEqual([
      "p_cgroup_dev", "p_cgroup_skb_egress", "p_cgroup_skb_ingress", "p_cgroup_sock", "p_flow_dissector", "p_lirc", "p_sk_msg",
      "p_sk_skb_parser", "p_sk_skb_verdict", "p_sockops", "p_xdp", "p_xdp_noautoload",
    ]);
  });

  test("license and kernel version travel with every program", () => {
    expect(spec.license).toBe("GPL");
    expect(prog(spec, "p_xdp")).toMatchObject({ license: "GPL", kernelVersion: 0, global: true });
    const legacy = open("legacy_maps.bpf.o");
    expect(legacy.kernelVersion).toBe(0x060c00);
    expect(prog(legacy, "legacy").kernelVersion).toBe(0x060c00);
  });
});

describe("BTF-defined maps (.maps)", () => {
  const spec = open("maps.bpf.o");
  test.each([
    { name: "flows", type: M.BPF_MAP_TYPE_HASH, keySize: 12, valueSize: 8, maxEntries: 1024, flags: BPF_F_NO_PREALLOC },
    { name: "tsbpf_pinned", type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 4, pinning: LIBBPF_PIN_BY_NAME, btfKeyTypeId: 0, btfValueTypeId: 0 },
    { name: "counters", type: M.BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, numaNode: 0 },
    { name: "bloom", type: M.BPF_MAP_TYPE_BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 128, mapExtra: 3n },
    { name: "events", type: M.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 },
    { name: "inner_a", type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 8 },
    { name: "outer_array", type: M.BPF_MAP_TYPE_ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4 },
    { name: "outer_hash", type: M.BPF_MAP_TYPE_HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 16 },
    { name: "jumps", type: M.BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 },
  ])("$name", (want) => {
    expect(map(spec, want.name)).toMatchObject({ source: "btf", sectionName: ".maps", kernelName: want.name, pinning: 0, ...want });
  });

  test("maps come in .maps offset order, then global data", () => {
    expect([...spec.maps.keys()]).toEqual([
      "inner_a", "inner_b", "outer_array", "jumps", "flows", "counters", "tsbpf_pinned", "events", "outer_hash", "bloom", "maps.rodata",
    ]);
  });

  test("key and value BTF types name the declared types", () => {
    const btf = spec.btf;
    const flows = map(spec, "flows");
    expect(btf?.type(flows.btfKeyTypeId)).toMatchObject({ kind: "struct", name: "flow_key" });
    expect(btf?.type(flows.btfValueTypeId)).toMatchObject({ kind: "typedef", name: "__u64" });
  });

  test("map-in-map: inner definitions and initial values", () => {
    expect(map(spec, "outer_array").innerMap).toMatchObject({ name: "outer_array.inner", type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 8 });
    expect(map(spec, "outer_array").initialSlots).toEqual([{ index: 0, target: "inner_a" }, { index: 2, target: "inner_b" }]);
    expect(map(spec, "outer_hash").innerMap).toMatchObject({ name: "outer_hash.inner", type: M.BPF_MAP_TYPE_HASH, keySize: 8, valueSize: 8, maxEntries: 32 });
    expect(map(spec, "outer_hash").initialSlots).toEqual([]);
  });

  test("prog array initial values name programs", () => {
    expect(map(spec, "jumps").initialSlots).toEqual([{ index: 1, target: "tail_a" }]);
  });

  test("several programs in one section, each by its function name", () => {
    expect([...spec.programs.keys()]).toEqual(["tail_a", "use_maps"]);
    expect(prog(spec, "use_maps").relocations.filter((r) => r.kind === "map").map((r) => r.target)).toEqual([
      "flows", "counters", "tsbpf_pinned", "events", "outer_array", "outer_hash", "bloom", "jumps",
    ]);
  });
});

describe("legacy maps section", () => {
  test("struct bpf_map_def instances become map specs", () => {
    const spec = open("legacy_maps.bpf.o");
    expect([...spec.maps.values()].map((m) => [m.name, m.source, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags])).toEqual([
      ["legacy_hash", "legacy", M.BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_PREALLOC],
      ["legacy_array", "legacy", M.BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0],
    ]);
    expect(prog(spec, "legacy").relocations).toEqual([
      { insnIndex: 4, kind: "map", target: "legacy_hash", offset: 0 },
      { insnIndex: 12, kind: "map", target: "legacy_array", offset: 0 },
    ]);
  });
});

describe("global data", () => {
  const spec = open("globals.bpf.o");
  test("one single-entry array per section, named as libbpf names them", () => {
    expect([...spec.maps.values()].map((m) => [m.name, m.kernelName, m.source, m.sectionName, m.valueSize, m.flags, m.freeze])).toEqual([
      ["globals.data", "globals.data", "data", ".data", 8, BPF_F_MMAPABLE, false],
      ["globals.rodata", "globals.rodata", "rodata", ".rodata", 22, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, true],
      [".data.custom", ".data.custom", "data", ".data.custom", 4, BPF_F_MMAPABLE, false],
      [".rodata.custom", ".rodata.custom", "rodata", ".rodata.custom", 4, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, true],
      ["globals.bss", "globals.bss", "bss", ".bss", 528, BPF_F_MMAPABLE, false],
    ]);
    for (const m of spec.maps.values()) expect(m).toMatchObject({ type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, maxEntries: 1 });
  });

  test("initial contents are the section's bytes (zeros for .bss)", () => {
    const le32 = (b: Uint8Array | undefined, off: number): number => new DataView((b ?? new Uint8Array(8)).buffer, (b?.byteOffset ?? 0)).getUint32(off, true);
    expect(le32(map(spec, "globals.data").data, 0)).toBe(7); // counter
    expect(le32(map(spec, "globals.data").data, 4)).toBe(3); // hidden_var
    expect(le32(map(spec, "globals.rodata").data, 0)).toBe(100); // limit
    expect(new TextDecoder().decode(map(spec, "globals.rodata").data?.subarray(4, 9))).toBe("hello");
    expect(le32(map(spec, ".data.custom").data, 0)).toBe(42);
    expect(map(spec, "globals.bss").data?.every((b) => b === 0)).toBe(true);
  });

  test("references become map_value relocations: section symbol plus instruction offset", () => {
    const p = prog(spec, "use_globals");
    expect(p.relocations.map((r) => [r.insnIndex, r.kind, r.target, r.offset])).toEqual([
      [0, "map_value", "globals.rodata", 0], // limit
      [3, "map_value", ".data.custom", 0],
      [7, "map_value", ".rodata.custom", 0],
      [11, "map_value", "globals.data", 4], // hidden_var
      [15, "map_value", "globals.data", 0], // counter
      [19, "map_value", "globals.bss", 8], // private_count (via the section symbol)
      [27, "map_value", "globals.bss", 16], // big_table
      [31, "map_value", "globals.bss", 0], // hits
      [36, "map_value", "globals.rodata", 12], // the bpf_printk format
      [40, "map_value", "globals.rodata", 4], // greeting
    ]);
    for (const r of p.relocations) expect(p.instructions.opcode[r.insnIndex]).toBe(OP_LD_IMM64);
  });

  test("the BTF DATASECs get sizes and offsets from the ELF, hidden globals turn static", () => {
    const btf = spec.btf;
    const data = btf?.find("datasec", ".data");
    expect(data?.size).toBe(8);
    expect(data?.vars.map((v) => [btf?.type(v.type).name, v.offset, v.size])).toEqual([["counter", 0, 4], ["hidden_var", 4, 4]]);
    expect(btf?.find("var", "hidden_var")?.linkage).toBe(BTF_VAR_STATIC);
    expect(btf?.find("var", "counter")?.linkage).toBe(BTF_VAR_GLOBAL_ALLOCATED);
    expect(btf?.find("datasec", ".bss")?.vars.map((v) => v.offset)).toEqual([0, 8, 16]);
    expect(map(spec, "globals.data").btfValueTypeId).toBe(data?.id);
  });
});

describe("subprograms", () => {
  const spec = open("subprogs.bpf.o");
  test("each entry program gets the .text functions it calls, depth first, once", () => {
    expect(prog(spec, "first").functions).toEqual([
      { name: "first", insnIndex: 0, length: 18 }, { name: "loop_cb", insnIndex: 18, length: 8 },
      { name: "leaf", insnIndex: 26, length: 4 }, { name: "middle", insnIndex: 30, length: 8 },
      { name: "global_helper", insnIndex: 38, length: 3 },
    ]);
    expect(prog(spec, "second").functions.map((f) => [f.name, f.insnIndex])).toEqual([["second", 0], ["leaf", 7]]);
    expect(prog(spec, "third").functions.map((f) => [f.name, f.insnIndex])).toEqual([["third", 0], ["global_helper", 7]]);
    expect([...spec.programs.keys()]).toEqual(["first", "second", "third"]);
  });

  test("calls and callback addresses point at the appended copies", () => {
    for (const p of spec.programs.values()) {
      const start = new Map(p.functions.map((f) => [f.name, f.insnIndex]));
      for (const r of p.relocations.filter((x) => x.kind === "subprog" || x.kind === "func_ptr")) {
        const i = r.insnIndex;
        expect(r.offset).toBe(start.get(r.target));
        expect(i + p.instructions.imm[i] + 1).toBe(r.offset);
        if (r.kind === "subprog") expect([p.instructions.opcode[i], p.instructions.src[i]]).toEqual([OP_CALL, BPF_PSEUDO_CALL]);
        else expect([p.instructions.opcode[i], p.instructions.src[i]]).toEqual([OP_LD_IMM64, BPF_PSEUDO_FUNC]);
      }
    }
    const first = prog(spec, "first");
    expect(first.relocations.filter((r) => r.kind === "func_ptr")).toEqual([{ insnIndex: 5, kind: "func_ptr", target: "loop_cb", offset: 18 }]);
  });

  test("func_info and line_info move with the code (kernel units: instruction indices)", () => {
    const first = prog(spec, "first");
    expect(first.funcInfo.map((f) => [f.insnIndex, spec.btf?.type(f.typeId).name])).toEqual(
      first.functions.map((f) => [f.insnIndex, f.name]),
    );
    const src = readFileSync(url("subprogs.bpf.c"), "utf8").split("\n");
    for (const l of first.lineInfo) {
      expect(l.insnIndex).toBeLessThan(first.instructions.length);
      expect(src[l.line - 1]).toBe(l.lineText);
    }
    expect(first.lineInfo.map((l) => l.insnIndex)).toEqual([...first.lineInfo.map((l) => l.insnIndex)].sort((a, b) => a - b));
    expect(first.lineInfo.find((l) => l.insnIndex === 26)?.lineText).toContain("leaf(__u64 x)");
  });
});

describe("externs", () => {
  const spec = open("externs.bpf.o");
  test(".kconfig externs laid out like libbpf: by alignment, size, name", () => {
    expect(spec.kconfig).toEqual({
      mapName: "externs.kconfig", size: 37,
      externs: [
        { name: "CONFIG_NOT_THERE", type: "int", size: 8, align: 8, offset: 0, signed: false, weak: true },
        { name: "CONFIG_BPF_JIT", type: "tristate", size: 4, align: 4, offset: 8, signed: false, weak: false },
        { name: "CONFIG_HZ", type: "int", size: 4, align: 4, offset: 12, signed: true, weak: false },
        { name: "LINUX_KERNEL_VERSION", type: "int", size: 4, align: 4, offset: 16, signed: false, weak: false },
        { name: "CONFIG_BPF_SYSCALL", type: "bool", size: 1, align: 1, offset: 20, signed: false, weak: false },
        { name: "CONFIG_LOCALVERSION", type: "char_array", size: 16, align: 1, offset: 21, signed: false, weak: true },
      ],
    });
    expect(map(spec, "externs.kconfig")).toMatchObject({
      source: "kconfig", type: M.BPF_MAP_TYPE_ARRAY, valueSize: 37, flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, freeze: true,
    });
  });

  test(".ksyms externs are recorded with their types", () => {
    const btf = spec.btf;
    expect(spec.ksyms.map((k) => [k.name, k.kind, k.weak])).toEqual([
      ["bpf_prog_active", "var", false], ["bpf_task_acquire", "func", true], ["bpf_typed_var", "var", false],
    ]);
    expect(spec.ksyms[0].btfTypeId).toBe(0); // typeless
    expect(btf?.type(spec.ksyms[1].btfTypeId)).toMatchObject({ kind: "func", name: "bpf_task_acquire" });
    expect(btf?.type(spec.ksyms[2].btfTypeId)).toMatchObject({ kind: "int", name: "int" });
  });

  test("relocations name the extern; kconfig ones carry the offset", () => {
    expect(prog(spec, "externs").relocations.filter((r) => r.kind !== "map_value").map((r) => [r.insnIndex, r.kind, r.target, r.offset])).toEqual([
      [2, "ksym", "bpf_typed_var", 0], [5, "ksym", "bpf_prog_active", 0], [8, "kconfig", "CONFIG_NOT_THERE", 0],
      [12, "kconfig", "LINUX_KERNEL_VERSION", 16], [16, "kconfig", "CONFIG_BPF_SYSCALL", 20], [20, "kconfig", "CONFIG_BPF_JIT", 8],
      [24, "kconfig", "CONFIG_HZ", 12], [30, "kconfig", "CONFIG_LOCALVERSION", 21], [36, "ksym", "bpf_task_acquire", 0],
      [40, "ksym", "bpf_task_acquire", 0],
    ]);
  });

  test("BTF: .kconfig and .ksyms DATASECs filled in, kfunc replaced by dummy_ksym", () => {
    const btf = spec.btf;
    const kc = btf?.find("datasec", ".kconfig");
    expect(kc?.size).toBe(37);
    expect(kc?.vars.map((v) => [btf?.type(v.type).name, v.offset])).toEqual([
      ["CONFIG_NOT_THERE", 0], ["CONFIG_BPF_JIT", 8], ["CONFIG_HZ", 12], ["LINUX_KERNEL_VERSION", 16], ["CONFIG_BPF_SYSCALL", 20], ["CONFIG_LOCALVERSION", 21],
    ]);
    const ks = btf?.find("datasec", ".ksyms");
    expect(ks?.vars.map((v) => [btf?.type(v.type).name, v.offset, v.size])).toEqual([["dummy_ksym", 0, 4], ["bpf_prog_active", 4, 4], ["bpf_typed_var", 8, 4]]);
    expect(btf?.find("var", "bpf_prog_active")).toMatchObject({ linkage: BTF_VAR_GLOBAL_ALLOCATED, type: btf?.find("int", "int")?.id });
  });
});

describe("struct_ops", () => {
  test(".struct_ops and .struct_ops.link variables become struct_ops maps pointing at programs", () => {
    const spec = open("struct_ops.bpf.o");
    expect(map(spec, "my_ops")).toMatchObject({
      source: "struct_ops", type: M.BPF_MAP_TYPE_STRUCT_OPS, keySize: 4, valueSize: 32, maxEntries: 1, flags: 0,
      structOps: { typeName: "tsbpf_ops", programs: [{ member: "init", memberIndex: 0, program: "ops_init" }, { member: "handle", memberIndex: 1, program: "ops_handle" }] },
    });
    expect(map(spec, "my_linked_ops")).toMatchObject({ flags: BPF_F_LINK, structOps: { programs: [{ member: "handle", program: "ops_handle" }] } });
    expect(new DataView(map(spec, "my_ops").data?.buffer ?? new ArrayBuffer(32), map(spec, "my_ops").data?.byteOffset).getInt32(16, true)).toBe(7);
    expect(prog(spec, "ops_handle")).toMatchObject({ type: P.BPF_PROG_TYPE_STRUCT_OPS, flags: BPF_F_SLEEPABLE });
  });
});

describe("the spec is pure, deterministic and mutable", () => {
  test.each(["maps.bpf.o", "subprogs.bpf.o", "externs.bpf.o", "core.bpf.o", "bench/04_hash_map.bpf.o"])("%s: same bytes give a deep-equal spec", (name) => {
    expect(open(name)).toEqual(open(name));
  });

  test("fromBytes names the object after its source file; fromFile after the path", async () => {
    expect(ObjectSpec.fromBytes(bytes("globals.bpf.o")).name).toBe("globals");
    expect(ObjectSpec.fromBytes(bytes("globals.bpf.o"), { name: "other" }).maps.has("other.rodata")).toBe(true);
    expect((await objectSpecFromFile(url("globals.bpf.o").pathname)).name).toBe("globals");
  });

  test("changes before load stay in the copy they were made in", () => {
    const spec = open("maps.bpf.o");
    const copy = spec.copy();
    copy.map("flows").maxEntries = 4096;
    copy.program("use_maps").instructions.imm[0] = 99;
    copy.programs.delete("tail_a");
    expect(spec.map("flows").maxEntries).toBe(1024);
    expect(spec.program("use_maps").instructions.imm[0]).not.toBe(99);
    expect(spec.programs.has("tail_a")).toBe(true);
    expect(copy.map("flows").maxEntries).toBe(4096);
  });

  test("the spec does not share memory with the input bytes", () => {
    const b = bytes("globals.bpf.o");
    const spec = ObjectSpec.fromBytes(b);
    const before = spec.map("globals.data").data?.slice();
    b.fill(0);
    expect(spec.map("globals.data").data).toEqual(before);
  });

  test("missing programs and maps are LoadErrors", () => {
    const spec = open("maps.bpf.o");
    expect(() => spec.program("nope")).toThrow(LoadError);
    expect(() => spec.map("nope")).toThrow(LoadError);
  });
});

describe("benchmark objects", () => {
  test.each([
    { file: "00_empty", prog: "bench_empty", insns: 2, maps: [] },
    { file: "01_alu_lcg", prog: "bench_alu_lcg", insns: 25, maps: [] },
    { file: "02_xdp_csum", prog: "bench_xdp_csum", insns: 26, maps: [] },
    { file: "03_xdp_parse_udp", prog: "bench_xdp_parse_udp", insns: 55, maps: [["verdict_cnt", M.BPF_MAP_TYPE_ARRAY, 4, 8, 5, 0]] },
    { file: "04_hash_map", prog: "bench_hash_map", insns: 168, maps: [["flows", M.BPF_MAP_TYPE_HASH, 16, 16, 1024, 0]] },
    { file: "05_lpm_trie", prog: "bench_lpm_trie", insns: 41, maps: [["routes", M.BPF_MAP_TYPE_LPM_TRIE, 8, 4, 256, BPF_F_NO_PREALLOC]] },
    { file: "06_bpf2bpf_call", prog: "bench_bpf2bpf_call", insns: 38, maps: [] },
    { file: "07_stack_memops", prog: "bench_stack_memops", insns: 63, maps: [] },
    { file: "08_ringbuf_ktime", prog: "bench_ringbuf_ktime", insns: 63, maps: [["events", M.BPF_MAP_TYPE_RINGBUF, 0, 0, 32 << 20, 0]] },
  ])("$file: one xdp program $prog of $insns instructions", ({ file, prog: name, insns, maps }) => {
    const spec = open(`bench/${file}.bpf.o`);
    expect([...spec.programs.keys()]).toEqual([name]);
    expect(spec.program(name)).toMatchObject({ type: P.BPF_PROG_TYPE_XDP, expectedAttachType: A.BPF_XDP, license: "Dual MIT/GPL" });
    expect(spec.program(name).instructions.length).toBe(insns);
    expect([...spec.maps.values()].map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags])).toEqual(maps);
  });

  test("06_bpf2bpf_call: mix_step is appended and the call points at it", () => {
    const p = open("bench/06_bpf2bpf_call.bpf.o").program("bench_bpf2bpf_call");
    expect(p.functions).toEqual([{ name: "bench_bpf2bpf_call", insnIndex: 0, length: 16 }, { name: "mix_step", insnIndex: 16, length: 22 }]);
    expect(p.relocations).toEqual([{ insnIndex: 8, kind: "subprog", target: "mix_step", offset: 16 }]);
    expect(8 + p.instructions.imm[8] + 1).toBe(16);
  });
});

describe("objects libbpf would refuse are LoadErrors (or ElfError/BtfError for broken files)", () => {
  const withSymbol = (file: string, symName: string, edit: (v: DataView, symOff: number) => void): Uint8Array => {
    const b = bytes(file);
    const v = new DataView(b.buffer);
    const shoff = Number(v.getBigUint64(40, true));
    const shnum = v.getUint16(60, true);
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * 64;
      if (v.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
      const off = Number(v.getBigUint64(sh + 24, true));
      const size = Number(v.getBigUint64(sh + 32, true));
      const strOff = Number(v.getBigUint64(shoff + v.getUint32(sh + 40, true) * 64 + 24, true));
      for (let s = off; s < off + size; s += 24) {
        const n = v.getUint32(s, true);
        const name = new TextDecoder().decode(b.subarray(strOff + n, b.indexOf(0, strOff + n)));
        if (name === symName) edit(v, s);
      }
    }
    return b;
  };

  test.each([
    {
      what: "a static function in a program section",
      bytes: () => withSymbol("sections.bpf.o", "p_xdp", (v, s) => v.setUint8(s + 4, (0 << 4) | 2)),
      error: LoadError, message: /program 'p_xdp' is static and not supported/,
    },
    {
      what: "a program crossing its section's end",
      bytes: () => withSymbol("sections.bpf.o", "p_xdp", (v, s) => v.setBigUint64(s + 16, 4096n, true)),
      error: LoadError, message: /crosses section boundary/,
    },
    {
      what: "a program size that is not whole instructions",
      bytes: () => withSymbol("sections.bpf.o", "p_socket", (v, s) => v.setBigUint64(s + 16, 12n, true)),
      error: LoadError, message: /corrupted program 'p_socket'/,
    },
    {
      what: "a map variable placed past the end of .maps",
      bytes: () => withSymbol("maps.bpf.o", "flows", (v, s) => v.setBigUint64(s + 8, 4096n, true)),
      error: LoadError, message: /map 'flows' BTF data is corrupted/,
    },
    {
      what: "not a BPF object",
      bytes: () => {
        const b = bytes("maps.bpf.o");
        new DataView(b.buffer).setUint16(18, 62, true);
        return b;
      },
      error: ElfError, message: /not a BPF relocatable object/,
    },
    {
      what: "broken BTF",
      bytes: () => {
        const b = bytes("maps.bpf.o");
        const text = new TextDecoder("latin1").decode(b);
        // The .BTF magic is the first 0xeb9f in the file after the ELF header.
        const at = text.indexOf("\u009f\u00eb", 64);
        b[at + 2] = 7;
        return b;
      },
      error: BtfError, message: /version 7/,
    },
  ])("$what", ({ bytes: make, error, message }) => {
    let thrown: unknown;
    try {
      ObjectSpec.fromBytes(make());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as Error).message).toMatch(message);
  });
});
