/**
 * Inspection of the kernel's BPF objects, shaped like bpftool's output: the
 * same JSON keys (tools/bpf/bpftool/prog.c, map.c, link.c: print_prog_json,
 * show_map_close_json, show_link_close_json) and the same plain text layout.
 * Differential tests compare it with `bpftool -j` on the machine.
 *
 * Not reproduced: "pids" (bpftool's BPF-iterator object references), "pinned"
 * (bpftool -f), program "metadata", BTF-formatted map values ("formatted").
 */
import { readFileSync } from "node:fs";
import { Bytecode } from "../isa/bytecode.js";
import { formatXlated } from "../isa/disasm-xlated.js";
import { MapInfo, ProgInfo } from "./attr/info.js";
import { addr, fdById, objInfo } from "./bpf.js";
import { LinuxBtf } from "./btf-object.js";
import { LinkType, MapType, attachTypeName, linkTypeName, mapTypeName, progTypeName } from "./constants.js";
import { Fd } from "./fd.js";
import { possibleCpus } from "./fs.js";
import { BtfNameIndex } from "./kernel-btf.js";
import { linkInfoByFd } from "./link.js";
import { LinuxMap } from "./map.js";
import { progInfoByFd } from "./program.js";
import { sys } from "./sys.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One object as bpftool shows it: the JSON object and the plain text (ending in "\n"). */
export interface Shown {
  readonly json: { [key: string]: Json };
  readonly plain: string;
}

/** A field of /proc/self/fdinfo/FD ("memlock", "frozen", "owner_prog_type"…). */
export function fdinfo(fd: number, key: string): string | undefined {
  const text = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
  const m = new RegExp(`^${key}:\\s*(.*)$`, "m").exec(text);
  return m?.[1];
}

const hex2 = (b: number): string => b.toString(16).padStart(2, "0");

/**
 * load_time (ns since boot) as wall-clock seconds, the way bpftool computes it
 * (print_boot_time: CLOCK_REALTIME - CLOCK_BOOTTIME + load_time, in whole seconds).
 */
export function loadTimeSeconds(loadTimeNs: bigint): number {
  const s = sys();
  const real = s.clockNs(0); // CLOCK_REALTIME
  const boot = s.clockNs(7); // CLOCK_BOOTTIME
  const realSec = real / 1_000_000_000n;
  const bootSec = boot / 1_000_000_000n;
  const realNs = real % 1_000_000_000n;
  const bootNs = boot % 1_000_000_000n;
  return Number(realSec - bootSec + (realNs - bootNs + loadTimeNs) / 1_000_000_000n);
}

/** strftime("%FT%T%z") in local time, as bpftool prints loaded_at. */
export function formatLocalTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/**
 * A program's full name: bpf_prog_info.name is cut at 15 bytes; bpftool then takes
 * the name of the first BTF function (get_prog_full_name).
 */
function progFullName(fd: number, name: string, btfId: number, nrFuncInfo: number, funcRecSize: number): string {
  if (name.length < 15 || !btfId || !nrFuncInfo) return name;
  try {
    const recs = Buffer.alloc(nrFuncInfo * funcRecSize);
    const info = ProgInfo.alloc(232);
    ProgInfo.set(info, "nr_func_info", nrFuncInfo);
    ProgInfo.set(info, "func_info_rec_size", funcRecSize);
    ProgInfo.set(info, "func_info", addr(recs));
    objInfo(fd, ProgInfo, info, [recs]);
    const typeId = recs.readUInt32LE(4); // struct bpf_func_info { insn_off; type_id; }
    using btf = LinuxBtf.fromId(btfId);
    return new BtfNameIndex(btf.raw()).nameOf(typeId) || name;
  } catch {
    return name;
  }
}

