/**
 * `bpftool map dump` output for any backend (tools/bpf/bpftool/map.c): with BTF,
 * plain text is btf_dumper's pretty JSON of {key, value}; without, hex lines and
 * "Found N elements". JSON (-j/-p) has hex byte arrays plus a "formatted" object
 * when BTF is known. Per-CPU maps list a value per CPU.
 */
import type { Btf } from "../../btf/btf.js";
import { JsonWriter } from "../../btf/json-writer.js";
import { writeBtfValue } from "./btf-value.js";

export interface DumpableMap {
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
  readonly ncpus: number;
  /** prog_array and maps of maps: values are ids, empty slots are skipped. */
  readonly holdsIds: boolean;
  readonly btf?: Btf;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  entries(): Iterable<[Uint8Array, Uint8Array | undefined]>;
}

export type DumpStyle = "plain" | "json" | "pretty";

/** fprint_hex (tools/bpf/bpftool/common.c): a newline every 16 bytes, two spaces every 8. */
function hexPlain(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) {
    const pfx = i === 0 ? "" : i % 16 === 0 ? "\n" : i % 8 === 0 ? "  " : " ";
    s += pfx + b[i].toString(16).padStart(2, "0");
  }
  return s;
}

function hexArray(w: JsonWriter, b: Uint8Array): void {
  w.startArray();
  for (const x of b) w.string(`0x${x.toString(16).padStart(2, "0")}`);
  w.endArray();
}

export function dumpMapText(map: DumpableMap, style: DumpStyle): string {
  const stride = (map.valueSize + 7) & ~7;
  const perCpuValues = (v: Uint8Array): Uint8Array[] =>
    Array.from({ length: map.ncpus }, (_, c) => v.subarray(c * stride, c * stride + map.valueSize));
  const btf = map.btf && map.btfValueTypeId ? map.btf : undefined;
  const formatted = (w: JsonWriter, key: Uint8Array, value: Uint8Array, plain: boolean): void => {
    w.startObject();
    w.name("key");
    if (map.btfKeyTypeId) writeBtfValue(w, btf!, map.btfKeyTypeId, key, plain);
    else hexArray(w, key);
    if (map.perCpu) {
      w.name("values").startArray();
      perCpuValues(value).forEach((v, cpu) => {
        w.startObject().field("cpu", cpu).name("value");
        writeBtfValue(w, btf!, map.btfValueTypeId!, v, plain);
        w.endObject();
      });
      w.endArray();
    } else {
      w.name("value");
      writeBtfValue(w, btf!, map.btfValueTypeId!, value.subarray(0, map.valueSize), plain);
    }
    w.endObject();
  };

  if (style !== "plain") {
    const w = new JsonWriter(style === "pretty");
    w.startArray();
    for (const [key, value] of map.entries()) {
      if (!value) continue;
      w.startObject().name("key");
      hexArray(w, key);
      if (map.perCpu) {
        w.name("values").startArray();
        perCpuValues(value).forEach((v, cpu) => {
          w.startObject().field("cpu", cpu).name("value");
          hexArray(w, v);
          w.endObject();
        });
        w.endArray();
      } else {
        w.name("value");
        hexArray(w, value.subarray(0, map.holdsIds ? 4 : map.valueSize));
      }
      if (btf) {
        w.name("formatted");
        formatted(w, key, value, false);
      }
      w.endObject();
    }
    w.endArray();
    return w.toString();
  }

  if (btf) {
    const w = new JsonWriter(true);
    w.startArray();
    for (const [key, value] of map.entries()) if (value) formatted(w, key, value, true);
    w.endArray();
    return w.toString();
  }

  let out = "";
  let count = 0;
  for (const [key, value] of map.entries()) {
    if (!value) {
      if (map.holdsIds) continue;
      out += `key: ${hexPlain(key)}  value: <no entry>\n`;
      continue;
    }
    count++;
    if (map.perCpu) {
      out += `key:\n${hexPlain(key)}\n`;
      perCpuValues(value).forEach((v, cpu) => {
        out += `value (CPU ${String(cpu).padStart(2, "0")}):${map.valueSize > 16 ? "\n" : " "}${hexPlain(v)}\n`;
      });
      continue;
    }
    const breakNames = map.keySize > 16 || map.valueSize > 16;
    const single = map.keySize + map.valueSize <= 24 && !breakNames;
    if (map.keySize) out += `key:${breakNames ? "\n" : " "}${hexPlain(key)}${single ? "  " : "\n"}`;
    if (map.holdsIds) out += `value: ${new DataView(value.buffer, value.byteOffset).getUint32(0, true)}`;
    else if (map.valueSize) out += `value:${breakNames ? "\n" : " "}${hexPlain(value.subarray(0, map.valueSize))}`;
    out += "\n";
  }
  return out + `Found ${count} element${count === 1 ? "" : "s"}\n`;
}
