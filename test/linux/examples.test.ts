import { spawn, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { cstring, struct, u16, u32, u64, u8 } from "../../src/api/codecs.js";
import { linuxBackend } from "../../src/linux/backend.js";
import { ifIndex, inNetns } from "../../src/linux/netns.js";
import { RingBufReader } from "../../src/linux/ringbuf.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { createNetnsPair, describeKernel, netnsUnavailableReason, testFeature } from "../helpers/kernel.js";

/** The examples' committed objects (examples/*.bpf.o). */
const example = (name: string): ObjectSpec =>
  ObjectSpec.fromBytes(readFileSync(new URL(`../../examples/${name}.bpf.o`, import.meta.url)), { name });
const backend = linuxBackend();

describeKernel("examples on the kernel", () => {
  test("openat counter: the tracepoint program counts this process's openat() calls, with its comm", () => {
    using coll = backend.load(example("openat"));
    using link = coll.program("count_openat").attach();
    expect(link.target).toEqual({ kind: "tracepoint", category: "syscalls", name: "sys_enter_openat" });
    const counts = coll.map("counts").typed(u32, struct({ count: u64, comm: cstring(16) }));
    const before = counts.get(process.pid)?.count ?? 0n;
    for (let i = 0; i < 20; i++) closeSync(openSync("/proc/self/stat", "r"));
    const mine = counts.get(process.pid);
    expect(mine).toBeDefined();
    expect(mine!.count - before).toBeGreaterThanOrEqual(20n);
    expect(mine!.comm).toBe(readFileSync("/proc/self/comm", "utf8").trim());
  });

  testFeature("XDP UDP drop: datagrams to the listed port are dropped and counted; others reach the socket", netnsUnavailableReason, async () => {
    const net = createNetnsPair();
    try {
      using coll = backend.load(example("xdp_udp_drop"));
      coll.map("drop_ports").typed(u16, u8).set(9999, 1);
      using link = inNetns(net.nsA, () => coll.program("udp_drop").attach({ kind: "xdp", ifindex: ifIndex(net.ifA) }));
      expect(link.id).toBeGreaterThan(0);
      // One process in nsA listens on both ports; once it is bound, nsB sends 30 datagrams to each.
      const recv = `
        const d = require("node:dgram"); const c = { 9999: 0, 9998: 0 }; let bound = 0;
        for (const p of [9999, 9998]) {
          const s = d.createSocket("udp4"); s.on("message", () => c[p]++);
          s.bind(p, () => { if (++bound === 2) console.log("ready"); });
          setTimeout(() => s.close(), 2000);
        }
        setTimeout(() => console.log(JSON.stringify(c)), 2100);`;
      const send = `
        const s = require("node:dgram").createSocket("udp4"); let n = 0;
        const next = () => { if (n === 60) return s.close(); s.send("x", n % 2 ? 9998 : 9999, "${net.ipA}", () => { n++; setTimeout(next, 2); }); };
        next();`;
      const child = spawn("ip", ["netns", "exec", net.nsA, process.execPath, "-e", recv], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      const ready = new Promise<void>((resolve) => child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("ready\n")) resolve();
      }));
      const done = new Promise<void>((resolve) => child.on("close", () => resolve()));
      await ready;
      const tx = spawnSync("ip", ["netns", "exec", net.nsB, process.execPath, "-e", send], { encoding: "utf8" });
      expect(tx.status).toBe(0);
      await done;
      const received = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
      const stats = coll.map("stats").typed(u32, u64);
      expect(stats.get(0)).toBe(30n);
      expect(stats.get(1)).toBe(30n);
      expect(received).toEqual({ 9999: 0, 9998: 30 });
    } finally {
      net.remove();
    }
  });

  test("ring buffer events: exec() of a process we start arrives through the async iterator", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-exec-"));
    const bin = join(dir, `tsbpf-true-${process.pid}`);
    copyFileSync("/bin/true", bin);
    spawnSync("chmod", ["+x", bin]);
    try {
      using coll = backend.load(example("exec_events"));
      using _link = coll.program("on_exec").attach();
      using events = new RingBufReader(coll.map("events").kernel);
      const Event = struct({ pid: u32, uid: u32, timeNs: u64, comm: cstring(16), filename: cstring(128) });
      const child = spawnSync(bin);
      expect(child.status).toBe(0);
      const timer = setTimeout(() => events.close(), 5000);
      let found: ReturnType<typeof Event.decode> | undefined;
      for await (const rec of events) {
        const e = Event.decode(rec);
        if (e.filename === bin) {
          found = e;
          break;
        }
      }
      clearTimeout(timer);
      expect(found).toBeDefined();
      expect(found!.pid).toBe(child.pid);
      expect(found!.comm).toBe(`tsbpf-true-${process.pid}`.slice(0, 15));
      expect(found!.uid).toBe(process.getuid!());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

