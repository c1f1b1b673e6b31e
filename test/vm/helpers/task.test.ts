import { readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R6, R9 } from "../../../src/isa/builder.js";
import { realHost } from "../../../src/vm/host.js";
import { helperRuntime } from "../../../src/vm/helpers/runtime.js";
import { BPF_MAP_TYPE } from "../../../src/vm/maps/uapi.js";
import { describeKernel } from "../../helpers/kernel.js";
import { FixedHost, Harness, type Prog, ldMap, ldMapValue } from "./harness.js";
import { kernelLoad, kernelMap, kernelRunRawTp, pinCpu } from "./kdiff.js";
import { words } from "./mapops.js";

const T = BPF_MAP_TYPE;

/**
 * Calls each id helper and records r0: pid_tgid, uid_gid, smp_processor_id,
 * numa_node_id, current_cgroup_id, ancestor(0), ancestor(1), ancestor(-1),
 * comm (16 bytes, as two words, with its r0), comm into 4 bytes (one word),
 * ns_current_pid_tgid (r0 and the pid/tgid word) for (dev, ino), and the same
 * with a wrong size.
 */
function idsProg(dev: number, ino: number): Prog {
  const b = new ProgramBuilder();
  let slot = 0;
  const rec = (r = R0): void => {
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8 * slot++, r);
  };
  for (const fn of ["bpf_get_current_pid_tgid", "bpf_get_current_uid_gid", "bpf_get_smp_processor_id", "bpf_get_numa_node_id", "bpf_get_current_cgroup_id"]) {
    b.call(fn);
    rec();
  }
  for (const level of [0, 1, -1]) {
    b.mov(R1, level).call("bpf_get_current_ancestor_cgroup_id");
    rec();
  }
  b.st(8, FP, -16, -1).st(8, FP, -8, -1).mov(R1, FP).add(R1, -16).mov(R2, 16).call("bpf_get_current_comm");
  rec();
  b.ldx(8, R1, FP, -16);
  rec(R1);
  b.ldx(8, R1, FP, -8);
  rec(R1);
  b.st(8, FP, -16, -1).mov(R1, FP).add(R1, -16).mov(R2, 4).call("bpf_get_current_comm");
  rec();
  b.ldx(8, R1, FP, -16);
  rec(R1);
  for (const size of [8, 12]) {
    b.st(8, FP, -24, -1).st(8, FP, -16, -1).ldImm64(R1, BigInt(dev)).ldImm64(R2, BigInt(ino)).mov(R3, FP).add(R3, -24).mov(R4, size).call("bpf_get_ns_current_pid_tgid");
    rec();
    b.ldx(8, R1, FP, -24);
    rec(R1);
  }
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}
const ID_SLOTS = 18;

function runIds(h: Harness, prog: Prog, cpu = 0): bigint[] {
  const rec = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 8 * ID_SLOTS, maxEntries: 1 });
  h.run(h.load(prog, { maps: [rec] }), { cpu });
  return words(rec.lookup(new Uint8Array(4))!, ID_SLOTS);
}

const comm8 = (s: string): bigint => {
  const b = new Uint8Array(8);
  b.set(new TextEncoder().encode(s).subarray(0, 8));
  return new DataView(b.buffer).getBigInt64(0, true);
};

