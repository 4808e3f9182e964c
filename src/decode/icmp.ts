/**
 * ICMPv4 (RFC 792; fragmentation-needed MTU: RFC 1191 §4) and ICMPv6 (RFC 4443; neighbor
 * discovery types: RFC 4861). Error messages quote the original IP packet after an 8-byte
 * header: its offset/length are given so traceroute can decode it with the IP/UDP/TCP decoders.
 */
import { u16, u32 } from './bytes.js';
import type { IcmpLayer } from './types.js';

export const ICMP_TYPE_OFFSET = 0;
export const ICMP_CODE_OFFSET = 1;
export const ICMP_CHECKSUM_OFFSET = 2;
export const ICMP_ECHO_ID_OFFSET = 4;
export const ICMP_ECHO_SEQ_OFFSET = 6;
/** ICMPv4 unreachable/frag-needed: next-hop MTU in the low 16 bits of the second word. */
export const ICMP4_NEXT_HOP_MTU_OFFSET = 6;
/** ICMPv6 packet too big: 32-bit MTU. */
export const ICMP6_MTU_OFFSET = 4;
export const ICMP_HEADER_LENGTH = 8;
export const ICMP_MIN_LENGTH = 4;

export const ICMP4 = {
  ECHO_REPLY: 0,
  UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO: 8,
  TIME_EXCEEDED: 11,
  PARAM_PROBLEM: 12,
  UNREACH_NEEDFRAG: 4,
} as const;

export const ICMP6 = {
  UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAM_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

/**
 * Decodes an ICMP message at `offset`. `length` is the ICMP length as sent (from IP), `end`
 * the end of the captured bytes. Returns the offset after the 8-byte header, or -1.
 */
export function decodeIcmp(d: Uint8Array, offset: number, end: number, length: number, version: 4 | 6, icmp: IcmpLayer): number {
  icmp.present = true;
  icmp.version = version;
  icmp.offset = offset;
  icmp.length = length;
  const left = end - offset;
  if (left < 1) {
    icmp.truncated = true;
    return -1;
  }
  icmp.type = d[offset + ICMP_TYPE_OFFSET];
  if (left < ICMP_MIN_LENGTH) {
    if (left >= 2) icmp.code = d[offset + ICMP_CODE_OFFSET];
    icmp.truncated = true;
    return -1;
  }
  icmp.code = d[offset + ICMP_CODE_OFFSET];
  icmp.checksum = u16(d, offset + ICMP_CHECKSUM_OFFSET);
  if (left < ICMP_HEADER_LENGTH) {
    icmp.truncated = true;
    return -1;
  }
  const t = icmp.type;
  const isEcho = version === 4
    ? t === ICMP4.ECHO || t === ICMP4.ECHO_REPLY
    : t === ICMP6.ECHO_REQUEST || t === ICMP6.ECHO_REPLY;
  if (isEcho) {
    icmp.echoId = u16(d, offset + ICMP_ECHO_ID_OFFSET);
    icmp.echoSeq = u16(d, offset + ICMP_ECHO_SEQ_OFFSET);
  }
  const isError = version === 4
    ? t === ICMP4.UNREACH || t === ICMP4.TIME_EXCEEDED || t === ICMP4.PARAM_PROBLEM || t === ICMP4.SOURCE_QUENCH || t === ICMP4.REDIRECT
    : t === ICMP6.UNREACH || t === ICMP6.PACKET_TOO_BIG || t === ICMP6.TIME_EXCEEDED || t === ICMP6.PARAM_PROBLEM;
  if (version === 4 && t === ICMP4.UNREACH && icmp.code === ICMP4.UNREACH_NEEDFRAG) {
    icmp.mtu = u16(d, offset + ICMP4_NEXT_HOP_MTU_OFFSET);
  } else if (version === 6 && t === ICMP6.PACKET_TOO_BIG) {
    icmp.mtu = u32(d, offset + ICMP6_MTU_OFFSET);
  }
  const payloadOffset = offset + ICMP_HEADER_LENGTH;
  icmp.payloadOffset = payloadOffset;
  icmp.payloadLength = length - ICMP_HEADER_LENGTH;
  const captured = end - payloadOffset;
  icmp.capturedPayloadLength = captured < icmp.payloadLength ? captured : icmp.payloadLength;
  if (icmp.payloadLength < 0) {
    icmp.payloadLength = 0;
    icmp.capturedPayloadLength = 0;
    icmp.malformed = `length ${length} < ${ICMP_HEADER_LENGTH}`;
  }
  if (isError && icmp.capturedPayloadLength > 0) {
    icmp.quotedOffset = payloadOffset;
    icmp.quotedLength = icmp.capturedPayloadLength;
  }
  return payloadOffset;
}
