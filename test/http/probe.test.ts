/**
 * httpProbe against real servers on 127.0.0.1: plain HTTP, HTTPS with a test CA made by
 * openssl, and servers that refuse, reset, close, stall or talk nonsense — each failure
 * reported with its phase.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { httpProbe } from '../../src/http/index.js';
import type { HttpResult } from '../../src/http/index.js';
import { InputError, UsageError } from '../../src/errors.js';
import { httpServer, httpsServer, makeTestPki, rawServer } from './servers.js';
import type { Running, TestPki } from './servers.js';

let pki: TestPki;
const servers: Running[] = [];
const seen: Array<{ headers: Record<string, string | string[] | undefined>; url: string; method: string }> = [];
let plain: Running;
let secure: Running;

async function start<T extends Running>(p: Promise<T>): Promise<T> {
  const s = await p;
  servers.push(s);
  return s;
}

before(async () => {
  pki = makeTestPki();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    seen.push({ headers: req.headers, url: req.url ?? '', method: req.method ?? '' });
    if (req.url === '/502') { res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }); res.end('<html>502 Bad Gateway</html>'); return; }
    res.setHeader('Set-Cookie', ['session=s3cr3t; Path=/; HttpOnly', 'theme=dark']);
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello ${'x'.repeat(2000)}`);
  };
  plain = await start(httpServer(handler));
  secure = await start(httpsServer(pki.good, handler));
});

after(async () => {
  for (const s of servers) await s.close();
  pki?.remove();
});

function assertOrdered(r: HttpResult): void {
  const t = r.timings;
  const marks = [t.namelookupMs, t.connectMs, t.appconnectMs, t.pretransferMs, t.starttransferMs, t.headersMs, t.totalMs].filter((x) => x !== null) as number[];
  for (let i = 1; i < marks.length; i++) assert.ok(marks[i] >= marks[i - 1], `timings in order: ${JSON.stringify(t)}`);
  for (const v of Object.values(r.phases)) if (v !== null) assert.ok(v >= 0);
}

test('HTTP 200: status, every phase measured in order, the trace id reaches the server', async () => {
  const r = await httpProbe(`http://127.0.0.1:${plain.port}/path?q=1`);
  assert.equal(r.status, 'ok');
  assert.equal(r.error, null);
  assert.equal(r.statusCode, 200);
  assert.equal(r.reason, 'OK');
  assert.equal(r.httpVersion, '1.1');
  assert.match(r.traceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  const got = seen.at(-1)!;
  assert.equal(got.url, '/path?q=1');
  assert.equal(got.headers['x-amzn-trace-id'], r.traceId);
  assert.equal(got.headers.host, `127.0.0.1:${plain.port}`);
  assert.equal(r.resolvedBy, 'literal');
  assert.deepEqual(r.remote, { address: '127.0.0.1', port: plain.port, family: 4 });
  assert.equal(r.local?.address, '127.0.0.1');
  assert.ok(r.local!.port > 0 && r.local!.port !== plain.port);
  assert.equal(r.timings.appconnectMs, null);
  for (const k of ['namelookupMs', 'connectMs', 'pretransferMs', 'starttransferMs', 'headersMs'] as const) assert.notEqual(r.timings[k], null, k);
  assertOrdered(r);
  assert.equal(r.bodyBytes, 2006);
  assert.equal(r.bodyHead.length, 512);
  assert.equal(r.bodyTruncated, true);
  // Set-Cookie values redacted, names and attributes kept
  const cookies = r.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
  assert.deepEqual(cookies, ['session=[redacted]; Path=/; HttpOnly', 'theme=[redacted]']);
  assert.ok(!JSON.stringify(r).includes('s3cr3t'));
});

test('given trace id and headers: sent as given; Authorization and Cookie redacted in the result only', async () => {
  const r = await httpProbe(`http://127.0.0.1:${plain.port}/`, {
    traceId: '1-5f84c7a5-0123456789abcdef01234567',
    headers: ['Authorization: Bearer tok3n', 'Cookie: a=1; b=2', 'X-Test: yes', 'User-Agent: custom/1'],
  });
  assert.equal(r.status, 'ok');
  assert.equal(r.traceId, 'Root=1-5f84c7a5-0123456789abcdef01234567');
  const got = seen.at(-1)!;
  assert.equal(got.headers['x-amzn-trace-id'], 'Root=1-5f84c7a5-0123456789abcdef01234567');
  assert.equal(got.headers.authorization, 'Bearer tok3n');
  assert.equal(got.headers['user-agent'], 'custom/1');
  assert.equal(got.headers['x-test'], 'yes');
  const sent = Object.fromEntries(r.requestHeaders.map((h) => [h.name.toLowerCase(), h.value]));
  assert.equal(sent.authorization, 'Bearer [redacted]');
  assert.equal(sent.cookie, 'a=[redacted]; b=[redacted]');
  assert.ok(!JSON.stringify(r).includes('tok3n'));
});

test('--resolve HOST:PORT:ADDR: connects there, Host header keeps the name', async () => {
  const r = await httpProbe(`http://app.test:${plain.port}/`, { resolve: [`other.test:${plain.port}:10.9.9.9`, `app.test:${plain.port}:127.0.0.1`] });
  assert.equal(r.status, 'ok');
  assert.equal(r.resolvedBy, 'resolve-option');
  assert.deepEqual(r.addresses, ['127.0.0.1']);
  assert.equal(seen.at(-1)!.headers.host, `app.test:${plain.port}`);
});

test('name lookup through the seam: timed; a failing lookup is an HTTP_DNS error in phase dns', async () => {
  const ok = await httpProbe(`http://app.test:${plain.port}/`, { lookup: async () => { await new Promise((r) => setTimeout(r, 20)); return [{ address: '127.0.0.1', family: 4 }]; } });
  assert.equal(ok.status, 'ok');
  assert.equal(ok.resolvedBy, 'dns');
  assert.ok(ok.timings.namelookupMs! >= 15, `namelookup ${ok.timings.namelookupMs}`);
  const bad = await httpProbe('http://nope.test/', { lookup: async () => { throw Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' }); } });
  assert.equal(bad.status, 'error');
  assert.equal(bad.error?.code, 'HTTP_DNS');
  assert.equal(bad.error?.phase, 'dns');
  assert.equal(bad.failureSource, 'target');
  assert.match(bad.error!.hint, /flowtrace dns nope\.test/);
  assert.equal(bad.remote, null);
});

test('502 from the server: the probe is ok, the status code says 502', async () => {
  const r = await httpProbe(`http://127.0.0.1:${plain.port}/502`);
  assert.equal(r.status, 'ok');
  assert.equal(r.statusCode, 502);
  assert.equal(r.reason, 'Bad Gateway');
  assert.match(r.bodyHead, /502 Bad Gateway/);
});

test('connection refused: phase connect, blamed on the target', async () => {
  const closed = await start(rawServer(() => {}));
  await closed.close();
  const r = await httpProbe(`http://127.0.0.1:${closed.port}/`);
  assert.equal(r.error?.code, 'HTTP_CONNECT_REFUSED');
  assert.equal(r.error?.phase, 'connect');
  assert.equal(r.error?.cause, 'ECONNREFUSED');
  assert.equal(r.failureSource, 'target');
  assert.equal(r.timings.connectMs, null);
});

test('reset instead of an answer: HTTP_RESET in phase first_byte', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => sock.resetAndDestroy())));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`);
  assert.equal(r.error?.code, 'HTTP_RESET');
  assert.equal(r.error?.phase, 'first_byte');
  assert.notEqual(r.timings.pretransferMs, null);
});

test('closed without a response: HTTP_EMPTY_REPLY', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => sock.end())));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`);
  assert.equal(r.error?.code, 'HTTP_EMPTY_REPLY');
  assert.equal(r.error?.phase, 'first_byte');
});

test('reset in the middle of the body: phase download, the status code kept', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
    setTimeout(() => sock.resetAndDestroy(), 30);
  })));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`);
  assert.equal(r.status, 'error');
  assert.equal(r.error?.phase, 'download');
  assert.equal(r.error?.code, 'HTTP_RESET');
  assert.equal(r.statusCode, 200);
  assert.equal(r.bodyBytes, 7);
});

test('closed (FIN) in the middle of the body: HTTP_INCOMPLETE with the byte counts', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial'))));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`);
  assert.equal(r.error?.code, 'HTTP_INCOMPLETE');
  assert.equal(r.error?.phase, 'download');
  assert.match(r.error!.message, /after 7 of 1000 body bytes/);
});

test('IPv6 loopback literal: [::1] in the URL, family 6 on both ends', async () => {
  const http = await import('node:http');
  const server = http.createServer((_q, res) => res.end('v6'));
  await new Promise<void>((r) => server.listen(0, '::1', r));
  try {
    const port = (server.address() as import('node:net').AddressInfo).port;
    const r = await httpProbe(`http://[::1]:${port}/`);
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.deepEqual(r.remote, { address: '::1', port, family: 6 });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('server that never answers: HTTP_TIMEOUT in phase first_byte', async () => {
  const s = await start(rawServer(() => {}));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`, { timeoutMs: 300 });
  assert.equal(r.error?.code, 'HTTP_TIMEOUT');
  assert.equal(r.error?.phase, 'first_byte');
  assert.match(r.error!.message, /after 300 ms waiting for the first byte/);
  assert.ok(r.timings.totalMs >= 290);
});

test('body that stalls: HTTP_TIMEOUT in phase download', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome'))));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`, { timeoutMs: 300 });
  assert.equal(r.error?.code, 'HTTP_TIMEOUT');
  assert.equal(r.error?.phase, 'download');
  assert.notEqual(r.timings.starttransferMs, null);
});

test('TLS port that never speaks: HTTP_TIMEOUT in phase tls', async () => {
  const s = await start(rawServer(() => {}));
  const r = await httpProbe(`https://127.0.0.1:${s.port}/`, { timeoutMs: 300 });
  assert.equal(r.error?.code, 'HTTP_TIMEOUT');
  assert.equal(r.error?.phase, 'tls');
  assert.notEqual(r.timings.connectMs, null);
});

test('not HTTP: HTTP_PARSE with the parser reason', async () => {
  const s = await start(rawServer((sock) => sock.once('data', () => sock.end('SSH-2.0-OpenSSH_9.2\r\n'))));
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`);
  assert.equal(r.error?.code, 'HTTP_PARSE');
  assert.match(r.error!.cause!, /^HPE_/);
});

test('HTTPS with the right CA: 200, TLS session and certificate details, appconnect between connect and pretransfer', async () => {
  const r = await httpProbe(`https://app.test:${secure.port}/`, { resolve: `app.test:${secure.port}:127.0.0.1`, caFile: pki.caFile });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.statusCode, 200);
  assert.ok(r.tls);
  assert.equal(r.tls.authorized, true);
  assert.match(r.tls.protocol!, /^TLSv1\.[23]$/);
  assert.ok(r.tls.cipher);
  assert.equal(r.tls.subject, 'CN=app.test');
  assert.equal(r.tls.issuer, 'CN=flowtrace test CA');
  assert.ok(r.tls.subjectAltNames.includes('DNS:app.test'));
  assert.ok(Date.parse(r.tls.validTo!) > Date.now());
  assert.ok(r.timings.appconnectMs! > r.timings.connectMs! && r.timings.appconnectMs! <= r.timings.pretransferMs!);
  assertOrdered(r);
});

test('HTTPS, CA not trusted: TLS_UNKNOWN_CA with the --cacert hint and the certificate still shown', async () => {
  const r = await httpProbe(`https://127.0.0.1:${secure.port}/`);
  assert.equal(r.error?.code, 'TLS_UNKNOWN_CA');
  assert.equal(r.error?.phase, 'tls');
  assert.match(r.error!.hint, /--cacert/);
  assert.equal(r.tls?.issuer, 'CN=flowtrace test CA');
  assert.equal(r.statusCode, null);
});

test('HTTPS --insecure: the request goes through, the verification failure is recorded', async () => {
  const r = await httpProbe(`https://127.0.0.1:${secure.port}/`, { insecure: true });
  assert.equal(r.status, 'ok');
  assert.equal(r.statusCode, 200);
  assert.equal(r.tls?.authorized, false);
  assert.match(r.tls!.authorizationError!, /UNABLE_TO_VERIFY|SELF_SIGNED|ISSUER/);
});

test('HTTPS, certificate for another name: TLS_HOSTNAME_MISMATCH naming both', async () => {
  const s = await start(httpsServer(pki.wrongName, (_q, res) => res.end('x')));
  const r = await httpProbe(`https://app.test:${s.port}/`, { resolve: `app.test:${s.port}:127.0.0.1`, caFile: pki.caFile });
  assert.equal(r.error?.code, 'TLS_HOSTNAME_MISMATCH');
  assert.match(r.error!.message, /other\.test.*not app\.test/);
});

test('HTTPS, expired certificate: TLS_CERT_EXPIRED with the date', async () => {
  const s = await start(httpsServer(pki.expired, (_q, res) => res.end('x')));
  const r = await httpProbe(`https://app.test:${s.port}/`, { resolve: `app.test:${s.port}:127.0.0.1`, caFile: pki.caFile });
  assert.equal(r.error?.code, 'TLS_CERT_EXPIRED');
  assert.match(r.error!.message, /expired on \d{4}-/);
});

test('https:// to a plain HTTP port: TLS_HANDSHAKE saying it is not TLS', async () => {
  const r = await httpProbe(`https://127.0.0.1:${plain.port}/`);
  assert.equal(r.error?.code, 'TLS_HANDSHAKE');
  assert.match(r.error!.hint, /http:\/\//);
});

test('an abort signal ends the probe at once with HTTP_ABORTED', async () => {
  const s = await start(rawServer(() => {}));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const r = await httpProbe(`http://127.0.0.1:${s.port}/`, { signal: controller.signal, timeoutMs: 5000 });
  assert.equal(r.error?.code, 'HTTP_ABORTED');
  assert.ok(r.timings.totalMs < 4000);
});

test('bad options throw usage/input errors before any connection', async () => {
  await assert.rejects(httpProbe('ftp://x/'), UsageError);
  await assert.rejects(httpProbe('not a url'), UsageError);
  await assert.rejects(httpProbe('http://u:p@x/'), UsageError);
  await assert.rejects(httpProbe('http://x/', { resolve: 'x:80' }), UsageError);
  await assert.rejects(httpProbe('http://x/', { headers: ['NoColon'] }), UsageError);
  await assert.rejects(httpProbe('http://x/', { traceId: 'Root=2-zz' }), UsageError);
  await assert.rejects(httpProbe('https://x/', { caFile: '/nonexistent/ca.pem' }), InputError);
  await assert.rejects(httpProbe('https://x/', { caFile: '/etc/hostname' }), InputError);
});

