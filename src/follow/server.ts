/**
 * The server side of the walk as evidence, from the typed reading the agent (or the
 * agentless path) returns — flow's analysis of the capture and the host's facts — with no
 * decoding of its own: the same reading `flowtrace analyze` gives of the same packets.
 *
 *  1. Journeys of the capture's connections (journey/), with roles from the host's links.
 *  2. Each request sent is found on the instance by its trace id (an ALB keeps the Root the
 *     client sent); one sent without a trace id (explain), by its request line; a request
 *     whose handshake never completed carries no HTTP, so it is found by time: the connection
 *     without a request that started closest after it was sent.
 *  3. Per request: its journey's first break and the cause the host facts give.
 *  4. For the table and the report: per-interface sightings, NAT, the ladder (the first
 *     request's connection, from the packet log), the path in two lines, anomalies.
 */
import type { ConnectionSummary, FlowAnalysis, HttpExchange } from '../flow/index.js';
import type { HostFacts } from '../host/index.js';
import { connectionJourneys, explainBreak, interfaceRoles, type ConnectionJourney, type JourneyBreak } from '../journey/index.js';
import type { InterfaceRole, InterfaceSighting, NatMapping, PacketObservation, RequestEvidence, ServerEvidence, ServerRequestEvidence } from './types.js';

/** What the server side returned: the analysis of its capture and the host's facts. */
export interface ServerReading {
  target: string;
  analysis: FlowAnalysis;
  host: HostFacts | null;
  /** The ports the capture followed (the URL's and their NAT translations). */
  ports: number[];
  filter: string | null;
  capturedPackets: number;
  kernelDrops: number | null;
}

/** A request follow sent, as the server side needs it to find it. */
export interface SentRequest {
  traceRoot: string;
  address: string;
  /** Wall-clock epoch ms it was started; null when unknown. */
  sentAt: number | null;
  timeoutMs: number;
  /** False when the client never reached the load balancer (nothing to find on the instance). */
  reachedLoadBalancer: boolean;
  /**
   * The request line the client sent, to find it by when it carried no trace id (explain: curl
   * sends none): the first exchange not yet taken with this method and path (and this Host,
   * when both sides show one). Absent for follow, whose requests carry trace ids.
   */
  requestLine?: { method: string; target: string; host: string | null } | null;
}

/** The requests as the server side needs them (what follow sent, and whether each reached the load balancer). */
export function sentRequests(requests: readonly RequestEvidence[], timeoutMs: number): SentRequest[] {
  return requests.map((q) => ({
    traceRoot: q.traceId, address: q.address, sentAt: q.sentAt, timeoutMs,
    // A connection the client never made to the load balancer has nothing to find behind it.
    reachedLoadBalancer: q.httpStatus !== null || (q.error?.phase !== 'connect' && q.error?.phase !== 'dns'),
  }));
}

/** A connection started this long before the request was sent still counts (clocks of two machines). */
const CLOCK_SLACK_MS = 500;

const ROLE_RANK: Record<InterfaceRole, number> = { uplink: 0, bridge: 1, container: 2, other: 3, loopback: 4 };

function endpoint(e: { address: string; port: number }): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** Connections carrying an exchange with this trace id Root. */
function byTraceId(analysis: FlowAnalysis, root: string): number[] {
  const ids: number[] = [];
  for (const ex of analysis.exchanges) {
    if (ex.request?.traceId?.root === root && !ids.includes(ex.connectionId)) ids.push(ex.connectionId);
  }
  return ids;
}

/**
 * The server's clock minus ours, in ms: from the requests found by trace id (their head's time
 * in the capture against when we sent them — the network's few ms included); null when none.
 */
