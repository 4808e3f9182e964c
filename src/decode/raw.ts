/**
 * Raw IP link types: the packet starts with the IP header, no link header.
 * LINKTYPE_RAW (101; DLT_RAW is 12 or 14 on some BSDs) — IPv4 or IPv6 by the version nibble:
 *   https://www.tcpdump.org/linktypes/LINKTYPE_RAW.html
 * LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) — the version is given by the link type:
 *   https://www.tcpdump.org/linktypes/LINKTYPE_IPV4.html, …/LINKTYPE_IPV6.html
 */
import type { LinkLayer } from './types.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const RAW_VERSION_OFFSET = 0;
/** DLT_RAW values some BSDs write instead of LINKTYPE_RAW. */
export const BSD_DLT_RAW = [12, 14] as const;

/** The EtherType a raw-IP packet stands for, from its version nibble (-1 when neither 4 nor 6). */
export function rawEtherType(d: Uint8Array, offset: number, end: number): number {
  if (end - offset < 1) return -1;
  const v = d[offset + RAW_VERSION_OFFSET] >> 4;
  return v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : -1;
}

/**
 * Sets up `link` for a raw packet at `offset`; `fixed` is the EtherType the link type implies
 * (LINKTYPE_IPV4/IPV6), or -1 to read the version nibble. Returns the network offset, or -1
 * when the packet is neither IPv4 nor IPv6.
 */
export function decodeRaw(d: Uint8Array, offset: number, end: number, link: LinkLayer, fixed: number): number {
  link.kind = 'raw';
  link.offset = offset;
  link.headerLength = 0;
  link.etherType = fixed >= 0 ? fixed : rawEtherType(d, offset, end);
  return link.etherType < 0 ? -1 : offset;
}
