/** Builds the whole IP packet of probe `seq` for a flow, with the strategy of its protocol. */
import { wrapInIp, type ProbeFlow } from './flow.js';
import { buildIcmpProbe } from './icmp.js';
import { buildTcpProbe } from './tcp.js';
import { buildUdpProbe } from './udp.js';
import type { Sequence, TimeToLive } from './types.js';

export function buildProbePacket(flow: ProbeFlow, seq: Sequence, ttl: TimeToLive): Uint8Array {
  const transport = flow.protocol === 'udp' ? buildUdpProbe(flow, seq) : flow.protocol === 'tcp' ? buildTcpProbe(flow, seq) : buildIcmpProbe(flow, seq);
  return wrapInIp(flow, seq, ttl, transport);
}
