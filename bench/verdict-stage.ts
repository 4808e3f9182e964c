/**
 * The server side of `follow` on a big capture, timed stage by stage in one process: flow's
 * analysis (as the agent makes it), then follow's mapping — the requests found by trace id,
 * their journeys (the expected paths learnt from every kept connection) — and the verdict.
 * Prints one JSON line: { analysisMs, journeyVerdictMs, connections, exchanges, peakRssMiB }.
 *
 *   node dist/bench/verdict-stage.js CAPTURE [IFMAP] [MAX_KEPT]
 */
import { readFileSync } from 'node:fs';
import { parseIfmap } from '../src/capture/index.js';
import { analyzeCapture } from '../src/flow/index.js';
import { decideVerdict, serverEvidence, type FollowEvidence } from '../src/follow/index.js';

const [file, ifmapFile, maxKeptText] = process.argv.slice(2);
if (!file) throw new Error('usage: verdict-stage CAPTURE [IFMAP] [MAX_KEPT]');
const ifmap = ifmapFile && ifmapFile !== '-' ? parseIfmap(readFileSync(ifmapFile, 'utf8')) : undefined;
const maxKept = maxKeptText ? Number(maxKeptText) : undefined;

const t0 = performance.now();
const { analysis } = await analyzeCapture(file, { ifmap, maxKept });
const t1 = performance.now();
// Two requests, as follow sends through two load-balancer nodes: one found by its trace id
// (the last exchange of the capture), one found by nothing.
const root = [...analysis.exchanges].reverse().find((e) => e.request?.traceId?.root)?.request?.traceId?.root ?? '1-00000000-000000000000000000000000';
const sent = [root, '1-00000000-000000000000000000000000'].map((traceRoot) => ({ traceRoot, address: '10.77.1.10', sentAt: null, timeoutMs: 5000, reachedLoadBalancer: true }));
const server = serverEvidence({ target: 'bench', analysis, host: null, ports: [80, 8080], filter: null, capturedPackets: analysis.capture.records, kernelDrops: null }, sent);
const evidence: FollowEvidence = {
  schemaVersion: 2, tool: { name: 'flowtrace', version: 'bench' }, url: 'http://bench/', scheme: 'http', host: 'bench', port: 80, path: '/',
  startedAt: new Date().toISOString(), durationMs: 0, options: { server: 'bench', once: false, protos: ['tcp'], timeoutMs: 5000 },
  dns: { status: 'literal', server: null, addresses: ['10.77.1.10'], answers: [], rcode: null, elapsedMs: null, error: null },
  routes: [],
  requests: sent.map((s) => ({
    address: s.address, port: 80, node: null, zone: null, sentAt: null, traceId: s.traceRoot, localAddress: null, status: 'ok' as const, httpStatus: 200, reason: 'OK', serverHeader: null,
    phases: { dnsMs: null, connectMs: 1, tlsMs: null, firstByteMs: 1, downloadMs: 1, totalMs: 3 }, error: null, bodyPreview: null,
  })),
  server,
};
const verdict = decideVerdict(evidence);
const t2 = performance.now();
process.stdout.write(JSON.stringify({
  analysisMs: Math.round(t1 - t0), journeyVerdictMs: Number((t2 - t1).toFixed(1)),
  connections: analysis.connections.length, exchanges: analysis.exchanges.length,
  matchedBy: server.requests.map((r) => r.matchedBy), verdict: verdict.headline,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
}) + '\n');
