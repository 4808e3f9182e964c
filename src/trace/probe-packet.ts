/** Builds the whole IP packet of probe `seq` for a flow, with the strategy of its protocol. */
import { PROBE_PAYLOAD_BYTES } from './config.js';
import { ipHeaderBytes, wrapInIp, type ProbeFlow } from './flow.js';
import { buildIcmpProbe, ICMP_ECHO_HEADER_BYTES } from './icmp.js';
import { buildTcpProbe, TCP_HEADER_BYTES } from './tcp.js';
import { buildUdpProbe, UDP_HEADER_BYTES } from './udp.js';
import type { Sequence, TimeToLive } from './types.js';

export function buildProbePacket(flow: ProbeFlow, seq: Sequence, ttl: TimeToLive): Uint8Array {
  const transport = flow.protocol === 'udp' ? buildUdpProbe(flow, seq) : flow.protocol === 'tcp' ? buildTcpProbe(flow, seq) : buildIcmpProbe(flow, seq);
  return wrapInIp(flow, seq, ttl, transport);
}

/** The size of a trace's own probes (IP header included): the smallest a path MTU probe can be. */
export function smallestProbeBytes(flow: ProbeFlow): number {
  const transport = flow.protocol === 'udp' ? UDP_HEADER_BYTES + PROBE_PAYLOAD_BYTES
    : flow.protocol === 'tcp' ? TCP_HEADER_BYTES : ICMP_ECHO_HEADER_BYTES + PROBE_PAYLOAD_BYTES;
  return ipHeaderBytes(flow.family) + transport;
}

/**
 * A path MTU probe: `totalBytes` long (IP header included, at least smallestProbeBytes),
 * IPv4 DF set. UDP and ICMP echo only: a SYN carrying data is answered with a RST whose
 * acknowledgement counts the data, and often dropped by firewalls.
 */
export function buildSizedProbePacket(flow: ProbeFlow, seq: Sequence, ttl: TimeToLive, totalBytes: number): Uint8Array {
  if (flow.protocol === 'tcp') throw new RangeError('path MTU probes are UDP or ICMP echo');
  const header = ipHeaderBytes(flow.family);
  const transport = flow.protocol === 'udp'
    ? buildUdpProbe(flow, seq, totalBytes - header - UDP_HEADER_BYTES)
    : buildIcmpProbe(flow, seq, totalBytes - header - ICMP_ECHO_HEADER_BYTES);
  return wrapInIp(flow, seq, ttl, transport, true);
}
