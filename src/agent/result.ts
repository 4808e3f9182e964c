/**
 * Turning a finished live capture into the agent's `result`: the packets decoded and fed to
 * flow analysis with their interface names, the exchange carrying the asked trace id and
 * its in-host path, summary lines, optionally the pcapng — everything redacted.
 */
import type { LiveCapture, LiveCaptureResult } from '../capture/live/index.js';
import type { PacketSummary, ResultMessage, StartRequest, TraceResult } from './protocol.js';
import { AGENT_LIMITS } from './protocol.js';
import { analyzeLivePackets, exchangeLines, exchangePath, packetHopComments, isoTime, type LiveAnalysis } from './analysis.js';
import { newRedactor, redactDeep, redactText } from './redact.js';
import { planSecretMasks } from './tcp-secrets.js';
import { livePcapngBytes } from '../capture/live/index.js';
import { redactionPolicy } from '../redaction.js';
import type { FlowAnalysis } from '../flow/index.js';
import type { HostFacts, HostFactsSession, NamespaceRef, RouteQuery } from '../host/index.js';

/** Packets logged per connection for the ladder (a follow's capture holds a few connections). */
export const AGENT_PACKET_LOG = 64;
/** Route lookups made at stop, at most. */
const MAX_ROUTE_QUERIES = 32;

/** The ports a capture covered: the ones asked and those Docker's DNAT translates them to. */
export function capturedPorts(request: StartRequest, capture: LiveCapture): number[] {
  return [...new Set([...request.ports, ...capture.natTranslations.map((t) => t.toPort)])];
}

/**
 * The route lookups that explain where a reply (or a request) goes: for each client of the
 * capture (the load balancer's addresses), the host's own route to it, the route a reply
 * forwarded from a container gets, the request's reverse-path check on the interface it came
 * in by, the route to each container address, and each container's route back.
 */
export function routeQueries(analysis: FlowAnalysis, capture: LiveCapture, namespaces: readonly NamespaceRef[]): RouteQuery[] {
  const clients = [...new Set(analysis.connections.map((c) => c.client.address))].slice(0, 4);
  const inner = [...new Set([...analysis.connections.map((c) => c.serverInside?.address), ...capture.natTranslations.map((t) => t.toAddress)].filter((a): a is string => typeof a === 'string'))].slice(0, 4);
  const entries = new Map<string, string>(); // server address → interface its requests came in by
  for (const c of analysis.connections) {
    const first = c.milestones.find((m) => m.from === 'client')?.hops[0]?.interface ?? c.legs[0]?.interfaces[0];
    if (first && !entries.has(c.server.address)) entries.set(c.server.address, first);
  }
  const bridgeOf = (address: string): string | null => capture.veths.find((v) => v.peerAddresses.some((a) => a.split('/')[0] === address))?.bridge ?? null;
  const out: RouteQuery[] = [];
  for (const c of clients) {
    out.push({ namespace: 'host', to: c });
    for (const a of inner) {
      const bridge = bridgeOf(a);
      if (bridge) out.push({ namespace: 'host', to: c, from: a, iif: bridge });
    }
    for (const [server, iface] of entries) out.push({ namespace: 'host', to: server, from: c, iif: iface });
    for (const ns of namespaces) if (ns.role === 'container') out.push({ namespace: ns.label, to: c });
  }
  for (const a of inner) out.push({ namespace: 'host', to: a });
  return out.slice(0, MAX_ROUTE_QUERIES);
}

/**
 * The server side's reading of a finished capture — flow's analysis (with packet logs for the
 * ladder) and the host facts read at the stop with the route lookups that explain it — the
 * same for the agent and for the agentless path.
 */
export async function analyzeServerSide(capture: LiveCapture, live: LiveCaptureResult, facts: HostFactsSession | null, options: { lines?: boolean } = {}): Promise<{ analyzed: LiveAnalysis; host: HostFacts | null }> {
  const analyzed = analyzeLivePackets(live.packets, capture.ifmap, { packetLog: AGENT_PACKET_LOG, lines: options.lines });
  const host = facts ? await facts.stop(routeQueries(analyzed.analysis, capture, facts.namespaces())) : null;
  return { analyzed, host };
}

export async function buildResult(request: StartRequest, capture: LiveCapture, live: LiveCaptureResult, facts: HostFactsSession | null = null): Promise<ResultMessage> {
  const redactor = newRedactor(redactionPolicy(request.redact));
  const { analyzed, host } = await analyzeServerSide(capture, live, facts);
  const comments = packetHopComments(live.packets, analyzed.analysis);

  const list: PacketSummary[] = [];
  for (let i = 0; i < live.packets.length && list.length < AGENT_LIMITS.maxPacketsListed; i++) {
    const p = live.packets[i];
    list.push({
      index: p.index,
      time: isoTime(p.tsSec, p.tsNsec),
      interface: p.interfaceName,
      direction: p.direction,
      length: p.originalLength,
      line: redactText(analyzed.lines[i], redactor),
      hop: comments.get(p.index) ?? null,
    });
  }
  let pcapng: string | null = null;
  if (request.pcapng) {
    // Per TCP direction, in sequence space: a header split across segments is masked too.
    const plan = planSecretMasks(live.packets, redactor.policy);
    const { bytes } = livePcapngBytes(live.packets, capture.ifmap, comments, { maskSecrets: true, mask: (data, linkType) => plan.mask(linkType, data) });
    redactor.count += plan.values;
    pcapng = Buffer.from(bytes).toString('base64');
  }
  // One entry per asked trace id; the first is also given in the v1 fields (traceId, found…).
  const traces: TraceResult[] = request.traceIds.map((traceId) => {
    const exchange = analyzed.findByTraceId(traceId);
    return {
      traceId,
      found: exchange !== null,
      exchange: exchange === null ? null : redactDeep(exchange, redactor),
      path: exchange === null ? [] : exchangePath(exchange).map((l) => redactText(l, redactor)),
    };
  });
  const first = traces[0] ?? null;
  const warnings = [...live.warnings];
  if (live.packetCount > list.length) warnings.push(`listed ${list.length} of ${live.packetCount} packets`);
  return {
    type: 'result',
    id: request.id,
    stoppedBy: live.stoppedBy,
    durationMs: Math.round(live.durationMs),
    packets: {
      captured: live.packetCount,
      listed: list.length,
      droppedByKernel: live.kernel?.droppedByKernel ?? null,
      receivedByFilter: live.kernel?.receivedByFilter ?? null,
    },
    traceId: first?.traceId ?? null,
    found: first?.found ?? false,
    exchange: first?.exchange ?? null,
    path: first?.path ?? [],
    traces,
    exchanges: exchangeLines(analyzed.analysis).map((l) => redactText(l, redactor)),
    anomalies: analyzed.analysis.anomalies.map((a) => redactText(a.message, redactor)),
    natMappings: analyzed.analysis.natMappings.map((n) => `${n.from} → ${n.to} (${n.kind}, ${n.beforeInterface} → ${n.afterInterface})`),
    list,
    pcapng,
    redactions: redactor.count,
    warnings: warnings.map((w) => redactText(w, redactor)),
    ports: capturedPorts(request, capture),
    analysis: redactDeep(analyzed.analysis, redactor),
    host,
  };
}
