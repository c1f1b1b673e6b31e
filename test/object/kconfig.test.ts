import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { LoadError } from "../../src/errors.js";
import { TRI_MODULE, kconfigData } from "../../src/object/kconfig.js";
import { ObjectSpec } from "../../src/object/spec.js";
import type { KconfigSpec } from "../../src/object/types.js";

const kconfig = (): KconfigSpec => {
  const spec = ObjectSpec.fromBytes(new Uint8Array(readFileSync(new URL("../fixtures/object/externs.bpf.o", import.meta.url))));
  if (!spec.kconfig) throw new Error("externs.bpf.o has no kconfig");
  return spec.kconfig;
};

// Offsets from the layout: NOT_THERE@0 (8), BPF_JIT@8 (4), HZ@12 (4), LINUX_KERNEL_VERSION@16 (4), BPF_SYSCALL@20 (1), LOCALVERSION@21 (16).
const config = [
  "# comment",
  "CONFIG_BPF_SYSCALL=y",
  "CONFIG_BPF_JIT=m",
  "CONFIG_HZ=250",
  'CONFIG_LOCALVERSION="-tsbpf"',
  "CONFIG_UNRELATED=y",
].join("\n");

describe(".kconfig values (libbpf's rules)", () => {
  test("fills each extern at its offset; weak missing ones stay zero", () => {
    const d = kconfigData(kconfig(), { config, kernelVersion: 0x0612_00 });
    const v = new DataView(d.buffer);
    expect(d.length).toBe(37);
    expect(v.getBigUint64(0, true)).toBe(0n);
    expect(v.getUint32(8, true)).toBe(TRI_MODULE);
    expect(v.getInt32(12, true)).toBe(250);
    expect(v.getUint32(16, true)).toBe(0x061200);
    expect(d[20]).toBe(1);
    expect(new TextDecoder().decode(d.subarray(21, 28))).toBe("-tsbpf\0");
  });

  test.each([
    { what: "a strong CONFIG_ the kernel lacks", config: "CONFIG_BPF_JIT=y\nCONFIG_HZ=100", error: /CONFIG_BPF_SYSCALL \(strong\) not resolved/ },
    { what: "'m' for a bool", config: `${config}\nCONFIG_BPF_SYSCALL=m`.replace("CONFIG_BPF_SYSCALL=y\n", ""), error: /implies tristate or char/ },
    { what: "a number that does not fit", config: config.replace("CONFIG_HZ=250", "CONFIG_HZ=0x100000000"), error: /doesn't fit in 4 bytes/ },
    { what: "a string for an int", config: config.replace("CONFIG_HZ=250", 'CONFIG_HZ="x"'), error: /implies char array/ },
    { what: "garbage for an int", config: config.replace("CONFIG_HZ=250", "CONFIG_HZ=12abc"), error: /isn't a valid integer/ },
    { what: "a line without a value", config: `${config}\nCONFIG_FOO=`, error: /no value/ },
  ])("$what is a LoadError", ({ config: c, error }) => {
    expect(() => kconfigData(kconfig(), { config: c, kernelVersion: 1 })).toThrow(error);
    expect(() => kconfigData(kconfig(), { config: c, kernelVersion: 1 })).toThrow(LoadError);
  });

  test("LINUX_KERNEL_VERSION needs the kernel version", () => {
    expect(() => kconfigData(kconfig(), { config })).toThrow(/failed to get kernel version/);
  });

  test("negative values for signed externs", () => {
    const d = kconfigData(kconfig(), { config: config.replace("CONFIG_HZ=250", "CONFIG_HZ=-5"), kernelVersion: 1 });
    expect(new DataView(d.buffer).getInt32(12, true)).toBe(-5);
  });
});
