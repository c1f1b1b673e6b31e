/**
 * BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c,
 * Documentation/bpf/map_bloom_filter.rst): key_size 0; push adds a value, peek
 * answers "maybe present" (0) or "certainly absent" (ENOENT). map_extra's low 4
 * bits are the number of hash functions (0 means 5). The bit array is sized and
 * hashed as the kernel does (n * k * 7 / 5 bits rounded up to a power of two;
 * jhash with seed + i), so with BPF_F_ZERO_SEED even false positives match.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { hashKey, jhashBytes } from "./jhash.js";
import { BpfMap, type MapAttrs, type MapOptions } from "./map.js";
import { flagsAccessOk } from "./array.js";
import { BPF_ANY, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED } from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/bloom_filter.c, BLOOM_CREATE_FLAG_MASK. */
export const BLOOM_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;

/** bloom_map_alloc()'s checks: 0 or -errno. */
export function bloomAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  const extra = BigInt(attrs.mapExtra ?? 0);
  if (attrs.keySize !== 0 || attrs.valueSize === 0 || attrs.maxEntries === 0 ||
      (flags & ~BLOOM_CREATE_FLAG_MASK) || !flagsAccessOk(flags) || (extra & ~0xfn) !== 0n) return -E.EINVAL;
  return 0;
}

export class BloomFilterMap extends BpfMap {
  readonly nrHashFuncs: number;
  readonly bitsetMask: number;
  readonly seed: number;
  private readonly bits: Uint32Array;
  private readonly scratch: Uint8Array;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.nrHashFuncs = Number(this.mapExtra & 0xfn) || 5;
    // n * k / ln(2) bits, with 7/5 for 1/ln(2), rounded up to a power of two (at least 64).
    let nrBits = this.maxEntries * this.nrHashFuncs;
    let mask: number;
    if (nrBits > 0xffffffff || Math.floor(nrBits / 5) * 7 > 0xffffffff || Math.floor(nrBits / 5) * 7 > 2 ** 31) {
      mask = 0xffffffff;
    } else {
      nrBits = Math.floor(nrBits / 5) * 7;
      if (nrBits <= 64) nrBits = 64;
      else nrBits = 2 ** Math.ceil(Math.log2(nrBits));
      mask = nrBits - 1;
    }
    this.bitsetMask = mask >>> 0;
    this.bits = new Uint32Array(Math.ceil((this.bitsetMask + 1) / 32));
    this.seed = this.flags & BPF_F_ZERO_SEED ? 0 : (options.hashSeed ?? (Math.random() * 4294967296)) >>> 0;
    this.scratch = new Uint8Array(this.valueSize);
  }

  private hashAt(addr: number, i: number): number {
    const sp = this.space;
    return (hashKey(sp.u8, sp.i32, addr, this.valueSize, (this.seed + i) | 0) & this.bitsetMask) >>> 0;
  }

  private hashBytes(v: Uint8Array, i: number): number {
    return (jhashBytes(v, 0, this.valueSize, (this.seed + i) | 0) & this.bitsetMask) >>> 0;
  }

  private setBit(h: number): void {
    this.bits[h >>> 5] |= 1 << (h & 31);
  }

  private testBit(h: number): boolean {
    return (this.bits[h >>> 5] & (1 << (h & 31))) !== 0;
  }

  // ---- program side ----

  override pushElem(valueAddr: number, flags: number): number {
    if (flags !== BPF_ANY) return -E.EINVAL;
    for (let i = 0; i < this.nrHashFuncs; i++) this.setBit(this.hashAt(valueAddr, i));
    return 0;
  }

  override peekElem(valueAddr: number): number {
    for (let i = 0; i < this.nrHashFuncs; i++) if (!this.testBit(this.hashAt(valueAddr, i))) return -E.ENOENT;
    return 0;
  }

  override popElem(): number {
    return -E.EOPNOTSUPP;
  }

  override deleteElem(): number {
    return -E.EOPNOTSUPP;
  }

  // ---- syscall side: update = push, lookup = peek (the value is the query) ----

  protected override doUpdate(_key: Uint8Array | null, value: Uint8Array, flags: number): number {
    if (flags !== BPF_ANY) return -E.EINVAL;
    this.scratch.set(value.subarray(0, this.valueSize));
    for (let i = 0; i < this.nrHashFuncs; i++) this.setBit(this.hashBytes(this.scratch, i));
    return 0;
  }

  protected override doLookup(_key: Uint8Array | null, value: Uint8Array): number {
    this.scratch.set(value.subarray(0, this.valueSize));
    for (let i = 0; i < this.nrHashFuncs; i++) if (!this.testBit(this.hashBytes(this.scratch, i))) return -E.ENOENT;
    return 0;
  }

  protected override doDelete(): number {
    return -E.EOPNOTSUPP;
  }

  protected override doGetNextKey(): number {
    return -E.EOPNOTSUPP;
  }
}
