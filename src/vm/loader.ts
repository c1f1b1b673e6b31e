/**
 * Loading an ObjectSpec into a vm kernel, in libbpf's order (bpf_object__load):
 * create maps (and fill global data, freeze .rodata/.kconfig), resolve CO-RE
 * against the vm's target BTF, resolve relocations to map fds, load programs,
 * then fill prog-array and map-in-map slots. A failure closes what was created.
 */
import type { Btf } from "../btf/btf.js";
import { encodeBtf } from "../btf/encode.js";
import type { BtfType } from "../btf/types.js";
import { BpfCommandError, LoadError, NotSupportedError, TsbpfError } from "../errors.js";
import { Bytecode } from "../isa/bytecode.js";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, OP_LD_IMM64 } from "../isa/opcodes.js";
import { resolveCoreRelocations, applyCoreRelocations } from "../object/core.js";
import { kconfigData } from "../object/kconfig.js";
import type { ObjectSpec } from "../object/spec.js";
import type { MapSpec, ProgramSpec } from "../object/types.js";
import type { LoadOptions } from "../api/types.js";
import type { ValueField } from "./maps/map.js";
import { BPF_MAP_TYPE } from "./maps/uapi.js";
import type { VmKernel } from "./runtime/kernel.js";
import { vmTargetBtf } from "./target-btf.js";

/** The kernel version the vm reports (LINUX_KERNEL_VERSION): the 6.18 it emulates. */
export const VM_KERNEL_VERSION = (6 << 16) + (18 << 8);

/** Page size the vm rounds ring buffers to (libbpf's adjust_ringbuf_sz uses the host's). */
const PAGE_SIZE = 4096;

/** LIBBPF_PIN_BY_NAME. tools/lib/bpf/libbpf.h. */
const LIBBPF_PIN_BY_NAME = 1;

export interface VmLoadOptions extends LoadOptions {
  /** Extra CO-RE targets (e.g. a kernel's vmlinux BTF), tried after the vm's own. */
  readonly coreTargets?: readonly Btf[];
}

export interface LoadedObject {
  readonly programs: Map<string, { fd: number; spec: ProgramSpec; log: string }>;
  readonly maps: Map<string, { fd: number; spec: MapSpec }>;
}

export function loadIntoKernel(kernel: VmKernel, spec: ObjectSpec, options: VmLoadOptions = {}): LoadedObject {
  const created: number[] = [];
  const maps = new Map<string, { fd: number; spec: MapSpec }>();
  const programs = new Map<string, { fd: number; spec: ProgramSpec; log: string }>();
  try {
    for (const m of spec.maps.values()) {
      const replacement = options.replaceMaps?.[m.name];
      if (replacement) {
        throw new NotSupportedError("replaceMaps on the vm backend", "share maps by pinning them instead");
      }
      const fd = createMap(kernel, spec, m, options);
      created.push(fd);
      maps.set(m.name, { fd, spec: m });
    }

    // The object's BTF goes to the kernel once, as libbpf's bpf_object__load_btf does.
    const btfFd = spec.btf ? kernel.btfLoad(encodeBtf(spec.btf)) : undefined;
    if (btfFd !== undefined) created.push(btfFd);
    const wanted = [...spec.programs.values()].filter((p) => (options.programs ? options.programs.includes(p.name) : p.autoload));
    for (const name of options.programs ?? []) spec.program(name);
    const targets = [vmTargetBtf(), ...(options.coreTargets ?? [])];
    const core = resolveCoreRelocations(spec, targets, wanted);
    for (const p of wanted) {
      const code = p.coreRelocations.length ? applyCoreRelocations(p, core).instructions : p.instructions.clone();
      relocate(p, code, maps);
      const what = `load program ${p.name}`;
      let result;
      try {
        result = kernel.progLoad({
          progType: p.type,
          expectedAttachType: p.expectedAttachType,
          insns: code,
          license: p.license,
          name: p.name.slice(0, 15),
          logLevel: options.logLevel ?? 0,
          ...(options.verifierMode ? { verifierMode: options.verifierMode } : {}),
          debugInfo: { funcInfo: p.funcInfo, lineInfo: p.lineInfo, btf: spec.btf, functions: p.functions },
          ...(btfFd !== undefined ? { btfFd } : {}),
        });
      } catch (e) {
        if (e instanceof TsbpfError) throw new LoadError(`${what}: ${e.message}`, { cause: e });
        throw e;
      }
      created.push(result.fd);
      programs.set(p.name, { fd: result.fd, spec: p, log: result.log });
    }

    // Slots that name programs or maps: filled once everything exists (libbpf's
    // bpf_object__init_prog_arrays and init_map_in_maps).
    for (const { fd, spec: m } of maps.values()) {
      for (const slot of m.initialSlots) {
        const target = m.type === BPF_MAP_TYPE.PROG_ARRAY ? programs.get(slot.target) : maps.get(slot.target);
        if (!target) {
          if (m.type === BPF_MAP_TYPE.PROG_ARRAY) continue; // a program not loaded leaves its slot empty
          throw new LoadError(`map ${m.name}: slot ${slot.index} names unknown map '${slot.target}'`);
        }
        kernel.mapUpdateElem(fd, u32(slot.index), u32(target.fd), 0);
      }
    }
    // The programs hold the BTF now; the loader's fd is not needed.
    if (btfFd !== undefined) kernel.close(btfFd);
    return { programs, maps };
  } catch (e) {
    for (const fd of created.reverse()) kernel.close(fd);
    throw e;
  }
}

