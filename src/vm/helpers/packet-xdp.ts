/**
 * XDP packet helpers, as net/core/filter.c implements them: bpf_xdp_adjust_head,
 * bpf_xdp_adjust_tail (linear and multi-buffer), bpf_xdp_adjust_meta,
 * bpf_xdp_get_buff_len, bpf_xdp_load_bytes / bpf_xdp_store_bytes (across
 * fragments). After a change the xdp_md pointers are rewritten (XdpBuff.sync).
 */
import type { VmServices } from "../runtime/services.js";
import { ETH_HLEN } from "../progtypes/runtime/common.js";
import { XDP_FRAME_SIZE, type XdpBuff, xdpMetalenInvalid } from "../progtypes/runtime/xdp.js";
import type { HelperCall, HelperDef } from "./abi.js";
import { EACCES, EFAULT, EINVAL, ENOTSUPP, EOPNOTSUPP, def, xdpOf } from "./packet-common.js";

export const BPF_FUNC_xdp_adjust_head = 44;
export const BPF_FUNC_xdp_adjust_meta = 54;
export const BPF_FUNC_xdp_adjust_tail = 65;
export const BPF_FUNC_xdp_get_buff_len = 188;
export const BPF_FUNC_xdp_load_bytes = 189;
export const BPF_FUNC_xdp_store_bytes = 190;

/** xdp_get_metalen(). */
function metalen(x: XdpBuff): number {
  return x.metaUnsupported ? 0 : x.data - x.dataMeta;
}

function adjustHead(x: XdpBuff, offset: number): number {
  const frameEnd = x.hardStart + XDP_FRAME_SIZE;
  const meta = metalen(x);
  const data = x.data + offset;
  if (data < frameEnd + meta || data > x.dataEnd - ETH_HLEN) return -EINVAL;
  if (meta) x.space.u8.copyWithin(x.dataMeta + offset, x.dataMeta, x.dataMeta + meta);
  x.dataMeta += offset;
  x.data = data;
  x.sync();
  return 0;
}

/** bpf_xdp_frags_increase_tail(): only the last fragment grows, within its page. */
function fragsIncreaseTail(x: XdpBuff, offset: number): number {
  const frag = x.frags[x.frags.length - 1];
  if (!x.fragSize || x.fragSize > x.frameSz) return -EOPNOTSUPP;
  const tailroom = x.fragSize - frag.size;
  if (offset > tailroom) return -EINVAL;
  x.space.u8.fill(0, frag.addr + frag.size, frag.addr + frag.size + offset);
  frag.size += offset;
  x.fragsSize += offset;
  return 0;
}

/** bpf_xdp_frags_shrink_tail(): fragments shrink from the last; emptied ones are freed. */
function fragsShrinkTail(x: XdpBuff, offset: number): number {
  if (offset > x.buffLen - ETH_HLEN) return -EINVAL;
  for (let i = x.frags.length - 1; i >= 0 && offset > 0; i--) {
    const frag = x.frags[i];
    const shrink = Math.min(offset, frag.size);
    offset -= shrink;
    if (shrink === frag.size) {
      x.releaseFrag(i);
    } else {
      frag.size -= shrink;
      x.fragsSize -= shrink;
      break;
    }
  }
  // With every fragment gone, the rest comes off the linear part.
  if (x.frags.length === 0) x.dataEnd -= offset;
  x.sync();
  return 0;
}

function adjustTail(x: XdpBuff, offset: number): number {
  if (x.frags.length) return offset < 0 ? fragsShrinkTail(x, -offset) : fragsIncreaseTail(x, offset);
  const dataEnd = x.dataEnd + offset;
  // xdp_data_hard_end() keeps the skb_shared_info tailroom free.
  if (dataEnd > x.hardEnd) return -EINVAL;
  if (dataEnd < x.data + ETH_HLEN) return -EINVAL;
  // Grown bytes are cleared: they may hold stale data.
  if (offset > 0) x.space.u8.fill(0, x.dataEnd, dataEnd);
  x.dataEnd = dataEnd;
  x.sync();
  return 0;
}

function adjustMeta(x: XdpBuff, offset: number): number {
  const frameEnd = x.hardStart + XDP_FRAME_SIZE;
  const meta = x.dataMeta + offset;
  if (x.metaUnsupported) return -ENOTSUPP;
  if (meta < frameEnd || meta > x.data) return -EINVAL;
  if (xdpMetalenInvalid(x.data - meta)) return -EACCES;
  x.dataMeta = meta;
  x.sync();
  return 0;
}

/**
 * bpf_xdp_pointer() + bpf_xdp_copy_buf(): copies `len` bytes at packet offset
 * `offset` (from data, across fragments) to or from `buf`. Returns 0 or -errno;
 * on error nothing is copied (the kernel does not clear `buf` here).
 */
function xdpCopy(x: XdpBuff, offset: number, buf: number, len: number, toPacket: boolean): number {
  if (offset > 0xffff || len > 0xffff) return -EFAULT;
  if (offset + len > x.buffLen) return -EINVAL;
  const u8 = x.space.u8;
  const segs: { addr: number; size: number }[] = [{ addr: x.data, size: x.dataEnd - x.data }, ...x.frags];
  let segOff = 0;
  let done = 0;
  for (const s of segs) {
    if (done === len) break;
    const at = offset + done;
    if (at < segOff + s.size) {
      const from = at - segOff;
      const n = Math.min(len - done, s.size - from);
      if (toPacket) u8.copyWithin(s.addr + from, buf + done, buf + done + n);
      else u8.copyWithin(buf + done, s.addr + from, s.addr + from + n);
      done += n;
    }
    segOff += s.size;
  }
  return 0;
}

export function xdpHelpers(services: VmServices): HelperDef[] {
  const buffer = (call: HelperCall, write: boolean): { buf: number; len: number } => {
    const buf = call.addr(3);
    const len = call.u32(4);
    services.checkMem(buf, len, write, call.pc);
    return { buf, len };
  };
  return [
    def(BPF_FUNC_xdp_adjust_head, (call) => call.ret(adjustHead(xdpOf(services, call, "xdp_adjust_head"), call.i32(2)))),
    def(BPF_FUNC_xdp_adjust_tail, (call) => call.ret(adjustTail(xdpOf(services, call, "xdp_adjust_tail"), call.i32(2)))),
    def(BPF_FUNC_xdp_adjust_meta, (call) => call.ret(adjustMeta(xdpOf(services, call, "xdp_adjust_meta"), call.i32(2)))),
    def(BPF_FUNC_xdp_get_buff_len, (call) => call.ret(xdpOf(services, call, "xdp_get_buff_len").buffLen)),
    def(BPF_FUNC_xdp_load_bytes, (call) => {
      const x = xdpOf(services, call, "xdp_load_bytes");
      const { buf, len } = buffer(call, true);
      call.ret(xdpCopy(x, call.u32(2), buf, len, false));
    }),
    def(BPF_FUNC_xdp_store_bytes, (call) => {
      const x = xdpOf(services, call, "xdp_store_bytes");
      const { buf, len } = buffer(call, false);
      call.ret(xdpCopy(x, call.u32(2), buf, len, true));
    }),
  ];
}
