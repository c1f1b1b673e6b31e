/**
 * The reference interpreter: exact eBPF semantics (RFC 9669 and what Linux 6.18
 * does), one opcode byte per case. It is the oracle the JIT is tested against, so
 * clarity wins over cleverness; 64-bit values live as (lo, hi) i32 pairs.
 *
 * Verified programs run unchecked. In checked mode (programs not proven safe)
 * every memory access is checked against the address space's mapped regions,
 * jumps and calls are range-checked, and an instruction budget bounds the run;
 * any violation is a ProgramFault naming the instruction.
 */
import { ProgramFault, InvalidInstructionError } from "../../errors.js";
import type { Bytecode } from "../../isa/bytecode.js";
import { BPF_PSEUDO_FUNC, MAX_BPF_STACK, MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT, OP_LD_IMM64 } from "../../isa/opcodes.js";
import { CALL_AREA, type Execution, HelperCall } from "../helpers/abi.js";
import { BPF_FUNC_tail_call, type Engine, type EngineEnv, type ExecutableCode } from "../engine.js";
import type { Region } from "../memory.js";
import { legacyPacketAddress } from "../progtypes/runtime/ldabs.js";
import {
  OUT, bswap16, bswap32, mul64, pairToBig, pairToNumber, sar64, scmp64, sdiv32, sdiv64, shl64, shr64,
  smod32, smod64, ucmp64, udiv64, umod64,
} from "./u64.js";

const TWO32 = 4294967296;
const CALLEE_SAVED = 4; // r6..r9

/** Signals an LD_ABS / LD_IND outside the packet: the program ends returning 0. */
class PacketLoadAbort {}

export class Interpreter implements Engine, Execution {
  /** Low and high words of r0..r10. */
  private readonly L = new Int32Array(11);
  private readonly H = new Int32Array(11);
  private readonly stackRegion: Region;
  private readonly stackBase: number;
  private readonly stackTop: number;
  private readonly call: HelperCall;
  /** Saved r6..r9 (lo, hi) and return pc per frame. */
  private readonly saved = new Int32Array(MAX_CALL_FRAMES * (2 * CALLEE_SAVED + 1));
  private readonly savedCode: Bytecode[] = new Array(MAX_CALL_FRAMES);
  private code: Bytecode;
  private depth = 0;
  private steps = 0;
  private tailCalls = 0;
  private r0lo = 0;
  private r0hi = 0;
  private ctxAddr = 0;
  private disposed = false;

  constructor(
    private readonly program: Bytecode,
    private readonly env: EngineEnv,
  ) {
    validate(program);
    this.code = program;
    const size = MAX_CALL_FRAMES * MAX_BPF_STACK;
    this.stackBase = env.space.alloc(size, 16);
    this.stackTop = this.stackBase + size;
    this.stackRegion = env.space.mapRegion(this.stackBase, size, "stack", true, "stack");
    this.call = new HelperCall(env.space);
  }

  get cpu(): number {
    return this.env.cpu;
  }

  get ctx(): number {
    return this.ctxAddr;
  }

  get executed(): number {
    return this.steps;
  }

  /** Address of the top of frame 0's stack (r10 at entry). */
  get frameTop(): number {
    return this.stackTop;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.env.space.unmapRegion(this.stackRegion);
    this.env.space.free(this.stackBase);
  }

  lastR0(): bigint {
    return pairToBig(this.r0lo, this.r0hi);
  }

  run(r1: number, r2 = 0, r3 = 0, r4 = 0, r5 = 0): number {
    const { L, H } = this;
    L.fill(0);
    H.fill(0);
    setPair(L, H, 1, r1);
    setPair(L, H, 2, r2);
    setPair(L, H, 3, r3);
    setPair(L, H, 4, r4);
    setPair(L, H, 5, r5);
    this.ctxAddr = r1;
    this.code = this.program;
    this.steps = 0;
    this.tailCalls = 0;
    this.depth = 0;
    try {
      this.execute(0, 0);
    } catch (e) {
      if (!(e instanceof PacketLoadAbort)) throw e;
      L[0] = 0;
      H[0] = 0;
    }
    this.r0lo = L[0];
    this.r0hi = H[0];
    return L[0] >>> 0;
  }

