/**
 * What the running kernel says about itself for .kconfig externs
 * (libbpf.c, bpf_object__resolve_externs / bpf_object__read_kconfig_file):
 * the build configuration from /boot/config-$(uname -r), else /proc/config.gz;
 * LINUX_KERNEL_VERSION from the release string; the feature externs libbpf
 * answers by probing.
 */
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { LoadError } from "../../errors.js";
import { kconfigData } from "../../object/kconfig.js";
import type { KconfigSpec } from "../../object/types.js";
import { ProgType } from "../constants.js";
import { kernelVersionCode, probeHelper } from "../features.js";

/** bpf_get_attach_cookie. include/uapi/linux/bpf.h, enum bpf_func_id. */
const BPF_FUNC_get_attach_cookie = 174;

let configText: string | null | undefined;

/** The kernel's .config text, or null when neither file is readable. */
export function kernelConfig(): string | null {
  if (configText !== undefined) return configText;
  const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  for (const path of [`/boot/config-${release}`, "/proc/config.gz"]) {
    if (!existsSync(path)) continue;
    try {
      const raw = readFileSync(path);
      // libbpf reads both through gzopen, which passes plain text through.
      const gz = raw[0] === 0x1f && raw[1] === 0x8b;
      return (configText = (gz ? gunzipSync(raw) : raw).toString("utf8"));
    } catch {
      // unreadable: try the next one
    }
  }
  return (configText = null);
}

/** libbpf's feature externs (bpf_helpers.h / libbpf.c, kcfg "LINUX_HAS_*"). */
function features(names: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const n of names) {
    if (n === "LINUX_HAS_BPF_COOKIE") {
      out[n] = probeHelper(ProgType.BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_attach_cookie);
    } else if (n === "LINUX_HAS_SYSCALL_WRAPPER") {
      // Syscalls enter through __<arch>_sys_* wrappers since 4.17 (x86-64: __x64_sys_).
      out[n] = /\s__x64_sys_bpf$/m.test(readFileSync("/proc/kallsyms", "utf8"));
    }
  }
  return out;
}

/** The .kconfig map's value for this kernel. LoadError names what is missing. */
export function kconfigValue(spec: KconfigSpec, byteOrder: "le" | "be"): Uint8Array {
  const names = spec.externs.map((e) => e.name);
  const needConfig = names.some((n) => n.startsWith("CONFIG_"));
  const config = needConfig ? kernelConfig() : null;
  try {
    return kconfigData(spec, {
      config: config ?? "",
      kernelVersion: kernelVersionCode(),
      features: features(names),
      byteOrder,
    });
  } catch (e) {
    if (needConfig && config === null) {
      throw new LoadError("resolve .kconfig externs: no kernel config (/boot/config-$(uname -r) or /proc/config.gz)", { cause: e });
    }
    throw new LoadError(`resolve .kconfig externs: ${(e as Error).message}`, { cause: e });
  }
}
