/**
 * The schedule, with the real walk: `watch()` runs follow (real DNS-free URL, real trace on
 * loopback, real HTTP requests) against node:http servers on 127.0.0.1 that note when each
 * request starts and ends. Checks: the jitter's bounds, runs never overlapping, --count, an
 * abort during a run (the run abandoned after the grace time) and between runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nextDelayMs, watch, DEFAULT_JITTER } from '../../src/watch/index.js';

interface Seen { start: number; end: number }
let server: http.Server;
let port = 0;
const seen: Seen[] = [];
let inFlight = 0;
let maxInFlight = 0;
/** How long the server takes to answer (ms), changed by the tests. */
let answerAfterMs = 0;

before(async () => {
  server = http.createServer((req, res) => {
    const s: Seen = { start: performance.now(), end: 0 };
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const t = setTimeout(() => { res.end('ok'); }, answerAfterMs);
    res.on('close', () => { clearTimeout(t); inFlight--; s.end = performance.now(); seen.push(s); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => { server.close(); server.closeAllConnections(); });

test('nextDelayMs: every ± jitter·every, uniformly; never negative', () => {
  assert.equal(nextDelayMs(30_000, 0.1, () => 0), 27_000);
  assert.equal(nextDelayMs(30_000, 0.1, () => 0.5), 30_000);
  assert.equal(nextDelayMs(30_000, 0.1, () => 0.999999), 33_000);
  assert.equal(nextDelayMs(1000, 0, Math.random), 1000);
  assert.equal(nextDelayMs(1000, 5, () => 0), 0, 'jitter is capped at the interval');
  const delays = Array.from({ length: 2000 }, () => nextDelayMs(10_000, DEFAULT_JITTER));
  assert.ok(delays.every((d) => d >= 9000 && d <= 11_000));
  assert.ok(new Set(delays).size > 100, 'spread, not one value');
  const below = delays.filter((d) => d < 10_000).length;
  assert.ok(below > 700 && below < 1300, `about half below the interval: ${below} of 2000`);
});

test('runs never overlap: with answers slower than the interval, each run starts after the previous one ended; --count ends the watch', async () => {
  seen.length = 0;
  maxInFlight = 0;
  answerAfterMs = 400;
  const ac = new AbortController();
  const runs: number[] = [];
  const end = await watch(`http://127.0.0.1:${port}/`, { everyMs: 100, count: 4, signal: ac.signal, follow: { timeoutMs: 3000 }, onRun: (r) => { runs.push(r.seq); } });
  assert.equal(end.end, 'count');
  assert.equal(end.summary.runs, 4);
  assert.deepEqual(runs, [1, 2, 3, 4]);
  assert.equal(end.summary.failed, 0);
  assert.equal(end.recent.length, 4);
  assert.equal(seen.length, 4, 'one request per run (one address)');
  assert.equal(maxInFlight, 1, 'never two requests at once');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.start >= seen[i - 1]!.end, `run ${i + 1} started after run ${i} ended`);
});

test('an abort during a run: the run is abandoned after the grace time, not counted; the watch ends at once', async () => {
  seen.length = 0;
  answerAfterMs = 20_000;
  const ac = new AbortController();
  const done = watch(`http://127.0.0.1:${port}/`, { everyMs: 1000, signal: ac.signal, graceMs: 300, follow: { timeoutMs: 15_000 } });
  // Abort once the request is at the server.
  while (inFlight === 0) await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  ac.abort();
  const end = await done;
  const tookMs = performance.now() - t0;
  assert.equal(end.end, 'interrupted');
  assert.equal(end.abandoned, true);
  assert.equal(end.summary.runs, 0);
  assert.ok(tookMs < 3000, `ended ${tookMs.toFixed(0)} ms after the abort (grace 300 ms)`);
});

test('an abort between runs ends the wait at once', async () => {
  answerAfterMs = 0;
  const ac = new AbortController();
  let t0 = 0;
  const end = await watch(`http://127.0.0.1:${port}/`, { everyMs: 60_000, signal: ac.signal, follow: { timeoutMs: 3000 }, onRun: () => { setTimeout(() => { t0 = performance.now(); ac.abort(); }, 50); } });
  const tookMs = performance.now() - t0;
  assert.equal(end.end, 'interrupted');
  assert.equal(end.abandoned, false);
  assert.equal(end.summary.runs, 1);
  assert.ok(tookMs < 2000, `ended ${tookMs.toFixed(0)} ms after the abort, not after the 60 s interval`);
});
