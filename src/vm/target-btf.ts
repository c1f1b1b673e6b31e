/**
 * The BTF the vm offers as the CO-RE target: its own context structs (the uapi
 * layouts it stores contexts in), so `BPF_CORE_READ(ctx, field)` relocates as on
 * a kernel. Programs reading kernel-internal structs (task_struct...) need a
 * real kernel's BTF, which the loader accepts as an extra target.
 */
import type { Btf } from "../btf/btf.js";
import { BtfBuilder } from "../btf/encode.js";
import type { BtfMember } from "../btf/types.js";
import { progTypes } from "./progtypes/index.js";
import type { CtxLayout } from "./progtypes/ctx/layout.js";

/** BTF_INT_SIGNED. include/uapi/linux/btf.h. */
const BTF_INT_SIGNED = 1;

let cached: Btf | undefined;

export function vmTargetBtf(): Btf {
  if (cached) return cached;
  const b = new BtfBuilder();
  const ints = new Map<string, number>();
  const intType = (size: number, signed: boolean): number => {
    const name = `${signed ? "__s" : "__u"}${size * 8}`;
    let id = ints.get(name);
    if (id === undefined) ints.set(name, (id = b.addInt(name, size, signed ? BTF_INT_SIGNED : 0)));
    return id;
  };
  const u32 = intType(4, false);
  const voidPtr = b.addPtr(0);
  const layouts = new Map<string, CtxLayout>();
  for (const t of progTypes) {
    const layout = t.ctxLayout;
    if (layout && !layouts.has(layout.name)) layouts.set(layout.name, layout);
  }
  for (const layout of layouts.values()) {
    const members: BtfMember[] = layout.fields.map((f) => {
      const signed = /^__s|^s\d|^int\b|^long\b/.test(f.ctype);
      const count = f.count ?? 1;
      // Fields that are not plain integers (embedded structs and unions) become byte arrays.
      const scalar = f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8;
      const elem = f.kind === "ptr" ? voidPtr : scalar ? intType(f.size, signed) : intType(1, false);
      const n = scalar || f.kind === "ptr" ? count : f.size * count;
      const type = f.count !== undefined || !scalar ? b.addArray(elem, u32, n) : elem;
      return { name: f.name, type, bitOffset: f.offset * 8, bitfieldSize: 0 };
    });
    b.addStruct(layout.name.replace(/^struct /, ""), layout.size, members);
  }
  cached = b.build();
  return cached;
}