describe("task and id helpers on the vm", () => {
  test("the host's task, CPU, cgroups and pid namespace", () => {
    const host = new FixedHost();
    host.cgroupIds = [1n, 4242n, 777n];
    const h = new Harness(host);
    const r = runIds(h, idsProg(0, 0xeffffffc), 1);
    expect(r.slice(0, 8)).toEqual([(4240n << 32n) | 4242n, (100n << 32n) | 1000n, 1n, 0n, 777n, 1n, 4242n, 0n]);
    // comm "vmtest": NUL-padded to 16; into 4 bytes: "vmt\0" and the rest untouched.
    expect(r.slice(8, 13)).toEqual([0n, comm8("vmtest"), 0n, 0n, BigInt.asIntN(64, 0xffffffff00746d76n)]);
    expect(r.slice(13)).toEqual([0n, (4240n << 32n) | 4242n, -22n, 0n, 0n].slice(0, 5));
  });

  test("the pseudo task_struct: a stable, read-only, zeroed object", () => {
    const h = new Harness();
    const b = new ProgramBuilder().call("bpf_get_current_task").ldx(8, R1, R0, 64).jeq(R1, 0, "ok").mov(R0, 0).label("ok").exit();
    const p = h.load({ insns: b.build().instructions });
    expect(Number(h.run(p))).toBe(helperRuntime(h).taskAddr);
    const w = new ProgramBuilder().call("bpf_get_current_task_btf").st(8, R0, 0, 1).exit();
    expect(() => h.run(h.load({ insns: w.build().instructions }))).toThrow(/read-only/);
  });

  test("func ip and attach cookie come from the run", () => {
    const h = new Harness();
    const b = new ProgramBuilder().mov(R1, 0).call("bpf_get_attach_cookie").exit();
    expect(h.run(h.load({ insns: b.build().instructions }), { cookie: 0x1234_5678_9abc_def0n })).toBe(0x1234_5678_9abc_def0n);
    const c = new ProgramBuilder().call("bpf_get_func_ip").exit();
    expect(h.run(h.load({ insns: c.build().instructions }), { funcIp: 0xffff00 })).toBe(0xffff00n);
  });

  test("task storage: created on demand for the current task, deleted, NULL for no task", () => {
    const h = new Harness();
    const ts = h.createMap({ mapType: T.TASK_STORAGE, keySize: 4, valueSize: 8, maxEntries: 0, mapFlags: 1, btfKeyTypeId: 1, btfValueTypeId: 2 });
    const b = new ProgramBuilder().call("bpf_get_current_task_btf").mov(R6, R0);
    const rec = (slot: number): void => {
      ldMapValue(b, R9, 0);
      b.stx(8, R9, 8 * slot, R0);
    };
    // get without F_CREATE: NULL; with: the value (write 42 through it); delete; delete again; NULL task.
    ldMap(b, R1, 1);
    b.mov(R2, R6).mov(R3, 0).mov(R4, 0).call("bpf_task_storage_get");
    rec(0);
    ldMap(b, R1, 1);
    b.mov(R2, R6).mov(R3, 0).mov(R4, 1).call("bpf_task_storage_get").jeq(R0, 0, "n").st(8, R0, 0, 42).mov(R0, 1).label("n");
    rec(1);
    ldMap(b, R1, 1);
    b.mov(R2, R6).mov(R3, 0).mov(R4, 0).call("bpf_task_storage_get").jeq(R0, 0, "m").ldx(8, R0, R0, 0).label("m");
    rec(2);
    ldMap(b, R1, 1);
    b.mov(R2, R6).call("bpf_task_storage_delete");
    rec(3);
    ldMap(b, R1, 1);
    b.mov(R2, R6).call("bpf_task_storage_delete");
    rec(4);
    ldMap(b, R1, 1);
    b.mov(R2, 0).call("bpf_task_storage_delete");
    rec(5);
    b.mov(R0, 0).exit();
    const out = h.createMap({ mapType: T.ARRAY, keySize: 4, valueSize: 48, maxEntries: 1 });
    h.run(h.load({ insns: b.build().instructions }, { maps: [out, ts] }));
    expect(words(out.lookup(new Uint8Array(4))!, 6)).toEqual([0n, 1n, 42n, 0n, -2n, -22n]);
  });

  test("clocks, prandom and send_signal use the host", () => {
    const host = new FixedHost();
    const sent: [number, string][] = [];
    host.sendSignal = (sig, scope) => {
      sent.push([sig, scope]);
      return 0;
    };
    const h = new Harness(host);
    const call = (fn: string, arg?: number): bigint => {
      const b = new ProgramBuilder();
      if (arg !== undefined) b.mov(R1, arg);
      return h.runSigned(h.load({ insns: b.call(fn).exit().build().instructions }));
    };
    expect(call("bpf_ktime_get_ns")).toBe(5_123_456_789n);
    expect(call("bpf_ktime_get_boot_ns")).toBe(6_000_000_000n);
    expect(call("bpf_ktime_get_coarse_ns")).toBe(5_120_000_000n);
    expect(call("bpf_ktime_get_tai_ns")).toBe(1_700_000_000_000_000_000n);
    expect(call("bpf_jiffies64")).toBe(1280n);
    const r1 = call("bpf_get_prandom_u32");
    expect(call("bpf_get_prandom_u32")).not.toBe(r1);
    expect(call("bpf_send_signal", 10)).toBe(0n);
    expect(call("bpf_send_signal_thread", 12)).toBe(0n);
    expect(call("bpf_send_signal", 65)).toBe(-22n);
    expect(sent).toEqual([[10, "process"], [12, "thread"]]);
    host.task = { ...host.task, tgid: 1 };
    expect(call("bpf_send_signal", 10)).toBe(-1n);
  });
});

