/**
 * perf_event_open(2) for the events programs attach to (tracepoints, kprobes,
 * uprobes) and that perf buffers read from (PERF_COUNT_SW_BPF_OUTPUT).
 * Dynamic PMUs (kprobe, uprobe) publish their type and config bits in sysfs:
 * /sys/bus/event_source/devices/PMU/type and .../format/FIELD ("config:0").
 */
import { readFileSync } from "node:fs";
import { BpfCommandError, NotSupportedError, errnoName } from "../errors.js";
import { type Value } from "./attr/layout.js";
import { PERF_FLAG_FD_CLOEXEC, PerfEventAttr } from "./attr/perf-event.js";
import { holding } from "./bpf.js";
import { Fd } from "./fd.js";
import { sys } from "./sys.js";

const PMU_DIR = "/sys/bus/event_source/devices";

export type PerfAttrValues = Partial<Record<keyof typeof PerfEventAttr.fields & string, Value>>;

/**
 * perf_event_open with the given attr fields (size is filled in). `flagBits` is the
 * bitfield word (see PerfEventAttr.bits / perfFlag).
 */
export function perfEventOpen(values: PerfAttrValues, opts: { pid?: number; cpu?: number; groupFd?: number; flagBits?: bigint; what: string; keep?: readonly unknown[] }): Fd {
  const attr = PerfEventAttr.encode({ ...values, size: PerfEventAttr.size });
  if (opts.flagBits) attr.writeBigUInt64LE(opts.flagBits, PerfEventAttr.fields.flags.offset);
  const fd = holding(opts.keep ?? [], () =>
    sys().perfEventOpen(attr, opts.pid ?? -1, opts.cpu ?? -1, opts.groupFd ?? -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) throw new BpfCommandError(errnoName(-fd), `perf_event_open (${opts.what})`);
  return new Fd(fd, `perf event ${opts.what}`);
}

/** A dynamic PMU's type id (kprobe, uprobe), or NotSupportedError. */
export function pmuType(pmu: "kprobe" | "uprobe"): number {
  try {
    return Number(readFileSync(`${PMU_DIR}/${pmu}/type`, "utf8").trim());
  } catch {
    const why = pmu === "kprobe"
      ? "no kprobe PMU in /sys/bus/event_source/devices: kernel built without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS (PMU since 4.17)"
      : "no uprobe PMU in /sys/bus/event_source/devices: kernel built without CONFIG_UPROBE_EVENTS (PMU since 4.17)";
    throw new NotSupportedError(pmu, why);
  }
}

/** The config bit of a PMU format field such as "retprobe" ("config:0" -> 0). */
export function pmuConfigBit(pmu: "kprobe" | "uprobe", field: string): number {
  const text = readFileSync(`${PMU_DIR}/${pmu}/format/${field}`, "utf8").trim();
  const m = /^config:(\d+)/.exec(text);
  if (!m) throw new NotSupportedError(`${pmu} ${field}`, `unexpected format '${text}'`);
  return Number(m[1]);
}
