/**
 * The lab's ALB node against the lab's app, both on loopback (no root needed): headers,
 * trace ids, 502/503/504, health checks, access log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAlb, forwardedTraceId, forwardedFor, albErrorPage, type AlbConfig, type AlbNode, type AlbTarget } from '../../src/lab/alb.js';
import { createApp } from '../../src/lab/app.js';
import { parseAccessLogLine, formatAccessLogLine } from '../../src/alb-log/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftt-alb-'));
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { (server as http.Server).closeAllConnections?.(); server.close(() => r()); }));
  return (server.address() as net.AddressInfo).port;
}

async function app(opts: { delayMs?: number; status?: number; keepAliveMs?: number } = {}): Promise<number> {
  return listen(createApp({ port: 0, ...opts }));
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let logN = 0;
async function alb(targets: AlbTarget[], over: Partial<AlbConfig> = {}): Promise<{ node: AlbNode; port: number; logFile: string }> {
  const logFile = path.join(tmp, `access-${logN++}.log`);
  const node = await startAlb({
    name: 'alb-test', host: '127.0.0.1', listeners: [{ port: 0, protocol: 'http' }], targets,
    healthCheck: { path: '/', intervalMs: 100, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2, matcher: [200] },
    targetTimeoutMs: 400, idleTimeoutMs: 5000, failOpen: true, deregistrationDelayMs: 300_000, zone: 'a', crossZone: true, elbId: 'app/test-alb/0123456789abcdef',
    targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/0123456789abcdef',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/x', accessLogFile: logFile, healthFile: null, ...over,
  });
  closers.push(() => node.close());
  return { node, port: node.ports()[0]!, logFile };
}

function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers: { Host: 'seqas.online', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
  });
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const ROOT_RE = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

test('trace id: created as Root=1-<8 hex epoch>-<24 hex> when the client sent none', () => {
  const v = forwardedTraceId(null);
  const m = /^Root=(.+)$/.exec(v);
  assert.ok(m, v);
  assert.match(m[1]!, ROOT_RE);
  const epoch = parseInt(m[1]!.slice(2, 10), 16);
  assert.ok(Math.abs(epoch - Date.now() / 1000) < 60, 'epoch seconds of now');
});

test('trace id: a client Root (and its other fields) is kept, Self= is added, an old Self replaced', () => {
  const v = forwardedTraceId('Self=1-00000000-000000000000000000000000;Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
  const parts = v.split(';');
  assert.match(parts[0]!, /^Self=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  assert.notEqual(parts[0], 'Self=1-00000000-000000000000000000000000');
  assert.deepEqual(parts.slice(1), ['Root=1-5759e988-bd862e3fe1be46a994272793', 'Sampled=1']);
  const noRoot = forwardedTraceId('Foo=bar');
  assert.match(noRoot, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Foo=bar$/);
});

test('X-Forwarded-For appends the client to what the client sent', () => {
  assert.equal(forwardedFor(null, '10.10.1.2'), '10.10.1.2');
  assert.equal(forwardedFor('203.0.113.7', '10.10.1.2'), '203.0.113.7, 10.10.1.2');
});

test('proxies to the target with X-Forwarded-* and the trace id; access log line in the ALB format', async () => {
  const appPort = await app();
  const { port, logFile } = await alb([{ ip: '127.0.0.1', port: appPort }]);
  const r = await get(port, '/hello?x=1', { 'X-Forwarded-For': '203.0.113.7', 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793', 'User-Agent': 'test-agent/1' });
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body) as Record<string, string>;
  assert.equal(seen.xForwardedFor, '203.0.113.7, 127.0.0.1');
  assert.equal(seen.xForwardedProto, 'http');
  assert.equal(seen.xForwardedPort, String(port));
  assert.match(seen.traceId!, /^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-5759e988-bd862e3fe1be46a994272793$/);
  assert.equal(seen.path, '/hello?x=1');
  assert.equal(seen.host, 'seqas.online');
  await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('\n'), 'the access log line');
  const line = fs.readFileSync(logFile, 'utf8').trim();
  const rec = parseAccessLogLine(line);
  assert.ok(rec, line);
  assert.equal(rec.type, 'http');
  assert.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(rec.elb, 'app/test-alb/0123456789abcdef');
  assert.match(rec.client, /^127\.0\.0\.1:\d+$/);
  assert.equal(rec.target, `127.0.0.1:${appPort}`);
  assert.equal(rec.elbStatusCode, 200);
  assert.equal(rec.targetStatusCode, 200);
  assert.ok(rec.requestProcessingTime >= 0 && rec.targetProcessingTime >= 0 && rec.responseProcessingTime >= 0);
  assert.ok(rec.sentBytes > r.body.length, 'sent bytes include the head');
  assert.ok(rec.receivedBytes > 0);
  assert.equal(rec.request, `GET http://seqas.online:${port}/hello?x=1 HTTP/1.1`);
  assert.equal(rec.userAgent, 'test-agent/1');
  assert.equal(rec.traceId, seen.traceId);
  assert.equal(rec.actionsExecuted, 'forward');
  assert.equal(rec.targetPortList, `127.0.0.1:${appPort}`);
  assert.equal(rec.targetStatusCodeList, '200');
  assert.match(rec.connTraceId ?? '', /^TID_[0-9a-f]{32}$/);
  assert.equal(rec.matchedRulePriority, '0');
  assert.deepEqual([rec.sslCipher, rec.sslProtocol, rec.domainName, rec.chosenCertArn, rec.redirectUrl, rec.errorReason, rec.classification, rec.classificationReason], [null, null, null, null, null, null, null, null]);
  assert.equal(formatAccessLogLine(rec), line, 'the line the ALB wrote formats back from its record');
});

test('the target status is passed through (the app\'s /status/503 is not the ALB\'s 503)', async () => {
  const appPort = await app();
  const { port } = await alb([{ ip: '127.0.0.1', port: appPort }]);
  const r = await get(port, '/status/503');
  assert.equal(r.status, 503);
  assert.equal(r.headers.server, undefined, 'no awselb server header on a target response');
  assert.match(r.body, /flowtrace-lab-app/);
});

test('502 with the ALB error page when the target refuses the connection', async () => {
  const { port, logFile } = await alb([{ ip: '127.0.0.1', port: await closedPort() }]);
  const r = await get(port, '/');
  assert.equal(r.status, 502);
  assert.equal(r.headers.server, 'awselb/2.0');
  assert.equal(r.body, albErrorPage(502));
  assert.match(r.body, /<title>502 Bad Gateway<\/title>/);
  await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('\n'), 'the access log line');
  const line = fs.readFileSync(logFile, 'utf8').trim();
  const rec = parseAccessLogLine(line)!;
  assert.equal(formatAccessLogLine(rec), line);
  assert.equal(rec.elbStatusCode, 502);
  assert.equal(rec.targetStatusCode, null);
  assert.equal(rec.targetProcessingTime, -1);
});

test('502 when the target resets the connection after the request', async () => {
  const rst = net.createServer((s) => { s.once('data', () => s.resetAndDestroy()); });
  const rstPort = await listen(rst);
  const { port } = await alb([{ ip: '127.0.0.1', port: rstPort }]);
  const r = await get(port, '/');
  assert.equal(r.status, 502);
});

test('504 when the target does not answer within the timeout', async () => {
  const appPort = await app({ delayMs: 2000 });
  const { port } = await alb([{ ip: '127.0.0.1', port: appPort }]);
  const r = await get(port, '/');
  assert.equal(r.status, 504);
  assert.match(r.body, /<title>504 Gateway Time-out<\/title>/);
});

test('503 when the target group has no targets', async () => {
  const { port } = await alb([]);
  const r = await get(port, '/');
  assert.equal(r.status, 503);
  assert.match(r.body, /503 Service Temporarily Unavailable/);
});

test('health checks: an unhealthy target gets 503 without fail-open, and traffic with fail-open (as AWS)', async () => {
  const appPort = await app({ status: 500 });
  const strict = await alb([{ ip: '127.0.0.1', port: appPort }], { failOpen: false });
  await waitFor(() => strict.node.health()[0]?.state === 'unhealthy', 'the target to become unhealthy');
  assert.equal(strict.node.health()[0]?.reason, 'Target.ResponseCodeMismatch');
  assert.equal((await get(strict.port, '/')).status, 503);
  const open = await alb([{ ip: '127.0.0.1', port: appPort }], { failOpen: true });
  await waitFor(() => open.node.health()[0]?.state === 'unhealthy', 'the target to become unhealthy');
  assert.equal((await get(open.port, '/')).status, 500, 'fails open: routed to the unhealthy target');
});

test('health checks: a healthy target is in service; reconfigure() deregisters it (503)', async () => {
  const appPort = await app();
  const a = await alb([{ ip: '127.0.0.1', port: appPort }]);
  await waitFor(() => a.node.health()[0]?.state === 'healthy', 'the target to become healthy');
  assert.equal((await get(a.port, '/')).status, 200);
  a.node.reconfigure({ targets: [] });
  assert.equal(a.node.health().length, 0);
  assert.equal((await get(a.port, '/')).status, 503);
});

test('firstChecks settles once the first round of health checks is done (what `lab up` waits for)', async () => {
  const appPort = await app();
  const a = await alb([{ ip: '127.0.0.1', port: appPort }, { ip: '127.0.0.1', port: 1 }], { healthCheck: { path: '/', intervalMs: 60_000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2, matcher: [200] } });
  await a.node.firstChecks;
  const states = a.node.health().map((h) => [h.target.split(':')[1] === '1' ? 'refusing' : 'app', h.state, h.lastCheck !== null]);
  // A passing first check puts the target in service; one failure is not yet "unhealthy".
  assert.deepEqual(states, [['app', 'healthy', true], ['refusing', 'initial', true]]);
});

test('keep-alive: two requests on one client connection reuse one target connection (the same pool serves every client)', async () => {
  const peers = new Set<string>();
  const appServer = createApp({ port: 0 });
  appServer.on('connection', (s: net.Socket) => peers.add(`${s.remotePort}`));
  const appPort = await listen(appServer);
  const { port } = await alb([{ ip: '127.0.0.1', port: appPort }], { healthCheck: { path: '/', intervalMs: 60_000, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2, matcher: [200] } });
  await new Promise((r) => setTimeout(r, 100));
  peers.clear();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 2; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
    });
  }
  agent.destroy();
  assert.equal(peers.size, 1, 'one ALB→target connection for one client connection');
});

test('a client that closes before the answer is logged with status 460, as an ALB does', async () => {
  const appPort = await app({ delayMs: 1000 });
  const { port, logFile } = await alb([{ ip: '127.0.0.1', port: appPort }], { targetTimeoutMs: 5000 });
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false });
    req.on('error', () => resolve());
    setTimeout(() => { req.destroy(); resolve(); }, 200);
  });
  await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('\n'), 'the access log line');
  const line = fs.readFileSync(logFile, 'utf8').trim();
  const rec = parseAccessLogLine(line)!;
  assert.equal(formatAccessLogLine(rec), line);
  assert.equal(rec.elbStatusCode, 460);
  assert.equal(rec.targetStatusCode, null);
});

test('access log: a User-Agent with spaces, quotes and a backslash is written escaped and read back whole', async () => {
  const appPort = await app();
  const { port, logFile } = await alb([{ ip: '127.0.0.1', port: appPort }]);
  const agent = String.raw`tool/1.0 (say "hi"; C:\ path) \"`;
  assert.equal((await get(port, '/', { 'User-Agent': agent })).status, 200);
  await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('\n'), 'the access log line');
  const line = fs.readFileSync(logFile, 'utf8').trim();
  assert.ok(line.includes(String.raw` "tool/1.0 (say \"hi\"; C:\ path) \\"" - - arn:`), line);
  const rec = parseAccessLogLine(line)!;
  assert.equal(rec.userAgent, agent);
  assert.match(rec.traceId ?? '', /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  assert.equal(formatAccessLogLine(rec), line);
});

/** An app that counts the connections it accepts (the ALB's connections to it). */
async function countingApp(opts: { keepAliveMs?: number; status?: number } = {}): Promise<{ port: number; peers: Set<string> }> {
  const peers = new Set<string>();
  const server = createApp({ port: 0, ...opts });
  server.on('connection', (s: net.Socket) => peers.add(`${s.remotePort}`));
  return { port: await listen(server), peers };
}

