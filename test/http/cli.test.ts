/**
 * `flowtrace http` end to end: text and JSON output, exit codes, and (as root) a connect
 * timeout made real by an iptables DROP inside a throwaway namespace `ftthttp-<pid>`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { selfCliArgv } from '../../src/self.js';
import { httpServer } from './servers.js';
import type { Running } from './servers.js';

let server: Running;
let lastTraceHeader: string | undefined;

before(async () => {
  server = await httpServer((req, res) => {
    lastTraceHeader = req.headers['x-amzn-trace-id'] as string | undefined;
    if (req.url === '/down') { res.writeHead(502); res.end('bad gateway'); return; }
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok\n');
  });
});

after(async () => {
  await server?.close();
});

test('flowtrace http: status line, trace id, address, curl-named phase table, headers; exit 0', async () => {
  const io = memoryIO();
  const code = await main(['http', `http://app.test:${server.port}/`, '--resolve', `app.test:${server.port}:127.0.0.1`], io);
  assert.equal(code, EXIT.ok, io.err.join(''));
  const out = io.out.join('');
  assert.match(out, /^HTTP\/1\.1 200 OK$/m);
  const trace = /^trace id: (Root=1-[0-9a-f]{8}-[0-9a-f]{24})$/m.exec(out);
  assert.ok(trace, out);
  assert.equal(lastTraceHeader, trace[1]);
  assert.match(out, new RegExp(`^connected: 127\\.0\\.0\\.1:\\d+ → 127\\.0\\.0\\.1:${server.port} \\(from --resolve\\)$`, 'm'));
  for (const v of ['time_namelookup', 'time_connect', 'time_pretransfer', 'time_starttransfer', 'time_total']) assert.match(out, new RegExp(`^${v}\\s+[\\d.]+ m?s\\s+[\\d.]+ m?s`, 'm'));
  assert.doesNotMatch(out, /time_appconnect/);
  assert.match(out, /^  Content-Type: text\/plain$/m);
  assert.match(out, /^body: 3 bytes/m);
  assert.equal(io.err.join(''), '');
});

test('flowtrace http -v: the request as sent, credentials redacted', async () => {
  const io = memoryIO();
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/a?b=1`, '-v', '-H', 'Authorization: Bearer s3cret'], io), EXIT.ok);
  const out = io.out.join('');
  assert.match(out, /^\*   Trying 127\.0\.0\.1:\d+\.\.\.\n\* Connected to 127\.0\.0\.1 \(127\.0\.0\.1\) port \d+ \(.+\)\n> GET \/a\?b=1 HTTP\/1\.1\n> Host: 127\.0\.0\.1:\d+\n/);
  assert.match(out, /^> X-Amzn-Trace-Id: Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/m);
  assert.match(out, /^> Authorization: Bearer \[redacted\]$/m);
  assert.doesNotMatch(out, /s3cret/);
});

test('flowtrace http: a 502 is shown and exits 1', async () => {
  const io = memoryIO();
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/down`], io), EXIT.failed);
  assert.match(io.out.join(''), /^HTTP\/1\.1 502 Bad Gateway$/m);
});

test('flowtrace http --json --trace-id: the result object carries the given id', async () => {
  const io = memoryIO();
  const id = '1-5f84c7a5-00112233445566778899aabb';
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '--json', '--trace-id', id], io), EXIT.ok);
  const r = JSON.parse(io.out.join(''));
  assert.equal(r.traceId, `Root=${id}`);
  assert.equal(lastTraceHeader, `Root=${id}`);
  assert.equal(r.statusCode, 200);
  assert.equal(typeof r.timings.starttransferMs, 'number');
});

test('flowtrace http: refused → exit 6 and one error line naming the phase, with a hint', async () => {
  const closed = await httpServer(() => {});
  const port = closed.port;
  await closed.close();
  const io = memoryIO();
  assert.equal(await main(['http', `http://127.0.0.1:${port}/`], io), EXIT.network);
  assert.match(io.err.join(''), /^error\[HTTP_CONNECT_REFUSED\]: connection refused by 127\.0\.0\.1:\d+ \[phase: connect\]\nhint: .+\n$/);
  assert.match(io.out.join(''), /^time_connect\s+—\s+—\s+← failed here \(HTTP_CONNECT_REFUSED\)$/m);
});

test('flowtrace http: usage and input errors', async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['http'], EXIT.usage, /^error\[USAGE\]: http needs a URL/],
    [['http', 'example.com'], EXIT.usage, /^error\[USAGE\]: bad URL/],
    [['http', 'http://x/', '--timeout', 'soon'], EXIT.usage, /^error\[USAGE\]: bad --timeout/],
    [['http', 'https://x/', '--cacert', 'a.pem', '--insecure'], EXIT.usage, /^error\[USAGE\]: --cacert and --insecure together/],
    [['http', 'https://x/', '--cacert', '/nonexistent.pem'], EXIT.input, /^error\[INPUT\]: cannot read CA file/],
    [['http', 'http://x/', '--trace-id', 'nope'], EXIT.usage, /^error\[USAGE\]: bad trace id/],
  ];
  for (const [args, code, message] of cases) {
    const io = memoryIO();
    assert.equal(await main(args, io), code, args.join(' '));
    assert.match(io.err.join(''), message, args.join(' '));
    assert.match(io.err.join(''), /\nhint: .+\n$/);
  }
});

const isRoot = process.getuid?.() === 0;

test('connect timeout: SYNs dropped by iptables in a throwaway namespace → HTTP_TIMEOUT in phase connect', { skip: isRoot ? false : 'needs root (network namespaces and iptables)' }, () => {
  const ns = `ftthttp-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--syn', '--dport', '9', '-j', 'DROP']);
    const run = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', 'http://127.0.0.1:9/', '--timeout', '0.5', '--json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, EXIT.network, run.stderr);
    const r = JSON.parse(run.stdout);
    assert.equal(r.error.code, 'HTTP_TIMEOUT');
    assert.equal(r.error.phase, 'connect');
    assert.match(run.stderr, /^error\[HTTP_TIMEOUT\]: timed out after 500 ms waiting for the TCP handshake/);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
