/**
 * From the probes of a finished trace to hops (per-TTL loss, RTT min/avg/max, every
 * responder) and sentences that explain the stars, the way a person reading mtr would:
 * - silent or lossy hops followed by answering hops do not lose traffic: the router just
 *   does not answer traceroute (filtered or rate-limited ICMP), the path goes on;
 * - silence from some hop to the end: the path stops after the last answering hop;
 * - an unreachable (!X, !H …) ends the path at the hop that sent it.
 */
import type { ProbeFlow } from './flow.js';
import { isDestinationReply, type TracerOutcome } from './tracer.js';
import type { AddressTrace, Hop, HopResponder, Probe, ReplyKind, TraceFailureSource, TraceStatus } from './types.js';

const roundMs = (n: number): number => Math.round(n * 1000) / 1000;

export function analyzeTrace(flow: ProbeFlow, outcome: TracerOutcome, firstTtl: number, maxTtl: number): AddressTrace {
  const lastTtl = Math.min(outcome.destinationTtl ?? Infinity, outcome.unreachableTtl ?? Infinity, maxTtl);
  const hops: Hop[] = [];
  for (let ttl = firstTtl; ttl <= lastTtl; ttl++) {
    hops.push(buildHop(ttl, outcome.probes.filter((p) => p.ttl === ttl)));
  }
  const answering = hops.filter((h) => h.received > 0);
  const lastAnsweringTtl = answering.length ? answering[answering.length - 1].ttl : null;
  const destinationHop = outcome.destinationTtl !== null ? hops.find((h) => h.ttl === outcome.destinationTtl) ?? null : null;
  const destinationReply = destinationHop ? firstDestinationKind(outcome.probes, destinationHop.ttl) : null;

  let unreachable: AddressTrace['unreachable'] = null;
  if (outcome.unreachableTtl !== null && (outcome.destinationTtl === null || outcome.unreachableTtl < outcome.destinationTtl)) {
    const p = outcome.probes.find((x) => x.ttl === outcome.unreachableTtl && x.state.kind === 'Complete' && x.state.reply.kind === 'unreachable');
    if (p && p.state.kind === 'Complete') {
      const r = p.state.reply;
      unreachable = { ttl: p.ttl, responder: r.responder, flag: r.flag ?? '!', meaning: r.flagMeaning ?? 'destination unreachable' };
    }
  }

  const probesSent = outcome.probes.filter((p) => p.state.kind === 'Complete' || p.state.kind === 'TimedOut' || p.state.kind === 'Failed').length;
  const probesHeld = outcome.probes.filter((p) => p.state.kind === 'Skipped' && p.state.reason === 'beyond-silent-horizon').length;
  let status: TraceStatus;
  let failureSource: TraceFailureSource;
  if (destinationHop && !unreachable) { status = 'reached'; failureSource = null; }
  else if (unreachable) { status = 'unreachable'; failureSource = unreachable.responder === flow.destination ? 'target' : 'route'; }
  else if (probesSent > 0 && outcome.sendErrors === probesSent) { status = 'failed'; failureSource = 'local'; }
  else if (lastAnsweringTtl === null) { status = 'no-reply'; failureSource = 'route'; }
  else { status = 'stopped'; failureSource = 'route'; }

  annotateHops(hops);
  const explanation = explain(flow, hops, status, lastAnsweringTtl, destinationHop, destinationReply, unreachable, outcome, maxTtl);

  return {
    address: flow.destination,
    family: flow.family,
    sourceAddress: flow.source,
    status,
    failureSource,
    destinationReached: status === 'reached',
    reachedAtTtl: status === 'reached' && destinationHop ? destinationHop.ttl : null,
    destinationReply: status === 'reached' ? destinationReply : null,
    unreachable,
    lastAnsweringTtl,
    hops,
    explanation,
    lateReplies: outcome.lateReplies,
    duplicateReplies: outcome.duplicateReplies,
    sendErrors: outcome.sendErrors,
    firstSendError: outcome.firstSendError,
    probesSent,
    probesHeld,
    silentHorizonTtl: outcome.silentHorizonTtl,
    durationMs: roundMs(outcome.finishedAtMs - outcome.startedAtMs),
    pathMtu: null,
  };
}