const QUIET_CHECKS = { path: '/', intervalMs: 60_000, timeoutMs: 300, healthyThreshold: 5, unhealthyThreshold: 2, matcher: [200] };

test('kept-alive target connections are shared by client connections, and kept whatever the target\'s Keep-Alive hint says (as an ALB)', async () => {
  // The app says `Keep-Alive: timeout=1`: Node's own Agent would not keep such a connection.
  const target = await countingApp({ keepAliveMs: 1000 });
  const { port, node } = await alb([{ ip: '127.0.0.1', port: target.port }], { healthCheck: QUIET_CHECKS });
  await node.firstChecks;
  target.peers.clear();
  for (let i = 0; i < 3; i++) assert.equal((await get(port, '/')).status, 200);
  assert.equal(target.peers.size, 1, 'three client connections, one kept-alive connection to the target');
  assert.equal(node.closeIdleConnections(), 1, 'the idle connection, closed on demand');
  assert.equal((await get(port, '/')).status, 200);
  assert.equal(target.peers.size, 2, 'a new one after that');
});

test('target group: cross-zone on spreads over both zones; off keeps a node to its zone, 503 when its zone has no target in service', async () => {
  const a = await countingApp();
  const b = await countingApp();
  const targets = [{ ip: '127.0.0.1', port: a.port, name: 'ec2-a', zone: 'a' }, { ip: '127.0.0.1', port: b.port, name: 'ec2-b', zone: 'b' }];
  const on = await alb(targets, { zone: 'b', healthCheck: QUIET_CHECKS });
  await on.node.firstChecks;
  a.peers.clear(); b.peers.clear();
  for (let i = 0; i < 4; i++) assert.equal((await get(on.port, '/')).status, 200);
  assert.ok(a.peers.size > 0 && b.peers.size > 0, 'round robin over both zones');
  const off = await alb(targets, { zone: 'b', crossZone: false, healthCheck: QUIET_CHECKS });
  await off.node.firstChecks;
  a.peers.clear(); b.peers.clear();
  for (let i = 0; i < 4; i++) assert.equal((await get(off.port, '/')).status, 200);
  assert.deepEqual([a.peers.size, b.peers.size > 0], [0, true], 'zone b\'s node stays in zone b');
  off.node.reconfigure({ targets: [targets[0]!, { ...targets[1]!, draining: true }] });
  assert.equal((await get(off.port, '/')).status, 503, 'zone b\'s only target draining, cross-zone off: nothing to route to');
  assert.deepEqual(off.node.health().map((h) => [h.name, h.state, h.reason]), [['ec2-a', 'healthy', null], ['ec2-b', 'draining', 'Target.DeregistrationInProgress']]);
  off.node.reconfigure({ crossZone: true });
  assert.equal((await get(off.port, '/')).status, 200, 'cross-zone on again: to zone a');
});

