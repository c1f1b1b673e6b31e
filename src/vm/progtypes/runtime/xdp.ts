/**
 * BPF_PROG_TYPE_XDP at run time: the xdp_buff (a 4 KiB frame: 256 bytes of
 * headroom, the linear data, 320 bytes of skb_shared_info at the end, plus
 * page-sized fragments for multi-buffer packets), the struct xdp_md context
 * holding 32-bit vm addresses, and PROG_TEST_RUN as bpf_prog_test_run_xdp()
 * in net/bpf/test_run.c (Linux 6.18 with its stable fixes: the linear size may
 * be given by ctx_in->data_end, the metadata must leave room for struct
 * xdp_frame).
 */
import type { RunOptions, RunResult } from "../../../api/types.js";
import type { AddressSpace } from "../../memory.js";
import type { ProgTypeRunState } from "../../runtime/services.js";
import { BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, BPF_XDP_DEVMAP } from "../constants.js";
import { xdpMd } from "../ctx/xdp_md.js";
import {
  BPF_F_TEST_XDP_LIVE_FRAMES, ETH_HLEN, MAX_SKB_FRAGS, type MappedRegion, PAGE_SIZE, RunMemory, SKB_SHINFO_SIZE,
  type TestRunAttr, ctxInit, fail, repeatRun, repeatRunOn, testFinish, testRunAttr,
} from "./common.js";
import { type NetDevice, netDevices } from "./netdev.js";
import type { ProgTypeRuntime, RedirectTarget, TestRunTarget } from "./types.js";

/** include/uapi/linux/bpf.h, enum xdp_action. */
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

/** include/uapi/linux/bpf.h, XDP_PACKET_HEADROOM. */
export const XDP_PACKET_HEADROOM = 256;
/** sizeof(struct xdp_frame) on x86-64 (include/net/xdp.h): it sits at the start of the headroom. */
export const XDP_FRAME_SIZE = 40;
/** sizeof(struct xdp_page_head) on x86-64 (net/bpf/test_run.c: two struct xdp_buff of 56 bytes). */
export const XDP_PAGE_HEAD_SIZE = 112;
/** net/bpf/test_run.c, TEST_XDP_MAX_BATCH. */
export const TEST_XDP_MAX_BATCH = 256;
/** include/linux/netdevice.h, NAPI_POLL_WEIGHT: the live-frames batch by default. */
export const NAPI_POLL_WEIGHT = 64;
/** Largest metadata: type_max(skb_shared_info.meta_len), a u8. include/net/xdp.h, xdp_metalen_invalid(). */
export const XDP_META_MAX = 255;

/** xdp_metalen_invalid(): metadata is a multiple of 4 bytes, at most 255. */
export function xdpMetalenInvalid(metalen: number): boolean {
  return metalen % 4 !== 0 || metalen > XDP_META_MAX;
}

const OFF_DATA = 0;
const OFF_DATA_END = 4;
const OFF_DATA_META = 8;
const OFF_INGRESS_IFINDEX = 12;
const OFF_RX_QUEUE_INDEX = 16;
const OFF_EGRESS_IFINDEX = 20;

/** One page fragment of a multi-buffer packet (skb_frag_t: page, offset 0, size). */
export interface XdpFrag {
  readonly addr: number;
  size: number;
}

/**
 * struct xdp_buff in the vm. Addresses are vm addresses; the xdp_md context at
 * `ctx` mirrors data / data_end / data_meta after every change (sync()).
 */
export class XdpBuff implements ProgTypeRunState {
  readonly kind = "xdp";
  data: number;
  dataEnd: number;
  dataMeta: number;
  /** Fragments after the linear part (skb_shared_info.frags), and their total size. */
  readonly frags: XdpFrag[] = [];
  fragsSize = 0;
  /** Set by bpf_redirect / bpf_redirect_map (bpf_redirect_info). */
  redirect: RedirectTarget | undefined;

  private readonly packet: MappedRegion;

