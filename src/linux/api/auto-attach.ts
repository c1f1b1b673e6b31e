/**
 * The attach target a section name implies, like libbpf's auto-attach
 * (libbpf.c, attach_tp / attach_raw_tp / attach_trace / attach_lsm /
 * attach_kprobe / attach_ksyscall / attach_uprobe): SEC("tracepoint/syscalls/
 * sys_enter_openat") attaches to that tracepoint with no argument. Sections
 * that need something only the caller knows (xdp: an interface; cgroup: a
 * directory) have no default.
 */
import type { AttachTarget } from "../../api/types.js";
import { NotSupportedError } from "../../errors.js";

/** libbpf's arch syscall prefix on x86-64 (libbpf.c, arch_specific_syscall_pfx). */
const SYSCALL_PREFIX = "__x64_sys_";

const noDefault = (section: string, hint: string): NotSupportedError =>
  new NotSupportedError(`auto-attach of SEC("${section}")`, `give a target: ${hint}`);

/** "func+0x10" / "func+16" / "func" -> symbol and offset. */
function symbolAndOffset(s: string): { symbol: string; offset?: number } {
  const m = /^([^+]+)\+(0x[0-9a-fA-F]+|\d+)$/.exec(s);
  return m ? { symbol: m[1], offset: Number(m[2]) } : { symbol: s };
}

/** The default target of a program by its section name; NotSupportedError when it has none. */
export function defaultAttachTarget(section: string): AttachTarget {
  const slash = section.indexOf("/");
  const prefix = slash < 0 ? section : section.slice(0, slash);
  const rest = slash < 0 ? "" : section.slice(slash + 1);
  switch (prefix) {
    case "tracepoint":
    case "tp": {
      const i = rest.indexOf("/");
      if (i <= 0 || i === rest.length - 1) throw noDefault(section, `{ kind: "tracepoint", category, name }`);
      return { kind: "tracepoint", category: rest.slice(0, i), name: rest.slice(i + 1) };
    }
    case "raw_tracepoint":
    case "raw_tp":
    case "raw_tracepoint.w":
    case "raw_tp.w":
      if (!rest) throw noDefault(section, `{ kind: "raw_tracepoint", name }`);
      return { kind: "raw_tracepoint", name: rest };
    case "tp_btf":
      return { kind: "tp_btf", name: rest };
    case "fentry":
    case "fentry.s":
    case "fmod_ret":
    case "fmod_ret.s":
      // fmod_ret attaches like fentry: the target was fixed at load time.
      return { kind: "fentry", name: rest };
    case "fexit":
    case "fexit.s":
      return { kind: "fexit", name: rest };
    case "lsm":
    case "lsm.s":
      return { kind: "lsm", name: rest };
    case "kprobe":
    case "kretprobe": {
      if (!rest) throw noDefault(section, `{ kind: "${prefix}", symbol }`);
      const { symbol, offset } = symbolAndOffset(rest);
      return { kind: prefix, symbol, ...(offset !== undefined ? { offset } : {}) };
    }
    case "ksyscall":
    case "kretsyscall":
      if (!rest) throw noDefault(section, `{ kind: "kprobe", symbol }`);
      return { kind: prefix === "ksyscall" ? "kprobe" : "kretprobe", symbol: SYSCALL_PREFIX + rest };
    case "uprobe":
    case "uprobe.s":
    case "uretprobe":
    case "uretprobe.s": {
      // libbpf: u[ret]probe[.s]/binary:function[+offset], or binary:offset.
      const colon = rest.lastIndexOf(":");
      if (colon <= 0) throw noDefault(section, `{ kind: "uprobe", binary, symbol }`);
      const binary = rest.slice(0, colon);
      const where = rest.slice(colon + 1);
      const kind = prefix.startsWith("uretprobe") ? "uretprobe" : "uprobe";
      if (/^(0x[0-9a-fA-F]+|\d+)$/.test(where)) return { kind, binary, offset: Number(where) };
      const { symbol, offset } = symbolAndOffset(where);
      return { kind, binary, symbol, ...(offset !== undefined ? { offset } : {}) };
    }
    case "xdp":
    case "xdp.frags":
      throw noDefault(section, `{ kind: "xdp", ifindex }`);
    case "tc":
    case "tcx":
      throw noDefault(section, `{ kind: "tcx", ifindex, direction }`);
    case "cgroup":
    case "cgroup_skb":
    case "sockops":
      throw noDefault(section, `{ kind: "cgroup", path }`);
    default:
      throw new NotSupportedError(`auto-attach of SEC("${section}")`, "the linux backend has no attach path for this section");
  }
}
