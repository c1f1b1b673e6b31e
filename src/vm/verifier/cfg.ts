/**
 * Static program analysis before the main walk, after kernel/bpf/verifier.c:
 * subprogram discovery (add_subprog_and_kfunc, check_subprogs), the control-flow
 * DFS with its prune/jump points and unreachable-code check (check_cfg,
 * visit_insn, push_insn), register liveness (compute_live_registers) and loops
 * as strongly connected components (compute_scc).
 */
import type { Bytecode } from "../../isa/bytecode.js";
import type { HelperProto } from "../helpers/proto.js";

export class CfgError extends Error {
  /** errno: check_cfg and add_subprog_and_kfunc fail with -EINVAL, bar the privilege check (-EPERM). */
  constructor(readonly kernelMessage: string, readonly insn: number = -1, readonly errno = "EINVAL") {
    super(kernelMessage);
  }
}

/** Helpers that call a callback synchronously (is_sync_callback_calling_function). */
export const SYNC_CALLBACK_HELPERS = new Set([164 /* for_each_map_elem */, 181 /* loop */, 180 /* find_vma */, 209 /* user_ringbuf_drain */]);
/** Helpers whose callback runs later (is_async_callback_calling_function): timer_set_callback. */
export const ASYNC_CALLBACK_HELPERS = new Set([170]);

/**
 * bpf_helper_changes_pkt_data (net/core/filter.c, Linux 6.18): skb_store_bytes,
 * l3/l4_csum_replace, clone_redirect, skb_vlan_push/pop, skb_change_proto,
 * skb_change_tail, skb_pull_data, skb_change_head, xdp_adjust_head,
 * skb_adjust_room, xdp_adjust_meta, msg_pull_data, xdp_adjust_tail,
 * lwt_push_encap, lwt_seg6_store_bytes/adjust_srh/action, msg_push/pop_data,
 * store_hdr_opt. Checked against the kernel by the corpus's "pkt: pointer after" cases.
 */
export const CHANGES_PKT_DATA = new Set([9, 10, 11, 13, 18, 19, 31, 38, 39, 43, 44, 50, 54, 63, 65, 73, 74, 75, 76, 90, 91, 143]);

export interface CfgInfo {
  /** Subprogram start instructions, sorted; [0] = 0. */
  readonly subprogStarts: number[];
  /** Instruction -> subprogram index. */
  readonly subprogOf: Int32Array;
  readonly prunePoint: Uint8Array;
  readonly jmpPoint: Uint8Array;
  readonly forceCheckpoint: Uint8Array;
  readonly callsCallback: Uint8Array;
  /** Second slots of LD_IMM64. */
  readonly imm64Tail: Uint8Array;
  /** Registers live before each instruction (bit i = ri), compute_live_registers. */
  readonly liveRegs: Uint16Array;
  /** SCC id per instruction (0 = not in a loop). */
  readonly scc: Uint32Array;
  /** Subprograms that contain a tail call / LD_ABS. */
  readonly hasTailCall: boolean[];
  readonly hasLdAbs: boolean[];
}

const isLdImm64 = (code: Bytecode, i: number): boolean => code.opcode[i] === 0x18;
const isPseudoCall = (code: Bytecode, i: number): boolean => code.opcode[i] === 0x85 && code.src[i] === 1;
const isPseudoFunc = (code: Bytecode, i: number): boolean => code.opcode[i] === 0x18 && code.src[i] === 4;

export function findSubprogs(code: Bytecode, privileged: boolean): number[] {
  const starts = new Set<number>([0]);
  const n = code.length;
  for (let i = 0; i < n; i++) {
    const kfunc = code.opcode[i] === 0x85 && code.src[i] === 2;
    if (isPseudoFunc(code, i) || isPseudoCall(code, i) || kfunc) {
      if (!privileged) {
        // kernel: add_subprog_and_kfunc, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
        throw new CfgError("loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN", -1, "EPERM");
      }
      // add_kfunc_call resolves every kfunc call, reachable or not, before any walk; the vm has none.
      if (kfunc) throw new CfgError("calling kernel function is not supported", i);
      const t = i + code.imm[i] + 1;
      if (t < 0 || t >= n) throw new CfgError("call to invalid destination", i);
      starts.add(t);
    }
    if (code.opcode[i] === 0x18) i++;
  }
  return [...starts].sort((a, b) => a - b);
}