function buildHop(ttl: number, probes: Probe[]): Hop {
  let sent = 0;
  let failed = 0;
  const rtts: number[] = [];
  const responders = new Map<string, { rtts: number[]; kinds: Set<ReplyKind> }>();
  const flags: string[] = [];
  let destination = false;
  for (const p of probes) {
    const s = p.state;
    if (s.kind === 'Failed') { failed++; continue; }
    if (s.kind !== 'Complete' && s.kind !== 'TimedOut') continue;
    sent++;
    if (s.kind !== 'Complete') continue;
    const rtt = s.receivedAtMs - s.sentAtMs;
    rtts.push(rtt);
    const r = s.reply;
    let entry = responders.get(r.responder);
    if (!entry) { entry = { rtts: [], kinds: new Set() }; responders.set(r.responder, entry); }
    entry.rtts.push(rtt);
    entry.kinds.add(r.kind);
    if (r.flag && !flags.includes(r.flag)) flags.push(r.flag);
    if (isDestinationReply(r)) destination = true;
  }
  const stats = rttStats(rtts);
  return {
    ttl,
    sent,
    received: rtts.length,
    lossPercent: sent === 0 ? null : Math.round(((sent - rtts.length) / sent) * 1000) / 10,
    rttMinMs: stats?.min ?? null,
    rttAvgMs: stats?.avg ?? null,
    rttMaxMs: stats?.max ?? null,
    responders: [...responders].map(([address, e]): HopResponder => {
      const st = rttStats(e.rtts)!;
      return { address, replies: e.rtts.length, kinds: [...e.kinds], rttMinMs: st.min, rttAvgMs: st.avg, rttMaxMs: st.max };
    }),
    flags,
    destination,
    failed,
    note: null,
  };
}

function rttStats(rtts: number[]): { min: number; avg: number; max: number } | null {
  if (rtts.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const r of rtts) { if (r < min) min = r; if (r > max) max = r; sum += r; }
  return { min: roundMs(min), avg: roundMs(sum / rtts.length), max: roundMs(max) };
}

function firstDestinationKind(probes: Probe[], ttl: number): ReplyKind | null {
  for (const p of probes) {
    if (p.ttl === ttl && p.state.kind === 'Complete' && isDestinationReply(p.state.reply)) return p.state.reply.kind;
  }
  return null;
}

export const NOTE_SILENT_PATH_GOES_ON = 'not answering traceroute (filtered or rate-limited), the path goes on';

/** Per-hop notes: stars in the middle, loss that does not carry on, unreachable flags. */
function annotateHops(hops: Hop[]): void {
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i];
    if (h.sent === 0) continue;
    const later = hops.slice(i + 1).filter((x) => x.sent > 0);
    const laterAnswers = later.some((x) => x.received > 0);
    if (h.received === 0) {
      if (laterAnswers) h.note = NOTE_SILENT_PATH_GOES_ON;
      continue;
    }
    if (h.flags.length > 0) {
      h.note = `unreachable ${h.flags.join(' ')}: the path ends here`;
      continue;
    }
    const loss = h.lossPercent ?? 0;
    if (loss > 0 && !h.destination && laterAnswers) {
      const worstLater = Math.min(...later.filter((x) => x.received > 0).map((x) => x.lossPercent ?? 0));
      h.note = worstLater < loss
        ? `${loss}% loss here but less further on: this router rate-limits its ICMP replies, the path itself is not losing packets`
        : `loss starts here and carries on to later hops: packets are being lost at or after this hop`;
    } else if (loss > 0 && h.destination) {
      h.note = `the destination answered ${h.received} of ${h.sent} probes`;
    }
  }
}

const DESTINATION_MEANING: Record<string, (flow: ProbeFlow) => string> = {
  'tcp-syn-ack': (f) => `TCP port ${f.dstPort} is open (SYN-ACK)`,
  'tcp-rst': (f) => `TCP port ${f.dstPort} is closed (RST): the host is reachable, nothing listens on that port`,
  'port-unreachable': (f) => `UDP port ${f.dstPort} unreachable from the destination itself, which is how a UDP trace ends`,
  'echo-reply': () => 'ICMP echo reply',
};

