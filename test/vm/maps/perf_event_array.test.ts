import { describe, expect, test } from "vitest";
import { ERRNO } from "../../../src/errors.js";
import { BPF_F_CURRENT_CPU, BPF_MAP_TYPE, type PerfEventArrayMap, PerfEventRing, createMap } from "../../../src/vm/maps/index.js";
import { PerfBufReader } from "../../../src/vm/readers/index.js";
import { describeKernel } from "../../helpers/kernel.js";
import { kClose, kDelete, kLookup, kMapCreate, kUpdate } from "./kernel-maps.js";
import { bytes, newSpace, u32 } from "./util.js";

const E = ERRNO;

function perfMap(max = 2, resolver?: { perfEvent(fd: number): unknown }): PerfEventArrayMap {
  return createMap(newSpace(), { mapType: BPF_MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: max }, { ncpus: 2, resolver }) as PerfEventArrayMap;
}

describe("perf event array", () => {
  test("output errors: EINVAL flags, E2BIG index, ENOENT empty slot, EOPNOTSUPP other CPU's event", () => {
    const m = perfMap(4);
    const d = m.space.allocBytes(u32(5));
    expect(m.output(0, 0, 1, d, 4)).toBe(-E.EINVAL);
    expect(m.output(0, 4, 0, d, 4)).toBe(-E.E2BIG);
    expect(m.output(0, 0, 0, d, 4)).toBe(-E.ENOENT);
    m.openRing(1);
    expect(m.output(0, 1, 0, d, 4)).toBe(-E.EOPNOTSUPP);
    expect(m.output(1, BPF_F_CURRENT_CPU, 0, d, 4)).toBe(0);
  });

  test("samples are PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW padded to 8 bytes; the reader gets them per CPU", () => {
    const m = perfMap();
    const rd = new PerfBufReader(m, { pages: 1 });
    const d = m.space.allocBytes(bytes(5, (i) => i + 1));
    expect(m.output(0, BPF_F_CURRENT_CPU, 0, d, 5)).toBe(0);
    expect(m.output(1, BPF_F_CURRENT_CPU, 0, d, 3)).toBe(0);
    const ring0 = rd.rings[0];
    // header(8) + u32 size + 5 data bytes padded: raw size field 12, record 24 bytes.
    expect(ring0.head).toBe(24);
    expect([...ring0.data.slice(0, 12)]).toEqual([9, 0, 0, 0, 0, 0, 24, 0, 12, 0, 0, 0]);
    const recs = rd.drain();
    expect(recs.map((r) => (r.kind === "sample" ? [r.cpu, r.data.length, r.data[0]] : []))).toEqual([[0, 12, 1], [1, 4, 1]]);
  });

  test("a full ring counts lost samples (ENOSPC) and reports them with PERF_RECORD_LOST before the next sample", () => {
    const m = perfMap(1);
    const rd = new PerfBufReader(m, { pages: 1, cpus: [0] });
    const d = m.space.allocBytes(new Uint8Array(1000));
    let ok = 0;
    while (m.output(0, 0, 0, d, 1000) === 0) ok++;
    expect(ok).toBe(4);
    expect(m.output(0, 0, 0, d, 1000)).toBe(-E.ENOSPC);
    rd.drain();
    expect(m.output(0, 0, 0, d, 1000)).toBe(0);
    const recs = rd.drain();
    expect(recs[0]).toEqual({ kind: "lost", cpu: 0, lost: 2 });
    expect(recs[1].kind).toBe("sample");
  });

  test("records wrapping the ring's end are read whole", () => {
    const m = perfMap(1);
    const rd = new PerfBufReader(m, { pages: 1, cpus: [0] });
    const d = m.space.allocBytes(bytes(1500, (i) => i));
    for (let i = 0; i < 10; i++) {
      expect(m.output(0, 0, 0, d, 1500)).toBe(0);
      const [r] = rd.drain();
      expect(r.kind === "sample" && r.data.subarray(0, 1500)).toEqual(bytes(1500, (j) => j));
    }
  });

  test("user space: update takes a perf event fd (EBADF, EINVAL otherwise), lookup is ENOTSUPP, delete empties", () => {
    const ring = new PerfEventRing(0);
    const m = perfMap(2, { perfEvent: (fd) => (fd === 7 ? ring : fd === 8 ? {} : undefined) });
    expect(m.sysUpdate(u32(0), u32(9))).toBe(-E.EBADF);
    expect(m.sysUpdate(u32(0), u32(8))).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(0), u32(7), 1)).toBe(-E.EINVAL);
    expect(m.sysUpdate(u32(2), u32(7))).toBe(-E.E2BIG);
    expect(m.sysUpdate(u32(0), u32(7))).toBe(0);
    expect(m.get(0)).toBe(ring);
    expect(m.sysLookup(u32(0), new Uint8Array(4))).toBe(-E.ENOTSUPP);
    expect(m.sysDelete(u32(0))).toBe(0);
    expect(m.sysDelete(u32(0))).toBe(-E.ENOENT);
  });
});

describeKernel("perf event array vs the kernel", () => {
  test("user-space lookup, delete, get_next_key and bad fds agree on an empty map", () => {
    const m = perfMap(3, { perfEvent: () => undefined });
    const fd = kMapCreate({ mapType: BPF_MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 });
    try {
      for (const i of [0, 2, 3]) {
        expect(m.sysLookup(u32(i), new Uint8Array(4)), `lookup ${i}`).toBe(kLookup(fd, u32(i), new Uint8Array(4)));
        expect(m.sysDelete(u32(i)), `delete ${i}`).toBe(kDelete(fd, u32(i)));
        expect(m.sysUpdate(u32(i), u32(999)), `update ${i}`).toBe(kUpdate(fd, u32(i), u32(999)));
        expect(m.sysUpdate(u32(i), u32(999), 2), `update flags ${i}`).toBe(kUpdate(fd, u32(i), u32(999), 2));
      }
      expect(m.sysUpdate(u32(0), u32(5))).toBe(kUpdate(fd, u32(0), u32(fd)));
    } finally {
      kClose(fd);
    }
  });
});
