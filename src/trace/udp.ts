/**
 * UDP probes (RFC 768), Paris style: source and destination ports are constant for the
 * trace, so the 5-tuple every ECMP router hashes never changes. The probe's sequence is
 * written into the UDP checksum field, and two payload bytes are chosen so that the
 * checksum is still correct (a destination drops a bad checksum silently instead of
 * answering port unreachable). The checksum is quoted back in every ICMP error (the first
 * 8 bytes of the datagram), so IPv6 replies — which have no IP ID — are matched by it.
 */
import { onesSum, parisAdjustment, pseudoHeaderSum } from './checksum.js';
import { PROBE_PAYLOAD_BYTES } from './config.js';
import { fillPayload, IPPROTO_UDP, type ProbeFlow } from './flow.js';
import type { Sequence } from './types.js';

export const UDP_HEADER_BYTES = 8;
const UDP_LENGTH_OFFSET = 4;
const UDP_CHECKSUM_OFFSET = 6;

/** `payloadBytes` (≥ PROBE_PAYLOAD_BYTES) grows the datagram for path MTU probes. */
export function buildUdpProbe(flow: ProbeFlow, seq: Sequence, payloadBytes = PROBE_PAYLOAD_BYTES): Uint8Array {
  const length = UDP_HEADER_BYTES + Math.max(PROBE_PAYLOAD_BYTES, payloadBytes);
  const d = new Uint8Array(length);
  const v = new DataView(d.buffer);
  v.setUint16(0, flow.srcPort);
  v.setUint16(2, flow.dstPort);
  v.setUint16(UDP_LENGTH_OFFSET, length);
  v.setUint16(UDP_CHECKSUM_OFFSET, seq);
  fillPayload(d, UDP_HEADER_BYTES + 2);
  const sum = onesSum(d, 0, length, pseudoHeaderSum(flow.sourceBytes, flow.destinationBytes, length, IPPROTO_UDP));
  v.setUint16(UDP_HEADER_BYTES, parisAdjustment(sum));
  return d;
}
