/**
 * Tracepoint-like hooks: an event with a record layout, as the kernel's
 * /sys/kernel/tracing/events/<category>/<name>/format describes it. A
 * BPF_PROG_TYPE_TRACEPOINT program's context is the record: the common
 * header (common_type, common_flags, common_preempt_count, common_pid) then
 * the event's fields at their offsets.
 */
import { BPF_PROG_TYPE_TRACEPOINT } from "../progtypes/constants.js";
import { RunMemory } from "../progtypes/runtime/common.js";
import type { RunningProgram, VmServices } from "../runtime/services.js";
import { Hook, type ProgramResult } from "./hook.js";

/** One field of a tracepoint record ("field:int dfd; offset:16; size:8; signed:0;"). */
export interface TracepointField {
  readonly name: string;
  /** The C type as the format file prints it. */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
}

export interface TracepointFormat {
  readonly category: string;
  readonly name: string;
  /** The event id (common_type). */
  readonly id: number;
  /** The event's own fields, after the common header. */
  readonly fields: readonly TracepointField[];
}

/** The common header of every record (include/linux/trace_events.h, struct trace_entry). */
export const COMMON_FIELDS: readonly TracepointField[] = [
  { name: "common_type", type: "unsigned short", offset: 0, size: 2, signed: false },
  { name: "common_flags", type: "unsigned char", offset: 2, size: 1, signed: false },
  { name: "common_preempt_count", type: "unsigned char", offset: 3, size: 1, signed: false },
  { name: "common_pid", type: "int", offset: 4, size: 4, signed: true },
];

/**
 * syscalls/sys_enter_openat as Linux 6.18 on x86-64 lays it out
 * (events/syscalls/sys_enter_openat/format): the syscall number, then each
 * argument widened to 8 bytes.
 */
export const SYS_ENTER_OPENAT: TracepointFormat = {
  category: "syscalls",
  name: "sys_enter_openat",
  id: 782,
  fields: [
    { name: "__syscall_nr", type: "int", offset: 8, size: 4, signed: true },
    { name: "dfd", type: "int", offset: 16, size: 8, signed: false },
    { name: "filename", type: "const char *", offset: 24, size: 8, signed: false },
    { name: "flags", type: "int", offset: 32, size: 8, signed: false },
    { name: "mode", type: "umode_t", offset: 40, size: 8, signed: false },
  ],
};

/** A field's value: a number or bigint (written little-endian in its size), or raw bytes. */
export type FieldValue = number | bigint | Uint8Array;

/**
 * Parses the text of a tracing format file (the "format:" section) into a
 * layout; common fields are recognised and dropped.
 */
export function parseTracepointFormat(category: string, name: string, text: string): TracepointFormat {
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? 0);
  const fields: TracepointField[] = [];
  for (const m of text.matchAll(/field:([^;]+);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/g)) {
    const decl = m[1].trim();
    const fname = /([A-Za-z_]\w*)(\[[^\]]*\])?$/.exec(decl)?.[1] ?? decl;
    if (fname.startsWith("common_")) continue;
    fields.push({ name: fname, type: decl.slice(0, decl.length - fname.length).trim() || decl, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === "1" });
  }
  return { category, name, id, fields };
}

export interface TracepointFireResult {
  readonly results: readonly ProgramResult[];
}

export class TracepointHook extends Hook {
  readonly kind = "tracepoint";
  /** Bytes of one record. */
  readonly recordSize: number;

  constructor(
    name: string,
    services: VmServices,
    readonly format: TracepointFormat,
  ) {
    super(name, services);
    this.recordSize = Math.max(8, ...format.fields.map((f) => f.offset + f.size));
  }

  protected accepts(p: RunningProgram): boolean {
    return p.progType === BPF_PROG_TYPE_TRACEPOINT;
  }

  /**
   * Fires the event: a record with the common header (common_pid the host's
   * current task) and the given field values (unnamed fields read 0); every
   * attached program runs on it, read-only.
   */
  fire(values: Readonly<Record<string, FieldValue>> = {}): TracepointFireResult {
    const memory = new RunMemory(this.services.space);
    try {
      // Verified programs may read before the record (tp_prog_is_valid_access takes negative
      // offsets): zeros in front of it, as far as the attached programs reach.
      let before = 0;
      for (const l of this.links) before = Math.max(before, -(l.program.program.minCtxOffset ?? 0));
      const base = memory.alloc(before + this.recordSize);
      const rec = base + before;
      const { dv, u8 } = this.services.space;
      dv.setUint16(rec, this.format.id & 0xffff, true);
      dv.setInt32(rec + 4, this.services.host.task.pid, true);
      for (const [k, v] of Object.entries(values)) {
        const f = this.format.fields.find((x) => x.name === k);
        if (!f) throw new RangeError(`tracepoint ${this.format.category}/${this.format.name} has no field ${k}`);
        writeField(u8, rec + f.offset, f.size, v);
      }
      memory.region("ctx", false, `${this.format.name} record`, base, rec + this.recordSize);
      const results: ProgramResult[] = [];
      this.each((run, link) => {
        results.push(this.result(link, run(rec)));
      });
      return { results };
    } finally {
      memory.dispose();
    }
  }
}

/** Writes a value in `size` little-endian bytes (bytes are copied, truncated to the size). */
export function writeField(u8: Uint8Array, at: number, size: number, v: FieldValue): void {
  if (v instanceof Uint8Array) {
    u8.set(v.subarray(0, size), at);
    return;
  }
  let lo: number;
  let hi: number;
  if (typeof v === "bigint") {
    const b = BigInt.asUintN(64, v);
    lo = Number(b & 0xffffffffn);
    hi = Number(b >> 32n);
  } else {
    // Two's complement for negative numbers, exact within 2^53.
    const t = Math.trunc(v);
    lo = t >>> 0;
    hi = Math.floor(t / 4294967296) >>> 0;
  }
  for (let i = 0; i < size && i < 8; i++) u8[at + i] = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
}
