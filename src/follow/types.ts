/**
 * The result of `flowtrace follow`: one plain, serialisable object (globalping style:
 * every part carries its `status`, missing values are explicit `null`s).
 *
 * This is a versioned, documented schema (docs/follow.md). Bump FOLLOW_SCHEMA_VERSION on any
 * change that removes or renames a field or changes its meaning; adding a field is not a bump.
 */

import type { FlowAnalysis } from '../flow/index.js';
import type { HostFacts } from '../host/index.js';
import type { BreakCause, CauseFact, ConnectionJourney, InterfaceRole as JourneyInterfaceRole, JourneyBreak } from '../journey/index.js';

export const FOLLOW_SCHEMA_VERSION = 2 as const;

/** The layers of the walk, in the order a request crosses them. */
export const LAYERS = ['dns', 'route', 'loadBalancer', 'instance', 'container', 'application'] as const;
export type LayerId = (typeof LAYERS)[number];

/** ✅ pass, ❌ fail, ⚠ warn (works, but something is off), or not checked (no evidence). */
export type RowStatus = 'pass' | 'fail' | 'warn' | 'not-checked';

export type TraceProto = 'tcp' | 'udp' | 'icmp';


// ── client side ────────────────────────────────────────────────────────────────────────

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export interface DnsEvidence {
  /** `literal`: the URL's host is an address, nothing was resolved. */
  status: 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'unreachable' | 'error' | 'literal';
  /** The resolver asked, `address#port (udp|tcp)`; null when unknown. */
  server: string | null;
  addresses: string[];
  answers: DnsAnswer[];
  rcode: string | null;
  elapsedMs: number | null;
  /** What went wrong, one line, when status is not ok/literal. */
  error: string | null;
}

export interface HopResponder {
  address: string;
  /** One RTT per answered probe, in ms. */
  rttMs: number[];
}

export interface HopEvidence {
  ttl: number;
  /** Every address that answered for this TTL (several under ECMP); empty: `* * *`. */
  responders: HopResponder[];
  sent: number;
  lossPct: number;
  /** ICMP unreachable flag as traceroute prints it (`!X`, `!H`, `!N`, …), or null. */
  flag: string | null;
  /** This hop is the destination itself (SYN-ACK/RST, port unreachable or echo reply). */
  isDestination: boolean;
}

export interface RouteEvidence {
  address: string;
  proto: TraceProto;
  port: number | null;
  status: 'reached' | 'not-reached' | 'error';
  reachedAtTtl: number | null;
  hops: HopEvidence[];
  /** The tracer's explanation of stars and flags, one line; null when nothing to explain. */
  explanation: string | null;
  elapsedMs: number | null;
  error: string | null;
}

/** Durations of each client phase, in ms (not cumulative; null when the phase did not happen). */
export interface ClientPhases {
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
  /** Request sent → first response byte (the server's time, seen from the client). */
  firstByteMs: number | null;
  downloadMs: number | null;
  totalMs: number | null;
}

export interface RequestEvidence {
  /** The load-balancer address the request was sent to (curl --resolve style). */
  address: string;
  port: number;
  /** Which load-balancer node that is, when known (e.g. `alb-a`); null otherwise. */
  node: string | null;
  /** Its availability zone, when known (`--lb-name ADDR=NAME@ZONE`); null otherwise. */
  zone: string | null;
  /** Wall-clock epoch ms when the request was started (to find its connection on the server by time). */
  sentAt: number | null;
  /** The X-Amzn-Trace-Id Root sent with the request. */
  traceId: string;
  /** The client's own address:port of the connection, when known. */
  localAddress: string | null;
  status: 'ok' | 'error';
  httpStatus: number | null;
  reason: string | null;
  /** The response's Server header (an ALB's own error pages say `awselb/2.0`). */
  serverHeader: string | null;
  phases: ClientPhases;
  /** Failure: code (e.g. ECONNREFUSED, TIMEOUT), the phase it happened in, one-line message. */
  error: { code: string; phase: string | null; message: string } | null;
  /** First bytes of the body (bounded, for evidence), or null. */
  bodyPreview: string | null;
}

// ── server side ────────────────────────────────────────────────────────────────────────

/**
 * Where an interface sits on the in-host path, from link kinds, bridge ports and veth peers
 * (journey/): `uplink` (ens5 on EC2, eth0, enX0…), `bridge` (docker0, br-…), `container`
 * (the host end of a container's veth), `loopback`, `other`.
 */
export type InterfaceRole = JourneyInterfaceRole;

/**
 * What one observation point saw of the request's connections during the request window.
 * "in" = towards the application, "back" = towards the client.
 */
export interface InterfaceSighting {
  iface: string;
  role: InterfaceRole;
  packets: number;
  /** ms from the first packet of the request's connections to the first packet seen here; null if none. */
  firstMs: number | null;
  syn: number;
  /** SYNs beyond the first of each connection (retransmissions: nobody answered). */
  synRetransmits: number;
  synAck: number;
  /** RSTs going back towards the client. */
  rstBack: number;
  /** The HTTP request was seen here. */
  request: boolean;
  /** The HTTP status seen going back here, or null. */
  responseStatus: number | null;
  /** The link's state when the capture stopped (host facts), or null when unknown. */
  link: 'up' | 'down' | null;
}

