/**
 * One redaction policy (issue 13): the agent's pcapng kept `X-Api-Key` in clear while
 * `flowtrace http` hid it — two commands, two lists. Now src/redaction.ts holds the list
 * (Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Amz-Security-Token)
 * and `--redact NAME` adds to it, in every output that redacts (docs/redaction.md). Here: a
 * request carrying each secret (and one added name) through `http` against a server on
 * loopback, a capture carrying them through `analyze --json`, a saved follow result through
 * `report`; no secret value may appear in anything printed or written. The agent's pcapng
 * is covered by test/agent/split-secrets.test.ts (each name, split across segments, and an
 * added name through `start.redact`).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { DEFAULT_REDACTION, REDACTED, RedactionPolicy, redactionPolicy, SECRET_HEADER_NAMES } from '../../src/redaction.js';
import { Conversation, pcapBytes } from '../flow/craft.js';
import { listen, type Running } from '../http/servers.js';
import { tempDir } from './inputs.js';

/** One secret per header; each value unique so a leak names its header. */
const REQUEST_SECRETS: Record<string, string> = {
  Authorization: 'Bearer SECRET-authz-7f3a9c',
  'Proxy-Authorization': 'Basic SECRET-proxy-51bd02',
  Cookie: 'sid=SECRET-cookie-88e1; theme=dark',
  'X-Api-Key': 'SECRET-apikey-0c4d55',
  'X-Amz-Security-Token': 'FwoGZXIvSECRET-sts-9a9a9a',
  'X-Session-Token': 'SECRET-added-3e3e3e', // added with --redact
};
const RESPONSE_SECRETS: Record<string, string> = {
  'Set-Cookie': 'sid=SECRET-setcookie-4242; Path=/; HttpOnly',
  'X-Api-Key': 'SECRET-resp-apikey-1111',
  'X-Amz-Security-Token': 'SECRET-resp-sts-2222',
  'X-Session-Token': 'SECRET-resp-added-3333',
};
/** The secret part of each value (what must never be printed). */
const SECRET_PARTS = [...Object.values(REQUEST_SECRETS), ...Object.values(RESPONSE_SECRETS)].map((v) => /SECRET-[a-z-]+-[0-9a-f]+/.exec(v)![0]);

function assertNoSecret(text: string, where: string): void {
  for (const s of SECRET_PARTS) assert.ok(!text.includes(s), `${where} shows ${s}:\n${text.slice(0, 2000)}`);
}

const tmp = tempDir();
after(() => tmp.remove());

describe('the policy itself', () => {
  it('the default list is the issue\'s six names; --redact names are added (any case, no repeats)', () => {
    assert.deepEqual(SECRET_HEADER_NAMES, ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-amz-security-token']);
    const p = redactionPolicy(['X-Session-Token', 'x-session-token', 'COOKIE']);
    assert.deepEqual(p.added, ['x-session-token']);
    assert.ok(p.has('X-SESSION-TOKEN') && p.has('x-api-key') && !p.has('host'));
    assert.equal(redactionPolicy([]), DEFAULT_REDACTION);
  });

  it('text and JSON: header lines, JSON keys and [name, value] pairs', () => {
    const p = redactionPolicy(['X-Session-Token']);
    const count = { count: 0 };
    assert.equal(p.redactText('X-Api-Key: abc\r\nHost: h\r\nx-session-token:  t0k', count), `X-Api-Key: ${REDACTED}\r\nHost: h\r\nx-session-token:  ${REDACTED}`);
    assert.equal(p.redactText('{"X-Amz-Security-Token":"Fwo","ok":1}', count), `{"X-Amz-Security-Token":"${REDACTED}","ok":1}`);
    assert.equal(count.count, 3);
    assert.deepEqual(p.redactDeep({ headers: [['Set-Cookie', 'a=b'], ['Host', 'h']], 'x-api-key': 'k', note: 'Cookie: c=d' }),
      { headers: [['Set-Cookie', REDACTED], ['Host', 'h']], 'x-api-key': REDACTED, note: `Cookie: ${REDACTED}` });
  });

  it('a name that is not an HTTP field name, or too many, is a usage error', () => {
    for (const bad of ['', 'X-Api-Key: v', 'a b', 'x'.repeat(65), 'ü']) assert.throws(() => new RedactionPolicy([bad]), /--redact: /);
    assert.throws(() => new RedactionPolicy(Array.from({ length: 25 }, (_, i) => `X-${i}`)), /at most 24/);
  });
});

describe('flowtrace http against a server on loopback', () => {
  let server: Running;
  let received: http.IncomingHttpHeaders = {};
  before(async () => {
    server = await listen(http.createServer((req, res) => {
      received = req.headers;
      for (const [name, value] of Object.entries(RESPONSE_SECRETS)) res.setHeader(name, value);
      res.setHeader('Content-Type', 'application/json');
      // An echo service (httpbin's /headers): the body carries the request's secrets too.
      res.end(JSON.stringify({ headers: req.headers }));
    }));
  });
  after(async () => { await server.close(); });

  const args = (): string[] => ['http', `http://127.0.0.1:${server.port}/headers`, ...Object.entries(REQUEST_SECRETS).flatMap(([n, v]) => ['-H', `${n}: ${v}`]), '--redact', 'X-Session-Token'];

  for (const mode of [[], ['-v'], ['--json'], ['-w', '%{json}\n']]) {
    it(`${mode.join(' ') || 'text'}: every secret sent as given, none printed`, async () => {
      const io = memoryIO();
      const code = await main([...args(), ...mode], io);
      assert.equal(code, EXIT.ok, io.err.join(''));
      for (const [name, value] of Object.entries(REQUEST_SECRETS)) assert.equal(received[name.toLowerCase()], value, `${name} was sent unchanged`);
      const out = io.out.join('') + io.err.join('');
      assertNoSecret(out, `http ${mode.join(' ')}`);
      if (mode[0] === '--json') {
        const r = JSON.parse(io.out.join('')) as { requestHeaders: Array<{ name: string; value: string }>; headers: Array<{ name: string; value: string }>; bodyHead: string };
        assert.deepEqual(r.requestHeaders.find((h) => h.name === 'X-Session-Token'), { name: 'X-Session-Token', value: REDACTED });
        assert.deepEqual(r.requestHeaders.find((h) => h.name === 'Authorization'), { name: 'Authorization', value: `Bearer ${REDACTED}` });
        assert.deepEqual(r.headers.find((h) => h.name.toLowerCase() === 'x-amz-security-token')?.value, REDACTED);
        assert.match(r.bodyHead, /"x-api-key":"\[redacted\]"/);
      }
    });
  }

  it('without --redact, the added name is shown: the list is the policy, not a guess', async () => {
    const io = memoryIO();
    assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '-H', `X-Session-Token: ${REQUEST_SECRETS['X-Session-Token']}`, '-v'], io), EXIT.ok);
    assert.match(io.out.join(''), /^> X-Session-Token: SECRET-added-3e3e3e$/m);
  });

  it('--redact with a bad name: exit 2 before anything is sent', async () => {
    received = {};
    const io = memoryIO();
    assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '--redact', 'X-Api-Key: x'], io), EXIT.usage);
    assert.match(io.err.join(''), /^error\[USAGE\]: --redact: 'X-Api-Key: x' is not a header name .*\nhint: give a header name, e\.g\. --redact X-Session-Token/);
    assert.deepEqual(received, {});
  });
});

