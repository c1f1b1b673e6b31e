/**
 * .ksyms externs resolved against the running kernel (libbpf.c,
 * bpf_object__resolve_ksyms_btf_id / bpf_object__read_kallsyms_file):
 * - a typeless variable (`extern const void x __ksym`) gets its address from
 *   /proc/kallsyms;
 * - a typed variable gets the id of its VAR in vmlinux BTF (the verifier then
 *   knows its type: BPF_PSEUDO_BTF_ID);
 * - a kfunc gets the id of its FUNC in vmlinux BTF (BPF_PSEUDO_KFUNC_CALL).
 * An unresolved __weak extern stays unset (address 0; calls poisoned); an
 * unresolved strong one fails the load. Module BTF is not searched.
 */
import { readFileSync } from "node:fs";
import { LoadError } from "../../errors.js";
import type { KsymExtern } from "../../object/types.js";
import { BtfKind, vmlinuxBtf } from "../kernel-btf.js";

export type KsymResolution =
  | { readonly kind: "addr"; readonly addr: bigint }
  | { readonly kind: "btf"; readonly btfId: number; readonly btfObjFd: number }
  | { readonly kind: "unset" };

let kallsyms: Map<string, bigint> | undefined;

/** /proc/kallsyms as name -> address (the first of duplicate names; module symbols included). */
export function kernelSymbols(): Map<string, bigint> {
  if (kallsyms) return kallsyms;
  const out = new Map<string, bigint>();
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    // "ffffffff81000000 T _text" or "... t name\t[module]"
    const sp1 = line.indexOf(" ");
    const sp2 = line.indexOf(" ", sp1 + 1);
    if (sp1 < 0 || sp2 < 0) continue;
    let name = line.slice(sp2 + 1);
    const tab = name.indexOf("\t");
    if (tab >= 0) name = name.slice(0, tab);
    if (!out.has(name)) out.set(name, BigInt(`0x${line.slice(0, sp1)}`));
  }
  return (kallsyms = out);
}

/** Resolves every ksym extern; throws LoadError for an unresolved strong one. */
export function resolveKsyms(externs: readonly KsymExtern[]): Map<string, KsymResolution> {
  const out = new Map<string, KsymResolution>();
  for (const e of externs) {
    let r: KsymResolution = { kind: "unset" };
    let where: string;
    if (e.kind === "func") {
      where = "kernel BTF (kfunc)";
      const id = vmlinuxBtf().find(e.name, BtfKind.FUNC);
      if (id !== undefined) r = { kind: "btf", btfId: id, btfObjFd: 0 };
    } else if (e.btfTypeId === 0) {
      where = "/proc/kallsyms";
      const addr = kernelSymbols().get(e.name);
      // Without CONFIG_KALLSYMS_ALL only functions are listed; root sees real addresses.
      if (addr !== undefined && addr !== 0n) r = { kind: "addr", addr };
    } else {
      where = "kernel BTF (VAR)";
      const id = vmlinuxBtf().find(e.name, BtfKind.VAR);
      if (id !== undefined) r = { kind: "btf", btfId: id, btfObjFd: 0 };
    }
    if (r.kind === "unset" && !e.weak) {
      throw new LoadError(`resolve extern (ksym) '${e.name}': not found in ${where}`);
    }
    out.set(e.name, r);
  }
  return out;
}
