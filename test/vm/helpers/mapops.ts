/**
 * Map-helper scenarios: a list of helper calls compiled into one program that
 * records every r0 (and, for lookups, the first 8 bytes of the value found, or
 * for pop/peek the bytes written) into map 0's value, 8 bytes per slot. The
 * same program runs on the vm and in the kernel; tests compare the record and
 * the maps' contents afterwards.
 */
import { FP, ProgramBuilder, R0, R1, R2, R3, R4, R9 } from "../../../src/isa/builder.js";
import type { BpfMap } from "../../../src/vm/maps/map.js";
import type { LinuxMap } from "../../../src/linux/index.js";
import { type Prog, ldMap, ldMapValue } from "./harness.js";
import { stackBytes } from "./progs.js";

export type MapOp =
  | { readonly op: "update"; readonly map: number; readonly key: Uint8Array; readonly value: Uint8Array; readonly flags?: number }
  | { readonly op: "lookup"; readonly map: number; readonly key: Uint8Array }
  | { readonly op: "lookup_percpu"; readonly map: number; readonly key: Uint8Array; readonly cpu: number }
  | { readonly op: "delete"; readonly map: number; readonly key: Uint8Array }
  | { readonly op: "push"; readonly map: number; readonly value: Uint8Array; readonly flags?: number }
  | { readonly op: "pop" | "peek"; readonly map: number; readonly size: number };

const KEY = 64;
const VALUE = 192;

/** Compiles the ops; slots used: 2 per op (r0, then the value's first 8 bytes or -1). Map 0 is the record. */
export function compileOps(ops: readonly MapOp[]): Prog {
  const b = new ProgramBuilder();
  ldMapValue(b, R9, 0);
  ops.forEach((o, i) => {
    const slot = 16 * i;
    const lbl = `after${i}`;
    switch (o.op) {
      case "update":
        stackBytes(b, o.key, KEY);
        stackBytes(b, o.value, VALUE);
        ldMap(b, R1, o.map);
        b.mov(R2, FP).add(R2, -KEY).mov(R3, FP).add(R3, -VALUE).mov(R4, o.flags ?? 0).call("bpf_map_update_elem");
        b.stx(8, R9, slot, R0);
        break;
      case "delete":
        stackBytes(b, o.key, KEY);
        ldMap(b, R1, o.map);
        b.mov(R2, FP).add(R2, -KEY).call("bpf_map_delete_elem").stx(8, R9, slot, R0);
        break;
      case "lookup":
      case "lookup_percpu":
        stackBytes(b, o.key, KEY);
        ldMap(b, R1, o.map);
        b.mov(R2, FP).add(R2, -KEY);
        if (o.op === "lookup_percpu") b.mov(R3, o.cpu).call("bpf_map_lookup_percpu_elem");
        else b.call("bpf_map_lookup_elem");
        // Record only whether it was found: addresses differ between the vm and the kernel.
        b.mov(R1, 1).jne(R0, 0, `${lbl}f`).mov(R1, 0).label(`${lbl}f`).stx(8, R9, slot, R1);
        b.mov(R1, -1).jeq(R0, 0, lbl).ldx(8, R1, R0, 0).label(lbl).stx(8, R9, slot + 8, R1);
        break;
      case "push":
        stackBytes(b, o.value, VALUE);
        ldMap(b, R1, o.map);
        b.mov(R2, FP).add(R2, -VALUE).mov(R3, o.flags ?? 0).call("bpf_map_push_elem").stx(8, R9, slot, R0);
        break;
      case "pop":
      case "peek":
        // Fill the buffer with a marker to see what the helper writes (ENOENT zeroes it).
        stackBytes(b, new Uint8Array(o.size).fill(0xa5), VALUE);
        ldMap(b, R1, o.map);
        b.mov(R2, FP).add(R2, -VALUE).call(o.op === "pop" ? "bpf_map_pop_elem" : "bpf_map_peek_elem").stx(8, R9, slot, R0);
        b.ldx(8, R1, FP, -VALUE).stx(8, R9, slot + 8, R1);
        break;
    }
  });
  b.mov(R0, 0).exit();
  return { insns: b.build().instructions };
}

/** The record as signed 64-bit numbers, two per op. */
export function record(bytes: Uint8Array, ops: number): bigint[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: 2 * ops }, (_, i) => dv.getBigInt64(8 * i, true));
}

/** The first n little-endian signed 64-bit words. */
export function words(bytes: Uint8Array, n: number): bigint[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => dv.getBigInt64(8 * i, true));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A vm map's contents in get_next_key order, as "key=value" hex strings. */
export function dumpVm(m: BpfMap): string[] {
  return [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`);
}

/** A kernel map's contents in get_next_key order. */
export function dumpKernel(m: LinuxMap): string[] {
  const out: string[] = [];
  for (const k of m.keys()) {
    const v = m.lookup(k);
    if (v) out.push(`${hex(k)}=${hex(v)}`);
  }
  return out;
}