describeKernel("task and id helpers: vm (real host) and kernel agree", () => {
  const keep: { close(): void }[] = [];
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
  });

  test("pid/tgid, uid/gid, CPU, comm, cgroup ids and pid namespace of this process", () => {
    const ns = statSync("/proc/self/ns/pid");
    const prog = idsProg(Number(ns.dev), Number(ns.ino));
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 8 * ID_SLOTS, maxEntries: 1 }, keep);
    kernelRunRawTp(kernelLoad(prog, [rec], keep));
    const k = words(rec.lookup(new Uint8Array(4))!, ID_SLOTS);

    // The vm's host, described as this process: what a real host would answer.
    const cg2 = readFileSync("/proc/self/cgroup", "utf8").split("\n").find((l) => l.startsWith("0::"))?.slice(3) ?? "/";
    const mount = readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2")?.split(" ")[1];
    const ids: bigint[] = [];
    if (mount) {
      const parts = cg2.split("/").filter(Boolean);
      for (let i = 0; i <= parts.length; i++) ids.push(BigInt(statSync(`${mount}/${parts.slice(0, i).join("/")}`).ino));
    }
    const base = realHost();
    const host = {
      ...base,
      task: { ...base.task, comm: readFileSync("/proc/self/comm", "utf8").trim() },
      cgroupIds: ids.length ? ids : [1n],
      pidNamespace: { dev: Number(ns.dev), ino: Number(ns.ino), pid: process.pid, tgid: process.pid },
    };
    const vm = runIds(new Harness(host), prog, 0);
    expect(vm).toEqual(k);
  });

  test("ktime_get_ns and jiffies64 read the machine's clocks", () => {
    const b = new ProgramBuilder();
    ldMapValue(b, R9, 0);
    b.call("bpf_ktime_get_ns");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 0, R0).call("bpf_jiffies64");
    ldMapValue(b, R9, 0);
    b.stx(8, R9, 8, R0).mov(R0, 0).exit();
    const rec = kernelMap({ type: T.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 }, keep);
    const kp = kernelLoad({ insns: b.build().instructions }, [rec], keep);
    const host = realHost();
    const before = host.monotonicNs();
    const j0 = host.jiffies();
    kernelRunRawTp(kp);
    const after = host.monotonicNs();
    const j1 = host.jiffies();
    const [kt, kj] = words(rec.lookup(new Uint8Array(4))!, 2);
    // Within a millisecond of the vm's reading of CLOCK_MONOTONIC around the run.
    expect(Number(kt)).toBeGreaterThan(before - 1e6);
    expect(Number(kt)).toBeLessThan(after + 1e6);
    // jiffies tick at HZ = 250 from INITIAL_JIFFIES; the vm derives them from CLOCK_MONOTONIC, which
    // started counting a little later in boot than the tick did: within a second (250 ticks).
    expect(Number(kj)).toBeGreaterThanOrEqual(j0 - 250);
    expect(Number(kj)).toBeLessThanOrEqual(j1 + 250);
  });
});