/** `bpftool prog show` for one program fd. */
export function showProg(fd: number): Shown {
  const i = progInfoByFd(fd);
  const raw = Buffer.alloc(232);
  objInfo(fd, ProgInfo, raw);
  const name = progFullName(fd, i.name, i.btfId, ProgInfo.num(raw, "nr_func_info"), ProgInfo.num(raw, "func_info_rec_size"));
  const type = progTypeName(i.type);
  const json: { [k: string]: Json } = { id: i.id, type: type.startsWith("type ") ? i.type : type };
  if (i.name) json.name = name;
  json.tag = i.tag;
  json.gpl_compatible = i.gplCompatible;
  if (i.runTimeNs) {
    json.run_time_ns = Number(i.runTimeNs);
    json.run_cnt = Number(i.runCnt);
  }
  if (i.recursionMisses) json.recursion_misses = Number(i.recursionMisses);
  if (i.ifindex) json.ifindex = i.ifindex;
  let plain = `${i.id}: ${type}  ${i.name ? `name ${name}  ` : ""}tag ${i.tag}${i.gplCompatible ? "  gpl" : ""}`;
  if (i.runTimeNs) plain += ` run_time_ns ${i.runTimeNs} run_cnt ${i.runCnt}`;
  if (i.recursionMisses) plain += ` recursion_misses ${i.recursionMisses}`;
  plain += "\n";
  if (i.loadTime) {
    const at = loadTimeSeconds(i.loadTime);
    json.loaded_at = at;
    json.uid = i.createdByUid;
    plain += `\tloaded_at ${formatLocalTime(at)}  uid ${i.createdByUid}\n`;
  }
  json.bytes_xlated = i.xlatedProgLen;
  plain += `\txlated ${i.xlatedProgLen}B`;
  if (i.jitedProgLen) {
    json.jited = true;
    json.bytes_jited = i.jitedProgLen;
    plain += `  jited ${i.jitedProgLen}B`;
  } else {
    json.jited = false;
    plain += "  not jited";
  }
  const memlock = fdinfo(fd, "memlock");
  if (memlock !== undefined) {
    json.bytes_memlock = Number(memlock);
    plain += `  memlock ${memlock}B`;
  }
  if (i.nrMapIds) {
    const ids = progMapIds(fd, i.nrMapIds);
    json.map_ids = ids;
    plain += `  map_ids ${ids.join(",")}`;
  }
  if (i.btfId) {
    json.btf_id = i.btfId;
    plain += `\n\tbtf_id ${i.btfId}`;
  }
  plain += "\n";
  return { json, plain };
}

function progMapIds(fd: number, n: number): number[] {
  const ids = Buffer.alloc(n * 4);
  const info = ProgInfo.alloc(232);
  ProgInfo.set(info, "nr_map_ids", n);
  ProgInfo.set(info, "map_ids", addr(ids));
  objInfo(fd, ProgInfo, info, [ids]);
  const got = Math.min(n, ProgInfo.num(info, "nr_map_ids"));
  return Array.from({ length: got }, (_, k) => ids.readUInt32LE(k * 4));
}

