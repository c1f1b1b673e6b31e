/**
 * A kernel program behind an fd: BPF_PROG_LOAD from raw instructions (with BTF
 * func/line info, attach targets, fd_array when the loader supplies them), the
 * verifier log, BPF_PROG_TEST_RUN, info (xlated and JITed images, map ids), pins.
 *
 * The log: a first attempt loads without one (the kernel verifies faster without
 * formatting text). On failure the load is repeated with log_level 1; when the
 * kernel says ENOSPC (log truncated) the buffer grows — to log_true_size where the
 * kernel reports it (6.4+), else fourfold — up to the kernel's limit. The error is
 * a VerifierError whose message is the log's last meaningful line and whose `log`
 * is the whole text.
 */
import { BpfCommandError, VerifierError, errnoName } from "../errors.js";
import { Bytecode } from "../isa/bytecode.js";
import type { Instruction } from "../isa/instruction.js";
import { ProgLoadAttr, TestRunAttr } from "./attr/bpf-attr.js";
import { ProgInfo } from "./attr/info.js";
import {
  addr, allIds, asBuffer, bpfRaw, cStringAt, enableStats, fdById, lastLogLine, objGet, objInfo, objInfoSimple,
} from "./bpf.js";
import {
  BPF_LOG_LEVEL1, BPF_LOG_MAX_SIZE, BPF_STATS_RUN_TIME, BpfCmd, PROG_TYPE_SINCE, progTypeName,
} from "./constants.js";
import { Fd } from "./fd.js";
import { pinFd } from "./map.js";

/** BTF that describes the program (func_info / line_info records, .BTF.ext layout). */
export interface ProgramBtf {
  /** fd of the object's BTF loaded with BPF_BTF_LOAD. */
  readonly fd: number;
  readonly funcInfo?: Uint8Array;
  /** Bytes per func_info record (struct bpf_func_info: 8). */
  readonly funcInfoRecSize?: number;
  readonly lineInfo?: Uint8Array;
  /** Bytes per line_info record (struct bpf_line_info: 16). */
  readonly lineInfoRecSize?: number;
}

export interface ProgramLoadOptions {
  /** BPF_PROG_TYPE_*. */
  readonly type: number;
  /** Instructions (encoded here) or their bytes, little-endian. */
  readonly insns: readonly Instruction[] | Uint8Array;
  /** Some helpers are GPL-only: "GPL" unless the object says otherwise. */
  readonly license?: string;
  readonly name?: string;
  readonly expectedAttachType?: number;
  /** BTF type id of the attach target (tp_btf, fentry/fexit, lsm, freplace). */
  readonly attachBtfId?: number;
  /** BTF object (module BTF) holding attachBtfId; 0/undefined for vmlinux. */
  readonly attachBtfObjFd?: number;
  /** freplace / fentry on a BPF program: the target program. */
  readonly attachProgFd?: number;
  readonly flags?: number;
  readonly kernVersion?: number;
  readonly ifindex?: number;
  readonly btf?: ProgramBtf;
  /** fds for BPF_PSEUDO_MAP_IDX / kfunc module BTF indices. */
  readonly fdArray?: readonly number[];
  /**
   * 0 (default): a log only on failure. 1 or 2 (| 4 for stats): always log, and
   * keep the text on `program.verifierLog`.
   */
  readonly logLevel?: number;
  /** First log buffer size in bytes (default 64 KiB; grows on ENOSPC). */
  readonly logSize?: number;
}

export interface TestRunOptions {
  /** Packet (data_in). */
  readonly data?: Uint8Array;
  /** Room for the output packet (default: input length + 256; grows once on ENOSPC). */
  readonly dataOutSize?: number;
  /** Context in (e.g. struct xdp_md, struct __sk_buff). */
  readonly ctx?: Uint8Array;
  /** Room for the output context (default: the input context's size). */
  readonly ctxOutSize?: number;
  readonly repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES. */
  readonly flags?: number;
  readonly cpu?: number;
  readonly batchSize?: number;
  /**
   * On ENOSPC (data_out too small) return what fit, with dataSizeOut the size
   * the kernel needed, instead of retrying with a buffer that large (default).
   */
  readonly truncate?: boolean;
}

export interface TestRunResult {
  /** The program's return value (test.retval, u32). */
  readonly retval: number;
  /** Average nanoseconds per run (test.duration). */
  readonly duration: number;
  readonly data?: Buffer;
  /** test.data_size_out: the output packet's size, even when data_out was too small for it. */
  readonly dataSizeOut: number;
  readonly ctx?: Buffer;
}

