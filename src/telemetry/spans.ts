/**
 * One follow result as one trace, through any OpenTelemetry `Tracer`:
 *
 *   follow GET <host>                      root: the request, the verdict (status error: its cause)
 *   ├─ dns                                 the resolver's answer
 *   ├─ route (one per address and proto)   the trace to each load-balancer address
 *   ├─ load balancer                       the row, its targets and their health; one `GET` client span per address
 *   │  └─ GET                              http.*, url.full, server.address, network.peer.address,
 *   │                                      the X-Amzn-Trace-Id as header attribute and span link,
 *   │                                      the target that got it (flowtrace.lb.target.*) and its access-log line
 *   ├─ instance · container · application  the server side's rows and evidence
 *
 * Attributes follow the semantic conventions where one fits (http.*, url.*, server.*,
 * network.*, error.type, dns.question.name, cloud.availability_zone); the rest are
 * `flowtrace.*`. The span on the first failing layer has status ERROR with the verdict's
 * cause; other failing rows and failing requests are ERROR with their own summary.
 *
 * Spans are made after the walk, from the result: their times are the evidence's (wall-clock
 * start, DNS and trace durations, each request's send time and phases), not the exporter's.
 */
import { SpanKind, SpanStatusCode, TraceFlags, trace, ROOT_CONTEXT, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_HEADER, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_HEADER, ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_LOCAL_ADDRESS, ATTR_NETWORK_LOCAL_PORT, ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT, ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL, ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import { hopLine, traceRoot, type FollowResult, type LayerId, type RequestEvidence, type RouteEvidence, type VerdictRow } from '../follow/index.js';
import { runOutcome, type RequestOutcome } from '../watch/index.js';
import { isIP } from 'node:net';

// Incubating conventions are copied, not imported (the semantic-conventions package's advice:
// the incubating entry point may change in any minor version).
const ATTR_DNS_QUESTION_NAME = 'dns.question.name';
const ATTR_CLOUD_AVAILABILITY_ZONE = 'cloud.availability_zone';

/** The X-Amzn-Trace-Id header, as the http.request.header.* convention spells it. */
export const TRACE_ID_HEADER = 'x-amzn-trace-id';

/** Span names (low cardinality: the address and the layer are attributes). */
export const SPAN_NAMES: Readonly<Record<LayerId, string>> = {
  dns: 'dns',
  route: 'route',
  loadBalancer: 'load balancer',
  instance: 'instance',
  container: 'container',
  application: 'application',
};

/**
 * The W3C trace id of an X-Amzn-Trace-Id Root (`1-5759e988-bd862e3fe1be46a994272793` →
 * `5759e988bd862e3fe1be46a994272793`), as AWS X-Ray maps it; null when the Root is not one.
 */
export function xrayTraceId(root: string): string | null {
  const m = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i.exec(root);
  return m ? `${m[1]}${m[2]}`.toLowerCase() : null;
}

/** What recordTrace made. */
export interface RecordedTrace {
  traceId: string;
  spans: number;
}

interface Clock {
  /** The run's start and end, epoch ms. */
  start: number;
  end: number;
}

function within(c: Clock, t: number): number {
  return Math.min(Math.max(t, c.start), c.end);
}

function rowAttributes(row: VerdictRow): Attributes {
  return {
    'flowtrace.layer': row.layer,
    'flowtrace.layer.status': row.status,
    'flowtrace.layer.summary': row.summary,
    'flowtrace.layer.evidence': row.evidence,
    ...(row.timingMs !== null ? { 'flowtrace.layer.time_ms': row.timingMs } : {}),
  };
}

/** ERROR on a failing row: the verdict's cause on the first failing layer, the row's summary elsewhere. */
function rowStatus(span: Span, row: VerdictRow, result: FollowResult): void {
  if (row.status !== 'fail') return;
  const first = result.verdict.firstFailing === row.layer;
  span.setStatus({ code: SpanStatusCode.ERROR, message: (first ? result.verdict.cause : null) ?? row.summary });
  if (first && result.verdict.causeId) span.setAttribute(ATTR_ERROR_TYPE, result.verdict.causeId);
}

function networkType(address: string): Attributes {
  const v = isIP(address);
  return v ? { [ATTR_NETWORK_TYPE]: v === 6 ? 'ipv6' : 'ipv4' } : {};
}

function requestAttributes(result: FollowResult, q: RequestEvidence): Attributes {
  const local = q.localAddress ? /^(.*):(\d+)$/.exec(q.localAddress) : null;
  const errorType = q.httpStatus === null ? q.error?.code ?? 'HTTP_ERROR' : q.httpStatus >= 400 ? String(q.httpStatus) : null;
  const a: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: 'GET',
    [ATTR_URL_FULL]: result.url,
    [ATTR_URL_SCHEME]: result.scheme,
    [ATTR_SERVER_ADDRESS]: result.host,
    [ATTR_SERVER_PORT]: result.port,
    [ATTR_NETWORK_PEER_ADDRESS]: q.address,
    [ATTR_NETWORK_PEER_PORT]: q.port,
    [ATTR_NETWORK_TRANSPORT]: 'tcp',
    ...networkType(q.address),
    [ATTR_HTTP_REQUEST_HEADER(TRACE_ID_HEADER)]: [q.traceId],
    'flowtrace.trace_root': traceRoot(q.traceId),
  };
  if (local) { a[ATTR_NETWORK_LOCAL_ADDRESS] = local[1]!.replace(/^\[|\]$/g, ''); a[ATTR_NETWORK_LOCAL_PORT] = Number(local[2]); }
  if (q.httpStatus !== null) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = q.httpStatus;
  if (q.serverHeader) a[ATTR_HTTP_RESPONSE_HEADER('server')] = [q.serverHeader];
  if (errorType) a[ATTR_ERROR_TYPE] = errorType;
  if (q.node) a['flowtrace.lb.node'] = q.node;
  if (q.zone) a[ATTR_CLOUD_AVAILABILITY_ZONE] = q.zone;
  for (const [phase, ms] of Object.entries(q.phases)) if (ms !== null) a[`flowtrace.http.${phase.replace(/Ms$/, '')}_ms`] = ms;
  if (q.error) { a['flowtrace.http.error.phase'] = q.error.phase ?? ''; a['flowtrace.http.error.message'] = q.error.message; }
  return a;
}