/** `bpftool map show` for one map fd. */
export function showMap(fd: number): Shown {
  const info = Buffer.alloc(104);
  objInfo(fd, MapInfo, info);
  const id = MapInfo.num(info, "id");
  const t = MapInfo.num(info, "type");
  const name = MapInfo.str(info, "name");
  const flags = MapInfo.num(info, "map_flags");
  const type = mapTypeName(t);
  const json: { [k: string]: Json } = { id, type: type.startsWith("type ") ? t : type };
  if (name) json.name = name;
  json.flags = flags;
  const mapExtra = MapInfo.u64(info, "map_extra");
  if (mapExtra) json.map_extra = Number(mapExtra);
  json.bytes_key = MapInfo.num(info, "key_size");
  json.bytes_value = MapInfo.num(info, "value_size");
  json.max_entries = MapInfo.num(info, "max_entries");
  let plain = `${id}: ${type}  ${name ? `name ${name}  ` : ""}flags 0x${flags.toString(16)}\n`;
  plain += `\tkey ${json.bytes_key}B  value ${json.bytes_value}B  max_entries ${json.max_entries}`;
  const memlock = fdinfo(fd, "memlock");
  if (memlock !== undefined) {
    json.bytes_memlock = Number(memlock);
    plain += `  memlock ${memlock}B`;
  }
  if (t === MapType.BPF_MAP_TYPE_PROG_ARRAY) {
    const owner = fdinfo(fd, "owner_prog_type");
    const jited = fdinfo(fd, "owner_jited");
    if (owner !== undefined || jited !== undefined) plain += "\n\t";
    if (owner !== undefined) {
      json.owner_prog_type = progTypeName(Number(owner));
      plain += `owner_prog_type ${json.owner_prog_type}  `;
    }
    if (jited !== undefined) {
      json.owner_jited = Number(jited) !== 0;
      plain += `owner${Number(jited) ? "" : " not"} jited`;
    }
  }
  const frozen = Number(fdinfo(fd, "frozen") ?? 0);
  json.frozen = frozen;
  const btfId = MapInfo.num(info, "btf_id");
  if (btfId) json.btf_id = btfId;
  if (btfId || frozen) plain += "\n\t";
  if (btfId) plain += `btf_id ${btfId}`;
  if (frozen) plain += `${btfId ? "  " : ""}frozen`;
  plain += "\n";
  return { json, plain };
}

/** `bpftool link show` for one link fd. */
export function showLink(fd: number): Shown {
  const i = linkInfoByFd(fd);
  const json: { [k: string]: Json } = { id: i.id, type: i.typeName.startsWith("type ") ? i.type : i.typeName, prog_id: i.progId };
  let plain = `${i.id}: ${i.typeName}  prog ${i.progId}  `;
  const d = i.details;
  const num = (v: string | number | bigint | undefined): number => Number(v ?? 0);
  const ifindexPart = (): void => {
    const ifindex = num(d.ifindex);
    const devname = (ifindex && sys().ifIndexToName(ifindex)) || "(unknown)";
    json.devname = devname;
    json.ifindex = ifindex;
    plain += `\n\tifindex ${devname}(${ifindex})  `;
  };
  switch (i.type) {
    case LinkType.BPF_LINK_TYPE_RAW_TRACEPOINT:
      json.tp_name = String(d.tp_name);
      plain += `\n\ttp '${d.tp_name}'  `;
      break;
    case LinkType.BPF_LINK_TYPE_TRACING: {
      const prog = progTypeOfId(i.progId);
      json.prog_type = prog;
      json.attach_type = String(d.attach_type);
      plain += `\n\tprog_type ${prog}  attach_type ${d.attach_type}  `;
      if (num(d.target_obj_id)) {
        json.target_obj_id = num(d.target_obj_id);
        json.target_btf_id = num(d.target_btf_id);
        plain += `\n\ttarget_obj_id ${d.target_obj_id}  target_btf_id ${d.target_btf_id}  `;
      }
      break;
    }
    case LinkType.BPF_LINK_TYPE_CGROUP:
      json.cgroup_id = Number(d.cgroup_id);
      json.attach_type = String(d.attach_type);
      plain += `\n\tcgroup_id ${d.cgroup_id}  attach_type ${d.attach_type}  `;
      break;
    case LinkType.BPF_LINK_TYPE_NETNS:
      json.netns_ino = num(d.netns_ino);
      json.attach_type = String(d.attach_type);
      plain += `\n\tnetns_ino ${d.netns_ino}  attach_type ${d.attach_type}  `;
      break;
    case LinkType.BPF_LINK_TYPE_ITER:
      json.target_name = String(d.target_name);
      plain += `target_name ${d.target_name}  `;
      break;
    case LinkType.BPF_LINK_TYPE_XDP:
      ifindexPart();
      break;
    case LinkType.BPF_LINK_TYPE_TCX:
    case LinkType.BPF_LINK_TYPE_NETKIT:
      ifindexPart();
      json.attach_type = String(d.attach_type);
      plain += `attach_type ${d.attach_type}  `;
      break;
    case LinkType.BPF_LINK_TYPE_PERF_EVENT: {
      const ev = String(d.event_type);
      if (ev === "uprobe" || ev === "uretprobe") {
        json.retprobe = ev === "uretprobe";
        json.file = String(d.file);
        json.offset = num(d.offset);
        plain += `\n\t${ev} ${d.file}+0x${num(d.offset).toString(16)}  `;
      } else if (ev === "kprobe" || ev === "kretprobe") {
        json.retprobe = ev === "kretprobe";
        json.func = String(d.func);
        json.offset = num(d.offset);
        json.addr = Number(d.addr ?? 0);
        plain += `\n\t${ev} ${d.func}+0x${num(d.offset).toString(16)}  `;
      } else if (ev === "tracepoint") {
        json.tracepoint = String(d.tracepoint);
        plain += `\n\ttracepoint ${d.tracepoint}  `;
      } else {
        json.event_type = ev;
        plain += `\n\tevent_type ${ev}  `;
      }
      break;
    }
    default:
      for (const [k, v] of Object.entries(d)) json[k] = typeof v === "bigint" ? Number(v) : v;
      break;
  }
  plain += "\n";
  return { json, plain };
}

