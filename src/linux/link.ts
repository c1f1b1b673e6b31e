/**
 * An attachment of a program to a hook. Normally a bpf_link fd (BPF_LINK_CREATE,
 * BPF_RAW_TRACEPOINT_OPEN): closing the last reference detaches; pinning keeps it
 * past the process. Perf-event hooks (tracepoint, kprobe, uprobe) also own the
 * perf event fd. On kernels before 5.15 (no BPF_PERF_EVENT links) those fall back
 * to PERF_EVENT_IOC_SET_BPF: then there is no link fd, only the perf event.
 */
import { BpfCommandError, errnoName } from "../errors.js";
import { LinkInfo } from "./attr/info.js";
import { PERF_EVENT_IOC_DISABLE } from "./attr/perf-event.js";
import { addr, allIds, cStringAt, fdById, linkDetach, linkUpdate, objGet, objInfo } from "./bpf.js";
import { LinkType, attachTypeName, linkTypeName } from "./constants.js";
import { Fd } from "./fd.js";
import { pinFd } from "./map.js";
import type { LinuxProgram } from "./program.js";
import { sys } from "./sys.js";

/** What a link attaches to, as tsbpf names hooks. */
export type AttachKind =
  | "tracepoint" | "raw_tracepoint" | "tp_btf" | "kprobe" | "kretprobe" | "uprobe" | "uretprobe"
  | "fentry" | "fexit" | "fmod_ret" | "lsm" | "xdp" | "tcx" | "cgroup" | "perf_event" | "iter" | "other";

/** bpf_link_info, decoded: the common part and the type-specific fields bpftool shows. */
export interface LinkInfoData {
  readonly type: number;
  readonly typeName: string;
  readonly id: number;
  readonly progId: number;
  /** Type-specific fields with bpftool's JSON keys (tp_name, ifindex, attach_type, cgroup_id, …). */
  readonly details: Readonly<Record<string, string | number | bigint>>;
}

/** bpf_perf_event_type names (bpftool's perf_event_name). */
const PERF_EVENT_TYPE_NAMES = ["unspec", "uprobe", "uretprobe", "kprobe", "kretprobe", "tracepoint", "event"];

export function linkInfoByFd(fd: number): LinkInfoData {
  const info = LinkInfo.alloc(64);
  objInfo(fd, LinkInfo, info);
  const type = LinkInfo.num(info, "type");
  // Second pass for the types that return a name through a user buffer.
  const name = Buffer.alloc(4096);
  const namePtr: Partial<Record<number, [keyof typeof LinkInfo.fields & string, keyof typeof LinkInfo.fields & string]>> = {
    [LinkType.BPF_LINK_TYPE_RAW_TRACEPOINT]: ["raw_tracepoint_tp_name", "raw_tracepoint_tp_name_len"],
    [LinkType.BPF_LINK_TYPE_ITER]: ["iter_target_name", "iter_target_name_len"],
  };
  let perfType = 0;
  if (type === LinkType.BPF_LINK_TYPE_PERF_EVENT) {
    perfType = LinkInfo.num(info, "perf_event_type");
    const byPerf: Record<number, [keyof typeof LinkInfo.fields & string, keyof typeof LinkInfo.fields & string]> = {
      1: ["perf_event_uprobe_file_name", "perf_event_uprobe_name_len"],
      2: ["perf_event_uprobe_file_name", "perf_event_uprobe_name_len"],
      3: ["perf_event_kprobe_func_name", "perf_event_kprobe_name_len"],
      4: ["perf_event_kprobe_func_name", "perf_event_kprobe_name_len"],
      5: ["perf_event_tracepoint_tp_name", "perf_event_tracepoint_name_len"],
    };
    if (byPerf[perfType]) namePtr[type] = byPerf[perfType];
  }
  let text = "";
  const ptr = namePtr[type];
  if (ptr) {
    info.fill(0);
    LinkInfo.set(info, ptr[0], addr(name));
    LinkInfo.set(info, ptr[1], name.length);
    if (type === LinkType.BPF_LINK_TYPE_PERF_EVENT) LinkInfo.set(info, "perf_event_type", perfType);
    objInfo(fd, LinkInfo, info, [name]);
    text = cStringAt(name);
  }
  const d: Record<string, string | number | bigint> = {};
  switch (type) {
    case LinkType.BPF_LINK_TYPE_RAW_TRACEPOINT:
      d.tp_name = text;
      break;
    case LinkType.BPF_LINK_TYPE_TRACING:
      d.attach_type = attachTypeName(LinkInfo.num(info, "tracing_attach_type"));
      d.target_obj_id = LinkInfo.num(info, "tracing_target_obj_id");
      d.target_btf_id = LinkInfo.num(info, "tracing_target_btf_id");
      break;
    case LinkType.BPF_LINK_TYPE_CGROUP:
      d.cgroup_id = LinkInfo.u64(info, "cgroup_cgroup_id");
      d.attach_type = attachTypeName(LinkInfo.num(info, "cgroup_attach_type"));
      break;
    case LinkType.BPF_LINK_TYPE_ITER:
      d.target_name = text;
      break;
    case LinkType.BPF_LINK_TYPE_NETNS:
      d.netns_ino = LinkInfo.num(info, "netns_netns_ino");
      d.attach_type = attachTypeName(LinkInfo.num(info, "netns_attach_type"));
      break;
    case LinkType.BPF_LINK_TYPE_XDP:
      d.ifindex = LinkInfo.num(info, "xdp_ifindex");
      break;
    case LinkType.BPF_LINK_TYPE_TCX:
      d.ifindex = LinkInfo.num(info, "tcx_ifindex");
      d.attach_type = attachTypeName(LinkInfo.num(info, "tcx_attach_type"));
      break;
    case LinkType.BPF_LINK_TYPE_NETKIT:
      d.ifindex = LinkInfo.num(info, "netkit_ifindex");
      d.attach_type = attachTypeName(LinkInfo.num(info, "netkit_attach_type"));
      break;
    case LinkType.BPF_LINK_TYPE_STRUCT_OPS:
      d.map_id = LinkInfo.num(info, "struct_ops_map_id");
      break;
    case LinkType.BPF_LINK_TYPE_NETFILTER:
      d.pf = LinkInfo.num(info, "netfilter_pf");
      d.hooknum = LinkInfo.num(info, "netfilter_hooknum");
      d.prio = LinkInfo.num(info, "netfilter_priority");
      d.flags = LinkInfo.num(info, "netfilter_flags");
      break;
    case LinkType.BPF_LINK_TYPE_KPROBE_MULTI:
      d.func_cnt = LinkInfo.num(info, "kprobe_multi_count");
      d.missed = LinkInfo.u64(info, "kprobe_multi_missed");
      break;
    case LinkType.BPF_LINK_TYPE_UPROBE_MULTI:
      d.func_cnt = LinkInfo.num(info, "uprobe_multi_count");
      d.pid = LinkInfo.num(info, "uprobe_multi_pid");
      break;
    case LinkType.BPF_LINK_TYPE_PERF_EVENT:
      d.event_type = PERF_EVENT_TYPE_NAMES[perfType] ?? String(perfType);
      if (perfType === 1 || perfType === 2) {
        d.file = text;
        d.offset = LinkInfo.num(info, "perf_event_uprobe_offset");
      } else if (perfType === 3 || perfType === 4) {
        d.func = text;
        d.offset = LinkInfo.num(info, "perf_event_kprobe_offset");
        d.addr = LinkInfo.u64(info, "perf_event_kprobe_addr");
      } else if (perfType === 5) {
        d.tracepoint = text;
      } else if (perfType === 6) {
        d.event_config = LinkInfo.u64(info, "perf_event_event_config");
        d.event_type_id = LinkInfo.num(info, "perf_event_event_type");
      }
      break;
    default:
      break;
  }
  return { type, typeName: linkTypeName(type), id: LinkInfo.num(info, "id"), progId: LinkInfo.num(info, "prog_id"), details: d };
}

