/**
 * The registry of a vm's hook points: the host defines them (tracepoints with
 * their record layout, raw tracepoints, kprobes, network devices with XDP and
 * TC points, custom extension points) and fires them; programs attach through
 * links. Names carry the kind: "tracepoint:syscalls/sys_enter_openat",
 * "raw_tracepoint:sys_enter", "kprobe:do_sys_openat2", "kretprobe:...",
 * "xdp:eth0", "tc:eth0:ingress"; a custom hook is known by its plain name.
 * forTarget() maps the public API's attach targets onto them.
 */
import type { AttachTarget } from "../../api/types.js";
import { BpfCommandError, NotSupportedError } from "../../errors.js";
import { type NetDevice, type NetDevices, netDevices } from "../progtypes/runtime/netdev.js";
import type { VmServices } from "../runtime/services.js";
import { CustomHook, type CustomHookOptions } from "./custom.js";
import type { Hook } from "./hook.js";
import { KprobeHook } from "./kprobe.js";
import { RawTracepointHook } from "./raw-tracepoint.js";
import { type TcDirection, TcHook } from "./tc.js";
import { type TracepointFormat, TracepointHook } from "./tracepoint.js";
import { XdpHook } from "./xdp.js";

export interface DeviceSpec {
  readonly name: string;
  /** Default: the lowest free index. */
  readonly ifindex?: number;
  /** Default 02:00:00:00:00:<ifindex> (locally administered). */
  readonly mac?: Uint8Array;
  /** Default 1. */
  readonly rxQueues?: number;
}

export class HookRegistry {
  private readonly hooks = new Map<string, Hook>();
  readonly devices: NetDevices;

  constructor(readonly services: VmServices) {
    this.devices = netDevices(services.space);
  }

  private add<H extends Hook>(hook: H): H {
    if (this.hooks.has(hook.name)) throw new BpfCommandError("EEXIST", `hook ${hook.name}`);
    this.hooks.set(hook.name, hook);
    return hook;
  }

  get(name: string): Hook | undefined {
    return this.hooks.get(name);
  }

  /** Every hook, by name. */
  list(): Hook[] {
    return [...this.hooks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes a hook, detaching its programs. */
  remove(name: string): boolean {
    const h = this.hooks.get(name);
    if (!h) return false;
    for (const l of h.attachments()) l.detach();
    return this.hooks.delete(name);
  }

  defineTracepoint(format: TracepointFormat): TracepointHook {
    return this.add(new TracepointHook(`tracepoint:${format.category}/${format.name}`, this.services, format));
  }

  defineRawTracepoint(name: string, nargs: number): RawTracepointHook {
    return this.add(new RawTracepointHook(`raw_tracepoint:${name}`, this.services, nargs));
  }

  /** A function probe; `funcIp` is the address bpf_get_func_ip reports. */
  defineKprobe(symbol: string, options: { readonly funcIp?: number; readonly isReturn?: boolean } = {}): KprobeHook {
    const prefix = options.isReturn ? "kretprobe" : "kprobe";
    return this.add(new KprobeHook(`${prefix}:${symbol}`, this.services, options.funcIp ?? 0, options.isReturn ?? false));
  }

  defineCustom(name: string, options: CustomHookOptions): CustomHook {
    if (name.includes(":")) throw new RangeError(`custom hook names have no ':' (${name})`);
    return this.add(new CustomHook(name, this.services, options));
  }

  /** A network device for XDP and TC hooks. */
  addDevice(spec: DeviceSpec): NetDevice {
    if (this.devices.all().some((d) => d.name === spec.name)) throw new BpfCommandError("EEXIST", `device ${spec.name}`);
    const ifindex = spec.ifindex ?? this.devices.nextIndex();
    return this.devices.add({
      ifindex,
      name: spec.name,
      mac: spec.mac ?? Uint8Array.from([2, 0, 0, 0, (ifindex >> 8) & 0xff, ifindex & 0xff]),
      rxQueues: spec.rxQueues ?? 1,
    });
  }

  private device(dev: NetDevice | number | string): NetDevice {
    const d = typeof dev === "number" ? this.devices.get(dev) : typeof dev === "string" ? this.devices.all().find((x) => x.name === dev) : dev;
    if (!d) throw new BpfCommandError("ENODEV", `no device ${typeof dev === "object" ? dev.name : dev}`);
    return d;
  }

  /** The XDP hook of a device (created on first use). */
  xdp(dev: NetDevice | number | string): XdpHook {
    const d = this.device(dev);
    const name = `xdp:${d.name}`;
    return (this.hooks.get(name) as XdpHook | undefined) ?? this.add(new XdpHook(name, this.services, d));
  }

  /** The TC hook of a device and direction (created on first use). */
  tc(dev: NetDevice | number | string, direction: TcDirection): TcHook {
    const d = this.device(dev);
    const name = `tc:${d.name}:${direction}`;
    return (this.hooks.get(name) as TcHook | undefined) ?? this.add(new TcHook(name, this.services, d, direction));
  }

  /**
   * The hook an API attach target names. ENOENT for an undefined tracepoint,
   * probe or hook (as perf_event_open / raw_tracepoint_open answer), ENODEV
   * for an unknown device, NotSupportedError for kinds the vm has no hooks for.
   */
  forTarget(target: AttachTarget): Hook {
    const need = (name: string): Hook => {
      const h = this.hooks.get(name);
      if (!h) throw new BpfCommandError("ENOENT", `no vm hook ${name}`);
      return h;
    };
    switch (target.kind) {
      case "tracepoint":
        return need(`tracepoint:${target.category}/${target.name}`);
      case "raw_tracepoint":
        return need(`raw_tracepoint:${target.name}`);
      case "kprobe":
      case "kretprobe":
        return need(`${target.kind}:${target.symbol}`);
      case "xdp":
        return this.xdp(target.ifindex);
      case "tcx":
        return this.tc(target.ifindex, target.direction);
      case "hook":
        return need(target.name);
      case "tp_btf":
      case "uprobe":
      case "uretprobe":
      case "fentry":
      case "fexit":
      case "lsm":
      case "cgroup":
        throw new NotSupportedError(`${target.kind} attach targets`, "the vm backend has no such hook points");
    }
  }
}