/** One copy of one packet at one observation point: a message of the ladder diagram. */
export interface PacketObservation {
  /** Same for every copy of one packet (stitched across interfaces). */
  packetId: number;
  /** ms since the first packet of the ladder. */
  tMs: number;
  iface: string;
  direction: 'in' | 'out' | null;
  /** `address:port` as seen on this interface (NAT rewrites it between ens5 and docker0). */
  src: string;
  dst: string;
  /** SYN, SYN-ACK, ACK, `GET /`, `HTTP 200`, FIN, RST, DATA … */
  label: string;
  /** request = towards the application; response = back. */
  way: 'request' | 'response';
}

export interface NatMapping {
  /** `172.31.5.20:80` */
  from: string;
  /** `172.17.0.2:8080` */
  to: string;
  /** Where the rewrite happens, e.g. `ens5 → docker0`. */
  between: string;
}

/** What the server side says about one request (one per request sent, in order). */
export interface ServerRequestEvidence {
  /** The request's trace id Root. */
  traceRoot: string;
  /** The load-balancer address it was sent to. */
  address: string;
  /** How its connection on the instance was found: by trace id, by timing (no HTTP got through), or not at all. */
  matchedBy: 'trace-id' | 'timing' | null;
  /** The flow analysis's connection ids of the request (the first is its journey's). */
  connectionIds: number[];
  /** Its connection's journey, null when nothing of it reached the instance. */
  journey: ConnectionJourney | null;
  /** The first place it stopped, both directions (null: it went through). */
  break: JourneyBreak | null;
  /** What the host facts say about the break (null without a break). */
  cause: BreakCause | null;
}

export interface ServerEvidence {
  /** The agent target: `netns:ec2`, `local`, `ssh://user@host`. */
  target: string;
  status: 'ok' | 'error';
  error: string | null;
  capturedPackets: number;
  kernelDrops: number | null;
  /** Ports captured, e.g. `port 80 or 8080 (following NAT: 80 → 172.17.0.2:8080)`. */
  filter: string | null;
  /** The ports the capture followed (the URL's and their NAT translations). */
  ports: number[];
  /** How the first request was found: by its trace id, by timing, or not at all. */
  matchedBy: 'trace-id' | 'timing' | null;
  /** The trace id found in the capture (the Root the client sent). */
  traceId: string | null;
  /** One entry per request sent, in order: its journey on the instance, its break and cause. */
  requests: ServerRequestEvidence[];
  /** Where the interfaces' roles came from: the host's links, or only the packets. */
  rolesFrom: 'links' | 'packets';
  interfaces: InterfaceSighting[];
  nat: NatMapping[];
  /** The ladder: the first request's connection, every packet at every observation point, in time order. */
  packets: PacketObservation[];
  /** The stitched path, one line per direction, e.g. `172.31.0.10 → ens5 → docker0 → veth… → 172.17.0.2:8080`. */
  path: string[];
  /** Named anomalies from the flow analysis of the request's connections. */
  anomalies: string[];
  /** Request seen at the end of the path → its response there, in ms; null if not seen. */
  appTimeMs: number | null;
  /** Host facts read at the start and the stop of the capture (null when not read: say why in `error`/`notes`). */
  host: HostFacts | null;
  /** The flow analysis of the whole capture — the same reading `flowtrace analyze` gives of these packets. */
  analysis: FlowAnalysis | null;
}

// ── verdict ────────────────────────────────────────────────────────────────────────────

export interface VerdictRow {
  layer: LayerId;
  /** The row's question, e.g. "DNS resolved". */
  title: string;
  status: RowStatus;
  /** One line: what the evidence says. */
  summary: string;
  /** The evidence behind it: answers, hops, packet times per interface, status. */
  evidence: string[];
  timingMs: number | null;
}

/** Some load-balancer addresses work and others fail: which, how, and whom it hits. */
export interface PartialFailure {
  failing: Array<{ address: string; node: string | null; zone: string | null; layer: LayerId; causeId: string; summary: string }>;
  /** The addresses that answered 2xx/3xx. */
  working: string[];
  /** `1 of 2 load-balancer addresses: about half of new connections (…)`. */
  share: string;
}

export interface Verdict {
  /** True when the application answered 2xx/3xx through every load-balancer address tried. */
  ok: boolean;
  rows: VerdictRow[];
  firstFailing: LayerId | null;
  /** Which way the first failure is: the request towards the application, or its reply; null when not placed. */
  direction: 'request' | 'reply' | null;
  /** The place and the host facts behind the cause, when the server side found them. */
  break: JourneyBreak | null;
  facts: CauseFact[];
  /** Set when some load-balancer addresses work and others fail. */
  partial: PartialFailure | null;
  /** Stable id of the most likely cause (e.g. `dnat-missing`), null when healthy. */
  causeId: string | null;
  /** The most likely cause, in words, from the evidence. */
  cause: string | null;
  /** The next thing to check (a command when there is one). */
  nextCheck: string | null;
  /** One line for the top of the output. */
  headline: string;
  /** 0, or FOLLOW_EXIT of the first failing layer. */
  exitCode: number;
}

export interface FollowResult {
  schemaVersion: typeof FOLLOW_SCHEMA_VERSION;
  tool: { name: 'flowtrace'; version: string };
  url: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  /** Wall-clock start, ISO 8601 (for humans; durations use a monotonic clock). */
  startedAt: string;
  durationMs: number;
  options: {
    server: string | null;
    once: boolean;
    protos: TraceProto[];
    /** The per-request deadline, ms. */
    timeoutMs: number;
  };
  dns: DnsEvidence;
  routes: RouteEvidence[];
  requests: RequestEvidence[];
  /** null when no server was given. */
  server: ServerEvidence | null;
  verdict: Verdict;
}

/** Everything except the verdict: what `decideVerdict` reads. */
export type FollowEvidence = Omit<FollowResult, 'verdict'>;
