/**
 * XDP UDP drop: an XDP program on a veth interface drops UDP datagrams to a
 * chosen port before the network stack sees them. The example builds its own
 * little network — two namespaces joined by a veth pair, removed on exit —
 * sends datagrams from one side to two ports on the other, and shows what the
 * program counted and what the receiving sockets got.
 *
 *   npm run example:xdp-drop -- [PORT=9999] [COUNT=50]
 *
 * Needs root (bpf(), ip netns).
 */
import { fileURLToPath } from "node:url";
import { u16, u32, u64, u8 } from "../src/api/codecs.js";
import { linuxBackend } from "../src/linux/backend.js";
import { ifIndex, inNetns } from "../src/linux/netns.js";
import { objectSpecFromFile } from "../src/object/node.js";
import { createVethPair, receiveUdp, sendUdp } from "./netns.js";

const dropPort = Number(process.argv[2] ?? 9999);
const count = Number(process.argv[3] ?? 50);
const passPort = dropPort === 9998 ? 9997 : 9998;
if (!Number.isInteger(dropPort) || dropPort <= 0 || dropPort > 0xffff || !Number.isInteger(count) || count <= 0) {
  console.error("usage: xdp-udp-drop [PORT=9999] [COUNT=50]");
  process.exit(2);
}

const net = createVethPair("xdp");
const cleanup = (): void => net.remove();
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

try {
  const spec = await objectSpecFromFile(fileURLToPath(new URL("xdp_udp_drop.bpf.o", import.meta.url)));
  using coll = linuxBackend().load(spec);
  coll.map("drop_ports").typed(u16, u8).set(dropPort, 1);
  const stats = coll.map("stats").typed(u32, u64);
  const prog = coll.program("udp_drop");
  // Interface indexes belong to a namespace: look it up, and attach, from inside nsA.
  using link = inNetns(net.nsA, () => prog.attach({ kind: "xdp", ifindex: ifIndex(net.ifA) }));
  console.log(`XDP program '${prog.name}' on ${net.ifA} in netns ${net.nsA} (link ${link.id}), dropping UDP to port ${dropPort}`);

  const rx = receiveUdp(net.nsA, [dropPort, passPort], 1500 + count * 10);
  await rx.ready;
  const show = (): string => `dropped ${stats.get(0)}, UDP passed ${stats.get(1)}, other passed ${stats.get(2)}`;
  const ticker = setInterval(() => console.log(`  ${show()}`), 250);
  console.log(`sending ${count} datagrams from ${net.ipB} to ${net.ipA}:${dropPort} and ${count} to ${net.ipA}:${passPort}`);
  await Promise.all([sendUdp(net.nsB, net.ipA, dropPort, count), sendUdp(net.nsB, net.ipA, passPort, count)]);
  const received = await rx.counts;
  clearInterval(ticker);
  console.log(`\nprogram counted: ${show()}`);
  console.log(`sockets received: port ${dropPort}: ${received[dropPort]}, port ${passPort}: ${received[passPort]}`);
} finally {
  cleanup();
}
