/**
 * ObjectSpec -> the running kernel, in libbpf's order (libbpf.c,
 * bpf_object_load): BTF sanitized and uploaded, externs resolved (.kconfig
 * from the kernel's config, .ksyms from kallsyms and kernel BTF), maps
 * created (pinned ones reused), CO-RE resolved against vmlinux BTF, programs
 * relocated and loaded, .rodata bound to each program, prog array slots
 * filled. Any failure undoes everything this load created (fds closed, new
 * pins removed) and names the operation that failed.
 */
import type { LoadOptions, MapHandle } from "../../api/types.js";
import { BtfError, LoadError, NotSupportedError, TsbpfError } from "../../errors.js";
import type { Instruction } from "../../isa/instruction.js";
import { type CoreResolution, resolveCoreRelocations } from "../../object/core.js";
import type { ObjectSpec } from "../../object/spec.js";
import type { ProgramSpec } from "../../object/types.js";
import { progBindMap } from "../bpf.js";
import { LinuxBtf } from "../btf-object.js";
import { AttachType, MapType, ProgType } from "../constants.js";
import { kernelVersionCode } from "../features.js";
import { BPFFS_DEFAULT } from "../fs.js";
import { LinuxMap } from "../map.js";
import { progLoadRaw } from "../program.js";
import { sys } from "../sys.js";
import { LinuxCollection } from "../api/collection.js";
import { LinuxMapHandle } from "../api/map.js";
import { LinuxProgramHandle } from "../api/program.js";
import { kernelBtfBytes, kernelBtfFeatures, vmlinuxTypes } from "./btf.js";
import { kconfigValue } from "./kconfig.js";
import { resolveKsyms } from "./ksyms.js";
import { type CreatedMap, createMaps } from "./maps.js";
import { loadProgram } from "./programs.js";
import { Resources } from "./resources.js";

const RET0: Instruction[] = [
  { kind: "alu", op: "mov", wide: true, dst: 0, src: { kind: "imm", imm: 0 } },
  { kind: "exit" },
];

let expAttach: boolean | undefined;

/** libbpf's FEAT_EXP_ATTACH_TYPE probe: a cgroup/sock program loaded with an expected attach type (4.17). */
export function probeExpectedAttachType(): boolean {
  if (expAttach !== undefined) return expAttach;
  const { ret } = progLoadRaw({
    type: ProgType.BPF_PROG_TYPE_CGROUP_SOCK, insns: RET0, expectedAttachType: AttachType.BPF_CGROUP_INET_SOCK_CREATE,
  });
  if (ret >= 0) sys().close(ret);
  return (expAttach = ret >= 0);
}

/** The programs a load covers: the named ones, else every program with autoload. */
function selectPrograms(spec: ObjectSpec, names: readonly string[] | undefined): ProgramSpec[] {
  if (!names) return [...spec.programs.values()].filter((p) => p.autoload);
  return names.map((n) => {
    const p = spec.programs.get(n);
    if (!p) throw new LoadError(`object '${spec.name}' has no program '${n}' (programs: ${[...spec.programs.keys()].join(", ")})`);
    return p;
  });
}

/** A replacement map must be a linux map: the loader takes its own reference (dup) to it. */
function replacementMaps(spec: ObjectSpec, replace: Readonly<Record<string, MapHandle>> | undefined, res: Resources): Map<string, LinuxMap> {
  const out = new Map<string, LinuxMap>();
  for (const [name, h] of Object.entries(replace ?? {})) {
    if (!spec.maps.has(name)) throw new LoadError(`replaceMaps: object '${spec.name}' has no map '${name}'`);
    if (!(h instanceof LinuxMapHandle)) throw new LoadError(`replaceMaps: map '${name}' does not belong to the linux backend`);
    out.set(name, res.own(LinuxMap.fromFd(h.kernel.fd.dup())));
  }
  return out;
}

function uploadBtf(spec: ObjectSpec, logLevel: number, res: Resources): { obj?: LinuxBtf; fd?: number; hasFuncs: boolean } {
  if (!spec.btf) return { hasFuncs: false };
  const f = kernelBtfFeatures();
  if (!f.btf) return { hasFuncs: false };
  const { bytes } = kernelBtfBytes(spec.btf);
  try {
    const obj = res.own(LinuxBtf.load(bytes, { logLevel: logLevel > 0 ? 1 : 0 }));
    return { obj, fd: obj.fd.value, hasFuncs: f.func };
  } catch (e) {
    throw new LoadError(`load BTF of object '${spec.name}': ${(e as Error).message}`, { cause: e });
  }
}

