/**
 * Test-only BPF_PROG_LOAD for the differential tests of the verifier-fact tables:
 * builds the bpf_attr by hand (the full linux backend lives elsewhere; these tests
 * must not depend on it), loads, closes, and returns the kernel's verdict and log.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Btf } from "../../../src/btf/btf.js";
import { formatBtfC } from "../../../src/btf/dump-c.js";
import { formatBtfRaw } from "../../../src/btf/dump-raw.js";
import { loadBtf } from "../../../src/btf/load.js";
import { encodeInsn, type Instruction } from "../../../src/isa/instruction.js";
import { addressOf, bpfSyscall, closeFd } from "../../../src/linux/syscall.js";

/** bpf() commands. include/uapi/linux/bpf.h, enum bpf_cmd. */
const BPF_MAP_CREATE = 0;
const BPF_PROG_LOAD = 5;

/**
 * Size of the bpf_attr we pass: up to and including fd_array_cnt (offset 148).
 * Offsets from union bpf_attr's BPF_PROG_LOAD member in this kernel's BTF.
 */
const PROG_LOAD_ATTR_SIZE = 152;

export interface LoadRequest {
  readonly progType: number;
  readonly insns: readonly Instruction[];
  readonly expectedAttachType?: number;
  /** BTF id in vmlinux of the attach target (tracing, lsm, struct_ops). */
  readonly attachBtfId?: number;
  readonly license?: string;
  /** BPF_F_* load flags (e.g. BPF_F_SLEEPABLE = 1 << 4). */
  readonly progFlags?: number;
  /** Log level; 1 gives the verifier's messages, which the tests read on rejection. */
  readonly logLevel?: number;
}

export interface LoadResult {
  readonly ok: boolean;
  readonly errno: number;
  readonly log: string;
}

/** Encodes instructions into the kernel's struct bpf_insn array. */
export function encodeProgram(insns: readonly Instruction[]): Buffer {
  const raws = insns.flatMap((i) => encodeInsn(i));
  const buf = Buffer.alloc(raws.length * 8);
  raws.forEach((r, i) => {
    buf.writeUInt8(r.opcode, i * 8);
    buf.writeUInt8((r.dst & 0xf) | ((r.src & 0xf) << 4), i * 8 + 1);
    buf.writeInt16LE(r.off, i * 8 + 2);
    buf.writeInt32LE(r.imm, i * 8 + 4);
  });
  return buf;
}

const logBuf = Buffer.alloc(1 << 20);

/** BPF_PROG_LOAD; the program (if accepted) is closed at once. */
export function loadProgram(req: LoadRequest): LoadResult {
  const code = encodeProgram(req.insns);
  const license = Buffer.from(`${req.license ?? "GPL"}\0`);
  const attr = Buffer.alloc(PROG_LOAD_ATTR_SIZE);
  const logLevel = req.logLevel ?? 1;
  attr.writeUInt32LE(req.progType, 0);
  attr.writeUInt32LE(code.length / 8, 4);
  attr.writeBigUInt64LE(addressOf(code), 8);
  attr.writeBigUInt64LE(addressOf(license), 16);
  if (logLevel > 0) {
    logBuf[0] = 0;
    attr.writeUInt32LE(logLevel, 24);
    attr.writeUInt32LE(logBuf.length, 28);
    attr.writeBigUInt64LE(addressOf(logBuf), 32);
  }
  attr.writeUInt32LE(req.progFlags ?? 0, 44);
  attr.writeUInt32LE(req.expectedAttachType ?? 0, 68);
  attr.writeUInt32LE(req.attachBtfId ?? 0, 108);
  const r = bpfSyscall(BPF_PROG_LOAD, attr);
  // Keep the buffers alive across the call: their addresses are in attr.
  void code.length;
  void license.length;
  if (r.ret >= 0) closeFd(r.ret);
  const end = logLevel > 0 ? logBuf.indexOf(0) : 0;
  return { ok: r.ret >= 0, errno: r.errno, log: logLevel > 0 ? logBuf.toString("utf8", 0, end < 0 ? logBuf.length : end) : "" };
}

/** Creates a map (closed by the caller with closeFd); returns the fd or throws. */
export function createMap(mapType: number, keySize: number, valueSize: number, maxEntries: number, flags = 0): number {
  const attr = Buffer.alloc(72);
  attr.writeUInt32LE(mapType, 0);
  attr.writeUInt32LE(keySize, 4);
  attr.writeUInt32LE(valueSize, 8);
  attr.writeUInt32LE(maxEntries, 12);
  attr.writeUInt32LE(flags, 16);
  const r = bpfSyscall(BPF_MAP_CREATE, attr);
  if (r.ret < 0) throw new Error(`BPF_MAP_CREATE type ${mapType} failed: errno ${r.errno}`);
  return r.ret;
}

export { closeFd };

const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

/** Why the kernel BTF cannot be read here, or null when it can. */
export function btfUnavailableReason(): string | null {
  if (!existsSync(VMLINUX_BTF)) return `${VMLINUX_BTF} is absent (kernel built without CONFIG_DEBUG_INFO_BTF)`;
  return null;
}

