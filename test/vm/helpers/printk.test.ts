import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import { BPF_F_RDONLY_PROG } from "../../../src/vm/maps/uapi.js";
import { traceHeader } from "../../../src/vm/helpers/printk.js";
import { describeKernel } from "../../helpers/kernel.js";
import { FixedHost, Harness, type Prog } from "./harness.js";
import { type TraceEvent, TraceInstance, kernelLoad, kernelMap, kernelRunRawTp, parseEvents, pinCpu, traceUnavailableReason } from "./kdiff.js";
import { type PArg, cstr, snprintfProg, tracePrintk, traceVprintk } from "./progs.js";

/**
 * Format cases, with what Linux 6.18 answers where the test pins it (retval and
 * text lines); `hashed` marks %p / %pK output, which differs by design (the
 * kernel's hash key is random per boot).
 */
interface Case {
  readonly fmt: string;
  readonly args: readonly PArg[];
  readonly ret?: number;
  readonly lines?: readonly string[];
  readonly hashed?: boolean;
  readonly fmtSize?: number;
}

const s = (str: string): PArg => ({ str });
const EINVAL = -22;

const PRINTK_CASES: readonly Case[] = [
  { fmt: "hello\n", args: [], ret: 6, lines: ["hello", ""] },
  { fmt: "hello", args: [], ret: 5, lines: ["hello"] },
  { fmt: "a\nb", args: [], ret: 3, lines: ["a", "b"] },
  { fmt: "a\n\nb\n", args: [], ret: 5, lines: ["a", "", "b", ""] },
  { fmt: "%d %i %u", args: [-1, -1, -1], ret: 16, lines: ["-1 -1 4294967295"] },
  { fmt: "%ld %lu %lld", args: [-1n, -1n, -1n], ret: 26, lines: ["-1 18446744073709551615 -1"] },
  { fmt: "%x %X %lx", args: [-1n, -1n, -1n], ret: 34, lines: ["ffffffff FFFFFFFF ffffffffffffffff"] },
  { fmt: "%llx %llX %llu", args: [-1n, -1n, -1n], ret: 54, lines: ["ffffffffffffffff FFFFFFFFFFFFFFFF 18446744073709551615"] },
  { fmt: "%5d|%-5d|%05d", args: [42, 42, 42], ret: 17, lines: ["   42|42   |00042"] },
  { fmt: "%+d % d %+5d", args: [42, 42, 42], ret: 13, lines: ["+42  42   +42"] },
  { fmt: "%s|%10s|%-10s", args: [s("abc"), s("abc"), s("abc")], ret: 25, lines: ["abc|       abc|abc       "] },
  { fmt: "%c%c%c", args: [65, 66, 0x143], ret: 3, lines: ["ABC"] },
  { fmt: "100%%", args: [], ret: 4, lines: ["100%"] },
  { fmt: "%o", args: [8], ret: EINVAL },
  { fmt: "%p", args: [4096], ret: 16, hashed: true },
  { fmt: "%px", args: [4096], ret: 16, lines: ["0000000000001000"] },
  { fmt: "%pK", args: [4096], ret: 16, hashed: true },
  { fmt: "%pS|%pB", args: [4096, 4096], ret: 13, lines: ["0x1000|0x1000"] },
  { fmt: "%pI4|%pi4", args: [s("\x01\x02\x03\x04"), s("\x01\x02\xc8\xff")], ret: 23, lines: ["1.2.3.4|001.002.200.255"] },
  {
    fmt: "%pI6|%pi6", args: [s("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"), s("abcdefghijklmnop")], ret: 72,
    lines: ["0102:0304:0506:0708:090a:0b0c:0d0e:0f10|6162636465666768696a6b6c6d6e6f70"],
  },
  { fmt: "%pI6c", args: [s("abcdefghijklmnop")], ret: 39, lines: ["6162:6364:6566:6768:696a:6b6c:6d6e:6f70"] },
  { fmt: "[%s]", args: [0], ret: 2, lines: ["[]"] },
  { fmt: "[%s]", args: [8], ret: 2, lines: ["[]"] },
  { fmt: "[%pI4]", args: [0], ret: 9, lines: ["[0.0.0.0]"] },
  { fmt: "%.2s", args: [s("abc")], ret: EINVAL },
  { fmt: "%hd", args: [1], ret: EINVAL },
  { fmt: "%llld", args: [1], ret: EINVAL },
  { fmt: "%sx", args: [s("a")], ret: EINVAL },
  { fmt: "%s_", args: [s("a")], ret: 2, lines: ["a_"] },
  { fmt: "%pa", args: [1], ret: EINVAL },
  { fmt: "%pM", args: [s("abcdef")], ret: EINVAL },
  { fmt: "%pe", args: [1], ret: EINVAL },
  { fmt: "%d %d %d %d", args: [1, 2, 3], ret: EINVAL },
  { fmt: "%#x", args: [1], ret: EINVAL },
  { fmt: "%+x|% x|%+u", args: [42, 42, 42], ret: 8, lines: ["2a|2a|42"] },
  { fmt: "tab\there", args: [], ret: 8, lines: ["tab\there"] },
  { fmt: "%*d", args: [1, 2], ret: EINVAL },
  { fmt: "%-+5d|%0-5d|%-05d", args: [1, 2, 3], ret: 17, lines: ["+1   |2    |3    "] },
  { fmt: "%d", args: [4294967297n], ret: 1, lines: ["1"] },
  { fmt: "%u %x", args: [-2n, -2n], ret: 19, lines: ["4294967294 fffffffe"] },
  { fmt: "%lld", args: [-9223372036854775808n], ret: 20, lines: ["-9223372036854775808"] },
  { fmt: "%10p|%-20px|", args: [4096, 4096], ret: 32, hashed: true },
  { fmt: "%5c|%-3c|", args: [65, 66], ret: 10, lines: ["    A|B  |"] },
  { fmt: "%05s|", args: [s("ab")], ret: 6, lines: ["   ab|"] },
  { fmt: "%p:", args: [0], ret: 17, lines: ["0000000000000000:"] },
  { fmt: "%px", args: [0], ret: 16, lines: ["0000000000000000"] },
  { fmt: "%", args: [], ret: EINVAL },
  { fmt: "abc%", args: [], ret: EINVAL },
  { fmt: "%l", args: [1], ret: EINVAL },
  { fmt: "%5%", args: [], ret: EINVAL },
  { fmt: "% %", args: [], ret: EINVAL },
  { fmt: "%pKabc|%pxyz", args: [0, 0], ret: 33, lines: ["0000000000000000|0000000000000000"] },
  { fmt: "%c-%c", args: [0x41, 0], ret: 3, lines: ["A-"] },
  { fmt: "bell\x07", args: [], ret: EINVAL },
  { fmt: "caf\xe9", args: [], ret: 4, lines: ["caf\xe9"] },
  { fmt: "del\x7f", args: [], ret: EINVAL },
  { fmt: "\xa0%d", args: [5], ret: 2, lines: ["\xa05"] },
  { fmt: "%pks|%pks", args: [0, s("k")], ret: 2, lines: ["|k"] },
  { fmt: "%s", args: [s("x".repeat(39))], ret: 39, lines: ["x".repeat(39)] },
  { fmt: "%x%X", args: [0xabcdef, 0xabcdef], ret: 12, lines: ["abcdefABCDEF"] },
  { fmt: "no NUL in size", args: [], fmtSize: 5, ret: EINVAL },
];