/** Loads a spec into the kernel. */
export function loadObject(spec: ObjectSpec, options: LoadOptions = {}): LinuxCollection {
  if (spec.byteOrder !== "le") {
    throw new NotSupportedError(`big-endian object '${spec.name}'`, "this kernel runs little-endian BPF");
  }
  const progs = selectPrograms(spec, options.programs);
  const logLevel = options.logLevel ?? 0;
  const res = new Resources();
  try {
    const btf = uploadBtf(spec, logLevel, res);
    const kconfig = spec.kconfig ? { mapName: spec.kconfig.mapName, data: kconfigValue(spec.kconfig, spec.byteOrder) } : undefined;
    const replace = replacementMaps(spec, options.replaceMaps, res);
    const maps = createMaps(spec.maps, {
      ...(btf.fd !== undefined ? { btfFd: btf.fd } : {}),
      pinPath: options.pinPath ?? BPFFS_DEFAULT,
      replace,
      ...(kconfig ? { kconfig } : {}),
    }, res);
    const ksyms = resolveKsyms(spec.ksyms);
    let core: CoreResolution = new Map();
    if (progs.some((p) => p.coreRelocations.length)) {
      try {
        core = resolveCoreRelocations(spec, [vmlinuxTypes()], progs);
      } catch (e) {
        if (e instanceof NotSupportedError) throw e;
        throw new LoadError(`CO-RE relocation against kernel BTF: ${(e as Error).message}`, { cause: e });
      }
    }
    const ctx = {
      maps,
      ...(btf.fd !== undefined ? { btfFd: btf.fd } : {}),
      btfHasFuncs: btf.hasFuncs,
      core,
      ksyms,
      ksymIndex: new Map(spec.ksyms.map((k, i) => [k.name, i])),
      ...(spec.kconfig ? { kconfigMap: spec.kconfig.mapName } : {}),
      logLevel,
      expectedAttachType: probeExpectedAttachType(),
      kernVersion: kernelVersionCode(),
    };
    const loaded = new Map<string, LinuxProgramHandle>();
    const rodata = [...maps.values()].find((m) => m.spec.source === "rodata" && m.spec.sectionName === ".rodata");
    for (const p of progs) {
      let prog;
      try {
        prog = res.own(loadProgram(p, ctx));
      } catch (e) {
        if (e instanceof BtfError) throw new LoadError(`load program ${p.name}: ${e.message}`, { cause: e });
        throw e;
      }
      // libbpf binds .rodata to every program so read-only data (bpf_metadata) lives as long as it.
      if (rodata) {
        try {
          progBindMap(prog.fd.value, rodata.map.fd.value);
        } catch {
          // BPF_PROG_BIND_MAP needs 5.10; only a convenience, as in libbpf.
        }
      }
      loaded.set(p.name, new LinuxProgramHandle(p, prog));
    }
    fillProgArrays(maps, loaded);
    // The kernel holds its own references to the BTF from every program and map that uses it.
    if (btf.obj) res.release(btf.obj);
    const handles = new Map([...maps].map(([name, c]) => [name, new LinuxMapHandle(name, c.map)]));
    res.commit();
    return new LinuxCollection(spec.name, loaded, handles);
  } catch (e) {
    res.rollback();
    if (e instanceof TsbpfError) throw e;
    throw new LoadError(`load object '${spec.name}': ${(e as Error).message}`, { cause: e });
  }
}

/** Prog arrays' initial slots, once their programs exist (libbpf.c, init_prog_array_slots). */
function fillProgArrays(maps: ReadonlyMap<string, CreatedMap>, progs: ReadonlyMap<string, LinuxProgramHandle>): void {
  for (const c of maps.values()) {
    if (c.spec.type !== MapType.BPF_MAP_TYPE_PROG_ARRAY) continue;
    for (const slot of c.spec.initialSlots) {
      const p = progs.get(slot.target);
      // A program left out of this load (autoload off, or not in LoadOptions.programs) leaves its slot empty.
      if (!p) continue;
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, slot.index, true);
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, p.kernel.fd.value, true);
      try {
        c.map.update(k, v);
      } catch (e) {
        throw new LoadError(`map ${c.spec.name}: initialize slot [${slot.index}] to program '${slot.target}': ${(e as Error).message}`, { cause: e });
      }
    }
  }
}
