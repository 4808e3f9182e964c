/**
 * The journey of a connection: its packets — SYN, SYN-ACK, the handshake's ACK, each
 * request and response, FIN, RST — each with the points (interface + direction) it was seen
 * at, next to the points it should have crossed, in both directions; and the first place a
 * packet stopped. The causes of a break are read from host facts (./causes.ts), never from a
 * list of known faults. Plain serialisable data.
 */
import type { Endpoint, HopDirection } from '../flow/index.js';
import type { LinkFacts, ListenerFacts, NeighbourFacts, NetfilterFacts, RouteLookup } from '../host/index.js';

/**
 * Where an interface sits on a packet's way through the host, from link kinds, bridge ports,
 * NAT and what was observed — never from names:
 *  - `uplink`: where traffic from outside enters the host (ens5 on EC2, eth0, enX0…);
 *  - `bridge`: a bridge the host forwards through (docker0, br-…, cni0);
 *  - `container`: the host end of a container's veth (a bridge port whose peer is in another namespace);
 *  - `loopback`, `other`.
 */
export type InterfaceRole = 'uplink' | 'bridge' | 'container' | 'loopback' | 'other';

/** Where the roles came from: host facts (link kinds, bridge ports, veth peers) or only the packets. */
export type RoleSource = 'links' | 'packets';

/** A point on the path: an interface crossed in one direction. */
export interface PathPoint {
  interface: string;
  direction: HopDirection;
  role: InterfaceRole;
}

/** One sighting of a step's packet. */
export interface Sighting extends PathPoint {
  /** µs after the packet's first sighting. */
  offsetUs: number;
}

export type StepPacket = 'syn' | 'syn-ack' | 'ack' | 'request' | 'response' | 'fin' | 'rst';

/** `request`: towards the application; `reply`: back towards the client. */
export type Way = 'request' | 'reply';

export interface JourneyStep {
  packet: StepPacket;
  /** `SYN`, `SYN-ACK`, `GET /`, `HTTP 504`, `FIN`, `RST`. */
  label: string;
  from: 'client' | 'server';
  way: Way;
  ts: number;
  /** Times it was sent (SYN and SYN-ACK count retransmissions). */
  transmissions: number;
  /** Where it was seen (every transmission), in the order of the path. */
  seen: Sighting[];
  /** Where it should have been seen, in order, from where it started. */
  expected: PathPoint[];
  /**
   * `complete`: seen at every expected point; `stopped`: seen up to `lastSeen`, never at
   * `missingAt`; `deviated`: seen leaving by an interface not on the expected path;
   * `unseen`: seen at none of the expected points.
   */
  status: 'complete' | 'stopped' | 'deviated' | 'unseen';
  lastSeen: PathPoint | null;
  missingAt: PathPoint | null;
  /**
   * For a packet from the server: it was first seen at this point, past the start of the
   * reply path — the host itself sent it in the application's place (an RST from the host).
   */
  originMidway: PathPoint | null;
  /** For a request/response step: the exchange, its trace id root, and the response status. */
  exchangeId: number | null;
  traceRoot: string | null;
  httpStatus: number | null;
}

/**
 * The first place the conversation stopped:
 *  - `stopped`: a packet was seen up to `after` and never at `at` (inside the host);
 *  - `not-arrived`: the client's first packet was never seen on the host at all;
 *  - `lost-after`: a packet left the host by its last point and the other end never got it
 *    (it sent its own packet again, or never answered);
 *  - `no-answer`: the SYN reached the end of the path and nothing answered it;
 *  - `refused`: the end of the path answered the SYN with RST;
 *  - `answered-by-host`: an RST came from a point before the end of the path (the host answered in its place);
 *  - `no-response`: the request reached the end of the path and no response came before the
 *    client gave up (or the capture ended);
 *  - `reset`: the server reset the connection after the request.
 */
export interface JourneyBreak {
  kind: 'stopped' | 'not-arrived' | 'lost-after' | 'no-answer' | 'refused' | 'answered-by-host' | 'no-response' | 'reset';
  way: Way;
  packet: StepPacket;
  /** The last point the packet was seen at, and the first expected one it was not (null at an end). */
  after: PathPoint | null;
  at: PathPoint | null;
  /** How long the other side waited before giving up (no-response, no-answer), in ms; null when unknown. */
  waitedMs: number | null;
  /** Transmissions of the packet that shows the loss (SYN sent 4 times…). */
  transmissions: number;
  /** The client gave up: a FIN or RST from it ended the connection. */
  closedBy: 'client-fin' | 'client-rst' | null;
  /** The packet left by another interface than the path's (asymmetric routing), when it did. */
  deviatedTo: PathPoint | null;
  /** For a response lost after the host: the largest segment the server sent again (full-size ones lost: an MTU black hole). */
  retransmittedBytes: number | null;
}

