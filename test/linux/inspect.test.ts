/**
 * Differential tests of the inspection commands against bpftool on this machine:
 * the same objects shown by `tsbpf --backend linux …` and by `bpftool …`.
 * JSON: every key bpftool prints must be ours with the same value ("pids" and
 * "pinned" excepted, see src/linux/inspect.ts). Plain text: identical.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { main } from "../../src/cli/main.js";
import { attachRawTracepoint, attachXdp } from "../../src/linux/attach.js";
import { LinuxBtf } from "../../src/linux/btf-object.js";
import { MapType, ProgType } from "../../src/linux/constants.js";
import type { LinuxLink } from "../../src/linux/link.js";
import { LinuxMap, u32, u64 } from "../../src/linux/map.js";
import { ifIndex, inNetns } from "../../src/linux/netns.js";
import { LinuxProgram } from "../../src/linux/program.js";
import { type NetnsPair, createNetnsPair, describeKernel, netnsUnavailableReason, testFeature } from "../helpers/kernel.js";
import { H, call, counterProgram, exit, mov } from "./asm.js";

const bpftoolReason = spawnSync("bpftool", ["version"], { stdio: "ignore" }).status === 0 ? null : "no bpftool on PATH";

async function tsbpf(...argv: string[]): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(["--backend", "linux", ...argv], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readStdin: async () => "",
  });
  if (code !== 0) throw new Error(`tsbpf ${argv.join(" ")} exited ${code}: ${err}`);
  return out;
}

const bpftool = (...argv: string[]): string => execFileSync("bpftool", argv, { encoding: "utf8", maxBuffer: 1 << 28 });

/** Every key bpftool prints, with bpftool's value, must be in ours. */
function expectSuperset(ours: Record<string, unknown>, theirs: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(theirs)) {
    if (k === "pids" || k === "pinned") continue;
    if (k === "loaded_at") {
      // Wall-clock seconds computed from two clocks at two moments: may straddle a second.
      expect(Math.abs(Number(ours[k]) - Number(v)), k).toBeLessThanOrEqual(1);
      continue;
    }
    expect(ours[k], `key ${k}`).toEqual(v);
  }
}

/** Plain output without the loaded_at time (compared through JSON above). */
const noTime = (s: string): string => s.replace(/loaded_at \S+/g, "loaded_at T");