  constructor(
    readonly memory: RunMemory,
    /** xdp->data_hard_start. */
    readonly hardStart: number,
    /** xdp->frame_sz. */
    readonly frameSz: number,
    readonly ctx: number,
    /** xdp->rxq->dev and the queue. */
    readonly dev: NetDevice,
    readonly rxQueueIndex: number,
    /** rxq->frag_size: how far the last fragment may grow. */
    readonly fragSize: number,
    headroom: number,
    linearSize: number,
  ) {
    this.data = hardStart + headroom;
    this.dataMeta = this.data;
    this.dataEnd = this.data + linearSize;
    this.packet = memory.region("packet", true, "xdp packet");
    const u32 = memory.space.u32;
    u32[(ctx + OFF_INGRESS_IFINDEX) >> 2] = dev.ifindex;
    u32[(ctx + OFF_RX_QUEUE_INDEX) >> 2] = rxQueueIndex;
    u32[(ctx + OFF_EGRESS_IFINDEX) >> 2] = 0;
    this.sync();
  }

  get space(): AddressSpace {
    return this.memory.space;
  }

  /** xdp_data_hard_end(): the frame end less the skb_shared_info tailroom. */
  get hardEnd(): number {
    return this.hardStart + this.frameSz - SKB_SHINFO_SIZE;
  }

  /** xdp_data_meta_unsupported(). Test runs and hooks always support metadata. */
  get metaUnsupported(): boolean {
    return this.dataMeta > this.data;
  }

  /** xdp_get_buff_len(): linear plus fragments. */
  get buffLen(): number {
    return this.dataEnd - this.data + this.fragsSize;
  }

  /** Writes the pointers into xdp_md and re-maps the packet for checked programs. */
  sync(): void {
    const u32 = this.space.u32;
    u32[(this.ctx + OFF_DATA) >> 2] = this.data;
    u32[(this.ctx + OFF_DATA_END) >> 2] = this.dataEnd;
    u32[(this.ctx + OFF_DATA_META) >> 2] = this.dataMeta;
    this.packet.set(Math.min(this.dataMeta, this.data), this.dataEnd);
  }

  /** Appends a page fragment holding `bytes` (up to PAGE_SIZE). */
  addFrag(bytes: Uint8Array): void {
    const addr = this.memory.alloc(PAGE_SIZE);
    this.space.u8.set(bytes, addr);
    this.frags.push({ addr, size: bytes.length });
    this.fragsSize += bytes.length;
  }

  /** Releases fragment i (bpf_xdp_shrink_data on a fully consumed fragment). */
  releaseFrag(i: number): void {
    const [f] = this.frags.splice(i, 1);
    this.fragsSize -= f.size;
    this.memory.release(f.addr);
  }

  /** The packet as the kernel copies it out: [data_meta, data_end), then each fragment. */
  chunks(): Uint8Array[] {
    const u8 = this.space.u8;
    return [u8.slice(this.dataMeta, this.dataEnd), ...this.frags.map((f) => u8.slice(f.addr, f.addr + f.size))];
  }

  /** The whole packet from data (no metadata), linear part then fragments. */
  packetBytes(): Uint8Array {
    const out = new Uint8Array(this.buffLen);
    const u8 = this.space.u8;
    out.set(u8.subarray(this.data, this.dataEnd), 0);
    let off = this.dataEnd - this.data;
    for (const f of this.frags) {
      out.set(u8.subarray(f.addr, f.addr + f.size), off);
      off += f.size;
    }
    return out;
  }
}

export interface XdpBuffInit {
  /** Bytes from the start of the frame to data_meta. Default XDP_PACKET_HEADROOM. */
  readonly headroom?: number;
  /** Bytes of `packet` in the linear area (the rest goes to fragments). Default: as many as fit. */
  readonly linearSize?: number;
  /** The first `metaSize` bytes of `packet` are metadata (data = data_meta + metaSize). */
  readonly metaSize?: number;
  readonly dev?: NetDevice;
  readonly rxQueueIndex?: number;
}

/**
 * Builds an xdp_buff and its xdp_md in `memory`, the way test_run.c and a
 * driver's RX path do: one page frame (headroom, linear data, shared-info
 * tailroom), fragments of a page each for what does not fit. Throws
 * RangeError with "ENOMEM" when more than MAX_SKB_FRAGS fragments are needed.
 */
