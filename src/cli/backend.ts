/** The backend a CLI invocation asked for (--backend vm|linux), and loading an object file into it. */
import type { Backend, Collection, LoadOptions, Program } from "../api/types.js";
import { LoadError } from "../errors.js";
import { objectSpecFromFile } from "../object/node.js";
import type { ObjectSpec } from "../object/spec.js";
import { vmBackend } from "../vm/backend.js";
import type { GlobalOptions } from "./command.js";

export async function backendFor(options: GlobalOptions): Promise<Backend> {
  if (options.backend === "linux") {
    const { linuxBackend } = await import("../linux/backend.js");
    return linuxBackend();
  }
  return vmBackend();
}

export interface LoadedFile {
  readonly spec: ObjectSpec;
  readonly collection: Collection;
}

/** Reads OBJ and loads it (only `program` if given, plus every map). */
export async function loadObjectFile(path: string, options: GlobalOptions, load: LoadOptions = {}): Promise<LoadedFile> {
  const spec = await objectSpecFromFile(path);
  const backend = await backendFor(options);
  return { spec, collection: backend.load(spec, load) };
}

/** The program NAME names, or the only one. */
export function pickProgram(collection: Collection, name: string | undefined): Program {
  if (name !== undefined) return collection.program(name);
  const all = [...collection.programs.values()];
  if (all.length === 1) return all[0];
  throw new LoadError(`the object has ${all.length} programs; choose one with 'program NAME' (${all.map((p) => p.name).join(", ")})`);
}
