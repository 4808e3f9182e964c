/**
 * The result model of flow analysis: plain serialisable data (`flowtrace analyze --json`).
 * docs/analyze.md documents every field; bump FLOW_SCHEMA when a field changes meaning.
 *
 * Times: `ts` fields are seconds since the Unix epoch with microsecond precision (like
 * `tcpdump -tt`); durations are in milliseconds (`…Ms`) or microseconds (`…Us`), as named.
 * Missing values are explicit `null`s.
 */

export const FLOW_SCHEMA = 'flowtrace.analysis/1' as const;

/** Where a packet was seen: one interface, one direction (SLL2 / pcapng epb_flags). */
export type HopDirection = 'in' | 'out' | 'broadcast' | 'multicast' | 'otherhost' | 'unknown';

export interface Hop {
  interface: string;
  direction: HopDirection;
  ts: number;
  /** Microseconds after the packet's first observation (0 for the first hop). */
  offsetUs: number;
}

export interface Endpoint {
  address: string;
  port: number;
}

/** How the client/server roles of a connection were decided. */
export type RoleSource = 'syn' | 'http' | 'ports';

export type ConnectionState =
  | 'syn-sent'
  | 'syn-received'
  | 'established'
  | 'closing'
  | 'closed'
  | 'reset';

export interface DirectionStats {
  packets: number;
  payloadBytes: number;
  retransmissions: number;
  outOfOrder: number;
  /** Gaps in the sequence space never filled in the capture ("previous segment not captured"). */
  lostSegments: number;
  /** Times the receive window advertised by this side dropped to 0. */
  zeroWindows: number;
  keepAlives: number;
  /** The largest payload sent this way, and the largest sent again (full-size segments lost: an MTU black hole). */
  maxPayloadBytes: number;
  maxRetransmittedBytes: number;
  /** Sequence space sent this way that the other side never acknowledged by the end of the capture (0: none, or no ACK seen). */
  unackedBytes: number;
}

/** One view of the connection's endpoints (a leg), with the interfaces where it was seen. */
export interface ConnectionLeg {
  client: Endpoint;
  server: Endpoint;
  interfaces: string[];
}

export interface NatMapping {
  connectionId: number;
  /** 'dnat': the server side was rewritten; 'snat': the client side was rewritten. */
  kind: 'dnat' | 'snat';
  from: string;
  to: string;
  /** Interfaces before and after the rewrite, in the client → server direction. */
  beforeInterface: string;
  afterInterface: string;
}

export interface Handshake {
  /** SYN → SYN-ACK and SYN-ACK → ACK, measured at the first observation point. */
  synToSynAckMs: number | null;
  synAckToAckMs: number | null;
  /** Where those were measured (the interface of the SYN's first copy). */
  measuredAt: string;
  synRetransmissions: number;
  /** SYN-ACKs sent again by the server. */
  synAckRetransmissions: number;
}

/**
 * A packet that marks a connection's life — the handshake and its end — with every point it
 * was seen at. Requests and responses are the exchanges' (`HttpExchange.request.hops`).
 */
export interface Milestone {
  kind: 'syn' | 'syn-ack' | 'ack' | 'fin' | 'rst';
  /** Who sent it. */
  from: 'client' | 'server';
  /** When it was first seen. */
  ts: number;
  /** Times it was sent: a SYN sent again twice → 3 (only SYN and SYN-ACK are counted; others 1). */
  transmissions: number;
  /** Where the first transmission was seen, in order. */
  hops: Hop[];
  /** Where the last transmission was seen, when it was sent more than once. */
  lastHops: Hop[] | null;
}

/** One packet of a connection, when the analysis logs packets (`FlowOptions.packetLog`). */
export interface LoggedPacketSummary {
  ts: number;
  from: 'client' | 'server';
  /** `SYN`, `SYN-ACK`, `ACK`, `FIN`, `RST`, `DATA 1448`, `GET /`, `HTTP 200`. */
  label: string;
  payloadBytes: number;
  /** Where it was seen, in order (the endpoints at each point are the leg's that lists the interface: `ConnectionSummary.legs`). */
  hops: Hop[];
}

