/**
 * OpenTelemetry traces: recorded follow results (real lab runs) exported through the SDK's
 * OTLP/HTTP exporter to an OTLP/HTTP endpoint on 127.0.0.1 (node:http), the request decoded
 * with the OTLP types (@opentelemetry/otlp-transformer) and checked span by span; then
 * `follow --otlp` at the command line against a server on loopback.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IExportTraceServiceRequest, ISpan } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';
import type { IKeyValue } from '@opentelemetry/otlp-transformer/build/src/common/internal-types.js';
import { OtlpTraces, otlpTracesUrl, xrayTraceId } from '../../src/telemetry/index.js';
import { traceRoot, type FollowResult } from '../../src/follow/index.js';
import { recordedResult } from '../follow/recorded.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

/** What the endpoint received: path, content type, the decoded request. */
interface Received { path: string; contentType: string; body: IExportTraceServiceRequest }

let collector: http.Server;
let collectorUrl = '';
const received: Received[] = [];
let app: http.Server;
let appPort = 0;

before(async () => {
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as IExportTraceServiceRequest });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  app = http.createServer((req, res) => { res.writeHead(req.url === '/fail' ? 503 : 200); res.end('ok'); });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
});
after(() => { collector.close(); collector.closeAllConnections(); app.close(); app.closeAllConnections(); });

function attr(kv: IKeyValue[], key: string): unknown {
  const v = kv.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => x.stringValue ?? x.intValue ?? x.doubleValue ?? x.boolValue);
  return v.stringValue ?? (v.intValue !== undefined && v.intValue !== null ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
}

function spansOf(r: Received): ISpan[] {
  return (r.body.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans ?? []));
}

async function exportOne(result: FollowResult): Promise<{ spans: ISpan[]; received: Received; traceId: string }> {
  const before = received.length;
  const traces = new OtlpTraces({ url: otlpTracesUrl(collectorUrl) });
  try {
    const sent = await traces.export(result);
    assert.equal(sent.ok, true, sent.error ?? '');
    assert.equal(received.length, before + 1, 'one export request per result');
    const r = received[received.length - 1]!;
    const spans = spansOf(r);
    assert.equal(spans.length, sent.spans);
    return { spans, received: r, traceId: sent.traceId };
  } finally {
    await traces.shutdown();
  }
}

test('otlpTracesUrl: a base URL gets /v1/traces, a full one is kept; other schemes are usage errors', () => {
  assert.equal(otlpTracesUrl('http://localhost:4318'), 'http://localhost:4318/v1/traces');
  assert.equal(otlpTracesUrl('https://otlp.example.com/custom/traces'), 'https://otlp.example.com/custom/traces');
  assert.throws(() => otlpTracesUrl('grpc://x:4317'), { code: 'USAGE' });
  assert.throws(() => otlpTracesUrl('not a url'), { code: 'USAGE' });
  assert.equal(xrayTraceId('1-5759e988-bd862e3fe1be46a994272793'), '5759e988bd862e3fe1be46a994272793');
  assert.equal(xrayTraceId('nonsense'), null);
});

test('a healthy run: one trace, a root span and a child per layer (a route per address, a GET per request under the load balancer), no error', async () => {
  const result = recordedResult('healthy');
  const { spans, received: r, traceId } = await exportOne(result);
  assert.equal(r.path, '/v1/traces');
  assert.match(r.contentType, /^application\/json/);
  assert.equal(attr(r.body.resourceSpans![0]!.resource!.attributes, 'service.name'), 'flowtrace');
  assert.ok(spans.every((s) => s.traceId === traceId), 'one trace');
  const root = spans.find((s) => !s.parentSpanId)!;
  assert.equal(root.name, 'follow GET seqas.online');
  assert.equal(root.kind, 3, 'client');
  assert.equal(attr(root.attributes, 'url.full'), result.url);
  assert.equal(attr(root.attributes, 'http.request.method'), 'GET');
  assert.equal(attr(root.attributes, 'server.address'), 'seqas.online');
  assert.equal(attr(root.attributes, 'flowtrace.verdict.ok'), true);
  assert.equal(root.status.code, 0);
  assert.equal(BigInt(root.startTimeUnixNano as string), BigInt(Date.parse(result.startedAt)) * 1_000_000n);
  const children = spans.filter((s) => s.parentSpanId === root.spanId);
  assert.deepEqual(children.map((s) => s.name).sort(), ['application', 'container', 'dns', 'instance', 'load balancer', ...result.routes.map(() => 'route')].sort());
  const routes = children.filter((s) => s.name === 'route');
  assert.deepEqual(routes.map((s) => attr(s.attributes, 'network.peer.address')).sort(), result.routes.map((x) => x.address).sort());
  const dns = children.find((s) => s.name === 'dns')!;
  assert.equal(attr(dns.attributes, 'dns.question.name'), 'seqas.online');
  assert.deepEqual(attr(dns.attributes, 'flowtrace.dns.addresses'), result.dns.addresses);
  const lb = children.find((s) => s.name === 'load balancer')!;
  const gets = spans.filter((s) => s.parentSpanId === lb.spanId);
  assert.equal(gets.length, result.requests.length);
  for (const q of result.requests) {
    const g = gets.find((s) => attr(s.attributes, 'network.peer.address') === q.address)!;
    assert.equal(g.name, 'GET');
    assert.equal(g.kind, 3);
    assert.equal(attr(g.attributes, 'http.response.status_code'), 200);
    assert.equal(attr(g.attributes, 'url.full'), result.url);
    assert.equal(attr(g.attributes, 'cloud.availability_zone'), q.zone);
    assert.deepEqual(attr(g.attributes, 'http.request.header.x-amzn-trace-id'), [q.traceId]);
    assert.equal(g.links.length, 1);
    assert.equal(g.links[0]!.traceId, xrayTraceId(traceRoot(q.traceId)), 'the link: the X-Ray trace of the Root sent');
    assert.equal(g.links[0]!.spanId, g.spanId);
    assert.equal(g.status.code, 0);
  }
  assert.ok(spans.every((s) => s.status.code !== 2), 'no error anywhere');
});

