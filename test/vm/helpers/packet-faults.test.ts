/**
 * Packet helpers in checked (unverified) mode: the pointers and the context a
 * program hands them are checked, so a helper never touches memory the
 * program could not, and a helper used from the wrong program type faults
 * instead of misreading state.
 */
import { describe, expect, test } from "vitest";
import { ProgramFault } from "../../../src/errors.js";
import { BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_XDP } from "../../../src/vm/progtypes/constants.js";
import { vmProgram } from "../progtypes-runtime/harness.js";
import { ipv4Frame, pattern } from "../progtypes-runtime/packets.js";

function faultOf(progType: number, code: string, data: Uint8Array): ProgramFault {
  const p = vmProgram({ progType, code });
  try {
    p.testRun({ data });
  } catch (e) {
    if (e instanceof ProgramFault) return e;
    throw e;
  } finally {
    p.dispose();
  }
  throw new Error("no fault");
}

describe("packet helpers in checked mode", () => {
  test("xdp_load_bytes into memory the program cannot write faults", () => {
    const f = faultOf(BPF_PROG_TYPE_XDP, "r2 = 0\nr3 = 0x7fff0000\nr4 = 8\ncall 189\nexit", pattern(20));
    expect(f.message).toMatch(/outside every mapped region/);
  });

  test("skb_store_bytes from an unmapped source faults", () => {
    const f = faultOf(BPF_PROG_TYPE_SCHED_CLS, "r2 = 0\nr3 = 0x20\nr4 = 4\nr5 = 0\ncall 9\nexit", ipv4Frame(60));
    expect(f.message).toMatch(/null pointer/);
  });

  test("skb_load_bytes into the read-only socket faults", () => {
    const f = faultOf(BPF_PROG_TYPE_SCHED_CLS, "r3 = *(u64 *)(r1 + 168)\nr2 = 0\nr4 = 4\ncall 26\nexit", ipv4Frame(60));
    expect(f.message).toMatch(/read-only bpf_sock/);
  });

  test("a helper given something else than the context faults", () => {
    const f = faultOf(BPF_PROG_TYPE_XDP, "r1 = r10\nr2 = 4\ncall 44\nexit", pattern(20));
    expect(f.message).toMatch(/r1 is not the context/);
  });

  test("an skb helper called from an XDP program faults", () => {
    const f = faultOf(BPF_PROG_TYPE_XDP, "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\ncall 26\nexit", pattern(20));
    expect(f.message).toMatch(/bpf_skb_load_bytes needs an skb context/);
  });

  test("after adjust_head the old packet start is no longer reachable", () => {
    const code = "r6 = r1\nr7 = *(u32 *)(r1 + 0)\nr2 = 4\ncall 44\nr0 = *(u8 *)(r7 + 0)\nexit";
    expect(faultOf(BPF_PROG_TYPE_XDP, code, pattern(20)).message).toMatch(/outside every mapped region/);
  });

  test("after change_tail grows the packet the new bytes are reachable", () => {
    const p = vmProgram({
      progType: BPF_PROG_TYPE_SCHED_CLS,
      code: "r6 = r1\nr2 = 200\nr3 = 0\ncall 38\nr2 = *(u32 *)(r6 + 76)\nr0 = *(u8 *)(r2 + 199)\nexit",
    });
    try {
      expect(p.testRun({ data: ipv4Frame(60) }).retval).toBe(0);
    } finally {
      p.dispose();
    }
  });
});
