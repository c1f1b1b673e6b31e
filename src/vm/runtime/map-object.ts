/** A vm map as a kernel object: the BpfMap plus its id, references and pins. */
import type { BpfMap } from "../maps/map.js";
import { FdArrayMap } from "../maps/fd_array.js";
import { KernelObject } from "./objects.js";

export class VmMapObject extends KernelObject {
  readonly kind = "map" as const;

  constructor(readonly map: BpfMap) {
    super();
  }

  protected onRelease(): void {
    // fd-holding maps drop what their slots hold when the map goes (prog_array_map_clear).
    if (this.map instanceof FdArrayMap) this.map.clear();
    this.map.dispose();
  }
}