function progTypeOfId(id: number): string {
  try {
    using fd = new Fd(fdById("prog", id), `program id ${id}`);
    return progTypeName(progInfoByFd(fd.value).type);
  } catch {
    return "unknown";
  }
}

/** Runs show() on every object of a kind, skipping ones that vanish meanwhile (ENOENT). */
export function showAll(kind: "prog" | "map" | "link", ids: Iterable<number>): Shown[] {
  const show = kind === "prog" ? showProg : kind === "map" ? showMap : showLink;
  const out: Shown[] = [];
  for (const id of ids) {
    let fd: Fd;
    try {
      fd = new Fd(fdById(kind, id), `${kind} id ${id}`);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw e;
    }
    try {
      out.push(show(fd.value));
    } finally {
      fd.close();
    }
  }
  return out;
}

const hexJson = (b: Uint8Array): Json[] => Array.from(b, (x) => `0x${hex2(x)}`);
const hexPlain = (b: Uint8Array): string => Array.from(b, hex2).join(" ");

/** `bpftool map dump` of a map: every entry, hex (no BTF formatting). */
export function dumpMap(map: LinuxMap): { json: Json[]; plain: string } {
  const json: Json[] = [];
  let plain = "";
  let count = 0;
  const perCpu = map.perCpu;
  const stride = (map.valueSize + 7) & ~7;
  const ofMaps = map.type === MapType.BPF_MAP_TYPE_ARRAY_OF_MAPS || map.type === MapType.BPF_MAP_TYPE_HASH_OF_MAPS || map.type === MapType.BPF_MAP_TYPE_PROG_ARRAY;
  for (const key of map.keys()) {
    let value: Buffer | undefined;
    try {
      value = map.lookup(key);
    } catch (e) {
      json.push({ key: hexJson(key), value: { error: String((e as Error).message) } });
      continue;
    }
    if (!value) {
      // Empty prog_array / map-in-map slots are skipped, as bpftool does.
      if (ofMaps) continue;
      json.push({ key: hexJson(key), value: { error: "No such file or directory" } });
      plain += `key: ${hexPlain(key)}  value: <no entry>\n`;
      continue;
    }
    count++;
    if (!perCpu) {
      json.push({ key: hexJson(key), value: hexJson(value.subarray(0, map.valueSize)) });
      const breakNames = map.keySize > 16 || map.valueSize > 16;
      const single = map.keySize + map.valueSize <= 24 && !breakNames;
      if (map.keySize) plain += `key:${breakNames ? "\n" : " "}${hexPlain(key)}${single ? "  " : "\n"}`;
      if (map.valueSize) plain += `value:${breakNames ? "\n" : " "}${hexPlain(value.subarray(0, map.valueSize))}`;
      plain += "\n";
    } else {
      const n = possibleCpus();
      const values: Json[] = [];
      if (map.keySize) plain += `key:\n${hexPlain(key)}\n`;
      for (let c = 0; c < n; c++) {
        const v = value.subarray(c * stride, c * stride + map.valueSize);
        values.push({ cpu: c, value: hexJson(v) });
        plain += `value (CPU ${String(c).padStart(2, "0")}):${map.valueSize > 16 ? "\n" : " "}${hexPlain(v)}\n`;
      }
      json.push({ key: hexJson(key), values });
    }
  }
  plain += `Found ${count} element${count !== 1 ? "s" : ""}\n`;
  return { json, plain };
}

