/**
 * The summary of a watch, from results recorded in the lab (test/data/follow/*.json, real runs
 * re-read through today's verdict): each run's outcome, the failures grouped by what their
 * evidence says, the words, the bounds on memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordedNames, recordedResult } from '../follow/recorded.js';
import { MAX_FAILURE_GROUPS, MAX_TARGETS, OTHER_TARGET, RecentResults, WatchTally, failingRequests, runLine, runOutcome, summaryText, type RunOutcome } from '../../src/watch/index.js';
import type { FollowResult } from '../../src/follow/index.js';

const cache = new Map<string, FollowResult>();
function recorded(name: string): FollowResult {
  if (!cache.has(name)) cache.set(name, recordedResult(name));
  return cache.get(name)!;
}

/** A watch over `names` (one recorded result per run, in order). */
function tally(names: string[]): { t: WatchTally; outcomes: RunOutcome[] } {
  const t = new WatchTally('http://seqas.online/');
  const outcomes = names.map((n, i) => runOutcome(i + 1, recorded(n)));
  for (const o of outcomes) t.add(o);
  return { t, outcomes };
}

test('every recorded result: the outcome agrees with its verdict; a failing run names the requests that failed', () => {
  const names = recordedNames();
  assert.ok(names.length >= 30, `recorded results: ${names.length}`);
  for (const name of names) {
    const r = recorded(name);
    const o = runOutcome(1, r);
    assert.equal(o.ok, r.verdict.ok, name);
    assert.equal(o.firstFailing, r.verdict.firstFailing, name);
    assert.equal(o.causeId, r.verdict.causeId, name);
    assert.equal(o.requests.length, r.requests.length, name);
    if (!o.ok && o.requests.length) assert.ok(failingRequests(o).length > 0, name);
    if (r.verdict.partial) {
      assert.deepEqual(failingRequests(o).map((q) => q.address).sort(), r.verdict.partial.failing.map((f) => f.address).sort(), `${name}: the failing requests are the partial failure's`);
    }
    const line = runLine(o);
    assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  #1  ${o.ok ? 'ok' : 'FAILED'}`), name);
  }
  // Each request's target is the load balancer's evidence's, nothing more.
  for (const name of names) {
    const r = recorded(name);
    for (const q of runOutcome(1, r).requests) {
      const t = r.loadBalancer.requests.find((x) => x.address === q.address)!;
      assert.equal(q.target?.address ?? null, t.from === null ? null : t.target, `${name} ${q.address}`);
      assert.equal(q.noTarget, t.noTarget, `${name} ${q.address}`);
      if (q.target) {
        const known = r.loadBalancer.targets.find((x) => x.address === q.target!.address);
        assert.equal(q.target.name, known?.name ?? null, name);
        assert.equal(q.target.health, known?.health?.state ?? null, name);
      }
    }
  }
  assert.deepEqual(runOutcome(1, recorded('raw-app-sigstop')).requests.map((q) => [q.node, q.target?.name, q.target?.zone, q.target?.from]),
    [['alb-b', 'ec2-a', 'a', 'access-log'], ['alb-a', 'ec2-b', 'b', 'access-log']]);
  assert.deepEqual(runOutcome(1, recorded('cross-zone-off')).requests.map((q) => [q.node, q.target?.name ?? null, q.noTarget]), [['alb-b', null, true], ['alb-a', 'ec2-a', false]]);
  assert.deepEqual(runOutcome(1, recorded('alb-node-down')).requests.map((q) => [q.node, q.target?.name ?? null, q.noTarget]), [['alb-a', 'ec2-a', false], ['alb-b', null, false]]);

  // Who made the answer: the application's 500 passed on, the load balancer's own 502.
  assert.deepEqual(runOutcome(1, recorded('app-500')).requests.map((q) => q.answeredBy), ['application', 'application']);
  assert.deepEqual(runOutcome(1, recorded('app-down')).requests.map((q) => q.answeredBy), ['load-balancer', 'load-balancer']);
  assert.deepEqual(runOutcome(1, recorded('alb-node-down')).requests.map((q) => [q.node, q.errorCode]), [['alb-a', null], ['alb-b', 'HTTP_CONNECT_REFUSED']]);
});

