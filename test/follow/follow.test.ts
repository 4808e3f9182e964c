/**
 * follow() with scripted probes (the FollowProbes seam): the order of the steps, --once, the
 * agent's lifecycle (always closed), failures of a step turned into evidence. And the server
 * evidence read from real `tcpdump -i any` captures of a miniature EC2 host made by the flow
 * layer's tests (test/data/flow/*.pcap + .ifmap, see test/data/flow/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { follow, parseFollowUrl, serverEvidence } from '../../src/follow/index.js';
import type { FollowProbes, RequestInput, ServerEvidence, ServerSession, DnsEvidence } from '../../src/follow/index.js';
import { parseIfmap } from '../../src/capture/index.js';
import { analyzeCapture } from '../../src/flow/index.js';
import { UsageError } from '../../src/errors.js';

const flowData = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');

const okDns: DnsEvidence = { status: 'ok', server: '10.10.53.53#53 (udp)', addresses: ['10.77.1.10', '10.77.2.10'], answers: [], rcode: 'NOERROR', elapsedMs: 1, error: null };

function scripted(over: Partial<FollowProbes> & { log?: string[] } = {}): FollowProbes & { log: string[] } {
  const log: string[] = over.log ?? [];
  let n = 0;
  const probes: FollowProbes & { log: string[] } = {
    log,
    resolve: over.resolve ?? (async (h) => { log.push(`dns ${h}`); return okDns; }),
    trace: over.trace ?? (async (a, p, port) => {
      log.push(`trace ${a} ${p}`);
      return { address: a, proto: p, port, status: 'reached', reachedAtTtl: 4, hops: [{ ttl: 4, responders: [{ address: a, rttMs: [0.2] }], sent: 1, lossPct: 0, flag: null, isDestination: true }], explanation: null, elapsedMs: 3, error: null };
    }),
    request: over.request ?? (async (q: RequestInput) => {
      log.push(`request ${q.address} ${q.traceId}`);
      return { address: q.address, port: q.port, node: null, zone: null, sentAt: null, traceId: q.traceId.slice(5), localAddress: null, status: 'ok', httpStatus: 200, reason: 'OK', serverHeader: null, phases: { dnsMs: null, connectMs: 0.3, tlsMs: null, firstByteMs: 1, downloadMs: 0.1, totalMs: 1.5 }, error: null, bodyPreview: null };
    }),
    server: over.server ?? (async (target: string): Promise<ServerSession> => {
      log.push(`agent ${target}`);
      return {
        start: async ({ ports, traceRoots }) => { log.push(`start ${ports.join(',')} ${traceRoots.length}`); },
        stop: async () => { log.push('stop'); throw new Error('scripted agent has no capture'); },
        close: async () => { log.push('close'); },
      };
    }),
    newTraceId: () => `Root=1-00000001-${String(++n).padStart(24, '0')}`,
  };
  return probes;
}

test('the steps run in order: dns, traces, agent start, one request per address, stop, close', async () => {
  const p = scripted();
  const r = await follow('http://seqas.online/', { probes: p, server: 'netns:ec2', lbNames: { '10.77.1.10': 'alb-a' } });
  const order = p.log.filter((l) => !l.startsWith('agent'));
  assert.deepEqual(order, [
    'dns seqas.online', 'trace 10.77.1.10 tcp', 'trace 10.77.2.10 tcp', 'start 80 2',
    'request 10.77.1.10 Root=1-00000001-000000000000000000000001', 'request 10.77.2.10 Root=1-00000001-000000000000000000000002', 'stop', 'close',
  ]);
  assert.equal(r.requests[0]!.node, 'alb-a');
  assert.notEqual(r.requests[0]!.traceId, r.requests[1]!.traceId, 'a fresh trace id per request');
  // The scripted agent failed to stop: the server rows are "not checked", the walk still ends.
  assert.equal(r.server?.status, 'error');
  assert.match(r.server!.error!, /scripted agent has no capture/);
  assert.equal(r.verdict.rows[3]!.status, 'not-checked');
  assert.equal(r.verdict.exitCode, 0, 'the application answered 200');
});

test('--once sends one request, through the first address; extra protocols are traced too', async () => {
  const p = scripted();
  const r = await follow('https://seqas.online:8443/x?y=1', { probes: p, once: true, protos: ['icmp', 'tcp'] });
  assert.equal(r.requests.length, 1);
  assert.equal(r.port, 8443);
  assert.equal(r.path, '/x?y=1');
  assert.deepEqual(r.options.protos, ['tcp', 'icmp']);
  assert.equal(p.log.filter((l) => l.startsWith('trace')).length, 4);
  assert.equal(r.server, null);
});

test('a DNS failure stops the walk; the agent that was connecting is still closed', async () => {
  const p = scripted({ resolve: async () => ({ ...okDns, status: 'nxdomain', addresses: [], rcode: 'NXDOMAIN', error: 'NXDOMAIN' }) });
  const r = await follow('http://nope.example/', { probes: p, server: 'local' });
  assert.equal(r.verdict.firstFailing, 'dns');
  assert.equal(r.verdict.exitCode, 10);
  assert.equal(p.log.filter((l) => l.startsWith('request') || l.startsWith('trace')).length, 0);
  assert.ok(p.log.includes('close'), 'agent closed');
});

test('an agent that cannot connect and a trace that throws become evidence, not exceptions', async () => {
  const p = scripted({
    server: async () => { throw new Error('ip netns exec: Cannot open network namespace'); },
    trace: async () => { throw new Error('raw sockets need root'); },
  });
  const r = await follow('http://seqas.online/', { probes: p, server: 'netns:nowhere' });
  assert.equal(r.routes.every((x) => x.status === 'error'), true);
  assert.match(r.verdict.rows[1]!.summary, /not traced \(raw sockets need root\)/);
  assert.equal(r.server?.status, 'error');
  assert.match(r.verdict.rows[3]!.summary, /Cannot open network namespace/);
  assert.equal(r.verdict.exitCode, 0);
});

test('bad URLs are usage errors with a hint', () => {
  for (const bad of ['ftp://x/', 'http://', '::::']) assert.throws(() => parseFollowUrl(bad), UsageError, bad);
  assert.equal(parseFollowUrl('seqas.online').href, 'http://seqas.online/');
  assert.equal(parseFollowUrl('https://[::1]/').host, '::1');
});

/**
 * The server evidence of a real capture, read as the agent reads it: flow's analysis (with
 * packet logs) mapped by serverEvidence — no host facts (a file carries none), so roles come
 * from the packets. `sentAt: null`: a request without trace id takes the first connection
 * that carries no request.
 */
