/**
 * tsbpf: eBPF in TypeScript. One API over two backends: the vm (the embedded
 * default: verifier, interpreter, JIT to WebAssembly) and linux (the real
 * kernel through bpf()).
 *
 *   const spec = await objectSpecFromFile("xdp_fw.bpf.o"); // pure, deterministic
 *   spec.maps.get("blocked")!.maxEntries = 4096;           // adjust before load
 *   using coll = vmBackend().load(spec);                    // side effects start here
 *   const r = coll.program("xdp_fw").run({ data: packet });
 *   const blocked = coll.map("blocked").typed(u32, u8);
 */
export type {
  AttachTarget, Backend, BatchResult, Codec, Collection, Link, LoadOptions, MapHandle, MapInfo, Program, ProgramInfo,
  RunOptions, RunResult, TypedMap,
} from "./api/types.js";
export { UpdateFlags } from "./api/types.js";
export * from "./api/codecs.js";
export { typedMap } from "./api/typed-map.js";
export * from "./errors.js";
export { ObjectSpec, type ObjectSpecOptions } from "./object/spec.js";
export { objectSpecFromFile } from "./object/node.js";
export type { MapSpec, ProgramSpec } from "./object/types.js";
export { vmBackend, type VmBackend, type VmBackendOptions, VmCollection } from "./vm/backend.js";
export { VmKernel, type VmKernelOptions } from "./vm/runtime/kernel.js";
export { type HostEnv, realHost } from "./vm/host.js";
export { linuxBackend, type LinuxBackend } from "./linux/backend.js";
export { Bytecode } from "./isa/bytecode.js";
export { assemble } from "./isa/asm.js";
export { disassemble } from "./isa/disasm.js";
export { ProgramBuilder } from "./isa/builder.js";
