import { expect, test } from "vitest";
import type { Instruction } from "../../src/isa/instruction.js";
import { MapType, ProgType } from "../../src/linux/constants.js";
import { LinuxMap } from "../../src/linux/map.js";
import { PerfBufReader } from "../../src/linux/perfbuf.js";
import { LinuxProgram } from "../../src/linux/program.js";
import { RingBufReader } from "../../src/linux/ringbuf.js";
import { TracePipeReader, parseTraceLine } from "../../src/linux/trace-pipe.js";
import { describeKernel } from "../helpers/kernel.js";
import { H, call, exit, jeq, ldImm64, ldMapFd, mov, movr, add, stdw, stx } from "./asm.js";

const packet = Buffer.alloc(64);

/** XDP program: one ring buffer record per run, the u64 bpf_ktime_get_ns(). */
function ringbufOutput(mapFd: number): Instruction[] {
  return [
    call(H.ktime_get_ns),
    stx(8, 10, -8, 0),
    ldMapFd(1, mapFd),
    movr(2, 10), add(2, -8),
    mov(3, 8),
    mov(4, 0),
    call(H.ringbuf_output),
    mov(0, 2), exit,
  ];
}

/** XDP program: reserves 8 bytes, writes them, discards the record. */
function ringbufDiscard(mapFd: number): Instruction[] {
  return [
    ldMapFd(1, mapFd),
    mov(2, 8),
    mov(3, 0),
    call(H.ringbuf_reserve),
    jeq(0, 0, 4),
    stdw(0, 0, 7),
    movr(1, 0),
    mov(2, 0),
    call(H.ringbuf_discard),
    mov(0, 2), exit,
  ];
}

/** XDP program: bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, &ktime, 8). */
function perfOutput(mapFd: number): Instruction[] {
  return [
    movr(6, 1),
    call(H.ktime_get_ns),
    stx(8, 10, -8, 0),
    movr(1, 6),
    ldMapFd(2, mapFd),
    // BPF_F_CURRENT_CPU is 0xffffffff; a 32-bit mov zero-extends, keeping the ctx-length bits clear.
    { kind: "alu", op: "mov", wide: false, dst: 3, src: { kind: "imm", imm: -1 } },
    movr(4, 10), add(4, -8),
    mov(5, 8),
    call(H.perf_event_output),
    mov(0, 2), exit,
  ];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

const ringbuf = (size = 1 << 16) => LinuxMap.create({ type: MapType.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });

describeKernel("ring buffer", () => {
  test("poll delivers every record in order; discarded records are skipped", () => {
    using m = ringbuf();
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufOutput(m.fd.value) });
    using drop = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufDiscard(m.fd.value) });
    using reader = new RingBufReader(m);
    out.testRun({ data: packet, repeat: 3 });
    drop.testRun({ data: packet, repeat: 5 });
    out.testRun({ data: packet, repeat: 4 });
    const stamps: bigint[] = [];
    const n = reader.poll((data, off, len) => {
      expect(len).toBe(8);
      stamps.push(new DataView(data.buffer, data.byteOffset + off, 8).getBigUint64(0, true));
    });
    expect(n).toBe(7);
    expect([...stamps].sort((a, b) => (a < b ? -1 : 1))).toEqual(stamps);
    expect(reader.available()).toBe(0);
    expect(reader.poll(() => {})).toBe(0);
  });

  test("records wrap around the end of a small ring and stay contiguous (double mapping)", () => {
    using m = ringbuf(4096);
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufOutput(m.fd.value) });
    using reader = new RingBufReader(m);
    let total = 0;
    for (let round = 0; round < 10; round++) {
      out.testRun({ data: packet, repeat: 200 }); // 200 * 16 bytes: the ring wraps every ~1.3 rounds
      total += reader.poll((_d, _o, len) => expect(len).toBe(8));
    }
    expect(total).toBe(2000);
  });

  test("start(): the callback runs from the event loop when the kernel wakes us (epoll)", async () => {
    using m = ringbuf();
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufOutput(m.fd.value) });
    using reader = new RingBufReader(m);
    let got = 0;
    const done = new Promise<void>((resolve) => {
      reader.start(() => {
        if (++got === 5) resolve();
      });
    });
    setTimeout(() => out.testRun({ data: packet, repeat: 5 }), 20);
    await withTimeout(done, 5000, "ring buffer wakeup");
    reader.stop();
    expect(got).toBe(5);
  });

  test("async iteration yields copies as records arrive", async () => {
    using m = ringbuf();
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufOutput(m.fd.value) });
    using reader = new RingBufReader(m);
    setTimeout(() => out.testRun({ data: packet, repeat: 3 }), 20);
    const got: Uint8Array[] = [];
    await withTimeout((async () => {
      for await (const rec of reader) {
        got.push(rec);
        if (got.length === 3) break;
      }
    })(), 5000, "ring buffer iteration");
    expect(got.map((r) => r.length)).toEqual([8, 8, 8]);
  });

  test("throughput: consuming records through poll()", () => {
    using m = ringbuf(1 << 23);
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: ringbufOutput(m.fd.value) });
    using reader = new RingBufReader(m);
    const N = 200_000;
    const t0 = process.hrtime.bigint();
    out.testRun({ data: packet, repeat: N });
    const t1 = process.hrtime.bigint();
    let sum = 0;
    const n = reader.poll((data, off) => {
      sum += data[off];
    });
    const t2 = process.hrtime.bigint();
    expect(n).toBe(N);
    const consume = (N / Number(t2 - t1)) * 1e9;
    console.info(`ring buffer: ${N} records produced in ${Number(t1 - t0) / 1e6} ms (kernel), consumed at ${(consume / 1e6).toFixed(1)} M records/s`);
    expect(sum).toBeGreaterThanOrEqual(0);
  });
});

