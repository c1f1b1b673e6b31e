/**
 * What an object spec holds: programs, maps, externs. Plain, mutable data
 * (change maxEntries, drop a program, before loading); nothing here touches
 * a backend. Relocations stay symbolic: they name their map, subprogram or
 * extern, and the loader fills in file descriptors, addresses or BTF ids.
 */
import type { Bytecode } from "../isa/bytecode.js";

/**
 * A reference an instruction makes that the loader has to resolve:
 * - "map": LD_IMM64 of a map (→ src BPF_PSEUDO_MAP_FD, imm = fd);
 * - "map_value": LD_IMM64 of global data: map `target` at byte `offset`
 *   (→ BPF_PSEUDO_MAP_VALUE, imm = fd, second imm = offset);
 * - "kconfig": LD_IMM64 of a .kconfig extern, `offset` into the kconfig map;
 * - "ksym": LD_IMM64 or call of a .ksyms extern (kernel variable or kfunc);
 * - "subprog": a bpf-to-bpf call, already linked (imm points at the appended
 *   subprogram); recorded so tools can show it;
 * - "func_ptr": LD_IMM64 of a subprogram's address (callbacks), already
 *   linked as BPF_PSEUDO_FUNC.
 */
export type RelocationKind = "map" | "map_value" | "kconfig" | "ksym" | "subprog" | "func_ptr";

export interface Relocation {
  /** Instruction slot in the program's (linked) instructions. */
  insnIndex: number;
  kind: RelocationKind;
  /** Map name (spec.maps key), extern name or subprogram name. */
  target: string;
  /** Byte offset into the map value (map_value, kconfig); instruction index of the subprogram (subprog, func_ptr); else 0. */
  offset: number;
}

/** A CO-RE relocation of one instruction, against the object's BTF. */
export interface CoreRelocation {
  insnIndex: number;
  /** Local root type id in spec.btf. */
  typeId: number;
  accessString: string;
  /** BPF_CORE_* kind. */
  kind: number;
  /** Position of the record in .BTF.ext (shared by every program that links the same subprogram). */
  recordIndex: number;
}

/** bpf_func_info for the kernel: insnIndex in instructions, not bytes. */
export interface ProgramFuncInfo {
  insnIndex: number;
  typeId: number;
}

/** bpf_line_info for the kernel, with the strings resolved. Offsets point into spec.btf's string table. */
export interface ProgramLineInfo {
  insnIndex: number;
  fileNameOff: number;
  lineOff: number;
  line: number;
  column: number;
  fileName: string;
  lineText: string;
}

/** Where a function's code sits in a linked program. */
export interface LinkedFunction {
  name: string;
  /** First instruction slot. */
  insnIndex: number;
  /** Number of slots. */
  length: number;
}

export interface ProgramSpec {
  /** The function's symbol name. */
  name: string;
  /** SEC() name, without a leading '?'. */
  sectionName: string;
  /** BPF_PROG_TYPE_* (0 when libbpf would not know the section). */
  type: number;
  /** BPF_* attach type the program is loaded with. */
  expectedAttachType: number;
  /** The kernel may lack this attach type; libbpf then loads with 0 (SEC_EXP_ATTACH_OPT). */
  attachTypeOptional: boolean;
  /** The text after "prefix/" in the section name: the kprobe's function, fentry's target... */
  attachTarget: string;
  /** attachTarget is a kernel BTF name to resolve at load (fentry, fexit, lsm, tp_btf, iter, freplace). */
  attachBtf: boolean;
  /** BPF_PROG_LOAD prog_flags: BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS. */
  flags: number;
  /** Load it by default (false for SEC("?...")). */
  autoload: boolean;
  /** The libbpf section pattern that matched ("kprobe+", "xdp"), or undefined. */
  sectionPattern?: string;
  license: string;
  kernelVersion: number;
  /** The program's code with every subprogram it calls appended. */
  instructions: Bytecode;
  /** The main function first, then appended subprograms in link order. */
  functions: LinkedFunction[];
  relocations: Relocation[];
  coreRelocations: CoreRelocation[];
  funcInfo: ProgramFuncInfo[];
  lineInfo: ProgramLineInfo[];
  /** Symbol binding is global or weak. */
  global: boolean;
}

/** Where a map spec came from. */
export type MapSource = "btf" | "legacy" | "data" | "rodata" | "bss" | "kconfig" | "struct_ops";

export interface MapSpec {
  /** The name users see (libbpf's bpf_map__name); the key of spec.maps. */
  name: string;
  /** The name for BPF_MAP_CREATE: at most 15 characters of [A-Za-z0-9_.]. */
  kernelName: string;
  source: MapSource;
  /** ELF section it was defined in (".maps", "maps", ".rodata", ".data.custom", ...). */
  sectionName: string;
  /** BPF_MAP_TYPE_*. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags (BPF_F_*). */
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  /** LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME. */
  pinning: number;
  /** Key/value types in the object's BTF (0: none). For global data the value is the DATASEC. */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Inner map definition of an array/hash of maps. */
  innerMap?: MapSpec;
  /** Initial value of the single entry of a global data map (zeros for .bss). */
  data?: Uint8Array;
  /** Initial entries of prog arrays and maps of maps: slot index → program or map name. */
  initialSlots: Array<{ index: number; target: string }>;
  /** Freeze after filling (BPF_MAP_FREEZE): .rodata and .kconfig. */
  freeze: boolean;
  /** struct_ops maps: the struct type and which member calls which program. */
  structOps?: StructOpsSpec;
}

export interface StructOpsSpec {
  /** The struct's name ("tcp_congestion_ops"), to find in kernel BTF. */
  typeName: string;
  /** The struct type id in the object's BTF. */
  typeId: number;
  /** Function-pointer members set to programs. */
  programs: Array<{ member: string; memberIndex: number; program: string }>;
}

/** libbpf's kcfg_type. */
export type KconfigType = "bool" | "tristate" | "char" | "int" | "char_array";

export interface KconfigExtern {
  name: string;
  type: KconfigType;
  size: number;
  align: number;
  /** Byte offset in the .kconfig map's value. */
  offset: number;
  signed: boolean;
  /** __weak: may stay unset (zero) when the kernel config lacks it. */
  weak: boolean;
}

/** The .kconfig map the loader fills from the kernel's configuration (LINUX_KERNEL_VERSION, CONFIG_*). */
export interface KconfigSpec {
  /** Name of the map in spec.maps. */
  mapName: string;
  size: number;
  externs: KconfigExtern[];
}

/** A .ksyms extern: a kernel variable or kfunc, resolved by the loader (the vm refuses them). */
export interface KsymExtern {
  name: string;
  kind: "var" | "func";
  /** Local BTF type id (through modifiers and typedefs) of a typed variable or the kfunc's FUNC; 0 for typeless. */
  btfTypeId: number;
  weak: boolean;
}
