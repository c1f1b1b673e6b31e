import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { u32 as u32c, u64 as u64c } from "../../src/api/codecs.js";
import { encodeBtf } from "../../src/btf/encode.js";
import { sanitizeBtf } from "../../src/btf/sanitize.js";
import { LoadError, MapError, VerifierError } from "../../src/errors.js";
import { linuxBackend } from "../../src/linux/backend.js";
import { MapType } from "../../src/linux/constants.js";
import { kernelVersionCode, trampolineUnavailableReason } from "../../src/linux/features.js";
import { possibleCpus } from "../../src/linux/fs.js";
import { BtfKind, vmlinuxBtf } from "../../src/linux/kernel-btf.js";
import { LinuxBtf } from "../../src/linux/btf-object.js";
import { kernelBtfFeatures } from "../../src/linux/load/btf.js";
import { kernelConfig } from "../../src/linux/load/kconfig.js";
import { kernelSymbols } from "../../src/linux/load/ksyms.js";
import { ringbufSize } from "../../src/linux/load/maps.js";
import { ProgramLoadError } from "../../src/linux/load/programs.js";
import { LinuxMap, MapIncompatibleError } from "../../src/linux/map.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { describeKernel, testFeature } from "../helpers/kernel.js";

const fixture = (name: string): ObjectSpec =>
  ObjectSpec.fromBytes(readFileSync(new URL(`../fixtures/linux/${name}.bpf.o`, import.meta.url)), { name });
const benchObject = (file: string): ObjectSpec => {
  const name = file.replace(/\.bpf\.o$/, "").replace(/^\d+_/, "").slice(0, 15);
  return ObjectSpec.fromBytes(readFileSync(new URL(`../fixtures/bench/${file}`, import.meta.url)), { name });
};
const benchInput = (file: string): Buffer => readFileSync(new URL(`../fixtures/bench/inputs/${file}`, import.meta.url));
const fdCount = (): number => readdirSync("/proc/self/fd").length;
const le32 = (v: number): Uint8Array => u32c.encode(v);
const backend = linuxBackend();
const pinRoot = `/sys/fs/bpf/tsbpf-loader-${process.pid}`;

/** The manifest row of each benchmark (bench.tsv): object, program, input, expected r0, setup. */
function benchRows(): Array<{ name: string; object: string; program: string; input: string; expected: number; setup: string }> {
  return readFileSync(new URL("../fixtures/bench/bench.tsv", import.meta.url), "utf8")
    .split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
      const [name, object, program, input, expected, , setup] = l.split("\t");
      return { name, object: object.replace("build/", ""), program, input: input.replace("inputs/", ""), expected: Number(expected), setup };
    });
}

/** lpm_routes.txt into the trie: key { u32 prefixlen; u8 addr[4] } in network order, value u32. */
function fillLpm(coll: ReturnType<typeof backend.load>, map: string): void {
  const m = coll.map(map);
  for (const line of benchInput("lpm_routes.txt").toString().split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const [cidr, id] = t.split(/\s+/);
    const [addr, len] = cidr.split("/");
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, Number(len), true);
    key.set(addr.split(".").map(Number), 4);
    m.update(key, le32(Number(id)));
  }
}

describeKernel("linux loader: the benchmark objects run with their expected return values", () => {
  for (const row of benchRows()) {
    test(`${row.name}: ${row.program} returns ${row.expected}`, () => {
      using coll = backend.load(benchObject(row.object));
      if (row.setup.startsWith("lpm:")) fillLpm(coll, row.setup.split(":")[1]);
      const data = benchInput(row.input);
      // A few runs: hash_map returns 0 on its first run and 4 once its keys exist.
      const r = coll.program(row.program).run({ data, repeat: 10 });
      expect(r.retval).toBe(row.expected);
      expect(r.durationNs).toBeGreaterThan(0);
      expect(r.dataSizeOut).toBe(data.length);
      expect(Buffer.from(r.dataOut!)).toEqual(data);
    });
  }

  test("xdp_parse_udp: verdict_cnt[1] counts every run (map contents after N runs)", () => {
    using coll = backend.load(benchObject("03_xdp_parse_udp.bpf.o"));
    coll.program("bench_xdp_parse_udp").run({ data: benchInput("pkt_udp_memcached.bin"), repeat: 100 });
    expect(coll.map("verdict_cnt").typed(u32c, u64c).get(1)).toBe(100n);
  });

  test("an explicit dataOutSize smaller than the packet: dataOut holds what fit, dataSizeOut the whole size", () => {
    using coll = backend.load(benchObject("00_empty.bpf.o"));
    const data = benchInput("pkt_udp64.bin");
    const r = coll.program("bench_empty").run({ data, dataOutSize: 16 });
    expect(r.retval).toBe(2);
    expect(r.dataSizeOut).toBe(64);
    expect(Buffer.from(r.dataOut!)).toEqual(data.subarray(0, 16));
  });
});

