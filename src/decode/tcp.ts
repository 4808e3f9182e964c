/**
 * TCP header and options: RFC 9293 §3.1 (header, EOL/NOP/MSS), RFC 7323 (window scale,
 * timestamps), RFC 2018 (SACK), RFC 7413 (TCP Fast Open, kind 34 and experimental 254/0xF989),
 * RFC 8684 (MPTCP, kind 30: kept raw), RFC 9768 (AE flag bit).
 */
import { u16, u32 } from './bytes.js';
import type { TcpLayer } from './types.js';

export const TCP_SRC_PORT_OFFSET = 0;
export const TCP_DST_PORT_OFFSET = 2;
export const TCP_SEQ_OFFSET = 4;
export const TCP_ACK_OFFSET = 8;
export const TCP_DATA_OFFSET_OFFSET = 12;
export const TCP_FLAGS_OFFSET = 13;
export const TCP_WINDOW_OFFSET = 14;
export const TCP_CHECKSUM_OFFSET = 16;
export const TCP_URGENT_OFFSET = 18;
export const TCP_MIN_HEADER_LENGTH = 20;

export const TCPOPT = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  ECHO: 6,
  ECHOREPLY: 7,
  TIMESTAMP: 8,
  CC: 11,
  CCNEW: 12,
  CCECHO: 13,
  SIGNATURE: 19,
  SCPS: 20,
  UTO: 28,
  TCPAO: 29,
  MPTCP: 30,
  FASTOPEN: 34,
  EXPERIMENT2: 254,
} as const;

/**
 * Decodes the TCP header at `offset`. `segmentLength` is the TCP length the IP header gives
 * (header + payload, as sent), `end` the end of the captured bytes. Returns the payload
 * offset, or -1 when the header is not usable.
 */
export function decodeTcp(d: Uint8Array, offset: number, end: number, segmentLength: number, tcp: TcpLayer, options = true): number {
  tcp.present = true;
  tcp.offset = offset;
  const left = end - offset;
  if (left < 4) {
    tcp.truncated = true;
    return -1;
  }
  tcp.srcPort = u16(d, offset + TCP_SRC_PORT_OFFSET);
  tcp.dstPort = u16(d, offset + TCP_DST_PORT_OFFSET);
  if (left < TCP_MIN_HEADER_LENGTH) {
    tcp.truncated = true;
    return -1;
  }
  tcp.seq = u32(d, offset + TCP_SEQ_OFFSET);
  tcp.ack = u32(d, offset + TCP_ACK_OFFSET);
  tcp.headerLength = (d[offset + TCP_DATA_OFFSET_OFFSET] >> 4) * 4;
  tcp.flags = d[offset + TCP_FLAGS_OFFSET] | ((d[offset + TCP_DATA_OFFSET_OFFSET] & 0x01) << 8);
  tcp.window = u16(d, offset + TCP_WINDOW_OFFSET);
  tcp.checksum = u16(d, offset + TCP_CHECKSUM_OFFSET);
  tcp.urgentPointer = u16(d, offset + TCP_URGENT_OFFSET);
  if (tcp.headerLength < TCP_MIN_HEADER_LENGTH) {
    tcp.malformed = `bad header length ${tcp.headerLength}`;
    return -1;
  }
  if (segmentLength < tcp.headerLength) {
    tcp.malformed = `header length ${tcp.headerLength} > segment length ${segmentLength}`;
    return -1;
  }
  tcp.optionsOffset = offset + TCP_MIN_HEADER_LENGTH;
  tcp.optionsLength = tcp.headerLength - TCP_MIN_HEADER_LENGTH;
  if (left < tcp.headerLength) {
    tcp.truncated = true;
    tcp.optionsLength = left - TCP_MIN_HEADER_LENGTH;
    if (options) decodeTcpOptions(d, tcp.optionsOffset, tcp.optionsOffset + tcp.optionsLength, tcp);
    return -1;
  }
  // `options` false: the region is known (optionsOffset/Length) but not walked (flow reads no option).
  if (options && tcp.optionsLength > 0) decodeTcpOptions(d, tcp.optionsOffset, tcp.optionsOffset + tcp.optionsLength, tcp);
  const payloadOffset = offset + tcp.headerLength;
  tcp.payloadOffset = payloadOffset;
  tcp.payloadLength = segmentLength - tcp.headerLength;
  const captured = end - payloadOffset;
  tcp.capturedPayloadLength = captured < tcp.payloadLength ? captured : tcp.payloadLength;
  if (tcp.capturedPayloadLength < tcp.payloadLength) tcp.truncated = true;
  return payloadOffset;
}

/** Picks the common options out of the options region; a bad length stops the walk (flag, no throw). */
function decodeTcpOptions(d: Uint8Array, p: number, end: number, tcp: TcpLayer): void {
  while (p < end) {
    const kind = d[p];
    if (kind === TCPOPT.EOL) return;
    if (kind === TCPOPT.NOP) {
      p++;
      continue;
    }
    if (end - p < 2) {
      tcp.optionsMalformed = true;
      return;
    }
    const len = d[p + 1];
    if (len < 2 || len > end - p) {
      tcp.optionsMalformed = true;
      return;
    }
    switch (kind) {
      case TCPOPT.MSS:
        if (len === 4) tcp.mss = u16(d, p + 2);
        break;
      case TCPOPT.WSCALE:
        if (len === 3) tcp.windowScale = d[p + 2];
        break;
      case TCPOPT.SACK_PERMITTED:
        if (len === 2) tcp.sackPermitted = true;
        break;
      case TCPOPT.SACK:
        if ((len - 2) % 8 === 0) {
          tcp.sackBlocksOffset = p + 2;
          tcp.sackBlockCount = (len - 2) / 8;
        }
        break;
      case TCPOPT.TIMESTAMP:
        if (len === 10) {
          tcp.hasTimestamps = true;
          tcp.tsVal = u32(d, p + 2);
          tcp.tsEcr = u32(d, p + 6);
        }
        break;
      default:
        break; // kept raw in the options region (TFO, MPTCP, unknown)
    }
    p += len;
  }
}
