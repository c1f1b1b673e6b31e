/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c, Documentation/bpf/map_lpm_trie.rst):
 * longest-prefix match over keys { u32 prefixlen; u8 data[] } (data in network
 * order, bits most significant first).
 *
 * The trie is the kernel's: a binary trie whose nodes hold a prefix, with
 * "intermediate" nodes (LPM_TREE_NODE_FLAG_IM, no value) where two prefixes
 * diverge; update, delete and get_next_key (post-order: children before their
 * parent, the 0 side first) follow the kernel's algorithms step for step, so
 * iteration order and every errno match. Nodes live on the JS side; values live
 * in the address space.
 */
import { ERRNO } from "../../errors.js";
import type { AddressSpace } from "../memory.js";
import { BpfMap, type BatchArgs, type BatchCmd, type MapAttrs, type MapOptions, putU32, roundUp8 } from "./map.js";
import { SlotPool } from "./pool.js";
import { flagsAccessOk } from "./array.js";
import { BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_NOEXIST, KMALLOC_MAX_SIZE } from "./uapi.js";

const E = ERRNO;

/** kernel/bpf/lpm_trie.c: LPM_DATA_SIZE_MAX, LPM_DATA_SIZE_MIN, LPM_KEY_SIZE(). */
export const LPM_DATA_SIZE_MAX = 256;
export const LPM_DATA_SIZE_MIN = 1;
export const LPM_KEY_SIZE_MIN = 4 + LPM_DATA_SIZE_MIN;
export const LPM_KEY_SIZE_MAX = 4 + LPM_DATA_SIZE_MAX;
/** sizeof(struct lpm_trie_node) on x86-64, for LPM_VAL_SIZE_MAX. */
const LPM_NODE_SIZE = 32;
export const LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - LPM_NODE_SIZE;
export const LPM_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;

/** trie_alloc()'s checks: 0 or -errno. */
export function lpmAllocCheck(attrs: MapAttrs): number {
  const flags = (attrs.mapFlags ?? 0) >>> 0;
  if (attrs.maxEntries === 0 || !(flags & BPF_F_NO_PREALLOC) || (flags & ~LPM_CREATE_FLAG_MASK) ||
      !flagsAccessOk(flags) || attrs.keySize < LPM_KEY_SIZE_MIN || attrs.keySize > LPM_KEY_SIZE_MAX ||
      attrs.valueSize < 1 || attrs.valueSize > LPM_VAL_SIZE_MAX) return -E.EINVAL;
  return 0;
}

interface TrieNode {
  prefixlen: number;
  /** The prefix bytes (data_size of them). */
  readonly data: Uint8Array;
  /**
   * The same bytes as big-endian 32-bit words (int32, zero-padded), so the
   * lookup compares 32 prefix bits at a time: words[i] = data[4i..4i+3].
   */
  readonly words: Int32Array;
  /** words[0]: the whole prefix of an IPv4 trie. */
  readonly w0: number;
  /** LPM_TREE_NODE_FLAG_IM: an intermediate node without a value. */
  im: boolean;
  child0: TrieNode | null;
  child1: TrieNode | null;
  /** Value slot in the pool, or -1 for intermediate nodes. */
  slot: number;
}

/** data as big-endian int32 words, the last one zero-padded. */
function toWords(data: Uint8Array): Int32Array {
  const w = new Int32Array((data.length + 3) >>> 2);
  for (let i = 0; i < data.length; i++) w[i >>> 2] |= data[i] << (24 - 8 * (i & 3));
  return w;
}

/** The bit at `index` of a prefix, most significant bit of byte 0 first (extract_bit()). */
function bitOf(data: Uint8Array, off: number, index: number): number {
  return (data[off + (index >>> 3)] >>> (7 - (index & 7))) & 1;
}

export class LpmTrieMap extends BpfMap {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  /** Prefixes stored (intermediate nodes not counted). */
  nEntries = 0;
  private root: TrieNode | null = null;
  private readonly pool: SlotPool;
  private readonly keyScratch: number;