const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

function createMap(kernel: VmKernel, spec: ObjectSpec, m: MapSpec, options: VmLoadOptions): number {
  const what = `create map ${m.name}`;
  if (m.source === "struct_ops") throw new NotSupportedError("struct_ops maps", "the vm has no kernel structures to register");
  const pinPath = m.pinning === LIBBPF_PIN_BY_NAME ? `${options.pinPath ?? "/sys/fs/bpf"}/${m.name}` : undefined;
  if (pinPath && kernel.objects.pinnedAt(pinPath)) {
    const fd = kernel.objGet(pinPath);
    const { map } = kernel.mapObject(fd, what);
    const mismatch = [
      map.type !== m.type && `type ${map.type} != ${m.type}`,
      map.keySize !== m.keySize && `key_size ${map.keySize} != ${m.keySize}`,
      map.valueSize !== m.valueSize && `value_size ${map.valueSize} != ${m.valueSize}`,
      map.maxEntries !== mapMaxEntries(m, kernel.ncpus) && `max_entries ${map.maxEntries} != ${mapMaxEntries(m, kernel.ncpus)}`,
      map.flags !== m.flags && `map_flags ${map.flags} != ${m.flags}`,
    ].filter(Boolean);
    if (mismatch.length) {
      kernel.close(fd);
      throw new LoadError(`${what}: pinned map at ${pinPath} is incompatible: ${mismatch.join(", ")}`);
    }
    return fd;
  }
  let innerFd: number | undefined;
  try {
    if (m.innerMap) innerFd = createMap(kernel, spec, m.innerMap, { ...options, pinPath: undefined });
    const withBtf = !NO_BTF_TYPES.has(m.type) && (m.btfKeyTypeId !== 0 || m.btfValueTypeId !== 0);
    const attrs = {
      mapType: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: mapMaxEntries(m, kernel.ncpus),
      mapFlags: m.flags,
      numaNode: m.numaNode,
      mapExtra: m.mapExtra,
      name: m.kernelName,
      btfKeyTypeId: withBtf ? m.btfKeyTypeId : 0,
      btfValueTypeId: withBtf ? m.btfValueTypeId : 0,
      ...(innerFd !== undefined ? { innerMapFd: innerFd } : {}),
      valueFields: spec.btf && m.btfValueTypeId ? valueFields(spec.btf, m.btfValueTypeId) : [],
    };
    let fd: number;
    try {
      fd = kernel.mapCreate(attrs);
    } catch (e) {
      // libbpf retries a map the kernel refuses with BTF without it (bpf_object__create_map:
      // "Retrying without BTF"), e.g. a prog array, whose map_check_btf refuses any BTF.
      if (!withBtf || !(e instanceof BpfCommandError)) throw e;
      fd = kernel.mapCreate({ ...attrs, btfKeyTypeId: 0, btfValueTypeId: 0 });
    }
    try {
      let data = m.data;
      if (m.source === "kconfig" && spec.kconfig) {
        data = kconfigData(spec.kconfig, { kernelVersion: VM_KERNEL_VERSION, byteOrder: spec.byteOrder, features: {} });
      }
      if (data) kernel.mapUpdateElem(fd, u32(0), padTo(data, m.valueSize), 0);
      if (m.freeze) kernel.mapFreeze(fd);
      if (pinPath) kernel.objPin(fd, pinPath);
    } catch (e) {
      kernel.close(fd);
      throw e;
    }
    return fd;
  } catch (e) {
    if (e instanceof BpfCommandError) throw new LoadError(`${what}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    if (innerFd !== undefined) kernel.close(innerFd);
  }
}

/**
 * Map types libbpf creates without key/value BTF (bpf_object__create_map zeroes
 * btf_key_type_id and btf_value_type_id for them): their values are fds or ids,
 * and a map-in-map's BTF value is the __array of inner maps, not a value type.
 */
const NO_BTF_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE.PERF_EVENT_ARRAY, BPF_MAP_TYPE.CGROUP_ARRAY, BPF_MAP_TYPE.STACK_TRACE, BPF_MAP_TYPE.ARRAY_OF_MAPS,
  BPF_MAP_TYPE.HASH_OF_MAPS, BPF_MAP_TYPE.DEVMAP, BPF_MAP_TYPE.DEVMAP_HASH, BPF_MAP_TYPE.CPUMAP, BPF_MAP_TYPE.XSKMAP,
  BPF_MAP_TYPE.SOCKMAP, BPF_MAP_TYPE.SOCKHASH, BPF_MAP_TYPE.QUEUE, BPF_MAP_TYPE.STACK, BPF_MAP_TYPE.ARENA,
]);

/**
 * libbpf's load-time max_entries: ring buffer sizes rounded up to a
 * power-of-two multiple of the page size (adjust_ringbuf_sz), and a perf event
 * array without max_entries sized to the possible CPUs (bpf_object__create_map).
 */
function mapMaxEntries(m: MapSpec, ncpus: number): number {
  if (m.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY && m.maxEntries === 0) return ncpus;
  if (m.type !== BPF_MAP_TYPE.RINGBUF && m.type !== BPF_MAP_TYPE.USER_RINGBUF) return m.maxEntries;
  let size = PAGE_SIZE;
  while (size < m.maxEntries && size < 2 ** 31) size *= 2;
  return size;
}

function padTo(data: Uint8Array, size: number): Uint8Array {
  if (data.length === size) return data;
  const out = new Uint8Array(size);
  out.set(data.subarray(0, size));
  return out;
}

/**
 * Special fields in a map value (btf_parse_fields in kernel/bpf/btf.c): where the
 * bpf_spin_lock, bpf_timer... sit, searched through nested structs and arrays.
 */
export function valueFields(btf: Btf, typeId: number): ValueField[] {
  const out: ValueField[] = [];
  const special: Record<string, [ValueField["kind"], number]> = {
    bpf_spin_lock: ["spin_lock", 4],
    bpf_timer: ["timer", 16],
    bpf_wq: ["wq", 16],
    bpf_list_head: ["list_head", 16],
    bpf_rb_root: ["rb_root", 16],
    bpf_refcount: ["refcount", 4],
  };
  const walk = (id: number, base: number, depth: number): void => {
    if (depth > 8) return;
    const t: BtfType = btf.skipModsAndTypedefs(id);
    if (t.kind === "struct" || t.kind === "union") {
      const hit = special[t.name];
      if (hit) {
        out.push({ kind: hit[0], offset: base, size: hit[1] });
        return;
      }
      for (const mem of t.members) if (mem.bitfieldSize === 0) walk(mem.type, base + mem.bitOffset / 8, depth + 1);
    } else if (t.kind === "array") {
      const elem = btf.skipModsAndTypedefs(t.type);
      const size = btf.sizeof(elem.id);
      for (let i = 0; i < Math.min(t.nelems, 64); i++) walk(elem.id, base + i * size, depth + 1);
    } else if (t.kind === "datasec") {
      for (const v of t.vars) walk(v.type, base + v.offset, depth + 1);
    } else if (t.kind === "var") {
      walk(t.type, base, depth + 1);
    }
  };
  walk(typeId, 0, 0);
  return out;
}

/** Writes map fds (and value offsets) into the LD_IMM64s the spec's relocations name. */
function relocate(p: ProgramSpec, code: Bytecode, maps: Map<string, { fd: number; spec: MapSpec }>): void {
  for (const r of p.relocations) {
    const at = r.insnIndex;
    const what = `program ${p.name}: relocation at insn ${at}`;
    switch (r.kind) {
      case "subprog":
      case "func_ptr":
        break; // linked into the program already
      case "ksym":
        throw new NotSupportedError(`kernel symbol '${r.target}'`, `${what}: the vm has no kernel symbols`);
      case "map":
      case "map_value":
      case "kconfig": {
        if (code.opcode[at] !== OP_LD_IMM64) throw new LoadError(`${what}: not an LD_IMM64`);
        const map = maps.get(r.target);
        if (!map) throw new LoadError(`${what}: map '${r.target}' does not exist`);
        if (r.kind === "map") {
          code.src[at] = BPF_PSEUDO_MAP_FD;
          code.imm[at] = map.fd;
          code.imm[at + 1] = 0;
        } else {
          code.src[at] = BPF_PSEUDO_MAP_VALUE;
          code.imm[at] = map.fd;
          code.imm[at + 1] = r.offset;
        }
        break;
      }
    }
  }
}
