/**
 * The helpers' own cost, without an engine: each helper's fn called in a JS
 * loop on a prepared HelperCall (what an engine does per BPF call, minus its
 * register copies). Complements bench/helpers.ts, whose loop includes the
 * engine's call path.
 *
 *   npx tsc -p bench/tsconfig.json && node bench/out/bench/helpers-direct.js
 */
import { CALL_AREA, type Execution, HelperCall, HelperRegistry } from "../src/vm/helpers/abi.js";
import { defaultHelpers } from "../src/vm/helpers/index.js";
import { realHost } from "../src/vm/host.js";
import { createMap } from "../src/vm/maps/create.js";
import { type BpfMap, mapAt } from "../src/vm/maps/map.js";
import { RingBufMap } from "../src/vm/maps/ringbuf.js";
import { AddressSpace } from "../src/vm/memory.js";
import type { RunState, VmServices } from "../src/vm/runtime/services.js";
import { TracePipe } from "../src/vm/runtime/trace-pipe.js";

const N = 2_000_000;

class Services implements VmServices {
  readonly space = new AddressSpace();
  readonly host = realHost();
  readonly ncpus = 2;
  readonly tracePipe = new TracePipe();
  readonly helpers = new HelperRegistry(defaultHelpers(this));
  readonly runs: RunState[] = [{ program: { id: 1, name: "b", progType: 17, attachType: 0, checked: false, gplCompatible: true }, cpu: 0, ctx: 0 }];
  mapAt(addr: number): BpfMap | undefined {
    return mapAt(this.space, addr);
  }
  current(): RunState {
    return this.runs[this.runs.length - 1];
  }
  checkMem(addr: number, len: number, write: boolean, pc: number): void {
    if (this.runs[this.runs.length - 1]?.program.checked) this.space.checkAccess(addr, 0, len, write, pc);
  }
}

const s = new Services();
const call = new HelperCall(s.space);
const exec: Execution = { cpu: 0, ctx: 0, invokeCallback: () => 0 };
call.exec = exec;
const stack = s.space.alloc(64, 16);
s.space.mapRegion(stack, 64, "stack", true);
s.space.u32[stack >>> 2] = 1;
const setArgs = (...a: number[]): void => {
  a.forEach((v, i) => {
    s.space.u32[(CALL_AREA >> 2) + 2 * (i + 1)] = v;
    s.space.u32[(CALL_AREA >> 2) + 2 * (i + 1) + 1] = 0;
  });
};

function bench(name: string, id: number, args: number[], each?: () => void): void {
  const fn = s.helpers.get(id)!.fn;
  let best = Infinity;
  for (let rep = 0; rep < 9; rep++) {
    each?.();
    setArgs(...args);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(call);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  console.log(`${name.padEnd(40)} ${best.toFixed(1).padStart(6)} ns`);
}

const hash = createMap(s.space, { mapType: 1, keySize: 4, valueSize: 8, maxEntries: 1024 }, { ncpus: 2 });
hash.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8));
const array = createMap(s.space, { mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1024 }, { ncpus: 2 });
const ring = createMap(s.space, { mapType: 27, keySize: 0, valueSize: 0, maxEntries: 1 << 26 }, { ncpus: 2 }) as RingBufMap;

bench("map_lookup_elem (hash, hit)", 1, [hash.addr, stack]);
bench("map_lookup_elem (array)", 1, [array.addr, stack]);
bench("map_update_elem (hash, existing)", 2, [hash.addr, stack, stack + 8, 0]);
bench("ringbuf_output (8 bytes, no wakeup)", 130, [ring.addr, stack, 8, 1], () => (ring.consumerPos = ring.producerPos));
bench("ktime_get_ns", 5, []);
bench("get_smp_processor_id", 8, []);
bench("get_current_pid_tgid", 14, []);
