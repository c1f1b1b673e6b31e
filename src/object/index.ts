/** ELF + BTF -> ObjectSpec: programs, maps, global data, externs, symbolic relocations, CO-RE. */
export { ObjectSpec } from "./spec.js";
export type { ObjectSpecOptions } from "./spec.js";
export type * from "./types.js";
export * from "./uapi.js";
export {
  SECTION_DEFS, SEC_ATTACHABLE, SEC_ATTACHABLE_OPT, SEC_ATTACH_BTF, SEC_EXP_ATTACH_OPT, SEC_SLEEPABLE, SEC_USDT,
  SEC_XDP_FRAGS, findSectionDef, programKindForSection, sectionDefMatches,
} from "./sections.js";
export type { ProgramKind, SectionDef } from "./sections.js";
export { internalMapName, kernelMapName, objectNameFromPath } from "./maps.js";
export { BPF_CORE_POISON_HELPER, applyCoreRelocations, relocateCore, resolveCoreRelocations } from "./core.js";
export type { CorePatch, CoreResolution } from "./core.js";
export { TRI_MODULE, TRI_NO, TRI_YES, kconfigData } from "./kconfig.js";
export type { KconfigValues } from "./kconfig.js";
export { parseBtfMapDef } from "./maps.js";
export type { BtfMapDef } from "./maps.js";
