/**
 * Falling back to the next address like curl: a name with several addresses (an ALB has one
 * per zone) whose first address is refused, unreachable or silent is tried at the next one;
 * every attempt is in the result and in curl -v's words in the text. On loopback only:
 * 127.0.0.2 has nothing listening (refused), 127.0.0.1 a real node:http server; as root,
 * a throwaway namespace `ftthttp-fb-<pid>` makes 127.0.0.2 silent (iptables DROP) and
 * 127.0.0.3 unreachable (REJECT icmp-host-unreachable).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { httpProbe } from '../../src/http/index.js';
import type { HttpResult } from '../../src/http/index.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { selfCliArgv } from '../../src/self.js';
import { httpServer } from './servers.js';
import type { Running } from './servers.js';

let server: Running;
let hits = 0;

before(async () => {
  server = await httpServer((req, res) => {
    hits++;
    if (req.url === '/502') { res.writeHead(502); res.end('bad gateway'); return; }
    res.end('ok\n');
  });
});

after(async () => {
  await server?.close();
});

/** The phases, the failed attempts included, add up to the total. */
function assertPhasesAddUp(r: HttpResult): void {
  const p = r.phases;
  const sum = [p.dnsMs, p.failedConnectsMs, p.connectMs, p.tlsMs, p.sendMs, p.waitMs, p.downloadMs].reduce<number>((s, v) => s + (v ?? 0), 0);
  assert.ok(Math.abs(sum - r.timings.totalMs) < 1e-6, `phases ${JSON.stringify(p)} sum ${sum} vs total ${r.timings.totalMs}`);
}

test('--resolve with two addresses, the first refused: the second is tried and used; both attempts reported', async () => {
  const r = await httpProbe(`http://app.test:${server.port}/`, { resolve: `app.test:${server.port}:127.0.0.2,127.0.0.1` });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.addresses, ['127.0.0.2', '127.0.0.1']);
  assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.port, a.outcome, a.cause]), [
    ['127.0.0.2', server.port, 'refused', 'ECONNREFUSED'],
    ['127.0.0.1', server.port, 'connected', null],
  ]);
  assert.equal(r.remote?.address, '127.0.0.1');
  const [failed, used] = r.connectAttempts;
  assert.equal(used.startMs, failed.startMs + failed.durationMs, 'attempts back to back');
  assert.equal(r.phases.failedConnectsMs, failed.durationMs);
  assert.equal(r.phases.connectMs, r.timings.connectMs! - used.startMs);
  assertPhasesAddUp(r);
});

test('addresses from the name lookup: the same fallback, in the order the resolver gave', async () => {
  const r = await httpProbe(`http://app.test:${server.port}/`, { lookup: async () => [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }] });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.resolvedBy, 'dns');
  assert.deepEqual(r.connectAttempts.map((a) => a.outcome), ['refused', 'connected']);
  assertPhasesAddUp(r);
});

test('the first address connects: one attempt, no time on failed connects', async () => {
  const r = await httpProbe(`http://app.test:${server.port}/`, { resolve: `app.test:${server.port}:127.0.0.1,127.0.0.2` });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.connectAttempts.map((a) => a.address), ['127.0.0.1']);
  assert.equal(r.phases.failedConnectsMs, 0);
  assertPhasesAddUp(r);
});

test('once connected, an HTTP error or an empty reply is not a reason to try the next address', async () => {
  // A second server on 127.0.0.2, same port, that would answer 200: it must never be asked.
  let otherHits = 0;
  const other = http.createServer((_q, res) => { otherHits++; res.end('other'); });
  await new Promise<void>((r) => other.listen(server.port, '127.0.0.2', r));
  const hangUp = http.createServer();
  hangUp.on('connection', (s: net.Socket) => s.once('data', () => s.end()));
  await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r));
  try {
    const r = await httpProbe(`http://app.test:${server.port}/502`, { resolve: `app.test:${server.port}:127.0.0.1,127.0.0.2` });
    assert.equal(r.statusCode, 502);
    assert.equal(r.connectAttempts.length, 1);
    const hangPort = (hangUp.address() as net.AddressInfo).port;
    const empty = await httpProbe(`http://app.test:${hangPort}/`, { resolve: `app.test:${hangPort}:127.0.0.1,127.0.0.2` });
    assert.equal(empty.error?.code, 'HTTP_EMPTY_REPLY');
    assert.equal(empty.connectAttempts.length, 1);
    assert.equal(otherHits, 0);
  } finally {
    await new Promise<void>((r) => other.close(() => r()));
    await new Promise<void>((r) => hangUp.close(() => r()));
  }
});

