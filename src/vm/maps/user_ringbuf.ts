/**
 * BPF_MAP_TYPE_USER_RINGBUF (kernel/bpf/ringbuf.c, bpf_user_ringbuf_drain;
 * libbpf's user_ring_buffer__reserve/submit): the ring runs the other way. User
 * space reserves and submits records (same 8-byte headers as the kernel ring);
 * a program drains them with bpf_user_ringbuf_drain(map, callback, ctx, flags),
 * which calls the callback once per committed sample, skips discarded ones,
 * stops at a busy one, and advances consumer_pos past each.
 */
import { ERRNO } from "../../errors.js";
import { RingBufBase, ringRecordSize } from "./ringbuf.js";
import {
  BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ,
} from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/ringbuf.c, BPF_MAX_USER_RINGBUF_SAMPLES: samples one drain call handles at most. */
export const BPF_MAX_USER_RINGBUF_SAMPLES = 128 * 1024;

/** A sample's address and length in the space; return nonzero to stop draining. */
export type DrainCallback = (sampleAddr: number, size: number) => number;

export class UserRingBufMap extends RingBufBase {
  private busy = false;

  // ---- user space: the producer ----

  /**
   * user_ring_buffer__reserve(): the sample's address in the space, or -E2BIG (can
   * never fit) / -ENOSPC (no room now).
   */
  reserve(size: number): number {
    const total = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    if (total > this.size) return -E.E2BIG;
    const avail = this.size - (this.prod - this.cons);
    if (avail < total) return -E.ENOSPC;
    const off = this.prod & this.mask;
    const hdr = this.dataAddr + off;
    const u32 = this.space.u32;
    u32[hdr >>> 2] = (size | BPF_RINGBUF_BUSY_BIT) >>> 0;
    u32[(hdr >>> 2) + 1] = 0;
    this.setProducer(this.prod + total);
    return hdr + BPF_RINGBUF_HDR_SZ;
  }

  /** A view of a reserved sample's bytes (take a fresh one after the space may have grown). */
  sampleBytes(sample: number, size: number): Uint8Array {
    return this.space.u8.subarray(sample, sample + size);
  }

  /** user_ring_buffer__submit() / __discard(). */
  submit(sample: number, discard = false): void {
    const hdr = sample - BPF_RINGBUF_HDR_SZ;
    const u32 = this.space.u32;
    let len = (u32[hdr >>> 2] & ~BPF_RINGBUF_BUSY_BIT) >>> 0;
    if (discard) len = (len | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    else this.mirror(hdr - this.dataAddr, ringRecordSize(len));
    u32[hdr >>> 2] = len;
  }

  /** Reserves, copies and submits `bytes`; 0 or -errno. */
  write(bytes: Uint8Array): number {
    const s = this.reserve(bytes.length);
    if (s < 0) return s;
    this.space.u8.set(bytes, s);
    this.submit(s);
    return 0;
  }

  // ---- the program side: bpf_user_ringbuf_drain ----

  /** __bpf_user_ringbuf_peek(): 0 with the sample, or -ENODATA / -EAGAIN (discarded) / -EBUSY / -E2BIG / -EINVAL. */
  private peek(out: { sample: number; size: number }): number {
    const cons = this.cons;
    const prod = this.prod;
    if (cons % 8 || prod % 8) return -E.EINVAL;
    if (cons >= prod) return -E.ENODATA;
    const hdr = this.dataAddr + (cons & this.mask);
    const hdrLen = this.space.u32[hdr >>> 2];
    const sampleLen = (hdrLen & ~BPF_RINGBUF_DISCARD_BIT) >>> 0;
    const total = ((sampleLen & ~BPF_RINGBUF_BUSY_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    if (total > this.size) return -E.E2BIG;
    if (cons + total > prod) return -E.EINVAL;
    if (hdrLen & BPF_RINGBUF_BUSY_BIT) return -E.EBUSY;
    if (hdrLen & BPF_RINGBUF_DISCARD_BIT) {
      this.release(sampleLen);
      return -E.EAGAIN;
    }
    out.sample = hdr + BPF_RINGBUF_HDR_SZ;
    out.size = sampleLen;
    return 0;
  }

  private release(size: number): void {
    this.consumerPos = this.cons + ((size + BPF_RINGBUF_HDR_SZ + 7) & ~7);
  }

  /**
   * bpf_user_ringbuf_drain(): calls `cb` per sample until it returns nonzero or the
   * ring is empty; returns the samples handled or -errno (EINVAL for unknown
   * flags, EBUSY when another drain runs, or a peek error).
   */
  drain(flags: number, cb: DrainCallback): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -E.EINVAL;
    if (this.busy) return -E.EBUSY;
    this.busy = true;
    let samples = 0;
    let ret = 0;
    const s = { sample: 0, size: 0 };
    try {
      while (samples < BPF_MAX_USER_RINGBUF_SAMPLES && ret === 0) {
        const err = this.peek(s);
        if (err === -E.ENODATA) break;
        if (err === -E.EAGAIN) continue;
        if (err) return err;
        ret = cb(s.sample, s.size);
        this.release(s.size);
        samples++;
      }
      return samples;
    } finally {
      this.busy = false;
      if (flags & BPF_RB_FORCE_WAKEUP) this.wakeup();
      else if (!(flags & BPF_RB_NO_WAKEUP) && samples > 0) this.wakeup();
    }
  }
}