describeKernel("perf buffer", () => {
  test("samples from bpf_perf_event_output arrive on the running CPU's ring", async () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 64 });
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: perfOutput(m.fd.value) });
    using reader = new PerfBufReader(m, { pages: 2 });
    out.testRun({ data: packet, repeat: 5 });
    const got: Array<{ cpu: number; len: number }> = [];
    let lost = 0n;
    reader.poll((cpu, _d, _o, len) => got.push({ cpu, len }), (_cpu, n) => (lost += n));
    expect(got.length).toBe(5);
    expect(got.every((g) => g.len >= 8)).toBe(true);
    expect(lost).toBe(0n);
  });

  test("a full ring reports PERF_RECORD_LOST, and records that wrap are reassembled", () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 64 });
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: perfOutput(m.fd.value) });
    using reader = new PerfBufReader(m, { pages: 1 });
    // 4096-byte ring, 24-byte samples: 1000 runs overflow it.
    out.testRun({ data: packet, repeat: 1000 });
    let samples = 0;
    let lost = 0n;
    reader.poll(() => samples++, (_c, n) => (lost += n));
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThan(1000);
    // The kernel writes its LOST record once there is room again: before the next sample.
    // Many small rounds then move the ring's tail through every offset (records that wrap).
    for (let i = 0; i < 50; i++) {
      out.testRun({ data: packet, repeat: 37 });
      samples += reader.poll((_cpu, data, off, len) => {
        expect(len).toBeGreaterThanOrEqual(8);
        expect(off + len).toBeLessThanOrEqual(data.length);
      }, (_c, n) => (lost += n));
    }
    expect(lost).toBeGreaterThan(0n);
    expect(BigInt(samples) + lost).toBe(BigInt(1000 + 50 * 37));
  });

  test("async iteration with wakeups", async () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 64 });
    using out = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: perfOutput(m.fd.value) });
    using reader = new PerfBufReader(m);
    setTimeout(() => out.testRun({ data: packet, repeat: 2 }), 20);
    const got: number[] = [];
    await withTimeout((async () => {
      for await (const rec of reader) {
        if ("data" in rec) got.push(rec.data.length);
        if (got.length === 2) break;
      }
    })(), 5000, "perf buffer iteration");
    expect(got.length).toBe(2);
  });
});

describeKernel("trace_pipe", () => {
  test("parses a bpf_trace_printk line", () => {
    expect(parseTraceLine("           <...>-1234    [001] d..31  1234.567890: bpf_trace_printk: hello world")).toMatchObject({
      task: "<...>", pid: 1234, cpu: 1, timestamp: 1234.56789, message: "hello world",
    });
  });

  test("a program's bpf_trace_printk reaches the async line reader", async () => {
    const marker = `tsbpf${process.pid}`.padEnd(15, "z").slice(0, 15) + "\n"; // 16 bytes incl. newline
    const bytes = Buffer.from(marker + "\0".repeat(8));
    const insns: Instruction[] = [
      ldImm64(1, bytes.readBigUInt64LE(0)), stx(8, 10, -24, 1),
      ldImm64(1, bytes.readBigUInt64LE(8)), stx(8, 10, -16, 1),
      ldImm64(1, 0n), stx(8, 10, -8, 1),
      movr(1, 10), add(1, -24),
      mov(2, 17),
      call(H.trace_printk),
      mov(0, 2), exit,
    ];
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns });
    using reader = new TracePipeReader();
    reader.readLines(); // drop what is already there
    setTimeout(() => p.testRun({ data: packet, repeat: 2 }), 20);
    const seen: string[] = [];
    await withTimeout((async () => {
      for await (const line of reader) {
        if (line.message?.startsWith(marker.trim())) seen.push(line.message);
        if (seen.length === 2) break;
      }
    })(), 5000, "trace_pipe");
    expect(seen).toEqual([marker.trim(), marker.trim()]);
  });
});
