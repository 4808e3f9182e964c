/**
 * Linux "cooked" capture header, version 1 (what `tcpdump -i any` wrote before libpcap 1.10).
 * LINKTYPE_LINUX_SLL (113): https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
 */
import { u16 } from './bytes.js';
import type { Direction, LinkLayer } from './types.js';

export const SLL_PACKET_TYPE_OFFSET = 0;
export const SLL_HATYPE_OFFSET = 2;
export const SLL_ADDR_LENGTH_OFFSET = 4;
export const SLL_ADDR_OFFSET = 6;
export const SLL_ADDR_FIELD_LENGTH = 8;
export const SLL_PROTOCOL_OFFSET = 14;
export const SLL_HEADER_LENGTH = 16;

/** SLL packet types (shared with SLL2). */
export const SLL_PACKET_TYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;

const DIRECTIONS: readonly Direction[] = ['in', 'broadcast', 'multicast', 'otherhost', 'out'];

export function directionOfPacketType(packetType: number): Direction {
  return packetType >= 0 && packetType < DIRECTIONS.length ? DIRECTIONS[packetType] : 'unknown';
}

/** Decodes the SLL header at `offset`; returns the payload offset, or -1 when truncated. */
export function decodeLinuxSll(d: Uint8Array, offset: number, end: number, link: LinkLayer): number {
  link.kind = 'linux_sll';
  link.offset = offset;
  if (end - offset < SLL_HEADER_LENGTH) {
    link.truncated = true;
    link.headerLength = end - offset;
    return -1;
  }
  link.packetType = u16(d, offset + SLL_PACKET_TYPE_OFFSET);
  link.direction = directionOfPacketType(link.packetType);
  link.hatype = u16(d, offset + SLL_HATYPE_OFFSET);
  const addrLength = u16(d, offset + SLL_ADDR_LENGTH_OFFSET);
  link.srcMacOffset = offset + SLL_ADDR_OFFSET;
  link.macLength = addrLength > SLL_ADDR_FIELD_LENGTH ? SLL_ADDR_FIELD_LENGTH : addrLength;
  link.etherType = u16(d, offset + SLL_PROTOCOL_OFFSET);
  link.headerLength = SLL_HEADER_LENGTH;
  return offset + SLL_HEADER_LENGTH;
}