test('--connect-timeout: a usage error when not a positive number; a connect within it goes on', async () => {
  const io = memoryIO();
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '--connect-timeout', '0'], io), EXIT.usage);
  assert.match(io.err.join(''), /^error\[USAGE\]: bad --connect-timeout '0'\nhint: /);
  const r = await httpProbe(`http://app.test:${server.port}/`, { resolve: `app.test:${server.port}:127.0.0.2,127.0.0.1`, connectTimeoutMs: 5000 });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.connectAttempts.map((a) => a.outcome), ['refused', 'connected']);
});

test('no address connects: the last failure, every address named, exit 6 as for one address', async () => {
  const closed = await httpServer(() => {});
  const port = closed.port;
  await closed.close();
  const r = await httpProbe(`http://app.test:${port}/`, { resolve: `app.test:${port}:127.0.0.2,127.0.0.1` });
  assert.equal(r.status, 'error');
  assert.equal(r.error?.code, 'HTTP_CONNECT_REFUSED');
  assert.equal(r.error?.phase, 'connect');
  assert.match(r.error!.message, new RegExp(`^failed to connect to app\\.test port ${port} after \\d+ ms: 127\\.0\\.0\\.2:${port} refused, 127\\.0\\.0\\.1:${port} refused$`));
  assert.deepEqual(r.connectAttempts.map((a) => a.outcome), ['refused', 'refused']);
  assert.equal(r.remote, null);
  assert.equal(r.phases.connectMs, null);
  assert.equal(r.phases.failedConnectsMs, r.connectAttempts[0].durationMs + r.connectAttempts[1].durationMs);

  const io = memoryIO();
  assert.equal(await main(['http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.2,127.0.0.1`], io), EXIT.network);
  assert.match(io.err.join(''), /^error\[HTTP_CONNECT_REFUSED\]: failed to connect to app\.test port \d+ after \d+ ms: .+ \[phase: connect\]\nhint: .+\n$/);
  const out = io.out.join('');
  assert.match(out, new RegExp(`^\\* connect to 127\\.0\\.0\\.1 port ${port} failed: Connection refused \\(`, 'm'));
  assert.match(out, new RegExp(`^\\* Failed to connect to app\\.test port ${port} after \\d+ ms: Couldn't connect to server$`, 'm'));
  assert.match(out, /^\(failed connects\)\s+[\d.]+ m?s\s+[\d.]+ m?s\s+2 addresses: 127\.0\.0\.2 refused, 127\.0\.0\.1 refused$/m);
});

test('flowtrace http text: the attempts in curl -v words, then the response; the phase table shows the failed time', async () => {
  const io = memoryIO();
  const code = await main(['http', `http://app.test:${server.port}/`, '--resolve', `app.test:${server.port}:127.0.0.2,127.0.0.1`], io);
  assert.equal(code, EXIT.ok, io.err.join(''));
  const out = io.out.join('');
  const p = server.port;
  assert.match(out, new RegExp([
    `^\\*   Trying 127\\.0\\.0\\.2:${p}\\.\\.\\.`,
    `\\* connect to 127\\.0\\.0\\.2 port ${p} failed: Connection refused \\([\\d.]+ m?s\\)`,
    `\\*   Trying 127\\.0\\.0\\.1:${p}\\.\\.\\.`,
    `\\* Connected to app\\.test \\(127\\.0\\.0\\.1\\) port ${p} \\([\\d.]+ m?s\\)`,
    'HTTP/1\\.1 200 OK\n',
  ].join('\n')));
  assert.match(out, /^addresses: 127\.0\.0\.2, 127\.0\.0\.1 \(tried in this order/m);
  assert.match(out, /^\(failed connects\)\s+[\d.]+ m?s\s+[\d.]+ m?s\s+1 address: 127\.0\.0\.2 refused$/m);
  assert.match(out, new RegExp(`^time_connect\\s+[\\d.]+ m?s\\s+[\\d.]+ m?s\\s+TCP handshake \\(127\\.0\\.0\\.1:${p}\\)$`, 'm'));
  // One address that connected: no attempt lines without -v; with -v, curl's two lines.
  const quiet = memoryIO();
  await main(['http', `http://127.0.0.1:${p}/`], quiet);
  assert.doesNotMatch(quiet.out.join(''), /Trying|failed connects/);
  const verbose = memoryIO();
  await main(['http', `http://127.0.0.1:${p}/`, '-v'], verbose);
  assert.match(verbose.out.join(''), new RegExp(`^\\*   Trying 127\\.0\\.0\\.1:${p}\\.\\.\\.\n\\* Connected to 127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1\\) port ${p} \\([\\d.]+ m?s\\)\n> GET / HTTP/1\\.1\n`));
});

const isRoot = process.getuid?.() === 0;

test('unreachable, then silent, then served: each moves on; the silent one gets half the time left; --connect-timeout (as root, in a namespace)', { skip: isRoot ? false : 'needs root (network namespaces and iptables)' }, async () => {
  const ns = `ftthttp-fb-${process.pid}`;
  const port = 18080;
  let child: ReturnType<typeof spawn> | null = null;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const ipt = (...rule: string[]): void => { execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(port), ...rule]); };
    ipt('-d', '127.0.0.3', '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable');
    ipt('-d', '127.0.0.2', '-j', 'DROP');
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
      `require('http').createServer((q, s) => s.end('in ns')).listen(${port}, '127.0.0.1', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    const run = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.3,127.0.0.2,127.0.0.1`, '--timeout', '4', '--json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, EXIT.ok, run.stderr);
    const r = JSON.parse(run.stdout) as HttpResult;
    assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.outcome, a.cause]), [
      ['127.0.0.3', 'unreachable', 'EHOSTUNREACH'],
      ['127.0.0.2', 'timeout', null],
      ['127.0.0.1', 'connected', null],
    ]);
    assert.equal(r.bodyHead, 'in ns');
    // (Had the silent address been given the whole deadline, the probe would have timed out.)
    const text = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.3,127.0.0.1`], { encoding: 'utf8', timeout: 30_000 });
    assert.match(text.stdout, new RegExp(`^\\* connect to 127\\.0\\.0\\.3 port ${port} failed: No route to host \\(`, 'm'));
    // All silent: the deadline ends it, HTTP_TIMEOUT in phase connect naming both, exit 6.
    const silent = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.2,127.0.0.2`, '--timeout', '0.6', '--json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(silent.status, EXIT.network, silent.stderr);
    const s = JSON.parse(silent.stdout) as HttpResult;
    assert.equal(s.error?.code, 'HTTP_TIMEOUT');
    assert.equal(s.error?.phase, 'connect');
    assert.deepEqual(s.connectAttempts.map((a) => a.outcome), ['timeout', 'timeout']);
    assert.match(silent.stderr, new RegExp(`^error\\[HTTP_TIMEOUT\\]: failed to connect to app\\.test port ${port} timed out after 600 ms: 127\\.0\\.0\\.2:${port} timed out, 127\\.0\\.0\\.2:${port} timed out \\[phase: connect\\]`));
    // --connect-timeout bounds the connect phase, the last address included: a silent address
    // times out in phase connect long before the 30 s deadline; two share it (curl's rule).
    const one = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.2`, '--connect-timeout', '0.3', '--timeout', '30', '--json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(one.status, EXIT.network, one.stderr);
    assert.equal(JSON.parse(one.stdout).error.phase, 'connect');
    assert.match(one.stderr, new RegExp(`^error\\[HTTP_TIMEOUT\\]: timed out after 300 ms \\(--connect-timeout\\) waiting for the TCP handshake \\(127\\.0\\.0\\.2:${port}\\)`));
    const two = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${port}/`, '--resolve', `app.test:${port}:127.0.0.2,127.0.0.2`, '--connect-timeout', '0.4', '--timeout', '30', '--json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(two.status, EXIT.network, two.stderr);
    assert.deepEqual((JSON.parse(two.stdout) as HttpResult).connectAttempts.map((a) => a.outcome), ['timeout', 'timeout']);
    assert.match(two.stderr, /^error\[HTTP_TIMEOUT\]: failed to connect to app\.test port \d+ within the 400 ms connect timeout: /);
  } finally {
    if (child?.pid !== undefined && child.exitCode === null) { child.kill(); await once(child, 'exit'); }
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
