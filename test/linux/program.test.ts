import { unlinkSync } from "node:fs";
import { expect, test } from "vitest";
import { BpfCommandError, VerifierError } from "../../src/errors.js";
import { MapType, ProgType } from "../../src/linux/constants.js";
import { LinuxMap, u32 } from "../../src/linux/map.js";
import { LinuxProgram, enableRunStats, progLoadRaw } from "../../src/linux/program.js";
import { describeKernel } from "../helpers/kernel.js";
import { counterProgram, exit, ldx, mov } from "./asm.js";

const XDP_PASS = 2;
const XDP_DROP = 1;
const packet = () => Buffer.from("ffffffffffff0000000000010800" + "45000014000000004011000000000000".repeat(2), "hex");

describeKernel("linux programs", () => {
  test("an XDP program loads with an id, a tag and its name", () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [mov(0, XDP_PASS), exit], name: "t_pass" });
    expect(p.id).toBeGreaterThan(0);
    expect(p.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(p.info()).toMatchObject({ type: ProgType.BPF_PROG_TYPE_XDP, name: "t_pass", gplCompatible: true });
  });

  test("BPF_PROG_TEST_RUN returns the verdict, the packet and a duration", () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [mov(0, XDP_DROP), exit] });
    const r = p.testRun({ data: packet(), repeat: 100 });
    expect(r.retval).toBe(XDP_DROP);
    expect(r.data).toEqual(packet());
    expect(r.duration).toBeGreaterThanOrEqual(0);
  });

  test("test run: a program that counts into a map runs `repeat` times", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: counterProgram(m.fd.value, XDP_PASS) });
    expect(p.testRun({ data: packet(), repeat: 7 }).retval).toBe(XDP_PASS);
    expect(m.lookup(u32(0))?.readBigUInt64LE()).toBe(7n);
    expect(p.mapIds()).toEqual([m.id]);
  });

  test("xlated instructions come back from the kernel (8 bytes each, map fd rewritten)", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: counterProgram(m.fd.value, XDP_PASS) });
    const x = p.xlatedInsns();
    expect(x.length % 8).toBe(0);
    expect(x.length).toBeGreaterThan(0);
    expect(p.jitedInsns().length).toBeGreaterThan(0);
  });

  test("the verifier's refusal is a VerifierError: last meaningful line on top, whole log attached", () => {
    let err: unknown;
    try {
      LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [exit] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.message).toBe("R0 !read_ok");
    expect(v.log).toMatch(/processed \d+ insns/);
    expect(v.insnIndex).toBe(0);
  });

  test("a log too small for the kernel grows until the whole log fits (ENOSPC)", () => {
    // 3000 instructions traced at log level 1, then an uninitialised read.
    const insns = [...Array.from({ length: 3000 }, () => mov(0, 1)), ldx(8, 0, 3, 0), exit];
    const attempt = progLoadRaw({ type: ProgType.BPF_PROG_TYPE_XDP, insns, logSize: 256 });
    expect(attempt.ret).toBeLessThan(0);
    expect(attempt.log.length).toBeGreaterThan(50_000);
    expect(attempt.log).toMatch(/R3 !read_ok/);
    expect(() => LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns, logSize: 256 })).toThrow(VerifierError);
  });

  test("logLevel 1 keeps the verifier log of a program that loads", () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [mov(0, 2), exit], logLevel: 1 | 4 });
    expect(p.verifierLog).toMatch(/processed 2 insns/);
  });

  test("an unknown program type is a BpfCommandError EINVAL, not a verifier error", () => {
    expect(() => LinuxProgram.load({ type: 999, insns: [mov(0, 0), exit] })).toThrow(BpfCommandError);
    expect(() => LinuxProgram.load({ type: 999, insns: [mov(0, 0), exit] })).toThrow(/EINVAL/);
  });

  test("BPF_ENABLE_STATS: run_cnt and run_time_ns count while the stats fd is open", () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [mov(0, XDP_PASS), exit] });
    {
      using _stats = enableRunStats();
      p.testRun({ data: packet(), repeat: 50 });
    }
    const info = p.info();
    expect(info.runCnt).toBe(50n);
    expect(info.runTimeNs).toBeGreaterThan(0n);
  });

  test("open by id and by pin reaches the same program", () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_SOCKET_FILTER, insns: [mov(0, 0), exit], name: "t_sf" });
    using q = LinuxProgram.fromId(p.id);
    expect(q.tag).toBe(p.tag);
    const path = `/sys/fs/bpf/tsbpf-test-prog-${process.pid}`;
    p.pin(path);
    try {
      using r = LinuxProgram.fromPin(path);
      expect(r.id).toBe(p.id);
    } finally {
      unlinkSync(path);
    }
  });
});