describeKernel("linux loader: global data, kconfig, ksyms", () => {
  test("global data maps start with the object's values; programs write back; .rodata is frozen", () => {
    using coll = backend.load(fixture("loader"), { programs: ["globals"] });
    const g = coll.program("globals");
    expect(g.run({ data: new Uint8Array(64) }).retval).toBe(2);
    expect(g.run({ data: new Uint8Array(64) }).retval).toBe(2);
    const zero = le32(0);
    expect(u64c.decode(coll.map("loader.data").lookup(zero)!)).toBe(44n);
    expect(u32c.decode(coll.map(".data.custom").lookup(zero)!)).toBe(20);
    const bss = coll.map("loader.bss");
    expect(bss.info.flags & 0x400 /* BPF_F_MMAPABLE */).toBe(0x400);
    const view = bss.mmap!();
    expect(new DataView(view.buffer, view.byteOffset).getBigUint64(0, true)).toBe(44n);
    const ro = coll.map("loader.rodata");
    expect(ro.info.frozen).toBe(true);
    expect(() => ro.update(zero, le32(9))).toThrow(MapError);
    expect(u32c.decode(ro.mmap!())).toBe(2);
  });

  test("kconfig and ksym externs get the running kernel's values", () => {
    using coll = backend.load(fixture("loader"), { programs: ["externs"] });
    expect(coll.program("externs").run({ data: new Uint8Array(64) }).retval).toBe(2);
    const results = coll.map("loader.bss").lookup(le32(0))!;
    const r = (i: number): bigint => new DataView(results.buffer, results.byteOffset).getBigUint64(i * 8, true);
    const config = kernelConfig() ?? "";
    const hz = /^CONFIG_HZ=(\d+)$/m.exec(config)?.[1];
    expect(r(1)).toBe(BigInt(kernelVersionCode()));
    expect(r(2)).toBe(BigInt(hz ?? 0));
    expect(r(3)).toBe(/^CONFIG_BPF_SYSCALL=y$/m.test(config) ? 1n : 0n);
    expect(r(4)).toBe(/^CONFIG_BPF_JIT=y$/m.test(config) ? 1n : /^CONFIG_BPF_JIT=m$/m.test(config) ? 2n : 0n);
    expect(r(5)).toBe(0n); // __weak, not in the config
    expect(r(6)).toBe(kernelSymbols().get("bpf_prog_test_run_xdp"));
    expect(r(8)).toBe(1n); // bpf_task_from_pid + bpf_task_release (kfuncs by BTF id)
    expect(r(9)).toBe(2n); // the missing weak kfunc's address is 0; its call was dead code
    const kc = coll.map("loader.kconfig");
    expect(kc.info.frozen).toBe(true);
  });

  testFeature("a typed ksym (per-CPU variable) resolves to its BTF VAR",
    () => (kernelSymbols().has("bpf_prog_active") ? null : "the kernel finds a typed ksym's address in kallsyms: needs CONFIG_KALLSYMS_ALL"),
    () => {
      using coll = backend.load(fixture("loader"), { programs: ["typed_ksym"] });
      coll.program("typed_ksym").run({ data: new Uint8Array(64) });
      const results = coll.map("loader.bss").lookup(le32(0))!;
      expect(new DataView(results.buffer, results.byteOffset).getBigUint64(7 * 8, true)).toBe(1n);
    });

  test("without CONFIG_KALLSYMS_ALL the kernel refuses a typed ksym, and the error says so", () => {
    if (kernelSymbols().has("bpf_prog_active")) return;
    expect(() => backend.load(fixture("loader"), { programs: ["typed_ksym"] })).toThrow(/load program typed_ksym: .*bpf_prog_active/);
  });

  test("ring buffers are rounded up to a power-of-two number of pages; perf event arrays get one slot per CPU", () => {
    expect(ringbufSize(5000, 4096)).toBe(8192);
    expect(ringbufSize(4096, 4096)).toBe(4096);
    expect(ringbufSize(1, 4096)).toBe(4096);
    expect(ringbufSize(3 * 4096 + 1, 4096)).toBe(16384);
    using coll = backend.load(fixture("loader"), { programs: [] });
    expect(coll.map("rb").info).toMatchObject({ type: "ringbuf", maxEntries: ringbufSize(5000) });
    expect(coll.map("perf").info).toMatchObject({ type: "perf_event_array", maxEntries: possibleCpus() });
    expect(coll.programs.size).toBe(0);
  });

  test("CO-RE: offsets of task_struct fields come from the running kernel's BTF", () => {
    using coll = backend.load(fixture("core"));
    const p = coll.program("core_task");
    expect(p.run({ ctx: new Uint8Array(16) }).retval).toBe(0);
    const bss = coll.map("core.bss").lookup(le32(0))!;
    const dv = new DataView(bss.buffer, bss.byteOffset);
    expect(dv.getBigUint64(0, true)).toBe(BigInt(process.pid));
    expect(dv.getBigUint64(8, true)).toBe(16n);
    const comm = Buffer.from(bss.subarray(16, 32)).toString().replace(/\0.*$/s, "");
    expect(comm).toBe(readFileSync("/proc/self/comm", "utf8").trim());
    // The guarded relocation did not resolve: its branch was dead code.
    expect(u64c.decode(coll.map("core.data").lookup(le32(0))!)).toBe(0n);
  });
});