export function createXdpBuff(memory: RunMemory, packet: Uint8Array, init: XdpBuffInit = {}): XdpBuff {
  const headroom = init.headroom ?? XDP_PACKET_HEADROOM;
  const maxLinear = PAGE_SIZE - headroom - SKB_SHINFO_SIZE;
  const linear = Math.min(init.linearSize ?? packet.length, maxLinear, packet.length);
  const frame = memory.alloc(PAGE_SIZE);
  memory.space.u8.set(packet.subarray(0, linear), frame + headroom);
  const ctx = memory.alloc(xdpMd.size);
  memory.region("ctx", false, "xdp_md", ctx, ctx + xdpMd.size);
  const dev = init.dev ?? netDevices(memory.space).loopback;
  // rxq->frag_size = PAGE_SIZE in test_run.c; frame_sz is the same page.
  const buff = new XdpBuff(memory, frame, PAGE_SIZE, ctx, dev, init.rxQueueIndex ?? 0, PAGE_SIZE, headroom, linear);
  buff.data = buff.dataMeta + (init.metaSize ?? 0);
  let size = linear;
  while (size < packet.length) {
    if (buff.frags.length === MAX_SKB_FRAGS) throw new RangeError("ENOMEM: more than MAX_SKB_FRAGS fragments");
    const n = Math.min(packet.length - size, PAGE_SIZE);
    buff.addFrag(packet.subarray(size, size + n));
    size += n;
  }
  buff.sync();
  return buff;
}

/** xdp_md as the user passed it (ctx_in). */
interface XdpMdIn {
  readonly data: number;
  readonly dataEnd: number;
  readonly dataMeta: number;
  readonly ingressIfindex: number;
  readonly rxQueueIndex: number;
  readonly egressIfindex: number;
}

function readMd(b: Uint8Array): XdpMdIn {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    data: dv.getUint32(OFF_DATA, true),
    dataEnd: dv.getUint32(OFF_DATA_END, true),
    dataMeta: dv.getUint32(OFF_DATA_META, true),
    ingressIfindex: dv.getUint32(OFF_INGRESS_IFINDEX, true),
    rxQueueIndex: dv.getUint32(OFF_RX_QUEUE_INDEX, true),
    egressIfindex: dv.getUint32(OFF_EGRESS_IFINDEX, true),
  };
}

