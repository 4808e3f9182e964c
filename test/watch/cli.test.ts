/**
 * `flowtrace watch` at the command line: usage errors, then the CLI as a child process (as a
 * user runs it) against a node:http server on 127.0.0.1 that fails some requests: the lines,
 * --json, --report-dir, the summary, the exit code, and Ctrl-C (SIGINT) during a run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { selfCliArgv } from '../../src/self.js';

let server: http.Server;
let port = 0;
let requests = 0;
/** Requests whose number is in this set get a 502 from an `awselb/2.0` (as an ALB's error page). */
let failing = new Set<number>();
let answerAfterMs = 0;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-watch-cli-'));

before(async () => {
  server = http.createServer((req, res) => {
    const n = ++requests;
    const t = setTimeout(() => {
      if (failing.has(n)) res.writeHead(502, { server: 'awselb/2.0' }).end('<html>502 Bad Gateway</html>');
      else res.writeHead(200).end('ok');
    }, answerAfterMs);
    res.on('close', () => clearTimeout(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => { server.close(); server.closeAllConnections(); rmSync(dir, { recursive: true, force: true }); });

interface Child { code: number | null; out: string; err: string; exitedAt: number }

function watchChild(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Child> {
  const argv = [...selfCliArgv(), 'watch', ...args];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pending = '';
    c.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      pending += b.toString();
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) { onLine?.(pending.slice(0, i), c); pending = pending.slice(i + 1); }
    });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    c.on('close', (code) => resolve({ code, out, err, exitedAt: performance.now() }));
  });
}

test('usage errors: one line and a hint, exit 2', async () => {
  for (const args of [['watch'], ['watch', 'a', 'b'], ['watch', 'http://x/', '--every', 'soon'], ['watch', 'http://x/', '--every', '200ms'], ['watch', 'http://x/', '--count', '0'],
    ['watch', 'http://x/', '--keep', '-1'], ['watch', 'http://x/', '--metrics', 'nope'], ['watch', 'http://x/', '--otlp', 'ftp://x'], ['watch', 'ftp://x/'], ['watch', 'http://x/', '--proto', 'sctp']]) {
    const io = memoryIO();
    const code = await main(args, io);
    assert.equal(code, 2, args.join(' '));
    assert.match(io.err.join(''), /^error\[USAGE\]: [^\n]+\nhint: [^\n]+\n$/, args.join(' '));
  }
});

test('--count 4: a line per run, a report per failing run, the summary, exit 1 (some run failed); --json: one object per run', async () => {
  requests = 0;
  failing = new Set([2, 3]);
  answerAfterMs = 0;
  const reports = path.join(dir, 'reports');
  const r = await watchChild([`http://127.0.0.1:${port}/`, '--every', '1s', '--count', '4', '--timeout', '3', '--report-dir', reports, '--keep', '2']);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.split('\n');
  const runs = lines.filter((l) => /^\d{4}-\d\d-\d\dT\S+Z  #\d+  /.test(l));
  assert.equal(runs.length, 4, r.out);
  assert.match(runs[0]!, /  #1  ok {6}-  +\d+\.\d\d s  127\.0\.0\.1 200$/);
  assert.match(runs[1]!, /  #2  FAILED  not located +\d+\.\d\d s  127\.0\.0\.1 502 from the load balancer  report: .*flowtrace-\d{8}T\d{6}Z-2\.html$/);
  assert.match(runs[2]!, /  #3  FAILED  /);
  assert.match(runs[3]!, /  #4  ok  /);
  assert.match(r.out, /^ {2}2 of 4 runs failed \(50 %\), all through 127\.0\.0\.1: 502 from the load balancer — not located \(runs #2…#3, /m);
  assert.match(r.out, /^ {4}127\.0\.0\.1 +2 of 4 failed \(2× 502 from the load balancer\)$/m);
  const files = readdirSync(reports).sort();
  assert.equal(files.filter((f) => f.endsWith('.html')).length, 2);
  assert.match(readFileSync(path.join(reports, files.find((f) => f.endsWith('-2.html'))!), 'utf8'), /^<!doctype html>/i);
  const kept = JSON.parse(readFileSync(path.join(reports, files.find((f) => f.startsWith('watch-'))!), 'utf8')) as { summary: { runs: number; failed: number }; recent: Array<{ requests: Array<{ httpStatus: number }> }> };
  assert.deepEqual([kept.summary.runs, kept.summary.failed, kept.recent.length], [4, 2, 2]);
  assert.deepEqual(kept.recent.map((x) => x.requests[0]!.httpStatus), [502, 200], '--keep 2: runs 3 and 4');

  requests = 0;
  failing = new Set();
  const j = await watchChild([`http://127.0.0.1:${port}/`, '--every', '1s', '--count', '2', '--timeout', '3', '--json']);
  assert.equal(j.code, 0, j.err);
  const objects = j.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objects.length, 3);
  assert.deepEqual(objects.slice(0, 2).map((o) => [o.seq, o.ok]), [[1, true], [2, true]]);
  assert.deepEqual((objects[2]!.summary as { runs: number; failed: number }).runs, 2);
  assert.equal(objects[2]!.end, 'count');
});

test('Ctrl-C during a run: the summary of the runs that ended, exit 0 (none failed), within a second or so', async () => {
  requests = 0;
  failing = new Set();
  answerAfterMs = 0;
  let sentAt = 0;
  let lines = 0;
  const r = await watchChild([`http://127.0.0.1:${port}/`, '--every', '1s', '--timeout', '20'], (line, child) => {
    if (!/  #\d+  /.test(line)) return;
    if (++lines === 2) {
      // The next run will hang at the server: Ctrl-C while it is in flight.
      answerAfterMs = 30_000;
      const wait = setInterval(() => {
        if (requests >= 3) { clearInterval(wait); sentAt = performance.now(); child.kill('SIGINT'); }
      }, 20);
    }
  });
  const tookMs = r.exitedAt - sentAt;
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /the run in flight was stopped and is not counted\n/);
  assert.match(r.out, /: 2 runs from .*\n {2}0 of 2 runs failed\n/);
  // The promise is a second; the bound is generous for a loaded machine (the measured time is in the message).
  assert.ok(tookMs < 3000, `exited ${tookMs.toFixed(0)} ms after SIGINT`);
  process.stdout.write(`# watch exited ${tookMs.toFixed(0)} ms after SIGINT\n`);
});
