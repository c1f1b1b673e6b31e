/**
 * The LRU lists behind BPF_MAP_TYPE_LRU_HASH / LRU_PERCPU_HASH, the kernel's
 * algorithm from kernel/bpf/bpf_lru_list.c, node for node:
 *
 * - common LRU (the default): one global list set (active, inactive, free) plus,
 *   per CPU, a local free list and a local pending list. A CPU takes free nodes
 *   from its local free list; when empty it flushes its pending list into the
 *   global lists, rotates them and moves up to `target_free` nodes (free ones
 *   first, then shrunk from the inactive tail) to its local free list; when that
 *   yields nothing it steals, round robin from `next_steal`, from the CPUs'
 *   local free and pending lists.
 * - per-CPU LRU (BPF_F_NO_COMMON_LRU): each CPU owns a list set and the
 *   max_entries / ncpus nodes populated onto it.
 *
 * Rotation: active nodes without the reference bit move to inactive when the
 * inactive list is shorter than the active one; referenced inactive nodes move
 * back to active; eviction takes unreferenced nodes from the inactive tail,
 * and force-evicts from the tail when a scan finds none.
 *
 * Nodes are element indices; lists are doubly linked through typed arrays with a
 * sentinel per list, as `struct list_head` is.
 */

/** enum bpf_lru_list_type. kernel/bpf/bpf_lru_list.h. */
export const LRU_ACTIVE = 0;
export const LRU_INACTIVE = 1;
export const LRU_FREE = 2;
export const LRU_LOCAL_FREE = 3;
export const LRU_LOCAL_PENDING = 4;

/** kernel/bpf/bpf_lru_list.c: LOCAL_FREE_TARGET, LOCAL_NR_SCANS, PERCPU_FREE_TARGET, PERCPU_NR_SCANS. */
export const LOCAL_FREE_TARGET = 128;
export const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
export const PERCPU_FREE_TARGET = 4;
export const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

/** struct bpf_lru_list: three list heads, active/inactive counts, the rotation cursor. */
interface LruListSet {
  readonly head: readonly [number, number, number];
  readonly counts: [number, number];
  rotation: number;
}

/** struct bpf_lru_locallist. */
interface LocalList {
  readonly free: number;
  readonly pending: number;
  nextSteal: number;
}

export class BpfLru {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly type: Uint8Array;
  readonly ref: Uint8Array;
  readonly cpu: Uint16Array;
  readonly nrScans: number;
  /** Nodes a CPU pulls to its local free list at once (common LRU). */
  readonly targetFree: number;
  private readonly global: LruListSet | undefined;
  private readonly locals: LocalList[] = [];
  private readonly percpuLists: LruListSet[] = [];

  /**
   * @param n nodes (elements), all on the free lists at start
   * @param delFromHtab removes a node's element from the hash table; false if it is not there
   */
  constructor(
    readonly n: number,
    readonly ncpus: number,
    readonly percpu: boolean,
    private readonly delFromHtab: (node: number) => boolean,
  ) {
    const sentinels = percpu ? 3 * ncpus : 3 + 2 * ncpus;
    this.next = new Int32Array(n + sentinels);
    this.prev = new Int32Array(n + sentinels);
    this.type = new Uint8Array(n);
    this.ref = new Uint8Array(n);
    this.cpu = new Uint16Array(n);
    let s = n;
    const newSet = (): LruListSet => {
      const set: LruListSet = { head: [s, s + 1, s + 2], counts: [0, 0], rotation: s + 1 };
      for (let i = 0; i < 3; i++) this.initHead(s + i);
      s += 3;
      return set;
    };
    if (percpu) {
      this.nrScans = PERCPU_NR_SCANS;
      this.targetFree = PERCPU_FREE_TARGET;
      for (let c = 0; c < ncpus; c++) this.percpuLists.push(newSet());
      this.populatePercpu();
    } else {
      this.nrScans = LOCAL_NR_SCANS;
      this.global = newSet();
      for (let c = 0; c < ncpus; c++) {
        this.locals.push({ free: s, pending: s + 1, nextSteal: c });
        this.initHead(s);
        this.initHead(s + 1);
        s += 2;
      }
      // bpf_common_lru_populate(): target_free = clamp((nr_elems / ncpus) / 2, 1, LOCAL_FREE_TARGET).
      this.targetFree = Math.min(LOCAL_FREE_TARGET, Math.max(1, Math.floor(Math.floor(n / ncpus) / 2)));
      const free = this.global.head[LRU_FREE];
      for (let i = 0; i < n; i++) {
        this.type[i] = LRU_FREE;
        this.add(i, free);
      }
    }
  }

  // ---- struct list_head ----

  private initHead(h: number): void {
    this.next[h] = h;
    this.prev[h] = h;
  }
  private del(x: number): void {
    const p = this.prev[x];
    const nx = this.next[x];
    this.next[p] = nx;
    this.prev[nx] = p;
  }
  /** list_add: right after the head. */
  private add(x: number, h: number): void {
    const nx = this.next[h];
    this.next[x] = nx;
    this.prev[x] = h;
    this.prev[nx] = x;
    this.next[h] = x;
  }
  private move(x: number, h: number): void {
    this.del(x);
    this.add(x, h);
  }
  private empty(h: number): boolean {
    return this.next[h] === h;
  }