function runVm(h: Harness, prog: Prog, maps: readonly BpfMap[] = []): { ret: number; events: TraceEvent[] } {
  const p = h.load(prog, { maps });
  const ret = Number(BigInt.asIntN(32, h.run(p)));
  return { ret, events: parseEvents(h.tracePipe.drain()) };
}

const fmtBytes = (c: Case): Uint8Array => cstr(c.fmt);

describe("bpf_trace_printk on the vm", () => {
  const h = new Harness();

  test.each(PRINTK_CASES.map((c) => [JSON.stringify(c.fmt), c] as const))("format %s", (_, c) => {
    const { ret, events } = runVm(h, tracePrintk(fmtBytes(c), c.args, c.fmtSize));
    if (c.ret !== undefined) expect(ret).toBe(c.ret);
    if (ret < 0) {
      expect(events).toEqual([]);
      return;
    }
    expect(events).toHaveLength(1);
    if (c.hashed) {
      // Hashed pointers: 32-bit hashes zero-padded to 16 digits (or the given width).
      expect(events[0].lines.join("\n").length).toBe(ret);
    } else if (c.lines) {
      expect(events[0].lines).toEqual(c.lines);
    }
  });

  test("the trace line header is the kernel's: comm in 16 columns, pid in 7, cpu in 3 digits, flags, seconds.micros", () => {
    const host = new FixedHost();
    host.mono = 3223_847_821_999;
    const hh = new Harness(host);
    const p = hh.load(tracePrintk(cstr("hi"), []));
    hh.run(p, { cpu: 1 });
    expect(hh.tracePipe.drain()).toEqual(["          vmtest-4242    [001] ...1.  3223.847821: bpf_trace_printk: hi"]);
    expect(traceHeader("node", 17404, 1, "...2.", 3223_847_821_000)).toBe("            node-17404   [001] ...2.  3223.847821: ");
  });

  test("output longer than MAX_BPRINTF_BUF is cut to 1023 bytes; the length returned is the whole", () => {
    const p = h.load(tracePrintk(cstr("%s%s%s"), [s("a".repeat(30)), s("b".repeat(30)), s("c".repeat(30))]));
    expect(Number(h.run(p))).toBe(90);
    h.tracePipe.drain();
    const q = h.load(tracePrintk(cstr("%0999d|%040d"), [1, 2]));
    expect(Number(h.run(q))).toBe(1040);
    const [e] = parseEvents(h.tracePipe.drain());
    expect(e.lines[0].length).toBe(1023);
  });

  test("a bad format pointer in checked mode faults instead of reading outside the space", () => {
    const p = h.load({ insns: [
      { kind: "alu", op: "mov", wide: true, dst: 1, src: { kind: "imm", imm: 16 } },
      { kind: "alu", op: "mov", wide: true, dst: 2, src: { kind: "imm", imm: 4 } },
      { kind: "call", target: "helper", imm: 6, off: 0 },
      { kind: "exit" },
    ] });
    expect(() => h.run(p)).toThrow(/outside every mapped region/);
  });
});

