/**
 * ObjectSpec: everything in a BPF ELF object, as plain data, before any
 * backend is involved (cilium/ebpf's CollectionSpec, aya's aya-obj). The same
 * bytes give a deep-equal spec on any machine; the spec may be changed before
 * loading (maxEntries, flags, autoload, dropping programs).
 */
import type { Btf } from "../btf/btf.js";
import type { BtfExt } from "../btf/ext.js";
import { ElfFile } from "../elf/reader.js";
import { BtfError, ElfError, LoadError } from "../errors.js";
import { openObject } from "./open.js";
import type { KconfigSpec, KsymExtern, MapSpec, ProgramSpec } from "./types.js";

export interface ObjectSpecOptions {
  /**
   * The object's name, which prefixes internal map names ("name.rodata").
   * libbpf takes the file name up to its first '.'; fromBytes defaults to the
   * object's STT_FILE symbol read the same way ("xdp_fw.bpf.c" -> "xdp_fw"), else "bpf".
   */
  readonly name?: string;
}

export class ObjectSpec {
  /** Object name (internal map prefix). */
  name: string;
  byteOrder: "le" | "be";
  /** From the "license" section ("" when absent). */
  license: string;
  /** From the "version" section (0 when absent: the loader may fill in the running kernel's). */
  kernelVersion: number;
  /** Entry programs by name, in section and offset order. */
  programs: Map<string, ProgramSpec>;
  /** Maps by name: legacy, BTF-defined, global data, .kconfig, struct_ops. */
  maps: Map<string, MapSpec>;
  /** The object's BTF with libbpf's open-time fix-ups (DATASEC sizes, var offsets, externs). */
  btf?: Btf;
  btfExt?: BtfExt;
  /** Kernel config externs the loader fills into the .kconfig map. */
  kconfig?: KconfigSpec;
  /** Kernel symbol externs (.ksyms). */
  ksyms: KsymExtern[];

  private constructor(o: ReturnType<typeof openObject>) {
    this.name = o.name;
    this.byteOrder = o.byteOrder;
    this.license = o.license;
    this.kernelVersion = o.kernelVersion;
    this.programs = o.programs;
    this.maps = o.maps;
    this.btf = o.btf;
    this.btfExt = o.btfExt;
    this.kconfig = o.kconfig;
    this.ksyms = o.ksyms;
  }

  /**
   * Reads an object from its bytes. Throws ElfError (malformed ELF), BtfError
   * (malformed BTF) or LoadError (an object libbpf would refuse to open).
   */
  static fromBytes(bytes: Uint8Array, opts: ObjectSpecOptions = {}): ObjectSpec {
    const elf = ElfFile.parse(bytes);
    try {
      return new ObjectSpec(openObject(elf, opts));
    } catch (e) {
      if (e instanceof ElfError || e instanceof BtfError || e instanceof LoadError) throw e;
      if (e instanceof RangeError) throw new LoadError(`object: malformed contents: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** The program with this name; throws LoadError when there is none. */
  program(name: string): ProgramSpec {
    const p = this.programs.get(name);
    if (!p) throw new LoadError(`object '${this.name}' has no program '${name}'`);
    return p;
  }

  /** The map with this name; throws LoadError when there is none. */
  map(name: string): MapSpec {
    const m = this.maps.get(name);
    if (!m) throw new LoadError(`object '${this.name}' has no map '${name}'`);
    return m;
  }

  /** A deep copy to change without touching this one (BTF is shared: it is not edited in place). */
  copy(): ObjectSpec {
    const c = Object.create(ObjectSpec.prototype) as ObjectSpec;
    c.name = this.name;
    c.byteOrder = this.byteOrder;
    c.license = this.license;
    c.kernelVersion = this.kernelVersion;
    c.programs = new Map([...this.programs].map(([k, p]) => [k, { ...structuredCloneProgram(p) }]));
    c.maps = new Map([...this.maps].map(([k, m]) => [k, structuredClone(m)]));
    c.btf = this.btf;
    c.btfExt = this.btfExt;
    c.kconfig = this.kconfig ? structuredClone(this.kconfig) : undefined;
    c.ksyms = structuredClone(this.ksyms);
    return c;
  }
}

function structuredCloneProgram(p: ProgramSpec): ProgramSpec {
  const { instructions, ...rest } = p;
  return { ...structuredClone(rest), instructions: instructions.clone() };
}