test('a failing run: status error on the first failing layer with the verdict\'s cause, and on the failing request; a partial failure names its node', async () => {
  const dnat = recordedResult('dnat-missing');
  const { spans } = await exportOne(dnat);
  const root = spans.find((s) => !s.parentSpanId)!;
  assert.equal(root.status.code, 2);
  assert.equal(root.status.message, dnat.verdict.cause);
  assert.equal(attr(root.attributes, 'error.type'), dnat.verdict.causeId);
  const layerSpans = spans.filter((s) => s.parentSpanId === root.spanId && attr(s.attributes, 'flowtrace.layer') === dnat.verdict.firstFailing);
  assert.equal(layerSpans.length, 1);
  assert.equal(layerSpans[0]!.status.code, 2);
  assert.equal(layerSpans[0]!.status.message, dnat.verdict.cause);
  assert.equal(attr(layerSpans[0]!.attributes, 'flowtrace.layer.status'), 'fail');
  const gets = spans.filter((s) => s.name === 'GET');
  assert.ok(gets.every((g) => attr(g.attributes, 'http.response.status_code') === 502 && attr(g.attributes, 'error.type') === '502' && g.status.code === 2));

  const down = recordedResult('alb-node-down');
  const d = await exportOne(down);
  const failing = d.spans.filter((s) => s.name === 'GET' && s.status.code === 2);
  assert.equal(failing.length, 1);
  assert.equal(attr(failing[0]!.attributes, 'network.peer.address'), '10.77.2.10');
  assert.equal(attr(failing[0]!.attributes, 'flowtrace.lb.node'), 'alb-b');
  assert.equal(attr(failing[0]!.attributes, 'error.type'), 'HTTP_CONNECT_REFUSED');
  const lb = d.spans.find((s) => s.name === 'load balancer')!;
  assert.equal(lb.status.code, 2);
  assert.equal(lb.status.message, down.verdict.cause);

  const nx = recordedResult('dns-nxdomain');
  const n = await exportOne(nx);
  const dns = n.spans.find((s) => s.name === 'dns')!;
  assert.equal(dns.status.code, 2);
  assert.equal(attr(dns.attributes, 'flowtrace.dns.status'), 'nxdomain');
  assert.equal(n.spans.filter((s) => s.name === 'GET').length, 0);
});