export interface ConnectionSummary {
  id: number;
  /** The endpoints as seen at the first observation point (outside any NAT). */
  client: Endpoint;
  server: Endpoint;
  /** The server's endpoint after NAT (the container's address:port behind Docker's DNAT); null without NAT. */
  serverInside: Endpoint | null;
  /** The NAT rewrites seen on this connection (the top-level natMappings lists each mapping once). */
  nat: NatMapping[];
  rolesFrom: RoleSource;
  state: ConnectionState;
  /** False when the capture started after the handshake (e.g. a load balancer's keep-alive). */
  handshakeSeen: boolean;
  handshake: Handshake | null;
  firstTs: number;
  lastTs: number;
  durationMs: number;
  /** Who ended it: FIN or RST, and from which side; null while still open. */
  closedBy: { how: 'fin' | 'rst'; from: 'client' | 'server' } | null;
  toServer: DirectionStats;
  toClient: DirectionStats;
  /** Observations of this connection's packets (all copies), and distinct packets. */
  observations: number;
  packets: number;
  legs: ConnectionLeg[];
  /** The hops of a typical packet each way (the first data packet, else the SYN / SYN-ACK). */
  pathToServer: string[];
  pathToClient: string[];
  exchangeIds: number[];
  /** True when the connection was summarised because it sat idle past the timeout. */
  idleTimedOut: boolean;
  /**
   * True when it was summarised while still open because the open connections were at their
   * bound (`limits.tables.openConnections`): its later packets, if any, count as a connection of their own.
   */
  evicted: boolean;
  /** SYN, SYN-ACK, the ACK that completed the handshake, each side's FIN, the RST — in time order. */
  milestones: Milestone[];
  /** Every packet (bounded by `FlowOptions.packetLog`; empty when not logging), and how many were left out. */
  packetLog: LoggedPacketSummary[];
  packetsNotLogged: number;
}

export interface TraceId {
  /** The whole header value, e.g. `Root=1-67891233-abcdef012345678912345678;Self=…`. */
  raw: string;
  root: string | null;
  self: string | null;
}

export interface HttpRequestInfo {
  method: string;
  target: string;
  version: string;
  host: string | null;
  xForwardedFor: string | null;
  traceId: TraceId | null;
  bodyBytes: number;
  ts: number;
  /** The observation points of the segment that carried the start of the head. */
  hops: Hop[];
  /** The head spanned more than one TCP segment. */
  headSegments: number;
}

export interface HttpResponseInfo {
  status: number;
  reason: string;
  version: string;
  /** 'content-length' | 'chunked' | 'close' | 'none' (HEAD, 1xx, 204, 304). */
  bodyFraming: 'content-length' | 'chunked' | 'close' | 'none';
  bodyBytes: number;
  ts: number;
  hops: Hop[];
  headSegments: number;
}

/** Request → first response byte, measured at one observation point. */
export interface HopTiming {
  interface: string;
  requestDirection: HopDirection;
  responseDirection: HopDirection;
  ms: number;
}

export interface HttpExchange {
  id: number;
  connectionId: number;
  /** Position on its connection, from 1. */
  index: number;
  /** Sent before the previous response began (HTTP/1.1 pipelining). */
  pipelined: boolean;
  client: Endpoint;
  server: Endpoint;
  request: HttpRequestInfo | null;
  response: HttpResponseInfo | null;
  /** Request → first response byte at the first observation point of the request. */
  timeToFirstByteMs: number | null;
  /** The same at every observation point that saw both (outermost first). */
  timings: HopTiming[];
  /** complete | no-response (none seen) | response-only (capture began mid-exchange) | reset. */
  status: 'complete' | 'no-response' | 'response-only' | 'reset';
}

export type AnomalyKind =
  | 'syn-unanswered'
  | 'syn-not-forwarded'
  | 'rst-from-server'
  | 'rst-from-client'
  | 'retransmissions'
  | 'out-of-order'
  | 'lost-segments'
  | 'zero-window'
  | 'http-no-response'
  | 'syn-flood';