describe("bpf_trace_vprintk and bpf_snprintf on the vm", () => {
  const h = new Harness();

  test("vprintk takes up to MAX_BPRINTF_VARARGS (12) arguments", () => {
    const twelve = Array.from({ length: 12 }, (_, i) => i + 1);
    const fmt = cstr(twelve.map(() => "%d").join(","));
    const { ret, events } = runVm(h, traceVprintk(fmt, twelve));
    expect(ret).toBe(26);
    expect(events[0].lines).toEqual(["1,2,3,4,5,6,7,8,9,10,11,12"]);
    // 13 arguments: data_len 104 > 96.
    expect(runVm(h, traceVprintk(cstr("%d"), [...twelve, 13])).ret).toBe(EINVAL);
    // data_len not a multiple of 8, and a NULL args array with a length.
    expect(runVm(h, traceVprintk(cstr("%d"), [1], { dataLen: 4 })).ret).toBe(EINVAL);
    expect(runVm(h, traceVprintk(cstr("%d"), [1], { nullArgs: true })).ret).toBe(EINVAL);
    // Fewer arguments than specifiers.
    expect(runVm(h, traceVprintk(cstr("%d %d"), [1])).ret).toBe(EINVAL);
    expect(runVm(h, traceVprintk(cstr("plain"), [], { nullArgs: true })).ret).toBe(5);
  });

  function snprintf(hh: Harness, fmt: string, args: readonly PArg[], size: number, dataLen?: number): { ret: number; out: Uint8Array } {
    const out = hh.createMap({ mapType: 2, keySize: 4, valueSize: 136, maxEntries: 1 });
    const f = hh.createMap({ mapType: 2, keySize: 4, valueSize: 128, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG });
    const fv = new Uint8Array(128);
    fv.set(cstr(fmt));
    f.update(new Uint8Array(4), fv);
    f.sysFreeze();
    // Pre-fill the output with 0xee to see exactly what is written.
    out.update(new Uint8Array(4), new Uint8Array(136).fill(0xee));
    const p = hh.load(snprintfProg(args, size, dataLen !== undefined ? { dataLen } : {}), { maps: [out, f] });
    hh.run(p);
    const v = out.lookup(new Uint8Array(4))!;
    return { ret: Number(new DataView(v.buffer).getBigInt64(0, true)), out: v.subarray(8) };
  }

  test("snprintf returns the untruncated length plus one and writes at most size bytes, NUL-terminated", () => {
    let r = snprintf(h, "%d-%s", [1234, s("abc")], 64);
    expect(r.ret).toBe(9);
    expect(Buffer.from(r.out.subarray(0, 10)).toString("latin1")).toBe("1234-abc\0\xee");
    r = snprintf(h, "%d-%s", [1234, s("abc")], 5);
    expect(r.ret).toBe(9);
    expect(Buffer.from(r.out.subarray(0, 6)).toString("latin1")).toBe("1234\0\xee");
    r = snprintf(h, "%d", [1], 1);
    expect(r.ret).toBe(2);
    expect([...r.out.subarray(0, 2)]).toEqual([0, 0xee]);
  });

  test("pre-formatted %pI4 text is consumed only while there is room: a later %d then reads its bytes (the kernel's bstr_printf)", () => {
    // "1.2.3.4" fits: %d reads the next 4-aligned word after the text.
    let r = snprintf(h, "%pI4 %d", [s("\x01\x02\x03\x04"), 7], 64);
    expect(Buffer.from(r.out.subarray(0, r.ret - 1)).toString("latin1")).toBe("1.2.3.4 7");
    // No room at all: the text stays unread, so %d takes its first four bytes ("1.2." = 0x2e322e31).
    r = snprintf(h, "%pI4 %d", [s("\x01\x02\x03\x04"), 7], 0);
    expect(r.ret).toBe(" 775040561".length + 1);
  });
});