export class LinuxLink implements Disposable {
  /**
   * @param fd the bpf_link, or null for a legacy perf-event attachment
   * @param perfFd the perf event behind tracepoint/kprobe/uprobe attachments
   */
  constructor(
    readonly kind: AttachKind,
    readonly fd: Fd | null,
    readonly perfFd: Fd | null = null,
    /** The program, when this process attached it (kept referenced while the link lives). */
    readonly program: LinuxProgram | null = null,
  ) {}

  static fromPin(path: string): LinuxLink {
    return new LinuxLink("other", new Fd(objGet(path), `link ${path}`));
  }

  static fromId(id: number): LinuxLink {
    return new LinuxLink("other", new Fd(fdById("link", id), `link id ${id}`));
  }

  private linkFd(op: string): number {
    if (!this.fd) throw new BpfCommandError("EOPNOTSUPP", `${this.kind} attachment without a bpf_link (kernel < 5.15): ${op}`);
    return this.fd.value;
  }

  get id(): number {
    return this.fd ? this.info().id : 0;
  }

  info(): LinkInfoData {
    return linkInfoByFd(this.linkFd("info"));
  }

  /** BPF_OBJ_PIN: the attachment outlives this process until the pin is removed. */
  pin(path: string): void {
    pinFd(this.linkFd("pin"), path);
  }

  /** BPF_LINK_UPDATE: swap in another program (only if `old` is still attached, when given). */
  update(program: LinuxProgram, old?: LinuxProgram): void {
    linkUpdate(this.linkFd("update"), program.fd.value, old?.fd.value);
  }

  /**
   * BPF_LINK_DETACH: detach now, even though fds or pins to the link remain.
   * Only some link types implement it (cgroup, xdp, tcx, netns, netfilter,
   * struct_ops…); raw_tracepoint, tracing and perf_event links answer EOPNOTSUPP.
   */
  detach(): void {
    if (!this.fd) {
      this.disablePerf();
      return;
    }
    linkDetach(this.fd.value);
  }

  private disablePerf(): void {
    if (!this.perfFd || this.perfFd.closed) return;
    const r = sys().ioctl(this.perfFd.value, PERF_EVENT_IOC_DISABLE, 0);
    if (r < 0) throw new BpfCommandError(errnoName(-r), "PERF_EVENT_IOC_DISABLE");
  }

  /** Closes the link (detaching unless pinned), then the perf event. */
  close(): void {
    this.fd?.close();
    this.perfFd?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Ids of every bpf_link in the system. */
export function linkIds(): number[] {
  return [...allIds("link")];
}
