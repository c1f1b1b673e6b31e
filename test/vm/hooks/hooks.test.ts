/**
 * vm hook points: a host defines events and devices, programs attach in
 * order with cookies, fire() runs them and reports what they did.
 */
import { describe, expect, test } from "vitest";
import { BpfCommandError, NotSupportedError } from "../../../src/errors.js";
import { HookRegistry, SYS_ENTER_OPENAT, parseTracepointFormat } from "../../../src/vm/hooks/index.js";
import { assembleBytecode } from "../../../src/isa/asm.js";
import { AddressSpace } from "../../../src/vm/memory.js";
import { createEngine } from "../../../src/vm/engines.js";
import { VmKernel } from "../../../src/vm/runtime/kernel.js";
import { vmVerifier } from "../../../src/vm/runtime/verifier-adapter.js";
import {
  BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SYSCALL,
  BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_XDP,
} from "../../../src/vm/progtypes/constants.js";
import { TestServices, hookProgram, runStateHelpers, vmProgram } from "../progtypes-runtime/harness.js";
import { ipv4Frame, pattern } from "../progtypes-runtime/packets.js";

function setup() {
  const services = new TestServices(new AddressSpace());
  const registry = new HookRegistry(services);
  const prog = (progType: number, code: string) =>
    hookProgram(vmProgram({ progType, code, services, helpers: runStateHelpers }));
  return { services, registry, prog };
}

describe("tracepoint hooks", () => {
  test("a program reads the record's fields at the format's offsets", () => {
    const { registry, prog } = setup();
    const tp = registry.defineTracepoint(SYS_ENTER_OPENAT);
    // r0 = flags + mode + __syscall_nr
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, "r0 = *(u64 *)(r1 + 32)\nr2 = *(u64 *)(r1 + 40)\nr0 += r2\nr2 = *(s32 *)(r1 + 8)\nr0 += r2\nexit"));
    const r = tp.fire({ __syscall_nr: 257, dfd: -100, filename: 0x7fff0000n, flags: 0x241, mode: 0o644 });
    expect(r.results.map((x) => x.retval)).toEqual([0x241 + 0o644 + 257]);
  });

  test("the common header carries the event id and the task's pid", () => {
    const { registry, prog, services } = setup();
    const tp = registry.defineTracepoint(SYS_ENTER_OPENAT);
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, "r0 = *(u16 *)(r1 + 0)\nexit"));
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, "r0 = *(s32 *)(r1 + 4)\nexit"));
    expect(tp.fire().results.map((x) => x.retval)).toEqual([782, services.host.task.pid]);
  });

  test("programs run in attach order with their link's cookie; detach removes one", () => {
    const { registry, prog } = setup();
    const tp = registry.defineTracepoint(SYS_ENTER_OPENAT);
    const code = "call 174\nexit";
    const a = tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, code), { cookie: 11n });
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, code), { cookie: 22n });
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, code), { cookie: 0x1_0000_0021n });
    expect(tp.fire().results.map((x) => x.retval)).toEqual([11, 22, 0x21]);
    a.detach();
    a.detach();
    expect(tp.fire().results.map((x) => x.retval)).toEqual([22, 0x21]);
    expect(tp.attachedCount).toBe(2);
  });

  test("a checked program cannot write the record", () => {
    const { registry, prog } = setup();
    const tp = registry.defineTracepoint(SYS_ENTER_OPENAT);
    tp.attach(prog(BPF_PROG_TYPE_TRACEPOINT, "r2 = 1\n*(u64 *)(r1 + 16) = r2\nr0 = 0\nexit"));
    expect(() => tp.fire()).toThrow(/read-only/);
  });

  test("only tracepoint programs attach; unknown fields are refused", () => {
    const { registry, prog } = setup();
    const tp = registry.defineTracepoint(SYS_ENTER_OPENAT);
    expect(() => tp.attach(prog(BPF_PROG_TYPE_XDP, "r0 = 2\nexit"))).toThrow(BpfCommandError);
    expect(() => tp.fire({ nope: 1 })).toThrow(/no field nope/);
  });

  test("a format file's text parses into the layout", () => {
    const text = `name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;
`;
    expect(parseTracepointFormat("syscalls", "sys_enter_openat", text)).toEqual(SYS_ENTER_OPENAT);
  });
});

describe("tracepoint programs reading before the record", () => {
  // tp_prog_is_valid_access compares `off < sizeof(void *)` unsigned: negative offsets pass, and the
  // kernel reads whatever precedes the record. The vm puts zeros there, as far as the programs reach.
  for (const engine of ["jit", "interp"] as const) {
    test(`a verified program reads zeros there (${engine})`, () => {
      const kernel = new VmKernel({ verifier: vmVerifier(), engine });
      const { fd } = kernel.progLoad({
        progType: BPF_PROG_TYPE_TRACEPOINT, license: "GPL",
        insns: assembleBytecode("r0 = *(u64 *)(r1 - 8)\nr2 = *(u64 *)(r1 - 32768)\nr0 |= r2\nr2 = *(s32 *)(r1 + 8)\nr0 += r2\nexit"),
      });
      const prog = kernel.program(fd, "test");
      expect(prog.minCtxOffset).toBe(-32768);
      // Checked execution, as the verifier fuzzer runs accepted programs: the bytes must be mapped.
      prog.engine = createEngine(engine, prog.code, { ...prog.env, checked: true });
      const tp = kernel.hooks.defineTracepoint(SYS_ENTER_OPENAT);
      tp.attach({ program: prog, run: (ctx, run) => kernel.runProgram(prog, ctx, run.typeState, run.cpu, run) });
      expect(tp.fire({ __syscall_nr: 257 }).results.map((x) => x.retval)).toEqual([257]);
    });
  }
});