test('3 of 40 runs failed, all through one load-balancer node: one group, the node and its zone, how its requests ended', () => {
  const names = Array.from({ length: 40 }, (_, i) => (i >= 11 && i <= 13 ? 'alb-node-down' : 'healthy'));
  const { t } = tally(names);
  const s = t.summary();
  assert.equal(s.runs, 40);
  assert.equal(s.failed, 3);
  assert.equal(s.groups.length, 1);
  const g = s.groups[0]!;
  assert.deepEqual([g.layer, g.causeId, g.runs, g.firstSeq, g.lastSeq], ['loadBalancer', 'lb-refused', 3, 12, 14]);
  assert.deepEqual(g.through, [{ address: '10.77.2.10', node: 'alb-b', zone: 'b' }]);
  assert.deepEqual(g.how, ['HTTP_CONNECT_REFUSED']);
  const a = s.nodes.find((n) => n.node === 'alb-a')!;
  const b = s.nodes.find((n) => n.node === 'alb-b')!;
  assert.deepEqual([a.requests, a.failed, b.requests, b.failed], [40, 0, 40, 3]);
  const text = summaryText(s);
  assert.match(text, /^ {2}3 of 40 runs failed \(7\.5 %\), all through alb-b \(10\.77\.2\.10, zone b\): connection refused — first failing: load balancer \(lb-refused\) \(runs #12…#14, /m);
  assert.match(text, /alb-a \(10\.77\.1\.10, zone a\) +0 of 40 failed\n/);
  assert.match(text, /alb-b \(10\.77\.2\.10, zone b\) +3 of 40 failed \(3× connection refused\)\n/);
});

test('502 from the load balancer through both nodes; failures of several kinds are grouped apart, the most frequent first', () => {
  const s1 = tally(['healthy', 'app-down', 'healthy', 'app-down']).t.summary();
  assert.match(summaryText(s1), /2 of 4 runs failed \(50 %\), all through alb-a \(10\.77\.1\.10, zone a\) and alb-b \(10\.77\.2\.10, zone b\) to target ec2-a \(172\.31\.5\.20:80, zone a\): 502 from the load balancer — first failing: application \(not-listening\)/);

  const { t } = tally(['healthy', 'rp-filter', 'no-route-back', 'no-route-back', 'dns-drop', 'healthy']);
  const s = t.summary();
  assert.equal(s.failed, 4);
  assert.deepEqual(s.groups.map((g) => [g.runs, g.through.map((n) => n.node).join('+'), g.causeId]), [
    [2, 'alb-b', 'no-route'], [1, 'alb-a', 'reverse-path-filter'], [1, '', 'dns-timeout'],
  ]);
  const text = summaryText(s);
  assert.match(text, /4 of 6 runs failed \(66\.7 %\):\n {4}2 through alb-b \(10\.77\.2\.10, zone b\) to target ec2-a \(172\.31\.5\.20:80, zone a\): 504 from the load balancer — first failing: container path \(no-route\)/);
  assert.match(text, / {4}1 before any request was sent: first failing: DNS \(dns-timeout\) \(run #5 at /);
});

test('3 of 40 runs failed, all through alb-b to target ec2-a: the target the access log names, its health, the other target clean', () => {
  const names = Array.from({ length: 40 }, (_, i) => (i >= 11 && i <= 13 ? 'raw-host-blackhole-one-node' : 'healthy'));
  const s = tally(names).t.summary();
  assert.equal(s.failed, 3);
  assert.equal(s.groups.length, 1);
  const g = s.groups[0]!;
  assert.deepEqual(g.through.map((n) => n.node), ['alb-b']);
  assert.deepEqual(g.targets, [{ address: '172.31.5.20:80', name: 'ec2-a', zone: 'a' }]);
  assert.deepEqual([g.noTarget, g.targetUnknown, g.how], [false, false, ['504 lb']]);
  const text = summaryText(s);
  assert.match(text, /^ {2}3 of 40 runs failed \(7\.5 %\), all through alb-b \(10\.77\.2\.10, zone b\) to target ec2-a \(172\.31\.5\.20:80, zone a\): 504 from the load balancer — first failing: container path \(no-route\) \(runs #12…#14, /m);
  // Per target: every request of the healthy runs went to ec2-b (the recorded runs' access log), the failing ones to ec2-a.
  const a = s.targets.find((t) => t.name === 'ec2-a')!;
  const b = s.targets.find((t) => t.name === 'ec2-b')!;
  assert.deepEqual([a.requests, a.failed, a.how, a.health], [3, 3, { '504 lb': 3 }, 'unhealthy']);
  assert.deepEqual([b.requests, b.failed, b.health], [77, 0, 'healthy']);
  assert.match(text, /\n {2}per target \(as the access log or the captures say\):\n/);
  assert.match(text, /\n {4}ec2-a \(172\.31\.5\.20:80, zone a\) +3 of 3 failed \(3× 504 from the load balancer\); health \(last given\): unhealthy\n/);
  assert.match(text, /\n {4}ec2-b \(172\.31\.21\.20:80, zone b\) +0 of 77 failed; health \(last given\): healthy\n/);
});

test('failures are grouped by target too: two targets, no target (the access log\'s `-`), a target not known (refused)', () => {
  const s = tally(['healthy', 'raw-app-sigstop', 'cross-zone-off', 'alb-node-down', 'cross-zone-off']).t.summary();
  assert.equal(s.failed, 4);
  const sig = s.groups.find((g) => g.causeId === 'no-response')!;
  assert.deepEqual(sig.targets.map((t) => t.name), ['ec2-b', 'ec2-a']);
  const noTarget = s.groups.find((g) => g.causeId === 'lb-no-target')!;
  assert.deepEqual([noTarget.runs, noTarget.targets, noTarget.noTarget, noTarget.through.map((n) => n.node)], [2, [], true, ['alb-b']]);
  const refused = s.groups.find((g) => g.causeId === 'lb-refused')!;
  assert.deepEqual([refused.targets, refused.noTarget, refused.targetUnknown], [[], false, false]);
  const text = summaryText(s);
  assert.match(text, /\n {4}2 through alb-b \(10\.77\.2\.10, zone b\) to no target: 503 from the load balancer — first failing: load balancer \(lb-no-target\)/);
  assert.match(text, / to targets ec2-b \(172\.31\.21\.20:80, zone b\) and ec2-a \(172\.31\.5\.20:80, zone a\): 504 from the load balancer — first failing: application \(no-response\)/);
  assert.match(text, /\n {4}1 through alb-b \(10\.77\.2\.10, zone b\): connection refused — /, 'no target named when the evidence names none');
  assert.deepEqual(s.noTarget, { requests: 2, failed: 2 });
  assert.match(text, /\n {4}no target +2 requests sent to no target, 2 failed\n/);
});

test('memory stays bounded: 1,000 runs keep one group per kind of failure, one entry per address, and --keep whole results', () => {
  const kinds = ['healthy', 'alb-node-down', 'app-down', 'healthy', 'rp-filter'];
  const t = new WatchTally('http://seqas.online/');
  const recent = new RecentResults<FollowResult>(20);
  for (let i = 0; i < 1000; i++) {
    const r = recorded(kinds[i % kinds.length]!);
    t.add(runOutcome(i + 1, r));
    recent.push(r);
  }
  const s = t.summary();
  assert.equal(s.runs, 1000);
  assert.equal(s.failed, 600);
  assert.equal(s.groups.length, 3);
  assert.equal(s.nodes.length, 2);
  assert.equal(recent.size, 20);
  assert.equal(recent.list()[19], recorded(kinds[999 % kinds.length]!));

  // More kinds than MAX_FAILURE_GROUPS: the rest are counted together.
  const base = runOutcome(1, recorded('app-down'));
  const t2 = new WatchTally('x');
  for (let i = 0; i < MAX_FAILURE_GROUPS + 10; i++) t2.add({ ...base, seq: i + 1, causeId: `cause-${i}` });
  const s2 = t2.summary();
  assert.equal(s2.groups.length, MAX_FAILURE_GROUPS + 1);
  assert.equal(s2.groups.find((g) => g.overflow)?.runs, 10);

  // More targets than MAX_TARGETS (scaling replaces instances): the rest are counted as `other`.
  const t3 = new WatchTally('x');
  for (let i = 0; i < MAX_TARGETS + 10; i++) {
    t3.add({ ...base, seq: i + 1, requests: base.requests.map((q) => ({ ...q, target: { address: `10.0.${i}.1:80`, name: null, zone: null, health: null, from: 'access-log' as const } })) });
  }
  const s3 = t3.summary();
  assert.equal(s3.targets.length, MAX_TARGETS + 1);
  const other = s3.targets.find((x) => x.overflow)!;
  assert.deepEqual([other.address, other.requests, other.failed], [OTHER_TARGET, 10 * base.requests.length, 10 * base.requests.length]);
  assert.match(summaryText(s3), /\n {4}other targets +20 of 20 failed/);
});

test('RecentResults: the newest N, oldest first; 0 keeps none', () => {
  const r = new RecentResults<number>(3);
  for (let i = 1; i <= 7; i++) r.push(i);
  assert.deepEqual(r.list(), [5, 6, 7]);
  const none = new RecentResults<number>(0);
  none.push(1);
  assert.deepEqual(none.list(), []);
  assert.throws(() => new RecentResults<number>(-1), RangeError);
});
