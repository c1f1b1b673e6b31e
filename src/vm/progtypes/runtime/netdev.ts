/**
 * The vm's network devices: what test runs and hooks resolve an ifindex to.
 * There is no network stack; a device is a name, an index, a MAC address and
 * a number of RX queues. Every vm starts with the loopback device (ifindex 1,
 * all-zero MAC, one RX queue), as every network namespace does; hooks
 * (src/vm/hooks) add the devices a host defines.
 */
import type { AddressSpace } from "../../memory.js";

export interface NetDevice {
  readonly ifindex: number;
  readonly name: string;
  /** dev->dev_addr, 6 bytes. */
  readonly mac: Uint8Array;
  /** dev->broadcast: ff:ff:ff:ff:ff:ff for Ethernet (the default), all zero for loopback. */
  readonly broadcast?: Uint8Array;
  /** dev->real_num_rx_queues. */
  readonly rxQueues: number;
}

/** LOOPBACK_IFINDEX, include/net/flow.h. */
export const LOOPBACK_IFINDEX = 1;

export class NetDevices {
  private readonly byIndex = new Map<number, NetDevice>();

  constructor() {
    // loopback_setup() leaves dev->broadcast zeroed.
    this.add({ ifindex: LOOPBACK_IFINDEX, name: "lo", mac: new Uint8Array(6), broadcast: new Uint8Array(6), rxQueues: 1 });
  }

  get(ifindex: number): NetDevice | undefined {
    return this.byIndex.get(ifindex);
  }

  get loopback(): NetDevice {
    return this.byIndex.get(LOOPBACK_IFINDEX)!;
  }

  /** Adds a device; throws when the index is taken. */
  add(dev: NetDevice): NetDevice {
    if (!Number.isInteger(dev.ifindex) || dev.ifindex <= 0) throw new RangeError(`bad ifindex ${dev.ifindex}`);
    if (this.byIndex.has(dev.ifindex)) throw new RangeError(`ifindex ${dev.ifindex} is taken by ${this.byIndex.get(dev.ifindex)!.name}`);
    if (dev.mac.length !== 6) throw new RangeError("a MAC address has 6 bytes");
    this.byIndex.set(dev.ifindex, dev);
    return dev;
  }

  remove(ifindex: number): boolean {
    if (ifindex === LOOPBACK_IFINDEX) return false;
    return this.byIndex.delete(ifindex);
  }

  /** The lowest free ifindex above the loopback's. */
  nextIndex(): number {
    let i = LOOPBACK_IFINDEX + 1;
    while (this.byIndex.has(i)) i++;
    return i;
  }

  all(): NetDevice[] {
    return [...this.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  }
}

const registries = new WeakMap<AddressSpace, NetDevices>();

/** The devices of the vm that owns `space` (one address space per runtime). */
export function netDevices(space: AddressSpace): NetDevices {
  let d = registries.get(space);
  if (!d) registries.set(space, (d = new NetDevices()));
  return d;
}