/** bpf_prog_info, decoded (without the arrays; see xlatedInsns / jitedInsns / mapIds). */
export interface ProgInfoData {
  readonly type: number;
  readonly id: number;
  readonly tag: string;
  readonly name: string;
  readonly jitedProgLen: number;
  readonly xlatedProgLen: number;
  readonly loadTime: bigint;
  readonly createdByUid: number;
  readonly nrMapIds: number;
  readonly gplCompatible: boolean;
  readonly ifindex: number;
  readonly btfId: number;
  readonly runTimeNs: bigint;
  readonly runCnt: bigint;
  readonly recursionMisses: bigint;
  readonly verifiedInsns: number;
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly nrJitedKsyms: number;
}

function decodeProgInfo(info: Buffer): ProgInfoData {
  return {
    type: ProgInfo.num(info, "type"),
    id: ProgInfo.num(info, "id"),
    tag: Buffer.from(ProgInfo.bytes(info, "tag")).toString("hex"),
    name: ProgInfo.str(info, "name"),
    jitedProgLen: ProgInfo.num(info, "jited_prog_len"),
    xlatedProgLen: ProgInfo.num(info, "xlated_prog_len"),
    loadTime: ProgInfo.u64(info, "load_time"),
    createdByUid: ProgInfo.num(info, "created_by_uid"),
    nrMapIds: ProgInfo.num(info, "nr_map_ids"),
    gplCompatible: ProgInfo.bit(info, "gpl_compatible") === 1,
    ifindex: ProgInfo.num(info, "ifindex"),
    btfId: ProgInfo.num(info, "btf_id"),
    runTimeNs: ProgInfo.u64(info, "run_time_ns"),
    runCnt: ProgInfo.u64(info, "run_cnt"),
    recursionMisses: ProgInfo.u64(info, "recursion_misses"),
    verifiedInsns: ProgInfo.num(info, "verified_insns"),
    attachBtfObjId: ProgInfo.num(info, "attach_btf_obj_id"),
    attachBtfId: ProgInfo.num(info, "attach_btf_id"),
    netnsDev: ProgInfo.u64(info, "netns_dev"),
    netnsIno: ProgInfo.u64(info, "netns_ino"),
    nrJitedKsyms: ProgInfo.num(info, "nr_jited_ksyms"),
  };
}

export function progInfoByFd(fd: number): ProgInfoData {
  return decodeProgInfo(objInfoSimple(fd, ProgInfo));
}

/** One of bpf_prog_info's arrays: asks for the length first, then the contents. */
function progInfoArray(
  fd: number,
  lenField: "xlated_prog_len" | "jited_prog_len" | "nr_map_ids" | "nr_jited_ksyms",
  ptrField: "xlated_prog_insns" | "jited_prog_insns" | "map_ids" | "jited_ksyms",
  elem: number,
): Buffer {
  const first = objInfoSimple(fd, ProgInfo);
  const n = ProgInfo.num(first, lenField);
  const out = Buffer.alloc(n * elem);
  if (n === 0) return out;
  const info = ProgInfo.alloc((ProgInfo.size + 7) & ~7);
  ProgInfo.set(info, lenField, n);
  ProgInfo.set(info, ptrField, addr(out));
  objInfo(fd, ProgInfo, info, [out]);
  // A program's image does not change, but map ids could (BPF_PROG_BIND_MAP) between the calls.
  return out.subarray(0, Math.min(n, ProgInfo.num(info, lenField)) * elem);
}

