/**
 * BSD loopback encapsulation: a 4-byte address family before the packet.
 * LINKTYPE_NULL (0), host byte order of the capturing machine — so both orders are accepted:
 *   https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html
 * LINKTYPE_LOOP (108), network byte order (OpenBSD):
 *   https://www.tcpdump.org/linktypes/LINKTYPE_LOOP.html
 */
import { u32, u32le } from './bytes.js';
import type { LinkLayer } from './types.js';

export const NULL_FAMILY_OFFSET = 0;
export const NULL_HEADER_LENGTH = 4;

/** AF_INET is 2 everywhere; AF_INET6 differs per OS (BSDs 24, FreeBSD 28, Darwin 30, Linux 10, Windows 23). */
export const AF_INET = 2;
export const AF_INET6_VALUES: readonly number[] = [10, 23, 24, 28, 30];

/**
 * Decodes the family at `offset`; returns the payload offset or -1 when truncated. Sets
 * `link.etherType` to 0x0800 / 0x86dd for IPv4 / IPv6 families, -1 otherwise, and
 * `link.family` to the family value in the right byte order.
 */
export function decodeNullLoop(d: Uint8Array, offset: number, end: number, link: LinkLayer, networkOrder: boolean): number {
  link.kind = 'null';
  link.offset = offset;
  if (end - offset < NULL_HEADER_LENGTH) {
    link.truncated = true;
    link.headerLength = end - offset;
    return -1;
  }
  let family: number;
  if (networkOrder) {
    family = u32(d, offset + NULL_FAMILY_OFFSET);
  } else {
    // Host order of an unknown host: a family never needs the upper 16 bits, so if they are
    // set the value was written in the other order (tcpdump's print-null.c does the same).
    family = u32le(d, offset + NULL_FAMILY_OFFSET);
    if ((family & 0xffff0000) !== 0) family = u32(d, offset + NULL_FAMILY_OFFSET);
  }
  link.family = family;
  link.etherType = family === AF_INET ? 0x0800 : AF_INET6_VALUES.includes(family) ? 0x86dd : -1;
  link.headerLength = NULL_HEADER_LENGTH;
  return offset + NULL_HEADER_LENGTH;
}
