/**
 * perf_event_open(2) structures and numbers: struct perf_event_attr, the mmap'ed
 * struct perf_event_mmap_page, the record header, and the ioctls the backend uses.
 * include/uapi/linux/perf_event.h.
 */
import { Struct } from "./layout.js";

/** struct perf_event_attr (PERF_ATTR_SIZE_VER8 = 136 bytes on 6.x). */
export const PerfEventAttr = new Struct("struct perf_event_attr", "perf_event_attr", {
  type: [0, "u32"],
  size: [4, "u32"],
  config: [8, "u64"],
  sample_period: [16, "u64"],
  sample_freq: [16, "u64"],
  sample_type: [24, "u64"],
  read_format: [32, "u64"],
  /** The u64 holding the bitfields disabled:1 … sigtrap:1 (see `bits`). */
  flags: [40, "u64", ""],
  wakeup_events: [48, "u32"],
  wakeup_watermark: [48, "u32"],
  bp_type: [52, "u32"],
  config1: [56, "u64"],
  kprobe_func: [56, "u64"],
  uprobe_path: [56, "u64"],
  config2: [64, "u64"],
  kprobe_addr: [64, "u64"],
  probe_offset: [64, "u64"],
  branch_sample_type: [72, "u64"],
  sample_regs_user: [80, "u64"],
  sample_stack_user: [88, "u32"],
  clockid: [92, "s32"],
  sample_regs_intr: [96, "u64"],
  aux_watermark: [104, "u32"],
  sample_max_stack: [108, "u16"],
  aux_sample_size: [112, "u32"],
  sig_data: [120, "u64"],
  config3: [128, "u64"],
}, {
  disabled: { word: "flags", bit: 0 },
  inherit: { word: "flags", bit: 1 },
  pinned: { word: "flags", bit: 2 },
  exclusive: { word: "flags", bit: 3 },
  exclude_user: { word: "flags", bit: 4 },
  exclude_kernel: { word: "flags", bit: 5 },
  exclude_hv: { word: "flags", bit: 6 },
  exclude_idle: { word: "flags", bit: 7 },
  mmap: { word: "flags", bit: 8 },
  comm: { word: "flags", bit: 9 },
  freq: { word: "flags", bit: 10 },
  inherit_stat: { word: "flags", bit: 11 },
  enable_on_exec: { word: "flags", bit: 12 },
  task: { word: "flags", bit: 13 },
  watermark: { word: "flags", bit: 14 },
  precise_ip: { word: "flags", bit: 15, width: 2 },
  mmap_data: { word: "flags", bit: 17 },
  sample_id_all: { word: "flags", bit: 18 },
});

/** The flags-word bit for a perf_event_attr bitfield, as a bigint mask. */
export function perfFlag(name: keyof typeof PerfEventAttr.bits & string): bigint {
  const b = PerfEventAttr.bits[name];
  return 1n << BigInt(b.bit);
}

/** struct perf_event_mmap_page: the fields a ring reader needs. */
export const PerfEventMmapPage = new Struct("struct perf_event_mmap_page", "perf_event_mmap_page", {
  version: [0, "u32"],
  compat_version: [4, "u32"],
  data_head: [1024, "u64"],
  data_tail: [1032, "u64"],
  data_offset: [1040, "u64"],
  data_size: [1048, "u64"],
});

/** struct perf_event_header. */
export const PerfEventHeader = new Struct("struct perf_event_header", "perf_event_header", {
  type: [0, "u32"],
  misc: [4, "u16"],
  size: [6, "u16"],
});

/** enum perf_type_id. */
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_TYPE_TRACEPOINT = 2;
/** enum perf_sw_ids. */
export const PERF_COUNT_SW_BPF_OUTPUT = 10;
/** enum perf_event_sample_format. */
export const PERF_SAMPLE_RAW = 1 << 10;
/** enum perf_event_type. */
export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
/** perf_event_open flags. */
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

/** _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32). include/uapi/linux/perf_event.h, asm-generic/ioctl.h. */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;

export const PERF_LAYOUTS = [PerfEventAttr, PerfEventMmapPage, PerfEventHeader] as const;