/** check_subprogs: jumps stay inside their subprogram; subprograms end in exit or a jump. */
export function checkSubprogs(code: Bytecode, starts: number[]): { subprogOf: Int32Array; hasTailCall: boolean[]; hasLdAbs: boolean[] } {
  const n = code.length;
  const subprogOf = new Int32Array(n);
  const hasTailCall = starts.map(() => false);
  const hasLdAbs = starts.map(() => false);
  let cur = 0;
  let start = starts[0];
  let end = starts.length > 1 ? starts[1] : n;
  for (let i = 0; i < n; i++) {
    subprogOf[i] = cur;
    const op = code.opcode[i];
    const cls = op & 7;
    if (op === 0x85 && code.src[i] === 0 && code.imm[i] === 12) hasTailCall[cur] = true;
    if (cls === 0 && ((op & 0xe0) === 0x20 || (op & 0xe0) === 0x40)) hasLdAbs[cur] = true;
    if ((cls === 5 || cls === 6) && (op & 0xf0) !== 0x90 && (op & 0xf0) !== 0x80) {
      const t = op === 0x06 ? i + code.imm[i] + 1 : i + code.off[i] + 1;
      if (t < start || t >= end) throw new CfgError(`jump out of range from insn ${i} to ${t}`, i);
    }
    if (i === end - 1) {
      if (op !== 0x95 && op !== 0x06 && op !== 0x05) throw new CfgError("last insn is not an exit or jmp", i);
      start = end;
      cur++;
      if (cur < starts.length) end = cur + 1 < starts.length ? starts[cur + 1] : n;
    }
  }
  return { subprogOf, hasTailCall, hasLdAbs };
}

const DISCOVERED = 0x10;
const EXPLORED = 0x20;
const FALLTHROUGH = 1;
const BRANCH = 2;

/**
 * check_cfg: iterative DFS from insn 0 (callees through their call edges).
 * Marks prune and jump points; back-edges need bounded-loop support
 * (bpf_capable); every instruction must be reachable.
 */
