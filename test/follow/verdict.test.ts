/**
 * The verdict on hand-built evidence of every lab fault (test/follow/scenarios.ts), and the
 * golden JSON results in test/data/follow/ (UPDATE_GOLDEN=1 rewrites them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, scenarioResult } from './scenarios.js';
import { LAYERS, type FollowResult } from '../../src/follow/types.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { decideVerdict } from '../../src/follow/verdict.js';

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'follow');

for (const [name, sc] of Object.entries(SCENARIOS)) {
  test(`verdict: ${name} → ${sc.layer ?? (sc.causeId ?? 'healthy')}`, () => {
    const r = scenarioResult(name);
    const v = r.verdict;
    assert.equal(v.firstFailing, sc.layer, `first failing layer for ${name}: ${v.headline}`);
    assert.equal(v.causeId, sc.causeId, `cause for ${name}: ${v.cause}`);
    assert.equal(v.exitCode, sc.exitCode);
    assert.equal(v.ok, sc.exitCode === 0);
    assert.deepEqual(v.rows.map((x) => x.layer), [...LAYERS], 'one row per layer, in order');
    if (sc.layer) {
      const idx = LAYERS.indexOf(sc.layer as (typeof LAYERS)[number]);
      assert.equal(v.rows[idx]!.status, 'fail', 'the failing layer\'s row is ❌');
      for (const before of v.rows.slice(0, idx)) assert.notEqual(before.status, 'fail', `${before.layer} before the failing layer is not ❌`);
      for (const after of v.rows.slice(idx + 1)) assert.equal(after.status, 'not-checked', `${after.layer} after the failing layer is not checked`);
      assert.ok(v.nextCheck && v.nextCheck.length > 10, 'a next thing to check');
    }
    if (v.ok) for (const x of v.rows) assert.ok(x.status === 'pass' || x.status === 'warn' || (r.server === null && x.status === 'not-checked'), `${x.layer}: ${x.status}`);
  });
}

test('cause texts name what the issue asks for', () => {
  assert.match(scenarioResult('sg-block').verdict.rows[3]!.summary, /never reached ens5: security group \/ NACL/);
  assert.match(scenarioResult('dnat-missing').verdict.rows[4]!.summary, /reached ens5, not docker0/);
  assert.match(scenarioResult('dnat-missing').verdict.nextCheck!, /iptables -t nat -L DOCKER/);
  assert.match(scenarioResult('host-firewall').verdict.nextCheck!, /DOCKER-USER/);
  assert.match(scenarioResult('app-down').verdict.rows[5]!.summary, /container reset the connection: application not listening/);
  assert.match(scenarioResult('dns-nxdomain').verdict.cause!, /NXDOMAIN/);
  assert.match(scenarioResult('route-reject').verdict.cause!, /hop 2.*!X/);
  assert.match(scenarioResult('route-blackhole').verdict.cause!, /stops after hop 2 \(10\.255\.1\.2\)/);
});

test('without a server, the server rows say "not checked" and what to run', () => {
  for (const name of ['healthy-no-server', 'sg-block-no-server']) {
    const v = scenarioResult(name).verdict;
    for (const layer of [3, 4]) {
      assert.equal(v.rows[layer]!.status, 'not-checked');
      assert.match(v.rows[layer]!.summary, /--server/);
    }
  }
  const v = scenarioResult('sg-block-no-server').verdict;
  assert.equal(v.rows[2]!.status, 'warn', 'the LB answered its own 504');
  assert.match(v.nextCheck!, /--server/);
});

test('an ALB node that fails while the other answers is a warning on the LB row and not ok', () => {
  const r = scenarioResult('healthy');
  r.requests[1] = { ...r.requests[1]!, status: 'error', httpStatus: null, error: { code: 'ECONNREFUSED', phase: 'connect', message: 'connect ECONNREFUSED 10.77.2.10:80' } };
  const v = decideVerdict(r);
  assert.equal(v.ok, false);
  assert.equal(v.rows[2]!.status, 'warn');
  assert.match(v.rows[2]!.summary, /refused/);
});

test('no-route when the routers rate-limit their unreachables: the flag from the other trace, or the fast EHOSTUNREACH', () => {
  // As the lab's fault matrix once saw it: the backbone's !H answers ran out of tokens, so the
  // trace to the first address shows only stars after hop 1.
  const starsOnly = (r: FollowResult['routes'][number]): FollowResult['routes'][number] => ({ ...r, hops: r.hops.filter((h) => h.ttl < 2), explanation: null });
  const r = scenarioResult('no-route');
  r.routes = [starsOnly(r.routes[0]!), r.routes[1]!];
  let v = decideVerdict(r);
  assert.equal(v.causeId, 'no-route', 'the other trace still shows !N at hop 2');
  assert.match(v.cause!, /hop 2 has no route/);
  r.routes = r.routes.map(starsOnly);
  r.requests = r.requests.map((q) => ({ ...q, error: { code: 'HTTP_UNREACHABLE', phase: 'connect', message: `no route to ${q.address}:80 (EHOSTUNREACH)` } }));
  v = decideVerdict(r);
  assert.equal(v.firstFailing, 'route');
  assert.equal(v.causeId, 'no-route', 'connect failed at once with no route to host: not a blackhole');
  assert.match(v.cause!, /after hop 1 .*no route to host.*rate-limit/);
  // The same stars with a connect timeout stay a blackhole.
  r.requests = r.requests.map((q) => ({ ...q, error: { code: 'TIMEOUT', phase: 'connect', message: 'connect timeout after 5000 ms' } }));
  assert.equal(decideVerdict(r).causeId, 'route-blackhole');
});

test('golden JSON results (test/data/follow/*.json)', () => {
  for (const name of Object.keys(SCENARIOS)) {
    const file = path.join(dataDir, `${name}.json`);
    const json = JSON.stringify(scenarioResult(name), null, 2) + '\n';
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, json);
    assert.equal(json, readFileSync(file, 'utf8'), `${name}.json differs: rerun with UPDATE_GOLDEN=1 if the change is intended`);
  }
});

test('terminal table: every row, the verdict and the cause, no colour when asked', () => {
  const text = renderTerminal(scenarioResult('dnat-missing'), { color: false, width: 100 });
  assert.doesNotMatch(text, /\x1b\[/);
  for (const t of ['DNS resolved', 'Route to the LB', 'Load balancer', 'Instance (ens5)', 'Container (docker0/veth)', 'Application']) assert.ok(text.includes(t), t);
  assert.match(text, /❌  Container \(docker0\/veth\)/);
  assert.match(text, /cause: the SYN reached ens5 but never docker0/);
  assert.match(text, /exit code 14/);
  for (const line of text.split('\n')) assert.ok([...line].length <= 104, `line too wide: ${line}`);
  const color = renderTerminal(scenarioResult('healthy'), { color: true });
  assert.match(color, /\x1b\[32m/);
});
