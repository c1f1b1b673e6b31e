/**
 * Type ids in the running kernel's BTF (/sys/kernel/btf/vmlinux), by name and
 * kind: what attach targets need (tp_btf: TYPEDEF btf_trace_<tp>; fentry/fexit:
 * FUNC <fn>; lsm: FUNC bpf_lsm_<hook>).
 *
 * A deliberately small, targeted scan rather than src/btf's full parser: it walks
 * the type section once, records (name, kind) -> id, and allocates nothing per
 * type beyond the index entries (~120k types, ~15 ms here). The full type graph
 * (CO-RE against the kernel) is src/btf's job.
 *
 * Layout facts: include/uapi/linux/btf.h (struct btf_header, struct btf_type,
 * BTF_INFO_KIND/VLEN, and the per-kind trailing data sizes).
 */
import { readFileSync } from "node:fs";
import { BtfError, NotSupportedError } from "../errors.js";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

/** BTF_KIND_*. include/uapi/linux/btf.h. */
export const BtfKind = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** Bytes that follow struct btf_type for each kind, given vlen. include/uapi/linux/btf.h. */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT: return 4; // u32 encoding/offset/bits
    case BtfKind.ARRAY: return 12; // struct btf_array
    case BtfKind.STRUCT: case BtfKind.UNION: return 12 * vlen; // struct btf_member
    case BtfKind.ENUM: return 8 * vlen; // struct btf_enum
    case BtfKind.FUNC_PROTO: return 8 * vlen; // struct btf_param
    case BtfKind.VAR: return 4; // struct btf_var
    case BtfKind.DATASEC: return 12 * vlen; // struct btf_var_secinfo
    case BtfKind.DECL_TAG: return 4; // struct btf_decl_tag
    case BtfKind.ENUM64: return 12 * vlen; // struct btf_enum64
    case BtfKind.PTR: case BtfKind.FWD: case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST:
    case BtfKind.RESTRICT: case BtfKind.FUNC: case BtfKind.FLOAT: case BtfKind.TYPE_TAG:
      return 0;
    default:
      throw new BtfError(`kernel BTF: unknown kind ${kind}`);
  }
}

/** A name -> ids index of one BTF blob (ids start at `firstId`, 1 for vmlinux). */
export class BtfNameIndex {
  private readonly byName = new Map<string, number[]>();
  private readonly kinds: Uint8Array;

  constructor(data: Uint8Array, firstId = 1) {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (dv.getUint16(0, true) !== 0xeb9f) throw new BtfError("kernel BTF: bad magic");
    const hdrLen = dv.getUint32(4, true);
    const typeOff = hdrLen + dv.getUint32(8, true);
    const typeLen = dv.getUint32(12, true);
    const strOff = hdrLen + dv.getUint32(16, true);
    const strLen = dv.getUint32(20, true);
    const kinds: number[] = [];
    const names: string[] = [];
    const decoder = new TextDecoder();
    let p = typeOff;
    let id = firstId;
    while (p < typeOff + typeLen) {
      const nameOff = dv.getUint32(p, true);
      const info = dv.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      kinds.push(kind);
      if (nameOff !== 0 && nameOff < strLen) {
        const start = strOff + nameOff;
        let end = start;
        while (data[end] !== 0) end++;
        const name = decoder.decode(data.subarray(start, end));
        names[id - firstId] = name;
        const ids = this.byName.get(name);
        if (ids) ids.push(id);
        else this.byName.set(name, [id]);
      }
      p += 12 + trailing(kind, vlen);
      id++;
    }
    this.kinds = Uint8Array.from(kinds);
    this.names = names;
    this.firstId = firstId;
  }

  private readonly firstId: number;
  private readonly names: string[];

  /** The name of type `id` ("" for anonymous types and ids out of range). */
  nameOf(id: number): string {
    return this.names[id - this.firstId] ?? "";
  }

  /** Ids of every type called `name`. */
  ids(name: string): readonly number[] {
    return this.byName.get(name) ?? [];
  }

  kindOf(id: number): number {
    return this.kinds[id - this.firstId] ?? 0;
  }

  /** The id of the first type of `kind` called `name`, or undefined. */
  find(name: string, kind: number): number | undefined {
    return this.ids(name).find((id) => this.kindOf(id) === kind);
  }
}

let vmlinux: BtfNameIndex | undefined;

/** The running kernel's BTF index (read once). NotSupportedError without CONFIG_DEBUG_INFO_BTF. */
export function vmlinuxBtf(): BtfNameIndex {
  if (vmlinux) return vmlinux;
  let data: Buffer;
  try {
    data = readFileSync(VMLINUX_BTF);
  } catch {
    throw new NotSupportedError("kernel BTF", `no ${VMLINUX_BTF}: kernel built without CONFIG_DEBUG_INFO_BTF (5.4+)`);
  }
  return (vmlinux = new BtfNameIndex(data));
}

/** The vmlinux BTF id of a type, or NotSupportedError naming what is missing. */
export function vmlinuxTypeId(name: string, kind: number): number {
  const id = vmlinuxBtf().find(name, kind);
  if (id === undefined) {
    const kindName = Object.entries(BtfKind).find(([, v]) => v === kind)?.[0] ?? String(kind);
    throw new NotSupportedError(`kernel BTF ${kindName} ${name}`, "not in /sys/kernel/btf/vmlinux");
  }
  return id;
}
