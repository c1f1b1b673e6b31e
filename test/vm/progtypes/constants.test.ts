import { describe, expect, test } from "vitest";
import * as C from "../../../src/vm/progtypes/constants.js";
import { btfUnavailableReason, vmlinuxEnum } from "./kernel-load.js";

const reason = btfUnavailableReason();

describe.skipIf(reason !== null)(`program and attach type ids match the kernel's BTF${reason ? ` [skipped: ${reason}]` : ""}`, () => {
  const consts = C as unknown as Record<string, number>;
  test("every enum bpf_prog_type value has a BPF_PROG_TYPE_* constant with the kernel's number", () => {
    for (const [name, v] of vmlinuxEnum("bpf_prog_type")) {
      if (name.startsWith("__")) continue;
      expect([name, consts[name]]).toEqual([name, v]);
    }
  });
  test("every enum bpf_attach_type value has a constant with the kernel's number", () => {
    for (const [name, v] of vmlinuxEnum("bpf_attach_type")) {
      if (name.startsWith("__")) continue;
      expect([name, consts[name]]).toEqual([name, v]);
    }
  });
});
