/**
 * IPv4 header: RFC 791 §3.1 (format, options, fragmentation); RFC 6864 (IP ID).
 */
import { u16, u32 } from './bytes.js';
import type { IPv4Layer } from './types.js';

export const IPV4_VERSION_IHL_OFFSET = 0;
export const IPV4_TOS_OFFSET = 1;
export const IPV4_TOTAL_LENGTH_OFFSET = 2;
export const IPV4_ID_OFFSET = 4;
export const IPV4_FLAGS_FRAGMENT_OFFSET = 6;
export const IPV4_TTL_OFFSET = 8;
export const IPV4_PROTOCOL_OFFSET = 9;
export const IPV4_CHECKSUM_OFFSET = 10;
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;
export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * Decodes the IPv4 header at `offset` (bytes up to `end` are captured). Returns the offset
 * of the payload, or -1 when the header cannot be used (truncated/malformed: see the flags).
 * On success `ip.payloadLength` is what the header says was sent and
 * `ip.capturedPayloadLength` what of it is in the capture (Ethernet padding excluded).
 */
export function decodeIPv4(d: Uint8Array, offset: number, end: number, ip: IPv4Layer): number {
  ip.present = true;
  ip.offset = offset;
  const left = end - offset;
  if (left < 1) {
    ip.truncated = true;
    return -1;
  }
  const version = d[offset] >> 4;
  ip.version = version;
  ip.headerLength = (d[offset] & 0x0f) * 4;
  if (version !== 4) {
    ip.malformed = `version ${version} != 4`;
    return -1;
  }
  if (left < IPV4_MIN_HEADER_LENGTH) {
    ip.truncated = true;
    return -1;
  }
  ip.tos = d[offset + IPV4_TOS_OFFSET];
  ip.totalLength = u16(d, offset + IPV4_TOTAL_LENGTH_OFFSET);
  ip.id = u16(d, offset + IPV4_ID_OFFSET);
  const ff = u16(d, offset + IPV4_FLAGS_FRAGMENT_OFFSET);
  ip.dontFragment = (ff & IPV4_FLAG_DF) !== 0;
  ip.moreFragments = (ff & IPV4_FLAG_MF) !== 0;
  ip.reservedFlag = (ff & 0x8000) !== 0;
  ip.fragmentOffsetBytes = (ff & IPV4_FRAGMENT_OFFSET_MASK) * 8;
  ip.ttl = d[offset + IPV4_TTL_OFFSET];
  ip.protocol = d[offset + IPV4_PROTOCOL_OFFSET];
  ip.checksum = u16(d, offset + IPV4_CHECKSUM_OFFSET);
  ip.src = u32(d, offset + IPV4_SRC_OFFSET);
  ip.dst = u32(d, offset + IPV4_DST_OFFSET);
  ip.optionsOffset = offset + IPV4_MIN_HEADER_LENGTH;
  ip.optionsLength = ip.headerLength > IPV4_MIN_HEADER_LENGTH ? ip.headerLength - IPV4_MIN_HEADER_LENGTH : 0;
  if (ip.headerLength < IPV4_MIN_HEADER_LENGTH) {
    ip.malformed = `bad header length ${ip.headerLength}`;
    return -1;
  }
  // Total length 0: a TSO/GSO or BIG TCP packet captured before segmentation (Linux writes 0
  // when the length does not fit 16 bits); the payload is then what was captured.
  const presumedBig = ip.totalLength === 0;
  if (!presumedBig && ip.totalLength < ip.headerLength) {
    ip.malformed = `total length ${ip.totalLength} < header length ${ip.headerLength}`;
    return -1;
  }
  if (left < ip.headerLength) {
    ip.truncated = true;
    return -1;
  }
  const payloadOffset = offset + ip.headerLength;
  ip.payloadOffset = payloadOffset;
  const totalLength = presumedBig ? end - offset : ip.totalLength;
  ip.payloadLength = totalLength - ip.headerLength;
  const capturedEnd = Math.min(end, offset + totalLength);
  ip.capturedPayloadLength = capturedEnd - payloadOffset;
  if (ip.capturedPayloadLength < ip.payloadLength) ip.truncated = true;
  return payloadOffset;
}
