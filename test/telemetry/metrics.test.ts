/**
 * Prometheus metrics: recorded follow results (real lab runs) counted by WatchMetrics, served
 * by serveMetrics on 127.0.0.1, scraped with a real HTTP client (fetch), and the exposition
 * text parsed: HELP and TYPE lines, label sets, counter values, histogram buckets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NO_TARGET, WatchMetrics, parseListenAddress, serveMetrics, type MetricsServer } from '../../src/telemetry/index.js';
import { recordedResult } from '../follow/recorded.js';
import { MAX_TARGETS, OTHER_TARGET } from '../../src/watch/index.js';

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Exposition { types: Map<string, string>; help: Map<string, string>; samples: Sample[] }

/** The text format 0.0.4, strictly: every line a comment of HELP/TYPE or a sample. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) { (m[1] === 'TYPE' ? types : help).set(m[2]!, m[3]!); continue; }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let rest = m[2];
      for (let l = re.exec(rest); l; l = re.exec(rest)) labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = m[2].replace(re, '');
      assert.equal(rest, '', `labels parsed whole: ${line}`);
    }
    // Go's ParseFloat (Prometheus' parser) takes NaN and Inf in any case; prom-client writes `Nan`.
    const value = /^[+-]?inf$/i.test(m[3]!) ? (m[3]!.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(m[3]!) ? NaN : Number(m[3]);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(m[3]!), line);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, help, samples };
}

function find(e: Exposition, name: string, labels: Record<string, string>): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
function total(e: Exposition, name: string, labels: Record<string, string>): number {
  return find(e, name, labels).reduce((n, s) => n + s.value, 0);
}
function value(e: Exposition, name: string, labels: Record<string, string>): number {
  const found = find(e, name, labels);
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]!.value;
}

let server: MetricsServer | null = null;
after(async () => { await server?.close(); });

test('parseListenAddress: :PORT is every address, HOST:PORT and [v6]:PORT one; the rest are usage errors', () => {
  assert.deepEqual(parseListenAddress(':9464'), { host: null, port: 9464 });
  assert.deepEqual(parseListenAddress('9464'), { host: null, port: 9464 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
  for (const bad of ['', 'host', ':99999', '1.2.3.4:x']) assert.throws(() => parseListenAddress(bad), { code: 'USAGE' }, bad);
});

test('/metrics after 10 runs (6 healthy, 3 with alb-b down, 1 with the application down): runs by verdict and layer, requests per node, zone and family, histograms', async () => {
  const metrics = new WatchMetrics({ url: 'http://seqas.online/', server: 'netns:ec2' });
  const runs = ['healthy', 'alb-node-down', 'healthy', 'alb-node-down', 'healthy', 'app-down', 'healthy', 'alb-node-down', 'healthy', 'healthy'].map((n) => recordedResult(n));
  for (const r of runs) metrics.observe(r);
  server = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

  const res = await fetch(server.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  const e = parseExposition(await res.text());

  assert.equal(e.types.get('flowtrace_runs_total'), 'counter');
  assert.equal(e.types.get('flowtrace_requests_total'), 'counter');
  assert.equal(e.types.get('flowtrace_run_duration_seconds'), 'histogram');
  assert.equal(e.types.get('flowtrace_layer_duration_seconds'), 'histogram');
  assert.equal(e.types.get('flowtrace_request_duration_seconds'), 'histogram');
  assert.equal(e.types.get('flowtrace_last_run_ok'), 'gauge');
  assert.equal(e.types.get('process_resident_memory_bytes'), 'gauge', 'the process metrics too');
  for (const [name] of e.types) assert.ok(e.help.has(name), `HELP for ${name}`);

  assert.equal(value(e, 'flowtrace_runs_total', { result: 'ok', layer: 'none', cause: 'none' }), 6);
  assert.equal(value(e, 'flowtrace_runs_total', { result: 'failed', layer: 'loadBalancer', cause: 'lb-refused' }), 3);
  assert.equal(value(e, 'flowtrace_runs_total', { result: 'failed', layer: 'application', cause: 'not-listening' }), 1);

  const b = { address: '10.77.2.10', node: 'alb-b', zone: 'b', family: 'ipv4' };
  const a = { address: '10.77.1.10', node: 'alb-a', zone: 'a', family: 'ipv4' };
  assert.equal(value(e, 'flowtrace_requests_total', { ...b, result: 'failed', status: 'HTTP_CONNECT_REFUSED', answered_by: 'none' }), 3);
  assert.equal(value(e, 'flowtrace_requests_total', { ...b, result: 'failed', status: '502', answered_by: 'load-balancer' }), 1);
  assert.equal(total(e, 'flowtrace_requests_total', { ...b, result: 'ok', status: '200', answered_by: 'application' }), 6);
  assert.equal(total(e, 'flowtrace_requests_total', { ...a, result: 'ok', status: '200', answered_by: 'application' }), 9);
  // Per target, as the recorded runs' access log says: the healthy runs went to ec2-b (healthy
  // then), alb-b's refused requests to no target known, app-down's 502s to ec2-a (unhealthy then).
  const ec2a = { target: '172.31.5.20:80', target_name: 'ec2-a', target_zone: 'a' };
  const ec2b = { target: '172.31.21.20:80', target_name: 'ec2-b', target_zone: 'b' };
  assert.equal(value(e, 'flowtrace_requests_total', { ...b, ...ec2b, target_health: 'healthy', result: 'ok', status: '200' }), 6);
  assert.equal(value(e, 'flowtrace_requests_total', { ...a, ...ec2b, target_health: 'healthy', result: 'ok', status: '200' }), 6);
  assert.equal(value(e, 'flowtrace_requests_total', { ...a, ...ec2a, target_health: 'initial', result: 'ok', status: '200' }), 3);
  assert.equal(value(e, 'flowtrace_requests_total', { ...b, target: 'none', target_name: 'none', target_health: 'none', status: 'HTTP_CONNECT_REFUSED' }), 3);
  assert.equal(total(e, 'flowtrace_requests_total', { ...ec2a, target_health: 'unhealthy', result: 'failed', status: '502', answered_by: 'load-balancer' }), 2);
  const targets = new Set(find(e, 'flowtrace_requests_total', {}).map((x) => x.labels.target));
  assert.deepEqual([...targets].sort(), ['172.31.21.20:80', '172.31.5.20:80', 'none']);
  assert.equal(value(e, 'flowtrace_request_duration_seconds_count', { ...a, target: '172.31.21.20:80' }), 6);
  const perFamily = find(e, 'flowtrace_requests_total', { family: 'ipv4' }).reduce((n, s) => n + s.value, 0);
  assert.equal(perFamily, runs.reduce((n, r) => n + r.requests.length, 0), 'every request counted once, by family');

  // Histograms: cumulative buckets ending in +Inf = _count; one observation per run.
  assert.equal(value(e, 'flowtrace_run_duration_seconds_count', {}), 10);
  const sum = value(e, 'flowtrace_run_duration_seconds_sum', {});
  assert.ok(Math.abs(sum - runs.reduce((n, r) => n + r.durationMs / 1000, 0)) < 1e-6);
  for (const layer of ['dns', 'loadBalancer']) {
    const buckets = find(e, 'flowtrace_layer_duration_seconds_bucket', { layer });
    assert.ok(buckets.length > 2, layer);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${layer}: cumulative`);
    assert.equal(buckets[buckets.length - 1]!.labels.le, '+Inf');
    assert.equal(buckets[buckets.length - 1]!.value, value(e, 'flowtrace_layer_duration_seconds_count', { layer }));
  }
  const dnsTimed = runs.filter((r) => r.verdict.rows.find((x) => x.layer === 'dns')!.timingMs !== null).length;
  assert.equal(value(e, 'flowtrace_layer_duration_seconds_count', { layer: 'dns' }), dnsTimed);
  assert.equal(total(e, 'flowtrace_request_duration_seconds_count', a), 10);

  assert.equal(value(e, 'flowtrace_last_run_ok', {}), 1);
  assert.equal(value(e, 'flowtrace_last_run_timestamp_seconds', {}), Date.parse(runs[9]!.startedAt) / 1000);
  assert.equal(value(e, 'flowtrace_watch_info', { url: 'http://seqas.online/', server: 'netns:ec2' }), 1);

  const other = await fetch(server.url.replace('/metrics', '/'));
  assert.equal(other.status, 404);
  await other.text();
  const post = await fetch(server.url, { method: 'POST' });
  assert.equal(post.status, 405);
  await post.text();
});

test('targets: sent to no target is its own value; beyond MAX_TARGETS targets the rest are `other` (bounded label values)', async () => {
  const metrics = new WatchMetrics({ url: 'http://seqas.online/', processMetrics: false });
  metrics.observe(recordedResult('cross-zone-off'));
  const base = recordedResult('app-down');
  for (let i = 0; i < MAX_TARGETS + 5; i++) {
    const at = `10.0.${i}.1:80`;
    metrics.observe({ ...base, loadBalancer: { ...base.loadBalancer, requests: base.loadBalancer.requests.map((t) => ({ ...t, target: at })) } });
  }
  const e = parseExposition(await metrics.text());
  assert.equal(value(e, 'flowtrace_requests_total', { node: 'alb-b', target: NO_TARGET, status: '503', answered_by: 'load-balancer' }), 1);
  assert.equal(value(e, 'flowtrace_requests_total', { node: 'alb-a', target: '172.31.5.20:80', target_name: 'ec2-a', target_health: 'healthy', status: '200' }), 1);
  const targets = new Set(find(e, 'flowtrace_requests_total', {}).map((x) => x.labels.target));
  assert.equal(targets.size, MAX_TARGETS + 2, 'the first MAX_TARGETS targets, other, no-target');
  assert.ok(targets.has(NO_TARGET) && targets.has(OTHER_TARGET));
  // ec2-a (cross-zone-off's) took the first place: 31 of the 37 made-up targets have their own, 6 are `other`.
  assert.ok(targets.has(`10.0.${MAX_TARGETS - 2}.1:80`) && !targets.has(`10.0.${MAX_TARGETS - 1}.1:80`));
  assert.equal(total(e, 'flowtrace_requests_total', { target: OTHER_TARGET }), 6 * base.requests.length);
  assert.equal(total(e, 'flowtrace_request_duration_seconds_count', { target: OTHER_TARGET }), 6 * base.requests.length);
});

test('a port already taken: METRICS_LISTEN, exit code 6, with a hint', async () => {
  const first = await serveMetrics(new WatchMetrics({ url: 'x', processMetrics: false }), { host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(serveMetrics(new WatchMetrics({ url: 'x', processMetrics: false }), { host: '127.0.0.1', port: first.port }), (err: { code: string; exitCode: number; message: string; hint: string }) => {
      assert.equal(err.code, 'METRICS_LISTEN');
      assert.equal(err.exitCode, 6);
      assert.match(err.message, /EADDRINUSE/);
      assert.match(err.hint, /--metrics/);
      return true;
    });
  } finally {
    await first.close();
  }
});
