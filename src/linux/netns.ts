/**
 * Running code inside another network namespace: interface indexes (XDP, tcx)
 * are resolved in the network namespace of the calling thread, so attaching to
 * an interface that lives elsewhere means entering its namespace for the
 * duration of the attach (the link keeps its device after we return). setns()
 * moves only the calling thread, the main JS thread here; the body must be
 * synchronous so no other JS runs in the foreign namespace.
 */
import { closeSync, openSync } from "node:fs";
import { BpfCommandError, errnoName } from "../errors.js";
import { sys } from "./sys.js";

/** CLONE_NEWNET. include/uapi/linux/sched.h. */
const CLONE_NEWNET = 0x40000000;

/** Where `ip netns add NAME` puts its namespace files. iproute2, NETNS_RUN_DIR. */
export const NETNS_RUN_DIR = "/var/run/netns";

/** Runs fn inside the network namespace at `nsPath` (or named by `ip netns`), then returns. */
export function inNetns<T>(nsPathOrName: string, fn: () => T): T {
  const path = nsPathOrName.includes("/") ? nsPathOrName : `${NETNS_RUN_DIR}/${nsPathOrName}`;
  const s = sys();
  const self = openSync(`/proc/thread-self/ns/net`, "r");
  try {
    const target = openSync(path, "r");
    try {
      const r = s.setns(target, CLONE_NEWNET);
      if (r < 0) throw new BpfCommandError(errnoName(-r), `setns ${path}`);
    } finally {
      closeSync(target);
    }
    try {
      return fn();
    } finally {
      const back = s.setns(self, CLONE_NEWNET);
      // Staying in the wrong namespace would silently misdirect everything after.
      if (back < 0) throw new BpfCommandError(errnoName(-back), "setns back to the original network namespace");
    }
  } finally {
    closeSync(self);
  }
}

/** if_nametoindex in the calling thread's network namespace. */
export function ifIndex(name: string): number {
  const r = sys().ifNameToIndex(name);
  if (r < 0) throw new BpfCommandError(errnoName(-r), `if_nametoindex ${name}`);
  return r;
}
