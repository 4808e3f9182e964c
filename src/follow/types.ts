/**
 * The result of `flowtrace follow`: one plain, serialisable object (globalping style:
 * every part carries its `status`, missing values are explicit `null`s).
 *
 * This is a versioned, documented schema (docs/follow.md). Bump FOLLOW_SCHEMA_VERSION on any
 * change that removes or renames a field or changes its meaning; adding a field is not a bump.
 */

import type { AccessLogRecord } from '../alb-log/index.js';
import type { FlowAnalysis } from '../flow/index.js';
import type { HostFacts } from '../host/index.js';
import type { BreakCause, CauseFact, ConnectionJourney, InterfaceRole as JourneyInterfaceRole, JourneyBreak } from '../journey/index.js';
import type { AwsSnapshot, ConfigHop, ConfigHopId, ConfigPath, HopReason, HopStatus } from '../aws/index.js';

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
  /**
   * `literal`: the URL's host is an address, nothing was resolved. `not-checked`: no DNS
   * evidence (`flowtrace explain` without a resolver's output; `addresses` then holds the ones
   * other evidence used, e.g. curl's "Connected to … (ADDR)").
   */
  status: 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'unreachable' | 'error' | 'literal' | 'not-checked';
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
  /**
   * How its connection on the instance was found: by trace id, by its request line (explain:
   * the method, path and Host the client printed, when no trace id was sent), by timing (no
   * HTTP got through), or not at all.
   */
  matchedBy: 'trace-id' | 'request-line' | 'timing' | null;
  /** The flow analysis's connection ids of the request (the first is its journey's). */
  connectionIds: number[];
  /** Its connection's journey, null when nothing of it reached the instance. */
  journey: ConnectionJourney | null;
  /** The first place it stopped, both directions (null: it went through). */
  break: JourneyBreak | null;
  /** What the host facts say about the break (null without a break). */
  cause: BreakCause | null;
  /**
   * Where the request went instead, when it is known not to have come here: the `--server`
   * target that found it, or the target the access log names (`172.31.21.20:80`); null otherwise.
   */
  elsewhere: string | null;
}