const kernelReason = traceUnavailableReason();

describeKernel("bpf_trace_printk / vprintk / snprintf: vm and kernel agree", () => {
  let trace: TraceInstance;
  let unpin: () => void = () => {};
  const keep: { close(): void }[] = [];
  beforeAll(() => {
    if (kernelReason) throw new Error(kernelReason);
    trace = new TraceInstance();
    unpin = pinCpu(0);
  });
  afterAll(() => {
    unpin();
    for (const k of keep.reverse()) k.close();
    trace?.close();
  });

  /** Runs on both; compares retval and the event's text lines (or their length for hashed pointers). */
  function both(prog: Prog, hashed = false): void {
    const h = new Harness();
    const vm = runVm(h, prog);
    const kp = kernelLoad(prog, [], keep);
    trace.clear();
    const kret = kernelRunRawTp(kp) | 0;
    const kev = trace.take();
    expect(vm.ret).toBe(kret);
    expect(vm.events.length).toBe(kev.length);
    if (kev.length) {
      expect(vm.events[0].cpu).toBe(kev[0].cpu);
      if (hashed) expect(vm.events[0].lines.join("\n").length).toBe(kev[0].lines.join("\n").length);
      else expect(vm.events[0].lines).toEqual(kev[0].lines);
    }
  }

  test.each(PRINTK_CASES.map((c) => [JSON.stringify(c.fmt), c] as const))("trace_printk %s", (_, c) => {
    both(tracePrintk(fmtBytes(c), c.args, c.fmtSize), c.hashed);
  });

  test("vprintk with 12 arguments, 13, and bad lengths", () => {
    const twelve = Array.from({ length: 12 }, (_, i) => (i + 1) * 1000003);
    both(traceVprintk(cstr(twelve.map((_, i) => (i % 2 ? "%x" : "%d")).join(" ")), twelve));
    both(traceVprintk(cstr("%d"), [...twelve, 13]));
    both(traceVprintk(cstr("%d"), [1], { dataLen: 4 }));
    both(traceVprintk(cstr("%s|%pI4|%lld"), [{ str: "str" }, { str: "\x0a\x00\x00\x01" }, -5n]));
    both(traceVprintk(cstr("%d %d"), [1]));
  });

  test("trace_printk output longer than 1023 bytes", () => {
    both(tracePrintk(cstr("%0999d|%040d"), [1, 2]));
  });

  test.each(([
    ["%d-%s", [1234, { str: "abc" }], 64],
    ["%d-%s", [1234, { str: "abc" }], 5],
    ["%d", [1], 1],
    ["%pI4 %d", [{ str: "\x01\x02\x03\x04" }, 7], 64],
    ["%pI4 %d", [{ str: "\x01\x02\x03\x04" }, 7], 3],
    ["%pI4 %d", [{ str: "\x01\x02\x03\x04" }, 7], 0],
    ["%s%s", [{ str: "x".repeat(30) }, { str: "y".repeat(30) }], 16],
    ["%lu %c %%", [-1n, 0x7a], 128],
  ] as const).map(([fmt, args, size]) => ({ name: `${JSON.stringify(fmt)} into ${size} bytes`, fmt, args, size })))("snprintf $name", ({ fmt, args, size }) => {
    const h = new Harness();
    const vmOut = h.createMap({ mapType: 2, keySize: 4, valueSize: 136, maxEntries: 1 });
    const vmFmt = h.createMap({ mapType: 2, keySize: 4, valueSize: 128, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG });
    const fv = new Uint8Array(128);
    fv.set(cstr(fmt));
    const fill = new Uint8Array(136).fill(0xee);
    vmFmt.update(new Uint8Array(4), fv);
    vmFmt.sysFreeze();
    vmOut.update(new Uint8Array(4), fill);
    const prog = snprintfProg(args, size);
    h.run(h.load(prog, { maps: [vmOut, vmFmt] }));

    const kOut = kernelMap({ type: 2, keySize: 4, valueSize: 136, maxEntries: 1 }, keep);
    const kFmt = kernelMap({ type: 2, keySize: 4, valueSize: 128, maxEntries: 1, flags: BPF_F_RDONLY_PROG }, keep);
    kFmt.update(new Uint8Array(4), fv);
    kFmt.freeze();
    kOut.update(new Uint8Array(4), fill);
    kernelRunRawTp(kernelLoad(prog, [kOut, kFmt], keep));
    expect(Buffer.from(vmOut.lookup(new Uint8Array(4))!).toString("hex")).toBe(Buffer.from(kOut.lookup(new Uint8Array(4))!).toString("hex"));
  });

  test("snprintf with a bad constant format: the kernel's verifier refuses the program, the vm's helper says EINVAL", () => {
    const kOut = kernelMap({ type: 2, keySize: 4, valueSize: 136, maxEntries: 1 }, keep);
    const kFmt = kernelMap({ type: 2, keySize: 4, valueSize: 128, maxEntries: 1, flags: BPF_F_RDONLY_PROG }, keep);
    const fv = new Uint8Array(128);
    fv.set(cstr("%q"));
    kFmt.update(new Uint8Array(4), fv);
    kFmt.freeze();
    expect(() => kernelLoad(snprintfProg([1], 16), [kOut, kFmt], keep)).toThrow(/Invalid format string/);
    const h = new Harness();
    const o = h.createMap({ mapType: 2, keySize: 4, valueSize: 136, maxEntries: 1 });
    const f = h.createMap({ mapType: 2, keySize: 4, valueSize: 128, maxEntries: 1, mapFlags: BPF_F_RDONLY_PROG });
    f.update(new Uint8Array(4), fv);
    h.run(h.load(snprintfProg([1], 16), { maps: [o, f] }));
    expect(new DataView(o.lookup(new Uint8Array(4))!.buffer).getBigInt64(0, true)).toBe(-22n);
  });
});