/** What a `syn-flood` anomaly found (flow/flood.ts): handshakes that never completed, where from, where to, how fast. */
export interface SynFloodFacts {
  /** Handshakes never completed: a SYN never answered, or a SYN-ACK never acknowledged. */
  handshakes: number;
  /** Of them, half-open connections forgotten to bound memory (`limits.tables.halfOpenConnections`). */
  evicted: number;
  /** Distinct source addresses: exact when `sourcesExact`, else an estimate (±2 %). */
  sources: number;
  sourcesExact: boolean;
  /** The sources that sent at least 1 % of the handshakes (at most 10), most first; counts are lower bounds. */
  topSources: Array<{ address: string; handshakes: number }>;
  /** The server endpoints they were sent to (at most 5), most first; counts are lower bounds. */
  targets: Array<{ endpoint: string; handshakes: number }>;
  /** The first and the last of their SYNs, and handshakes per second between them (null: all at one instant). */
  firstTs: number;
  lastTs: number;
  perSecond: number | null;
}

export interface Anomaly {
  kind: AnomalyKind;
  severity: 'error' | 'warning' | 'info';
  /** The connection it is about; 0 for a finding about many (`syn-flood`). */
  connectionId: number;
  exchangeId: number | null;
  ts: number;
  message: string;
  /** The observation points of the packet that shows it (SYN, RST…), when there is one. */
  hops: Hop[];
  /** Only on `syn-flood`: what was found. */
  flood?: SynFloodFacts;
}

export interface InterfaceCount {
  interface: string;
  observations: number;
}

export interface FlowAnalysis {
  schema: typeof FLOW_SCHEMA;
  capture: {
    /** Every packet record read. */
    records: number;
    /** Records that are TCP over IPv4/IPv6 (the ones analysed). */
    tcpRecords: number;
    firstTs: number | null;
    lastTs: number | null;
    interfaces: InterfaceCount[];
    /** SLL2 interface indexes with no name in the ifmap (shown as `ifindexN`): give --ifmap. */
    unmappedIfindexes: number[];
    /** Packets of a connection already summarised (a late ACK, a FIN sent again after RTO): counted only. */
    packetsAfterClose: number;
    /**
     * Records older than an earlier record by more than the stitch window: the file is not in
     * time order (tshark -i a -i b groups frames per interface), so copies cannot be stitched
     * and timings are off. Sort it first: `reordercap IN OUT`.
     */
    recordsOutOfTimeOrder: number;
  };
  /** How copies of one packet on several interfaces were folded together. */
  duplicates: {
    /** Distinct TCP packets after stitching. */
    packets: number;
    /** Most interfaces one packet was seen on. */
    maxCopies: number;
    /** Packets seen on more than one interface. */
    stitchedPackets: number;
    /** The sentence for people, or null when every packet was seen once. */
    explanation: string | null;
  };
  connections: ConnectionSummary[];
  exchanges: HttpExchange[];
  natMappings: NatMapping[];
  anomalies: Anomaly[];
  /** What was left out to bound memory (see FlowOptions.keep / maxRecords). */
  limits: {
    keep: 'all' | 'exchanges' | 'anomalies';
    /** Most summaries kept per kind; beyond it they are only counted. */
    maxKept: number;
    /** True when only selected exchanges were kept (`--request`): the NotKept counts include the others. */
    selected: boolean;
    connectionsNotKept: number;
    exchangesNotKept: number;
    anomaliesNotKept: number;
    /** The memory the table bounds derive from (`--max-memory`, MB). */
    maxMemoryMB: number;
    /** Each bounded table of the engine: its bound, the most it held, and what the bound pushed out. */
    tables: {
      /** Connections open at once; evicted: summarised early (`ConnectionSummary.evicted`). */
      openConnections: TableUse;
      /** Half-open connections at once; evicted: forgotten, counted in `syn-flood` (and connectionsNotKept). */
      halfOpenConnections: TableUse;
      /** Packets in the stitch window; evicted: left it early (a later copy of one counts as a packet of its own). */
      stitchPackets: TableUse;
      /** Exchanges held on open connections; evicted: summarised before their connection ended. */
      heldExchanges: TableUse;
      /** Out-of-order bytes held back for HTTP; evicted: gaps given up (the parser skipped to the held bytes). */
      heldBackBytes: TableUse;
      /** Bytes of heads spread over segments; evicted: heads given up. */
      headBytes: TableUse;
      /** Logged packets (`packetLog`); evicted: packets not logged because of it. */
      loggedPackets: TableUse;
      /** NAT views of one connection; evicted: copies with yet another address, not tracked as a view. */
      legsPerConnection: TableUse;
    };
  };
}

/** One bounded table: its bound, the most it held at once, and how many items the bound pushed out. */
export interface TableUse {
  max: number;
  peak: number;
  evicted: number;
}
