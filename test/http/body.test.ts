/**
 * A request body like curl's -d / --data-binary: sent to a real node:http server on 127.0.0.1
 * that records and echoes the method, headers and bytes it received.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buildRequestBody, httpProbe } from '../../src/http/index.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT, InputError, UsageError } from '../../src/errors.js';
import { httpServer } from './servers.js';
import type { Running } from './servers.js';

interface Received { method: string; headers: Record<string, string | string[] | undefined>; body: Buffer }
let server: Running;
let received: Received[] = [];
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ftthttp-body-'));
  server = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', headers: req.headers, body });
      res.setHeader('Content-Type', 'text/plain');
      res.end(`${req.method} ${body.length} ${body.toString('latin1')}`);
    });
  });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function last(): Received {
  const r = received.at(-1);
  assert.ok(r, 'the server received a request');
  return r;
}

test('a body: POST by default, Content-Length and curl\'s form Content-Type, the bytes arrive', async () => {
  received = [];
  const r = await httpProbe(`http://127.0.0.1:${server.port}/submit`, { body: 'name=flow&x=1' });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.method, 'POST');
  assert.equal(r.requestBodyBytes, 13);
  const got = last();
  assert.equal(got.method, 'POST');
  assert.equal(got.body.toString(), 'name=flow&x=1');
  assert.equal(got.headers['content-length'], '13');
  assert.equal(got.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(got.headers['transfer-encoding'], undefined);
  assert.equal(r.bodyHead, 'POST 13 name=flow&x=1');
  const sent = Object.fromEntries(r.requestHeaders.map((h) => [h.name, h.value]));
  assert.equal(sent['Content-Length'], '13');
});

test('-X PUT with -H Content-Type: the given method and type; bytes (not text) sent as they are', async () => {
  const bytes = Uint8Array.from([0x00, 0xff, 0x0d, 0x0a, 0x41]);
  const r = await httpProbe(`http://127.0.0.1:${server.port}/`, { method: 'put', body: bytes, headers: ['Content-Type: application/octet-stream'] });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const got = last();
  assert.equal(got.method, 'PUT');
  assert.equal(got.headers['content-type'], 'application/octet-stream');
  assert.deepEqual([...got.body], [0x00, 0xff, 0x0d, 0x0a, 0x41]);
  assert.equal(r.requestHeaders.filter((h) => h.name.toLowerCase() === 'content-type').length, 1);
});

test('an empty body is still a POST with Content-Length: 0; no body is a GET without one', async () => {
  await httpProbe(`http://127.0.0.1:${server.port}/`, { body: '' });
  assert.equal(last().method, 'POST');
  assert.equal(last().headers['content-length'], '0');
  const r = await httpProbe(`http://127.0.0.1:${server.port}/`);
  assert.equal(r.requestBodyBytes, 0);
  assert.equal(last().method, 'GET');
  assert.equal(last().headers['content-length'], undefined);
  assert.equal(last().headers['content-type'], undefined);
});

test('buildRequestBody: parts joined with &, --data @FILE loses CR and LF, --data-binary keeps them', async () => {
  const file = path.join(dir, 'form.txt');
  writeFileSync(file, 'a=1\r\nb=2\n');
  assert.equal((await buildRequestBody(['x=y', `@${file}`, 'z'], 'data')).toString(), 'x=y&a=1b=2&z');
  assert.equal((await buildRequestBody([`@${file}`], 'binary')).toString(), 'a=1\r\nb=2\n');
  assert.equal((await buildRequestBody(['@-'], 'data', async () => Buffer.from('s=1\n'))).toString(), 's=1');
  await assert.rejects(buildRequestBody([`@${path.join(dir, 'missing')}`], 'data'), (e: unknown) => e instanceof InputError && /cannot read --data file .*missing: ENOENT/.test(e.message));
  await assert.rejects(buildRequestBody(['@-'], 'data'), UsageError);
});

test('flowtrace http -d a -d b: one POST body a&b; -v shows the length and curl\'s "} [N bytes data]"', async () => {
  const io = memoryIO();
  const code = await main(['http', `http://127.0.0.1:${server.port}/`, '-d', 'a=1', '--data', 'b=2', '-v'], io);
  assert.equal(code, EXIT.ok, io.err.join(''));
  assert.equal(last().body.toString(), 'a=1&b=2');
  assert.equal(last().method, 'POST');
  const out = io.out.join('');
  assert.match(out, /^> POST \/ HTTP\/1\.1$/m);
  assert.match(out, /^> Content-Length: 7\n> Content-Type: application\/x-www-form-urlencoded\n>\n\} \[7 bytes data\]\n/m);
});

test('flowtrace http --data-binary @- reads stdin; -X GET -d keeps GET (as curl)', async () => {
  const io = memoryIO(Readable.from([Buffer.from('{"k":\n1}\n')]));
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '--data-binary', '@-', '-H', 'Content-Type: application/json', '--json'], io), EXIT.ok, io.err.join(''));
  assert.equal(last().body.toString(), '{"k":\n1}\n');
  assert.equal(last().headers['content-type'], 'application/json');
  assert.equal(JSON.parse(io.out.join('')).requestBodyBytes, 9);
  const get = memoryIO();
  assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, '-X', 'GET', '-d', 'q=1'], get), EXIT.ok);
  assert.equal(last().method, 'GET');
  assert.equal(last().body.toString(), 'q=1');
});

test('flowtrace http: an unreadable data file exits 3, --data with --data-binary exits 2, one line + hint each', async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['-d', `@${path.join(dir, 'nope.txt')}`], EXIT.input, /^error\[INPUT\]: cannot read --data file .*nope\.txt: ENOENT\nhint: .+\n$/],
    [['-d', 'a', '--data-binary', 'b'], EXIT.usage, /^error\[USAGE\]: --data and --data-binary together\nhint: .+\n$/],
  ];
  const before = received.length;
  for (const [args, code, message] of cases) {
    const io = memoryIO();
    assert.equal(await main(['http', `http://127.0.0.1:${server.port}/`, ...args], io), code, args.join(' '));
    assert.match(io.err.join(''), message);
  }
  assert.equal(received.length, before, 'nothing was sent');
});
