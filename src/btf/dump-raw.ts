/**
 * `btf dump ... format raw`, in bpftool's words (tools/bpf/bpftool/btf.c,
 * dump_btf_type): one "[id] KIND 'name' attrs" line per type, members,
 * values and params indented by a tab; or the same as JSON ({"types": [...]})
 * with bpftool's keys.
 */
import type { Btf } from "./btf.js";
import { JsonWriter } from "./json-writer.js";
import { BTF_KIND_NAMES, funcLinkageName, intEncodingName, varLinkageName } from "./kinds.js";
import { type BtfType, kindNumber } from "./types.js";

export interface RawDumpOptions {
  /** Only these type ids (bpftool dumps a map's key/value types this way); default: all own types. */
  readonly ids?: readonly number[];
}

const anon = (name: string): string => name || "(anon)";
const kindName = (t: BtfType): string => BTF_KIND_NAMES[kindNumber(t.kind)];

/** One type in bpftool's raw text form (may span several lines, no trailing newline). */
export function formatRawType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${kindName(t)} '${anon(t.name)}'`;
  switch (t.kind) {
    case "void":
      break;
    case "int":
      s += ` size=${t.size} bits_offset=${t.bitsOffset} nr_bits=${t.bits} encoding=${intEncodingName(t.encoding)}`;
      break;
    case "ptr": case "const": case "volatile": case "restrict": case "typedef": case "type_tag":
      s += ` type_id=${t.type}`;
      break;
    case "array":
      s += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case "struct": case "union":
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${anon(m.name)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case "enum":
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}`;
      break;
    case "enum64":
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}${t.signed ? "LL" : "ULL"}`;
      break;
    case "fwd":
      s += ` fwd_kind=${t.union ? "union" : "struct"}`;
      break;
    case "func":
      s += ` type_id=${t.type} linkage=${funcLinkageName(t.linkage)}`;
      break;
    case "func_proto":
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${anon(p.name)}' type_id=${p.type}`;
      break;
    case "var":
      s += ` type_id=${t.type}, linkage=${varLinkageName(t.linkage)}`;
      break;
    case "datasec":
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        const vt = btf.type(v.type);
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${kindName(vt)} '${anon(vt.name)}')`;
      }
      break;
    case "float":
      s += ` size=${t.size}`;
      break;
    case "decl_tag":
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}

function selected(btf: Btf, opts: RawDumpOptions): BtfType[] {
  return opts.ids ? opts.ids.map((id) => btf.type(id)) : [...btf.types];
}

/** `bpftool btf dump file F format raw` text. */
export function formatBtfRaw(btf: Btf, opts: RawDumpOptions = {}): string {
  const parts: string[] = [];
  for (const t of selected(btf, opts)) parts.push(formatRawType(btf, t) + "\n");
  return parts.join("");
}

function jsonType(w: JsonWriter, t: BtfType): void {
  w.startObject();
  w.field("id", t.id).field("kind", kindName(t)).field("name", anon(t.name));
  switch (t.kind) {
    case "void":
      break;
    case "int":
      w.field("size", t.size).field("bits_offset", t.bitsOffset).field("nr_bits", t.bits).field("encoding", intEncodingName(t.encoding));
      break;
    case "ptr": case "const": case "volatile": case "restrict": case "typedef": case "type_tag":
      w.field("type_id", t.type);
      break;
    case "array":
      w.field("type_id", t.type).field("index_type_id", t.indexType).field("nr_elems", t.nelems);
      break;
    case "struct": case "union":
      w.field("size", t.size).field("vlen", t.members.length).name("members").startArray();
      for (const m of t.members) {
        w.startObject().field("name", anon(m.name)).field("type_id", m.type).field("bits_offset", m.bitOffset);
        if (m.bitfieldSize) w.field("bitfield_size", m.bitfieldSize);
        w.endObject();
      }
      w.endArray();
      break;
    case "enum":
      w.field("encoding", t.signed ? "SIGNED" : "UNSIGNED").field("size", t.size).field("vlen", t.values.length);
      w.name("values").startArray();
      for (const v of t.values) {
        // bpftool passes btf_enum.val (an __s32) to jsonw_uint_field, so unsigned values
        // with the top bit set come out sign-extended to 64 bits; we print what it prints.
        const val = t.signed ? v.value : BigInt.asUintN(64, BigInt(v.value | 0));
        w.startObject().field("name", anon(v.name)).field("val", val).endObject();
      }
      w.endArray();
      break;
    case "enum64":
      w.field("encoding", t.signed ? "SIGNED" : "UNSIGNED").field("size", t.size).field("vlen", t.values.length);
      w.name("values").startArray();
      for (const v of t.values) w.startObject().field("name", anon(v.name)).field("val", v.value).endObject();
      w.endArray();
      break;
    case "fwd":
      w.field("fwd_kind", t.union ? "union" : "struct");
      break;
    case "func":
      w.field("type_id", t.type).field("linkage", funcLinkageName(t.linkage));
      break;
    case "func_proto":
      w.field("ret_type_id", t.returnType).field("vlen", t.params.length).name("params").startArray();
      for (const p of t.params) w.startObject().field("name", anon(p.name)).field("type_id", p.type).endObject();
      w.endArray();
      break;
    case "var":
      w.field("type_id", t.type).field("linkage", varLinkageName(t.linkage));
      break;
    case "datasec":
      w.field("size", t.size).field("vlen", t.vars.length).name("vars").startArray();
      for (const v of t.vars) w.startObject().field("type_id", v.type).field("offset", v.offset).field("size", v.size).endObject();
      w.endArray();
      break;
    case "float":
      w.field("size", t.size);
      break;
    case "decl_tag":
      w.field("type_id", t.type).field("component_idx", t.componentIdx);
      break;
  }
  w.endObject();
}

/** `bpftool -j|-p btf dump file F` JSON. */
export function formatBtfRawJson(btf: Btf, opts: RawDumpOptions & { pretty?: boolean } = {}): string {
  const w = new JsonWriter(opts.pretty ?? false);
  w.startObject().name("types").startArray();
  for (const t of selected(btf, opts)) jsonType(w, t);
  w.endArray().endObject();
  return w.toString();
}