describe("raw tracepoint and kprobe hooks", () => {
  test("raw tracepoint programs read u64 args", () => {
    const { registry, prog } = setup();
    const rt = registry.defineRawTracepoint("sys_enter", 2);
    rt.attach(prog(BPF_PROG_TYPE_RAW_TRACEPOINT, "r0 = *(u64 *)(r1 + 8)\nexit"));
    expect(rt.fire([0x1000, 59]).results[0].retval).toBe(59);
    expect(() => rt.fire([1, 2, 3])).toThrow(/takes 2 arguments/);
  });

  test("a raw tracepoint program cannot read past the args", () => {
    const { registry, prog } = setup();
    const rt = registry.defineRawTracepoint("one", 1);
    rt.attach(prog(BPF_PROG_TYPE_RAW_TRACEPOINT, "r0 = *(u64 *)(r1 + 8)\nexit"));
    expect(() => rt.fire([1])).toThrow(/outside every mapped region/);
  });

  test("kprobe programs read pt_regs: arguments, return value, ip; get_func_ip", () => {
    const { registry, prog } = setup();
    const kp = registry.defineKprobe("do_sys_openat2", { funcIp: 0xffff1234 });
    kp.attach(prog(BPF_PROG_TYPE_KPROBE, "r0 = *(u64 *)(r1 + 104)\nexit")); // si: arg 2
    kp.attach(prog(BPF_PROG_TYPE_KPROBE, "r0 = *(u64 *)(r1 + 128)\nexit")); // ip
    kp.attach(prog(BPF_PROG_TYPE_KPROBE, "call 173\nexit"));
    expect(kp.fire({ args: [-100, 0x5000] }).results.map((x) => x.retval)).toEqual([0x5000, 0xffff1234, 0xffff1234]);
    const kr = registry.defineKprobe("do_sys_openat2", { isReturn: true });
    kr.attach(prog(BPF_PROG_TYPE_KPROBE, "r0 = *(u64 *)(r1 + 80)\nexit")); // ax
    expect(kr.fire({ ret: 3 }).results[0].retval).toBe(3);
    expect(kr.name).toBe("kretprobe:do_sys_openat2");
  });
});

describe("xdp device hooks", () => {
  test("frames run through the chain until a verdict other than XDP_PASS", () => {
    const { registry, prog } = setup();
    const dev = registry.addDevice({ name: "eth0" });
    const xdp = registry.xdp("eth0");
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r2 = 14\ncall 44\nr0 = 2\nexit")); // pop the Ethernet header, pass
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r0 = *(u32 *)(r1 + 12)\nif r0 == 2 goto +2\nr0 = 1\nexit\nr0 = 3\nexit")); // tx on ifindex 2
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r0 = 1\nexit")); // never reached
    const frame = ipv4Frame(60);
    const r = xdp.fire(frame);
    expect(dev.ifindex).toBe(2);
    expect(r.actionName).toBe("tx");
    expect(r.results.map((x) => x.retval)).toEqual([2, 3]);
    expect([...r.packet]).toEqual([...frame.subarray(14)]);
  });

  test("a redirect verdict reports its target; metadata comes back separately", () => {
    const { registry, prog } = setup();
    registry.addDevice({ name: "eth0", rxQueues: 4 });
    const xdp = registry.xdp("eth0");
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r6 = r1\nr2 = -4\ncall 54\nr2 = *(u32 *)(r6 + 8)\nr3 = 0xabcd\n*(u32 *)(r2 + 0) = r3\nr1 = 7\nr2 = 0\ncall 23\nexit"));
    const r = xdp.fire(pattern(64), { rxQueueIndex: 3 });
    expect(r.actionName).toBe("redirect");
    expect(r.redirect).toEqual({ ifindex: 7, flags: 0 });
    expect([...r.meta]).toEqual([0xcd, 0xab, 0, 0]);
    expect(() => xdp.fire(pattern(64), { rxQueueIndex: 4 })).toThrow(/no RX queue 4/);
  });

  test("no program means pass; jumbo frames keep their fragments", () => {
    const { registry, prog } = setup();
    const xdp = registry.xdp(1);
    expect(xdp.fire(pattern(20)).actionName).toBe("pass");
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r2 = -100\ncall 65\nr0 = 2\nexit"));
    const big = pattern(9000);
    const r = xdp.fire(big);
    expect(r.packet.length).toBe(8900);
    expect([...r.packet.subarray(8800)]).toEqual([...big.subarray(8800, 8900)]);
  });
});