/** The verifier's wording for the failing instruction: "12: (85) call …" lines precede the error. */
function insnIndexOf(log: string): number | undefined {
  const lines = log.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(\d+): \([0-9a-f]{2}\)/.exec(lines[i]);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export interface LoadAttempt {
  /** The program fd, or -errno. */
  readonly ret: number;
  readonly log: string;
}

/**
 * BPF_PROG_LOAD with the log strategy described at the top. Returns the fd or
 * -errno and the log; never throws for kernel errors (LinuxProgram.load does).
 */
export function progLoadRaw(opts: ProgramLoadOptions): LoadAttempt {
  const bytes = opts.insns instanceof Uint8Array ? asBuffer(opts.insns) : Buffer.from(Bytecode.fromInstructions(opts.insns).toBytes());
  const license = Buffer.from((opts.license ?? "GPL") + "\0");
  const funcInfo = opts.btf?.funcInfo ? asBuffer(opts.btf.funcInfo) : null;
  const lineInfo = opts.btf?.lineInfo ? asBuffer(opts.btf.lineInfo) : null;
  const fdArray = opts.fdArray?.length ? Buffer.from(new Int32Array(opts.fdArray).buffer) : null;
  const funcRec = opts.btf?.funcInfoRecSize ?? 8;
  const lineRec = opts.btf?.lineInfoRecSize ?? 16;
  const base = ProgLoadAttr.encode({
    prog_type: opts.type,
    insn_cnt: bytes.length / 8,
    insns: addr(bytes),
    license: addr(license),
    kern_version: opts.kernVersion ?? 0,
    prog_flags: opts.flags ?? 0,
    prog_name: opts.name ?? "",
    prog_ifindex: opts.ifindex ?? 0,
    expected_attach_type: opts.expectedAttachType ?? 0,
    prog_btf_fd: opts.btf?.fd ?? 0,
    func_info_rec_size: funcInfo ? funcRec : 0,
    func_info: addr(funcInfo),
    func_info_cnt: funcInfo ? funcInfo.length / funcRec : 0,
    line_info_rec_size: lineInfo ? lineRec : 0,
    line_info: addr(lineInfo),
    line_info_cnt: lineInfo ? lineInfo.length / lineRec : 0,
    attach_btf_id: opts.attachBtfId ?? 0,
    attach_prog_fd: opts.attachProgFd ?? opts.attachBtfObjFd ?? 0,
    fd_array: addr(fdArray),
  });
  const keep = [bytes, license, funcInfo, lineInfo, fdArray];
  let level = opts.logLevel ?? 0;
  let log: Buffer | null = level > 0 ? Buffer.alloc(Math.max(opts.logSize ?? 64 * 1024, 128)) : null;
  for (;;) {
    const attr = Buffer.from(base);
    if (log) {
      ProgLoadAttr.set(attr, "log_level", level);
      ProgLoadAttr.set(attr, "log_size", log.length);
      ProgLoadAttr.set(attr, "log_buf", addr(log));
    }
    const r = bpfRaw(BpfCmd.BPF_PROG_LOAD, attr, ProgLoadAttr.size, [...keep, log]);
    const text = log ? cStringAt(log) : "";
    if (r >= 0) return { ret: r, log: text };
    if (!log) {
      // Failed without a log: once more with one, to say why.
      level = BPF_LOG_LEVEL1;
      log = Buffer.alloc(Math.max(opts.logSize ?? 64 * 1024, 128));
      continue;
    }
    if (r === -28 /* ENOSPC: log truncated */ && log.length < BPF_LOG_MAX_SIZE) {
      const trueSize = ProgLoadAttr.num(attr, "log_true_size");
      log = Buffer.alloc(Math.min(BPF_LOG_MAX_SIZE, trueSize > log.length ? trueSize : log.length * 4));
      continue;
    }
    return { ret: r, log: text };
  }
}

export class LinuxProgram implements Disposable {
  readonly fd: Fd;
  readonly type: number;
  readonly name: string;
  readonly id: number;
  readonly tag: string;
  /** The verifier log when loaded with logLevel > 0; "" otherwise. */
  readonly verifierLog: string;
  /** expected_attach_type as loaded (unknown, 0, for programs opened by id or pin). */
  readonly expectedAttachType: number;

  private constructor(fd: Fd, info: ProgInfoData, log: string, expectedAttachType: number) {
    this.fd = fd;
    this.type = info.type;
    this.name = info.name;
    this.id = info.id;
    this.tag = info.tag;
    this.verifierLog = log;
    this.expectedAttachType = expectedAttachType;
  }

  /**
   * BPF_PROG_LOAD. Throws VerifierError (message: the log's last meaningful line;
   * `log`: all of it) when the verifier refuses, BpfCommandError when the kernel
   * refuses before verifying (EPERM, a program type it does not know: EINVAL).
   */
  static load(opts: ProgramLoadOptions): LinuxProgram {
    const { ret, log } = progLoadRaw(opts);
    const label = opts.name ?? progTypeName(opts.type);
    if (ret < 0) {
      const code = errnoName(-ret);
      if (log.trim()) {
        throw new VerifierError(lastLogLine(log), log, insnIndexOf(log));
      }
      const since = PROG_TYPE_SINCE[opts.type];
      const hint = ret === -22 && since === undefined ? ` (program type ${opts.type} is unknown)` : "";
      throw new BpfCommandError(code, `load ${progTypeName(opts.type)} program ${label}${hint}`);
    }
    const fd = new Fd(ret, `program ${label}`);
    try {
      return new LinuxProgram(fd, progInfoByFd(ret), log, opts.expectedAttachType ?? 0);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  static fromFd(fd: Fd): LinuxProgram {
    try {
      return new LinuxProgram(fd, progInfoByFd(fd.value), "", 0);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  static fromId(id: number): LinuxProgram {
    return LinuxProgram.fromFd(new Fd(fdById("prog", id), `program id ${id}`));
  }

  static fromPin(path: string): LinuxProgram {
    return LinuxProgram.fromFd(new Fd(objGet(path), `program ${path}`));
  }

  info(): ProgInfoData {
    return progInfoByFd(this.fd.value);
  }

  /** The instructions after the kernel's rewrites (bpftool prog dump xlated). */
  xlatedInsns(): Buffer {
    return progInfoArray(this.fd.value, "xlated_prog_len", "xlated_prog_insns", 1);
  }

  /** The JITed machine code (bpftool prog dump jited). */
  jitedInsns(): Buffer {
    return progInfoArray(this.fd.value, "jited_prog_len", "jited_prog_insns", 1);
  }

  /** Ids of the maps the program uses. */
  mapIds(): number[] {
    const b = progInfoArray(this.fd.value, "nr_map_ids", "map_ids", 4);
    return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
  }

  /** Kernel addresses of the JITed image of the program and each subprogram. */
  jitedKsyms(): bigint[] {
    const b = progInfoArray(this.fd.value, "nr_jited_ksyms", "jited_ksyms", 8);
    return Array.from({ length: b.length / 8 }, (_, i) => b.readBigUInt64LE(i * 8));
  }

  /** BPF_PROG_TEST_RUN. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    return progTestRun(this.fd.value, opts, this.name || progTypeName(this.type));
  }

  pin(path: string): void {
    pinFd(this.fd.value, path);
  }

  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** BPF_PROG_TEST_RUN on a program fd. */
export function progTestRun(progFd: number, opts: TestRunOptions, label = "program"): TestRunResult {
  const dataIn = opts.data ? asBuffer(opts.data) : null;
  const ctxIn = opts.ctx ? asBuffer(opts.ctx) : null;
  let dataOut: Buffer | null = dataIn ? Buffer.alloc(opts.dataOutSize ?? dataIn.length + 256) : null;
  const ctxOut: Buffer | null = ctxIn || opts.ctxOutSize ? Buffer.alloc(opts.ctxOutSize ?? ctxIn!.length) : null;
  for (let attempt = 0; ; attempt++) {
    const attr = TestRunAttr.encode({
      prog_fd: progFd,
      data_size_in: dataIn?.length ?? 0,
      data_size_out: dataOut?.length ?? 0,
      data_in: addr(dataIn),
      data_out: addr(dataOut),
      repeat: opts.repeat ?? 0,
      ctx_size_in: ctxIn?.length ?? 0,
      ctx_size_out: ctxOut?.length ?? 0,
      ctx_in: addr(ctxIn),
      ctx_out: addr(ctxOut),
      flags: opts.flags ?? 0,
      cpu: opts.cpu ?? 0,
      batch_size: opts.batchSize ?? 0,
    });
    const r = bpfRaw(BpfCmd.BPF_PROG_TEST_RUN, attr, TestRunAttr.size, [dataIn, dataOut, ctxIn, ctxOut]);
    const outSize = TestRunAttr.num(attr, "data_size_out");
    // ENOSPC: data_out too small; the kernel still reports retval, duration and
    // the size it needed (net/bpf/test_run.c, bpf_test_finish).
    const truncated = r === -28 && dataOut !== null && outSize > dataOut.length;
    if (truncated && !opts.truncate && attempt === 0) {
      dataOut = Buffer.alloc(outSize);
      continue;
    }
    if (r < 0 && !(truncated && opts.truncate)) throw new BpfCommandError(errnoName(-r), `BPF_PROG_TEST_RUN ${label}`);
    return {
      retval: TestRunAttr.num(attr, "retval"),
      duration: TestRunAttr.num(attr, "duration"),
      dataSizeOut: outSize,
      ...(dataOut ? { data: dataOut.subarray(0, Math.min(outSize, dataOut.length)) } : {}),
      ...(ctxOut ? { ctx: ctxOut.subarray(0, TestRunAttr.num(attr, "ctx_size_out")) } : {}),
    };
  }
}

/**
 * BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel counts run_cnt/run_time_ns for
 * every program while the returned fd is open (the stats cost a little per run).
 */
export function enableRunStats(): Fd {
  return new Fd(enableStats(BPF_STATS_RUN_TIME), "BPF_ENABLE_STATS");
}

/** Ids of every program in the system. */
export function programIds(): number[] {
  return [...allIds("prog")];
}
