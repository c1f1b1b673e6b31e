/**
 * `tsbpf verify OBJ [program NAME] [log 0|1|2] [--unpriv] [--stats] [-j]`: runs
 * the vm's verifier over the programs of an object file and reports verdicts,
 * the processed-instruction count and, when asked (log N or -d), the log in the
 * kernel's format. Exit code 1 when a program is rejected.
 */
import { readFileSync } from "node:fs";
import { LoadError, TsbpfError } from "../../errors.js";
import { ObjectSpec } from "../../object/index.js";
import type { MapSpec, ProgramSpec } from "../../object/types.js";
import { helperProtos } from "../../vm/helpers/protos.js";
import { progTypeById } from "../../vm/progtypes/index.js";
import { verify } from "../../vm/verifier/index.js";
import type { FuncInfo, VerifierInput, VerifierMapInfo, VerifierResult } from "../../vm/verifier/types.js";
import { type Command, UsageError, parseKeywords, printJson } from "../command.js";

/** BTF_FUNC_GLOBAL (include/uapi/linux/btf.h). */
const BTF_FUNC_GLOBAL = 1;

function mapInfo(m: MapSpec): VerifierMapInfo {
  return {
    type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, name: m.kernelName,
    frozen: m.freeze, readOnlyValue: m.freeze ? m.data : undefined, inner: m.innerMap ? mapInfo(m.innerMap) : undefined,
  };
}

/** The verifier's input for one program of an object: map references become handles into the object's maps. */
export function verifierInputFor(spec: ObjectSpec, prog: ProgramSpec): VerifierInput {
  const progType = progTypeById(prog.type);
  if (!progType) throw new LoadError(`program ${prog.name}: unknown program type ${prog.type} (section '${prog.sectionName}')`);
  const code = prog.instructions.clone();
  const maps: VerifierMapInfo[] = [];
  const handles = new Map<string, number>();
  const handle = (name: string): number => {
    let h = handles.get(name);
    if (h === undefined) {
      h = maps.length;
      maps.push(mapInfo(spec.map(name)));
      handles.set(name, h);
    }
    return h;
  };
  for (const r of prog.relocations) {
    const i = r.insnIndex;
    if (r.kind === "map") {
      code.src[i] = 1; // BPF_PSEUDO_MAP_FD
      code.imm[i] = handle(r.target);
      code.imm[i + 1] = 0;
    } else if (r.kind === "map_value" || r.kind === "kconfig") {
      const target = r.kind === "kconfig" ? [...spec.maps.values()].find((m) => m.source === "kconfig")?.name : r.target;
      if (!target) throw new LoadError(`program ${prog.name}: kconfig extern without a .kconfig map`);
      code.src[i] = 2; // BPF_PSEUDO_MAP_VALUE
      code.imm[i] = handle(target);
      code.imm[i + 1] = r.offset;
    } else if (r.kind === "ksym") {
      throw new LoadError(`program ${prog.name}: kernel symbol '${r.target}' (ksym externs are not supported by the vm verifier)`);
    }
  }
  const funcInfo: FuncInfo[] = prog.functions.map((f) => {
    const fi = prog.funcInfo.find((x) => x.insnIndex === f.insnIndex);
    const t = fi && spec.btf ? spec.btf.type(fi.typeId) : undefined;
    const global = t?.kind === "func" && t.linkage === BTF_FUNC_GLOBAL && f.insnIndex !== 0;
    if (!global || !spec.btf || t?.kind !== "func") return { insn: f.insnIndex, name: f.name };
    const btf = spec.btf;
    const proto = btf.type(t.type);
    if (proto.kind !== "func_proto") return { insn: f.insnIndex, name: f.name, global };
    const params = proto.params.map((p) => {
      const pt = btf.skipModsAndTypedefs(p.type);
      if (pt.kind === "ptr") {
        const target = btf.skipModsAndTypedefs(pt.type);
        if ("name" in target && target.name === progType.ctxStruct) return { kind: "ctx" as const };
        return { kind: "mem" as const, size: btf.sizeof(pt.type), nullable: true };
      }
      return { kind: "scalar" as const };
    });
    return { insn: f.insnIndex, name: f.name, global, params, returnsVoid: proto.returnType === 0 };
  });
  return {
    code, progType, expectedAttachType: prog.expectedAttachType, license: prog.license || spec.license,
    helper: (id) => helperProtos.get(id), maps: (h) => maps[h], funcInfo: prog.funcInfo.length ? funcInfo : undefined,
    lineInfo: prog.lineInfo.map((l) => ({ insn: l.insnIndex, file: l.fileName, line: l.line, col: l.column, text: l.lineText })),
    name: prog.name,
  };
}

export const verifyCommand: Command = {
  words: ["verify"],
  usage: "verify OBJ [program NAME] [log 0|1|2] [--unpriv] [--stats] [-j]",
  async run(args, options, io) {
    const { kw, positional, flags } = parseKeywords(args, ["program", "log"]);
    if (positional.length !== 1) throw new UsageError("verify takes one object file");
    for (const f of flags.keys()) if (f !== "--unpriv" && f !== "--stats") throw new UsageError(`unknown option '${f}'`);
    const level = Number(kw.get("log") ?? (options.debug ? 1 : 0));
    if (level !== 0 && level !== 1 && level !== 2) throw new UsageError(`log takes 0, 1 or 2, not '${kw.get("log")}'`);
    const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(positional[0])));
    const name = kw.get("program");
    const progs = name ? [spec.program(name)] : [...spec.programs.values()].filter((p) => p.autoload);
    let rejected = 0;
    for (const prog of progs) {
      let r: VerifierResult;
      try {
        r = verify({ ...verifierInputFor(spec, prog), logLevel: level as 0 | 1 | 2, privileged: !flags.has("--unpriv"), logStats: flags.has("--stats") });
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        rejected++;
        if (options.json) printJson(io, options, { program: prog.name, accepted: false, error: e.message });
        else io.out(`${prog.name}: error: ${e.message}\n`);
        continue;
      }
      if (!r.accepted) rejected++;
      if (options.json) {
        printJson(io, options, {
          program: prog.name, accepted: r.accepted, ...r.stats, stackDepth: r.stackDepth, xlatedInsns: r.xlated.length,
          ...(r.error ? { error: r.error.message } : {}), ...(level ? { log: r.log } : {}),
        });
        continue;
      }
      if (level) io.out(r.log);
      const s = r.stats;
      io.out(r.accepted
        ? `${prog.name}: accepted, processed ${s.processedInsns} insns, ${s.totalStates} states, stack ${r.stackDepth.join("+")}, ${r.xlated.length} xlated insns\n`
        : `${prog.name}: rejected: ${r.error?.message}\n`);
    }
    return rejected ? 1 : 0;
  },
};
