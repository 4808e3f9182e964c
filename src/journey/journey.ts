/**
 * Journeys: each connection's packets against the path they should take, both ways, and the
 * first place the conversation stopped. The rules, in the order a TCP conversation goes (each
 * is checked only when the ones before it passed):
 *
 *  1. The SYN must reach the end of the request path; the furthest point it reached is where
 *     it stopped (`stopped`).
 *  2. An RST from the server instead of a SYN-ACK: first seen at the start of the reply path,
 *     the end host refused (`refused`); first seen further out, the host answered in its place
 *     (`answered-by-host`).
 *  3. No SYN-ACK and no RST: nothing answered the delivered SYN (`no-answer`).
 *  4. The SYN-ACK must cross the whole reply path (`stopped` otherwise); when it left by the
 *     last point and the client never acknowledged it — it sent its SYN again, or the server
 *     sent the SYN-ACK again — it was lost beyond the host (`lost-after`).
 *  5. The handshake's ACK and each request must reach the end of the request path (`stopped`).
 *  6. Each request needs a response: none before the client closed (or the capture ended) is
 *     `no-response`; an RST from the server is `reset`. A response must cross the whole reply
 *     path (`stopped`).
 *  7. A response that left by the last point but that the client never acknowledged, while the
 *     server sent it again, was lost beyond the host (`lost-after`, with the size sent again).
 *
 * A point missing behind a point further on is the capture's loss, not the packet's: only the
 * furthest point reached counts.
 */
import type { ConnectionSummary, FlowAnalysis, Hop, HttpExchange, Milestone } from '../flow/index.js';
import type { HostFacts } from '../host/index.js';
import { expectedPaths, interfaceRoles, type RoleMap } from './paths.js';
import type { ConnectionJourney, JourneyBreak, JourneyStep, PathPoint, Sighting, StepPacket } from './types.js';

const LABELS: Record<Milestone['kind'], string> = { syn: 'SYN', 'syn-ack': 'SYN-ACK', ack: 'ACK', fin: 'FIN', rst: 'RST' };

const key = (p: { interface: string; direction: string }): string => `${p.interface}|${p.direction}`;

/** Same point: same interface, and the same direction when both know it. */
function samePoint(a: { interface: string; direction: string }, b: { interface: string; direction: string }): boolean {
  return a.interface === b.interface && (a.direction === b.direction || a.direction === 'unknown' || b.direction === 'unknown');
}

function sightings(hopLists: Array<Hop[] | null>, roles: RoleMap): Sighting[] {
  const out: Sighting[] = [];
  const seen = new Set<string>();
  for (const hops of hopLists) {
    for (const h of hops ?? []) {
      const k = key(h);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ interface: h.interface, direction: h.direction, role: roles.roleOf(h.interface), offsetUs: h.offsetUs });
    }
  }
  return out;
}

interface StepInput {
  packet: StepPacket;
  label: string;
  from: 'client' | 'server';
  ts: number;
  transmissions: number;
  hops: Hop[];
  lastHops: Hop[] | null;
  exchangeId: number | null;
  traceRoot: string | null;
  httpStatus: number | null;
}

function evaluate(input: StepInput, expected: PathPoint[], roles: RoleMap): JourneyStep {
  const seen = sightings([input.hops, input.lastHops], roles);
  const indexOf = (s: Sighting): number => expected.findIndex((p) => samePoint(p, s));
  // Path order: the expected points first, in their order, then the others as seen.
  seen.sort((a, b) => {
    const ia = indexOf(a);
    const ib = indexOf(b);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.offsetUs - b.offsetUs;
  });
  let furthest = -1;
  let first = -1;
  for (const s of seen) {
    const i = indexOf(s);
    if (i > furthest) furthest = i;
  }
  // The first sighting in time, when it is on the path.
  const earliest = [...input.hops].sort((a, b) => a.offsetUs - b.offsetUs)[0];
  if (earliest) first = expected.findIndex((p) => samePoint(p, earliest));
  const offPath = seen.filter((s) => indexOf(s) < 0);
  let status: JourneyStep['status'];
  if (expected.length === 0 || furthest === expected.length - 1) status = 'complete';
  else if (furthest < 0) status = offPath.length > 0 ? 'deviated' : 'unseen';
  else status = offPath.some((s) => s.direction === 'out') ? 'deviated' : 'stopped';
  return {
    packet: input.packet, label: input.label, from: input.from, way: input.from === 'client' ? 'request' : 'reply',
    ts: input.ts, transmissions: input.transmissions, seen, expected,
    status,
    lastSeen: furthest >= 0 ? expected[furthest]! : null,
    missingAt: status === 'complete' ? null : expected[furthest + 1] ?? null,
    originMidway: input.from === 'server' && first > 0 ? expected[first]! : null,
    exchangeId: input.exchangeId, traceRoot: input.traceRoot, httpStatus: input.httpStatus,
  };
}

