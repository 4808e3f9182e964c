/**
 * Writing a packet read from tcpdump text as the bytes a capture would hold, so that it goes
 * through the same decoders and the same flow analysis as a pcap's packets. Headers:
 *   LINUX_SLL2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html), 20 bytes: protocol,
 *     reserved, interface index, ARPHRD type, packet type, address length, address (8);
 *   Ethernet II (IEEE 802.3 §3.2.6), 14 bytes; RAW (LINKTYPE_RAW): none;
 *   IPv4 (RFC 791 §3.1) with its header checksum (RFC 1071), IPv6 (RFC 8200 §3);
 *   TCP (RFC 9293 §3.1) with the options tcpdump names (RFC 9293 §3.2: MSS, NOP, EOL;
 *   RFC 7323: window scale, timestamps; RFC 2018: SACK-permitted) and its checksum.
 * The output goes into a buffer the caller reuses: no allocation per packet.
 */

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL2 = 276;

const SLL2_HEADER_BYTES = 20;
const ETHERNET_HEADER_BYTES = 14;
const IPV4_HEADER_BYTES = 20;
const IPV6_HEADER_BYTES = 40;
const TCP_HEADER_BYTES = 20;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
const IPPROTO_TCP = 6;
/** Linux packet types (if_packet.h): what tcpdump -i any prints as In, B, M, P, Out. */
export const PACKET_TYPE: Readonly<Record<string, number>> = { in: 0, broadcast: 1, multicast: 2, otherhost: 3, out: 4 };

/** IPv4 or IPv6 text → bytes (4 or 16); null when it is neither. */
export function addressBytes(text: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1, 5).map(Number);
    return b.every((x) => x <= 255) ? Uint8Array.from(b) : null;
  }
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // An IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
    const v4tail = addressBytes(text.slice(lastColon + 1));
    if (v4tail === null || v4tail.length !== 4) return null;
    return addressBytes(`${text.slice(0, lastColon + 1)}${((v4tail[0]! << 8) | v4tail[1]!).toString(16)}:${((v4tail[2]! << 8) | v4tail[3]!).toString(16)}`);
  }
  const head = text;
  const parts = head.split('::');
  if (parts.length > 2) return null;
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(parts[0]!);
  const right = parts.length === 2 ? groups(parts[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (parts.length === 1 && fill !== 0)) return null;
  const all = [...left, ...Array<number>(fill).fill(0), ...right];
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  return out;
}

function macBytes(text: string | null, out: Uint8Array, at: number): void {
  if (text === null) { out.fill(0, at, at + 6); return; }
  const parts = text.split(':');
  for (let i = 0; i < 6; i++) out[at + i] = parseInt(parts[i] ?? '0', 16) || 0;
}

/** The TCP options tcpdump printed (`mss 8961,sackOK,TS val 1 ecr 0,nop,wscale 10`) as bytes; unknown ones are left out. */
export function encodeTcpOptions(text: string | null, out: Uint8Array, at: number): number {
  if (text === null || text.trim() === '') return 0;
  let p = at;
  for (const raw of text.split(',')) {
    const o = raw.trim();
    let m: RegExpExecArray | null;
    if (o === 'nop') out[p++] = 1;
    else if (o === 'eol') out[p++] = 0;
    else if (o === 'sackOK') { out[p++] = 4; out[p++] = 2; }
    else if ((m = /^mss (\d+)$/.exec(o))) { out[p++] = 2; out[p++] = 4; p = u16(out, p, Number(m[1])); }
    else if ((m = /^wscale (\d+)$/.exec(o))) { out[p++] = 3; out[p++] = 3; out[p++] = Number(m[1]) & 0xff; }
    else if ((m = /^TS val (\d+) ecr (\d+)$/.exec(o))) { out[p++] = 8; out[p++] = 10; p = u32(out, p, Number(m[1])); p = u32(out, p, Number(m[2])); }
    // SACK blocks (relative numbers), MD5, MPTCP, TFO…: not reproduced.
  }
  while ((p - at) % 4 !== 0) out[p++] = 0; // EOL padding to a 32-bit boundary
  return p - at;
}

function u16(out: Uint8Array, p: number, v: number): number {
  out[p] = (v >>> 8) & 0xff; out[p + 1] = v & 0xff;
  return p + 2;
}

function u32(out: Uint8Array, p: number, v: number): number {
  out[p] = (v >>> 24) & 0xff; out[p + 1] = (v >>> 16) & 0xff; out[p + 2] = (v >>> 8) & 0xff; out[p + 3] = v & 0xff;
  return p + 4;
}