describe('flowtrace analyze of a capture carrying every secret', () => {
  let file: string;
  before(() => {
    const c = new Conversation({ client: ['203.0.113.7', 40001], server: ['172.31.5.20', 80] });
    const head = ['GET /private HTTP/1.1', 'Host: app.example', 'X-Forwarded-For: 198.51.100.23', 'X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678',
      ...Object.entries(REQUEST_SECRETS).map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n');
    const response = ['HTTP/1.1 200 OK', 'Content-Length: 2', ...Object.entries(RESPONSE_SECRETS).map(([n, v]) => `${n}: ${v}`), '', 'ok'].join('\r\n');
    c.handshake().send('client', head, [40, 90]).wait(500).send('server', response, [60]).wait(100).close();
    file = path.join(tmp.dir, 'secrets.pcap');
    writeFileSync(file, pcapBytes(c.frames, 'ethernet'));
  });

  for (const mode of [['--json'], []]) {
    it(`${mode[0] ?? 'text'}: the exchange is there, no secret value`, async () => {
      const io = memoryIO();
      assert.equal(await main(['analyze', file, ...mode], io), EXIT.ok, io.err.join(''));
      const out = io.out.join('') + io.err.join('');
      assertNoSecret(out, `analyze ${mode[0] ?? ''}`);
      assert.match(out, /\/private/);
      assert.match(out, /198\.51\.100\.23/); // X-Forwarded-For is shown unless named
    });
  }

  it('--redact X-Forwarded-For --redact Host hides the values analyze shows', async () => {
    const io = memoryIO();
    assert.equal(await main(['analyze', file, '--json', '--redact', 'X-Forwarded-For', '--redact', 'host'], io), EXIT.ok, io.err.join(''));
    const a = JSON.parse(io.out.join('')) as { exchanges: Array<{ request: { host: string; xForwardedFor: string; traceId: { root: string } } }> };
    assert.equal(a.exchanges.length, 1);
    assert.equal(a.exchanges[0].request.host, REDACTED);
    assert.equal(a.exchanges[0].request.xForwardedFor, REDACTED);
    assert.equal(a.exchanges[0].request.traceId.root, '1-67891233-abcdef012345678912345678');
    assert.doesNotMatch(io.out.join(''), /198\.51\.100\.23|app\.example/);
  });

  it('read stays tcpdump-faithful: -A prints the payload as captured, and --redact is refused with a hint', async () => {
    const io = memoryIO();
    assert.equal(await main(['read', file, '-A'], io), EXIT.ok, io.err.join(''));
    assert.match(io.out.join(''), /X-Api-Key: SECRET-apikey-0c4d55/);
    const refused = memoryIO();
    assert.equal(await main(['read', file, '--redact', 'X-Api-Key'], refused), EXIT.usage);
    assert.match(refused.err.join(''), /^error\[USAGE\]: unknown option '--redact'\nhint: read prints what the capture holds, as tcpdump does \(docs\/redaction\.md\)/);
  });
});

describe('flowtrace report of a saved follow result', () => {
  it('secrets in a result (an older flowtrace, or a name added now) do not reach the HTML', async () => {
    const healthy = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../data/follow/healthy.json'), 'utf8')) as { requests: Array<{ bodyPreview: string | null }> };
    healthy.requests[0].bodyPreview = JSON.stringify({ 'X-Api-Key': REQUEST_SECRETS['X-Api-Key'], 'X-Session-Token': REQUEST_SECRETS['X-Session-Token'] });
    const input = tmp.file('result.json');
    writeFileSync(input, JSON.stringify(healthy));
    const out = tmp.file('report.html');
    const io = memoryIO();
    assert.equal(await main(['report', input, '-o', out, '--redact', 'X-Session-Token'], io), EXIT.ok, io.err.join(''));
    const html = readFileSync(out, 'utf8');
    assertNoSecret(html, 'the report');
    assert.ok(html.includes('X-Api-Key'), 'the header name stays');
  });
});
