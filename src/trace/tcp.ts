/**
 * TCP SYN probes to the service port (RFC 9293 §3.1). Ports are constant for the trace;
 * the probe's sequence is the TCP sequence number (quoted in ICMP errors: bytes 4–7 of the
 * segment) and comes back in the destination's SYN-ACK or RST as ack − 1. Load balancers
 * and firewalls that drop UDP and ICMP usually pass SYNs to the port they serve.
 *
 * The SYN is sent from a raw socket, so no local socket owns the source port: the kernel
 * answers the destination's SYN-ACK with a RST. That is fine (and what tcptraceroute does):
 * the handshake is never completed, the server sees a half-open connection reset at once.
 */
import { finishChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import { TCP_PROBE_WINDOW } from './config.js';
import { IPPROTO_TCP, type ProbeFlow } from './flow.js';
import type { Sequence } from './types.js';

export const TCP_HEADER_BYTES = 20;
const TCP_SEQ_OFFSET = 4;
const TCP_DATA_OFFSET_OFFSET = 12;
const TCP_FLAGS_OFFSET = 13;
const TCP_WINDOW_OFFSET = 14;
const TCP_CHECKSUM_OFFSET = 16;
const TCP_SYN = 0x02;

/** The TCP sequence number carrying probe `seq`. */
export function tcpSequenceOf(seq: Sequence): number {
  return seq;
}

export function buildTcpProbe(flow: ProbeFlow, seq: Sequence): Uint8Array {
  const d = new Uint8Array(TCP_HEADER_BYTES);
  const v = new DataView(d.buffer);
  v.setUint16(0, flow.srcPort);
  v.setUint16(2, flow.dstPort);
  v.setUint32(TCP_SEQ_OFFSET, tcpSequenceOf(seq));
  d[TCP_DATA_OFFSET_OFFSET] = (TCP_HEADER_BYTES / 4) << 4;
  d[TCP_FLAGS_OFFSET] = TCP_SYN;
  v.setUint16(TCP_WINDOW_OFFSET, TCP_PROBE_WINDOW);
  const sum = onesSum(d, 0, d.length, pseudoHeaderSum(flow.sourceBytes, flow.destinationBytes, d.length, IPPROTO_TCP));
  v.setUint16(TCP_CHECKSUM_OFFSET, finishChecksum(sum));
  return d;
}
