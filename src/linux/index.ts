/**
 * The linux backend: the real kernel through bpf(). What the ObjectSpec loader
 * (step 2) and users build on:
 *
 *   maps      LinuxMap.create / fromPin / fromId / createOrReusePinned, element ops,
 *             batches, per-CPU values, freeze, mmap (map.ts)
 *   programs  LinuxProgram.load (instructions or bytes, BTF func/line info, attach
 *             BTF ids, fd_array), verifier log, testRun, xlated/JIT images (program.ts)
 *   BTF       LinuxBtf.load / fromId (btf-object.ts); vmlinux type ids (kernel-btf.ts)
 *   links     attach* for every hook, LinuxLink (attach.ts, link.ts)
 *   events    RingBufReader, PerfBufReader, TracePipeReader
 *   features  probe* / require* (features.ts)
 *   inspect   bpftool-shaped views (inspect.ts)
 *   raw       bpf.ts (commands over fds), attr/ (struct layouts), sys.ts (system calls)
 *   backend   linuxBackend(): ObjectSpec -> Collection through the one API (backend.ts,
 *             load/ for the loader, api/ for Collection, Program, MapHandle, Link)
 */
export { Fd } from "./fd.js";
export { type Mapping, type Sys, setSys, sys } from "./sys.js";
export * from "./constants.js";
export { KernelBtfError, allIds, enableStats, fdById, nextId, objGet, objPin, progBindMap, type ObjectKind } from "./bpf.js";
export { LinuxMap, MapIncompatibleError, MapMmap, type MapInfoData, type MapOptions, mapInfoByFd, pinFd, unpin, u32, u64 } from "./map.js";
export {
  LinuxProgram, type ProgInfoData, type ProgramBtf, type ProgramLoadOptions, type TestRunOptions, type TestRunResult,
  enableRunStats, progInfoByFd, progLoadRaw, progTestRun,
} from "./program.js";
export { LinuxBtf, type BtfInfoData, btfInfoByFd } from "./btf-object.js";
export { BtfKind, BtfNameIndex, vmlinuxBtf, vmlinuxTypeId } from "./kernel-btf.js";
export { type AttachKind, LinuxLink, type LinkInfoData, linkInfoByFd } from "./link.js";
export {
  type UprobeOptions, attachCgroup, attachKprobe, attachPerfEvent, attachRawTracepoint, attachTcx, attachTracepoint,
  attachTracing, attachUprobe, attachXdp, lsmLoadOptions, tpBtfLoadOptions, tracingLoadOptions,
} from "./attach.js";
export { ElfSymbols, type ElfFuncSymbol } from "./elf-symbols.js";
export { RingBufReader, type RecordCallback } from "./ringbuf.js";
export { PerfBufReader, type PerfBufOptions, type PerfRecord, type LostCallback, type SampleCallback } from "./perfbuf.js";
export { TracePipeReader, type TraceLine, parseTraceLine } from "./trace-pipe.js";
export {
  kprobeUnavailableReason, probeHelper, probeMapType, probeProgType, requireHelper, requireMapType, requireProgType,
  tcxUnavailableReason, trampolineUnavailableReason,
} from "./features.js";
export { cgroup2Root, ensureBpffs, possibleCpus, tracefs, tracepointId } from "./fs.js";
export { ifIndex, inNetns } from "./netns.js";
export { watchFd, type Watch } from "./poller.js";
export { type LinuxBackend, linuxBackend } from "./backend.js";
export { LinuxCollection } from "./api/collection.js";
export { LinuxMapHandle } from "./api/map.js";
export { AttachError, LinuxProgramHandle } from "./api/program.js";
export { LinuxLinkHandle } from "./api/link.js";
export { defaultAttachTarget } from "./api/auto-attach.js";
export { ProgramLoadError } from "./load/programs.js";
export { loadObject, probeExpectedAttachType } from "./load/object.js";
export { kernelBtfFeatures } from "./load/btf.js";
export { ringbufSize } from "./load/maps.js";
