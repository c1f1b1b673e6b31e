/**
 * The benchmark programs of ../shared/bench/progs (01, 02, 06, 07), written in
 * assembly exactly as clang-19 -O2 -mcpu=v3 compiles them (llvm-objdump-19 -d of
 * build/*.o), with their XDP input packets and expected return values
 * (../shared/bench/progs/README.md). Shared by bench/jit.ts and the JIT tests.
 */
import { assembleUbpf } from "../src/isa/asm-ubpf.js";
import { Bytecode } from "../src/isa/bytecode.js";
import { HelperRegistry } from "../src/vm/helpers/abi.js";
import { AddressSpace } from "../src/vm/memory.js";
import type { EngineEnv } from "../src/vm/engine.js";

export interface BenchProgram {
  readonly name: string;
  readonly code: Bytecode;
  readonly packet: Uint8Array;
  readonly expected: number;
  /** Kernel JIT ns/run on this machine class (../shared/bench/progs/README.md), including ~14 ns of test-run overhead. */
  readonly kernelNs: number;
}

/** Ethernet II / IPv4 / UDP with the payload pattern (i*31+7) & 0xff, as gen-inputs.mjs builds them. */
export function udpPacket(total: number, src: number[], dst: number[], sport: number, dport: number): Uint8Array {
  const p = new Uint8Array(total);
  p.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  const ipLen = total - 14;
  const ip = new Uint8Array(20);
  ip.set([0x45, 0x00, ipLen >> 8, ipLen & 0xff, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0]);
  ip.set(src, 12);
  ip.set(dst, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  p.set(ip, 14);
  const udpLen = ipLen - 20;
  p.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  for (let i = 42; i < total; i++) p[i] = (i * 31 + 7) & 0xff;
  return p;
}

export const PKT_UDP64 = udpPacket(64, [192, 168, 1, 77], [10, 1, 2, 200], 40000, 53);
export const PKT_1500 = udpPacket(1500, [192, 168, 1, 77], [10, 1, 2, 200], 40000, 5000);

const asm = (text: string): Bytecode => Bytecode.fromInstructions(assembleUbpf(text));

export const ALU_LCG = asm(`
  ldxw %r2, [%r1+0]
  ldxw %r1, [%r1+4]
  sub32 %r1, %r2
  lddw %r0, 0xcbf29ce484222325
  mov32 %r2, 50000
  lddw %r3, 0x5851f42d4c957f2d
  lddw %r4, 0x14057b7ef767814f
  lddw %r5, 0x100000001b3
loop:
  mul %r1, %r3
  add %r1, %r4
  mov %r6, %r1
  rsh %r6, 33
  xor %r6, %r0
  mul %r6, %r5
  add32 %r2, -1
  mov %r0, %r6
  jne32 %r2, 0, loop
  mov %r0, %r6
  rsh %r0, 32
  xor32 %r0, %r6
  exit
`);

export const XDP_CSUM = asm(`
  mov32 %r2, 0
  mov %r3, 0
  ldxw %r4, [%r1+4]
  ldxw %r1, [%r1+0]
  add %r1, 1
loop:
  jgt %r1, %r4, done
  mov32 %r5, %r3
  xor32 %r5, -1
  and32 %r5, 8
  ldxb %r0, [%r1-1]
  lsh32 %r0, %r5
  add32 %r0, %r2
  add %r1, 1
  add %r3, 8
  mov32 %r2, %r0
  jne %r3, 0x2ee0, loop
done:
  mov32 %r1, %r2
  rsh32 %r1, 16
  and32 %r2, 0xffff
  add32 %r2, %r1
  mov32 %r0, %r2
  rsh32 %r0, 16
  add32 %r0, %r2
  xor32 %r0, -1
  and32 %r0, 0xffff
  exit
`);

export const BPF2BPF_CALL = asm(`
  ldxw %r2, [%r1+0]
  ldxw %r0, [%r1+4]
  sub32 %r0, %r2
  mov %r6, 0
loop:
  mov32 %r3, %r6
  and32 %r3, 7
  mov %r1, %r0
  mov %r2, %r6
  call local mix_step
  add %r6, 1
  jne %r6, 0x1000, loop
  mov %r1, %r0
  rsh %r1, 32
  xor32 %r1, %r0
  mov32 %r0, %r1
  exit
mix_step:
  xor %r2, %r1
  stxdw [%r10-8], %r2
  mov %r2, %r1
  rsh %r2, 57
  lsh %r1, 7
  or %r1, %r2
  stxdw [%r10-16], %r1
  lddw %r1, 0x9e3779b97f4a7c15
  ldxdw %r2, [%r10-8]
  mul %r2, %r1
  ldxdw %r1, [%r10-16]
  add %r2, %r1
  mov %r0, %r2
  rsh %r0, 31
  xor %r0, %r2
  lddw %r1, 0xbf58476d1ce4e5b9
  mul %r0, %r1
  mov32 %r1, %r3
  add %r0, %r1
  exit
`);

export const STACK_MEMOPS = asm(`
  ldxw %r2, [%r1+0]
  ldxw %r4, [%r1+4]
  sub32 %r4, %r2
  mov %r3, 0
  mov %r1, 1
  mov %r2, 0
  ja round
fold:
  mov %r4, %r10
  add %r4, -0x100
  add %r4, %r3
  ldxdw %r4, [%r4+0]
  add %r4, %r5
  add %r3, 8
  mov %r5, %r4
  jne %r3, 0x100, fold
  add %r1, 1
  mov %r3, %r2
  jne %r2, 8, round
  mov %r0, %r4
  rsh %r0, 32
  xor32 %r0, %r4
  exit
round:
  add %r2, 1
  mov %r5, 0
fill:
  mov %r0, %r10
  add %r0, -0x100
  add %r0, %r5
  stxb [%r0+0], %r4
  add %r4, %r1
  add %r5, 1
  jne %r5, 0x100, fill
  mov %r4, 0
  mov %r5, %r10
  add %r5, -0x180
copy:
  mov32 %r0, %r3
  add32 %r0, %r4
  and %r0, 0xf
  lsh %r0, 3
  mov %r6, %r10
  add %r6, -0x100
  add %r6, %r0
  ldxdw %r0, [%r6+0]
  xor %r0, %r4
  stxdw [%r5+0], %r0
  add %r5, 8
  add %r4, 1
  jne %r4, 0x10, copy
  mov %r3, 0xff
  mov %r4, %r10
  add %r4, -0x180
mix:
  mov %r5, %r10
  add %r5, -0x100
  add %r5, %r3
  ldxb %r0, [%r5+0]
  ldxb %r6, [%r4+0]
  xor32 %r0, %r6
  stxb [%r5+0], %r0
  add %r4, 1
  add %r3, -1
  jne %r3, 0x7f, mix
  mov %r3, 0
  mov %r5, 0
  ja fold
`);

export const BENCH_PROGRAMS: readonly BenchProgram[] = [
  { name: "alu_lcg", code: ALU_LCG, packet: PKT_UDP64, expected: 2152991694, kernelNs: 92_000 },
  { name: "xdp_csum", code: XDP_CSUM, packet: PKT_1500, expected: 22089, kernelNs: 2_315 },
  { name: "bpf2bpf_call", code: BPF2BPF_CALL, packet: PKT_UDP64, expected: 2657953002, kernelNs: 22_160 },
  { name: "stack_memops", code: STACK_MEMOPS, packet: PKT_UDP64, expected: 235012622, kernelNs: 5_180 },
];

/** An address space with an XDP context (struct xdp_md: data, data_end as u32) over `packet`. */
export function xdpSetup(packet: Uint8Array, checked = false): { env: EngineEnv; ctx: number } {
  const space = new AddressSpace();
  const data = space.allocBytes(packet);
  space.mapRegion(data, packet.length, "packet", true, "packet");
  // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex (include/uapi/linux/bpf.h).
  const ctx = space.alloc(24);
  space.mapRegion(ctx, 24, "ctx", false, "xdp_md");
  space.u32[ctx >> 2] = data;
  space.u32[(ctx >> 2) + 1] = data + packet.length;
  space.u32[(ctx >> 2) + 2] = data;
  const env: EngineEnv = { space, helpers: new HelperRegistry(), checked, budget: 1_000_000_000, cpu: 0 };
  return { env, ctx };
}