function clockOffsetMs(analysis: FlowAnalysis, found: ReadonlyArray<{ s: SentRequest; by: ServerRequestEvidence['matchedBy'] }>): number | null {
  const deltas: number[] = [];
  for (const m of found) {
    if (m.by !== 'trace-id' || m.s.sentAt === null) continue;
    const ex = analysis.exchanges.find((e) => e.request?.traceId?.root === m.s.traceRoot);
    if (ex?.request) deltas.push(ex.request.ts * 1000 - m.s.sentAt);
  }
  if (deltas.length === 0) return null;
  deltas.sort((a, b) => a - b);
  return deltas[Math.floor(deltas.length / 2)]!;
}

/** How close (ms) a connection must start to a request, once the clocks are aligned, to be its. */
const ALIGNED_MS = 250;

/**
 * The connections that can be a request whose handshake never completed: a SYN was seen and
 * no HTTP at all (a connection first seen mid-stream, or carrying a response, is something else).
 */
function handshakeOnly(analysis: FlowAnalysis, taken?: ReadonlySet<number>): ConnectionSummary[] {
  const withHttp = new Set(analysis.exchanges.map((e) => e.connectionId));
  return analysis.connections
    .filter((c) => !withHttp.has(c.id) && !(taken?.has(c.id) ?? false) && c.milestones.some((m) => m.kind === 'syn'))
    .sort((a, b) => a.firstTs - b.firstTs);
}

/** The connection of the first exchange not taken whose request has this method, path and (when both show one) Host. */
function byRequestLine(analysis: FlowAnalysis, line: NonNullable<SentRequest['requestLine']>, taken: Set<number>): number | null {
  const host = (h: string | null): string | null => (h === null ? null : h.toLowerCase().replace(/:80$/, ''));
  for (const ex of analysis.exchanges) {
    const q = ex.request;
    if (q === null || taken.has(ex.connectionId) || q.method !== line.method || q.target !== line.target) continue;
    if (line.host !== null && q.host !== null && host(q.host) !== host(line.host)) continue;
    return ex.connectionId;
  }
  return null;
}

/**
 * With no trace-id match to read the clocks' offset from, the one that lines the requests up
 * with connections that carry no request: each (request, connection) pair proposes an offset;
 * the one under which most requests have such a connection starting within ALIGNED_MS after
 * them (then the closest) wins. The requests went out one after the other, so two or more
 * pin it down; one alone does not (null: the order decides).
 */
function alignedOffsetMs(analysis: FlowAnalysis, unmatched: SentRequest[]): number | null {
  const sent = unmatched.filter((s) => s.sentAt !== null);
  if (sent.length < 2) return null;
  const starts = handshakeOnly(analysis).map((c) => c.firstTs * 1000);
  const score = (offset: number): { hits: number; spread: number } => {
    let hits = 0;
    let spread = 0;
    for (const q of sent) {
      const at = q.sentAt! + offset;
      const d = Math.min(...starts.map((t) => Math.abs(t - at)));
      if (d <= ALIGNED_MS) { hits++; spread += d; }
    }
    return { hits, spread };
  };
  // The same clock first (the usual case: NTP, or one machine); another offset only when it
  // lines up more requests.
  let best = { offset: 0, ...score(0) };
  for (const s of sent) {
    for (const start of starts) {
      const offset = start - s.sentAt!;
      const sc = score(offset);
      if (sc.hits > best.hits || (sc.hits === best.hits && sc.spread + Math.abs(offset) / 1000 < best.spread + Math.abs(best.offset) / 1000)) best = { offset, ...sc };
    }
  }
  return best.hits >= 2 ? best.offset : null;
}

/**
 * The connection without any request that belongs to a request whose handshake never
 * completed: the one that started closest after it was sent, on the server's clock (our clock
 * + the offset the trace-id matches show, else the same clock within CLOCK_SLACK_MS). When the
 * window holds none and the clocks cannot be compared, the requests' order decides: the first
 * such connection after the previous request's.
 */
