/**
 * Shared parts of the linux-backend inspection commands (prog, map, link, btf):
 * bpftool's object selectors `id N` and `pinned PATH`, and the backend check.
 */
import { objGet, fdById, type ObjectKind } from "../../linux/bpf.js";
import { Fd } from "../../linux/fd.js";
import { type GlobalOptions, UsageError } from "../command.js";

/** These commands read the running kernel's objects: only the linux backend has them. */
export function requireLinux(options: GlobalOptions, what: string): void {
  if (options.backend !== "linux") throw new UsageError(`${what} inspects kernel objects: run with --backend linux`);
}

/** Parses bpftool's `id N` / `pinned PATH` (or nothing: all objects). */
export function parseSelector(args: readonly string[], what: string): { id?: number; pinned?: string; rest: string[] } {
  if (args.length === 0) return { rest: [] };
  const [k, v, ...rest] = args;
  if (v === undefined) throw new UsageError(`${what}: '${k}' needs a value`);
  if (k === "id") {
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new UsageError(`${what}: can't parse ${v} as ID`);
    return { id: Number(v), rest };
  }
  if (k === "pinned") return { pinned: v, rest };
  throw new UsageError(`${what}: expected 'id' or 'pinned', got: '${k}'`);
}

/** An fd for the selected object. */
export function openSelected(kind: ObjectKind, sel: { id?: number; pinned?: string }): Fd {
  if (sel.id !== undefined) return new Fd(fdById(kind, sel.id), `${kind} id ${sel.id}`);
  return new Fd(objGet(sel.pinned!), `${kind} ${sel.pinned}`);
}
