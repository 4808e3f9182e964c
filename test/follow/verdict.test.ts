/**
 * The verdict on results recorded in the lab (test/follow/recorded.ts): every lab fault and
 * every raw fault, read again offline through serverEvidence and decideVerdict, must give
 * what the live tests expect (expected.ts) — the layer, the cause, the direction, the
 * evidence named — and what was recorded (a change of verdict shows up here first).
 * Re-record with `UPDATE_GOLDEN=1 bash scripts/test.sh test/follow/fault-matrix.test.ts test/follow/raw-faults.test.ts` (root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYERS } from '../../src/follow/index.js';
import { LAB_FAULTS } from '../../src/lab/index.js';
import { LAB_FAULT_CONFIG, LAB_FAULT_VERDICTS, configMatches, verdictMatches } from './expected.js';
import { RAW_FAULTS } from './raw-fault-list.js';
import { hasRecorded, recordedResult, rederive, savedResult } from './recorded.js';

const cases = [
  ...Object.keys(LAB_FAULTS).map((name) => ({ name, want: LAB_FAULT_VERDICTS[name]! })),
  ...RAW_FAULTS.map((f) => ({ name: `raw-${f.name}`, want: f as typeof f })),
];

test('every lab fault and every raw fault has a recorded result', () => {
  const missing = cases.filter((c) => !hasRecorded(c.name)).map((c) => c.name);
  assert.deepEqual(missing, [], 're-record them (see the top of this file)');
  assert.ok(hasRecorded('healthy'));
});

for (const { name, want } of cases) {
  test(`recorded ${name} → ${want.layer ?? 'healthy'} / ${want.cause ?? '-'}${want.direction ? ` / ${want.direction}` : ''}`, () => {
    const r = recordedResult(name);
    const problem = verdictMatches(want, r, null);
    assert.equal(problem, null, `${name}: ${problem}\n${r.verdict.headline}\n${r.verdict.cause}`);
    const saved = savedResult(name).verdict;
    assert.deepEqual([r.verdict.firstFailing, r.verdict.causeId, r.verdict.direction, r.verdict.exitCode], [saved.firstFailing, saved.causeId, saved.direction, saved.exitCode], 'same verdict as the run that recorded it');
    // The lab's faults were recorded with the lab's AWS configuration: its reading, evaluated again.
    if (LAB_FAULT_CONFIG[name]) {
      assert.equal(r.aws?.status, 'ok', `${name} was recorded with --aws-config`);
      assert.equal(configMatches(LAB_FAULT_CONFIG[name]!, r), null, `${name}: ${configMatches(LAB_FAULT_CONFIG[name]!, r)}`);
      assert.equal(r.verdict.config?.agreement, savedResult(name).verdict.config?.agreement, 'the same reading as the run that recorded it');
    }
    const v = r.verdict;
    assert.deepEqual(v.rows.map((x) => x.layer), [...LAYERS], 'one row per layer, in order');
    if (want.layer && !want.partialNode) {
      const idx = LAYERS.indexOf(want.layer);
      assert.equal(v.rows[idx]!.status, 'fail', `the failing layer's row is ❌: ${v.rows[idx]!.summary}`);
      for (const before of v.rows.slice(0, idx)) assert.notEqual(before.status, 'fail', `${before.layer} before the failing layer is not ❌`);
      assert.ok(v.nextCheck && v.nextCheck.length > 10, 'a next thing to check');
    }
    if (v.ok) for (const x of v.rows) assert.ok(x.status === 'pass' || x.status === 'warn', `${x.layer}: ${x.status} ${x.summary}`);
  });
}

test('the healthy run: every row passes, roles from the host\'s links, the journey complete both ways', () => {
  const r = recordedResult('healthy');
  assert.equal(r.verdict.exitCode, 0);
  assert.ok(r.verdict.rows.every((x) => x.status === 'pass'), r.verdict.rows.map((x) => `${x.layer} ${x.status}`).join(', '));
  const s = r.server!;
  assert.equal(s.rolesFrom, 'links');
  for (const q of s.requests) {
    assert.equal(q.matchedBy, 'trace-id');
    assert.equal(q.break, null);
    assert.deepEqual(q.journey!.requestPath.map((p) => p.role), ['uplink', 'bridge', 'container']);
    assert.deepEqual(q.journey!.replyPath.map((p) => `${p.role} ${p.direction}`), ['container in', 'bridge in', 'uplink out']);
    for (const st of q.journey!.steps) assert.equal(st.status, 'complete', `${st.label} ${st.way}`);
  }
});

test('without a server (nor a configuration), the server rows say "not checked" and what to run; an LB-made 5xx is never the application\'s', () => {
  for (const name of ['healthy', 'sg-block', 'dnat-missing']) {
    const v = recordedResult(name, { noServer: true, aws: null }).verdict;
    for (const layer of ['instance', 'container'] as const) {
      const row = v.rows.find((x) => x.layer === layer)!;
      assert.equal(row.status, 'not-checked');
      assert.match(row.summary, /--server/);
    }
  }
  const v = recordedResult('sg-block', { noServer: true, aws: null }).verdict;
  assert.equal(v.rows[2]!.status, 'warn', 'the LB answered its own 504');
  assert.equal(v.causeId, 'incomplete');
  assert.equal(v.exitCode, 16);
  assert.match(v.nextCheck!, /--server/);
  const app = v.rows.find((x) => x.layer === 'application')!;
  assert.equal(app.status, 'not-checked');
  assert.match(app.summary, /load balancer answered 504.*its own page, not the application's/);
});

test('with the server side, the application row says what the application did when the LB answered itself', () => {
  const reply = recordedResult('raw-docker-user-reply-drop').verdict.rows.find((x) => x.layer === 'application')!;
  assert.match(reply.summary, /accepted the connection \(SYN-ACK from veth\w+ \(in\)\) but the request never reached it.*504 the client got was the load balancer's own page/);
  const never = recordedResult('host-firewall').verdict.rows.find((x) => x.layer === 'application')!;
  assert.match(never.summary, /never got the request/);
});

test('a server clock seconds off: the requests are still found (offset from the trace-id matches, else their order)', () => {
  for (const name of ['raw-host-blackhole-one-node', 'nacl-ephemeral']) {
    const saved = savedResult(name);
    const right = recordedResult(name);
    const skewed = rederive({ ...saved, requests: saved.requests.map((q) => ({ ...q, sentAt: q.sentAt === null ? null : q.sentAt - 7_000 })) });
    assert.deepEqual(skewed.server!.requests.map((r) => [r.matchedBy, r.connectionIds]), right.server!.requests.map((r) => [r.matchedBy, r.connectionIds]), name);
    assert.equal(skewed.verdict.causeId, right.verdict.causeId, name);
  }
});