function explain(
  flow: ProbeFlow,
  hops: Hop[],
  status: TraceStatus,
  lastAnsweringTtl: number | null,
  destinationHop: Hop | null,
  destinationReply: ReplyKind | null,
  unreachable: AddressTrace['unreachable'],
  outcome: TracerOutcome,
  maxTtl: number,
): string[] {
  const out: string[] = [];
  // Runs of silent hops that are followed by answering hops.
  const silent = hops.filter((h) => h.note === NOTE_SILENT_PATH_GOES_ON).map((h) => h.ttl);
  for (const run of runs(silent)) {
    const which = run.length === 1 ? `hop ${run[0]} does` : `hops ${run[0]}–${run[run.length - 1]} do`;
    out.push(`${which} not answer: ${NOTE_SILENT_PATH_GOES_ON} (later hops answer)`);
  }
  for (const h of hops) {
    if (h.note && h.note.includes('rate-limits')) out.push(`hop ${h.ttl}: ${h.note}`);
    if (h.note && h.note.startsWith('loss starts')) out.push(`hop ${h.ttl}: ${h.note}`);
  }
  const last = lastAnsweringTtl !== null ? hops.find((h) => h.ttl === lastAnsweringTtl) : undefined;
  const lastWho = last && last.responders.length ? ` (${last.responders.map((r) => r.address).join(', ')})` : '';
  switch (status) {
    case 'reached': {
      const h = destinationHop!;
      const how = destinationReply ? DESTINATION_MEANING[destinationReply]?.(flow) ?? destinationReply : 'answered';
      out.push(`destination ${flow.destination} reached at hop ${h.ttl}: ${how}`);
      break;
    }
    case 'unreachable': {
      const u = unreachable!;
      const who = u.responder === flow.destination ? 'the destination itself' : `a router (${u.responder})`;
      out.push(`hop ${u.ttl}: ${who} answered ${u.flag}, ${u.meaning}; the path ends there`);
      break;
    }
    case 'stopped':
      out.push(`no reply after hop ${lastAnsweringTtl}${lastWho} up to hop ${maxTtl}: the path stops after hop ${lastAnsweringTtl} ` +
        `(the next router or link drops the probes, or everything beyond filters ${flow.protocol.toUpperCase()} probes${flow.protocol !== 'icmp' ? ` to port ${flow.dstPort}` : ''})`);
      break;
    case 'no-reply':
      out.push(`nothing answered, not even hop ${hops[0]?.ttl ?? 1}: the probes are dropped right after leaving this machine (local firewall, or a first router that filters them)`);
      break;
    case 'failed':
      // EPERM on a send is netfilter's answer on this very machine (an OUTPUT rule that drops or rejects).
      out.push(`the probes could not be sent: ${outcome.firstSendError ?? 'send failed'}${/EPERM|not permitted/i.test(outcome.firstSendError ?? '') ? ` (a firewall rule on this machine refuses them: \`${flow.destination.includes(':') ? 'ip6tables' : 'iptables'} -S OUTPUT\`, \`nft list ruleset\`)` : ''}`);
      break;
  }
  if (status !== 'failed' && outcome.silentHorizonTtl !== null && outcome.silentHorizonTtl < lastTtl(hops)) {
    const h = outcome.silentHorizonTtl;
    const after = lastAnsweringTtl === null ? 'nothing answered' : `nothing answered past hop ${lastAnsweringTtl}`;
    out.push(`${after}: later rounds probed only up to hop ${h} (the ${h - (lastAnsweringTtl ?? hops[0].ttl - 1)} hops after it); hops ${h + 1}–${lastTtl(hops)} were probed once`);
  }
  if (outcome.sendErrors > 0 && status !== 'failed') out.push(`${outcome.sendErrors} probe(s) could not be sent: ${outcome.firstSendError}`);
  if (outcome.aborted) out.push('interrupted: the trace is partial');
  return out;
}

function lastTtl(hops: Hop[]): number {
  return hops.length ? hops[hops.length - 1].ttl : 0;
}

function runs(ttls: number[]): number[][] {
  const out: number[][] = [];
  for (const t of ttls) {
    const cur = out[out.length - 1];
    if (cur && cur[cur.length - 1] === t - 1) cur.push(t);
    else out.push([t]);
  }
  return out;
}
