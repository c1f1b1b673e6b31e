/** `tsbpf verify`: the verifier over an object file's programs, through the object loader. */
import { describe, expect, test } from "vitest";
import type { GlobalOptions, Io } from "../../../src/cli/command.js";
import { verifyCommand } from "../../../src/cli/commands/verify.js";
import { fixturePath } from "./harness.js";

const options: GlobalOptions = { json: false, pretty: false, debug: false, backend: "vm" };

async function run(args: string[], opts: Partial<GlobalOptions> = {}): Promise<{ code: number; out: string }> {
  let out = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (out += t), readStdin: async () => "" };
  const code = await verifyCommand.run(args, { ...options, ...opts }, io);
  return { code, out };
}

describe("tsbpf verify", () => {
  test("accepts a benchmark object with the kernel's processed and xlated counts", async () => {
    const r = await run([fixturePath("../bench/03_xdp_parse_udp.bpf.o")]);
    expect(r.code).toBe(0);
    // Linux 6.18: processed 77, xlated 61 (the array lookup inlined).
    expect(r.out).toBe("bench_xdp_parse_udp: accepted, processed 77 insns, 6 states, stack 8, 61 xlated insns\n");
  });
  test("-j prints the contract's keys for each program", async () => {
    const r = await run([fixturePath("../bench/06_bpf2bpf_call.bpf.o")], { json: true });
    const o = JSON.parse(r.out);
    expect(Object.keys(o)).toEqual(["name", "section", "type", "verdict", "error", "processed_insns", "time_us"]);
    expect(o).toMatchObject({ name: "bench_bpf2bpf_call", section: "xdp", type: "xdp", verdict: "accepted", error: null, processed_insns: 110601 });
  });
  test("-j on a rejected program names the error", async () => {
    const r = await run([fixturePath("null_deref.bpf.o")], { json: true });
    expect(r.code).toBe(1);
    const o = JSON.parse(r.out);
    expect(o.verdict).toBe("rejected");
    expect(o.error).toMatch(/^R0 invalid mem access 'map_value_or_null'/);
  });
  test("rejects with the kernel's message and the source line", async () => {
    const r = await run([fixturePath("null_deref.bpf.o"), "log", "1"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("; return *v; @ null_deref.bpf.c:19\n");
    expect(r.out).toMatch(/null_deref: rejected: R0 invalid mem access 'map_value_or_null' \(insn \d+, null_deref\.bpf\.c:19\)\n$/);
  });
});