  invokeCallback(fnPc: number, r1: number, r2: number, r3: number, r4: number, r5: number): number {
    const { L, H } = this;
    const depth = this.depth + 1;
    if (depth >= MAX_CALL_FRAMES) throw new ProgramFault(this.call.pc, "callback exceeds the call depth limit");
    if (!Number.isInteger(fnPc) || fnPc < 0 || fnPc >= this.code.length) {
      throw new ProgramFault(this.call.pc, `callback target ${fnPc} is not an instruction`);
    }
    const savedL = L.slice();
    const savedH = H.slice();
    const savedDepth = this.depth;
    const savedCode = this.code;
    setPair(L, H, 1, r1);
    setPair(L, H, 2, r2);
    setPair(L, H, 3, r3);
    setPair(L, H, 4, r4);
    setPair(L, H, 5, r5);
    try {
      this.execute(fnPc, depth);
      return pairToNumber(L[0], H[0]);
    } finally {
      L.set(savedL);
      H.set(savedH);
      this.depth = savedDepth;
      this.code = savedCode;
    }
  }

  /** Runs from `startPc` in frame `entryDepth` until that frame exits. */
  private execute(startPc: number, entryDepth: number): void {
    const { L, H, env, saved } = this;
    const space = env.space;
    const checked = env.checked;
    const limit = checked ? env.budget : Infinity;
    let code = this.code;
    let OP = code.opcode, DST = code.dst, SRC = code.src, OFF = code.off, IMM = code.imm;
    let n = code.length;
    let dv = space.dv;
    let depth = entryDepth;
    let steps = this.steps;
    let pc = startPc;
    // r10 is the top of this frame's 512 bytes.
    L[10] = this.stackTop - depth * MAX_BPF_STACK;
    H[10] = 0;

    for (;;) {
      if (pc >= n) throw new ProgramFault(pc, "execution fell off the end of the program");
      if (++steps > limit) {
        this.steps = steps;
        throw new ProgramFault(pc, `instruction budget of ${limit} exhausted`);
      }
      const op = OP[pc];
      const d = DST[pc];
      const s = SRC[pc];
      switch (op) {
        // ---------------- ALU64 ----------------
        case 0x07: { // add K
          const k = IMM[pc];
          const sum = (L[d] >>> 0) + (k >>> 0);
          L[d] = sum;
          H[d] = (H[d] + (k >> 31) + (sum >= TWO32 ? 1 : 0)) | 0;
          break;
        }
        case 0x0f: { // add X
          const sum = (L[d] >>> 0) + (L[s] >>> 0);
          L[d] = sum;
          H[d] = (H[d] + H[s] + (sum >= TWO32 ? 1 : 0)) | 0;
          break;
        }
        case 0x17: { // sub K
          const k = IMM[pc];
          const diff = (L[d] >>> 0) - (k >>> 0);
          L[d] = diff;
          H[d] = (H[d] - (k >> 31) - (diff < 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x1f: { // sub X
          const diff = (L[d] >>> 0) - (L[s] >>> 0);
          L[d] = diff;
          H[d] = (H[d] - H[s] - (diff < 0 ? 1 : 0)) | 0;
          break;
        }
        case 0x27: { // mul K
          const k = IMM[pc];
          mul64(L[d], H[d], k, k >> 31);
          L[d] = OUT[0];
          H[d] = OUT[1];
          break;
        }
        case 0x2f:
          mul64(L[d], H[d], L[s], H[s]);
          L[d] = OUT[0];
          H[d] = OUT[1];
          break;
        case 0x37:
        case 0x3f: { // div / sdiv, K or X
          const bLo = op === 0x37 ? IMM[pc] : L[s];
          const bHi = op === 0x37 ? IMM[pc] >> 31 : H[s];
          if (bLo === 0 && bHi === 0) {
            L[d] = 0;
            H[d] = 0;
          } else {
            if (OFF[pc] === 1) sdiv64(L[d], H[d], bLo, bHi);
            else udiv64(L[d], H[d], bLo, bHi);
            L[d] = OUT[0];
            H[d] = OUT[1];
          }
          break;
        }
        case 0x97:
        case 0x9f: { // mod / smod: by zero leaves dst unchanged
          const bLo = op === 0x97 ? IMM[pc] : L[s];
          const bHi = op === 0x97 ? IMM[pc] >> 31 : H[s];
          if (bLo !== 0 || bHi !== 0) {
            if (OFF[pc] === 1) smod64(L[d], H[d], bLo, bHi);
            else umod64(L[d], H[d], bLo, bHi);
            L[d] = OUT[0];
            H[d] = OUT[1];
          }
          break;
        }
        case 0x47: L[d] |= IMM[pc]; H[d] |= IMM[pc] >> 31; break;
        case 0x4f: L[d] |= L[s]; H[d] |= H[s]; break;
        case 0x57: L[d] &= IMM[pc]; H[d] &= IMM[pc] >> 31; break;
        case 0x5f: L[d] &= L[s]; H[d] &= H[s]; break;
        case 0xa7: L[d] ^= IMM[pc]; H[d] ^= IMM[pc] >> 31; break;
        case 0xaf: L[d] ^= L[s]; H[d] ^= H[s]; break;
        case 0x67: shl64(L[d], H[d], IMM[pc]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0x6f: shl64(L[d], H[d], L[s]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0x77: shr64(L[d], H[d], IMM[pc]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0x7f: shr64(L[d], H[d], L[s]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0xc7: sar64(L[d], H[d], IMM[pc]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0xcf: sar64(L[d], H[d], L[s]); L[d] = OUT[0]; H[d] = OUT[1]; break;
        case 0x87: { // neg
          const lo = L[d];
          const hi = H[d];
          L[d] = -lo | 0;
          H[d] = (~hi + (lo === 0 ? 1 : 0)) | 0;
          break;
        }
        case 0xb7: L[d] = IMM[pc]; H[d] = IMM[pc] >> 31; break;
        case 0xbf: {
          const off = OFF[pc];
          if (off === 0 || off === 1) {
            // plain mov; off 1 is addr_space_cast, a plain move for a flat space
            L[d] = L[s];
            H[d] = H[s];
          } else if (off === 8) {
            L[d] = (L[s] << 24) >> 24;
            H[d] = L[d] >> 31;
          } else if (off === 16) {
            L[d] = (L[s] << 16) >> 16;
            H[d] = L[d] >> 31;
          } else {
            L[d] = L[s];
            H[d] = L[s] >> 31;
          }
          break;
        }
        case 0xd7: { // bswap16/32/64
          const bits = IMM[pc];
          if (bits === 16) {
            L[d] = bswap16(L[d]);
            H[d] = 0;
          } else if (bits === 32) {
            L[d] = bswap32(L[d]);
            H[d] = 0;
          } else {
            const lo = L[d];
            L[d] = bswap32(H[d]);
            H[d] = bswap32(lo);
          }
          break;
        }

        // ---------------- ALU32 ----------------
        case 0x04: L[d] = (L[d] + IMM[pc]) | 0; H[d] = 0; break;
        case 0x0c: L[d] = (L[d] + L[s]) | 0; H[d] = 0; break;
        case 0x14: L[d] = (L[d] - IMM[pc]) | 0; H[d] = 0; break;
        case 0x1c: L[d] = (L[d] - L[s]) | 0; H[d] = 0; break;
        case 0x24: L[d] = Math.imul(L[d], IMM[pc]); H[d] = 0; break;
        case 0x2c: L[d] = Math.imul(L[d], L[s]); H[d] = 0; break;
        case 0x34:
        case 0x3c: {
          const b = op === 0x34 ? IMM[pc] : L[s];
          if (b === 0) L[d] = 0;
          else if (OFF[pc] === 1) L[d] = sdiv32(L[d], b);
          else L[d] = Math.floor((L[d] >>> 0) / (b >>> 0)) | 0;
          H[d] = 0;
          break;
        }
        case 0x94:
        case 0x9c: {
          const b = op === 0x94 ? IMM[pc] : L[s];
          if (b !== 0) {
            if (OFF[pc] === 1) L[d] = smod32(L[d], b);
            else L[d] = (L[d] >>> 0) % (b >>> 0) | 0;
          }
          H[d] = 0;
          break;
        }
        case 0x44: L[d] |= IMM[pc]; H[d] = 0; break;
        case 0x4c: L[d] |= L[s]; H[d] = 0; break;
        case 0x54: L[d] &= IMM[pc]; H[d] = 0; break;
        case 0x5c: L[d] &= L[s]; H[d] = 0; break;
        case 0xa4: L[d] ^= IMM[pc]; H[d] = 0; break;
        case 0xac: L[d] ^= L[s]; H[d] = 0; break;
        case 0x64: L[d] <<= IMM[pc] & 31; H[d] = 0; break;
        case 0x6c: L[d] <<= L[s] & 31; H[d] = 0; break;
        case 0x74: L[d] = L[d] >>> (IMM[pc] & 31); H[d] = 0; break;
        case 0x7c: L[d] = L[d] >>> (L[s] & 31); H[d] = 0; break;
        case 0xc4: L[d] >>= IMM[pc] & 31; H[d] = 0; break;
        case 0xcc: L[d] >>= L[s] & 31; H[d] = 0; break;
        case 0x84: L[d] = -L[d] | 0; H[d] = 0; break;
        case 0xb4: L[d] = IMM[pc]; H[d] = 0; break;
        case 0xbc: {
          const off = OFF[pc];
          L[d] = off === 8 ? (L[s] << 24) >> 24 : off === 16 ? (L[s] << 16) >> 16 : L[s];
          H[d] = 0;
          break;
        }
        case 0xd4: { // to little endian: on a little-endian vm, truncate
          const bits = IMM[pc];
          if (bits === 16) { L[d] &= 0xffff; H[d] = 0; }
          else if (bits === 32) H[d] = 0;
          break;
        }
        case 0xdc: { // to big endian
          const bits = IMM[pc];
          if (bits === 16) { L[d] = bswap16(L[d]); H[d] = 0; }
          else if (bits === 32) { L[d] = bswap32(L[d]); H[d] = 0; }
          else { const lo = L[d]; L[d] = bswap32(H[d]); H[d] = bswap32(lo); }
          break;
        }

        // ---------------- loads and stores ----------------
        case 0x61: { const a = (checked ? this.checkedEa(s, OFF[pc], 4, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getInt32(a, true); H[d] = 0; break; }
        case 0x69: { const a = (checked ? this.checkedEa(s, OFF[pc], 2, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getUint16(a, true); H[d] = 0; break; }
        case 0x71: { const a = (checked ? this.checkedEa(s, OFF[pc], 1, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getUint8(a); H[d] = 0; break; }
        case 0x79: {
          const a = (checked ? this.checkedEa(s, OFF[pc], 8, false, pc) : (L[s] + OFF[pc]) >>> 0);
          L[d] = dv.getInt32(a, true);
          H[d] = dv.getInt32(a + 4, true);
          break;
        }
        case 0x81: { const a = (checked ? this.checkedEa(s, OFF[pc], 4, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getInt32(a, true); H[d] = L[d] >> 31; break; }
        case 0x89: { const a = (checked ? this.checkedEa(s, OFF[pc], 2, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getInt16(a, true); H[d] = L[d] >> 31; break; }
        case 0x91: { const a = (checked ? this.checkedEa(s, OFF[pc], 1, false, pc) : (L[s] + OFF[pc]) >>> 0); L[d] = dv.getInt8(a); H[d] = L[d] >> 31; break; }
        case 0x62: dv.setInt32((checked ? this.checkedEa(d, OFF[pc], 4, true, pc) : (L[d] + OFF[pc]) >>> 0), IMM[pc], true); break;
        case 0x6a: dv.setInt16((checked ? this.checkedEa(d, OFF[pc], 2, true, pc) : (L[d] + OFF[pc]) >>> 0), IMM[pc], true); break;
        case 0x72: dv.setInt8((checked ? this.checkedEa(d, OFF[pc], 1, true, pc) : (L[d] + OFF[pc]) >>> 0), IMM[pc]); break;
        case 0x7a: {
          const a = (checked ? this.checkedEa(d, OFF[pc], 8, true, pc) : (L[d] + OFF[pc]) >>> 0);
          dv.setInt32(a, IMM[pc], true);
          dv.setInt32(a + 4, IMM[pc] >> 31, true);
          break;
        }
        case 0x63: dv.setInt32((checked ? this.checkedEa(d, OFF[pc], 4, true, pc) : (L[d] + OFF[pc]) >>> 0), L[s], true); break;
        case 0x6b: dv.setInt16((checked ? this.checkedEa(d, OFF[pc], 2, true, pc) : (L[d] + OFF[pc]) >>> 0), L[s], true); break;
        case 0x73: dv.setInt8((checked ? this.checkedEa(d, OFF[pc], 1, true, pc) : (L[d] + OFF[pc]) >>> 0), L[s]); break;
        case 0x7b: {
          const a = (checked ? this.checkedEa(d, OFF[pc], 8, true, pc) : (L[d] + OFF[pc]) >>> 0);
          dv.setInt32(a, L[s], true);
          dv.setInt32(a + 4, H[s], true);
          break;
        }
        case 0xc3: // atomic 32
        case 0xdb: // atomic 64
        case 0xcb: // load-acquire / store-release 16
        case 0xd3: // load-acquire / store-release 8
          this.atomic(op, d, s, OFF[pc], IMM[pc], pc);
          break;
        case 0x18: { // ld_imm64
          if (SRC[pc] === BPF_PSEUDO_FUNC) {
            L[d] = pc + 1 + IMM[pc];
            H[d] = 0;
          } else {
            L[d] = IMM[pc];
            H[d] = IMM[pc + 1];
          }
          pc += 2;
          continue;
        }
        case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
          this.steps = steps; // a load outside the packet ends the run from here
          this.legacyPacketLoad(op, s, IMM[pc], pc);
          break;

        // ---------------- jumps ----------------
        case 0x05: pc = this.target(n, pc, pc + 1 + OFF[pc]); continue;
        case 0x06: pc = this.target(n, pc, pc + 1 + IMM[pc]); continue;
        case 0xe5: // may_goto: the vm grants no loop budget beyond the verifier's, so never taken
          break;
        case 0x85: {
          const kind = s;
          if (kind === 1) { // bpf-to-bpf call
            const target = this.target(n, pc, pc + 1 + IMM[pc]);
            if (depth + 1 >= MAX_CALL_FRAMES) throw new ProgramFault(pc, `call depth exceeds ${MAX_CALL_FRAMES} frames`);
            const base = depth * (2 * CALLEE_SAVED + 1);
            for (let r = 0; r < CALLEE_SAVED; r++) {
              saved[base + 2 * r] = L[6 + r];
              saved[base + 2 * r + 1] = H[6 + r];
            }
            saved[base + 2 * CALLEE_SAVED] = pc + 1;
            this.savedCode[depth] = code;
            depth++;
            L[10] = this.stackTop - depth * MAX_BPF_STACK;
            pc = target;
            continue;
          }
          if (kind !== 0) throw new ProgramFault(pc, `kfunc calls are not available in the vm`);
          this.steps = steps;
          this.depth = depth;
          const id = IMM[pc];
          if (id === BPF_FUNC_tail_call) {
            const target = this.tailCallTarget(pc);
            if (target) {
              // The target replaces the running program in this frame; r1 stays ctx.
              code = this.code = target.code;
              OP = code.opcode; DST = code.dst; SRC = code.src; OFF = code.off; IMM = code.imm;
              n = code.length;
              pc = 0;
              continue;
            }
            break;
          }
          this.callHelper(id, pc);
          steps = this.steps;
          dv = space.dv;
          break;
        }
        case 0x8d: { // callx: the register holds a helper id (uBPF semantics; the kernel has no callx)
          this.steps = steps;
          this.depth = depth;
          this.callHelper(L[d], pc);
          steps = this.steps;
          dv = space.dv;
          break;
        }
        case 0x95: { // exit
          if (depth === entryDepth) {
            this.steps = steps;
            this.depth = depth;
            return;
          }
          depth--;
          const base = depth * (2 * CALLEE_SAVED + 1);
          for (let r = 0; r < CALLEE_SAVED; r++) {
            L[6 + r] = saved[base + 2 * r];
            H[6 + r] = saved[base + 2 * r + 1];
          }
          pc = saved[base + 2 * CALLEE_SAVED];
          const back = this.savedCode[depth];
          if (back !== code) {
            code = this.code = back;
            OP = code.opcode; DST = code.dst; SRC = code.src; OFF = code.off; IMM = code.imm;
            n = code.length;
          }
          L[10] = this.stackTop - depth * MAX_BPF_STACK;
          H[10] = 0;
          continue;
        }
        // 64-bit conditional jumps
        case 0x15: if (L[d] === IMM[pc] && H[d] === IMM[pc] >> 31) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x1d: if (L[d] === L[s] && H[d] === H[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x55: if (L[d] !== IMM[pc] || H[d] !== IMM[pc] >> 31) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x5d: if (L[d] !== L[s] || H[d] !== H[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x45: if ((L[d] & IMM[pc]) !== 0 || (H[d] & (IMM[pc] >> 31)) !== 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x4d: if ((L[d] & L[s]) !== 0 || (H[d] & H[s]) !== 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x25: if (ucmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) > 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x2d: if (ucmp64(L[d], H[d], L[s], H[s]) > 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x35: if (ucmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) >= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x3d: if (ucmp64(L[d], H[d], L[s], H[s]) >= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xa5: if (ucmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) < 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xad: if (ucmp64(L[d], H[d], L[s], H[s]) < 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xb5: if (ucmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) <= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xbd: if (ucmp64(L[d], H[d], L[s], H[s]) <= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x65: if (scmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) > 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x6d: if (scmp64(L[d], H[d], L[s], H[s]) > 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x75: if (scmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) >= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x7d: if (scmp64(L[d], H[d], L[s], H[s]) >= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xc5: if (scmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) < 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xcd: if (scmp64(L[d], H[d], L[s], H[s]) < 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xd5: if (scmp64(L[d], H[d], IMM[pc], IMM[pc] >> 31) <= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xdd: if (scmp64(L[d], H[d], L[s], H[s]) <= 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        // 32-bit conditional jumps
        case 0x16: if (L[d] === IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x1e: if (L[d] === L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x56: if (L[d] !== IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x5e: if (L[d] !== L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x46: if ((L[d] & IMM[pc]) !== 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x4e: if ((L[d] & L[s]) !== 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x26: if (L[d] >>> 0 > IMM[pc] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x2e: if (L[d] >>> 0 > L[s] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x36: if (L[d] >>> 0 >= IMM[pc] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x3e: if (L[d] >>> 0 >= L[s] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xa6: if (L[d] >>> 0 < IMM[pc] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xae: if (L[d] >>> 0 < L[s] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xb6: if (L[d] >>> 0 <= IMM[pc] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xbe: if (L[d] >>> 0 <= L[s] >>> 0) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x66: if (L[d] > IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x6e: if (L[d] > L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x76: if (L[d] >= IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0x7e: if (L[d] >= L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xc6: if (L[d] < IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xce: if (L[d] < L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xd6: if (L[d] <= IMM[pc]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        case 0xde: if (L[d] <= L[s]) { pc = this.target(n, pc, pc + 1 + OFF[pc]); continue; } break;
        default:
          throw new ProgramFault(pc, `invalid opcode 0x${op.toString(16).padStart(2, "0")}`);
      }
      pc++;
    }
  }

  /** Effective address of [reg + off] in checked mode: the full 64-bit sum, then the region check. */
  private checkedEa(r: number, off: number, size: number, write: boolean, pc: number): number {
    let lo = (this.L[r] >>> 0) + off;
    let hi = this.H[r];
    if (lo < 0) {
      lo += TWO32;
      hi = (hi - 1) | 0;
    } else if (lo >= TWO32) {
      lo -= TWO32;
      hi = (hi + 1) | 0;
    }
    this.env.space.checkAccess(lo, hi, size, write, pc);
    return lo;
  }

  /** A jump target; in checked mode it must be inside the program. */
  private target(n: number, pc: number, to: number): number {
    if (this.env.checked && (to < 0 || to >= n)) {
      throw new ProgramFault(pc, `jump to ${to} is outside the program (${n} instructions)`);
    }
    return to;
  }

  private callHelper(id: number, pc: number): void {
    const def = this.env.helpers.get(id);
    if (!def) throw new ProgramFault(pc, `call to unknown helper ${id}`);
    const { L, H, call } = this;
    const u32 = this.env.space.u32;
    const base = CALL_AREA >> 2;
    for (let r = 1; r <= 5; r++) {
      u32[base + 2 * r] = L[r];
      u32[base + 2 * r + 1] = H[r];
    }
    u32[base] = 0;
    u32[base + 1] = 0;
    call.pc = pc;
    call.exec = this;
    def.fn(call);
    const after = this.env.space.u32;
    L[0] = after[base];
    H[0] = after[base + 1];
  }

  private tailCallTarget(pc: number): ExecutableCode | undefined {
    const { L, H, env } = this;
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return undefined;
    if (H[2] !== 0 && env.checked) throw new ProgramFault(pc, "tail call map argument is not a map");
    // The index is a u32 (the kernel compares it as u32 against max_entries).
    const target = env.tailCallTarget?.(L[2] >>> 0, L[3] >>> 0);
    if (!target) return undefined;
    this.tailCalls++;
    return target;
  }

  private atomic(op: number, d: number, s: number, off: number, immValue: number, pc: number): void {
    const { L, H } = this;
    const ea = (r: number, o: number, size: number, write: boolean): number =>
      this.env.checked ? this.checkedEa(r, o, size, write, pc) : (L[r] + o) >>> 0;
    const dv = this.env.space.dv;
    const size = op === 0xdb ? 8 : op === 0xc3 ? 4 : op === 0xcb ? 2 : 1;
    if (immValue === 0x100) { // load-acquire: dst = *(src + off)
      const a = ea(s, off, size, false);
      if (size === 8) { L[d] = dv.getInt32(a, true); H[d] = dv.getInt32(a + 4, true); }
      else { L[d] = size === 4 ? dv.getInt32(a, true) : size === 2 ? dv.getUint16(a, true) : dv.getUint8(a); H[d] = 0; }
      return;
    }
    if (immValue === 0x110) { // store-release: *(dst + off) = src
      const a = ea(d, off, size, true);
      if (size === 8) { dv.setInt32(a, L[s], true); dv.setInt32(a + 4, H[s], true); }
      else if (size === 4) dv.setInt32(a, L[s], true);
      else if (size === 2) dv.setInt16(a, L[s], true);
      else dv.setInt8(a, L[s]);
      return;
    }
    if (size !== 4 && size !== 8) throw new ProgramFault(pc, `atomic operation 0x${immValue.toString(16)} on ${size} bytes`);
    const a = ea(d, off, size, true);
    const fetch = (immValue & 1) !== 0;
    const oldLo = dv.getInt32(a, true);
    const oldHi = size === 8 ? dv.getInt32(a + 4, true) : 0;
    let newLo: number;
    let newHi: number;
    switch (immValue) {
      case 0x00: case 0x01: { // add
        const sum = (oldLo >>> 0) + (L[s] >>> 0);
        newLo = sum | 0;
        newHi = (oldHi + H[s] + (sum >= TWO32 ? 1 : 0)) | 0;
        break;
      }
      case 0x40: case 0x41: newLo = oldLo | L[s]; newHi = oldHi | H[s]; break;
      case 0x50: case 0x51: newLo = oldLo & L[s]; newHi = oldHi & H[s]; break;
      case 0xa0: case 0xa1: newLo = oldLo ^ L[s]; newHi = oldHi ^ H[s]; break;
      case 0xe1: newLo = L[s]; newHi = H[s]; break; // xchg
      case 0xf1: { // cmpxchg: compare with r0, r0 = old
        const equal = size === 8 ? oldLo === L[0] && oldHi === H[0] : oldLo === L[0];
        newLo = equal ? L[s] : oldLo;
        newHi = equal ? H[s] : oldHi;
        dv.setInt32(a, newLo, true);
        if (size === 8) dv.setInt32(a + 4, newHi, true);
        L[0] = oldLo;
        H[0] = oldHi;
        return;
      }
      default:
        throw new ProgramFault(pc, `invalid atomic operation 0x${(immValue >>> 0).toString(16)}`);
    }
    dv.setInt32(a, newLo, true);
    if (size === 8) dv.setInt32(a + 4, newHi, true);
    if (fetch) {
      L[s] = oldLo;
      H[s] = oldHi;
    }
  }

  /** LD_ABS / LD_IND: r0 = ntoh(packet[off]); outside the packet the program returns 0. */
  private legacyPacketLoad(op: number, s: number, k: number, pc: number): void {
    const { L, H, env } = this;
    const bounds = env.packetBounds?.(L[6] >>> 0);
    if (!bounds) throw new ProgramFault(pc, "LD_ABS/LD_IND needs a packet context in r6");
    const size = (op & 0x18) === 0x00 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
    const indirect = (op & 0xe0) === 0x40;
    const off = indirect ? (L[s] + k) | 0 : k;
    const addr = legacyPacketAddress(bounds, off, size);
    if (addr < 0) throw new PacketLoadAbort();
    const dv = env.space.dv;
    L[0] = size === 4 ? dv.getInt32(addr, false) : size === 2 ? dv.getUint16(addr, false) : dv.getUint8(addr);
    H[0] = 0;
  }
}

function setPair(L: Int32Array, H: Int32Array, r: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`register r${r} argument ${v} is not an unsigned integer below 2^53`);
  }
  L[r] = v % TWO32;
  H[r] = Math.floor(v / TWO32);
}

/** Rejects bytecode the interpreter cannot even decode (unknown opcodes, a cut LD_IMM64). */
function validate(code: Bytecode): void {
  for (let pc = 0; pc < code.length; pc++) {
    const insn = code.decode(pc);
    if (insn.kind === "ld_imm64") {
      if (pc + 1 >= code.length) throw new InvalidInstructionError(pc, OP_LD_IMM64, "LD_IMM64 needs a second slot");
      pc++;
    }
  }
}
