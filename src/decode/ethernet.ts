/**
 * Ethernet II / IEEE 802.3 header with 802.1Q and 802.1ad (QinQ) VLAN tags.
 * LINKTYPE_ETHERNET (1): https://www.tcpdump.org/linktypes/LINKTYPE_ETHERNET.html
 * IEEE 802.1Q-2018 §9 (tag format).
 */
import { u16 } from './bytes.js';
import type { LinkLayer } from './types.js';

export const ETH_DST_OFFSET = 0;
export const ETH_SRC_OFFSET = 6;
export const ETH_TYPE_OFFSET = 12;
export const ETH_HEADER_LENGTH = 14;
export const ETH_MAC_LENGTH = 6;
export const VLAN_TAG_LENGTH = 4;
/** EtherTypes that introduce a VLAN tag: 802.1Q, 802.1ad, and the old QinQ 0x9100. */
export const ETHERTYPE_8021Q = 0x8100;
export const ETHERTYPE_8021AD = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
/** Values ≤ 1500 in the type field are an 802.3 length, not an EtherType. */
export const ETH_MAX_LENGTH_FIELD = 1500;

/**
 * Decodes the Ethernet header at `offset`; returns the offset of the payload, or -1 when
 * the header is truncated (then `link.truncated` is set). `link.etherType` is the type of
 * the payload after VLAN tags (-1 for an 802.3 length frame).
 */
export function decodeEthernet(d: Uint8Array, offset: number, end: number, link: LinkLayer): number {
  link.kind = 'ethernet';
  link.offset = offset;
  if (end - offset < ETH_HEADER_LENGTH) {
    link.truncated = true;
    link.headerLength = end - offset;
    return -1;
  }
  link.dstMacOffset = offset + ETH_DST_OFFSET;
  link.srcMacOffset = offset + ETH_SRC_OFFSET;
  link.macLength = ETH_MAC_LENGTH;
  let p = offset + ETH_TYPE_OFFSET;
  let type = u16(d, p);
  p += 2;
  while (type === ETHERTYPE_8021Q || type === ETHERTYPE_8021AD || type === ETHERTYPE_QINQ_OLD) {
    if (end - p < VLAN_TAG_LENGTH) {
      link.truncated = true;
      link.headerLength = end - offset;
      return -1;
    }
    link.vlanIds.push(u16(d, p) & 0x0fff);
    type = u16(d, p + 2);
    p += VLAN_TAG_LENGTH;
  }
  link.headerLength = p - offset;
  link.etherType = type <= ETH_MAX_LENGTH_FIELD ? -1 : type;
  link.lengthField = type <= ETH_MAX_LENGTH_FIELD ? type : -1;
  return p;
}
