/**
 * The quantities, probe lifecycle and result types of the trace layer (trippy style: every
 * quantity has its own type, the probe lifecycle is a discriminated union).
 *
 * Results are plain serialisable objects (globalping style): a `status`, a `failureSource`
 * on failure, and explicit `null`s for what could not be known.
 */

/** A TTL / IPv6 hop limit, 1..255. */
export type TimeToLive = number & { readonly __unit: 'TimeToLive' };
/** The 16-bit number that identifies one probe in its reply (see the strategies). */
export type Sequence = number & { readonly __unit: 'Sequence' };
/** A TCP/UDP port, 0..65535. */
export type Port = number & { readonly __unit: 'Port' };
/** The ICMP echo identifier shared by all probes of one trace. */
export type TraceIdentifier = number & { readonly __unit: 'TraceIdentifier' };

export const timeToLive = (n: number): TimeToLive => n as TimeToLive;
export const sequence = (n: number): Sequence => n as Sequence;
export const port = (n: number): Port => n as Port;
export const traceIdentifier = (n: number): TraceIdentifier => n as TraceIdentifier;

export type TraceProtocol = 'udp' | 'icmp' | 'tcp';
export type IpFamily = 4 | 6;

/**
 * What a reply says about the probe it answers.
 * - `time-exceeded`: a router on the path (the probe's TTL ran out there)
 * - `echo-reply` / `tcp-syn-ack` / `tcp-rst` / `port-unreachable`: the destination answered
 * - `unreachable`: an ICMP destination unreachable (other than port unreachable from the
 *   destination) or packet-too-big: the path ends there, with a flag (!H !N !X …)
 */
export type ReplyKind = 'time-exceeded' | 'echo-reply' | 'tcp-syn-ack' | 'tcp-rst' | 'port-unreachable' | 'unreachable';

/** A received packet matched to one of our probes (what `parseReply` extracts). */
export interface ProbeReply {
  kind: ReplyKind;
  /** Who sent the reply. */
  responder: string;
  /** The probe it answers, from the quoted packet or the echo/ack fields. */
  sequence: Sequence;
  /** ICMP type/code of the reply, -1 for TCP replies. */
  icmpType: number;
  icmpCode: number;
  /** Next-hop MTU of a "fragmentation needed" / "packet too big", else null. */
  mtu: number | null;
  /** The traceroute flag (!H, !N, !X, !F-1400 …) for an unreachable, else null. */
  flag: string | null;
  /** What the flag means, a sentence; null when there is no flag. */
  flagMeaning: string | null;
  /** TTL/hop limit the reply arrived with, null when the socket did not give it (IPv6). */
  replyTtl: number | null;
}

/**
 * The lifecycle of one probe. Transitions (the only ones the tracer makes):
 *
 * 1. NotSent → Awaited: the pacer sends it (`sentAtMs` from the monotonic clock). Round 0
 *    sends every TTL at once (paced). A later round's probe goes at its round's start when
 *    its TTL is at or below the frontier (the highest TTL that has answered so far); past the
 *    frontier but within the silent horizon (SILENT_HORIZON_HOPS), as soon as the previous
 *    round's probe at that TTL has gone unanswered for the re-probe interval, if that comes
 *    before the round's start; further out it is held (see 9).
 * 2. NotSent → Skipped (`beyond-destination`): before it is sent, the destination answered
 *    (or an unreachable came back) at a lower TTL; probing further out is pointless.
 * 3. Awaited → Failed: the network reports that the send failed locally (no route,
 *    permission, buffer full); sends are asynchronous, so this comes after transition 1.
 * 4. Awaited → Complete: a reply matching its sequence arrives before its deadline.
 * 5. Awaited → TimedOut: its deadline passes (the `*` of traceroute).
 * 6. Awaited → Skipped (`beyond-destination`): while it was in flight the destination
 *    answered at a lower TTL; its own reply (a duplicate from the destination) no longer
 *    matters, so nothing waits for it.
 * 7. Complete, TimedOut, Skipped and Failed are final: a reply for a TimedOut probe is
 *    counted as late, a second reply for a Complete one as a duplicate; neither changes it.
 * 8. On abort (Ctrl-C) NotSent and Awaited probes become Skipped (`aborted`): the partial
 *    trace keeps what was answered or timed out, and counts no loss for what was cut short.
 * 9. NotSent → Skipped (`beyond-silent-horizon`): the trace ends (nothing left in flight)
 *    while the probe is still held past the silent horizon: nothing answered at its TTL or
 *    within SILENT_HORIZON_HOPS below it, so only round 0 probed it. A reply from further out
 *    moves the frontier and releases held probes (they are sent, late for their round).
 */
