/** Test packets: deterministic bytes with chosen EtherType and IP headers. */

/** n bytes of a recognisable pattern (the destination MAC is then multicast: 01:08:...). */
export function pattern(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

/** An Ethernet frame of n bytes with the given EtherType. */
export function ethFrame(proto: number, n: number): Uint8Array {
  const p = pattern(n);
  p[12] = proto >> 8;
  p[13] = proto & 0xff;
  return p;
}

/** An IPv4 frame: version 4, IHL 5, addresses 10.11.12.13 -> 14.15.16.17, protocol `proto`. */
export function ipv4Frame(n: number, proto = 17): Uint8Array {
  const p = ethFrame(0x0800, n);
  p[14] = 0x45;
  p[23] = proto;
  for (let i = 0; i < 8; i++) p[26 + i] = 10 + i;
  return p;
}

/** An IPv6 frame with next header `proto`. */
export function ipv6Frame(n: number, proto = 17): Uint8Array {
  const p = ethFrame(0x86dd, n);
  p[14] = 0x60;
  p[20] = proto;
  return p;
}

/** A frame with an 802.1Q tag (TCI `tci`) in front of IPv4. */
export function vlanFrame(n: number, tci: number): Uint8Array {
  const p = ipv4Frame(n);
  p[12] = 0x81;
  p[13] = 0x00;
  p[14] = tci >> 8;
  p[15] = tci & 0xff;
  p[16] = 0x08;
  p[17] = 0x00;
  p[18] = 0x45;
  return p;
}

/** A struct xdp_md for ctx_in. */
export function xdpMd(f: { data?: number; dataEnd?: number; dataMeta?: number; ingress?: number; rxq?: number; egress?: number }): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, f.data ?? 0, true);
  dv.setUint32(4, f.dataEnd ?? 0, true);
  dv.setUint32(8, f.dataMeta ?? 0, true);
  dv.setUint32(12, f.ingress ?? 0, true);
  dv.setUint32(16, f.rxq ?? 0, true);
  dv.setUint32(20, f.egress ?? 0, true);
  return b;
}

/** A struct __sk_buff for ctx_in with some fields set (by byte offset, u32 values). */
export function skbCtx(fields: Readonly<Record<number, number>> = {}): Uint8Array {
  const b = new Uint8Array(192);
  const dv = new DataView(b.buffer);
  for (const [off, v] of Object.entries(fields)) dv.setUint32(Number(off), v >>> 0, true);
  return b;
}
