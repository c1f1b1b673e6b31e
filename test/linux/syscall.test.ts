import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect, test } from "vitest";
import { ProgLoadAttr } from "../../src/linux/attr/bpf-attr.js";
import { BpfCmd, MapType, ProgType } from "../../src/linux/constants.js";
import { ElfSymbols } from "../../src/linux/elf-symbols.js";
import { BtfKind, vmlinuxBtf, vmlinuxTypeId } from "../../src/linux/kernel-btf.js";
import { LinuxMap, u32, u64 } from "../../src/linux/map.js";
import { LinuxProgram } from "../../src/linux/program.js";
import { type Sys, setSys, sys } from "../../src/linux/sys.js";
import { addressOf, bpfSyscall, closeFd } from "../../src/linux/syscall.js";
import { describeKernel, testFeature } from "../helpers/kernel.js";
import { exit, ldx, mov } from "./asm.js";

describeKernel("syscall layer", () => {
  test("the original exports still work: bpfSyscall, addressOf, closeFd", () => {
    const attr = Buffer.alloc(72);
    attr.writeUInt32LE(MapType.BPF_MAP_TYPE_ARRAY, 0);
    attr.writeUInt32LE(4, 4);
    attr.writeUInt32LE(4, 8);
    attr.writeUInt32LE(1, 12);
    const r = bpfSyscall(BpfCmd.BPF_MAP_CREATE, attr);
    expect(r.ret).toBeGreaterThan(0);
    expect(addressOf(attr)).toBeGreaterThan(0n);
    expect(closeFd(r.ret)).toBe(0);
    expect(closeFd(r.ret)).toBe(-9); // EBADF
    const bad = bpfSyscall(BpfCmd.BPF_MAP_CREATE, Buffer.alloc(72));
    expect(bad).toEqual({ ret: -1, errno: 22 });
  });

  test("Sys: -errno convention, and a substitute Sys sees every bpf() call (fault injection)", () => {
    const real = sys();
    const calls: number[] = [];
    let truncations = 0;
    const fake: Sys = {
      ...real,
      bpf(cmd, attr, size) {
        calls.push(cmd);
        // Pretend the log is too small twice: the loader must grow it and retry.
        if (cmd === BpfCmd.BPF_PROG_LOAD && ProgLoadAttr.num(attr, "log_level") > 0 && truncations < 2) {
          truncations++;
          return -28; // ENOSPC
        }
        return real.bpf(cmd, attr, size);
      },
    };
    const prev = setSys(fake);
    try {
      expect(() => LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [ldx(8, 0, 3, 0), exit], logSize: 128 })).toThrow(/R3 !read_ok/);
    } finally {
      setSys(prev);
    }
    expect(truncations).toBe(2);
    expect(calls.filter((c) => c === BpfCmd.BPF_PROG_LOAD).length).toBe(4); // no log, 2 truncated, then the full log
  });

  test("an object dropped without close() has its fd closed by the FinalizationRegistry", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let fd = -1;
    (() => {
      const m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
      fd = m.fd.value;
    })();
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toMatch(/bpf-map/);
    for (let i = 0; i < 20; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
      try {
        if (!/bpf-map/.test(readlinkSync(`/proc/self/fd/${fd}`))) break;
      } catch {
        break;
      }
    }
    let link = "";
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed
    }
    expect(link).not.toMatch(/anon_inode:bpf-map/);
  });

  test("cost of one map lookup through koffi (measured, not asserted)", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
    m.update(u32(1), u64(1n));
    const key = u32(1);
    const out = Buffer.alloc(8);
    const N = 200_000;
    for (let i = 0; i < 10_000; i++) m.lookupInto(key, out);
    let t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) m.lookupInto(key, out);
    const into = Number(process.hrtime.bigint() - t) / N;
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) m.lookup(key);
    const copy = Number(process.hrtime.bigint() - t) / N;
    // The bare bpf() call with a ready attr: the floor lookupInto builds on.
    const attr = Buffer.alloc(32);
    attr.writeUInt32LE(m.fd.value, 0);
    attr.writeBigUInt64LE(addressOf(key), 8);
    attr.writeBigUInt64LE(addressOf(out), 16);
    const s = sys();
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) s.bpf(BpfCmd.BPF_MAP_LOOKUP_ELEM, attr, 32);
    const bare = Number(process.hrtime.bigint() - t) / N;
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sys().getpid();
    const nullSyscall = Number(process.hrtime.bigint() - t) / N;
    console.info(`map lookup: ${into.toFixed(0)} ns (lookupInto), ${copy.toFixed(0)} ns (lookup, copying), ${bare.toFixed(0)} ns (bare bpf() with a ready attr); getpid through koffi: ${nullSyscall.toFixed(0)} ns`);
    expect(into).toBeGreaterThan(0);
  });
});

describeKernel("kernel BTF and ELF symbols", () => {
  testFeature("vmlinux BTF ids agree with bpftool's raw dump", () => (spawnSync("bpftool", ["version"]).status === 0 ? null : "no bpftool"), () => {
    const dump = execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"], { encoding: "utf8", maxBuffer: 1 << 30 });
    for (const [name, kind, kindName] of [
      ["btf_trace_sys_enter", BtfKind.TYPEDEF, "TYPEDEF"],
      ["bpf_fentry_test1", BtfKind.FUNC, "FUNC"],
      ["task_struct", BtfKind.STRUCT, "STRUCT"],
    ] as const) {
      const m = new RegExp(`^\\[(\\d+)\\] ${kindName} '${name}'`, "m").exec(dump);
      expect(m, name).not.toBeNull();
      expect(vmlinuxTypeId(name, kind)).toBe(Number(m![1]));
      expect(vmlinuxBtf().nameOf(Number(m![1]))).toBe(name);
    }
    expect(() => vmlinuxTypeId("no_such_function_here", BtfKind.FUNC)).toThrow(/not supported: kernel BTF FUNC no_such_function_here/);
  });

  testFeature("ELF symbols: libc's syscall() file offset matches readelf", () => (spawnSync("readelf", ["-v"]).status === 0 ? null : "no readelf"), () => {
    const line = readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => /\/libc\.so\.6$/.test(l))!;
    const libc = line.slice(line.indexOf("/"));
    const syms = new ElfSymbols(libc);
    const readelf = execFileSync("readelf", ["-W", "--dyn-syms", "-l", libc], { encoding: "utf8" });
    const sym = /^\s*\d+: ([0-9a-f]+)\s+\d+ FUNC\s+\w+\s+\w+\s+\d+ syscall@@/m.exec(readelf);
    expect(sym).not.toBeNull();
    const value = BigInt("0x" + sym![1]);
    // The executable PT_LOAD segment: "LOAD 0xOFFSET 0xVADDR 0xPADDR 0xFILESZ 0xMEMSZ R E 0xALIGN".
    const seg = [...readelf.matchAll(/^\s*LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x[0-9a-f]+ 0x([0-9a-f]+) R E/gm)][0];
    const expected = value - BigInt("0x" + seg[2]) + BigInt("0x" + seg[1]);
    expect(syms.get("syscall")?.address).toBe(value);
    expect(BigInt(syms.offsetOf("syscall"))).toBe(expected);
    expect(() => syms.offsetOf("no_such_symbol")).toThrow(/no function symbol 'no_such_symbol'/);
  });
});
