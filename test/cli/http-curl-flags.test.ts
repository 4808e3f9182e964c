/**
 * curl command lines as people type them, run through `flowtrace http` against a loopback
 * server: `-sS`, `-f`, and `-o /dev/null` with `-w`; and curl flags
 * flowtrace does not have, refused in one line with what to do instead.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';

let server: http.Server;
let port = 0;
const paths: string[] = [];
before(async () => {
  server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end('hello\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => { server.close(); });

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['http', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test("curl -sS -o /dev/null -w '%{http_code}' works as typed", async () => {
  const r = await cli(['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/ok`]);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.equal(r.out, '200');
  assert.equal(r.err, '');
});

test('-f / --fail is accepted: a 4xx exits 1 as always', async () => {
  for (const f of ['-f', '--fail', '-fsS']) {
    const r = await cli([f, '-w', '%{http_code}', `http://127.0.0.1:${port}/missing`]);
    assert.equal(r.code, EXIT.failed, `${f}: ${r.err}`);
    assert.equal(r.out, '404');
  }
});

test('-o FILE other than /dev/null is refused before any request: the body is not saved', async () => {
  paths.length = 0;
  const r = await cli(['-o', 'page.html', `http://127.0.0.1:${port}/`]);
  assert.equal(r.code, EXIT.usage);
  assert.match(r.err, /^error\[USAGE\]: -o page\.html: flowtrace does not save the response body\nhint: .*curl -o FILE\n$/);
  assert.deepEqual(paths, []);
});

test('curl flags without an equivalent: one line, and the hint says what to do instead', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-L'], /does not follow redirects/],
    [['-sSL'], /does not follow redirects/],
    [['--location'], /does not follow redirects/],
    [['-i'], /response headers are always shown/],
    [['-u', 'a:b'], /Authorization: Basic/],
    [['--compressed'], /flowtrace http --help/],
  ];
  for (const [flags, hint] of cases) {
    const r = await cli([...flags, `http://127.0.0.1:${port}/`]);
    assert.equal(r.code, EXIT.usage, flags.join(' '));
    assert.match(r.err, /^error\[USAGE\]: unknown option '[^']+'\nhint: .+\n$/);
    assert.match(r.err, hint, flags.join(' '));
  }
});
