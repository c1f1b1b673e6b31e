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
  test("accepts a benchmark object with the kernel's processed count", async () => {
    const r = await run([fixturePath("../bench/03_xdp_parse_udp.bpf.o")]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("bench_xdp_parse_udp: accepted, processed 77 insns, 6 states, stack 8, 55 xlated insns\n");
  });
  test("a bpf-to-bpf call object links its subprogram", async () => {
    const r = await run([fixturePath("../bench/06_bpf2bpf_call.bpf.o")], { json: true });
    expect(JSON.parse(r.out)).toMatchObject({ program: "bench_bpf2bpf_call", accepted: true, processedInsns: 110601 });
  });
  test("rejects with the kernel's message and the source line", async () => {
    const r = await run([fixturePath("null_deref.bpf.o"), "log", "1"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("; return *v; @ fixtures/verifier/null_deref.bpf.c:19\n");
    expect(r.out).toMatch(/null_deref: rejected: R0 invalid mem access 'map_value_or_null' \(insn \d+, null_deref\.bpf\.c:19\)\n$/);
  });
});