export function checkCfg(code: Bytecode, privileged: boolean): {
  prunePoint: Uint8Array; jmpPoint: Uint8Array; forceCheckpoint: Uint8Array; callsCallback: Uint8Array; imm64Tail: Uint8Array;
} {
  const n = code.length;
  const state = new Uint8Array(n);
  const prunePoint = new Uint8Array(n);
  const jmpPoint = new Uint8Array(n);
  const forceCheckpoint = new Uint8Array(n);
  const callsCallback = new Uint8Array(n);
  const imm64Tail = new Uint8Array(n);
  const stack: number[] = [0];
  state[0] = DISCOVERED;

  const push = (t: number, w: number, e: number): number => {
    if (e === FALLTHROUGH && state[t] >= (DISCOVERED | FALLTHROUGH)) return 0;
    if (e === BRANCH && state[t] >= (DISCOVERED | BRANCH)) return 0;
    if (w < 0 || w >= n) throw new CfgError(`jump out of range from insn ${t} to ${w}`, t);
    if (e === BRANCH) {
      prunePoint[w] = 1;
      jmpPoint[w] = 1;
    }
    if (state[w] === 0) {
      state[t] = DISCOVERED | e;
      state[w] = DISCOVERED;
      stack.push(w);
      return 1; // KEEP_EXPLORING
    }
    if ((state[w] & 0xf0) === DISCOVERED) {
      if (privileged) return 0;
      throw new CfgError(`back-edge from insn ${t} to ${w}`, t);
    }
    state[t] = DISCOVERED | e;
    return 0; // DONE_EXPLORING
  };

  const visitCall = (t: number, visitCallee: boolean): number => {
    const sz = isLdImm64(code, t) ? 2 : 1;
    const r = push(t, t + sz, FALLTHROUGH);
    if (r) return r;
    prunePoint[t + sz] = 1;
    jmpPoint[t + sz] = 1;
    if (visitCallee) {
      prunePoint[t] = 1;
      return push(t, t + code.imm[t] + 1, BRANCH);
    }
    return 0;
  };

  const visit = (t: number): number => {
    const op = code.opcode[t];
    if (isPseudoFunc(code, t)) return visitCall(t, true);
    const cls = op & 7;
    if (cls !== 5 && cls !== 6) return push(t, t + (isLdImm64(code, t) ? 2 : 1), FALLTHROUGH);
    const jop = op & 0xf0;
    if (jop === 0x90) return -1; // exit: DONE_EXPLORING
    if (jop === 0x80) {
      if (code.src[t] === 0 && ASYNC_CALLBACK_HELPERS.has(code.imm[t])) prunePoint[t] = 1;
      if (code.src[t] === 0 && SYNC_CALLBACK_HELPERS.has(code.imm[t])) {
        callsCallback[t] = 1;
        forceCheckpoint[t] = 1;
        prunePoint[t] = 1;
        jmpPoint[t] = 1;
      }
      return visitCall(t, code.src[t] === 1);
    }
    if (jop === 0x00) {
      const off = cls === 5 ? code.off[t] : code.imm[t];
      const r = push(t, t + off + 1, FALLTHROUGH);
      prunePoint[t + off + 1] = 1;
      jmpPoint[t + off + 1] = 1;
      return r;
    }
    // conditional jump (and may_goto)
    prunePoint[t] = 1;
    if (op === 0xe5) forceCheckpoint[t] = 1;
    let r = push(t, t + 1, FALLTHROUGH);
    if (r) return r;
    r = push(t, t + code.off[t] + 1, BRANCH);
    return r;
  };

  while (stack.length > 0) {
    const t = stack[stack.length - 1];
    const r = visit(t);
    if (r === 1) continue;
    // DONE_EXPLORING (0) or exit (-1)
    state[t] = EXPLORED;
    stack.pop();
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) throw new CfgError(`unreachable insn ${i}`, i);
    if (isLdImm64(code, i)) {
      if (i + 1 < n && state[i + 1] !== 0) throw new CfgError(`jump into the middle of ldimm64 insn ${i}`, i);
      imm64Tail[i + 1] = 1;
      i++;
    }
  }
  return { prunePoint, jmpPoint, forceCheckpoint, callsCallback, imm64Tail };
}

/** Successors of instruction i within its subprogram (calls fall through). */
export function successors(code: Bytecode, i: number): number[] {
  const op = code.opcode[i];
  const cls = op & 7;
  if (op === 0x18) return [i + 2];
  if (cls !== 5 && cls !== 6) return [i + 1];
  const jop = op & 0xf0;
  if (jop === 0x90) return [];
  if (jop === 0x80) return [i + 1];
  if (op === 0x05) return [i + code.off[i] + 1];
  if (op === 0x06) return [i + code.imm[i] + 1];
  return [i + 1, i + code.off[i] + 1];
}