describeKernel("inspection vs bpftool", () => {
  let map: LinuxMap;
  let percpu: LinuxMap;
  let prog: LinuxProgram;
  let tp: LinuxProgram;
  let link: LinuxLink;
  beforeAll(() => {
    map = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 3, name: "t_inspect" });
    map.update(u32(1), u64(0x1122334455667788n));
    percpu = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 4, name: "t_percpu" });
    percpu.update(u32(7), Buffer.alloc(percpu.valueBytes, 0xab));
    prog = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: counterProgram(map.fd.value, 2), name: "t_inspect" });
    tp = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_RAW_TRACEPOINT, insns: [call(H.ktime_get_ns), mov(0, 0), exit], name: "t_inspect_tp" });
    link = attachRawTracepoint(tp, "sys_exit");
  });
  afterAll(() => {
    link?.close();
    tp?.close();
    prog?.close();
    percpu?.close();
    map?.close();
  });

  testFeature("prog show id N: JSON keys and plain text as bpftool", () => bpftoolReason, async () => {
    const ours = JSON.parse(await tsbpf("-j", "prog", "show", "id", String(prog.id)));
    const theirs = JSON.parse(bpftool("-j", "prog", "show", "id", String(prog.id)));
    expectSuperset(ours, theirs);
    expect(ours.map_ids).toEqual([map.id]);
    expect(noTime(await tsbpf("prog", "show", "id", String(prog.id)))).toBe(noTime(bpftool("prog", "show", "id", String(prog.id))));
  });

  testFeature("prog show (all): our program is listed like bpftool lists it", () => bpftoolReason, async () => {
    const ours = JSON.parse(await tsbpf("-j", "prog", "show")) as Array<{ id: number }>;
    const theirs = JSON.parse(bpftool("-j", "prog", "show")) as Array<{ id: number }>;
    for (const id of [prog.id, tp.id]) {
      expectSuperset(ours.find((p) => p.id === id)!, theirs.find((p) => p.id === id)!);
    }
  });

  testFeature("prog dump xlated id N: same text and JSON, helper calls named through kallsyms", () => bpftoolReason, async () => {
    for (const p of [prog, tp]) {
      expect(await tsbpf("prog", "dump", "xlated", "id", String(p.id))).toBe(bpftool("prog", "dump", "xlated", "id", String(p.id)));
      expect(JSON.parse(await tsbpf("-j", "prog", "dump", "xlated", "id", String(p.id)))).toEqual(
        JSON.parse(bpftool("-j", "prog", "dump", "xlated", "id", String(p.id))),
      );
    }
  });

  testFeature("map show id N: JSON keys and plain text as bpftool", () => bpftoolReason, async () => {
    for (const m of [map, percpu]) {
      expectSuperset(JSON.parse(await tsbpf("-j", "map", "show", "id", String(m.id))), JSON.parse(bpftool("-j", "map", "show", "id", String(m.id))));
      expect(await tsbpf("map", "show", "id", String(m.id))).toBe(bpftool("map", "show", "id", String(m.id)));
    }
  });

  testFeature("map show of a frozen map says frozen", () => bpftoolReason, async () => {
    using m = LinuxMap.create({ type: MapType.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "t_frozen" });
    m.freeze();
    expect(await tsbpf("map", "show", "id", String(m.id))).toBe(bpftool("map", "show", "id", String(m.id)));
    expect(JSON.parse(await tsbpf("-j", "map", "show", "id", String(m.id))).frozen).toBe(1);
  });

  testFeature("map dump id N: entries in hex, per-CPU values per CPU, as bpftool", () => bpftoolReason, async () => {
    for (const m of [map, percpu]) {
      expect(await tsbpf("map", "dump", "id", String(m.id))).toBe(bpftool("map", "dump", "id", String(m.id)));
      expect(JSON.parse(await tsbpf("-j", "map", "dump", "id", String(m.id)))).toEqual(JSON.parse(bpftool("-j", "map", "dump", "id", String(m.id))));
    }
  });

  testFeature("link show id N: a raw_tracepoint link as bpftool shows it", () => bpftoolReason, async () => {
    const id = String(link.id);
    expectSuperset(JSON.parse(await tsbpf("-j", "link", "show", "id", id)), JSON.parse(bpftool("-j", "link", "show", "id", id)));
    expect(await tsbpf("link", "show", "id", id)).toBe(bpftool("link", "show", "id", id));
  });

  testFeature("btf dump id N: a loaded BTF object, raw, JSON and C, as bpftool", () => bpftoolReason, async () => {
    // int; struct pair { int a; int b; }
    const strs = Buffer.from("\0int\0pair\0a\0b\0", "latin1");
    const words = [1, (1 << 24) | 0, 4, (1 << 24) | 32, 5, (4 << 24) | 2, 8, 10, 1, 0, 12, 1, 32];
    const types = Buffer.from(new Uint32Array(words).buffer);
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strs.length, 20);
    using btf = LinuxBtf.load(Buffer.concat([hdr, types, strs]));
    const id = String(btf.id);
    expect(btf.info()).toMatchObject({ id: btf.id, kernelBtf: false });
    expect(await tsbpf("btf", "dump", "id", id)).toBe(bpftool("btf", "dump", "id", id));
    expect(JSON.parse(await tsbpf("-j", "btf", "dump", "id", id))).toEqual(JSON.parse(bpftool("-j", "btf", "dump", "id", id)));
    expect(await tsbpf("btf", "dump", "id", id, "format", "c")).toBe(bpftool("btf", "dump", "id", id, "format", "c"));
  });

  test("commands refuse the vm backend with a clear usage error", async () => {
    let err = "";
    const code = await main(["prog", "show"], { out: () => {}, err: (t) => (err += t), readStdin: async () => "" });
    expect(code).toBe(2);
    expect(err).toMatch(/--backend linux/);
  });
});

describeKernel("inspection vs bpftool: network links", () => {
  let net: NetnsPair | undefined;
  const reason = bpftoolReason ?? netnsUnavailableReason();
  beforeAll(() => {
    if (reason === null) net = createNetnsPair();
  });
  afterAll(() => net?.remove());

  testFeature("link show: an XDP link, devname resolved in the interface's namespace", () => reason, async () => {
    using p = LinuxProgram.load({ type: ProgType.BPF_PROG_TYPE_XDP, insns: [mov(0, 2), exit] });
    using l = inNetns(net!.nsB, () => attachXdp(p, ifIndex(net!.ifB)));
    const id = String(l.id);
    const theirs = JSON.parse(execFileSync("ip", ["netns", "exec", net!.nsB, "bpftool", "-j", "link", "show", "id", id], { encoding: "utf8" }));
    const ours = JSON.parse(await inNetns(net!.nsB, () => tsbpf("-j", "link", "show", "id", id)));
    expectSuperset(ours, theirs);
    expect(ours).toMatchObject({ type: "xdp", devname: net!.ifB });
  });
});
