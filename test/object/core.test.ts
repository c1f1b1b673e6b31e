import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Btf } from "../../src/btf/btf.js";
import { BtfBuilder } from "../../src/btf/encode.js";
import { BTF_INT_SIGNED } from "../../src/btf/kinds.js";
import { BtfError } from "../../src/errors.js";
import { BPF_DW, BPF_LDX, BPF_MEM, BPF_W, OP_CALL } from "../../src/isa/opcodes.js";
import { BPF_CORE_POISON_HELPER, applyCoreRelocations, relocateCore, resolveCoreRelocations } from "../../src/object/core.js";
import { ObjectSpec } from "../../src/object/spec.js";
import { bpftoolLoadUnavailableReason } from "../helpers/kernel.js";

const open = (): ObjectSpec => ObjectSpec.fromBytes(new Uint8Array(readFileSync(new URL("../fixtures/object/core.bpf.o", import.meta.url))));

/** A "kernel" where task_struct.flags is 64-bit unsigned and pid 64-bit signed, both moved. */
function kernel(): Btf {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, BTF_INT_SIGNED);
  const u64 = b.addInt("long long unsigned int", 8);
  const s64 = b.addInt("long long int", 8, BTF_INT_SIGNED);
  const lh = b.addFwd("list_head");
  const lhp = b.addPtr(lh);
  const list = b.addStruct("list_head", 16, [
    { name: "next", type: lhp, bitOffset: 0, bitfieldSize: 0 }, { name: "prev", type: lhp, bitOffset: 64, bitfieldSize: 0 },
  ]);
  b.addStruct("task_struct", 256, [
    { name: "prio", type: int, bitOffset: 0, bitfieldSize: 0 },
    { name: "flags", type: u64, bitOffset: 64, bitfieldSize: 0 },
    { name: "pid", type: s64, bitOffset: 128, bitfieldSize: 0 },
    { name: "tgid", type: int, bitOffset: 192, bitfieldSize: 0 },
    { name: "children", type: list, bitOffset: 256, bitfieldSize: 0 },
  ]);
  b.addEnum("bpf_map_type", 4, [{ name: "BPF_MAP_TYPE_RINGBUF", value: 99 }]);
  return b.build();
}

describe("applying CO-RE relocations", () => {
  test("ALU immediates, LD_IMM64 constants and poisoned reads against a synthesized kernel", () => {
    const spec = open();
    const k = kernel();
    const out = relocateCore(spec, [k]);
    const fields = out.get("core_fields");
    const types = out.get("core_types");
    expect(fields && types).toBeTruthy();
    if (!fields || !types) return;
    // pid moved from 20 to 16 (ALU64 MOV r1 = imm).
    expect(fields.instructions.imm[2]).toBe(16);
    expect(fields.patches[0].description).toBe("patched insn #2 (ALU/ALU64) imm 20 -> 16");
    // real_parent does not exist in this kernel: the read is poisoned.
    expect([fields.instructions.opcode[15], fields.instructions.imm[15]]).toEqual([OP_CALL, BPF_CORE_POISON_HELPER]);
    // The target type id, a 64-bit constant.
    const tsId = k.find("struct", "task_struct")?.id ?? 0;
    expect([types.instructions.imm[5], types.instructions.imm[6]]).toEqual([tsId, 0]);
    // The enum value changed.
    expect(types.instructions.imm[11]).toBe(99);
    // The original spec is untouched.
    expect(spec.program("core_fields").instructions.imm[2]).toBe(20);
  });

  test("loads grow with the field when that is safe, and are poisoned when it is not", () => {
    const spec = open();
    const res = resolveCoreRelocations(spec, [kernel()]);
    const { instructions: code, patches } = applyCoreRelocations(spec.program("core_direct"), res);
    // flags: u32 -> u64, unsigned, so the load widens (zero extension keeps the value).
    expect([code.opcode[1], code.off[1]]).toEqual([BPF_LDX | BPF_MEM | BPF_DW, 8]);
    expect(patches[0].description).toBe("patched insn #1 (LDX/ST/STX) off 4 -> 8, mem_sz 4 -> 8");
    // pid: int -> s64 would need sign extension a wider load cannot give: poisoned.
    expect([code.opcode[5], code.imm[5]]).toEqual([OP_CALL, BPF_CORE_POISON_HELPER]);
    expect(spec.program("core_direct").instructions.opcode[1]).toBe(BPF_LDX | BPF_MEM | BPF_W);
  });

  test("each record is resolved once, in .BTF.ext order", () => {
    const spec = open();
    const res = resolveCoreRelocations(spec, [kernel()]);
    const all = [...spec.programs.values()].flatMap((p) => p.coreRelocations.map((c) => c.recordIndex));
    expect([...res.keys()]).toEqual([...new Set(all)].sort((a, b) => a - b));
  });

  test("an instruction that does not match its relocation is a BtfError", () => {
    const spec = open();
    const p = spec.program("core_fields");
    p.instructions.imm[2] = 21; // the compiler's value was 20
    expect(() => applyCoreRelocations(p, resolveCoreRelocations(spec, [kernel()], [p]))).toThrow(/unexpected insn #2 \(ALU\/ALU64\) value: got 21, exp 20/);
    expect(() => applyCoreRelocations(p, resolveCoreRelocations(spec, [kernel()], [p]))).toThrow(BtfError);
  });
});

const VMLINUX = "/sys/kernel/btf/vmlinux";
function liveReason(): string | null {
  if (!existsSync(VMLINUX)) return `${VMLINUX} is missing`;
  return bpftoolLoadUnavailableReason();
}
const reason = liveReason();

describe.skipIf(reason !== null)(`CO-RE against the running kernel matches libbpf${reason ? ` (skipped: ${reason})` : ""}`, () => {
  test("core.bpf.o: every patch libbpf logs, we make", () => {
    const dir = mkdtempSync("/sys/fs/bpf/tsbpf-core-");
    let log: string;
    try {
      // libbpf logs every CO-RE patch before loading (which may then fail verification: that is fine).
      const obj = new URL("../fixtures/object/core.bpf.o", import.meta.url).pathname;
      log = spawnSync("bpftool", ["-d", "prog", "loadall", obj, `${dir}/p`], { encoding: "utf8" }).stderr;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const theirs = log.split("\n").filter((l) => /relo #\d+: (patched|substituting)/.test(l)).map((l) => l.replace(/^libbpf: /, ""));
    const spec = open();
    const vmlinux = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
    const res = resolveCoreRelocations(spec, [vmlinux]);
    // libbpf numbers records within their .BTF.ext section; ours are numbered across the object.
    const local = new Map<number, number>();
    let n = 0;
    for (const sec of spec.btfExt?.coreRelos ?? []) sec.records.forEach((_r, i) => local.set(n++, i));
    const ours: string[] = [];
    for (const p of spec.programs.values()) {
      const byIdx = new Map(p.coreRelocations.map((c) => [c.insnIndex, local.get(c.recordIndex)]));
      for (const x of applyCoreRelocations(p, res).patches) {
        const [first, ...rest] = x.description.split(", mem_sz ");
        ours.push(`prog '${p.name}': relo #${byIdx.get(x.insnIndex)}: ${first}`);
        if (rest.length) ours.push(`prog '${p.name}': relo #${byIdx.get(x.insnIndex)}: patched insn #${x.insnIndex} (LDX/ST/STX) mem_sz ${rest[0]}`);
      }
    }
    expect(theirs.length).toBeGreaterThan(20);
    expect(ours).toEqual(theirs);
  });
});
