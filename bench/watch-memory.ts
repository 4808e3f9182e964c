/**
 * watch's memory over many runs (issue 19: "its memory stays flat over 1,000 runs"), one
 * process: the real `watch()` — each run a real follow (a TCP trace and a request through
 * the loopback to a node:http server), its tally, the newest --keep results, every result
 * exported as an OTLP trace through the SDK to a local collector (which discards it) and
 * observed by the Prometheus registry (scraped every 100 runs). After GC at fixed run counts,
 * the heap and RSS are sampled: flat means what watch keeps does not grow with the runs.
 *
 * `node --expose-gc dist/bench/watch-memory.js [RUNS]` (root: the trace's raw sockets);
 * prints one JSON line {samples: [{runs, heapMiB, rssMiB}], ms}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { watch } from '../src/watch/index.js';
import { OtlpTraces, WatchMetrics } from '../src/telemetry/index.js';

const runs = Number(process.argv[2] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const app = http.createServer((_q, s) => s.end('ok'));
const collector = http.createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{}'); }); });
const appPort = await listen(app);
const otlpPort = await listen(collector);
const url = `http://127.0.0.1:${appPort}/`;
const metrics = new WatchMetrics({ url, server: null });
const traces = new OtlpTraces({ url: `http://127.0.0.1:${otlpPort}/v1/traces` });
const samples: Array<{ runs: number; heapMiB: number; rssMiB: number }> = [];
const at = new Set([50, 100, 250, 500, 750, runs]);
const mib = (n: number): number => Number((n / 1048576).toFixed(1));
const controller = new AbortController();
const t0 = performance.now();
await watch(url, {
  everyMs: 1, jitter: 0, count: runs, signal: controller.signal,
  follow: { timeoutMs: 2000, probeOptions: { traceRounds: 1, traceTimeoutMs: 200, maxTtl: 2 } },
  onRun: async ({ seq, result }) => {
    metrics.observe(result);
    await traces.export(result);
    if (seq % 100 === 0) await metrics.text();
    if (at.has(seq)) {
      gc();
      const m = process.memoryUsage();
      samples.push({ runs: seq, heapMiB: mib(m.heapUsed), rssMiB: mib(m.rss) });
    }
  },
});
await traces.shutdown();
app.close();
collector.close();
console.log(JSON.stringify({ samples, ms: Math.round(performance.now() - t0) }));
