/**
 * Turning a finished live capture into the agent's `result`: the packets decoded and fed to
 * flow analysis with their interface names, the exchange carrying the asked trace id and
 * its in-host path, summary lines, optionally the pcapng — everything redacted.
 */
import type { LiveCapture, LiveCaptureResult } from '../capture/live/index.js';
import type { PacketSummary, ResultMessage, StartRequest, TraceResult } from './protocol.js';
import { AGENT_LIMITS } from './protocol.js';
import { analyzeLivePackets, exchangeLines, exchangePath, packetHopComments, isoTime } from './analysis.js';
import { newRedactor, redactDeep, redactText } from './redact.js';
import { planSecretMasks } from './tcp-secrets.js';
import { livePcapngBytes } from '../capture/live/index.js';
import { redactionPolicy } from '../redaction.js';

export async function buildResult(request: StartRequest, capture: LiveCapture, live: LiveCaptureResult): Promise<ResultMessage> {
  const redactor = newRedactor(redactionPolicy(request.redact));
  const analyzed = analyzeLivePackets(live.packets, capture.ifmap);
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
  };
}
