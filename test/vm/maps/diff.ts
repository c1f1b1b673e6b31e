/**
 * Random operation sequences replayed on two targets (vm and kernel, or vm and
 * a model) with every return code and output compared, and the whole contents
 * (get_next_key order included) compared every few steps.
 */
import { expect } from "vitest";
import type { BatchArgs, BatchCmd } from "../../../src/vm/maps/index.js";
import { type Target, dump, hex, prng } from "./util.js";

export interface OpGen {
  key(): Uint8Array;
  value(): Uint8Array;
  updateFlags: readonly number[];
  lookupFlags?: readonly number[];
  /** Batch commands to exercise (the ones the type supports and some it does not). */
  batches?: readonly BatchCmd[];
  /** Size of in/out_batch buffers. */
  batchTokenSize?: number;
  /** Whether keys may be NULL (queue/stack/bloom). */
  nullKey?: boolean;
}

export interface DiffOptions {
  steps: number;
  seed: number;
  /** Compare contents every N steps (and at the end). */
  dumpEvery?: number;
  /** Skip comparing get_next_key order (compare sorted) where order is not deterministic. */
  unordered?: boolean;
  /** Leave out get_next_key with a key (a model cannot know another backend's order). */
  noNextKey?: boolean;
}

export function runDiff(a: Target, b: Target, gen: OpGen, rnd: ReturnType<typeof prng>, opts: DiffOptions): Record<string, number> {
  const ks = a.keySize;
  const vs = a.valueSize;
  const stats: Record<string, number> = {};
  const count = (name: string, rc: number): void => {
    const k = `${name}:${rc}`;
    stats[k] = (stats[k] ?? 0) + 1;
  };
  let token: Uint8Array | null = null as Uint8Array | null;
  const contents = (t: Target): string[] => {
    const d = dump(t);
    return opts.unordered ? [...d].sort() : d;
  };
  for (let step = 0; step < opts.steps; step++) {
    const op = rnd.int(100);
    const key = gen.nullKey ? null : gen.key();
    let label = "";
    if (op < 40) {
      const v = gen.value();
      const f = rnd.pick(gen.updateFlags);
      label = `update ${hex(key)} ${hex(v)} flags=${f}`;
      const ra = a.update(key, v, f);
      const rb = b.update(key, v, f);
      expect(ra, `step ${step}: ${label}`).toBe(rb);
      count("update", ra);
    } else if (op < 60) {
      const f = gen.lookupFlags ? rnd.pick(gen.lookupFlags) : 0;
      const oa = gen.nullKey ? gen.value() : new Uint8Array(vs);
      const ob = oa.slice();
      label = `lookup ${hex(key)} flags=${f}`;
      const ra = a.lookup(key, oa, f);
      const rb = b.lookup(key, ob, f);
      expect([ra, hex(oa)], `step ${step}: ${label}`).toEqual([rb, hex(ob)]);
      count("lookup", ra);
    } else if (op < 75) {
      label = `delete ${hex(key)}`;
      const ra = a.delete(key);
      const rb = b.delete(key);
      expect(ra, `step ${step}: ${label}`).toBe(rb);
      count("delete", ra);
    } else if (op < 85) {
      if (opts.noNextKey) continue;
      const k = rnd.chance(0.2) ? null : gen.nullKey ? null : key;
      const na = new Uint8Array(Math.max(ks, 4));
      const nb = new Uint8Array(Math.max(ks, 4));
      label = `get_next_key ${hex(k)}`;
      const ra = a.getNextKey(k, na);
      const rb = b.getNextKey(k, nb);
      expect([ra, hex(na)], `step ${step}: ${label}`).toEqual([rb, hex(nb)]);
      count("get_next_key", ra);
    } else if (op < 92) {
      const f = rnd.chance(0.8) ? 0 : rnd.pick([1, 4]);
      const oa = new Uint8Array(vs);
      const ob = new Uint8Array(vs);
      label = `lookup_and_delete ${hex(key)} flags=${f}`;
      const ra = a.lookupAndDelete(key, oa, f);
      const rb = b.lookupAndDelete(key, ob, f);
      expect([ra, hex(oa)], `step ${step}: ${label}`).toEqual([rb, hex(ob)]);
      count("lookup_and_delete", ra);
    } else if (gen.batches && gen.batches.length) {
      const cmd = rnd.pick(gen.batches);
      const n = rnd.int(6);
      const tks = gen.batchTokenSize ?? ks;
      const keys = new Uint8Array(Math.max(1, n) * ks);
      const values = new Uint8Array(Math.max(1, n) * vs);
      if (cmd === "update" || cmd === "delete") {
        for (let i = 0; i < n; i++) {
          keys.set(gen.key(), i * ks);
          values.set(gen.value(), i * vs);
        }
      }
      const inBatch: Uint8Array | null = cmd === "lookup" || cmd === "lookup_and_delete" ? (rnd.chance(0.5) ? token : null) : null;
      const mk = (): BatchArgs => ({ inBatch: inBatch ? inBatch.slice() : null, outBatch: new Uint8Array(tks), keys: keys.slice(), values: values.slice(), count: n, elemFlags: rnd.chance(0.9) ? 0 : 4 });
      const ba = mk();
      const bb = { ...mk(), elemFlags: ba.elemFlags };
      label = `batch ${cmd} count=${n} in=${hex(inBatch)} elem_flags=${ba.elemFlags}`;
      const ra = a.batch(cmd, ba);
      const rb = b.batch(cmd, bb);
      expect([ra, ba.count, hex(ba.outBatch), hex(ba.keys), hex(ba.values)], `step ${step}: ${label}`)
        .toEqual([rb, bb.count, hex(bb.outBatch), hex(bb.keys), hex(bb.values)]);
      if (ra === 0) token = ba.outBatch;
      else if (ra < 0) token = null;
      count(`batch_${cmd}`, ra);
    }
    if (process.env.DEBUG_OPS && step >= Number(process.env.DEBUG_OPS)) console.log(step, label, JSON.stringify(dump(a)), JSON.stringify(dump(b)));
    if ((opts.dumpEvery && step % opts.dumpEvery === 0) || step === opts.steps - 1) {
      expect(contents(a), `contents after step ${step}: ${label}`).toEqual(contents(b));
    }
  }
  return stats;
}