function milestoneInput(m: Milestone): StepInput {
  return {
    packet: m.kind, label: LABELS[m.kind], from: m.from, ts: m.ts, transmissions: m.transmissions,
    hops: m.hops, lastHops: m.lastHops, exchangeId: null, traceRoot: null, httpStatus: null,
  };
}

function exchangeInputs(ex: HttpExchange): StepInput[] {
  const out: StepInput[] = [];
  const root = ex.request?.traceId?.root ?? null;
  if (ex.request) {
    out.push({
      packet: 'request', label: `${ex.request.method} ${ex.request.target}`, from: 'client', ts: ex.request.ts, transmissions: 1,
      hops: ex.request.hops, lastHops: null, exchangeId: ex.id, traceRoot: root, httpStatus: null,
    });
  }
  if (ex.response) {
    out.push({
      packet: 'response', label: `HTTP ${ex.response.status}`, from: 'server', ts: ex.response.ts, transmissions: 1,
      hops: ex.response.hops, lastHops: null, exchangeId: ex.id, traceRoot: root, httpStatus: ex.response.status,
    });
  }
  return out;
}

const ms = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

/** The first break of a conversation (the numbered rules at the top). */
function firstBreak(c: ConnectionSummary, steps: JourneyStep[], exchanges: HttpExchange[], captureEndTs: number | null): JourneyBreak | null {
  const find = (packet: StepPacket, from?: 'client' | 'server'): JourneyStep | undefined => steps.find((s) => s.packet === packet && (from === undefined || s.from === from));
  const syn = find('syn');
  const synAck = find('syn-ack');
  const ack = find('ack');
  const rst = find('rst', 'server');
  const clientClose = steps.find((s) => s.from === 'client' && (s.packet === 'fin' || s.packet === 'rst'));
  const closedBy: JourneyBreak['closedBy'] = clientClose ? (clientClose.packet === 'fin' ? 'client-fin' : 'client-rst') : null;
  const base = { deviatedTo: null, retransmittedBytes: null, closedBy };
  const stopped = (s: JourneyStep): JourneyBreak => ({
    ...base, kind: 'stopped', way: s.way, packet: s.packet, after: s.lastSeen, at: s.missingAt, waitedMs: null, transmissions: s.transmissions,
    deviatedTo: s.status === 'deviated' ? s.seen.find((x) => x.direction === 'out' && !s.expected.some((p) => samePoint(p, x))) ?? null : null,
  });
  const end = (s: JourneyStep): PathPoint | null => s.expected[s.expected.length - 1] ?? null;
  const waited = (fromTs: number): number | null => {
    const until = clientClose?.ts ?? captureEndTs;
    return until === null || until === undefined ? null : ms(until - fromTs);
  };
  if (syn) {
    // 1. (with an RST the host sent in the application's place, the host answered where the SYN stopped)
    if (syn.status !== 'complete') {
      if (rst?.originMidway) return { ...stopped(syn), kind: 'answered-by-host' };
      return stopped(syn);
    }
    if (!synAck) {
      // 2.
      if (rst) {
        if (rst.originMidway) return { ...base, kind: 'answered-by-host', way: 'request', packet: 'syn', after: rst.originMidway, at: null, waitedMs: null, transmissions: syn.transmissions };
        return { ...base, kind: 'refused', way: 'request', packet: 'rst', after: null, at: end(syn), waitedMs: null, transmissions: syn.transmissions };
      }
      // 3.
      return { ...base, kind: 'no-answer', way: 'request', packet: 'syn', after: end(syn), at: null, waitedMs: waited(syn.ts), transmissions: syn.transmissions };
    }
    // 4.
    if (synAck.status !== 'complete') return stopped(synAck);
    if (!ack) {
      return { ...base, kind: 'lost-after', way: 'reply', packet: 'syn-ack', after: end(synAck), at: null, waitedMs: waited(synAck.ts), transmissions: Math.max(synAck.transmissions, syn.transmissions) };
    }
    // 5.
    if (ack.status !== 'complete') return stopped(ack);
  }
  // 5–6. each exchange in order
  for (const ex of exchanges) {
    const req = steps.find((s) => s.packet === 'request' && s.exchangeId === ex.id);
    const res = steps.find((s) => s.packet === 'response' && s.exchangeId === ex.id);
    if (req && req.status !== 'complete') return stopped(req);
    if (req && !res) {
      if (rst && rst.ts >= req.ts) {
        return { ...base, kind: 'reset', way: 'reply', packet: 'rst', after: null, at: rst.originMidway ?? end(req), waitedMs: ms(rst.ts - req.ts), transmissions: 1 };
      }
      return { ...base, kind: 'no-response', way: 'request', packet: 'request', after: end(req), at: null, waitedMs: waited(req.ts), transmissions: 1 };
    }
    if (res && res.status !== 'complete') return stopped(res);
    // 7. The response left by the last point, the client never acknowledged it and the server
    //    sent it again: it was lost beyond the host.
    const back = c.toClient;
    if (res && back.retransmissions > 0 && back.unackedBytes > 1) {
      return { ...base, kind: 'lost-after', way: 'reply', packet: 'response', after: end(res), at: null, waitedMs: waited(res.ts), transmissions: 1 + back.retransmissions, retransmittedBytes: back.maxRetransmittedBytes };
    }
  }
  return null;
}

