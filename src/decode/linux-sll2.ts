/**
 * Linux "cooked" capture header, version 2: what `tcpdump -i any` writes (libpcap ≥ 1.10).
 * It carries the interface index and the packet type (direction).
 * LINKTYPE_LINUX_SLL2 (276): https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
 */
import { u16, u32 } from './bytes.js';
import { directionOfPacketType } from './linux-sll.js';
import type { LinkLayer } from './types.js';

export const SLL2_PROTOCOL_OFFSET = 0;
export const SLL2_RESERVED_OFFSET = 2;
export const SLL2_IFINDEX_OFFSET = 4;
export const SLL2_HATYPE_OFFSET = 8;
export const SLL2_PACKET_TYPE_OFFSET = 10;
export const SLL2_ADDR_LENGTH_OFFSET = 11;
export const SLL2_ADDR_OFFSET = 12;
export const SLL2_ADDR_FIELD_LENGTH = 8;
export const SLL2_HEADER_LENGTH = 20;

/** Decodes the SLL2 header at `offset`; returns the payload offset, or -1 when truncated. */
export function decodeLinuxSll2(d: Uint8Array, offset: number, end: number, link: LinkLayer): number {
  link.kind = 'linux_sll2';
  link.offset = offset;
  if (end - offset < SLL2_HEADER_LENGTH) {
    link.truncated = true;
    link.headerLength = end - offset;
    return -1;
  }
  link.etherType = u16(d, offset + SLL2_PROTOCOL_OFFSET);
  link.ifindex = u32(d, offset + SLL2_IFINDEX_OFFSET);
  link.hatype = u16(d, offset + SLL2_HATYPE_OFFSET);
  link.packetType = d[offset + SLL2_PACKET_TYPE_OFFSET];
  link.direction = directionOfPacketType(link.packetType);
  const addrLength = d[offset + SLL2_ADDR_LENGTH_OFFSET];
  link.srcMacOffset = offset + SLL2_ADDR_OFFSET;
  link.macLength = addrLength > SLL2_ADDR_FIELD_LENGTH ? SLL2_ADDR_FIELD_LENGTH : addrLength;
  link.headerLength = SLL2_HEADER_LENGTH;
  return offset + SLL2_HEADER_LENGTH;
}
