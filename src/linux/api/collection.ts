/**
 * Collection (src/api/types.ts) of a loaded object: programs and maps by name;
 * dispose closes everything it holds (links attached through its programs,
 * programs, maps). Pins outlive it, as pins do.
 */
import type { Collection } from "../../api/types.js";
import { LoadError } from "../../errors.js";
import type { LinuxMapHandle } from "./map.js";
import type { LinuxProgramHandle } from "./program.js";

export class LinuxCollection implements Collection {
  #closed = false;

  constructor(
    /** The object's name (spec.name). */
    readonly name: string,
    readonly programs: ReadonlyMap<string, LinuxProgramHandle>,
    readonly maps: ReadonlyMap<string, LinuxMapHandle>,
  ) {}

  program(name: string): LinuxProgramHandle {
    const p = this.programs.get(name);
    if (!p) throw new LoadError(`object '${this.name}': no loaded program '${name}' (loaded: ${[...this.programs.keys()].join(", ") || "none"})`);
    return p;
  }

  map(name: string): LinuxMapHandle {
    const m = this.maps.get(name);
    if (!m) throw new LoadError(`object '${this.name}': no map '${name}' (maps: ${[...this.maps.keys()].join(", ") || "none"})`);
    return m;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
