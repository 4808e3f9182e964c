/**
 * IPv6 header and extension headers: RFC 8200 §3 (header), §4 (extension headers: hop-by-hop
 * §4.3, routing §4.4, fragment §4.5, destination options §4.6), RFC 4302 §2 (AH length).
 */
import { u16, u32 } from './bytes.js';
import type { IPv6Layer } from './types.js';

export const IPV6_VERSION_CLASS_FLOW_OFFSET = 0;
export const IPV6_PAYLOAD_LENGTH_OFFSET = 4;
export const IPV6_NEXT_HEADER_OFFSET = 6;
export const IPV6_HOP_LIMIT_OFFSET = 7;
export const IPV6_SRC_OFFSET = 8;
export const IPV6_DST_OFFSET = 24;
export const IPV6_HEADER_LENGTH = 40;
export const IPV6_ADDRESS_LENGTH = 16;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_NONE = 59;
export const FRAGMENT_HEADER_LENGTH = 8;

/**
 * Decodes the IPv6 header at `offset` and walks the extension headers. Returns the offset
 * of the upper-layer header, or -1 when it cannot be reached (truncated, malformed, a
 * non-first fragment, or an unknown/“no next header”). `ip.upperProtocol` names what is at
 * the returned offset.
 */
export function decodeIPv6(d: Uint8Array, offset: number, end: number, ip: IPv6Layer): number {
  ip.present = true;
  ip.offset = offset;
  if (end - offset < 1) {
    ip.truncated = true;
    return -1;
  }
  ip.version = d[offset] >> 4;
  if (ip.version !== 6) {
    ip.malformed = `version ${ip.version} != 6`;
    return -1;
  }
  // The fields before the addresses are kept even when the addresses were cut off (tcpdump -v
  // prints them before its "[|ip6]").
  if (end - offset >= IPV6_SRC_OFFSET) {
    const vcf = u32(d, offset + IPV6_VERSION_CLASS_FLOW_OFFSET);
    ip.trafficClass = (vcf >>> 20) & 0xff;
    ip.flowLabel = vcf & 0xfffff;
    ip.payloadLength = u16(d, offset + IPV6_PAYLOAD_LENGTH_OFFSET);
    ip.nextHeader = d[offset + IPV6_NEXT_HEADER_OFFSET];
    ip.hopLimit = d[offset + IPV6_HOP_LIMIT_OFFSET];
  }
  if (end - offset < IPV6_HEADER_LENGTH) {
    ip.truncated = true;
    return -1;
  }
  ip.srcOffset = offset + IPV6_SRC_OFFSET;
  ip.dstOffset = offset + IPV6_DST_OFFSET;
  const payloadStart = offset + IPV6_HEADER_LENGTH;
  ip.payloadOffset = payloadStart;
  // A jumbogram (payload length 0 + hop-by-hop jumbo option, RFC 2675) is taken as "what was
  // captured"; a zero length without a hop-by-hop header really means no payload.
  // Linux BIG TCP drops the jumbo option too: a zero length with more than 64 KiB behind it.
  const jumbo = ip.payloadLength === 0 && (ip.nextHeader === IPPROTO_HOPOPTS || end - payloadStart > 0xffff);
  const sentEnd = jumbo ? end : payloadStart + ip.payloadLength;
  const capturedEnd = sentEnd < end ? sentEnd : end;
  if (capturedEnd < sentEnd) ip.truncated = true;
  let next = ip.nextHeader;
  let p = payloadStart;
  for (;;) {
    if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_AH) {
      if (capturedEnd - p < 2) {
        ip.truncated = true;
        ip.upperProtocol = next;
        return -1;
      }
      const len = next === IPPROTO_AH ? (d[p + 1] + 2) * 4 : (d[p + 1] + 1) * 8;
      ip.extensionHeaders.push(next);
      if (capturedEnd - p < len) {
        ip.truncated = true;
        ip.upperProtocol = next;
        return -1;
      }
      next = d[p];
      p += len;
      continue;
    }
    if (next === IPPROTO_FRAGMENT) {
      ip.extensionHeaders.push(next);
      if (capturedEnd - p < FRAGMENT_HEADER_LENGTH) {
        ip.truncated = true;
        ip.upperProtocol = next;
        return -1;
      }
      ip.fragment = true;
      const offFlags = u16(d, p + 2);
      ip.fragmentOffsetBytes = offFlags & 0xfff8;
      ip.moreFragments = (offFlags & 1) !== 0;
      ip.fragmentId = u32(d, p + 4);
      next = d[p];
      p += FRAGMENT_HEADER_LENGTH;
      if (ip.fragmentOffsetBytes !== 0) {
        ip.upperProtocol = next;
        ip.upperOffset = p;
        return -1;
      }
      continue;
    }
    break;
  }
  ip.upperProtocol = next;
  ip.upperOffset = p;
  ip.upperLength = sentEnd - p;
  ip.capturedUpperLength = capturedEnd - p;
  if (ip.upperLength < 0) {
    ip.malformed = 'extension headers longer than the payload length';
    return -1;
  }
  return p;
}
