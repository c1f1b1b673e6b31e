/**
 * `bpftool prog dump xlated` output: each function's prototype from BTF
 * func_info ("int f(struct xdp_md * ctx):"), source lines from BTF line_info
 * ("; return XDP_PASS;"), and "% 4d: (op) text" per instruction; with -j, an
 * array of {proto?, src?, disasm} objects as bpftool writes.
 */
import type { Btf } from "../../btf/btf.js";
import type { BtfType } from "../../btf/types.js";
import type { Bytecode } from "../../isa/bytecode.js";
import { formatXlated } from "../../isa/disasm-xlated.js";

export interface XlatedSource {
  /** Function prototypes by the instruction they start at. */
  readonly functions?: ReadonlyMap<number, string>;
  /** Source text by the instruction it annotates. */
  readonly lines?: ReadonlyMap<number, string>;
}

export type XlatedJson = { proto?: string; src?: string; disasm: string };

export function dumpXlatedText(code: Bytecode, source: XlatedSource = {}): { plain: string; json: XlatedJson[] } {
  let plain = "";
  const json: XlatedJson[] = [];
  for (const [pc, insn] of code.decodeAll()) {
    const proto = source.functions?.get(pc);
    // bpftool skips the line's leading white space (btf_dump_linfo_plain).
    const src = source.lines?.get(pc)?.replace(/^\s+/, "");
    if (proto !== undefined) plain += `${proto}:\n`;
    if (src !== undefined) plain += `; ${src}\n`;
    const disasm = `(${code.opcode[pc].toString(16).padStart(2, "0")}) ${formatXlated(insn)}`;
    plain += `${String(pc).padStart(4)}: ${disasm}\n`;
    json.push({ ...(proto !== undefined ? { proto } : {}), ...(src !== undefined ? { src } : {}), disasm });
  }
  return { plain, json };
}

/** A C declaration of a BTF function as bpftool prints it: "int f(struct xdp_md * ctx)". */
export function funcProto(btf: Btf, funcId: number): string | undefined {
  const fn = btf.type(funcId);
  if (fn.kind !== "func") return undefined;
  const proto = btf.type(fn.type);
  if (proto.kind !== "func_proto") return undefined;
  const params = proto.params.map((p) => (p.type === 0 ? "..." : `${typeName(btf, p.type)}${p.name ? ` ${p.name}` : ""}`));
  return `${typeName(btf, proto.returnType)} ${fn.name}(${params.join(", ")})`;
}

function typeName(btf: Btf, id: number, depth = 0): string {
  if (id === 0) return "void";
  if (depth > 16) return "?";
  const t: BtfType = btf.type(id);
  switch (t.kind) {
    case "ptr":
      return `${typeName(btf, t.type, depth + 1)} *`;
    case "const":
      return `const ${typeName(btf, t.type, depth + 1)}`;
    case "volatile":
      return `volatile ${typeName(btf, t.type, depth + 1)}`;
    case "restrict":
      return `${typeName(btf, t.type, depth + 1)} restrict`;
    case "struct":
      return `struct ${t.name}`;
    case "union":
      return `union ${t.name}`;
    case "enum":
    case "enum64":
      return `enum ${t.name}`;
    case "fwd":
      return `${t.union ? "union" : "struct"} ${t.name}`;
    case "type_tag":
      return typeName(btf, t.type, depth + 1);
    default:
      return "name" in t && t.name ? t.name : t.kind;
  }
}