export type SkipReason = 'beyond-destination' | 'beyond-silent-horizon' | 'aborted';

export type ProbeState =
  | { kind: 'NotSent' }
  | { kind: 'Skipped'; reason: SkipReason }
  | { kind: 'Failed'; error: string }
  | { kind: 'Awaited'; sentAtMs: number }
  | { kind: 'Complete'; sentAtMs: number; receivedAtMs: number; reply: ProbeReply }
  | { kind: 'TimedOut'; sentAtMs: number };

export interface Probe {
  sequence: Sequence;
  ttl: TimeToLive;
  /** 0-based round this probe belongs to. */
  round: number;
  state: ProbeState;
}

/** One address that answered at a hop, with its own counts (ECMP / load balancing show several). */
export interface HopResponder {
  address: string;
  /** Replies from this address at this hop. */
  replies: number;
  /** What it answered: time-exceeded for routers, the destination's reply kind, unreachable. */
  kinds: ReplyKind[];
  rttMinMs: number;
  rttAvgMs: number;
  rttMaxMs: number;
}

export interface Hop {
  ttl: number;
  /** Probes sent with this TTL (skipped and locally failed ones excluded). */
  sent: number;
  received: number;
  /** 0..100, one decimal; null when nothing was sent. */
  lossPercent: number | null;
  rttMinMs: number | null;
  rttAvgMs: number | null;
  rttMaxMs: number | null;
  /** Every address that answered at this TTL, in order of first reply. */
  responders: HopResponder[];
  /** Unreachable flags seen at this hop (!H !N !P !X !F-<mtu> !S …). */
  flags: string[];
  /** True when the destination answered at this TTL. */
  destination: boolean;
  /** Probes whose send failed locally. */
  failed: number;
  /** A sentence about this hop when it needs one (stars, partial loss, unreachable), else null. */
  note: string | null;
}

export type TraceStatus =
  | 'reached' //      the destination answered
  | 'unreachable' //  an ICMP unreachable ended the path (see `unreachable`)
  | 'stopped' //      no reply after some hop up to max TTL: the path stops there
  | 'no-reply' //     nothing answered at all, not even the first hop
  | 'failed'; //      the probes could not be sent (local error)

export type TraceFailureSource = 'route' | 'target' | 'local' | 'resolver' | null;

/** The trace towards one address. */
export interface AddressTrace {
  address: string;
  family: IpFamily;
  /** The source address the probes left from. */
  sourceAddress: string | null;
  status: TraceStatus;
  failureSource: TraceFailureSource;
  destinationReached: boolean;
  /** The lowest TTL at which the destination answered, null if it did not. */
  reachedAtTtl: number | null;
  /** How the destination answered (syn-ack = port open, rst = port closed…), null if not reached. */
  destinationReply: ReplyKind | null;
  /** The unreachable that ended the path, if any. */
  unreachable: { ttl: number; responder: string; flag: string; meaning: string } | null;
  /** The last TTL at which anything answered (null when nothing did). */
  lastAnsweringTtl: number | null;
  /** One entry per TTL from 1 to the last TTL that matters (destination, unreachable, or max TTL). */
  hops: Hop[];
  /** Why stars appear, where the path stops, what the destination said: sentences. */
  explanation: string[];
  /** Replies that arrived after their probe's deadline / a second time / matched no probe of ours. */
  lateReplies: number;
  duplicateReplies: number;
  /** Probes whose send failed locally, with the first error. */
  sendErrors: number;
  firstSendError: string | null;
  probesSent: number;
  /**
   * Later-round probes not sent because their TTL stayed past the silent horizon (transition
   * 9): those TTLs were probed once, in round 0.
   */
  probesHeld: number;
  /**
   * The highest TTL probed in every round when the silent horizon held probes back (the last
   * answering TTL + SILENT_HORIZON_HOPS); null when every TTL up to the end got every round.
   */
  silentHorizonTtl: number | null;
  durationMs: number;
  /** The path MTU towards this address (`--mtu`), null when it was not asked for. */
  pathMtu: PathMtu | null;
}

