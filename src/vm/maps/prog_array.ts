/**
 * BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c, Documentation/bpf/map_prog_array.rst
 * is absent; see bpf_tail_call in include/uapi/linux/bpf.h): slots of programs for
 * bpf_tail_call(). The first program stored fixes the program type every later
 * one must share (bpf_prog_map_compatible), as the kernel's owner type does.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { type ProgramRef, mapAt } from "./map.js";
import { FdArrayMap } from "./fd_array.js";

const E = ERRNO;

export class ProgArrayMap<P extends ProgramRef = ProgramRef> extends FdArrayMap<P> {
  /** The program type every entry must have, once the first was stored. */
  ownerProgType: number | undefined;

  /** The tail-call primitive: the program in slot `index`, or undefined (the call falls through). */
  tailCallTarget(index: number): P | undefined {
    return index < this.maxEntries ? this.slots[index] : undefined;
  }

  protected override fromFd(fd: number): P | number {
    const prog = this.resolver.program?.(fd) as P | undefined;
    if (!prog) {
      // A map or another non-program fd is EINVAL; no object at all is EBADF.
      return this.resolver.map?.(fd) ? -E.EINVAL : -E.EBADF;
    }
    return this.compatible(prog) ? prog : -E.EINVAL;
  }

  private compatible(prog: P): boolean {
    if (this.ownerProgType === undefined) {
      this.ownerProgType = prog.progType;
      return true;
    }
    return this.ownerProgType === prog.progType;
  }

  override set(index: number, prog: P | undefined): number {
    if (prog && !this.compatible(prog)) return -E.EINVAL;
    return super.set(index, prog);
  }

  protected override sysId(prog: P): number {
    return prog.id;
  }
}

/**
 * What EngineEnv.tailCallTarget(mapAddr, index) resolves through: the program in
 * slot `index` of the prog_array whose descriptor is at `mapAddr`, or undefined
 * (not a prog_array, index out of range, empty slot: the tail call falls through).
 */
export function tailCallTarget<P extends ProgramRef = ProgramRef>(space: AddressSpace, mapAddr: number, index: number): P | undefined {
  const m = mapAt(space, mapAddr);
  return m instanceof ProgArrayMap ? (m.tailCallTarget(index) as P | undefined) : undefined;
}
