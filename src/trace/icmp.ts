/**
 * ICMP echo probes (RFC 792, RFC 4443 §4.1). The identifier is constant for the trace and
 * the sequence identifies the probe. Some routers put the ICMP checksum into their flow
 * hash, so, like Paris traceroute, the checksum is kept constant (PARIS_ICMP_CHECKSUM) by
 * choosing two payload bytes. ICMPv6 checksums cover a pseudo header (RFC 4443 §2.3); the
 * kernel recomputes them on raw ICMPv6 sockets, which gives the same value.
 */
import { onesSum, parisAdjustment, pseudoHeaderSum } from './checksum.js';
import { PARIS_ICMP_CHECKSUM, PROBE_PAYLOAD_BYTES } from './config.js';
import { fillPayload, IPPROTO_ICMPV6, type ProbeFlow } from './flow.js';
import type { Sequence } from './types.js';

export const ICMP_ECHO_HEADER_BYTES = 8;
export const ICMPV4 = { ECHO_REPLY: 0, UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
export const ICMPV6 = { UNREACHABLE: 1, PACKET_TOO_BIG: 2, TIME_EXCEEDED: 3, ECHO_REQUEST: 128, ECHO_REPLY: 129 } as const;
const ICMP_CHECKSUM_OFFSET = 2;
const ICMP_ID_OFFSET = 4;
const ICMP_SEQ_OFFSET = 6;

/** `payloadBytes` (≥ PROBE_PAYLOAD_BYTES) grows the echo for path MTU probes. */
export function buildIcmpProbe(flow: ProbeFlow, seq: Sequence, payloadBytes = PROBE_PAYLOAD_BYTES): Uint8Array {
  const length = ICMP_ECHO_HEADER_BYTES + Math.max(PROBE_PAYLOAD_BYTES, payloadBytes);
  const d = new Uint8Array(length);
  const v = new DataView(d.buffer);
  d[0] = flow.family === 4 ? ICMPV4.ECHO_REQUEST : ICMPV6.ECHO_REQUEST;
  v.setUint16(ICMP_CHECKSUM_OFFSET, PARIS_ICMP_CHECKSUM);
  v.setUint16(ICMP_ID_OFFSET, flow.identifier);
  v.setUint16(ICMP_SEQ_OFFSET, seq);
  fillPayload(d, ICMP_ECHO_HEADER_BYTES + 2);
  const base = flow.family === 6 ? pseudoHeaderSum(flow.sourceBytes, flow.destinationBytes, length, IPPROTO_ICMPV6) : 0;
  v.setUint16(ICMP_ECHO_HEADER_BYTES, parisAdjustment(onesSum(d, 0, length, base)));
  return d;
}