/**
 * How the path MTU was found:
 * - `found`: the largest size reached the target; every drop on the way was reported by ICMP
 *   (fragmentation needed / packet too big), or there was none;
 * - `black-hole`: somewhere larger packets vanish with no ICMP back; the size was found by
 *   probing sizes (see `drops`);
 * - `inconclusive`: even small control probes went unanswered (loss or ICMP rate limits):
 *   only bounds are known;
 * - `no-reply`: nothing on the path answers small probes, so there is nothing to size against;
 * - `failed`: the probes could not be sent.
 */
export type PathMtuStatus = 'found' | 'black-hole' | 'inconclusive' | 'no-reply' | 'failed';

/** Where the packet size that gets through drops. */
export interface MtuDrop {
  /** The last hop larger packets reach: the router in front of the smaller link (0 = this machine). */
  afterTtl: number;
  /** Its address (from its reply, or the trace), null when unknown. */
  router: string | null;
  /** The first hop past the drop that answers small probes (afterTtl + 1 unless hops there are silent). */
  beforeTtl: number;
  /** The largest packet (bytes, IP header included) that gets past it. */
  mtu: number;
  /** `local-link`: this machine itself refused larger sends (EMSGSIZE), its link is smaller than it said. */
  how: 'frag-needed' | 'packet-too-big' | 'black-hole' | 'local-link';
  /** The next-hop MTU the router's ICMP named (null for a black hole; 0 from old routers that name none). */
  reportedMtu: number | null;
}

export interface PathMtu {
  status: PathMtuStatus;
  /** The largest packet (bytes, IP header included) that reached `targetTtl` unfragmented; null unless found. */
  pathMtu: number | null;
  /** Bounds from the probes: the largest size seen to reach the target, the smallest seen not to. */
  largestPassedBytes: number | null;
  smallestFailedBytes: number | null;
  /** The MTU of this machine's link, the first size tried (null when it could not be read: 1500 tried). */
  localMtu: number | null;
  /** Sizes were tested up to this hop: the destination's, or the last that answers when it was not reached. */
  targetTtl: number | null;
  targetIsDestination: boolean;
  /** In path order. */
  drops: MtuDrop[];
  probesSent: number;
  durationMs: number;
  explanation: string[];
}

export interface TraceOptions {
  proto?: TraceProtocol;
  /** Destination port for udp/tcp (tcp default 80, udp default 33434). */
  port?: number;
  maxTtl?: number;
  firstTtl?: number;
  rounds?: number;
  /** Longest wait for one reply. */
  timeoutMs?: number;
  /** Pause between two probes. */
  probeIntervalMs?: number;
  /** Pause between the starts of two rounds. */
  roundIntervalMs?: number;
  /** Only IPv4 / only IPv6 addresses of the host. */
  family?: IpFamily;
  /** Aborts the trace (Ctrl-C): the partial result is returned. */
  signal?: AbortSignal;
  /** Also find the path MTU and where it drops (UDP and ICMP probes only). */
  mtu?: boolean;
}

export interface TraceResult {
  schema: 'flowtrace.trace/1';
  /** What was asked for (a name or an address). */
  host: string;
  addresses: string[];
  proto: TraceProtocol;
  /** Destination port (udp/tcp), null for icmp. */
  port: number | null;
  maxTtl: number;
  rounds: number;
  timeoutMs: number;
  /** reached when every address was reached; otherwise the first address's failing status. */
  status: TraceStatus;
  failureSource: TraceFailureSource;
  destinationReached: boolean;
  /** One trace per address of the host, in resolution order. */
  traces: AddressTrace[];
}
