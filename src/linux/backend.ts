/**
 * The linux backend: the one API (src/api/types.ts) over the real kernel.
 *
 *   const coll = linuxBackend().load(await objectSpecFromFile("prog.bpf.o"));
 *   coll.program("count_openat").attach();          // SEC("tracepoint/...") needs no target
 *   coll.map("counts").typed(u32, u64).entries();
 */
import type { Backend, LoadOptions } from "../api/types.js";
import type { ObjectSpec } from "../object/spec.js";
import type { LinuxCollection } from "./api/collection.js";
import { loadObject } from "./load/object.js";

export interface LinuxBackend extends Backend {
  readonly name: "linux";
  load(spec: ObjectSpec, options?: LoadOptions): LinuxCollection;
}

export function linuxBackend(): LinuxBackend {
  return {
    name: "linux",
    load: (spec, options) => loadObject(spec, options),
  };
}