/** bpf_prog_test_run_xdp(), check for check in the kernel's order. */
function testRunXdp(target: TestRunTarget, options: RunOptions): RunResult {
  const attr = testRunAttr(options, xdpMd.size);
  const what = `xdp program ${target.program.name}`;
  const live = (attr.flags & BPF_F_TEST_XDP_LIVE_FRAMES) !== 0;
  const at = target.program.attachType;
  if (at === BPF_XDP_DEVMAP || at === BPF_XDP_CPUMAP) fail("EINVAL", `${what}: devmap and cpumap programs cannot be test-run`);
  if (attr.flags & ~BPF_F_TEST_XDP_LIVE_FRAMES) fail("EINVAL", `${what}: flags 0x${attr.flags.toString(16)}`);
  if (live) {
    if (attr.batchSize > TEST_XDP_MAX_BATCH) fail("E2BIG", `${what}: batch_size ${attr.batchSize} > ${TEST_XDP_MAX_BATCH}`);
  } else if (attr.batchSize) {
    fail("EINVAL", `${what}: batch_size without BPF_F_TEST_XDP_LIVE_FRAMES`);
  }
  const ctx = ctxInit(attr, xdpMd.size);
  let headroom = XDP_PACKET_HEADROOM;
  let linearSz = attr.dataSizeIn;
  let metaSz = 0;
  const md = ctx ? readMd(ctx) : undefined;
  if (md) {
    // There can be no user data before the metadata; data_end may name a
    // linear part shorter than the packet (the rest becomes fragments).
    if (md.dataMeta || md.dataEnd > attr.dataSizeIn || md.data > md.dataEnd || (live && (attr.dataOut || attr.ctxOut))) {
      fail("EINVAL", `${what}: xdp_md in ctx_in is inconsistent with the packet`);
    }
    metaSz = md.data;
    if (xdpMetalenInvalid(metaSz) || metaSz > headroom - XDP_FRAME_SIZE) fail("EINVAL", `${what}: metadata size ${metaSz}`);
    headroom -= metaSz;
    linearSz = md.dataEnd;
  }
  // Live frames keep a struct xdp_page_head at the start of each page.
  if (live) headroom += XDP_PAGE_HEAD_SIZE;
  const maxLinear = PAGE_SIZE - headroom - SKB_SHINFO_SIZE;
  linearSz = Math.min(linearSz, maxLinear);
  if (live && attr.dataSizeIn > linearSz) fail("EINVAL", `${what}: live frames cannot be multi-buffer`);
  if (attr.dataSizeIn - metaSz < ETH_HLEN) fail("EINVAL", `${what}: packet shorter than an Ethernet header`);

  const memory = new RunMemory(target.services.space);
  try {
    const devs = netDevices(memory.space);
    let dev = devs.loopback;
    let rxQueueIndex = 0;
    // xdp_convert_md_to_buff()
    if (md) {
      if (md.egressIfindex !== 0) fail("EINVAL", `${what}: egress_ifindex must be 0`);
      if (!md.ingressIfindex && md.rxQueueIndex) fail("EINVAL", `${what}: rx_queue_index without ingress_ifindex`);
      if (md.ingressIfindex) {
        const d = devs.get(md.ingressIfindex);
        if (!d) fail("ENODEV", `${what}: no device with ifindex ${md.ingressIfindex}`);
        if (md.rxQueueIndex >= d.rxQueues) fail("EINVAL", `${what}: rx_queue_index ${md.rxQueueIndex} >= ${d.rxQueues} queues`);
        dev = d;
        rxQueueIndex = md.rxQueueIndex;
      }
    }
    const data = attr.dataIn ?? new Uint8Array(0);
    let buff: XdpBuff;
    try {
      buff = createXdpBuff(memory, data, { headroom, linearSize: linearSz, metaSize: metaSz, dev, rxQueueIndex });
    } catch (e) {
      if (e instanceof RangeError && e.message.startsWith("ENOMEM")) fail("ENOMEM", `${what}: packet needs more than ${MAX_SKB_FRAGS} fragments`);
      throw e;
    }
    let result: { retval: number; durationNs: number };
    if (live) result = runLive(target, buff, attr);
    else result = repeatRunOn(target, attr.repeat, buff.ctx, buff);
    // xdp_convert_buff_to_md()
    if (ctx) {
      const dv = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
      dv.setUint32(OFF_DATA, buff.data - buff.dataMeta, true);
      dv.setUint32(OFF_DATA_END, buff.dataEnd - buff.dataMeta, true);
    }
    return testFinish(attr, { ...result, data: buff.chunks(), ctx }, what, buff.fragsSize);
  } finally {
    memory.dispose();
  }
}

/**
 * BPF_F_TEST_XDP_LIVE_FRAMES: each of `repeat` runs sees a fresh copy of the
 * original frame (page-pool pages reset to it). The kernel then injects
 * XDP_PASS frames into the stack and transmits XDP_TX / XDP_REDIRECT ones;
 * the vm has no stack, so the frames go nowhere. retval stays 0 and data_out
 * is the untouched input, as in the kernel.
 */
function runLive(target: TestRunTarget, orig: XdpBuff, attr: TestRunAttr): { retval: number; durationNs: number } {
  const space = orig.space;
  const snapshot = space.u8.slice(orig.hardStart, orig.hardStart + orig.frameSz);
  const memory = new RunMemory(space);
  try {
    const headroom = orig.dataMeta - orig.hardStart;
    const frame = createXdpBuff(memory, snapshot.subarray(headroom, headroom + (orig.dataEnd - orig.dataMeta)), {
      headroom, metaSize: orig.data - orig.dataMeta, dev: orig.dev, rxQueueIndex: orig.rxQueueIndex,
    });
    const start = { data: frame.data, dataEnd: frame.dataEnd, dataMeta: frame.dataMeta };
    const { durationNs } = repeatRun(target, attr.repeat, () => {
      space.u8.set(snapshot, frame.hardStart);
      frame.data = start.data;
      frame.dataEnd = start.dataEnd;
      frame.dataMeta = start.dataMeta;
      frame.redirect = undefined;
      frame.sync();
      return target.run(frame.ctx, frame);
    });
    return { retval: 0, durationNs };
  } finally {
    memory.dispose();
  }
}

export const xdpRuntime: ProgTypeRuntime = {
  progType: BPF_PROG_TYPE_XDP,
  ctxOutDefault: xdpMd.size,
  testRun: testRunXdp,
};