function byTiming(analysis: FlowAnalysis, sent: SentRequest, taken: Set<number>, offsetMs: number | null, after: number): number | null {
  const candidates = handshakeOnly(analysis, taken);
  if (candidates.length === 0) return null;
  if (sent.sentAt !== null) {
    const at = sent.sentAt + (offsetMs ?? 0);
    const inWindow = candidates.filter((c) => c.firstTs * 1000 >= at - CLOCK_SLACK_MS && c.firstTs * 1000 <= at + sent.timeoutMs + CLOCK_SLACK_MS);
    if (inWindow.length > 0) return inWindow.sort((a, b) => Math.abs(a.firstTs * 1000 - at) - Math.abs(b.firstTs * 1000 - at))[0]!.id;
    if (offsetMs !== null) return null;
  }
  return candidates.find((c) => c.firstTs > after)?.id ?? null;
}

/** The reading a server evidence was made from (it carries the analysis and the host facts): to read it again. */
export function readingOf(s: ServerEvidence): ServerReading | null {
  if (s.status !== 'ok' || !s.analysis) return null;
  return { target: s.target, analysis: s.analysis, host: s.host, ports: s.ports, filter: s.filter, capturedPackets: s.capturedPackets, kernelDrops: s.kernelDrops };
}

export function serverEvidence(reading: ServerReading, sent: SentRequest[]): ServerEvidence {
  const { analysis, host } = reading;
  const roles = interfaceRoles(analysis, host);
  const taken = new Set<number>();
  // Trace ids first (they are certain), then timing for the rest.
  const matched: Array<{ s: SentRequest; ids: number[]; by: ServerRequestEvidence['matchedBy'] }> = sent.map((s) => {
    const ids = byTraceId(analysis, s.traceRoot);
    for (const id of ids) taken.add(id);
    return { s, ids, by: ids.length > 0 ? 'trace-id' : null };
  });
  const offsetMs = clockOffsetMs(analysis, matched) ?? alignedOffsetMs(analysis, matched.filter((m) => m.ids.length === 0 && m.s.reachedLoadBalancer).map((m) => m.s));
  let after = -Infinity;
  for (const m of matched) {
    if (m.ids.length > 0 || !m.s.reachedLoadBalancer || !m.s.requestLine) continue;
    const id = byRequestLine(analysis, m.s.requestLine, taken);
    if (id !== null) { m.ids = [id]; m.by = 'request-line'; taken.add(id); }
  }
  for (const m of matched) {
    const firstTs = (id: number): number => analysis.connections.find((c) => c.id === id)?.firstTs ?? after;
    if (m.ids.length > 0) { after = Math.max(after, firstTs(m.ids[0]!)); continue; }
    if (!m.s.reachedLoadBalancer) continue;
    const id = byTiming(analysis, m.s, taken, offsetMs, after);
    if (id !== null) { m.ids = [id]; m.by = 'timing'; taken.add(id); after = firstTs(id); }
  }
  // Journeys of the requests' connections only (the paths are still learnt from every connection).
  const journeys = connectionJourneys(analysis, host, { connections: taken });
  const journeyOf = new Map(journeys.map((j) => [j.connectionId, j]));
  const uplinkName = analysis.connections[0]?.milestones[0]?.hops[0]?.interface ?? null;
  const requests: ServerRequestEvidence[] = matched.map(({ s, ids, by }) => {
    const journey = ids.length > 0 ? journeyOf.get(ids[0]!) ?? null : null;
    let brk: JourneyBreak | null = journey?.break ?? null;
    if (!journey && s.reachedLoadBalancer) {
      const at = uplinkName ? { interface: uplinkName, direction: 'in' as const, role: roles.roleOf(uplinkName) } : null;
      brk = { kind: 'not-arrived', way: 'request', packet: 'syn', after: null, at, waitedMs: null, transmissions: 0, closedBy: null, deviatedTo: null, retransmittedBytes: null };
    }
    const cause = brk ? explainBreak(journey ?? emptyJourney(s), brk, host) : null;
    return { traceRoot: s.traceRoot, address: s.address, matchedBy: by, connectionIds: ids, journey, break: brk, cause };
  });

  const chosen = new Set(requests.flatMap((r) => r.connectionIds));
  const conns = analysis.connections.filter((c) => chosen.has(c.id));
  const first = requests.find((r) => r.journey !== null) ?? null;
  const primary = first ? analysis.connections.find((c) => c.id === first.connectionIds[0]) ?? null : null;
  const nat: NatMapping[] = [];
  for (const m of analysis.natMappings) {
    if (!chosen.has(m.connectionId) || m.kind !== 'dnat') continue;
    if (!nat.some((n) => n.from === m.from && n.to === m.to)) nat.push({ from: m.from, to: m.to, between: `${m.beforeInterface} → ${m.afterInterface}` });
  }
  const anomalyCounts = new Map<string, number>();
  for (const a of analysis.anomalies) if (chosen.has(a.connectionId)) anomalyCounts.set(a.message, (anomalyCounts.get(a.message) ?? 0) + 1);
  const firstJourney = first?.journey ?? null;
  return {
    target: reading.target, status: 'ok', error: null,
    capturedPackets: reading.capturedPackets, kernelDrops: reading.kernelDrops, filter: reading.filter, ports: reading.ports,
    matchedBy: requests[0]?.matchedBy ?? null,
    traceId: requests.find((r) => r.matchedBy === 'trace-id')?.traceRoot ?? null,
    requests,
    rolesFrom: roles.source,
    interfaces: sightings(analysis, host, conns, roles.roleOf),
    nat,
    packets: primary ? ladder(primary) : [],
    path: firstJourney ? pathLines(firstJourney, nat) : [],
    anomalies: [...anomalyCounts].map(([l, k]) => (k > 1 ? `${l} (×${k})` : l)),
    appTimeMs: primary && firstJourney ? appTime(analysis, primary, firstJourney) : null,
    host, analysis,
  };
}

