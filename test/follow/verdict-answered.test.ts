/**
 * The verdict when the application answered 2xx/3xx but the capture did not see the request
 * (a capture on another host than the one behind the load balancer — e.g. `--server
 * netns:client` in the lab): nothing was dropped, so the instance row is ⚠ with the question
 * to ask, never ❌ under a ✅ headline. And a host whose service listens on the host itself
 * (no container): the container row says there is none, it does not fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideVerdict, serverEvidence, sentRequests, type FollowEvidence, type FollowResult } from '../../src/follow/index.js';
import type { FlowAnalysis } from '../../src/flow/index.js';
import { savedResult } from './recorded.js';

function withAnalysis(saved: FollowResult, edit: (a: FlowAnalysis) => FlowAnalysis, host = saved.server!.host): FollowEvidence {
  const { verdict: _v, ...ev } = saved;
  const s = ev.server!;
  const reading = { target: s.target, analysis: edit(s.analysis!), host, ports: s.ports, filter: s.filter, capturedPackets: s.capturedPackets, kernelDrops: s.kernelDrops };
  const server = serverEvidence(reading, sentRequests(ev.requests, ev.options.timeoutMs));
  // This capture is the only server side (a recorded run may hold one per target).
  return { ...ev, server, servers: [server] };
}

test('the app answered 200, the capture saw none of the request\'s packets: instance ⚠, not ❌; exit 0', () => {
  const ev = withAnalysis(savedResult('healthy'), (a) => ({ ...a, connections: [], exchanges: [], natMappings: [], anomalies: [] }));
  const v = decideVerdict(ev);
  const row = (layer: string) => v.rows.find((r) => r.layer === layer)!;
  assert.equal(row('instance').status, 'warn', row('instance').summary);
  assert.match(row('instance').summary, /saw none of the request's packets — is it the right host\/interface\?/);
  assert.equal(row('application').status, 'pass');
  assert.equal(v.firstFailing, null);
  assert.equal(v.exitCode, 0);
  assert.ok(v.rows.every((r) => r.status !== 'fail'), 'no ❌ row under a ✅ verdict');
});

test('a service on the host itself (the packets never go further than the uplink, no DNAT): the container row says so, exit 0', () => {
  // The capture keeps only what was seen on ens5; the host facts without their DNAT rules.
  const saved = savedResult('healthy');
  const host = { ...saved.server!.host!, namespaces: saved.server!.host!.namespaces.filter((n) => n.ns.role === 'host').map((n) => ({ ...n, dnat: [] })) };
  const onlyUplink = (hops: Array<{ interface: string }>) => hops.filter((h) => h.interface === 'ens5');
  const ev = withAnalysis(saved, (a) => ({
    ...a,
    connections: a.connections.map((c) => ({
      ...c,
      milestones: c.milestones.map((m) => ({ ...m, hops: onlyUplink(m.hops) as typeof m.hops, lastHops: m.lastHops ? onlyUplink(m.lastHops) as typeof m.hops : null })),
      packetLog: c.packetLog.map((p) => ({ ...p, hops: onlyUplink(p.hops) as typeof p.hops })),
    })),
    exchanges: a.exchanges.map((e) => ({
      ...e,
      request: e.request ? { ...e.request, hops: onlyUplink(e.request.hops) as typeof e.request.hops } : null,
      response: e.response ? { ...e.response, hops: onlyUplink(e.response.hops) as typeof e.response.hops } : null,
      timings: e.timings.filter((t) => t.interface === 'ens5'),
    })),
  }), host);
  const v = decideVerdict(ev);
  const container = v.rows.find((r) => r.layer === 'container')!;
  assert.equal(container.status, 'pass', container.summary);
  assert.match(container.summary, /ens5: no container behind it/);
  assert.equal(v.exitCode, 0);
});
