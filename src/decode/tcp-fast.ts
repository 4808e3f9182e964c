/**
 * The common case of a capture, decoded in one pass for flow analysis: an Ethernet (no VLAN
 * tag), LINUX_SLL or LINUX_SLL2 frame carrying an unfragmented IPv4 packet carrying a whole
 * TCP header. Only the fields flow reads are filled, straight from the bytes, with the same
 * values the full decoder gives (test/decode/tcp-fast.test.ts checks it on every capture of
 * the tests and on mutated ones). Anything else — another link type, a VLAN tag, IPv6, a
 * fragment, a header cut short, a malformed length — returns false: the caller then decodes
 * with the full decoder, which says what is wrong. Same offsets as the protocol files
 * (ethernet.ts, linux-sll.ts, linux-sll2.ts, ipv4.ts, tcp.ts; RFC 791, RFC 9293).
 */
import { LINKTYPE } from '../capture/types.js';
import { ETH_HEADER_LENGTH, ETH_TYPE_OFFSET } from './ethernet.js';
import { IPV4_DST_OFFSET, IPV4_FLAGS_FRAGMENT_OFFSET, IPV4_FLAG_MF, IPV4_FRAGMENT_OFFSET_MASK, IPV4_ID_OFFSET, IPV4_MIN_HEADER_LENGTH, IPV4_PROTOCOL_OFFSET, IPV4_SRC_OFFSET, IPV4_TOTAL_LENGTH_OFFSET } from './ipv4.js';
import { SLL_HEADER_LENGTH, SLL_PACKET_TYPE_OFFSET, SLL_PROTOCOL_OFFSET } from './linux-sll.js';
import { SLL2_HEADER_LENGTH, SLL2_IFINDEX_OFFSET, SLL2_PACKET_TYPE_OFFSET, SLL2_PROTOCOL_OFFSET } from './linux-sll2.js';
import { TCP_ACK_OFFSET, TCP_DATA_OFFSET_OFFSET, TCP_DST_PORT_OFFSET, TCP_FLAGS_OFFSET, TCP_MIN_HEADER_LENGTH, TCP_SEQ_OFFSET, TCP_WINDOW_OFFSET } from './tcp.js';

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;

/** What the fast path gives (reused object). Addresses as unsigned numbers, as the full decoder gives them. */
export interface TcpFastFields {
  /** 'linux_sll' or 'linux_sll2' link (an `-i any` capture). */
  anyLink: boolean;
  /** SLL2 interface index, -1 for other link types. */
  ifindex: number;
  /** Direction code from the SLL packet type (0 unknown, 1 in, 2 out, 3 broadcast, 4 multicast, 5 otherhost). */
  dirCode: number;
  ipId: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP flags with the AE bit (bit 8), as TcpLayer.flags. */
  flags: number;
  window: number;
  payloadOffset: number;
  payloadLength: number;
  capturedPayloadLength: number;
}

export function newTcpFastFields(): TcpFastFields {
  return { anyLink: false, ifindex: -1, dirCode: 0, ipId: 0, src: 0, dst: 0, srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, payloadOffset: 0, payloadLength: 0, capturedPayloadLength: 0 };
}

/** SLL packet type → direction code (linux-sll.ts directionOfPacketType: in, broadcast, multicast, otherhost, out). */
const DIR_OF_PACKET_TYPE = [1, 3, 4, 5, 2];

/**
 * Decodes the frame `d[offset, end)` of `linkType` when it is the common case (see above);
 * false otherwise (nothing in `out` is to be used).
 */
