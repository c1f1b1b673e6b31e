/**
 * Inspecting an object file loaded into the chosen backend (bpftool's grammar,
 * with `file OBJ` where bpftool takes `id N` or `pinned PATH`):
 *   tsbpf prog dump xlated file OBJ [program NAME]
 *   tsbpf prog dump jited file OBJ [program NAME]   (the vm's WebAssembly, as text)
 *   tsbpf map dump file OBJ name MAP [program NAME] [data_in FILE] [repeat N]
 * The map dump can follow a test run of a program from the same object.
 */
import { readFileSync } from "node:fs";
import { Bytecode } from "../../isa/bytecode.js";
import type { ObjectSpec } from "../../object/spec.js";
import type { Program } from "../../api/types.js";
import { type Command, UsageError, parseKeywords } from "../command.js";
import { loadObjectFile, pickProgram } from "../backend.js";
import { type XlatedSource, dumpXlatedText, funcProto } from "../format/xlated.js";
import { dumpMapText } from "../format/map-dump.js";
import { JsonWriter } from "../../btf/json-writer.js";
import { VmProgramHandle } from "../../vm/backend.js";
import { JitEngine } from "../../vm/jit/engine.js";
import { printWat } from "../../vm/jit/wat.js";

/**
 * Source annotations from the object's BTF func and line info, placed at the
 * xlated instruction each record's instruction became (the kernel moves
 * line_info the same way when it patches a program).
 */
function sourceOf(spec: ObjectSpec, prog: Program, xlated: Bytecode): XlatedSource {
  const p = spec.program(prog.name);
  const origin = prog instanceof VmProgramHandle ? prog.object.xlatedOrigin : undefined;
  if (!origin && p.instructions.length !== xlated.length) return {};
  const at = new Map<number, number>();
  if (origin) origin.forEach((o, pc) => o >= 0 && !at.has(o) && at.set(o, pc));
  const place = (insn: number): number | undefined => (origin ? at.get(insn) : insn);
  const lines = new Map<number, string>();
  for (const l of p.lineInfo) {
    const pc = place(l.insnIndex);
    if (pc !== undefined) lines.set(pc, l.lineText);
  }
  const functions = new Map<number, string>();
  if (spec.btf) {
    for (const f of p.funcInfo) {
      const proto = funcProto(spec.btf, f.typeId);
      const pc = place(f.insnIndex);
      if (proto && pc !== undefined) functions.set(pc, proto);
    }
  }
  return { lines, functions };
}

export const progDumpXlatedFileCommand: Command = {
  words: ["prog", "dump", "xlated", "file"],
  usage: "prog dump xlated file OBJ [program NAME] [-j]",
  async run(args, options, io) {
    const { kw, positional } = parseKeywords(args, ["program"]);
    if (positional.length !== 1) throw new UsageError("expected one object file after 'file'");
    const name = kw.get("program");
    const { spec, collection } = await loadObjectFile(positional[0], options, name ? { programs: [name] } : {});
    using _ = collection;
    const prog = pickProgram(collection, name);
    const xlated = Bytecode.fromBytes(prog.xlated());
    const { plain, json } = dumpXlatedText(xlated, sourceOf(spec, prog, xlated));
    if (!options.json) {
      io.out(plain);
      return 0;
    }
    const w = new JsonWriter(options.pretty);
    w.startArray();
    for (const line of json) {
      w.startObject();
      if (line.proto !== undefined) w.field("proto", line.proto);
      if (line.src !== undefined) w.field("src", line.src);
      w.field("disasm", line.disasm).endObject();
    }
    w.endArray();
    io.out(w.toString());
    return 0;
  },
};

export const mapDumpFileCommand: Command = {
  words: ["map", "dump", "file"],
  usage: "map dump file OBJ name MAP [program NAME] [data_in FILE] [repeat N] [-j]",
  async run(args, options, io) {
    const { kw, positional } = parseKeywords(args, ["name", "program", "data_in", "repeat"]);
    if (positional.length !== 1) throw new UsageError("expected one object file after 'file'");
    const mapName = kw.get("name");
    if (!mapName) throw new UsageError("map dump file needs 'name MAP'");
    const progName = kw.get("program");
    const { spec, collection } = await loadObjectFile(positional[0], options, progName ? { programs: [progName] } : {});
    using _ = collection;
    if (progName !== undefined || kw.has("data_in") || kw.has("repeat")) {
      const dataIn = kw.get("data_in");
      pickProgram(collection, progName).run({
        ...(dataIn ? { data: new Uint8Array(readFileSync(dataIn)) } : {}),
        repeat: Number(kw.get("repeat") ?? "1"),
      });
    }
    const map = collection.map(mapName);
    const mspec = spec.map(mapName);
    const type = map.info.type;
    const perCpu = type.includes("percpu");
    const sample = map.entries().next();
    const ncpus = perCpu && !sample.done ? sample.value[1].length / ((map.info.valueSize + 7) & ~7) : 1;
    const text = dumpMapText({
      keySize: map.info.keySize, valueSize: map.info.valueSize, perCpu, ncpus,
      holdsIds: type === "prog_array" || type === "array_of_maps" || type === "hash_of_maps",
      ...(spec.btf ? { btf: spec.btf } : {}),
      btfKeyTypeId: mspec.btfKeyTypeId, btfValueTypeId: mspec.btfValueTypeId,
      entries: () => map.entries(),
    }, options.json ? (options.pretty ? "pretty" : "json") : "plain");
    io.out(text);
    return 0;
  },
};

export const progDumpJitedFileCommand: Command = {
  words: ["prog", "dump", "jited", "file"],
  usage: "prog dump jited file OBJ [program NAME]",
  async run(args, options, io) {
    if (options.backend !== "vm") throw new UsageError("prog dump jited file shows the vm's WebAssembly; use 'prog dump jited id N' for the kernel's");
    const { kw, positional } = parseKeywords(args, ["program"]);
    if (positional.length !== 1) throw new UsageError("expected one object file after 'file'");
    const name = kw.get("program");
    const { collection } = await loadObjectFile(positional[0], options, name ? { programs: [name] } : {});
    using _ = collection;
    const prog = pickProgram(collection, name) as VmProgramHandle;
    const engine = prog.object.engine;
    if (!(engine instanceof JitEngine)) throw new UsageError(`program ${prog.name} runs on the interpreter (not JIT-compiled)`);
    io.out(printWat(engine.compiled.bytes, { pcMap: engine.compiled.pcMap }));
    return 0;
  },
};