  /** bpf_percpu_lru_populate(): consecutive runs of n / ncpus nodes per CPU. */
  private populatePercpu(): void {
    const per = Math.floor(this.n / this.ncpus);
    let cpu = 0;
    let i = 0;
    while (i < this.n && cpu < this.ncpus) {
      const l = this.percpuLists[cpu];
      this.cpu[i] = cpu;
      this.type[i] = LRU_FREE;
      this.add(i, l.head[LRU_FREE]);
      i++;
      if (per === 0 || i % per === 0) cpu++;
    }
  }

  // ---- the reference bit ----

  /** bpf_lru_node_set_ref(). */
  setRef(node: number): void {
    this.ref[node] = 1;
  }

  // ---- list-set operations (bpf_lru_list) ----

  private countInc(l: LruListSet, t: number): void {
    if (t < 2) l.counts[t]++;
  }
  private countDec(l: LruListSet, t: number): void {
    if (t < 2) l.counts[t]--;
  }

  /** __bpf_lru_node_move_to_free(). */
  private moveToFree(l: LruListSet, node: number, freeList: number, tgt: number): void {
    if (node === l.rotation) l.rotation = this.prev[l.rotation];
    this.countDec(l, this.type[node]);
    this.type[node] = tgt;
    this.move(node, freeList);
  }

  /** __bpf_lru_node_move_in(): a local-list node joins a global list. */
  private moveIn(l: LruListSet, node: number, tgt: number): void {
    this.countInc(l, tgt);
    this.type[node] = tgt;
    this.ref[node] = 0;
    this.move(node, l.head[tgt]);
  }

  /** __bpf_lru_node_move(). */
  private moveNode(l: LruListSet, node: number, tgt: number): void {
    if (this.type[node] !== tgt) {
      this.countDec(l, this.type[node]);
      this.countInc(l, tgt);
      this.type[node] = tgt;
    }
    this.ref[node] = 0;
    if (node === l.rotation) l.rotation = this.prev[l.rotation];
    this.move(node, l.head[tgt]);
  }

  /** __bpf_lru_list_rotate_active(): scan from the tail, at most nr_scans nodes. */
  private rotateActive(l: LruListSet): void {
    const active = l.head[LRU_ACTIVE];
    const first = this.next[active];
    let i = 0;
    let node = this.prev[active];
    while (node !== active) {
      const tmp = this.prev[node];
      this.moveNode(l, node, this.ref[node] ? LRU_ACTIVE : LRU_INACTIVE);
      if (++i === this.nrScans || node === first) break;
      node = tmp;
    }
  }

