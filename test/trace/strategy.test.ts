/**
 * The probing strategy through a black hole (issue 17), on scripted networks and virtual time:
 * which probes go out when, how many, and how long the trace takes in simulated time. The
 * rules (types.ts, transitions 1 and 9; config.ts): later rounds probe at most
 * SILENT_HORIZON_HOPS TTLs past the highest that answered; those are probed again as soon as
 * their previous probe has waited the re-probe interval; a name's addresses are traced two at
 * a time.
 *
 * Before these rules the black hole below cost 90 probes and 958 ms of simulated time (round 2
 * at 400 ms, 30 TTLs 2 ms apart, then the 500 ms adaptive wait).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceAddress, traceRoute, TRACE_DEFAULTS } from '../../src/trace/index.js';
import type { AddressTrace, TraceDeps, TraceOptions } from '../../src/trace/index.js';
import { drive, pathResponder, ScriptedNetwork, VirtualClock, type PathHop, type Responder } from './scripted.js';

const SRC = '10.0.0.2';
const DST = '10.20.0.10';
const ROUTERS = ['10.0.0.1', '10.1.0.1', '10.2.0.1', '10.3.0.1', '10.4.0.1', '10.5.0.1', '10.6.0.1', '10.7.0.1', '10.8.0.1', '10.9.0.1', '10.10.0.1', '10.11.0.1', '10.12.0.1'];
const START = 1000; // the virtual clock's epoch

async function run(respond: Responder, options: TraceOptions = {}): Promise<{ result: AddressTrace; sent: Array<[number, number]> }> {
  const clock = new VirtualClock();
  let net: ScriptedNetwork | null = null;
  const deps: TraceDeps = { clock, random: (min) => min, network: (f, p) => (net = new ScriptedNetwork(f, p, clock, SRC, respond)) };
  const result = await drive(clock, traceAddress(DST, { proto: 'udp', ...options }, deps));
  return { result, sent: net!.sent.map((s) => [s.probe.ttl, s.atMs - START]) };
}

const path = (n: number, rttMs = 0.5): PathHop[] => ROUTERS.slice(0, n).map((address) => ({ address, rttMs }));
const blackhole = pathResponder({ path: path(6), destination: DST, blackholeAfter: 2 });

test('black hole after hop 2: 44 probes in 618 ms of simulated time, with the same answers', async () => {
  const { result, sent } = await run(blackhole);
  // Round 0: every TTL, 2 ms apart.
  assert.deepEqual(sent.slice(0, 30), Array.from({ length: 30 }, (_, i) => [i + 1, 2 * i]));
  // Hops 3–7 again as soon as round 0's probe has waited the re-probe interval (50 ms here:
  // 10 × 0.5 ms is less), paced after round 0; once more 50 ms later. Hops 1–2 on the round pace.
  assert.deepEqual(sent.slice(30), [
    [3, 60], [4, 62], [5, 64], [6, 66], [7, 68],
    [3, 110], [4, 112], [5, 114], [6, 116], [7, 118],
    [1, 200], [2, 202],
    [1, 400], [2, 402],
  ]);
  assert.equal(result.probesSent, 44);
  assert.equal(result.probesHeld, 46);
  // The last probe (hop 7, 118 ms) is given up after the adaptive wait's floor.
  assert.equal(result.durationMs, 118 + TRACE_DEFAULTS.ADAPTIVE_MIN_WAIT_MS);

  // What the trace proves is unchanged: hops 1–2 answer every round, the stars after hop 2.
  assert.equal(result.status, 'stopped');
  assert.equal(result.lastAnsweringTtl, 2);
  assert.deepEqual(result.hops.slice(0, 2).map((h) => [h.sent, h.received, h.responders[0].address]), [[3, 3, ROUTERS[0]], [3, 3, ROUTERS[1]]]);
  assert.deepEqual(result.hops.slice(2, 7).map((h) => [h.sent, h.received, h.lossPercent]), Array(5).fill([3, 0, 100]));
  assert.ok(result.hops.slice(7).every((h) => h.sent === 1 && h.received === 0));
  assert.match(result.explanation[0], /^no reply after hop 2 \(10\.1\.0\.1\) up to hop 30: the path stops after hop 2/);
  assert.equal(result.explanation[1], 'nothing answered past hop 2: later rounds probed only up to hop 7 (the 5 hops after it); hops 8–30 were probed once');
});

test('a healthy path is probed as before: every round to the destination on the round pace, nothing held', async () => {
  const { result, sent } = await run(pathResponder({ path: path(3), destination: DST, destinationRttMs: 0.5 }), { maxTtl: 30 });
  assert.equal(result.status, 'reached');
  // Round 0 stops once the destination (hop 4) has answered; rounds 1 and 2 go to hop 4.
  assert.deepEqual(sent.filter(([, at]) => at >= 100), [[1, 200], [2, 202], [3, 204], [4, 206], [1, 400], [2, 402], [3, 404], [4, 406]]);
  assert.equal(result.probesHeld, 0);
  assert.equal(result.silentHorizonTtl, null);
  assert.ok(!result.explanation.some((e) => /probed once/.test(e)));
  assert.equal(result.durationMs, 406.5);
});

test('a router past the frontier that misses round 0 (rate limit) is caught by the early re-probe; the frontier and the horizon move with it', async () => {
  const routers = path(6);
  routers[2] = { ...routers[2], silentRounds: [0] }; // hop 3 answers rounds 1 and 2 only
  const { result, sent } = await run(pathResponder({ path: routers, destination: DST, blackholeAfter: 3 }));
  assert.equal(result.lastAnsweringTtl, 3);
  assert.deepEqual([result.hops[2].sent, result.hops[2].received], [3, 2]);
  // Hop 3's second probe went at 60 ms, not at the round's 200 ms; from then on hop 3 is
  // inside the frontier and keeps the round pace (its third probe at 400 ms).
  assert.deepEqual(sent.filter(([ttl]) => ttl === 3).map(([, at]) => at), [4, 60, 404]);
  assert.equal(result.silentHorizonTtl, 8);
  assert.deepEqual(result.hops.slice(3, 8).map((h) => h.sent), [3, 3, 3, 3, 3]);
  assert.ok(result.hops.slice(8).every((h) => h.sent === 1));
  assert.match(result.explanation.join('\n'), /the path stops after hop 3/);
});

test('a late reply from past the horizon releases the held probes: every hop up to it gets every round', async () => {
  const routers: PathHop[] = [...path(2), ...Array.from({ length: 9 }, () => ({ address: null })), { address: ROUTERS[11], rttMs: 300, silentRounds: [1, 2] }];
  const { result, sent } = await run(pathResponder({ path: routers, destination: DST, blackholeAfter: 12 }));
  assert.equal(result.lastAnsweringTtl, 12);
  assert.deepEqual(result.hops[11].responders.map((r) => r.address), [ROUTERS[11]]);
  // Hop 12's round-0 reply came at 322 ms: hops 8–17 (held until then) went out at once.
  assert.deepEqual(sent.filter(([, at]) => at > 300 && at < 400).map(([ttl]) => ttl), [8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual(sent.filter(([ttl]) => ttl === 8).map(([, at]) => at), [14, 322, 404]);
  assert.ok(result.hops.slice(2, 17).every((h) => h.sent === 3), JSON.stringify(result.hops.map((h) => h.sent)));
  assert.ok(result.hops.slice(17).every((h) => h.sent === 1));
  assert.equal(result.silentHorizonTtl, 17);
  assert.match(result.explanation.join('\n'), /hops 3–11 do not answer: not answering traceroute/);
  assert.match(result.explanation.join('\n'), /the path stops after hop 12/);
});

test('a name\'s addresses are traced two at a time: two black holes take the time of one', async () => {
  const clock = new VirtualClock();
  const addresses = ['10.20.0.10', '10.20.1.10', '10.20.2.10'];
  let open = 0;
  let mostOpen = 0;
  const deps: TraceDeps = {
    clock,
    random: (min) => min,
    resolver: async () => addresses,
    network: (f, p) => {
      const n = new ScriptedNetwork(f, p, clock, SRC, blackhole);
      const close = n.close.bind(n);
      n.close = () => { if (!n.closed) open--; close(); };
      mostOpen = Math.max(mostOpen, ++open);
      return n;
    },
  };
  const result = await drive(clock, traceRoute('three.example', { proto: 'udp' }, deps));
  assert.deepEqual(result.traces.map((t) => [t.address, t.status, t.lastAnsweringTtl, t.durationMs]), addresses.map((a) => [a, 'stopped', 2, 618]));
  assert.equal(mostOpen, TRACE_DEFAULTS.MAX_PARALLEL_ADDRESSES);
  assert.equal(open, 0);
  // Two side by side (618 ms), the third after the first of them: 1236 ms, not 3 × 618.
  assert.equal(clock.now() - START, 2 * 618);
});