// The kernel's BTF, read with src/btf (whose dumps are checked byte for byte
// against bpftool's in test/btf), so these tests need no bpftool.
let vmlinux: Btf | undefined;
const vmlinuxBtf = (): Btf => (vmlinux ??= loadBtf(new Uint8Array(readFileSync(VMLINUX_BTF))).btf);

let rawDump: string | undefined;

/** `bpftool btf dump file /sys/kernel/btf/vmlinux` (raw format), cached. */
export function vmlinuxRaw(): string {
  rawDump ??= formatBtfRaw(vmlinuxBtf());
  return rawDump;
}

let cDump: string | undefined;

/** `bpftool btf dump file /sys/kernel/btf/vmlinux format c`, cached. */
export function vmlinuxC(): string {
  cDump ??= formatBtfC(vmlinuxBtf());
  return cDump;
}

/** The BTF id of a named FUNC in vmlinux (an fentry / lsm attach target). */
export function vmlinuxFuncId(name: string): number | undefined {
  return vmlinuxBtf().find("func", name)?.id;
}

/** The enumerators of a named enum in vmlinux's BTF, in order. */
export function vmlinuxEnum(name: string): Map<string, number> {
  const raw = vmlinuxRaw();
  const head = new RegExp(`^\\[\\d+\\] ENUM '${name}' [^\\n]*\\n`, "m").exec(raw);
  if (!head) throw new Error(`enum ${name} not in vmlinux BTF`);
  const out = new Map<string, number>();
  const lines = raw.slice(head.index + head[0].length).split("\n");
  for (const line of lines) {
    const m = /^\s+'([^']+)' val=(-?\d+)/.exec(line);
    if (!m) break;
    out.set(m[1], Number(m[2]));
  }
  return out;
}

interface RawType {
  readonly kind: string;
  readonly name: string;
  readonly size?: number;
  readonly typeId?: number;
  readonly nelems?: number;
  readonly lines: string[];
}

let rawTypes: Map<number, RawType> | undefined;

function num(re: RegExp, s: string): number | undefined {
  const m = re.exec(s);
  return m ? Number(m[1]) : undefined;
}

function parseRaw(): Map<number, RawType> {
  if (rawTypes) return rawTypes;
  const out = new Map<number, RawType>();
  let cur: RawType | undefined;
  for (const line of vmlinuxRaw().split("\n")) {
    const m = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (m) {
      const rest = m[4];
      // ARRAY headers read "type_id=N index_type_id=M nr_elems=K": the first type_id= is the element.
      cur = { kind: m[2], name: m[3], lines: [], size: num(/size=(\d+)/, rest), typeId: num(/type_id=(\d+)/, rest), nelems: num(/nr_elems=(\d+)/, rest) };
      out.set(Number(m[1]), cur);
    } else if (cur && line.startsWith("\t")) {
      cur.lines.push(line);
    }
  }
  return (rawTypes = out);
}

const MODIFIERS = new Set(["TYPEDEF", "CONST", "VOLATILE", "TYPE_TAG", "RESTRICT"]);

function resolve(id: number): { t: RawType; id: number } {
  const types = parseRaw();
  let t = types.get(id);
  if (!t) throw new Error(`BTF type ${id} missing`);
  while (MODIFIERS.has(t.kind)) {
    id = t.typeId ?? 0;
    const next = types.get(id);
    if (!next) throw new Error(`BTF type ${id} missing`);
    t = next;
  }
  return { t, id };
}

function sizeOfType(id: number): number {
  const { t } = resolve(id);
  if (t.kind === "ARRAY") return sizeOfType(t.typeId ?? 0) * (t.nelems ?? 0);
  if (t.kind === "PTR") return 8;
  return t.size ?? 0;
}

/** One member of a uapi struct, with anonymous unions and structs flattened. */
export interface BtfField {
  readonly name: string;
  /** Byte offset in the outer struct. */
  readonly offset: number;
  /** Size in bytes (of one element, for arrays). */
  readonly size: number;
  /** Element count for arrays. */
  readonly count?: number;
}

function flatten(id: number, base: number, out: BtfField[]): void {
  const { t } = resolve(id);
  for (const l of t.lines) {
    const m = /^\s+'([^']*)' type_id=(\d+) bits_offset=(\d+)/.exec(l);
    if (!m) throw new Error(`unparsed BTF member line: ${l}`);
    const off = base + Number(m[3]) / 8;
    const r = resolve(Number(m[2]));
    if (m[1] === "(anon)" && (r.t.kind === "STRUCT" || r.t.kind === "UNION")) {
      flatten(r.id, off, out);
    } else if (r.t.kind === "ARRAY") {
      out.push({ name: m[1], offset: off, size: sizeOfType(r.t.typeId ?? 0), count: r.t.nelems ?? 0 });
    } else {
      out.push({ name: m[1], offset: off, size: sizeOfType(Number(m[2])) });
    }
  }
}

/** A named struct from vmlinux's BTF: its size and its flattened fields. */
export function vmlinuxStruct(name: string): { readonly size: number; readonly fields: readonly BtfField[] } | undefined {
  for (const [id, t] of parseRaw()) {
    if (t.kind === "STRUCT" && t.name === name) {
      const fields: BtfField[] = [];
      flatten(id, 0, fields);
      return { size: t.size ?? 0, fields };
    }
  }
  return undefined;
}
