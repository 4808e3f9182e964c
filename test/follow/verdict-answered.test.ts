/**
 * The verdict when the application answered 2xx/3xx but the capture saw the request only on
 * the host's outer interface (a capture on another host than the one behind the load
 * balancer — e.g. `--server netns:client` in the lab — or a container on the host's network).
 * It was "❌ Container: reached ens5, not docker0: host firewall (SYN dropped)" under a ✅
 * headline; nothing was dropped, so the container row is ⚠ with the question to ask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenarioResult } from './scenarios.js';
import { decideVerdict } from '../../src/follow/verdict.js';
import type { FollowEvidence, InterfaceSighting } from '../../src/follow/types.js';

function outerOnly(iface: string): FollowEvidence {
  const { verdict: _ignored, ...evidence } = scenarioResult('healthy');
  const s = evidence.server!;
  const outer = s.interfaces.find((i) => i.role === 'ens5')!;
  const empty = (name: string, role: InterfaceSighting['role']): InterfaceSighting => ({ ...outer, iface: name, role, packets: 0, firstMs: null, syn: 0, synRetransmits: 0, synAck: 0, rstBack: 0, request: false, responseStatus: null, link: null });
  return { ...evidence, server: { ...s, nat: [], interfaces: [{ ...outer, iface }, empty('docker0', 'docker0'), empty('veth', 'veth')] } };
}

test('the app answered 200, the capture saw the request only on the outer interface: container ⚠, not ❌; exit 0', () => {
  for (const iface of ['ens5', 'eth0']) {
    const v = decideVerdict(outerOnly(iface));
    const row = (layer: string) => v.rows.find((r) => r.layer === layer)!;
    assert.equal(row('instance').status, 'pass');
    assert.match(row('instance').summary, iface === 'ens5' ? /^reached ens5 \(SYN/ : /^reached eth0 \(its outer interface: no ens5 here\) \(SYN/, 'the interface really seen is named');
    assert.equal(row('container').status, 'warn', row('container').summary);
    assert.match(row('container').summary, new RegExp(`saw the request only on ${iface}, never on docker0 or a container's veth — is it the Docker host behind the load balancer`));
    assert.equal(row('application').status, 'pass');
    assert.equal(v.firstFailing, null);
    assert.equal(v.causeId, null);
    assert.equal(v.exitCode, 0);
    assert.ok(v.rows.every((r) => r.status !== 'fail'), 'no ❌ row under a ✅ verdict');
  }
});

test('the same capture with a failing answer (the LB 504) still blames the host firewall', () => {
  const e = outerOnly('ens5');
  const failed: FollowEvidence = {
    ...e,
    requests: e.requests.map((q) => ({ ...q, httpStatus: 504, reason: 'Gateway Time-out' })),
    server: { ...e.server!, interfaces: e.server!.interfaces.map((i) => (i.role === 'ens5' ? { ...i, synAck: 0, request: false, responseStatus: null, syn: 3, synRetransmits: 2 } : i)) },
  };
  const v = decideVerdict(failed);
  assert.equal(v.firstFailing, 'container');
  assert.equal(v.causeId, 'host-firewall');
  assert.equal(v.exitCode, 14);
});
