/**
 * `flowtrace follow`, `report` and `demo` at the command line: usage errors (one line + hint,
 * exit 2), the real probes against HTTP servers on loopback (no namespace needed; the TCP trace
 * needs raw sockets, so without root the route row says it was not traced), exit codes per
 * verdict, --json, --report and `flowtrace report`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { selfCliArgv } from '../../src/self.js';
import { memoryIO } from '../../src/cli/io.js';
import type { FollowResult } from '../../src/follow/index.js';
import { writeAwsConfigDir } from '../../src/aws/index.js';
import { labAwsSnapshot } from '../../src/lab/index.js';

let server: http.Server;
let port = 0;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-follow-cli-'));

before(async () => {
  server = http.createServer((req, res) => {
    const status = req.url === '/fail' ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, traceId: req.headers['x-amzn-trace-id'] ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  io.cwd = dir;
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('usage errors: one line and a hint, exit 2', async () => {
  for (const args of [['follow'], ['follow', 'ftp://x/'], ['follow', 'http://x/', '--proto', 'sctp'], ['follow', 'http://x/', '--server', 'bogus'],
    ['follow', 'http://x/', '--timeout', '-1'], ['follow', 'http://x/', '--cacert', 'a', '--insecure'], ['report'], ['demo', '--fault', 'nope'], ['follow', 'http://x/', '--lb-name', 'nonsense']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^error\[USAGE\]: [^\n]+\nhint: [^\n]+\n$/, args.join(' '));
  }
});

test('--aws-config: a folder that cannot be read is an error before anything is sent (exit 3); the AWS options that do not go together are usage errors', async () => {
  const r = await cli(['follow', `http://127.0.0.1:${port}/`, '--aws-config', path.join(dir, 'no-such-folder')]);
  assert.equal(r.code, 3);
  assert.match(r.err, /^error\[AWS_CONFIG_DIR\]: cannot read the AWS configuration folder .*no-such-folder: ENOENT\nhint: .*aws-snapshot/);
  assert.equal(r.out, '');
  for (const args of [['--aws', '--aws-config', dir], ['--aws-region', 'eu-west-1'], ['--aws-profile', 'prod', '--aws-config', dir]]) {
    const u = await cli(['follow', 'http://127.0.0.1/', ...args]);
    assert.equal(u.code, 2, args.join(' '));
    assert.match(u.err, /^error\[USAGE\]: --aws/, args.join(' '));
  }
});

test('--aws-config with the lab\'s configuration on a server that is not behind it: the walk as usual, the configuration read and not determinable', async () => {
  const cfg = path.join(dir, 'aws');
  writeAwsConfigDir(cfg, labAwsSnapshot({ faults: [] }));
  const r = await cli(['follow', `http://127.0.0.1:${port}/`, '--json', '--timeout', '3', '--aws-config', cfg]);
  const result = JSON.parse(r.out) as FollowResult;
  assert.equal(r.code, 0, result.verdict.headline);
  assert.equal(result.aws?.status, 'ok');
  assert.equal(result.aws?.source, 'files');
  assert.equal(result.aws?.from, cfg);
  assert.ok(result.aws?.read.includes('describe-security-groups'));
  assert.equal(result.aws?.paths.length, 1);
  assert.equal(result.aws?.paths[0]!.status, 'unknown', '127.0.0.1 is none of the load balancer\'s nodes');
  assert.equal(result.verdict.config?.agreement, 'not-determinable');
});

test('follow a healthy server on loopback: exit 0, JSON result with the trace id the server saw', async () => {
  const r = await cli(['follow', `http://127.0.0.1:${port}/`, '--json', '--timeout', '3']);
  const result = JSON.parse(r.out) as FollowResult;
  assert.equal(r.code, 0, result.verdict.headline);
  assert.equal(result.schemaVersion, 2);
  assert.equal(result.dns.status, 'literal');
  assert.equal(result.requests.length, 1);
  assert.equal(result.requests[0]!.httpStatus, 200);
  assert.match(result.requests[0]!.bodyPreview ?? '', new RegExp(result.requests[0]!.traceId));
  assert.equal(result.routes.length, 1);
  if (process.getuid?.() === 0) assert.equal(result.routes[0]!.status, 'reached');
  else assert.match(result.verdict.rows[1]!.summary, /not traced/);
  assert.equal(result.verdict.rows[3]!.status, 'not-checked');
});

test('an application error is exit 15; a closed port is the "load balancer" refusing, exit 12', async () => {
  const bad = await cli(['follow', `http://127.0.0.1:${port}/fail`, '--timeout', '3']);
  assert.equal(bad.code, 15);
  assert.match(bad.out, /answered 500/);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await cli(['follow', `http://127.0.0.1:${closedPort}/`, '--json', '--timeout', '3']);
  const result = JSON.parse(refused.out) as FollowResult;
  if (process.getuid?.() === 0) {
    assert.equal(refused.code, 12, result.verdict.headline);
    assert.equal(result.verdict.causeId, 'lb-refused');
  } else {
    assert.notEqual(refused.code, 0);
  }
});

test('--report writes the HTML; `flowtrace report` redraws it from the JSON', async () => {
  const r = await cli(['follow', `http://127.0.0.1:${port}/`, '--report', 'r.html', '--timeout', '3']);
  assert.equal(r.code, 0);
  assert.match(r.out, /report: .*r\.html/);
  const html = readFileSync(path.join(dir, 'r.html'), 'utf8');
  assert.match(html, /^<!doctype html>/);
  const json = await cli(['follow', `http://127.0.0.1:${port}/`, '--json', '--timeout', '3']);
  writeFileSync(path.join(dir, 'res.json'), json.out);
  const rep = await cli(['report', 'res.json', '-o', 'again.html']);
  assert.equal(rep.code, 0);
  assert.match(readFileSync(path.join(dir, 'again.html'), 'utf8'), /What we proved/);
  writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ schemaVersion: 99, verdict: { rows: [] } }));
  const wrong = await cli(['report', 'other.json']);
  assert.equal(wrong.code, 3);
  assert.match(wrong.err, /schema version 99/);
});

const SCRIPT = '/usr/bin/script';
test('progress only on a terminal: drawn on a TTY, never into a redirected stderr or a pipe', { skip: existsSync(SCRIPT) ? false : 'needs script(1) from util-linux for a pseudo-terminal' }, async () => {
  // Asynchronously: a blocking spawn would stall this process's loopback server.
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = [...selfCliArgv(), 'follow', `http://127.0.0.1:${port}/`, '--once', '--proto', 'tcp', '--timeout', '3'].map(quote).join(' ');
  const run = (shell: string): Promise<string> => new Promise((resolve) => {
    const c = spawn(SCRIPT, ['-qec', shell, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    c.on('close', () => resolve(out));
  });
  const onTty = await run(cmd);
  assert.match(onTty, /\r\x1b\[2K\S+ (resolving|tracing|HTTP request)/, 'spinner frames on the terminal');
  const errFile = path.join(dir, 'progress.err');
  const toFile = await run(`${cmd} 2>${quote(errFile)}`);
  assert.match(toFile, /DNS/, 'the table still goes to the terminal');
  assert.equal(readFileSync(errFile, 'utf8'), '', 'no frames in the redirected stderr');
});