/** A request with no connection on the instance: a journey with no packets (for explainBreak). */
function emptyJourney(s: SentRequest): ConnectionJourney {
  return {
    connectionId: 0, client: { address: s.address, port: 0 }, server: { address: '', port: 0 }, serverInside: null, firstTs: 0,
    traceRoots: [s.traceRoot], requests: [], requestPath: [], replyPath: [], pathFrom: 'this-connection', steps: [], break: null, applicationStatus: null,
  };
}

/** What each interface saw of the request's connections. */
function sightings(analysis: FlowAnalysis, host: HostFacts | null, conns: ConnectionSummary[], roleOf: (i: string) => InterfaceRole): InterfaceSighting[] {
  const hostNs = host?.namespaces.find((n) => n.ns.role === 'host') ?? null;
  const names = new Set<string>(analysis.capture.interfaces.map((i) => i.interface));
  for (const l of hostNs?.links ?? []) if (roleOf(l.name) !== 'loopback' && roleOf(l.name) !== 'other') names.add(l.name);
  const t0 = conns.length > 0 ? Math.min(...conns.map((c) => c.firstTs)) : 0;
  const out: InterfaceSighting[] = [];
  for (const iface of names) {
    const s: InterfaceSighting = { iface, role: roleOf(iface), packets: 0, firstMs: null, syn: 0, synRetransmits: 0, synAck: 0, rstBack: 0, request: false, responseStatus: null, link: null };
    const link = hostNs?.links.find((l) => l.name === iface);
    s.link = link ? (link.up ? 'up' : 'down') : null;
    const seenAt = (ts: number): void => {
      s.packets++;
      const rel = Number(((ts - t0) * 1000).toFixed(3));
      if (s.firstMs === null || rel < s.firstMs) s.firstMs = rel;
    };
    for (const c of conns) {
      const here = (hops: Array<{ interface: string }>): boolean => hops.some((h) => h.interface === iface);
      if (c.packetLog.length > 0) {
        for (const p of c.packetLog) for (const h of p.hops) if (h.interface === iface) seenAt(h.ts);
      }
      for (const m of c.milestones) {
        const onHere = here(m.hops) || (m.lastHops !== null && here(m.lastHops));
        if (!onHere) continue;
        if (c.packetLog.length === 0) seenAt(m.hops.find((h) => h.interface === iface)?.ts ?? m.ts);
        if (m.kind === 'syn') { s.syn += m.transmissions; s.synRetransmits += m.transmissions - 1; }
        if (m.kind === 'syn-ack') s.synAck += m.transmissions;
        if (m.kind === 'rst' && m.from === 'server') s.rstBack++;
      }
      for (const id of c.exchangeIds) {
        const ex = analysis.exchanges.find((e) => e.id === id);
        if (ex?.request && here(ex.request.hops)) s.request = true;
        if (ex?.response && here(ex.response.hops) && s.responseStatus === null) s.responseStatus = ex.response.status;
      }
    }
    out.push(s);
  }
  return out.sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || a.iface.localeCompare(b.iface));
}

