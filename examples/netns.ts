/**
 * Example plumbing: two network namespaces joined by a veth pair (created
 * here, removed on exit), and UDP senders/receivers run inside them with
 * `ip netns exec` and a few lines of Node. Touches nothing outside the two
 * namespaces it creates.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";

export interface VethPair {
  readonly nsA: string;
  readonly nsB: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly ipA: string;
  readonly ipB: string;
  remove(): void;
}

const run = (args: string[]): void => {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
};

/** nsA <-> nsB over veth ifA/ifB, addressed 10.201.N.1 and 10.201.N.2. */
export function createVethPair(tag: string): VethPair {
  const n = (process.pid % 250) + 1;
  const nsA = `tsbpf-${tag}-${process.pid}-a`;
  const nsB = `tsbpf-${tag}-${process.pid}-b`;
  const ifA = `xa${process.pid}`.slice(0, 15);
  const ifB = `xb${process.pid}`.slice(0, 15);
  const ipA = `10.201.${n}.1`;
  const ipB = `10.201.${n}.2`;
  const remove = (): void => {
    for (const ns of [nsA, nsB]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  };
  try {
    run(["netns", "add", nsA]);
    run(["netns", "add", nsB]);
    run(["-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB]);
    run(["-n", nsA, "link", "set", ifB, "netns", nsB]);
    run(["-n", nsA, "addr", "add", `${ipA}/24`, "dev", ifA]);
    run(["-n", nsB, "addr", "add", `${ipB}/24`, "dev", ifB]);
    for (const [ns, dev] of [[nsA, ifA], [nsB, ifB], [nsA, "lo"], [nsB, "lo"]]) run(["-n", ns, "link", "set", dev, "up"]);
  } catch (e) {
    remove();
    throw e;
  }
  return { nsA, nsB, ifA, ifB, ipA, ipB, remove };
}

/** Node, inside a namespace, running a script given as text (argv after it: process.argv[1..]). */
function nodeIn(ns: string, script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`node in netns ${ns} exited with ${code}`))));
  });
}

const SEND = `
const dgram = require("node:dgram");
const [host, port, count] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const s = dgram.createSocket("udp4");
let sent = 0;
const next = () => {
  if (sent === count) return s.close();
  s.send(Buffer.from("tsbpf " + sent), port, host, (err) => { if (err) throw err; sent++; setTimeout(next, 2); });
};
next();
`;

const RECV = `
const dgram = require("node:dgram");
const ports = process.argv[1].split(",").map(Number);
const counts = Object.fromEntries(ports.map((p) => [p, 0]));
const socks = ports.map((p) => {
  const s = dgram.createSocket("udp4");
  s.on("message", () => counts[p]++);
  s.bind(p);
  return s;
});
process.stdout.write("ready\\n");
setTimeout(() => { socks.forEach((s) => s.close()); process.stdout.write(JSON.stringify(counts) + "\\n"); }, Number(process.argv[2]));
`;

/** Sends `count` datagrams from inside `ns` to host:port, 2 ms apart. */
export async function sendUdp(ns: string, host: string, port: number, count: number): Promise<void> {
  await nodeIn(ns, SEND, [host, String(port), String(count)]);
}

/** Listens on `ports` inside `ns` for `ms`; resolves with datagrams received per port. */
export function receiveUdp(ns: string, ports: readonly number[], ms: number): { ready: Promise<void>; counts: Promise<Record<number, number>> } {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const counts = new Promise<Record<number, number>>((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", RECV, ports.join(","), String(ms)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready\n")) ready();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`receiver in netns ${ns} exited with ${code}`));
      const line = out.trim().split("\n").pop() ?? "{}";
      resolve(JSON.parse(line) as Record<number, number>);
    });
  });
  return { ready: readyP, counts };
}