interface KallsymsIndex {
  readonly callBase: bigint;
  readonly byAddress: Map<bigint, string>;
}

let kallsyms: KallsymsIndex | null | undefined;

/** /proc/kallsyms by address, and __bpf_call_base (helper calls in xlated code are relative to it). */
function kernelSymbols(): KallsymsIndex | null {
  if (kallsyms !== undefined) return kallsyms;
  try {
    const byAddress = new Map<bigint, string>();
    let callBase = 0n;
    for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
      const sp1 = line.indexOf(" ");
      if (sp1 < 0) continue;
      const address = BigInt("0x" + line.slice(0, sp1));
      let name = line.slice(sp1 + 3);
      const tab = name.indexOf("\t");
      if (tab >= 0) name = name.slice(0, tab);
      if (!byAddress.has(address)) byAddress.set(address, name);
      if (name === "__bpf_call_base") callBase = address;
    }
    // kptr_restrict hides addresses (all zero): no names then, like bpftool.
    return (kallsyms = callBase ? { callBase, byAddress } : null);
  } catch {
    return (kallsyms = null);
  }
}

/**
 * `bpftool prog dump xlated`: the kernel's rewritten instructions, each as
 * "% 4d: (op) text"; helper calls named from /proc/kallsyms as bpftool does
 * ("call bpf_get_current_pid_tgid#12345": the symbol at __bpf_call_base + imm).
 */
export function dumpXlated(xlated: Uint8Array, jitedKsyms: readonly bigint[] = []): { json: Json[]; plain: string } {
  const code = Bytecode.fromBytes(xlated);
  const syms = kernelSymbols();
  const json: Json[] = [];
  let plain = "";
  for (const [pc, insn] of code.decodeAll()) {
    let text: string;
    if (insn.kind === "call" && insn.target === "helper") {
      const address = syms ? syms.callBase + BigInt(insn.imm) : 0n;
      const sym = syms?.byAddress.get(address);
      const name = sym ?? (address ? `0x${address.toString(16)}` : "unknown");
      text = `call ${name}#${insn.imm}`;
    } else if (insn.kind === "call" && insn.target === "local") {
      // JITed programs: imm is the subprogram index, off the relative target (bpftool print_call_pcrel).
      const rel = `${insn.off >= 0 ? "+" : ""}${insn.off}`;
      if (jitedKsyms.length === 0) {
        text = `call pc${insn.imm >= 0 ? "+" : ""}${insn.imm}`;
      } else {
        const address = jitedKsyms[insn.imm] ?? 0n;
        const sym = syms?.byAddress.get(address);
        text = `call pc${rel}#${sym ?? `0x${address.toString(16)}`}`;
      }
    } else {
      text = formatXlated(insn);
    }
    const disasm = `(${hex2(code.opcode[pc])}) ${text}`;
    json.push({ disasm });
    plain += `${String(pc).padStart(4)}: ${disasm}\n`;
  }
  return { json, plain };
}