describeKernel("linux loader: a CO-RE relocation that does not resolve", () => {
  test("its instruction, when reachable, fails the load with an explanation", () => {
    let err: unknown;
    try {
      backend.load(fixture("core"), { programs: ["core_unguarded"] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProgramLoadError);
    expect((err as Error).message).toMatch(
      /^load program core_unguarded: invalid func unknown#195896080 \(a CO-RE relocation failed to resolve against kernel BTF and its instruction is reachable: insn \d+\) \(insn \d+, core\.bpf\.c:\d+\)$/,
    );
  });
});

describeKernel("linux loader: initial slots", () => {
  test("prog array slots are filled after the programs load; a slot of a program not loaded stays empty", () => {
    using coll = backend.load(fixture("slots"));
    expect(coll.program("entry").run({ data: new Uint8Array(64) }).retval).toBe(42);
    expect(coll.programs.has("tail_off")).toBe(false);
    const spec = fixture("slots");
    spec.map("slots.rodata").data = le32(2);
    using c2 = backend.load(spec);
    expect(c2.program("entry").run({ data: new Uint8Array(64) }).retval).toBe(7);
    using c3 = backend.load(spec, { programs: ["entry", "tail_42", "tail_off", "through_outer"] });
    expect(c3.program("entry").run({ data: new Uint8Array(64) }).retval).toBe(43);
  });

  test("array-of-maps slots point at the object's own maps", () => {
    using coll = backend.load(fixture("slots"));
    coll.map("inner_a").typed(u32c, u32c).set(0, 1234);
    expect(coll.program("through_outer").run({ data: new Uint8Array(64) }).retval).toBe(1234);
    // The inner template was only a template: the outer map's slot 1 is empty.
    expect(coll.map("outer").lookup(le32(1))).toBeUndefined();
  });
});

describeKernel("linux loader: pinning, replacement, failures", () => {
  beforeAll(() => mkdirSync(pinRoot, { recursive: true }));
  afterAll(() => rmSync(pinRoot, { recursive: true, force: true }));

  test("a map pinned by name is created and pinned under pinPath, then reused by the next load", () => {
    const dir = `${pinRoot}/reuse`;
    {
      using coll = backend.load(fixture("pinned"), { pinPath: dir });
      for (let i = 0; i < 3; i++) coll.program("count_runs").run({ data: new Uint8Array(64) });
    }
    expect(existsSync(`${dir}/runs`)).toBe(true);
    using again = backend.load(fixture("pinned"), { pinPath: dir });
    const runs = again.map("runs").typed(u32c, u64c);
    expect(runs.get(0)).toBe(3n);
    again.program("count_runs").run({ data: new Uint8Array(64) });
    expect(runs.get(0)).toBe(4n);
  });

  test("an incompatible pin fails the load with MapIncompatibleError naming the differences; nothing leaks", () => {
    const dir = `${pinRoot}/incompatible`;
    mkdirSync(dir, { recursive: true });
    using other = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 2 });
    other.pin(`${dir}/runs`);
    const before = fdCount();
    let err: unknown;
    try {
      backend.load(fixture("pinned"), { pinPath: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapIncompatibleError);
    expect((err as Error).message).toMatch(/type hash != array.*value_size 4 != 8.*max_entries 2 != 1/);
    expect(fdCount()).toBe(before);
    expect(existsSync(`${dir}/runs`)).toBe(true);
  });

  test("a program the verifier refuses: LoadError naming it, the log, insn and source line; no fd and no new pin left", () => {
    const dir = `${pinRoot}/refused`;
    const before = fdCount();
    let err: unknown;
    try {
      backend.load(fixture("refused"), { pinPath: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProgramLoadError);
    expect(err).toBeInstanceOf(LoadError);
    const e = err as ProgramLoadError;
    expect(e.message).toBe("load program no_null_check: R0 invalid mem access 'map_value_or_null' (insn 7, refused.bpf.c:32)");
    expect(e.program).toBe("no_null_check");
    expect(e.log).toMatch(/R0 invalid mem access 'map_value_or_null'/);
    expect(e.log).toMatch(/@ refused\.bpf\.c:32/);
    expect(e.insnIndex).toBe(7);
    expect(e.cause).toBeInstanceOf(VerifierError);
    expect((e.cause as VerifierError).log).toBe(e.log);
    expect(fdCount()).toBe(before);
    expect(existsSync(`${dir}/refused_map`)).toBe(false);
    // The other program alone loads.
    using ok = backend.load(fixture("refused"), { pinPath: dir, programs: ["fine"] });
    expect(ok.program("fine").run({ data: new Uint8Array(64) }).retval).toBe(2);
    expect(existsSync(`${dir}/refused_map`)).toBe(true);
  });

  test("replaceMaps: two collections share one map", () => {
    using a = backend.load(fixture("pinned"), { pinPath: `${pinRoot}/replace-a` });
    using b = backend.load(fixture("pinned"), { pinPath: `${pinRoot}/replace-b`, replaceMaps: { runs: a.map("runs") } });
    b.program("count_runs").run({ data: new Uint8Array(64), repeat: 5 });
    expect(a.map("runs").typed(u32c, u64c).get(0)).toBe(5n);
    expect(a.map("runs").info.id).toBe(b.map("runs").info.id);
    expect(existsSync(`${pinRoot}/replace-b/runs`)).toBe(false);
  });

  test("logLevel 1 keeps the verifier log of a successful load", () => {
    using coll = backend.load(fixture("pinned"), { pinPath: `${pinRoot}/log`, logLevel: 1 });
    expect(coll.program("count_runs").verifierLog).toMatch(/processed \d+ insns/);
  });

  test("unknown program names and maps are LoadErrors that list what exists", () => {
    expect(() => backend.load(fixture("pinned"), { programs: ["nope"] })).toThrow(/has no program 'nope' \(programs: count_runs\)/);
    using coll = backend.load(fixture("pinned"), { pinPath: `${pinRoot}/names` });
    expect(() => coll.program("x")).toThrow(LoadError);
    expect(() => coll.map("x")).toThrow(/no map 'x' \(maps: runs\)/);
  });

  test("disposing a collection closes its programs and maps", () => {
    const before = fdCount();
    const coll = backend.load(fixture("slots"));
    expect(fdCount()).toBeGreaterThan(before);
    coll[Symbol.dispose]();
    expect(fdCount()).toBe(before);
  });
});

describeKernel("linux loader: program types and attach BTF ids", () => {
  const sections = (): ObjectSpec =>
    ObjectSpec.fromBytes(readFileSync(new URL("../fixtures/object/sections.bpf.o", import.meta.url)), { name: "sections" });

  test("section names give the program type; tp_btf gets the id of btf_trace_<tp>", () => {
    using coll = backend.load(sections(), { programs: ["p_socket", "p_tracepoint", "p_raw_tp", "p_tp_btf", "p_xdp", "p_kprobe", "p_syscall"] });
    expect(Object.fromEntries([...coll.programs].map(([n, p]) => [n, p.info.type]))).toEqual({
      p_socket: "socket_filter", p_tracepoint: "tracepoint", p_raw_tp: "raw_tracepoint", p_tp_btf: "tracing",
      p_xdp: "xdp", p_kprobe: "kprobe", p_syscall: "syscall",
    });
    expect(coll.program("p_tp_btf").kernel.info().attachBtfId).toBe(vmlinuxBtf().find("btf_trace_sched_switch", BtfKind.TYPEDEF));
  });

  testFeature("fentry programs load against their kernel function", () => trampolineUnavailableReason("fentry"), () => {
    using coll = backend.load(sections(), { programs: ["p_fentry"] });
    expect(coll.program("p_fentry").kernel.info().attachBtfId).toBe(vmlinuxBtf().find("do_unlinkat", BtfKind.FUNC));
  });

  testFeature("lsm programs load against bpf_lsm_<hook>", () => trampolineUnavailableReason("lsm"), () => {
    using coll = backend.load(sections(), { programs: ["p_lsm"] });
    expect(coll.program("p_lsm").kernel.info().attachBtfId).toBe(vmlinuxBtf().find("bpf_lsm_file_open", BtfKind.FUNC));
  });

  test("where the kernel refuses trampolines (lockdown) an fentry load fails naming the program and the errno", () => {
    if (trampolineUnavailableReason("fentry") === null) return;
    expect(() => backend.load(sections(), { programs: ["p_fentry"] })).toThrow(/^load program p_fentry: BPF_PROG_LOAD failed with E/);
  });

  test("struct_ops objects are refused with NotSupportedError", () => {
    const spec = ObjectSpec.fromBytes(readFileSync(new URL("../fixtures/object/struct_ops.bpf.o", import.meta.url)), { name: "struct_ops" });
    expect(() => backend.load(spec)).toThrow(/not supported: struct_ops map/);
  });
});

describeKernel("linux loader: BTF for the kernel, externs that do not resolve", () => {
  test("this kernel's BTF loader knows every kind (probed like libbpf's probe_kern_btf_*)", () => {
    expect(kernelBtfFeatures()).toEqual({ btf: true, func: true, funcGlobal: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true });
  });

  test.each(["btf_kinds", "globals", "core", "subprogs", "maps", "externs"])(
    "%s: BTF sanitized for an old kernel (no datasec, float, tags, enum64, global funcs) is still accepted",
    (name) => {
      const spec = ObjectSpec.fromBytes(readFileSync(new URL(`../fixtures/object/${name}.bpf.o`, import.meta.url)), { name });
      const old = sanitizeBtf(spec.btf!, { func: true, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false });
      using btf = LinuxBtf.load(encodeBtf(old));
      expect(btf.id).toBeGreaterThan(0);
      // (No FUNC at all means a pre-4.20 kernel: its FUNC_PROTO -> ENUM stand-in keeps nameless
      // parameters as nameless enum values, which only such old kernels accept.)
    },
  );

  test("a strong kconfig extern the kernel's config lacks fails the load, naming it", () => {
    const spec = fixture("loader");
    spec.kconfig!.externs.find((e) => e.name === "CONFIG_TSBPF_NOT_THERE")!.weak = false;
    expect(() => backend.load(spec)).toThrow(/^resolve \.kconfig externs: extern CONFIG_TSBPF_NOT_THERE \(strong\) not resolved$/);
  });

  test("a strong kfunc the kernel lacks fails the load, naming it", () => {
    const spec = fixture("loader");
    spec.ksyms.find((e) => e.name === "bpf_tsbpf_missing_kfunc")!.weak = false;
    expect(() => backend.load(spec)).toThrow("resolve extern (ksym) 'bpf_tsbpf_missing_kfunc': not found in kernel BTF (kfunc)");
  });
});

describe("linux loader: pure helpers", () => {
  test("the kernel config is read from /boot/config-$(uname -r) or /proc/config.gz", () => {
    const c = kernelConfig();
    if (c !== null) expect(c).toMatch(/^CONFIG_/m);
  });
});
