/** Node-only entry points of the object layer: reading objects from files. */
import { readFile } from "node:fs/promises";
import { objectNameFromPath } from "./maps.js";
import { ObjectSpec, type ObjectSpecOptions } from "./spec.js";

/**
 * Reads an object file. The object name (prefix of internal map names) is the
 * file name up to its first '.', as libbpf names it.
 */
export async function objectSpecFromFile(path: string, opts: ObjectSpecOptions = {}): Promise<ObjectSpec> {
  const bytes = await readFile(path);
  return ObjectSpec.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { name: opts.name ?? objectNameFromPath(path) });
}
