/**
 * `flowtrace http` speaking curl's options and words, against real node:http servers on
 * 127.0.0.1: -w/--write-out with curl's variables, -I, -A, -m/--max-time, -s, -H 'Name:' /
 * 'Name;', and -v's `< ` response lines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { httpServer, rawServer } from './servers.js';
import type { Running } from './servers.js';

interface Seen { method: string; rawHeaders: string[] }
let server: Running;
let seen: Seen[] = [];
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ftthttp-curl-'));
  server = await httpServer((req, res) => {
    seen.push({ method: req.method ?? '', rawHeaders: req.rawHeaders });
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('hello\n');
  });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['http', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

const url = (): string => `http://127.0.0.1:${server.port}/`;

test('-w: only the format, with curl\'s variables and formats, %% and \\n', async () => {
  const r = await run([url(), '-s', '-w', '%{http_code} %{remote_ip}:%{remote_port} %{size_download} %{content_type}|%{time_connect}|%{time_total}|%{num_connects} %{http_version} %{method} %{scheme} 100%%\\n']);
  assert.equal(r.code, EXIT.ok, r.err);
  const m = new RegExp(`^200 127\\.0\\.0\\.1:${server.port} 6 text/plain; charset=utf-8\\|(\\d+\\.\\d{6})\\|(\\d+\\.\\d{6})\\|1 1\\.1 GET HTTP 100%\\n$`).exec(r.out);
  assert.ok(m, JSON.stringify(r.out));
  assert.ok(Number(m[1]) <= Number(m[2]));
});

test('-w %{json} and -w @FILE; no response: http_code 000, exitcode 6, errormsg, the error still on stderr', async () => {
  const ok = await run([url(), '-w', '%{json}']);
  const j = JSON.parse(ok.out) as Record<string, unknown>;
  assert.equal(j.http_code, 200);
  assert.equal(j.exitcode, 0);
  assert.equal(j.remote_ip, '127.0.0.1');
  assert.match(String(j.trace_id), /^Root=1-/);
  assert.equal(typeof j.time_starttransfer, 'number');
  const closed = await httpServer(() => {});
  await closed.close();
  const file = path.join(dir, 'fmt.txt');
  writeFileSync(file, '%{http_code} %{exitcode} %{error_code} %{errormsg}');
  const bad = await run([`http://127.0.0.1:${closed.port}/`, '-w', `@${file}`]);
  assert.equal(bad.code, EXIT.network);
  assert.equal(bad.out, `000 6 HTTP_CONNECT_REFUSED connection refused by 127.0.0.1:${closed.port}`);
  assert.match(bad.err, /^error\[HTTP_CONNECT_REFUSED\]/);
});

test('-w mistakes are usage errors before any request: unknown variable, with --json; unreadable @FILE is input', async () => {
  const before = seen.length;
  const unknown = await run([url(), '-w', '%{http_cod}']);
  assert.equal(unknown.code, EXIT.usage);
  assert.match(unknown.err, /^error\[USAGE\]: unknown --write-out variable 'http_cod'\nhint: one of: .*http_code/);
  assert.equal((await run([url(), '-w', '%{http_code}', '--json'])).code, EXIT.usage);
  const missing = await run([url(), '-w', `@${path.join(dir, 'none')}`]);
  assert.equal(missing.code, EXIT.input);
  assert.match(missing.err, /^error\[INPUT\]: cannot read --write-out file/);
  assert.equal(seen.length, before, 'no request was sent');
});

test('-I sends HEAD; -A sets the User-Agent in its usual place', async () => {
  const r = await run([url(), '-I', '-A', 'probe/9', '-w', '%{method} %{http_code} %{size_download}']);
  assert.equal(r.out, 'HEAD 200 0');
  const got = seen.at(-1)!;
  assert.equal(got.method, 'HEAD');
  assert.deepEqual(got.rawHeaders.slice(0, 4), ['Host', `127.0.0.1:${server.port}`, 'User-Agent', 'probe/9']);
  assert.equal((await run([url(), '-I', '-d', 'x'])).code, EXIT.usage);
});

test("-H 'Accept:' leaves the header out, -H 'X-Empty;' sends it empty; the trace id cannot be left out", async () => {
  const r = await run([url(), '-H', 'Accept:', '-H', 'X-Empty;', '-H', 'X-Kept: 1']);
  assert.equal(r.code, EXIT.ok, r.err);
  const names = seen.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.ok(!names.includes('accept'), names.join(','));
  const raw = seen.at(-1)!.rawHeaders;
  assert.equal(raw[raw.indexOf('X-Empty') + 1], '');
  assert.equal(raw[raw.indexOf('X-Kept') + 1], '1');
  const trace = await run([url(), '-H', 'X-Amzn-Trace-Id:']);
  assert.equal(trace.code, EXIT.usage);
  assert.match(trace.err, /^error\[USAGE\]: the X-Amzn-Trace-Id header cannot be left out\nhint: .*--trace-id/);
});

test('-m/--max-time is the deadline (curl\'s name); with --timeout it is a usage error', async () => {
  const silent = await rawServer(() => {});
  try {
    const r = await run([`http://127.0.0.1:${silent.port}/`, '-m', '0.3', '-w', '%{error_code} %{error_phase}']);
    assert.equal(r.code, EXIT.network);
    assert.equal(r.out, 'HTTP_TIMEOUT first_byte');
    assert.match(r.err, /timed out after 300 ms/);
  } finally {
    await silent.close();
  }
  const both = await run([url(), '-m', '1', '--timeout', '1']);
  assert.equal(both.code, EXIT.usage);
  assert.match((await run([url(), '--max-time', 'x'])).err, /^error\[USAGE\]: bad --max-time 'x'/);
});

test('-v: the response head as curl\'s "< " lines, not repeated in a headers block', async () => {
  const r = await run([url(), '-v']);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(r.out, /\n>\n< HTTP\/1\.1 200 OK\n< Content-Type: text\/plain; charset=utf-8\n(< .+\n)*<\n\nHTTP\/1\.1 200 OK\n/);
  assert.doesNotMatch(r.out, /^response headers:/m);
  assert.match((await run([url()])).out, /^response headers:\n {2}Content-Type: text\/plain; charset=utf-8$/m);
});