export interface ConnectionJourney {
  connectionId: number;
  client: Endpoint;
  server: Endpoint;
  serverInside: Endpoint | null;
  firstTs: number;
  /** Trace id roots of the requests on this connection, in order. */
  traceRoots: string[];
  /** The requests on this connection (`GET /`), in order. */
  requests: string[];
  /** The path a packet towards the application takes here, and the reply's (the same, reversed). */
  requestPath: PathPoint[];
  replyPath: PathPoint[];
  /** Where the expected path came from: this connection's packets, other connections to the same server, or host facts. */
  pathFrom: 'this-connection' | 'other-connections' | 'host-facts';
  steps: JourneyStep[];
  break: JourneyBreak | null;
  /** The status of the last response seen at the end of the path (the application's own answer), or null. */
  applicationStatus: number | null;
}

// ── causes ────────────────────────────────────────────────────────────────────────────

/** One piece of host evidence behind a cause. */
export type CauseFact =
  | { kind: 'rule'; namespace: string; rule: NetfilterFacts }
  | { kind: 'route'; namespace: string; lookup: RouteLookup }
  | { kind: 'sysctl'; namespace: string; name: string; value: string }
  | { kind: 'link'; namespace: string; link: LinkFacts }
  | { kind: 'neighbour'; namespace: string; entry: NeighbourFacts; expectedMac: string | null }
  | { kind: 'counter'; namespace: string; name: string; delta: number }
  | { kind: 'conntrack'; namespace: string; stat: string; delta: number; count: number | null; max: number | null }
  | { kind: 'listeners'; namespace: string; address: string; port: number; listeners: ListenerFacts[] }
  | { kind: 'dnat'; port: number; toAddress: string | null; rules: string[] }
  | { kind: 'retransmitted'; packet: StepPacket; transmissions: number }
  | { kind: 'large-lost'; retransmittedBytes: number; uplink: string | null; uplinkMtu: number | null }
  | { kind: 'checked'; namespace: string; what: string[] };

/**
 * What the host facts say about a break. Ids name what was observed:
 *  - `dropped-by-rule` / `rejected-by-rule`: a DROP/REJECT rule whose counter rose during the capture;
 *  - `dropped-by-policy`: a chain's DROP policy counted the packets (no rule accepted them);
 *  - `no-route`: the route lookup for the packet's destination fails (blackhole, unreachable, prohibit, none);
 *  - `reverse-path-filter`: the route back to the source leaves by another interface and rp_filter is strict;
 *  - `link-down`: the next interface (or its peer) is down;
 *  - `neighbour-failed`: the next hop's address does not resolve (ARP FAILED/INCOMPLETE) or resolves to the wrong MAC;
 *  - `conntrack-drop`: conntrack refused or dropped entries during the capture;
 *  - `forwarding-off`: the host does not forward (ip_forward=0);
 *  - `not-listening`: nothing listens where the packet was delivered (what does listen is in the facts);
 *  - `accept-queue-full`: the listener's queue overflowed (the application does not accept);
 *  - `not-at-instance`: nothing of the request reached the host (dropped before it: security group, NACL);
 *  - `lost-after-host`: the packet left the host and the other side never got it (dropped beyond it);
 *  - `large-packets-lost`: what got lost beyond the host are full-size segments, while small packets got
 *    through (an MTU black hole: too big for the path, and no ICMP "fragmentation needed" back);
 *  - `routed-elsewhere`: the host routes the packet out another interface than the one the path needs;
 *  - `no-response`: the application got the request and did not answer in time;
 *  - `unexplained`: the packet stopped and nothing read on the host explains it (`checked` says what was looked at).
 */
export type CauseId =
  | 'dropped-by-rule' | 'rejected-by-rule' | 'dropped-by-policy' | 'no-route' | 'reverse-path-filter'
  | 'link-down' | 'neighbour-failed' | 'conntrack-drop' | 'forwarding-off' | 'not-listening'
  | 'accept-queue-full' | 'not-at-instance' | 'lost-after-host' | 'large-packets-lost' | 'routed-elsewhere' | 'no-response' | 'unexplained';

export interface BreakCause {
  id: CauseId;
  /** The namespace the cause sits in: `host`, a container's label, or null (outside the host). */
  namespace: string | null;
  facts: CauseFact[];
}
