/**
 * Shared pieces of the map tests: a seeded PRNG, byte helpers, and one
 * "map under test" face over both a vm map and a kernel map, so a differential
 * test replays the same operations on both and compares every result.
 */
import { expect } from "vitest";
import { AddressSpace } from "../../../src/vm/memory.js";
import { type BatchArgs, type BatchCmd, type BpfMap, type MapAttrs, type MapOptions, createMap } from "../../../src/vm/maps/index.js";
import { CMD, type KernelMapAttrs, kBatch, kClose, kDelete, kFreeze, kGetNextKey, kLookup, kLookupAndDelete, kMapCreate, kUpdate } from "./kernel-maps.js";

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

export function bytes(n: number, fill: (i: number) => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = fill(i) & 0xff;
  return b;
}

export const hex = (b: Uint8Array | null): string => (b ? Buffer.from(b).toString("hex") : "null");

export function newSpace(): AddressSpace {
  return new AddressSpace({ initialBytes: 1 << 20 });
}

/** The operations both backends answer, each 0 / fd / -errno. */
export interface Target {
  readonly keySize: number;
  readonly valueSize: number;
  lookup(key: Uint8Array | null, out: Uint8Array, flags?: number): number;
  update(key: Uint8Array | null, value: Uint8Array, flags?: number): number;
  delete(key: Uint8Array | null): number;
  getNextKey(key: Uint8Array | null, next: Uint8Array): number;
  lookupAndDelete(key: Uint8Array | null, out: Uint8Array, flags?: number): number;
  batch(cmd: BatchCmd, b: BatchArgs): number;
  freeze(): number;
  close(): void;
}

export function vmTarget(map: BpfMap): Target {
  return {
    keySize: map.keySize,
    valueSize: map.userValueSize,
    lookup: (k, o, f = 0) => map.sysLookup(k, o, f),
    update: (k, v, f = 0) => map.sysUpdate(k, v, f),
    delete: (k) => map.sysDelete(k),
    getNextKey: (k, n) => map.sysGetNextKey(k, n),
    lookupAndDelete: (k, o, f = 0) => map.sysLookupAndDelete(k, o, f),
    batch: (c, b) => map.sysBatch(c, b),
    freeze: () => map.sysFreeze(),
    close: () => map.dispose(),
  };
}

const batchCmd: Record<BatchCmd, number> = {
  lookup: CMD.MAP_LOOKUP_BATCH,
  lookup_and_delete: CMD.MAP_LOOKUP_AND_DELETE_BATCH,
  update: CMD.MAP_UPDATE_BATCH,
  delete: CMD.MAP_DELETE_BATCH,
};

export const kernelTargetFor = (fd: number, keySize: number, valueSize: number): Target => kernelTarget(fd, keySize, valueSize);

export function kernelTarget(fd: number, keySize: number, valueSize: number): Target {
  return {
    keySize,
    valueSize,
    lookup: (k, o, f = 0) => kLookup(fd, k, o, f),
    update: (k, v, f = 0) => kUpdate(fd, k, v, f),
    delete: (k) => kDelete(fd, k),
    getNextKey: (k, n) => kGetNextKey(fd, k, n),
    lookupAndDelete: (k, o, f = 0) => kLookupAndDelete(fd, k, o, f),
    batch: (c, b) => kBatch(batchCmd[c], fd, b),
    freeze: () => kFreeze(fd),
    close: () => kClose(fd),
  };
}

/** Creates the same map in the vm (in `space`) and in the kernel. */
export function mapPair(space: AddressSpace, attrs: MapAttrs, options: MapOptions = {}): { vm: Target; k: Target; map: BpfMap } {
  const map = createMap(space, attrs, { ncpus: 2, hashSeed: 0, ...options });
  const kattrs: KernelMapAttrs = {
    mapType: attrs.mapType,
    keySize: attrs.keySize,
    valueSize: attrs.valueSize,
    maxEntries: attrs.maxEntries,
    mapFlags: attrs.mapFlags,
    mapExtra: attrs.mapExtra === undefined ? undefined : Number(attrs.mapExtra),
  };
  const fd = kMapCreate(kattrs);
  if (fd < 0) throw new Error(`kernel map create failed: ${fd}`);
  return { vm: vmTarget(map), k: kernelTarget(fd, attrs.keySize, map.userValueSize), map };
}

/** All keys in get_next_key order, with values (lookup), as hex strings. */
export function dump(t: Target, max = 100000): string[] {
  const out: string[] = [];
  let prev: Uint8Array | null = null;
  for (let i = 0; i < max; i++) {
    const next = new Uint8Array(t.keySize);
    const r = t.getNextKey(prev, next);
    if (r !== 0) {
      out.push(`end ${r}`);
      break;
    }
    const v = new Uint8Array(t.valueSize);
    const lr = t.lookup(next, v);
    out.push(`${hex(next)}=${lr === 0 ? hex(v) : lr}`);
    prev = next;
  }
  return out;
}

/** Runs `op` on both targets and expects the same return code and output bytes. */
export function same(step: string, vm: () => [number, ...unknown[]], k: () => [number, ...unknown[]]): number {
  const a = vm();
  const b = k();
  expect(normalise(a), step).toEqual(normalise(b));
  return a[0];
}

function normalise(xs: unknown[]): unknown[] {
  return xs.map((x) => (x instanceof Uint8Array ? hex(x) : x));
}