test('the target that got each request: on its GET span (flowtrace.lb.target.*, the access-log line), the targets and their health on the load balancer span', async () => {
  const sig = recordedResult('raw-app-sigstop');
  const { spans } = await exportOne(sig);
  const lb = spans.find((s) => s.name === 'load balancer')!;
  assert.deepEqual(attr(lb.attributes, 'flowtrace.lb.targets'), sig.loadBalancer.targets.map((t) => t.address));
  assert.deepEqual(attr(lb.attributes, 'flowtrace.lb.target_health'), ['172.31.5.20:80=unhealthy', '172.31.21.20:80=unhealthy']);
  const gets = spans.filter((s) => s.parentSpanId === lb.spanId);
  const byNode = (node: string): ISpan => gets.find((g) => attr(g.attributes, 'flowtrace.lb.node') === node)!;
  // The access log: alb-b sent its request to ec2-a, alb-a to ec2-b; both 504s are the load balancer's, the targets never answered.
  for (const [node, address, name, zone] of [['alb-b', '172.31.5.20:80', 'ec2-a', 'a'], ['alb-a', '172.31.21.20:80', 'ec2-b', 'b']] as const) {
    const g = byNode(node);
    const to = sig.loadBalancer.requests.find((t) => t.address === attr(g.attributes, 'network.peer.address'))!;
    assert.equal(to.target, address, 'the recorded evidence says so');
    assert.equal(attr(g.attributes, 'flowtrace.lb.target.address'), address, node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.target.name'), name, node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.target.zone'), zone, node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.target.health'), 'unhealthy', node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.target.from'), 'access-log', node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.cross_zone'), to.crossZone, node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.access_log.status'), 'found', node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.access_log.elb_status_code'), 504, node);
    assert.equal(attr(g.attributes, 'flowtrace.lb.access_log.target_status_code'), undefined, `${node}: the target never answered`);
    assert.equal(attr(g.attributes, 'flowtrace.lb.no_target'), undefined, node);
  }
  assert.equal(attr(byNode('alb-b').attributes, 'flowtrace.lb.cross_zone'), true, 'zone b node → zone a target');

  // Sent to no target (the access log's `-`): said so, no target named; refused: nothing said.
  const cz = await exportOne(recordedResult('cross-zone-off'));
  const czB = cz.spans.find((s) => s.name === 'GET' && attr(s.attributes, 'flowtrace.lb.node') === 'alb-b')!;
  assert.equal(attr(czB.attributes, 'flowtrace.lb.no_target'), true);
  assert.equal(attr(czB.attributes, 'flowtrace.lb.target.address'), undefined);
  assert.equal(attr(czB.attributes, 'flowtrace.lb.access_log.elb_status_code'), 503);
  const down = await exportOne(recordedResult('alb-node-down'));
  const refused = down.spans.find((s) => s.name === 'GET' && attr(s.attributes, 'flowtrace.lb.node') === 'alb-b')!;
  assert.deepEqual(refused.attributes.filter((a) => a.key.startsWith('flowtrace.lb.target') || a.key === 'flowtrace.lb.no_target').map((a) => a.key), []);
  const served = down.spans.find((s) => s.name === 'GET' && attr(s.attributes, 'flowtrace.lb.node') === 'alb-a')!;
  assert.equal(attr(served.attributes, 'flowtrace.lb.target.name'), 'ec2-a');
  assert.equal(attr(served.attributes, 'flowtrace.lb.access_log.target_status_code'), 200);
});

test('a collector that refuses or is not there: the export says so, nothing is thrown', async () => {
  const refusing = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"code":3,"message":"bad"}'); }); });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/v1/traces`;
  const t1 = new OtlpTraces({ url, timeoutMs: 2000 });
  const r1 = await t1.export(recordedResult('healthy'));
  await t1.shutdown();
  refusing.close();
  refusing.closeAllConnections();
  assert.equal(r1.ok, false);
  assert.ok(r1.error && r1.error.length > 0);
  const t2 = new OtlpTraces({ url: 'http://127.0.0.1:1/v1/traces', timeoutMs: 2000 });
  const r2 = await t2.export(recordedResult('healthy'));
  await t2.shutdown();
  assert.equal(r2.ok, false);
  assert.match(r2.error ?? '', /ECONNREFUSED/);
});

test('follow --otlp at the command line: the walk\'s verdict and exit code, its trace received, a line on stderr', async () => {
  const before = received.length;
  const io = memoryIO();
  const code = await main(['follow', `http://127.0.0.1:${appPort}/fail`, '--json', '--timeout', '3', '--otlp', collectorUrl], io);
  const result = JSON.parse(io.out.join('')) as FollowResult;
  assert.equal(code, result.verdict.exitCode);
  assert.notEqual(code, 0);
  assert.equal(received.length, before + 1);
  const spans = spansOf(received[received.length - 1]!);
  const root = spans.find((s) => !s.parentSpanId)!;
  assert.equal(attr(root.attributes, 'url.full'), result.url);
  assert.equal(root.status.code, 2);
  const get = spans.find((s) => s.name === 'GET')!;
  assert.equal(attr(get.attributes, 'http.response.status_code'), 503);
  assert.deepEqual(attr(get.attributes, 'http.request.header.x-amzn-trace-id'), [result.requests[0]!.traceId]);
  assert.match(io.err.join(''), new RegExp(`^otlp: trace ${root.traceId as string} \\(${spans.length} spans\\) sent to ${collectorUrl}/v1/traces\\n`, 'm'));
  const bad = memoryIO();
  assert.equal(await main(['follow', 'http://127.0.0.1/', '--otlp', 'udp://x'], bad), 2);
});
