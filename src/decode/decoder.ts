/**
 * The packet decoder: link layer → IPv4/IPv6 → TCP/UDP/ICMP → HTTP head.
 * Raw IP link types: LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229):
 * https://www.tcpdump.org/linktypes.html
 *
 * One decoder owns one DecodedPacket whose layer objects are allocated once and overwritten
 * by every `decode()` (gopacket's DecodingLayerParser idea). What `decode()` returns is valid
 * until the next call on the same decoder (or on the same `out`). Nothing on this path
 * allocates: even an HTTP head is kept as offsets, its strings made when first read.
 */
import { LINKTYPE } from '../capture/types.js';
import { decodeEthernet } from './ethernet.js';
import { parseHttpHead, httpHeadKind, newHttpHead, resetHttpHead } from './http.js';
import { decodeIcmp } from './icmp.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import { decodeLinuxSll } from './linux-sll.js';
import { decodeLinuxSll2 } from './linux-sll2.js';
import { decodeNullLoop } from './null-loop.js';
import { decodeRaw, rawEtherType, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './raw.js';
import { decodeTcp } from './tcp.js';
import type { DecodedPacket } from './types.js';
import { decodeUdp } from './udp.js';

export { ETHERTYPE_IPV4, ETHERTYPE_IPV6 };
export const ETHERTYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export interface DecodeOptions {
  /** Parse HTTP/1.x heads where a TCP payload starts one (default true). */
  http?: boolean;
  /** Walk the TCP options (MSS, window scale, SACK, timestamps; default true). Flow reads none of them. */
  tcpOptions?: boolean;
}

export interface PacketDecoder {
  /** Decodes one packet of `linkType`. Returns `out` or the decoder's own reused packet. */
  decode(linkType: number, data: Uint8Array, out?: DecodedPacket): DecodedPacket;
  /**
   * Decodes the packet `data[offset, end)` — e.g. a record inside the reader's buffer
   * (`record.buffer`, `record.offset`), with no view made for it. Every offset in the result
   * is then an index into `data`, as for `decode` (where the packet starts at 0).
   */
  decodeAt(linkType: number, data: Uint8Array, offset: number, end: number, out?: DecodedPacket): DecodedPacket;
  /**
   * Decodes an IP packet that starts at `offset` and ends at `end` in `data` — e.g. the
   * original packet quoted in an ICMP error (`icmp.quotedOffset`/`quotedLength`).
   */
  decodeIpAt(data: Uint8Array, offset: number, end: number, out?: DecodedPacket): DecodedPacket;
}

const EMPTY = new Uint8Array(0);

/** A fresh DecodedPacket with every layer allocated (reset state). */
export function newDecodedPacket(): DecodedPacket {
  const p: DecodedPacket = {
    data: EMPTY,
    link: {
      present: false, kind: 'other', linkType: -1, offset: 0, headerLength: 0, srcMacOffset: -1, dstMacOffset: -1,
      macLength: 0, etherType: -1, vlanIds: [], ifindex: -1, packetType: -1, direction: 'unknown', hatype: -1,
      lengthField: -1, family: -1, truncated: false, malformed: null,
    },
    ipVersion: 0,
    ipv4: {
      present: false, offset: 0, version: 0, headerLength: 0, tos: 0, totalLength: 0, id: 0, dontFragment: false,
      moreFragments: false, fragmentOffsetBytes: 0, reservedFlag: false, ttl: 0, protocol: -1, checksum: 0, src: 0, dst: 0,
      optionsOffset: 0, optionsLength: 0, payloadOffset: -1, payloadLength: 0, capturedPayloadLength: 0,
      truncated: false, malformed: null,
    },
    ipv6: {
      present: false, offset: 0, version: 0, trafficClass: 0, flowLabel: 0, payloadLength: 0, nextHeader: -1,
      upperProtocol: -1, hopLimit: 0, srcOffset: -1, dstOffset: -1, extensionHeaders: [], fragment: false,
      fragmentOffsetBytes: 0, moreFragments: false, fragmentId: 0, payloadOffset: -1, upperOffset: -1, upperLength: 0,
      capturedUpperLength: 0, truncated: false, malformed: null,
    },
    otherNetwork: -1,
    transport: 'none',
    tcp: {
      present: false, offset: 0, srcPort: 0, dstPort: 0, seq: 0, ack: 0, headerLength: 0, flags: 0, window: 0,
      checksum: 0, urgentPointer: 0, optionsOffset: 0, optionsLength: 0, mss: -1, windowScale: -1, sackPermitted: false,
      tsVal: 0, tsEcr: 0, hasTimestamps: false, sackBlocksOffset: -1, sackBlockCount: 0, optionsMalformed: false,
      payloadOffset: -1, payloadLength: 0, capturedPayloadLength: 0, truncated: false, malformed: null,
    },
    udp: {
      present: false, offset: 0, srcPort: 0, dstPort: 0, length: 0, checksum: 0, payloadOffset: -1, payloadLength: 0,
      capturedPayloadLength: 0, truncated: false, malformed: null,
    },
    icmp: {
      present: false, version: 4, offset: 0, type: -1, code: -1, checksum: 0, echoId: -1, echoSeq: -1, quotedOffset: -1,
      quotedLength: 0, mtu: -1, payloadOffset: -1, payloadLength: 0, capturedPayloadLength: 0, length: 0,
      truncated: false, malformed: null,
    },
    http: newHttpHead(),
    truncated: false,
    malformed: null,
  };
  return p;
}

/**
 * Puts the packet back to "nothing decoded". A layer that is not present already holds its
 * reset values (this function is the only way a layer becomes not present), so only the
 * layers the previous decode touched are reset.
 */
function reset(p: DecodedPacket, data: Uint8Array): void {
  p.data = data;
  const l = p.link;
  if (l.present) {
    l.present = false; l.kind = 'other'; l.linkType = -1; l.offset = 0; l.headerLength = 0; l.srcMacOffset = -1;
    l.dstMacOffset = -1; l.macLength = 0; l.etherType = -1; l.ifindex = -1; l.packetType = -1;
    l.direction = 'unknown'; l.hatype = -1; l.lengthField = -1; l.family = -1; l.truncated = false; l.malformed = null;
    if (l.vlanIds.length !== 0) l.vlanIds.length = 0;
  }
  p.ipVersion = 0;
  const v4 = p.ipv4;
  if (v4.present) {
    v4.present = false; v4.version = 0; v4.headerLength = 0; v4.tos = 0; v4.totalLength = 0; v4.id = 0; v4.ttl = 0;
    v4.protocol = -1; v4.checksum = 0; v4.src = 0; v4.dst = 0; v4.optionsOffset = 0; v4.optionsLength = 0;
    v4.fragmentOffsetBytes = 0; v4.moreFragments = false; v4.dontFragment = false; v4.reservedFlag = false;
    v4.payloadOffset = -1; v4.payloadLength = 0; v4.capturedPayloadLength = 0; v4.truncated = false; v4.malformed = null;
  }
  const v6 = p.ipv6;
  if (v6.present) {
    v6.present = false; v6.version = 0; v6.trafficClass = 0; v6.flowLabel = 0; v6.payloadLength = 0; v6.nextHeader = -1;
    v6.upperProtocol = -1; v6.hopLimit = 0; v6.srcOffset = -1; v6.dstOffset = -1; v6.fragment = false;
    v6.fragmentOffsetBytes = 0; v6.moreFragments = false; v6.fragmentId = 0; v6.payloadOffset = -1; v6.upperOffset = -1;
    v6.upperLength = 0; v6.capturedUpperLength = 0; v6.truncated = false; v6.malformed = null;
    if (v6.extensionHeaders.length !== 0) v6.extensionHeaders.length = 0;
  }
  p.otherNetwork = -1;
  p.transport = 'none';
  const t = p.tcp;
  if (t.present) {
    t.present = false; t.srcPort = 0; t.dstPort = 0; t.seq = 0; t.ack = 0; t.headerLength = 0; t.flags = 0; t.window = 0;
    t.checksum = 0; t.urgentPointer = 0; t.optionsOffset = 0; t.optionsLength = 0; t.mss = -1; t.windowScale = -1;
    t.sackPermitted = false; t.tsVal = 0; t.tsEcr = 0; t.hasTimestamps = false; t.sackBlocksOffset = -1; t.sackBlockCount = 0;
    t.optionsMalformed = false; t.payloadOffset = -1; t.payloadLength = 0; t.capturedPayloadLength = 0; t.truncated = false;
    t.malformed = null;
  }
  const u = p.udp;
  if (u.present) {
    u.present = false; u.srcPort = 0; u.dstPort = 0; u.length = 0; u.checksum = 0; u.payloadOffset = -1; u.payloadLength = 0;
    u.capturedPayloadLength = 0; u.truncated = false; u.malformed = null;
  }
  const i = p.icmp;
  if (i.present) {
    i.present = false; i.version = 4; i.type = -1; i.code = -1; i.checksum = 0; i.echoId = -1; i.echoSeq = -1;
    i.quotedOffset = -1; i.quotedLength = 0; i.mtu = -1; i.payloadOffset = -1; i.payloadLength = 0;
    i.capturedPayloadLength = 0; i.length = 0; i.truncated = false; i.malformed = null;
  }
  if (p.http.present) resetHttpHead(p.http);
  p.truncated = false;
  p.malformed = null;
}

/** Decodes the network layer (and what is above it) at `offset`; `etherType` says which. */
function decodeNetwork(p: DecodedPacket, etherType: number, offset: number, end: number, http: boolean, tcpOptions: boolean): void {
  const d = p.data;
  if (etherType === ETHERTYPE_IPV4) {
    p.ipVersion = 4;
    const v4 = p.ipv4;
    const next = decodeIPv4(d, offset, end, v4);
    if (v4.truncated) p.truncated = true;
    if (v4.malformed !== null) { p.malformed = v4.malformed; return; }
    if (next < 0) return;
    if (v4.fragmentOffsetBytes !== 0) { p.transport = 'other'; return; } // no transport header in a later fragment
    decodeTransport(p, v4.protocol, next, next + v4.capturedPayloadLength, v4.payloadLength, 4, http, tcpOptions);
  } else if (etherType === ETHERTYPE_IPV6) {
    p.ipVersion = 6;
    const v6 = p.ipv6;
    const next = decodeIPv6(d, offset, end, v6);
    if (v6.truncated) p.truncated = true;
    if (v6.malformed !== null) { p.malformed = v6.malformed; return; }
    if (next < 0) { if (v6.upperProtocol >= 0) p.transport = 'other'; return; }
    decodeTransport(p, v6.upperProtocol, next, next + v6.capturedUpperLength, v6.upperLength, 6, http, tcpOptions);
  } else {
    p.otherNetwork = etherType;
  }
}

function decodeTransport(p: DecodedPacket, protocol: number, offset: number, end: number, length: number, version: 4 | 6, http: boolean, tcpOptions: boolean): void {
  const d = p.data;
  if (protocol === IPPROTO_TCP) {
    p.transport = 'tcp';
    const t = p.tcp;
    const next = decodeTcp(d, offset, end, length, t, tcpOptions);
    if (t.truncated) p.truncated = true;
    if (t.malformed !== null && p.malformed === null) p.malformed = t.malformed;
    if (next >= 0 && http && t.capturedPayloadLength > 0 && httpHeadKind(d, next, t.capturedPayloadLength) !== null) {
      parseHttpHead(d, next, t.capturedPayloadLength, p.http);
    }
  } else if (protocol === IPPROTO_UDP) {
    p.transport = 'udp';
    decodeUdp(d, offset, end, length, p.udp);
    if (p.udp.truncated) p.truncated = true;
    if (p.udp.malformed !== null && p.malformed === null) p.malformed = p.udp.malformed;
  } else if ((protocol === IPPROTO_ICMP && version === 4) || (protocol === IPPROTO_ICMPV6 && version === 6)) {
    p.transport = 'icmp';
    decodeIcmp(d, offset, end, length, version, p.icmp);
    if (p.icmp.truncated) p.truncated = true;
    if (p.icmp.malformed !== null && p.malformed === null) p.malformed = p.icmp.malformed;
  } else {
    p.transport = 'other';
  }
}

/** A packet of `linkType` in data[offset, end). */
function decodeFrom(linkType: number, data: Uint8Array, offset: number, end: number, out: DecodedPacket, http: boolean, tcpOptions: boolean): DecodedPacket {
  reset(out, data);
  const link = out.link;
  link.present = true;
  link.linkType = linkType;
  let next: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET: next = decodeEthernet(data, offset, end, link); break;
    case LINKTYPE.LINUX_SLL: next = decodeLinuxSll(data, offset, end, link); break;
    case LINKTYPE.LINUX_SLL2: next = decodeLinuxSll2(data, offset, end, link); break;
    case LINKTYPE.NULL: next = decodeNullLoop(data, offset, end, link, false); break;
    case LINKTYPE.LOOP: next = decodeNullLoop(data, offset, end, link, true); break;
    case LINKTYPE.RAW:
    case 12: // DLT_RAW on some BSDs
    case 14:
      next = decodeRaw(data, offset, end, link, -1);
      if (next < 0) { out.malformed = end === offset ? null : 'raw packet is neither IPv4 nor IPv6'; out.truncated = end === offset; return out; }
      break;
    case LINKTYPE.IPV4: next = decodeRaw(data, offset, end, link, ETHERTYPE_IPV4); break;
    case LINKTYPE.IPV6: next = decodeRaw(data, offset, end, link, ETHERTYPE_IPV6); break;
    default:
      link.kind = 'other';
      return out;
  }
  if (next < 0) { out.truncated = true; return out; }
  decodeNetwork(out, link.etherType, next, end, http, tcpOptions);
  return out;
}

export function createDecoder(options: DecodeOptions = {}): PacketDecoder {
  const own = newDecodedPacket();
  const http = options.http !== false;
  const tcpOptions = options.tcpOptions !== false;
  return {
    decode(linkType: number, data: Uint8Array, out: DecodedPacket = own): DecodedPacket {
      return decodeFrom(linkType, data, 0, data.length, out, http, tcpOptions);
    },
    decodeAt(linkType: number, data: Uint8Array, offset: number, end: number, out: DecodedPacket = own): DecodedPacket {
      return decodeFrom(linkType, data, offset, end < data.length ? end : data.length, out, http, tcpOptions);
    },
    decodeIpAt(data: Uint8Array, offset: number, end: number, out: DecodedPacket = own): DecodedPacket {
      reset(out, data);
      const link = out.link;
      link.present = false;
      link.kind = 'raw';
      link.linkType = LINKTYPE.RAW;
      link.offset = offset;
      const stop = end < data.length ? end : data.length;
      link.etherType = rawEtherType(data, offset, stop);
      if (link.etherType < 0) { out.malformed = 'not an IPv4 or IPv6 packet'; return out; }
      decodeNetwork(out, link.etherType, offset, stop, http, tcpOptions);
      return out;
    },
  };
}