export function decodeTcpFast(linkType: number, d: Uint8Array, offset: number, end: number, out: TcpFastFields): boolean {
  let ip: number;
  if (linkType === LINKTYPE.ETHERNET) {
    if (end - offset < ETH_HEADER_LENGTH) return false;
    if (((d[offset + ETH_TYPE_OFFSET] << 8) | d[offset + ETH_TYPE_OFFSET + 1]) !== ETHERTYPE_IPV4) return false;
    out.anyLink = false;
    out.ifindex = -1;
    out.dirCode = 0;
    ip = offset + ETH_HEADER_LENGTH;
  } else if (linkType === LINKTYPE.LINUX_SLL2) {
    if (end - offset < SLL2_HEADER_LENGTH) return false;
    if (((d[offset + SLL2_PROTOCOL_OFFSET] << 8) | d[offset + SLL2_PROTOCOL_OFFSET + 1]) !== ETHERTYPE_IPV4) return false;
    out.anyLink = true;
    const i = offset + SLL2_IFINDEX_OFFSET;
    out.ifindex = ((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) >>> 0;
    out.dirCode = DIR_OF_PACKET_TYPE[d[offset + SLL2_PACKET_TYPE_OFFSET]] ?? 0;
    ip = offset + SLL2_HEADER_LENGTH;
  } else if (linkType === LINKTYPE.LINUX_SLL) {
    if (end - offset < SLL_HEADER_LENGTH) return false;
    if (((d[offset + SLL_PROTOCOL_OFFSET] << 8) | d[offset + SLL_PROTOCOL_OFFSET + 1]) !== ETHERTYPE_IPV4) return false;
    out.anyLink = true;
    out.ifindex = -1;
    out.dirCode = DIR_OF_PACKET_TYPE[(d[offset + SLL_PACKET_TYPE_OFFSET] << 8) | d[offset + SLL_PACKET_TYPE_OFFSET + 1]] ?? 0;
    ip = offset + SLL_HEADER_LENGTH;
  } else {
    return false;
  }
  // IPv4 (ipv4.ts): version 4, a whole header, a total length that covers it (0: a TSO packet, left to the full decoder).
  if (end - ip < IPV4_MIN_HEADER_LENGTH) return false;
  const vihl = d[ip];
  if (vihl >> 4 !== 4) return false;
  const ipHeader = (vihl & 0x0f) * 4;
  if (ipHeader < IPV4_MIN_HEADER_LENGTH || end - ip < ipHeader) return false;
  const total = (d[ip + IPV4_TOTAL_LENGTH_OFFSET] << 8) | d[ip + IPV4_TOTAL_LENGTH_OFFSET + 1];
  if (total < ipHeader) return false;
  const ff = (d[ip + IPV4_FLAGS_FRAGMENT_OFFSET] << 8) | d[ip + IPV4_FLAGS_FRAGMENT_OFFSET + 1];
  if ((ff & (IPV4_FLAG_MF | IPV4_FRAGMENT_OFFSET_MASK)) !== 0) return false;
  if (d[ip + IPV4_PROTOCOL_OFFSET] !== IPPROTO_TCP) return false;
  const tcp = ip + ipHeader;
  const segmentLength = total - ipHeader;
  const capturedEnd = end < ip + total ? end : ip + total;
  // TCP (tcp.ts): a whole header, its length within the segment.
  if (capturedEnd - tcp < TCP_MIN_HEADER_LENGTH) return false;
  const tcpHeader = (d[tcp + TCP_DATA_OFFSET_OFFSET] >> 4) * 4;
  if (tcpHeader < TCP_MIN_HEADER_LENGTH || segmentLength < tcpHeader || capturedEnd - tcp < tcpHeader) return false;
  out.ipId = (d[ip + IPV4_ID_OFFSET] << 8) | d[ip + IPV4_ID_OFFSET + 1];
  out.src = ((d[ip + IPV4_SRC_OFFSET] << 24) | (d[ip + IPV4_SRC_OFFSET + 1] << 16) | (d[ip + IPV4_SRC_OFFSET + 2] << 8) | d[ip + IPV4_SRC_OFFSET + 3]) >>> 0;
  out.dst = ((d[ip + IPV4_DST_OFFSET] << 24) | (d[ip + IPV4_DST_OFFSET + 1] << 16) | (d[ip + IPV4_DST_OFFSET + 2] << 8) | d[ip + IPV4_DST_OFFSET + 3]) >>> 0;
  out.srcPort = (d[tcp] << 8) | d[tcp + 1];
  out.dstPort = (d[tcp + TCP_DST_PORT_OFFSET] << 8) | d[tcp + TCP_DST_PORT_OFFSET + 1];
  out.seq = ((d[tcp + TCP_SEQ_OFFSET] << 24) | (d[tcp + TCP_SEQ_OFFSET + 1] << 16) | (d[tcp + TCP_SEQ_OFFSET + 2] << 8) | d[tcp + TCP_SEQ_OFFSET + 3]) >>> 0;
  out.ack = ((d[tcp + TCP_ACK_OFFSET] << 24) | (d[tcp + TCP_ACK_OFFSET + 1] << 16) | (d[tcp + TCP_ACK_OFFSET + 2] << 8) | d[tcp + TCP_ACK_OFFSET + 3]) >>> 0;
  out.flags = d[tcp + TCP_FLAGS_OFFSET] | ((d[tcp + TCP_DATA_OFFSET_OFFSET] & 0x01) << 8);
  out.window = (d[tcp + TCP_WINDOW_OFFSET] << 8) | d[tcp + TCP_WINDOW_OFFSET + 1];
  const payload = tcp + tcpHeader;
  out.payloadOffset = payload;
  out.payloadLength = segmentLength - tcpHeader;
  const captured = capturedEnd - payload;
  out.capturedPayloadLength = captured < out.payloadLength ? captured : out.payloadLength;
  return true;
}