  constructor(space: AddressSpace, attrs: MapAttrs, options: MapOptions) {
    super(space, attrs, options);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    // One more value than entries: an update of an existing prefix allocates the new node first.
    this.pool = new SlotPool(space, roundUp8(this.valueSize), {
      chunk: 32,
      capacity: this.maxEntries + 1,
      prealloc: false,
      kind: "map_value",
      writable: this.progCanWrite,
      name: this.name || "lpm_trie",
    });
    this.keyScratch = space.alloc(roundUp8(this.keySize));
    this.onDispose(() => {
      this.pool.dispose();
      space.free(this.keyScratch);
    });
  }

  // ---- trie primitives over a key at `k` in the space (prefixlen u32, then data) ----

  private keyPrefixlen(u8: Uint8Array, k: number): number {
    return (u8[k] | (u8[k + 1] << 8) | (u8[k + 2] << 16) | (u8[k + 3] << 24)) >>> 0;
  }

  /** longest_prefix_match(): bits node and key share, at most min(node, key) prefix lengths. */
  private match(node: TrieNode, u8: Uint8Array, kd: number, keyPrefixlen: number): number {
    const limit = Math.min(node.prefixlen, keyPrefixlen);
    const data = node.data;
    let n = 0;
    for (let i = 0; n < limit; i++) {
      const x = data[i] ^ u8[kd + i];
      if (x) {
        n += Math.clz32(x) - 24;
        break;
      }
      n += 8;
    }
    return Math.min(n, limit);
  }

  /**
   * trie_lookup_elem(): down from the root while the node's whole prefix
   * matches, remembering the last node with a value. Prefix bits are compared
   * a 32-bit word at a time (longest_prefix_match() does 8 bytes, then 4...).
   */
  private lookupCore(k: number): number {
    const u8 = this.space.u8;
    const kp = this.keyPrefixlen(u8, k);
    // A key longer than the trie's prefixes matches nothing.
    if (kp > this.maxPrefixlen) return 0;
    const kd = k + 4;
    const found = this.dataSize === 4 ? this.lookup4(u8, kd, kp) : this.lookupWords(u8, kd, kp);
    return found ? this.pool.addr[found.slot] : 0;
  }

  /** The walk for 4-byte data (IPv4): the key's data is one word. */
  private lookup4(u8: Uint8Array, kd: number, kp: number): TrieNode | null {
    const kw = (u8[kd] << 24) | (u8[kd + 1] << 16) | (u8[kd + 2] << 8) | u8[kd + 3];
    let found: TrieNode | null = null;
    for (let node = this.root; node;) {
      const pl = node.prefixlen;
      const x = node.w0 ^ kw;
      // Bits in common, at most min(node, key) prefix lengths.
      let m = x === 0 ? 32 : Math.clz32(x);
      const limit = pl < kp ? pl : kp;
      if (m > limit) m = limit;
      if (m === 32) return node;
      if (m < pl) break;
      if (!node.im) found = node;
      // pl < 32 here: the next bit of the key picks the child.
      node = (kw << pl) < 0 ? node.child1 : node.child0;
    }
    return found;
  }

  /** The walk for any data size, a word at a time. */
  private lookupWords(u8: Uint8Array, kd: number, kp: number): TrieNode | null {
    const maxPrefixlen = this.maxPrefixlen;
    const ds = this.dataSize;
    let found: TrieNode | null = null;
    for (let node = this.root; node;) {
      const pl = node.prefixlen;
      const limit = pl < kp ? pl : kp;
      const words = node.words;
      let m = 0;
      for (let i = 0; m < limit; i++) {
        // Key word i, zero-padded past the data as the node's words are.
        const b = kd + 4 * i;
        const n = ds - 4 * i;
        const kw = n >= 4
          ? (u8[b] << 24) | (u8[b + 1] << 16) | (u8[b + 2] << 8) | u8[b + 3]
          : (u8[b] << 24) | (n > 1 ? u8[b + 1] << 16 : 0) | (n > 2 ? u8[b + 2] << 8 : 0);
        const x = words[i] ^ kw;
        if (x !== 0) {
          m += Math.clz32(x);
          break;
        }
        m += 32;
      }
      if (m > limit) m = limit;
      if (m === maxPrefixlen) return node;
      if (m < pl) break;
      if (!node.im) found = node;
      node = bitOf(u8, kd, pl) ? node.child1 : node.child0;
    }
    return found;
  }