describe("tc hooks", () => {
  test("tcx: TCX_NEXT continues, the first final code ends; mark and packet come back", () => {
    const { registry, prog } = setup();
    registry.addDevice({ name: "eth0" });
    const tc = registry.tc("eth0", "ingress");
    tc.attach(prog(BPF_PROG_TYPE_SCHED_CLS, "r2 = 42\n*(u32 *)(r1 + 8) = r2\nr0 = -1\nexit"));
    tc.attach(prog(BPF_PROG_TYPE_SCHED_CLS, "r2 = 0x0081\nr3 = 9\ncall 18\nr0 = 2\nexit")); // vlan push, drop
    tc.attach(prog(BPF_PROG_TYPE_SCHED_CLS, "r0 = 0\nexit"));
    const r = tc.fire(ipv4Frame(60));
    expect(r.verdict).toBe("drop");
    expect(r.mark).toBe(42);
    expect(r.results).toHaveLength(2);
  });

  test("ingress_ifindex is the device; redirect and clone targets are reported", () => {
    const { registry, prog } = setup();
    registry.addDevice({ name: "eth0" });
    const tc = registry.tc("eth0", "ingress");
    tc.attach(prog(BPF_PROG_TYPE_SCHED_CLS, "r6 = r1\nr2 = 1\nr3 = 0\ncall 13\nr1 = *(u32 *)(r6 + 36)\nr2 = 1\ncall 23\nexit"));
    const frame = ipv4Frame(60);
    const r = tc.fire(frame);
    expect(r.verdict).toBe("redirect");
    expect(r.redirect).toEqual({ ifindex: 2, flags: 1 });
    expect(r.clones).toHaveLength(1);
    expect([...r.clones[0].packet]).toEqual([...frame]);
  });
});

describe("custom hooks and the registry", () => {
  test("an extension point with its own context struct, written back", () => {
    const { registry, prog } = setup();
    const h = registry.defineCustom("on_request", { ctxSize: 8 });
    h.attach(prog(BPF_PROG_TYPE_SYSCALL, "r2 = *(u32 *)(r1 + 0)\nr2 *= 2\n*(u32 *)(r1 + 4) = r2\nr0 = 1\nexit"));
    const r = h.fire(Uint8Array.from([21, 0, 0, 0]));
    expect([...r.ctx]).toEqual([21, 0, 0, 0, 42, 0, 0, 0]);
    expect(r.results[0].retval).toBe(1);
  });

  test("continueOn stops the chain", () => {
    const { registry, prog } = setup();
    const h = registry.defineCustom("filter", { ctxSize: 0, continueOn: 0 });
    h.attach(prog(BPF_PROG_TYPE_SYSCALL, "r0 = 0\nexit"));
    h.attach(prog(BPF_PROG_TYPE_SYSCALL, "r0 = 5\nexit"));
    h.attach(prog(BPF_PROG_TYPE_SYSCALL, "r0 = 0\nexit"));
    expect(h.fire().results.map((x) => x.retval)).toEqual([0, 5]);
  });

  test("attach targets of the public API map onto hooks", () => {
    const { registry } = setup();
    registry.defineTracepoint(SYS_ENTER_OPENAT);
    registry.defineRawTracepoint("sys_enter", 2);
    registry.defineCustom("mine", { ctxSize: 4 });
    registry.addDevice({ name: "eth0" });
    expect(registry.forTarget({ kind: "tracepoint", category: "syscalls", name: "sys_enter_openat" }).name).toBe("tracepoint:syscalls/sys_enter_openat");
    expect(registry.forTarget({ kind: "raw_tracepoint", name: "sys_enter" }).kind).toBe("raw_tracepoint");
    expect(registry.forTarget({ kind: "xdp", ifindex: 2 }).name).toBe("xdp:eth0");
    expect(registry.forTarget({ kind: "tcx", ifindex: 1, direction: "egress" }).name).toBe("tc:lo:egress");
    expect(registry.forTarget({ kind: "hook", name: "mine" }).kind).toBe("custom");
    expect(() => registry.forTarget({ kind: "tracepoint", category: "x", name: "y" })).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(() => registry.forTarget({ kind: "xdp", ifindex: 99 })).toThrow(expect.objectContaining({ code: "ENODEV" }));
    expect(() => registry.forTarget({ kind: "fentry", name: "f" })).toThrow(NotSupportedError);
    expect(() => registry.defineCustom("mine", { ctxSize: 4 })).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(registry.list().map((h) => h.name)).toEqual(["mine", "raw_tracepoint:sys_enter", "tc:lo:egress", "tracepoint:syscalls/sys_enter_openat", "xdp:eth0"]);
    expect(registry.remove("mine")).toBe(true);
  });

  test("fires free their memory", () => {
    const { registry, prog, services } = setup();
    const xdp = registry.xdp(1);
    xdp.attach(prog(BPF_PROG_TYPE_XDP, "r0 = 2\nexit"));
    xdp.fire(pattern(5000));
    const high = services.space.highWater;
    for (let i = 0; i < 20; i++) xdp.fire(pattern(5000));
    expect(services.space.highWater).toBe(high);
  });
});