async function fromCapture(name: string, traceRoots: string[] = ['1-00000000-000000000000000000000000']): Promise<ServerEvidence> {
  const ifmap = parseIfmap(readFileSync(path.join(flowData, `${name}.ifmap`), 'utf8'));
  const { analysis } = await analyzeCapture(path.join(flowData, `${name}.pcap`), { ifmap, packetLog: 64 });
  return serverEvidence(
    { target: 'file', analysis, host: null, ports: [80, 8080], filter: null, capturedPackets: analysis.capture.records, kernelDrops: null },
    traceRoots.map((traceRoot) => ({ traceRoot, address: '10.77.1.10', sentAt: null, timeoutMs: 5000, reachedLoadBalancer: true })),
  );
}

test('real capture, DNAT missing: SYN and the host\'s RST on ens5 only, nothing on docker0; the host answered in the container\'s place', async () => {
  const s = await fromCapture('dnat-missing');
  const uplink = s.interfaces.find((i) => i.role === 'uplink')!;
  assert.equal(uplink.iface, 'ens5');
  assert.equal(uplink.syn, 1);
  assert.equal(uplink.rstBack, 1);
  assert.equal(s.matchedBy, 'timing');
  assert.deepEqual(s.packets.map((p) => `${p.iface} ${p.label}`), ['ens5 SYN', 'ens5 RST']);
  // From this capture alone (no host facts, nothing else crossed further) ens5 is the whole path.
  assert.equal(s.requests[0]!.break?.kind, 'refused');
});

test('real capture, app down: the SYN crosses ens5 → docker0 → veth through DNAT, the RST comes back from the end', async () => {
  const s = await fromCapture('app-down');
  assert.deepEqual(s.interfaces.filter((i) => i.packets > 0).map((i) => [i.iface, i.role, i.syn, i.rstBack]), [['ens5', 'uplink', 1, 1], ['docker0', 'bridge', 1, 1], ['veth3f2a1b9', 'container', 1, 1]]);
  assert.deepEqual(s.nat, [{ from: '172.31.5.20:80', to: '172.17.0.2:8080', between: 'ens5 → docker0' }]);
  const syn = s.packets.filter((p) => p.label === 'SYN');
  assert.deepEqual(syn.map((p) => p.iface), ['ens5', 'docker0', 'veth3f2a1b9']);
  assert.equal(new Set(syn.map((p) => p.packetId)).size, 1, 'the copies are one packet');
  const b = s.requests[0]!.break!;
  assert.equal(b.kind, 'refused');
  assert.equal(b.at?.interface, 'veth3f2a1b9');
});

test('real capture, keep-alive through the ALB: found by the trace id, with the app\'s time', async () => {
  const s = await fromCapture('seed-keepalive', ['1-6741f0a0-0123456789abcdef01234567']);
  assert.equal(s.matchedBy, 'trace-id');
  const veth = s.interfaces.find((i) => i.role === 'container')!;
  assert.equal(veth.request, true);
  assert.equal(veth.responseStatus, 200);
  assert.ok(s.appTimeMs !== null && s.appTimeMs >= 0);
  assert.ok(s.packets.some((p) => p.label.startsWith('GET ')));
  assert.ok(s.packets.some((p) => p.label === 'HTTP 200'));
  assert.equal(s.requests[0]!.break, null, 'it went through both ways');
  const none = await fromCapture('seed-keepalive', ['1-00000000-000000000000000000000000']);
  assert.equal(none.matchedBy, null, 'another request\'s trace id matches nothing (the capture\'s connections all carry requests)');
});