export interface JourneyOptions {
  /** Only these connections (ids); default all. */
  connections?: ReadonlySet<number>;
}

/** The journey of every connection of an analysis (or of the ones asked), read with the host's facts when given. */
export function connectionJourneys(analysis: FlowAnalysis, host: HostFacts | null = null, options: JourneyOptions = {}): ConnectionJourney[] {
  const roles = interfaceRoles(analysis, host);
  const pathsOf = expectedPaths(analysis, host, roles);
  const byConnection = new Map<number, HttpExchange[]>();
  for (const ex of analysis.exchanges) {
    const list = byConnection.get(ex.connectionId) ?? [];
    list.push(ex);
    byConnection.set(ex.connectionId, list);
  }
  const out: ConnectionJourney[] = [];
  for (const c of analysis.connections) {
    if (options.connections && !options.connections.has(c.id)) continue;
    const paths = pathsOf(c);
    const exchanges = (byConnection.get(c.id) ?? []).sort((a, b) => a.index - b.index);
    const inputs = [...c.milestones.map(milestoneInput), ...exchanges.flatMap(exchangeInputs)];
    const steps = inputs
      .map((i) => evaluate(i, i.from === 'client' ? paths.request : paths.reply, roles))
      .sort((a, b) => a.ts - b.ts);
    const appStatus = [...steps].reverse().find((s) => s.packet === 'response' && s.seen.some((x) => samePoint(x, paths.reply[0] ?? x)))?.httpStatus ?? null;
    out.push({
      connectionId: c.id, client: c.client, server: c.server, serverInside: c.serverInside, firstTs: c.firstTs,
      traceRoots: exchanges.map((e) => e.request?.traceId?.root).filter((r): r is string => typeof r === 'string'),
      requests: exchanges.filter((e) => e.request).map((e) => `${e.request!.method} ${e.request!.target}`),
      requestPath: paths.request, replyPath: paths.reply, pathFrom: paths.from,
      steps,
      break: firstBreak(c, steps, exchanges, analysis.capture.lastTs),
      applicationStatus: appStatus,
    });
  }
  return out;
}