  /** __bpf_lru_list_rotate_inactive(): resumes at the rotation cursor. */
  private rotateInactive(l: LruListSet): void {
    const inactive = l.head[LRU_INACTIVE];
    if (this.empty(inactive)) return;
    let last = this.next[l.rotation];
    if (last === inactive) last = this.next[last];
    let cur = l.rotation;
    let next = inactive;
    let i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) {
        cur = this.prev[cur];
        continue;
      }
      next = this.prev[cur];
      if (this.ref[cur]) this.moveNode(l, cur, LRU_ACTIVE);
      if (cur === last) break;
      cur = next;
      i++;
    }
    l.rotation = next;
  }

  /** __bpf_lru_list_shrink_inactive(). */
  private shrinkInactive(l: LruListSet, tgt: number, freeList: number, freeType: number): number {
    const inactive = l.head[LRU_INACTIVE];
    let nshrinked = 0;
    let i = 0;
    let node = this.prev[inactive];
    while (node !== inactive) {
      const tmp = this.prev[node];
      if (this.ref[node]) {
        this.moveNode(l, node, LRU_ACTIVE);
      } else if (this.delFromHtab(node)) {
        this.moveToFree(l, node, freeList, freeType);
        if (++nshrinked === tgt) break;
      }
      if (++i === this.nrScans) break;
      node = tmp;
    }
    return nshrinked;
  }

  /** __bpf_lru_list_rotate(). */
  private rotate(l: LruListSet): void {
    if (l.counts[LRU_INACTIVE] < l.counts[LRU_ACTIVE]) this.rotateActive(l);
    this.rotateInactive(l);
  }

  /** __bpf_lru_list_shrink(): shrink, else force-evict one node ignoring the reference bit. */
  private shrink(l: LruListSet, tgt: number, freeList: number, freeType: number): number {
    const n = this.shrinkInactive(l, tgt, freeList, freeType);
    if (n) return n;
    const inactive = l.head[LRU_INACTIVE];
    const force = this.empty(inactive) ? l.head[LRU_ACTIVE] : inactive;
    let node = this.prev[force];
    while (node !== force) {
      const tmp = this.prev[node];
      if (this.delFromHtab(node)) {
        this.moveToFree(l, node, freeList, freeType);
        return 1;
      }
      node = tmp;
    }
    return 0;
  }

  // ---- common LRU ----

  /** __local_list_flush(): pending nodes join the global active/inactive lists. */
  private flushLocal(l: LruListSet, loc: LocalList): void {
    let node = this.prev[loc.pending];
    while (node !== loc.pending) {
      const tmp = this.prev[node];
      this.moveIn(l, node, this.ref[node] ? LRU_ACTIVE : LRU_INACTIVE);
      node = tmp;
    }
  }

  /** bpf_lru_list_pop_free_to_local(). */
  private popFreeToLocal(loc: LocalList): void {
    const l = this.global!;
    this.flushLocal(l, loc);
    this.rotate(l);
    const free = l.head[LRU_FREE];
    let nfree = 0;
    let node = this.next[free];
    while (node !== free) {
      const tmp = this.next[node];
      this.moveToFree(l, node, loc.free, LRU_LOCAL_FREE);
      if (++nfree === this.targetFree) break;
      node = tmp;
    }
    if (nfree < this.targetFree) this.shrink(l, this.targetFree - nfree, loc.free, LRU_LOCAL_FREE);
  }

  private addPending(loc: LocalList, cpu: number, node: number): void {
    this.cpu[node] = cpu;
    this.type[node] = LRU_LOCAL_PENDING;
    this.ref[node] = 0;
    this.add(node, loc.pending);
  }

  private popLocalFree(loc: LocalList): number {
    const node = this.next[loc.free];
    if (node === loc.free) return -1;
    this.del(node);
    return node;
  }

  /** __local_list_pop_pending(): oldest unreferenced pending node, else the oldest. */
  private popLocalPending(loc: LocalList): number {
    for (let force = 0; force < 2; force++) {
      let node = this.prev[loc.pending];
      while (node !== loc.pending) {
        if ((!this.ref[node] || force) && this.delFromHtab(node)) {
          this.del(node);
          return node;
        }
        node = this.prev[node];
      }
    }
    return -1;
  }

  private commonPopFree(cpu: number): number {
    const loc = this.locals[cpu];
    let node = this.popLocalFree(loc);
    if (node < 0) {
      this.popFreeToLocal(loc);
      node = this.popLocalFree(loc);
    }
    if (node >= 0) {
      this.addPending(loc, cpu, node);
      return node;
    }
    const first = loc.nextSteal;
    let steal = first;
    do {
      const sl = this.locals[steal];
      node = this.popLocalFree(sl);
      if (node < 0) node = this.popLocalPending(sl);
      steal = (steal + 1) % this.ncpus;
    } while (node < 0 && steal !== first);
    loc.nextSteal = steal;
    if (node >= 0) this.addPending(loc, cpu, node);
    return node;
  }

  private commonPushFree(node: number): void {
    if (this.type[node] === LRU_LOCAL_PENDING) {
      const loc = this.locals[this.cpu[node]];
      this.type[node] = LRU_LOCAL_FREE;
      this.ref[node] = 0;
      this.move(node, loc.free);
      return;
    }
    const l = this.global!;
    this.moveNode(l, node, LRU_FREE);
  }

  // ---- per-CPU LRU ----

  private percpuPopFree(cpu: number): number {
    const l = this.percpuLists[cpu];
    this.rotate(l);
    const free = l.head[LRU_FREE];
    if (this.empty(free)) this.shrink(l, PERCPU_FREE_TARGET, free, LRU_FREE);
    if (this.empty(free)) return -1;
    const node = this.next[free];
    this.ref[node] = 0;
    this.moveNode(l, node, LRU_INACTIVE);
    return node;
  }

  /** The lists as text (tests and debugging): each list head to tail, `*` marking referenced nodes. */
  describe(name: (node: number) => string = String): string {
    const list = (h: number): string => {
      const out: string[] = [];
      for (let x = this.next[h]; x !== h; x = this.next[x]) out.push(name(x) + (this.ref[x] ? "*" : ""));
      return `[${out.join(" ")}]`;
    };
    const set = (l: LruListSet): string =>
      `active ${list(l.head[0])} inactive ${list(l.head[1])} free ${list(l.head[2])} (counts ${l.counts.join("/")}, rot ${l.rotation >= this.n ? "head" : name(l.rotation)})`;
    if (this.percpu) return this.percpuLists.map((l, c) => `cpu${c}: ${set(l)}`).join("\n");
    return [set(this.global!), ...this.locals.map((l, c) => `cpu${c} local free ${list(l.free)} pending ${list(l.pending)}`)].join("\n");
  }

  // ---- the interface the hash table uses ----

  /** bpf_lru_pop_free(): a free node for an element about to be inserted on `cpu`, or -1. */
  popFree(cpu: number): number {
    return this.percpu ? this.percpuPopFree(cpu) : this.commonPopFree(cpu);
  }

  /** bpf_lru_push_free(): a node whose element left the table. */
  pushFree(node: number): void {
    if (this.percpu) this.moveNode(this.percpuLists[this.cpu[node]], node, LRU_FREE);
    else this.commonPushFree(node);
  }
}