export interface ServerEvidence {
  /** The agent target: `netns:ec2`, `local`, `ssh://user@host`. */
  target: string;
  /**
   * The address the load balancer reaches this host at (its uplink's, where the load
   * balancer's connections arrive), null when neither the packets nor the host facts say.
   */
  targetAddress: string | null;
  status: 'ok' | 'error';
  error: string | null;
  capturedPackets: number;
  kernelDrops: number | null;
  /** Ports captured, e.g. `port 80 or 8080 (following NAT: 80 → 172.17.0.2:8080)`. */
  filter: string | null;
  /** The ports the capture followed (the URL's and their NAT translations). */
  ports: number[];
  /** How the first request was found: by its trace id, its request line, timing, or not at all. */
  matchedBy: 'trace-id' | 'request-line' | 'timing' | null;
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

// ── the load balancer and its targets ─────────────────────────────────────────────────

/** What the load balancer's access log says of one request (`--alb-log`), or why it says nothing. */
export interface AccessLogEvidence {
  traceRoot: string;
  /**
   * `found`; `not-found`: the log covers the request's time and has no line for it;
   * `log-ends-before`: the log's newest line (or file) is older than the request — on S3, the
   * file for its 5-minute interval is not delivered yet; `log-starts-after`: the log begins
   * after the request; `no-log`: nothing was read.
   */
  status: 'found' | 'not-found' | 'log-ends-before' | 'log-starts-after' | 'no-log';
  /** The line, field by field (docs/follow.md), null unless found. */
  record: AccessLogRecord | null;
  /** The file or s3:// key of the line. */
  file: string | null;
  /** The node that wrote it: the address in ELB's file name, or the lab's file name (`alb-a`). */
  node: string | null;
  /** What the log covers (ISO 8601). */
  coverage: { from: string; until: string } | null;
  /** ELB logs: the end of the 5-minute interval whose file holds the request's line. */
  intervalEnd: string | null;
}

/** The access log as read (`--alb-log PATH`). */
export interface AccessLogRead {
  source: string;
  status: 'ok' | 'error';
  error: string | null;
  files: number;
  lines: number;
  /** Files that could not be read. */
  problems: string[];
  /** One per request sent, in order. */
  requests: AccessLogEvidence[];
}

/** One target of the load balancer, as the evidence knows it. */
export interface TargetEvidence {
  /** `ip:port` (or `ip` when the port is not known). */
  address: string;
  /** `--target-name ADDR=NAME@ZONE`, or null. */
  name: string | null;
  /** Its zone (`--target-name`, or describe-target-health's AvailabilityZone), or null. */
  zone: string | null;
  /** The `--server` that captured on it, or null. */
  server: string | null;
  /** Its health as `aws elbv2 describe-target-health` gave it (`--target-health`), null when not given. */
  health: { state: string; reason: string | null; description: string | null } | null;
  /** Trace ids (Roots) of the requests it got. */
  requests: string[];
}

/** Which target a request went to, and how that is known. */
export interface TargetOfRequest {
  traceRoot: string;
  /** The load-balancer address it was sent to. */
  address: string;
  /** `ip:port` of the target that got it; null when unknown or when the load balancer sent it nowhere. */
  target: string | null;
  /** From its access-log line, from its trace id in a `--server` capture, or from the timing of a connection there. */
  from: 'access-log' | 'trace-id' | 'request-line' | 'timing' | null;
  /** The access log says the load balancer sent it to no target (`target:port` is `-`). */
  noTarget: boolean;
  /** The load-balancer node's zone and the target's (when both are known), and whether they differ. */
  nodeZone: string | null;
  targetZone: string | null;
  crossZone: boolean | null;
}

/** The load balancer layer's own evidence: its access log, its targets, where each request went. */
export interface LoadBalancerEvidence {
  accessLog: AccessLogRead | null;
  targets: TargetEvidence[];
  requests: TargetOfRequest[];
}

// ── the AWS configuration ──────────────────────────────────────────────────────────────

/**
 * What the AWS configuration says of the requests' paths (`--aws-config DIR`, `--aws`): one
 * static evaluation per request (its load-balancer node), hop by hop (aws/).
 */
export interface AwsEvidence {
  /** error: the configuration could not be read (`error` says why); the verdict is the packets' alone. */
  status: 'ok' | 'error';
  error: string | null;
  source: 'files' | 'api' | 'snapshot';
  /** The folder read, or `api (profile …, region …)`. */
  from: string;
  /** The describe outputs read, and those missing (hops that need them are not determinable). */
  read: string[];
  missing: string[];
  /** What the paths were evaluated for. */
  query: {
    names: string[];
    port: number;
    scheme: 'http' | 'https';
    host: string;
    path: string;
    /** The client's address as it knows it, and as the load balancer saw it (X-Forwarded-For on the instance). */
    clientAddress: string | null;
    clientSeenByLoadBalancer: string | null;
    /** `--aws-lb`, when given. */
    loadBalancer: string | null;
    /** The instance's addresses (host facts): its target is the one evaluated. */
    targetAddresses: string[];
  };
  /** One per request sent (its node), in order; one per node when no request was sent. */
  paths: ConfigPath[];
  /** The part of the configuration the paths read (to evaluate them again offline), null on error. */
  snapshot: AwsSnapshot | null;
}

/** A verdict row's configuration column: the hops of its layer, across the paths. */
export interface RowConfig {
  status: HopStatus;
  /** The hop that decides the column (the first denied, else the first not determinable), null when all allow. */
  decisive: { hop: ConfigHopId; reason: HopReason; resource: string | null; address: string | null } | null;
  /** How many hop readings the column sums up. */
  checked: number;
  /** One line, for the table. */
  summary: string;
}

/**
 * The configuration's reading next to the packets' (issue 18):
 *  - `agree`: the configuration denies the request where the packets stop: the rule is the cause;
 *  - `config-allows`: the configuration allows the whole path, yet the packets stop — the cause
 *    is outside the configuration (a host firewall, an OS route, the application, AWS itself);
 *  - `config-denies-passed`: the configuration denies a hop the packets crossed (a change not
 *    applied yet, a snapshot of another moment or another account);
 *  - `elsewhere`: both fail, at different places (the first failure hides what comes after);
 *  - `not-determinable`: the configuration does not decide (the hop says why);
 *  - `both-pass`: the packets went through and the configuration allows them.
 */
export type ConfigAgreement = 'agree' | 'config-allows' | 'config-denies-passed' | 'elsewhere' | 'not-determinable' | 'both-pass';

export interface ConfigReading {
  agreement: ConfigAgreement;
  /** The load-balancer addresses the reading is about (the failing ones when some work). */
  addresses: string[];
  /** The hop that decides (denied or not determinable), null when every hop allows. */
  hop: ConfigHop | null;
  /** The layer that hop belongs to (load balancer: client side, listener, rule, target group; instance: the way to the target and back). */
  layer: LayerId | null;
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
  /** What the AWS configuration says of this layer's hops (load balancer, instance), null without one or for layers it does not see. */
  config?: RowConfig | null;
}

/**
 * The request as a dual-stack client sends it (curl's happy eyeballs): every address, IPv6
 * first, IPv4 after `delayMs` or when IPv6 failed; which family connected and what the other cost.
 */
export interface HappyEyeballsEvidence {
  addresses: string[];
  firstFamily: 4 | 6;
  delayMs: number;
  familyUsed: 4 | 6 | null;
  /** ms the first family cost before the connection used started (0: it connected); null: none connected. */
  lostMs: number | null;
  /** The address of the connection used. */
  address: string | null;
  traceId: string;
  httpStatus: number | null;
  totalMs: number;
  error: string | null;
}

/** Some load-balancer addresses work and others fail: which, how, and whom it hits. */
export interface PartialFailure {
  failing: Array<{ address: string; node: string | null; zone: string | null; layer: LayerId; causeId: string; summary: string }>;
  /** The addresses that answered 2xx/3xx. */
  working: string[];
  /** `1 of 2 load-balancer addresses: about half of new connections (…)`. */
  share: string;
  /**
   * Set when the failing addresses are exactly one family's and the others work: a family's
   * path is broken (absent otherwise). Dual-stack clients then fall back (happy eyeballs).
   */
  family?: 4 | 6;
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
  /** The AWS configuration's reading next to the packets' (null without --aws-config / --aws). */
  config?: ConfigReading | null;
}

/** One part of the text `flowtrace explain` read: which tool printed it, and where it is. */
export interface ExplainPart {
  /** `nslookup`, `dig`, `traceroute`, `curl -v`, `tcpdump`, `ip addr`, `iptables -L`, … (docs/explain.md). */
  format: string;
  /** The file it came from (`-` for stdin). */
  source: string;
  /** First and last line, from 1, in that file. */
  fromLine: number;
  toLine: number;
  /** The command typed before it (a shell prompt line), when the text has one. */
  command: string | null;
  /** The network namespace or container it ran in, when the command says (`ip netns exec X`, `docker exec X`); null: where the prompt was. */
  namespace: string | null;
  /** What it gave, in one line (`NXDOMAIN from 10.10.53.53#53`, `hops 1–4, reached 10.77.1.10`). */
  summary: string;
}

/** What `flowtrace explain` read (FollowResult.explain). */
export interface ExplainReading {
  parts: ExplainPart[];
  /** Lines no part took: each run of them, with its first line's text. */
  unrecognised: Array<{ source: string; fromLine: number; toLine: number; text: string }>;
  /** What the text could not carry or prove, one line each. */
  notes: string[];
}

/** For each kind of evidence not given, what to run to get it (explain); null fields: given. */
export interface HowToCheck {
  dns: string | null;
  route: string | null;
  request: string | null;
  server: string | null;
}

export interface FollowResult {
  schemaVersion: typeof FOLLOW_SCHEMA_VERSION;
  /** Who collected the evidence: `follow` itself, or `explain` from text users ran (absent in results older than explain: follow). */
  source?: 'follow' | 'explain';
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
    /** The first `--server` (null: none). */
    server: string | null;
    /** Every `--server`, in order (one per target). */
    servers: string[];
    /** `--alb-log PATH`, or null. */
    albLog: string | null;
    once: boolean;
    protos: TraceProto[];
    /** The per-request deadline, ms. */
    timeoutMs: number;
  };
  dns: DnsEvidence;
  routes: RouteEvidence[];
  requests: RequestEvidence[];
  /**
   * The server side: with one `--server`, its evidence; with several, the one that got the
   * request (the first request found on one of them), else the first. null when no server was given.
   */
  server: ServerEvidence | null;
  /** One per `--server`, in order ([] without one). */
  servers: ServerEvidence[];
  /** The load balancer's access log, its targets, and which target each request went to. */
  loadBalancer: LoadBalancerEvidence;
  /** The AWS configuration (`--aws-config DIR`, `--aws`); null (or absent, in results of older versions) without one. */
  aws?: AwsEvidence | null;
  /**
   * With IPv6 and IPv4 load-balancer addresses: one more request sent as a dual-stack client
   * sends it (curl's happy eyeballs, IPv6 first), after the capture; null or absent otherwise.
   */
  happyEyeballs?: HappyEyeballsEvidence | null;
  /** explain: the commands that would give the evidence not given (the rows "not checked — run …"). */
  howToCheck?: HowToCheck | null;
  /** explain: the parts of the text read, what was not recognised, and what text could not prove. */
  explain?: ExplainReading | null;
  verdict: Verdict;
}

/**
 * Everything except the verdict: what `decideVerdict` reads. `servers` and `loadBalancer`
 * may be absent (evidence made before they existed: then `server` is the only server, and
 * nothing is known of the load balancer beyond the client's view).
 */
export type FollowEvidence = Omit<FollowResult, 'verdict' | 'servers' | 'loadBalancer'> & Partial<Pick<FollowResult, 'servers' | 'loadBalancer'>>;