/** The ladder of one connection from its packet log: each copy at each point, endpoints as that point saw them. */
function ladder(c: ConnectionSummary): PacketObservation[] {
  const out: PacketObservation[] = [];
  const t0 = c.packetLog[0]?.ts ?? c.firstTs;
  const legOf = (iface: string): ConnectionSummary['legs'][number] => c.legs.find((l) => l.interfaces.includes(iface)) ?? c.legs[0]!;
  c.packetLog.forEach((p, i) => {
    for (const h of p.hops) {
      const leg = legOf(h.interface);
      const toServer = p.from === 'client';
      out.push({
        packetId: i + 1, tMs: Number(((h.ts - t0) * 1000).toFixed(3)), iface: h.interface,
        direction: h.direction === 'in' || h.direction === 'out' ? h.direction : null,
        src: endpoint(toServer ? leg.client : leg.server), dst: endpoint(toServer ? leg.server : leg.client),
        label: p.label, way: toServer ? 'request' : 'response',
      });
    }
  });
  return out.sort((a, b) => a.tMs - b.tMs || a.packetId - b.packetId);
}

const pointText = (p: { interface: string; direction: string }): string => (p.direction === 'in' ? `${p.interface} In` : p.direction === 'out' ? `${p.interface} Out` : p.interface);

/** Two lines: the way in and the way back, each point seen (✗ the first one missed). */
function pathLines(j: ConnectionJourney, nat: NatMapping[]): string[] {
  const line = (way: 'request' | 'reply'): string => {
    const step = [...j.steps].reverse().find((s) => s.way === way && (s.packet === 'request' || s.packet === 'response'))
      ?? j.steps.find((s) => s.way === way && (s.packet === 'syn' || s.packet === 'syn-ack' || s.packet === 'rst'));
    const label = way === 'request' ? 'request:' : 'reply:  ';
    if (!step) return `${label} ${way === 'reply' ? 'none seen' : 'not seen'}`;
    const seen = step.seen.filter((x) => step.expected.some((p) => p.interface === x.interface)).map(pointText);
    const missing = step.missingAt ? ` ✗ never ${pointText(step.missingAt)}` : '';
    const from = way === 'request' ? `${j.client.address} → ` : '';
    const natText = way === 'request' && nat[0] ? `  (NAT ${nat[0].from} → ${nat[0].to})` : '';
    return `${label} ${step.label}: ${from}${seen.join(' → ')}${missing}${natText}`;
  };
  return [line('request'), line('reply')];
}

/** Request → response head at the end of the request path (the application's own time). */
function appTime(analysis: FlowAnalysis, c: ConnectionSummary, j: ConnectionJourney): number | null {
  const end = j.requestPath[j.requestPath.length - 1];
  if (!end) return null;
  for (const id of c.exchangeIds) {
    const ex: HttpExchange | undefined = analysis.exchanges.find((e) => e.id === id);
    const t = ex?.timings.find((x) => x.interface === end.interface);
    if (t) return t.ms;
  }
  return null;
}
