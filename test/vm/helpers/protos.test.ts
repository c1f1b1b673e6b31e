/**
 * Helper prototypes against the kernel: every id of enum bpf_func_id has an
 * entry with the kernel's name, and the kernel's verdict on a call with all
 * argument registers zero names the same first argument (and the same kind of
 * argument) our prototype says a NULL scalar cannot satisfy.
 */
import { describe, expect, test } from "vitest";
import type { ArgSpec, HelperProto } from "../../../src/vm/helpers/proto.js";
import { BPF_FUNC_MAX_ID, helperIdByName, helperProtos } from "../../../src/vm/helpers/protos.js";
import { describeKernel } from "../../helpers/kernel.js";
import { exit, kernelCases, load, mov, okReturn, unloadableReason } from "../progtypes/kernel-cases.js";
import { btfUnavailableReason, vmlinuxEnum } from "../progtypes/kernel-load.js";

const reason = btfUnavailableReason();

describe.skipIf(reason !== null)(`helper ids match the kernel's enum bpf_func_id${reason ? ` [skipped: ${reason}]` : ""}`, () => {
  test("every BPF_FUNC_* of this kernel has a proto entry with the kernel's name, and no more", () => {
    const e = vmlinuxEnum("bpf_func_id");
    const kernel = [...e].filter(([n]) => n !== "BPF_FUNC_unspec" && !n.startsWith("__"));
    expect(kernel.map(([n, v]) => [v, helperProtos.get(v)?.name])).toEqual(kernel.map(([n, v]) => [v, n.slice("BPF_FUNC_".length)]));
    expect(helperProtos.size).toBe(kernel.length);
    expect(e.get("__BPF_FUNC_MAX_ID")).toBe(BPF_FUNC_MAX_ID);
  });
});

describe("helper proto table", () => {
  test("helperIdByName takes names with or without bpf_", () => {
    expect([helperIdByName("map_lookup_elem"), helperIdByName("bpf_loop"), helperIdByName("nope")]).toEqual([1, 181, undefined]);
  });
  test("callback helpers name their function argument and callback return range", () => {
    const cb = (id: number) => helperProtos.get(id)?.proto.callback;
    expect(cb(181)).toMatchObject({ funcArg: 2, retRange: [0, 1] });
    expect(cb(164)).toMatchObject({ funcArg: 2, retRange: [0, 1] });
    expect(cb(180)).toMatchObject({ funcArg: 3, retRange: [0, 1] });
    expect(cb(170)).toMatchObject({ funcArg: 2, retRange: [0, 0] });
    expect(cb(209)).toMatchObject({ funcArg: 2, retRange: [0, 1] });
  });
  test("release helpers name the released argument", () => {
    for (const id of [86, 132, 133, 199, 200]) expect(helperProtos.get(id)?.proto.releasesArg).toBe(1);
    expect(helperProtos.get(194)?.proto.releasesArg).toBe(2);
  });
});

/** Does a zero scalar satisfy this argument? (NULL for nullable pointers, 0 for sizes that may be 0.) */
function acceptsZero(a: ArgSpec): boolean {
  return a.type === "anything" || a.type === "const_size_or_zero" || a.type === "const_alloc_size_or_zero" || a.nullable === true;
}

/** The kernel's "expected=" list (compatible_reg_types in kernel/bpf/verifier.c) for an argument type. */
function expectedList(a: ArgSpec): string {
  switch (a.type) {
    case "const_map_ptr": return "map_ptr";
    case "ctx": return "ctx";
    case "map_key": case "map_value": case "mem": case "stack":
      return a.type === "map_value" ? "map_value" : "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";
    case "const_str": case "timer": return "map_value";
    case "spin_lock": case "kptr_xchg_dest": return "map_value, ptr_";
    case "sock_common": return "sock_common, sock, tcp_sock, xdp_sock";
    case "btf_id_sock_common": return "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_";
    case "btf_id": return "ptr_, trusted_ptr_, rcu_ptr_";
    case "ringbuf_mem": return "ringbuf_mem";
    case "percpu_btf_id": return "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_";
    case "dynptr": return "fp, dynptr_ptr";
    case "func": return "func";
    default: return `(${a.type})`;
  }
}

function expectedVerdict(p: HelperProto): string {
  if (p.allowed) return "not allowed";
  const i = p.args.findIndex((a) => !acceptsZero(a));
  if (i < 0) return "ok";
  return `R${i + 1} expected=${expectedList(p.args[i])}`;
}

function kernelVerdict(log: string, ok: boolean): string {
  if (ok) return "ok";
  if (log.includes("helper call is not allowed in probe")) return "not allowed";
  if (log.includes("helper call might sleep in a non-sleepable prog")) return "might sleep";
  const m = /^R(\d) type=scalar expected=(.*)$/m.exec(log);
  return m ? `R${m[1]} expected=${m[2]}` : log.trim().split("\n").pop() ?? "";
}

describeKernel("helper prototypes agree with the kernel verifier", () => {
  test("a call with all-zero arguments fails on the argument, and for the argument kind, our proto predicts", () => {
    const diffs: string[] = [];
    const seen = new Set<string>();
    for (const c of kernelCases()) {
      if (unloadableReason(c)) continue;
      for (let id = 1; id < BPF_FUNC_MAX_ID; id++) {
        const proto = c.info.helperProto?.(id, c.attachType);
        if (!proto) continue;
        const r = load(c, [mov(1, 0), mov(2, 0), mov(3, 0), mov(4, 0), mov(5, 0), { kind: "call", target: "helper", imm: id, off: 0 }, mov(0, okReturn(c)), exit]);
        if (!r.ok && /cannot use helper/.test(r.log)) continue; // availability is kernel-diff.test.ts's job
        const kernel = kernelVerdict(r.log, r.ok);
        if (kernel === "might sleep") {
          if (!proto.mightSleep) diffs.push(`${c.label} ${helperProtos.get(id)?.name}: kernel says it might sleep`);
          continue;
        }
        const ours = expectedVerdict(proto);
        const key = `${id} ${ours} ${kernel}`;
        if (ours !== kernel && !seen.has(key)) {
          seen.add(key);
          diffs.push(`${c.label} ${helperProtos.get(id)?.name}: ours ${ours}; kernel ${kernel}`);
        }
      }
    }
    expect(diffs).toEqual([]);
  });
});