/**
 * Where the load balancer sent the request, as its evidence says (the access log, or a
 * `--server` capture that found it): the target, its name, zone and health, how that is known,
 * and the request's access-log line (its statuses and error_reason). Nothing when nothing says.
 */
function targetAttributes(result: FollowResult, q: RequestEvidence, o: RequestOutcome | undefined): Attributes {
  const a: Attributes = {};
  const t = o?.target ?? null;
  if (t) {
    a['flowtrace.lb.target.address'] = t.address;
    if (t.name) a['flowtrace.lb.target.name'] = t.name;
    if (t.zone) a['flowtrace.lb.target.zone'] = t.zone;
    if (t.health) a['flowtrace.lb.target.health'] = t.health;
    a['flowtrace.lb.target.from'] = t.from;
  }
  if (o?.noTarget) a['flowtrace.lb.no_target'] = true;
  const root = traceRoot(q.traceId);
  const to = result.loadBalancer?.requests.find((x) => x.traceRoot === root && x.address === q.address);
  if (to?.crossZone != null) a['flowtrace.lb.cross_zone'] = to.crossZone;
  const line = result.loadBalancer?.accessLog?.requests.find((x) => x.traceRoot === root) ?? null;
  if (line) {
    a['flowtrace.lb.access_log.status'] = line.status;
    const r = line.record;
    if (r) {
      if (r.elbStatusCode !== null) a['flowtrace.lb.access_log.elb_status_code'] = r.elbStatusCode;
      if (r.targetStatusCode !== null) a['flowtrace.lb.access_log.target_status_code'] = r.targetStatusCode;
      if (r.errorReason) a['flowtrace.lb.access_log.error_reason'] = r.errorReason;
      if (line.file) a['flowtrace.lb.access_log.file'] = line.file;
    }
  }
  return a;
}

