/**
 * UDP header: RFC 768.
 */
import { u16 } from './bytes.js';
import type { UdpLayer } from './types.js';

export const UDP_SRC_PORT_OFFSET = 0;
export const UDP_DST_PORT_OFFSET = 2;
export const UDP_LENGTH_OFFSET = 4;
export const UDP_CHECKSUM_OFFSET = 6;
export const UDP_HEADER_LENGTH = 8;

/**
 * Decodes the UDP header at `offset`; `ipPayloadLength` is what the IP header says follows.
 * Returns the payload offset or -1. The payload length comes from the UDP length field
 * (as tcpdump does), bounded by what IP carried.
 */
export function decodeUdp(d: Uint8Array, offset: number, end: number, ipPayloadLength: number, udp: UdpLayer): number {
  udp.present = true;
  udp.offset = offset;
  if (end - offset < UDP_HEADER_LENGTH) {
    udp.truncated = true;
    if (end - offset >= 4) {
      udp.srcPort = u16(d, offset + UDP_SRC_PORT_OFFSET);
      udp.dstPort = u16(d, offset + UDP_DST_PORT_OFFSET);
    }
    return -1;
  }
  udp.srcPort = u16(d, offset + UDP_SRC_PORT_OFFSET);
  udp.dstPort = u16(d, offset + UDP_DST_PORT_OFFSET);
  udp.length = u16(d, offset + UDP_LENGTH_OFFSET);
  udp.checksum = u16(d, offset + UDP_CHECKSUM_OFFSET);
  if (udp.length < UDP_HEADER_LENGTH) {
    udp.malformed = `bad length ${udp.length} < ${UDP_HEADER_LENGTH}`;
    return -1;
  }
  if (udp.length > ipPayloadLength) {
    udp.malformed = `bad length ${udp.length} > ${ipPayloadLength}`;
    return -1;
  }
  const payloadOffset = offset + UDP_HEADER_LENGTH;
  udp.payloadOffset = payloadOffset;
  udp.payloadLength = udp.length - UDP_HEADER_LENGTH;
  const captured = end - payloadOffset;
  udp.capturedPayloadLength = captured < udp.payloadLength ? captured : udp.payloadLength;
  if (udp.capturedPayloadLength < udp.payloadLength) udp.truncated = true;
  return payloadOffset;
}