/** compute_insn_live_regs: (use, def) bitmasks of one instruction. */
function useDef(code: Bytecode, i: number, helper: (id: number) => HelperProto | undefined): [number, number] {
  const op = code.opcode[i];
  const cls = op & 7;
  const mode = op & 0xe0;
  const src = 1 << code.src[i];
  const dst = 1 << code.dst[i];
  let use = 0xffff;
  let def = 0;
  switch (cls) {
    case 0:
      if (mode === 0 && (op & 0x18) === 0x18) { def = dst; use = 0; }
      break;
    case 1:
      if (mode === 0x60 || mode === 0x80) { def = dst; use = src; }
      break;
    case 2:
      if (mode === 0x60) { def = 0; use = dst; }
      break;
    case 3:
      if (mode === 0x60) { def = 0; use = dst | src; }
      else if (mode === 0xc0) {
        const imm = code.imm[i];
        if (imm === 0xf1) { use = 1 | dst | src; def = 1; }
        else if (imm === 0x100) { def = dst; use = src; }
        else if (imm === 0x110) { def = 0; use = dst | src; }
        else { use = dst | src; def = imm & 1 ? src : 0; }
      }
      break;
    case 4: case 7: {
      const aop = op & 0xf0;
      if (aop === 0xd0) { use = dst; def = dst; }
      else if (aop === 0xb0) { def = dst; use = op & 8 ? src : 0; }
      else { def = dst; use = op & 8 ? dst | src : dst; }
      break;
    }
    default: {
      const jop = op & 0xf0;
      if (jop === 0x00 || jop === 0xe0) { def = 0; use = 0; }
      else if (jop === 0x90) { def = 0; use = 1; }
      else if (jop === 0x80) {
        def = 0x3f;
        use = def & ~1;
        if (code.src[i] === 0) {
          const p = helper(code.imm[i]);
          if (p) use = ((1 << (p.args.length + 1)) - 1) & ~1;
        }
      } else {
        def = 0;
        use = op & 8 ? dst | src : dst;
      }
    }
  }
  return [use, def];
}

/** compute_live_registers: backward data flow to a fixed point over each subprogram. */
export function computeLiveRegs(code: Bytecode, imm64Tail: Uint8Array, helper: (id: number) => HelperProto | undefined): Uint16Array {
  const n = code.length;
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  const succ: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (imm64Tail[i]) { succ.push([]); continue; }
    const [u, d] = useDef(code, i, helper);
    use[i] = u;
    def[i] = d;
    succ.push(successors(code, i).filter((s) => s < n));
  }
  const inn = new Uint16Array(n);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (imm64Tail[i]) continue;
      let out = 0;
      for (const s of succ[i]) out |= inn[s];
      const v = (use[i] | (out & ~def[i])) & 0xffff;
      if (v !== inn[i]) { inn[i] = v; changed = true; }
    }
  }
  return inn;
}

/** Strongly connected components with more than one node or a self loop (compute_scc). */
export function computeScc(code: Bytecode, imm64Tail: Uint8Array): Uint32Array {
  const n = code.length;
  const scc = new Uint32Array(n);
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const st: number[] = [];
  let idx = 0;
  let next = 1;
  const succ = (i: number): number[] => (imm64Tail[i] ? [] : successors(code, i).filter((s) => s < n));
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || imm64Tail[root]) continue;
    // Iterative Tarjan.
    const work: Array<[number, number]> = [[root, 0]];
    index[root] = low[root] = idx++;
    st.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1];
      const [v, k] = top;
      const ss = succ(v);
      if (k < ss.length) {
        top[1]++;
        const w = ss[k];
        if (index[w] === -1) {
          index[w] = low[w] = idx++;
          st.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
      } else {
        work.pop();
        if (work.length) {
          const u = work[work.length - 1][0];
          low[u] = Math.min(low[u], low[v]);
        }
        if (low[v] === index[v]) {
          const comp: number[] = [];
          let w: number;
          do {
            w = st.pop()!;
            onStack[w] = 0;
            comp.push(w);
          } while (w !== v);
          const self = succ(v).includes(v);
          if (comp.length > 1 || self) {
            for (const c of comp) scc[c] = next;
            next++;
          }
        }
      }
    }
  }
  // Number SCCs in instruction order, as the kernel's log shows them.
  const renum = new Map<number, number>();
  let k = 1;
  for (let i = 0; i < n; i++) {
    if (scc[i] && !renum.has(scc[i])) renum.set(scc[i], k++);
    if (scc[i]) scc[i] = renum.get(scc[i])!;
  }
  return scc;
}