function routeAttributes(r: RouteEvidence): Attributes {
  return {
    [ATTR_NETWORK_PEER_ADDRESS]: r.address,
    ...(r.port !== null ? { [ATTR_NETWORK_PEER_PORT]: r.port } : {}),
    ...(r.proto !== 'icmp' ? { [ATTR_NETWORK_TRANSPORT]: r.proto } : {}),
    ...networkType(r.address),
    'flowtrace.route.proto': r.proto,
    'flowtrace.route.status': r.status,
    ...(r.reachedAtTtl !== null ? { 'flowtrace.route.reached_at_ttl': r.reachedAtTtl } : {}),
    'flowtrace.route.hops': r.hops.map(hopLine),
    ...(r.explanation ? { 'flowtrace.route.explanation': r.explanation } : {}),
    ...(r.error ? { 'flowtrace.route.error': r.error } : {}),
  };
}

/** Records `result` as one trace with `tracer`; returns its trace id and how many spans it has. */
export function recordTrace(tracer: Tracer, result: FollowResult): RecordedTrace {
  const start = Date.parse(result.startedAt);
  const clock: Clock = { start, end: start + Math.max(0, result.durationMs) };
  const rows = new Map(result.verdict.rows.map((r) => [r.layer, r]));
  const v = result.verdict;
  let spans = 0;

  const root = tracer.startSpan(`follow GET ${result.host}`, {
    kind: SpanKind.CLIENT, startTime: clock.start,
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_FULL]: result.url, [ATTR_URL_SCHEME]: result.scheme,
      [ATTR_SERVER_ADDRESS]: result.host, [ATTR_SERVER_PORT]: result.port,
      'flowtrace.verdict.ok': v.ok, 'flowtrace.verdict.headline': v.headline, 'flowtrace.exit_code': v.exitCode,
      ...(v.firstFailing ? { 'flowtrace.verdict.first_failing': v.firstFailing } : {}),
      ...(v.causeId ? { 'flowtrace.verdict.cause_id': v.causeId, [ATTR_ERROR_TYPE]: v.causeId } : {}),
      ...(v.cause ? { 'flowtrace.verdict.cause': v.cause } : {}),
      ...(v.nextCheck ? { 'flowtrace.verdict.next_check': v.nextCheck } : {}),
      ...(v.partial ? { 'flowtrace.verdict.partial': v.partial.share } : {}),
      ...(result.server ? { 'flowtrace.server': result.server.target } : {}),
      'flowtrace.schema_version': result.schemaVersion,
    },
  }, ROOT_CONTEXT);
  spans++;
  if (!v.ok) root.setStatus({ code: SpanStatusCode.ERROR, message: v.cause ?? v.headline });
  const parent = trace.setSpan(ROOT_CONTEXT, root);

  const layerSpan = (layer: LayerId, startTime: number, endTime: number, extra: Attributes = {}, name = SPAN_NAMES[layer]): Span => {
    const row = rows.get(layer);
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: within(clock, startTime), attributes: { ...(row ? rowAttributes(row) : { 'flowtrace.layer': layer }), ...extra } }, parent);
    spans++;
    if (row) rowStatus(span, row, result);
    span.end(Math.max(within(clock, endTime), within(clock, startTime)));
    return span;
  };

  // DNS: from the start, its own duration.
  const dns = result.dns;
  const resolver = dns.server ? /^(.*)#(\d+)(?: \((udp|tcp)\))?/.exec(dns.server) : null;
  const dnsEnd = clock.start + (dns.elapsedMs ?? 0);
  layerSpan('dns', clock.start, dnsEnd, {
    [ATTR_DNS_QUESTION_NAME]: result.host,
    'flowtrace.dns.status': dns.status,
    'flowtrace.dns.addresses': dns.addresses,
    ...(dns.rcode ? { 'flowtrace.dns.rcode': dns.rcode } : {}),
    ...(dns.error ? { 'flowtrace.dns.error': dns.error } : {}),
    ...(resolver ? { [ATTR_SERVER_ADDRESS]: resolver[1]!, [ATTR_SERVER_PORT]: Number(resolver[2]), ...(resolver[3] ? { [ATTR_NETWORK_TRANSPORT]: resolver[3] } : {}) } : {}),
  });

  // Routes: one span per address and protocol (the traces run side by side after DNS).
  if (result.routes.length) {
    for (const r of result.routes) layerSpan('route', dnsEnd, dnsEnd + (r.elapsedMs ?? 0), routeAttributes(r));
  } else {
    layerSpan('route', dnsEnd, dnsEnd);
  }

  // The load balancer: the row, and one client span per request under it.
  const sends = result.requests.map((q) => q.sentAt ?? dnsEnd);
  const ends = result.requests.map((q, i) => sends[i]! + (q.phases.totalMs ?? result.options.timeoutMs));
  const lbStart = sends.length ? Math.min(...sends) : dnsEnd;
  const lbEnd = ends.length ? Math.max(...ends) : lbStart;
  const lbRow = rows.get('loadBalancer');
  const targets = result.loadBalancer?.targets ?? [];
  const lbAttrs: Attributes = {
    ...(lbRow ? rowAttributes(lbRow) : { 'flowtrace.layer': 'loadBalancer' }),
    ...(targets.length ? { 'flowtrace.lb.targets': targets.map((t) => t.address) } : {}),
    ...(targets.some((t) => t.health) ? { 'flowtrace.lb.target_health': targets.map((t) => `${t.address}=${t.health?.state ?? 'unknown'}`) } : {}),
  };
  const lb = tracer.startSpan(SPAN_NAMES.loadBalancer, { kind: SpanKind.INTERNAL, startTime: within(clock, lbStart), attributes: lbAttrs }, parent);
  spans++;
  if (lbRow) rowStatus(lb, lbRow, result);
  const lbContext = trace.setSpan(ROOT_CONTEXT, lb);
  const outcomes = runOutcome(0, result).requests;
  result.requests.forEach((q, i) => {
    const attributes = { ...requestAttributes(result, q), ...targetAttributes(result, q, outcomes[i]) };
    const span = tracer.startSpan('GET', { kind: SpanKind.CLIENT, startTime: within(clock, sends[i]!), attributes }, lbContext);
    spans++;
    // The Root the load balancer and the target log this request under, as X-Ray reads it:
    // this span is the one that sent it (what X-Ray would call its parent).
    const linked = xrayTraceId(traceRoot(q.traceId));
    if (linked) span.addLink({ context: { traceId: linked, spanId: span.spanContext().spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'flowtrace.link': TRACE_ID_HEADER, 'flowtrace.trace_root': traceRoot(q.traceId) } });
    const ok = q.status === 'ok' && q.httpStatus !== null && q.httpStatus < 400;
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: q.error?.message ?? `HTTP ${q.httpStatus}${q.reason ? ` ${q.reason}` : ''}` });
    span.end(Math.max(within(clock, ends[i]!), within(clock, sends[i]!)));
  });
  lb.end(Math.max(within(clock, lbEnd), within(clock, lbStart)));

  // The server side: observed during the requests.
  const s = result.server;
  const serverAttrs: Attributes = s ? {
    'flowtrace.server.target': s.target, 'flowtrace.server.status': s.status,
    ...(s.error ? { 'flowtrace.server.error': s.error } : {}),
  } : {};
  layerSpan('instance', lbStart, lbEnd, { ...serverAttrs, ...(s ? { 'flowtrace.server.captured_packets': s.capturedPackets } : {}) });
  layerSpan('container', lbStart, lbEnd, { ...serverAttrs, ...(s ? { 'flowtrace.server.path': s.path, 'flowtrace.server.nat': s.nat.map((n) => `${n.from} → ${n.to} (${n.between})`) } : {}) });
  const app = s?.nat[0]?.to ? /^(.*):(\d+)$/.exec(s.nat[0].to) : null;
  layerSpan('application', lbStart, lbEnd, {
    ...serverAttrs,
    ...(app ? { [ATTR_NETWORK_PEER_ADDRESS]: app[1]!, [ATTR_NETWORK_PEER_PORT]: Number(app[2]) } : {}),
    ...(s?.appTimeMs != null ? { 'flowtrace.application.time_ms': s.appTimeMs } : {}),
  });

  root.end(clock.end);
  return { traceId: root.spanContext().traceId, spans };
}
