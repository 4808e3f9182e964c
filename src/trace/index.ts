/**
 * trace/: flowtrace's own traceroute — UDP, ICMP echo and TCP SYN probes (Paris style: one
 * constant flow per trace), IPv4 and IPv6, all TTLs in parallel, several rounds. The public
 * surface; everything else in this folder is internal.
 */
export { traceRoute, traceAddress } from './trace.js';
export type { TraceDeps } from './trace.js';
export type { Network, NetworkFactory, NetworkHandlers, OutgoingProbe, Clock } from './network.js';
export { realClock } from './network.js';
export type { ReceivedPacket } from './reply.js';
export { ReplyParser } from './reply.js';
export { makeFlow } from './flow.js';
export type { ProbeFlow } from './flow.js';
export { buildProbePacket } from './probe-packet.js';
export { openRawNetwork, PRIVILEGE_HINT } from './raw-network.js';
export { renderTrace } from './render.js';
export * as TRACE_DEFAULTS from './config.js';
export type {
  TraceResult, AddressTrace, Hop, HopResponder, TraceOptions, TraceStatus, TraceFailureSource, TraceProtocol, ReplyKind,
  ProbeReply, ProbeState, Probe, TimeToLive, Sequence, Port, TraceIdentifier, IpFamily, SkipReason,
  PathMtu, PathMtuStatus, MtuDrop,
} from './types.js';
export { timeToLive, sequence, port, traceIdentifier } from './types.js';