/** RFC 1071 one's-complement sum of out[from, to), added to `sum`. */
function onesSum(out: Uint8Array, from: number, to: number, sum: number): number {
  let s = sum;
  for (let i = from; i + 1 < to; i += 2) s += (out[i]! << 8) | out[i + 1]!;
  if ((to - from) % 2 === 1) s += out[to - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export interface LinkFields {
  linkType: number;
  ifindex: number;
  direction: string | null;
  loopback: boolean;
  srcMac: string | null;
  dstMac: string | null;
}

export interface TcpPacketFields {
  src: Uint8Array;
  dst: Uint8Array;
  tos: number;
  ttl: number;
  ipId: number;
  dontFragment: boolean;
  flowLabel: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: string | null;
  /** The checksum as printed (-v), written as it was (offloaded ones are "incorrect"); null: computed. */
  checksum: number | null;
}

/**
 * Writes link header + IP + TCP + `payload[0, capturedPayload)` into `out` from 0, for a
 * segment of `payloadLength` payload bytes of which the first `capturedPayload` are known
 * (the rest is left out, as a snaplen cuts a packet: the IP and TCP lengths say the whole).
 * Returns the bytes written (captured length) — the packet's whole length is that plus
 * `payloadLength - capturedPayload`. `out` must hold it (sized by packetBytesFor).
 */
export function encodeTcpPacket(link: LinkFields, t: TcpPacketFields, payload: Uint8Array, payloadLength: number, capturedPayload: number, out: Uint8Array): number {
  const v6 = t.src.length === 16;
  let p = 0;
  if (link.linkType === LINKTYPE_LINUX_SLL2) {
    p = u16(out, p, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    p = u16(out, p, 0);
    p = u32(out, p, link.ifindex);
    p = u16(out, p, link.loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
    out[p++] = PACKET_TYPE[link.direction ?? 'in'] ?? 0;
    out[p++] = 6;
    macBytes(link.srcMac, out, p);
    out[p + 6] = 0; out[p + 7] = 0;
    p += 8;
  } else if (link.linkType === LINKTYPE_ETHERNET) {
    macBytes(link.dstMac, out, p);
    macBytes(link.srcMac, out, p + 6);
    p = u16(out, p + 12, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
  }
  const ipStart = p;
  const optionsStart = ipStart + (v6 ? IPV6_HEADER_BYTES : IPV4_HEADER_BYTES) + TCP_HEADER_BYTES;
  const optionBytes = encodeTcpOptions(t.options, out, optionsStart);
  const tcpLength = TCP_HEADER_BYTES + optionBytes + payloadLength;
  if (v6) {
    p = u32(out, p, (6 << 28) | ((t.tos & 0xff) << 20) | (t.flowLabel & 0xfffff));
    p = u16(out, p, tcpLength);
    out[p++] = IPPROTO_TCP;
    out[p++] = t.ttl;
    out.set(t.src, p); p += 16;
    out.set(t.dst, p); p += 16;
  } else {
    out[p++] = 0x45;
    out[p++] = t.tos & 0xff;
    p = u16(out, p, IPV4_HEADER_BYTES + tcpLength);
    p = u16(out, p, t.ipId & 0xffff);
    p = u16(out, p, t.dontFragment ? 0x4000 : 0);
    out[p++] = t.ttl;
    out[p++] = IPPROTO_TCP;
    p = u16(out, p, 0);
    out.set(t.src, p); p += 4;
    out.set(t.dst, p); p += 4;
    const sum = onesSum(out, ipStart, p, 0);
    u16(out, ipStart + 10, ~sum & 0xffff);
  }
  const tcpStart = p;
  p = u16(out, p, t.srcPort);
  p = u16(out, p, t.dstPort);
  p = u32(out, p, t.seq);
  p = u32(out, p, t.ack);
  out[p++] = ((TCP_HEADER_BYTES + optionBytes) / 4) << 4 | ((t.flags >> 8) & 0x01);
  out[p++] = t.flags & 0xff;
  p = u16(out, p, t.window & 0xffff);
  p = u16(out, p, 0); // checksum, below
  p = u16(out, p, t.urgent & 0xffff);
  p += optionBytes;
  out.set(payload.subarray(0, capturedPayload), p);
  p += capturedPayload;
  // Pseudo header (RFC 9293 §3.1; RFC 8200 §8.1) + segment (over the known bytes only: a cut
  // packet's checksum cannot be checked, as with a snaplen).
  let sum = onesSum(t.src, 0, t.src.length, 0);
  sum = onesSum(t.dst, 0, t.dst.length, sum);
  sum += IPPROTO_TCP + tcpLength;
  sum = onesSum(out, tcpStart, p, sum);
  u16(out, tcpStart + 16, t.checksum ?? (~sum & 0xffff || 0xffff));
  return p;
}

/** Bytes a packet with this payload needs at most (link + IPv6 + TCP with 40 bytes of options). */
export function packetBytesFor(payloadLength: number): number {
  return Math.max(SLL2_HEADER_BYTES, ETHERNET_HEADER_BYTES) + IPV6_HEADER_BYTES + TCP_HEADER_BYTES + 40 + payloadLength;
}

/** Writes only the link header before an IP packet given whole (from a -x/-X hex dump); returns its length. */
export function encodeLinkHeader(link: LinkFields, ipVersion: 4 | 6, out: Uint8Array): number {
  if (link.linkType === LINKTYPE_LINUX_SLL2) {
    let p = u16(out, 0, ipVersion === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    p = u16(out, p, 0);
    p = u32(out, p, link.ifindex);
    p = u16(out, p, link.loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
    out[p++] = PACKET_TYPE[link.direction ?? 'in'] ?? 0;
    out[p++] = 6;
    macBytes(link.srcMac, out, p);
    out[p + 6] = 0; out[p + 7] = 0;
    return SLL2_HEADER_BYTES;
  }
  if (link.linkType === LINKTYPE_ETHERNET) {
    macBytes(link.dstMac, out, 0);
    macBytes(link.srcMac, out, 6);
    u16(out, 12, ipVersion === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    return ETHERNET_HEADER_BYTES;
  }
  return 0;
}
