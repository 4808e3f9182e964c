/**
 * The constant flow of one trace (Paris traceroute): every probe of a trace has the same
 * addresses, protocol and ports (or ICMP id), so routers that balance by a hash of those
 * (ECMP) send all probes the same way and the hops are not scrambled. What identifies a
 * probe is carried in fields no router hashes: the IPv4 ID, the UDP checksum, the ICMP
 * sequence, the TCP sequence number (see udp.ts, icmp.ts, tcp.ts).
 *
 * IP headers: RFC 791 §3.1 (IPv4), RFC 8200 §3 (IPv6).
 */
import { onesSum, finishChecksum } from './checksum.js';
import { parseAddress } from './address.js';
import type { IpFamily, Port, Sequence, TimeToLive, TraceIdentifier, TraceProtocol } from './types.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
const IPV4_ID_OFFSET = 4;
const IPV4_FLAGS_OFFSET = 6;
/** Don't Fragment, in the flags/fragment-offset word (RFC 791 §3.1). */
const IPV4_DONT_FRAGMENT = 0x4000;
const IPV4_TTL_OFFSET = 8;
const IPV4_PROTOCOL_OFFSET = 9;
const IPV4_CHECKSUM_OFFSET = 10;
const IPV4_SRC_OFFSET = 12;
const IPV4_DST_OFFSET = 16;
const IPV6_PAYLOAD_LENGTH_OFFSET = 4;
const IPV6_NEXT_HEADER_OFFSET = 6;
const IPV6_HOP_LIMIT_OFFSET = 7;
const IPV6_SRC_OFFSET = 8;
const IPV6_DST_OFFSET = 24;

export interface ProbeFlow {
  family: IpFamily;
  protocol: TraceProtocol;
  source: string;
  destination: string;
  sourceBytes: Uint8Array;
  destinationBytes: Uint8Array;
  /** UDP/TCP: constant for the trace. ICMP: unused (0). */
  srcPort: Port;
  dstPort: Port;
  /** ICMP echo identifier, constant for the trace. */
  identifier: TraceIdentifier;
}

export function makeFlow(f: Omit<ProbeFlow, 'sourceBytes' | 'destinationBytes'>): ProbeFlow {
  return { ...f, sourceBytes: parseAddress(f.source), destinationBytes: parseAddress(f.destination) };
}

export function ipProtocolOf(protocol: TraceProtocol, family: IpFamily): number {
  if (protocol === 'udp') return IPPROTO_UDP;
  if (protocol === 'tcp') return IPPROTO_TCP;
  return family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

/**
 * Wraps a transport segment into a full IP packet. IPv4: the ID is the probe's sequence
 * (matched in the quote of an ICMP error even when a middlebox rewrote ports or the UDP
 * checksum), DF clear like traceroute unless `dontFragment` (path MTU probes, RFC 1191).
 * IPv6: flow label 0 (constant, so ECMP hashing on it stays put); the real network sends the
 * payload with IPV6_UNICAST_HOPS instead of this header (routers never fragment IPv6).
 */
export function wrapInIp(flow: ProbeFlow, seq: Sequence, ttl: TimeToLive, transport: Uint8Array, dontFragment = false): Uint8Array {
  const proto = ipProtocolOf(flow.protocol, flow.family);
  if (flow.family === 4) {
    const p = new Uint8Array(IPV4_HEADER_BYTES + transport.length);
    const v = new DataView(p.buffer);
    p[0] = 0x45;
    v.setUint16(2, p.length);
    v.setUint16(IPV4_ID_OFFSET, seq);
    if (dontFragment) v.setUint16(IPV4_FLAGS_OFFSET, IPV4_DONT_FRAGMENT);
    p[IPV4_TTL_OFFSET] = ttl;
    p[IPV4_PROTOCOL_OFFSET] = proto;
    p.set(flow.sourceBytes, IPV4_SRC_OFFSET);
    p.set(flow.destinationBytes, IPV4_DST_OFFSET);
    v.setUint16(IPV4_CHECKSUM_OFFSET, finishChecksum(onesSum(p, 0, IPV4_HEADER_BYTES)));
    p.set(transport, IPV4_HEADER_BYTES);
    return p;
  }
  const p = new Uint8Array(IPV6_HEADER_BYTES + transport.length);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(IPV6_PAYLOAD_LENGTH_OFFSET, transport.length);
  p[IPV6_NEXT_HEADER_OFFSET] = proto;
  p[IPV6_HOP_LIMIT_OFFSET] = ttl;
  p.set(flow.sourceBytes, IPV6_SRC_OFFSET);
  p.set(flow.destinationBytes, IPV6_DST_OFFSET);
  p.set(transport, IPV6_HEADER_BYTES);
  return p;
}

/** The fixed payload filler after the 2 Paris adjustment bytes: recognisable in captures. */
export const PAYLOAD_FILLER = new TextEncoder().encode('flowtrace!');

export function ipHeaderBytes(family: IpFamily): number {
  return family === 4 ? IPV4_HEADER_BYTES : IPV6_HEADER_BYTES;
}

/** Fills `d` from `offset` to its end with the filler, repeated (payloads of path MTU probes are large). */
export function fillPayload(d: Uint8Array, offset: number): void {
  for (let i = offset; i < d.length; i += PAYLOAD_FILLER.length) d.set(PAYLOAD_FILLER.subarray(0, Math.min(PAYLOAD_FILLER.length, d.length - i)), i);
}
