import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { linuxBackend } from "../../src/linux/backend.js";
import { availableBackends, loadInBackends } from "../helpers/both-backends.js";
import { describeKernel } from "../helpers/kernel.js";

const bench = (file: string): Uint8Array => readFileSync(new URL(`../fixtures/bench/${file}`, import.meta.url));
const input = (file: string): Uint8Array => readFileSync(new URL(`../fixtures/bench/inputs/${file}`, import.meta.url));

describeKernel("differential helper (both-backends.ts)", () => {
  test("availableBackends() finds the linux backend here (and vm once it exists)", async () => {
    const names = (await availableBackends()).map((f) => f().name);
    expect(names).toContain("linux");
  });

  test("loadInBackends: same bytes, runs and map contents side by side (two linux loads agree)", () => {
    using all = loadInBackends(bench("03_xdp_parse_udp.bpf.o"), [linuxBackend, linuxBackend]);
    expect(all.backends).toEqual(["linux", "linux#2"]);
    const runs = all.run("bench_xdp_parse_udp", { data: input("pkt_udp_memcached.bin"), repeat: 3 });
    expect(runs.linux.retval).toBe(1);
    expect(runs["linux#2"].retval).toBe(1);
    expect(Buffer.from(runs.linux.dataOut!)).toEqual(Buffer.from(runs["linux#2"].dataOut!));
    const maps = all.mapContents();
    expect(maps.linux.verdict_cnt).toEqual([0, 1, 2, 3, 4].map((i) => [`0${i}000000`, i === 1 ? "0300000000000000" : "0000000000000000"]));
    expect(maps.linux).toEqual(maps["linux#2"]);
  });

  test("every benchmark object: the same retval, data_out and map contents in every available backend", async () => {
    const backends = await availableBackends();
    const rows = readFileSync(new URL("../fixtures/bench/bench.tsv", import.meta.url), "utf8")
      .split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
    for (const [name, object, program, pkt, expected, , setup] of rows) {
      using all = loadInBackends(bench(object.replace("build/", "")), backends);
      if (setup.startsWith("lpm:")) {
        for (const c of all.collections.values()) {
          for (const line of readFileSync(new URL("../fixtures/bench/inputs/lpm_routes.txt", import.meta.url), "utf8").split("\n")) {
            const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)/.exec(line.trim());
            if (!m) continue;
            const key = new Uint8Array(8);
            new DataView(key.buffer).setUint32(0, Number(m[5]), true);
            key.set([1, 2, 3, 4].map((i) => Number(m[i])), 4);
            const v = new Uint8Array(4);
            new DataView(v.buffer).setUint32(0, Number(m[6]), true);
            c.map(setup.split(":")[1]).update(key, v);
          }
        }
      }
      const runs = all.run(program, { data: input(pkt.replace("inputs/", "")), repeat: 3 });
      const ref = runs.linux;
      expect(ref.retval, name).toBe(Number(expected));
      for (const [b, r] of Object.entries(runs)) {
        expect(r.retval, `${name} retval on ${b}`).toBe(ref.retval);
        expect(Buffer.from(r.dataOut ?? []), `${name} data_out on ${b}`).toEqual(Buffer.from(ref.dataOut ?? []));
      }
      const maps = all.mapContents();
      for (const b of all.backends) expect(maps[b], `${name} maps on ${b}`).toEqual(maps.linux);
    }
  });

  test("a backend that refuses the object: the error names it and the others are disposed", () => {
    const failing = () => ({ name: "vm" as const, load: () => { throw new Error("nope"); } });
    expect(() => loadInBackends(bench("00_empty.bpf.o"), [linuxBackend, failing])).toThrow(/^vm backend: nope$/);
  });
});