  private newNode(prefixlen: number, data: Uint8Array, slot: number): TrieNode {
    const words = toWords(data);
    return { prefixlen, data, words, w0: words[0], im: slot < 0, child0: null, child1: null, slot };
  }

  /** trie_check_add_elem(). */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -E.ENOENT;
    if (this.nEntries === this.maxEntries) return -E.ENOSPC;
    this.nEntries++;
    return 0;
  }

  /** trie_update_elem(). `writeValue` fills the new node's value. */
  private updateCore(k: number, flags: number, writeValue: (dst: number) => void): number {
    if (flags > BPF_EXIST) return -E.EINVAL;
    const kp = this.keyPrefixlen(this.space.u8, k);
    if (kp > this.maxPrefixlen) return -E.EINVAL;
    const kd = k + 4;
    const slot = this.pool.take();
    if (slot < 0) return -E.ENOMEM;
    // Taking a slot may have grown the memory: views are read after it.
    const u8 = this.space.u8;
    const fresh = this.newNode(kp, u8.slice(kd, kd + this.dataSize), slot);
    const initValue = (): void => {
      const dst = this.pool.addr[slot];
      this.space.u8.fill(0, dst, dst + roundUp8(this.valueSize));
      writeValue(dst);
    };
    // Walk down as far as the key matches; `set` re-points the slot the new node goes in.
    let parent: TrieNode | null = null;
    let side = 0;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.match(node, u8, kd, kp);
      if (node.prefixlen !== m || node.prefixlen === kp) break;
      parent = node;
      side = bitOf(u8, kd, node.prefixlen);
      node = side ? node.child1 : node.child0;
    }
    const set = (n: TrieNode): void => {
      if (!parent) this.root = n;
      else if (side) parent.child1 = n;
      else parent.child0 = n;
    };
    const fail = (r: number): number => {
      this.pool.give(slot);
      return r;
    };
    if (!node) {
      const r = this.checkAdd(flags);
      if (r) return fail(r);
      initValue();
      set(fresh);
      return 0;
    }
    if (node.prefixlen === m) {
      // The prefix is there already (as a value or an intermediate node): replace the node.
      if (!node.im) {
        if (flags === BPF_NOEXIST) return fail(-E.EEXIST);
      } else {
        const r = this.checkAdd(flags);
        if (r) return fail(r);
      }
      initValue();
      fresh.child0 = node.child0;
      fresh.child1 = node.child1;
      set(fresh);
      if (node.slot >= 0) this.pool.give(node.slot);
      return 0;
    }
    const r = this.checkAdd(flags);
    if (r) return fail(r);
    initValue();
    if (m === kp) {
      // The new prefix covers the node: it becomes the node's parent.
      if (bitOf(node.data, 0, m)) fresh.child1 = node;
      else fresh.child0 = node;
      set(fresh);
      return 0;
    }
    // Diverging prefixes: an intermediate node at the common prefix joins them.
    const im = this.newNode(m, node.data.slice(), -1);
    if (bitOf(u8, kd, m)) {
      im.child0 = node;
      im.child1 = fresh;
    } else {
      im.child0 = fresh;
      im.child1 = node;
    }
    set(im);
    return 0;
  }

  /** trie_delete_elem(). */
  private deleteCore(k: number): number {
    const u8 = this.space.u8;
    const kp = this.keyPrefixlen(u8, k);
    if (kp > this.maxPrefixlen) return -E.EINVAL;
    const kd = k + 4;
    // trim: the slot holding node (parent + side); trim2: the slot holding parent.
    let parent: TrieNode | null = null;
    let side = 0;
    let grand: TrieNode | null = null;
    let parentSide = 0;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.match(node, u8, kd, kp);
      if (node.prefixlen !== m || node.prefixlen === kp) break;
      grand = parent;
      parentSide = side;
      parent = node;
      side = bitOf(u8, kd, node.prefixlen);
      node = side ? node.child1 : node.child0;
    }
    if (!node || node.prefixlen !== kp || node.prefixlen !== m || node.im) return -E.ENOENT;
    this.nEntries--;
    const setAt = (p: TrieNode | null, s: number, n: TrieNode | null): void => {
      if (!p) this.root = n;
      else if (s) p.child1 = n;
      else p.child0 = n;
    };
    if (node.child0 && node.child1) {
      // Two children: the node stays as an intermediate one.
      node.im = true;
      this.pool.give(node.slot);
      node.slot = -1;
      return 0;
    }
    if (parent && parent.im && !node.child0 && !node.child1) {
      // A leaf under an intermediate node: the intermediate node goes too, its other child moves up.
      setAt(grand, parentSide, node === parent.child0 ? parent.child1 : parent.child0);
      this.pool.give(node.slot);
      return 0;
    }
    setAt(parent, side, node.child0 ?? node.child1);
    this.pool.give(node.slot);
    return 0;
  }

  /** trie_get_next_key(): post-order successor of the key's exact node, or the leftmost node. */
  private getNextCore(k: number, haveKey: boolean, out: Uint8Array): number {
    if (!this.root) return -E.ENOENT;
    let searchRoot: TrieNode = this.root;
    const u8 = this.space.u8;
    let next: TrieNode | null = null;
    find: if (haveKey) {
      const kp = this.keyPrefixlen(u8, k);
      if (kp > this.maxPrefixlen) break find;
      const kd = k + 4;
      const stack: TrieNode[] = [];
      let node: TrieNode | null = this.root;
      let m = 0;
      while (node) {
        stack.push(node);
        m = this.match(node, u8, kd, kp);
        if (node.prefixlen !== m || node.prefixlen === kp) break;
        node = bitOf(u8, kd, node.prefixlen) ? node.child1 : node.child0;
      }
      if (!node || node.prefixlen !== m || node.im) break find;
      let at = stack.length - 1;
      node = stack[at];
      while (at > 0) {
        const p = stack[at - 1];
        if (p.child0 === node && p.child1) {
          searchRoot = p.child1;
          break find;
        }
        if (!p.im) {
          next = p;
          return this.putKey(next, out);
        }
        node = p;
        at--;
      }
      return -E.ENOENT;
    }
    // Leftmost real node: intermediate nodes always have two children.
    for (let node: TrieNode | null = searchRoot; node;) {
      if (node.im) {
        node = node.child0;
      } else {
        next = node;
        node = node.child0 ?? next.child1;
      }
    }
    return this.putKey(next!, out);
  }

  private putKey(node: TrieNode, out: Uint8Array): number {
    putU32(out, 0, node.prefixlen);
    out.set(node.data, 4);
    return 0;
  }

  // ---- program side ----

  override lookupElem(keyAddr: number): number {
    return this.lookupCore(keyAddr);
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number): number {
    return this.updateCore(keyAddr, flags, (dst) => this.copyValue(this.space.u8, dst, valueAddr));
  }

  override deleteElem(keyAddr: number): number {
    return this.deleteCore(keyAddr);
  }

  // ---- syscall side ----

  private stageKey(key: Uint8Array): number {
    this.space.u8.set(key.subarray(0, this.keySize), this.keyScratch);
    return this.keyScratch;
  }

  protected override doLookup(key: Uint8Array | null, value: Uint8Array): number {
    if (!key) return -E.EINVAL;
    const v = this.lookupCore(this.stageKey(key));
    if (!v) return -E.ENOENT;
    this.copyValueOut(this.space.u8, v, value, 0);
    return 0;
  }

  protected override doUpdate(key: Uint8Array | null, value: Uint8Array, flags: number): number {
    if (!key) return -E.EINVAL;
    return this.updateCore(this.stageKey(key), flags, (dst) => this.copyValueIn(this.space.u8, dst, value, 0));
  }

  protected override doDelete(key: Uint8Array | null): number {
    if (!key) return -E.EINVAL;
    return this.deleteCore(this.stageKey(key));
  }

  protected override doGetNextKey(key: Uint8Array | null, next: Uint8Array): number {
    return this.getNextCore(key ? this.stageKey(key) : 0, key !== null, next);
  }

  protected override doBatch(cmd: BatchCmd, b: BatchArgs): number {
    if (cmd === "lookup") return this.genericLookupBatch(b);
    if (cmd === "update") return this.genericUpdateBatch(b);
    if (cmd === "delete") return this.genericDeleteBatch(b);
    return -E.ENOTSUPP;
  }
}