test('target health as AWS reports it: Target.ResponseCodeMismatch with the codes, Target.FailedHealthChecks, Target.Timeout; 5 passes to come back', async () => {
  const notFound = await app();
  const slow = await app({ delayMs: 1000 });
  const refusing = await closedPort();
  const checks = { path: '/status/404', intervalMs: 50, timeoutMs: 200, healthyThreshold: 5, unhealthyThreshold: 2, matcher: [200] };
  const x = await alb([{ ip: '127.0.0.1', port: notFound, name: 'nf' }, { ip: '127.0.0.1', port: refusing, name: 'rf' }, { ip: '127.0.0.1', port: slow, name: 'sl' }], { healthCheck: checks });
  await waitFor(() => x.node.health().every((h) => h.state === 'unhealthy'), 'every target unhealthy');
  const byName = Object.fromEntries(x.node.health().map((h) => [h.name, [h.reason, h.description]]));
  assert.deepEqual(byName, {
    nf: ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [404]'],
    rf: ['Target.FailedHealthChecks', 'Health checks failed'],
    sl: ['Target.Timeout', 'Request timed out'],
  });
  // Fails open: every target unhealthy, requests still go to them.
  assert.notEqual((await get(x.port, '/')).status, 503);
  const t0 = performance.now();
  x.node.reconfigure({ healthCheck: { ...checks, path: '/' } });
  await waitFor(() => x.node.health().find((h) => h.name === 'nf')?.state === 'healthy', 'nf healthy again');
  assert.ok(performance.now() - t0 >= 4 * checks.intervalMs, 'not before the healthy threshold of passes');
});
