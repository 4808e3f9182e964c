/**
 * The tracer and the hop analysis against scripted networks (virtual time, real reply bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceAddress, traceRoute } from '../../src/trace/index.js';
import type { TraceDeps } from '../../src/trace/index.js';
import type { IpFamily, TraceOptions, TraceProtocol } from '../../src/trace/types.js';
import { drive, pathResponder, ScriptedNetwork, VirtualClock, type PathHop, type Responder, icmpError } from './scripted.js';

const V4 = { src: '10.0.0.2', dst: '10.20.0.10', routers: ['10.0.0.1', '10.1.0.1', '10.2.0.1', '10.3.0.1', '10.4.0.1', '10.5.0.1', '10.6.0.1', '10.7.0.1', '10.8.0.1', '10.9.0.1', '10.10.0.1', '10.11.0.1'] };
const V6 = { src: 'fd00::2', dst: 'fd00:20::10', routers: ['fd00::1', 'fd00:1::1', 'fd00:2::1', 'fd00:3::1', 'fd00:4::1', 'fd00:5::1', 'fd00:6::1', 'fd00:7::1', 'fd00:8::1', 'fd00:9::1', 'fd00:a::1', 'fd00:b::1'] };

interface Run { clock: VirtualClock; net: ScriptedNetwork | null; deps: TraceDeps }

function setup(respond: Responder, family: IpFamily = 4, sendError: ((p: { ttl: number }) => string | null) | null = null): Run {
  const clock = new VirtualClock();
  const run: Run = { clock, net: null, deps: {} };
  let n = 0;
  run.deps = {
    clock,
    random: (min) => min + (n++ % 7), // deterministic
    network: (fam, proto) => {
      run.net = new ScriptedNetwork(fam, proto, clock, family === 4 ? V4.src : V6.src, respond, sendError);
      return run.net;
    },
  };
  return run;
}

async function trace(respond: Responder, options: TraceOptions, family: IpFamily = 4) {
  const r = setup(respond, family);
  const result = await drive(r.clock, traceAddress(family === 4 ? V4.dst : V6.dst, { maxTtl: 12, ...options }, r.deps));
  return { result, net: r.net!, clock: r.clock };
}

const routers = (family: IpFamily, n: number): PathHop[] => (family === 4 ? V4 : V6).routers.slice(0, n).map((address) => ({ address }));

for (const family of [4, 6] as const) {
  for (const proto of ['udp', 'tcp', 'icmp'] as const) {
    for (const hops of [0, 3, 9]) {
      test(`IPv${family} ${proto}: destination behind ${hops} routers is found at hop ${hops + 1}`, async () => {
        const dst = family === 4 ? V4.dst : V6.dst;
        const { result } = await trace(pathResponder({ path: routers(family, hops), destination: dst }), { proto }, family);
        assert.equal(result.status, 'reached');
        assert.equal(result.destinationReached, true);
        assert.equal(result.reachedAtTtl, hops + 1);
        assert.equal(result.failureSource, null);
        assert.equal(result.hops.length, hops + 1);
        for (let i = 0; i < hops; i++) {
          assert.deepEqual(result.hops[i].responders.map((r) => r.address), [routers(family, hops)[i].address]);
          assert.equal(result.hops[i].lossPercent, 0);
          assert.equal(result.hops[i].sent, 3);
          assert.equal(result.hops[i].rttMinMs, i + 1); // scripted RTT of hop i+1
        }
        const last = result.hops[hops];
        assert.equal(last.destination, true);
        assert.equal(last.responders[0].address, dst);
        const expected = proto === 'udp' ? 'port-unreachable' : proto === 'tcp' ? 'tcp-syn-ack' : 'echo-reply';
        assert.equal(result.destinationReply, expected);
        assert.match(result.explanation.at(-1)!, new RegExp(`reached at hop ${hops + 1}`));
      });
    }
  }
}

test('all TTLs of a round go out in parallel, paced; rounds start on their interval; nothing beyond the destination after it answered', async () => {
  const { result, net } = await trace(pathResponder({ path: routers(4, 3), destination: V4.dst, destinationRttMs: 50 }), { proto: 'udp', maxTtl: 12, probeIntervalMs: 2, roundIntervalMs: 200 });
  const round0 = net.sent.filter((s) => s.atMs < 1000 + 100);
  // Round 0: TTL 1..12 sent 2 ms apart before any reply from the destination (its RTT is 50 ms).
  assert.deepEqual(round0.map((s) => s.probe.ttl), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(round0.map((s) => s.atMs - 1000), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
  // Later rounds start at 200 ms and 400 ms and stop at the destination's TTL (4).
  const later = net.sent.filter((s) => s.atMs >= 1100);
  assert.deepEqual(later.map((s) => s.probe.ttl), [1, 2, 3, 4, 1, 2, 3, 4]);
  assert.equal(later[0].atMs - 1000, 200);
  assert.equal(later[4].atMs - 1000, 400);
  assert.equal(result.hops.length, 4);
  assert.equal(result.hops[3].sent, 3);
});

test('several responders at one TTL are all listed with their own counts', async () => {
  const respond: Responder = (probe, ctx) => {
    if (probe.ttl === 2) return [{ delayMs: 2, bytes: icmpError(probe.packet, ctx.round % 2 === 0 ? '10.1.0.1' : '10.1.0.2', 'time-exceeded') }];
    return pathResponder({ path: routers(4, 3), destination: V4.dst })(probe, ctx);
  };
  const { result } = await trace(respond, { proto: 'icmp', rounds: 4, roundIntervalMs: 10 });
  const hop2 = result.hops[1];
  assert.deepEqual(hop2.responders.map((r) => [r.address, r.replies]), [['10.1.0.1', 2], ['10.1.0.2', 2]]);
  assert.equal(hop2.received, 4);
  assert.equal(hop2.lossPercent, 0);
});

test('silent hops in the middle: "not answering traceroute, the path goes on", loss 100% there, destination still reached', async () => {
  const path = routers(4, 4);
  path[1] = { address: null };
  path[2] = { address: null };
  const { result } = await trace(pathResponder({ path, destination: V4.dst }), { proto: 'tcp', port: 443 });
  assert.equal(result.status, 'reached');
  assert.equal(result.reachedAtTtl, 5);
  assert.equal(result.hops[1].received, 0);
  assert.equal(result.hops[1].lossPercent, 100);
  assert.match(result.hops[1].note!, /not answering traceroute \(filtered or rate-limited\), the path goes on/);
  assert.equal(result.hops[2].note, result.hops[1].note);
  assert.ok(result.explanation.some((e) => /hops 2–3 do not answer: not answering traceroute/.test(e)), result.explanation.join('\n'));
  assert.match(result.explanation.at(-1)!, /TCP port 443 is open/);
});

test('stars to the end: the path stops after the last answering hop, and silent hops cost the adaptive wait, not the timeout', async () => {
  const { result } = await trace(pathResponder({ path: routers(4, 6), destination: V4.dst, blackholeAfter: 2 }), { proto: 'udp', maxTtl: 30, timeoutMs: 5000 });
  assert.equal(result.status, 'stopped');
  assert.equal(result.failureSource, 'route');
  assert.equal(result.destinationReached, false);
  assert.equal(result.reachedAtTtl, null);
  assert.equal(result.lastAnsweringTtl, 2);
  assert.equal(result.hops.length, 30);
  // Hops 3–7 (the silent horizon past hop 2) got every round, hops 8–30 round 0 only.
  assert.deepEqual(result.hops.slice(2).map((h) => [h.sent, h.received, h.note]), result.hops.slice(2).map((h) => [h.ttl <= 7 ? 3 : 1, 0, null]));
  assert.equal(result.silentHorizonTtl, 7);
  assert.equal(result.probesHeld, 2 * 23);
  assert.ok(result.explanation.some((e) => /the path stops after hop 2/.test(e)), result.explanation.join('\n'));
  assert.ok(result.explanation.includes('nothing answered past hop 2: later rounds probed only up to hop 7 (the 5 hops after it); hops 8–30 were probed once'), result.explanation.join('\n'));
  // Far below the 5 s timeout: the last re-probe of hop 7 goes at 118 ms, then 500 ms adaptive wait.
  assert.equal(result.durationMs, 618);
});

test('nothing answers at all: no-reply, full timeout used', async () => {
  const { result } = await trace(() => [], { proto: 'icmp', maxTtl: 5, rounds: 1, timeoutMs: 1500 });
  assert.equal(result.status, 'no-reply');
  assert.equal(result.lastAnsweringTtl, null);
  assert.ok(result.durationMs >= 1500);
  assert.match(result.explanation[0], /nothing answered, not even hop 1/);
});

for (const family of [4, 6] as const) {
  test(`IPv${family}: !X from a router ends the path there (administratively prohibited)`, async () => {
    const path = routers(family, 3);
    path[2] = { ...path[2], unreachableCode: family === 4 ? 10 : 1 };
    const { result } = await trace(pathResponder({ path, destination: family === 4 ? V4.dst : V6.dst }), { proto: 'tcp' }, family);
    assert.equal(result.status, 'unreachable');
    assert.equal(result.failureSource, 'route');
    assert.equal(result.hops.length, 3);
    assert.deepEqual(result.hops[2].flags, ['!X']);
    assert.deepEqual(result.unreachable && { ttl: result.unreachable.ttl, flag: result.unreachable.flag }, { ttl: 3, flag: '!X' });
    assert.match(result.explanation.at(-1)!, /hop 3: a router .* answered !X, .*administratively prohibited.*; the path ends there/);
  });
}

test('unreachable flags: !H !N !P !F-1400 !S and a foreign port unreachable (!U)', async () => {
  const cases: Array<[number, string]> = [[1, '!H'], [0, '!N'], [2, '!P'], [5, '!S'], [13, '!X']];
  for (const [code, flag] of cases) {
    const path = routers(4, 2);
    path[1] = { ...path[1], unreachableCode: code };
    const { result } = await trace(pathResponder({ path, destination: V4.dst }), { proto: 'udp', rounds: 1 });
    assert.deepEqual(result.hops[1].flags, [flag], `code ${code}`);
  }
  const frag: Responder = (probe) => probe.ttl === 1 ? [{ delayMs: 1, bytes: icmpError(probe.packet, '10.0.0.1', 'unreachable', 4, { mtu: 1400 }) }] : [];
  const f = await trace(frag, { proto: 'udp', rounds: 1 });
  assert.deepEqual(f.result.hops[0].flags, ['!F-1400']);
  const foreign = routers(4, 2);
  foreign[1] = { ...foreign[1], unreachableCode: 3 };
  const u = await trace(pathResponder({ path: foreign, destination: V4.dst }), { proto: 'udp', rounds: 1 });
  assert.equal(u.result.status, 'unreachable');
  assert.deepEqual(u.result.hops[1].flags, ['!U']);
});

test('the destination itself answering !X is the target\'s failure', async () => {
  const respond: Responder = (probe) => probe.ttl >= 2
    ? [{ delayMs: 2, bytes: icmpError(probe.packet, V4.dst, 'unreachable', 10) }]
    : [{ delayMs: 1, bytes: icmpError(probe.packet, '10.0.0.1', 'time-exceeded') }];
  const { result } = await trace(respond, { proto: 'tcp' });
  assert.equal(result.status, 'unreachable');
  assert.equal(result.failureSource, 'target');
  assert.match(result.explanation.at(-1)!, /the destination itself answered !X/);
});

test('TCP RST from the destination: reached, port closed', async () => {
  const { result } = await trace(pathResponder({ path: routers(4, 2), destination: V4.dst, tcpAnswer: 'rst' }), { proto: 'tcp', port: 8443 });
  assert.equal(result.status, 'reached');
  assert.equal(result.destinationReply, 'tcp-rst');
  assert.match(result.explanation.at(-1)!, /TCP port 8443 is closed \(RST\)/);
});

test('late replies after the timeout are counted, not used; duplicates are counted, not double-counted', async () => {
  // Hop 1 answers round 0 after 2.1 s (timeout 2 s) and never answers round 2, so the
  // trace is still waiting (round 2's probe) when the late reply arrives.
  const late: Responder = (probe, ctx) => {
    if (probe.ttl === 1) {
      if (ctx.round === 0) return [{ delayMs: 2100, bytes: icmpError(probe.packet, '10.0.0.1', 'time-exceeded') }];
      if (ctx.round === 2) return [];
      return [{ delayMs: 1, bytes: icmpError(probe.packet, '10.0.0.1', 'time-exceeded') }];
    }
    return pathResponder({ path: routers(4, 1), destination: V4.dst, duplicateDestinationReplies: true })(probe, ctx);
  };
  const { result } = await trace(late, { proto: 'icmp', timeoutMs: 2000 });
  assert.equal(result.lateReplies, 1);
  assert.equal(result.hops[0].sent, 3);
  assert.equal(result.hops[0].received, 1);
  assert.equal(result.hops[0].lossPercent, 66.7);
  assert.ok(result.duplicateReplies >= 3, `duplicates ${result.duplicateReplies}`);
  assert.equal(result.hops[1].received, 3);
  assert.equal(result.hops[1].lossPercent, 0);
});

test('rate-limited router: its loss does not carry on, and the note says so', async () => {
  const path = routers(4, 3);
  path[1] = { ...path[1], silentRounds: [1, 2, 3] };
  const { result } = await trace(pathResponder({ path, destination: V4.dst }), { proto: 'udp', rounds: 5 });
  assert.equal(result.hops[1].lossPercent, 60);
  assert.match(result.hops[1].note!, /rate-limits its ICMP replies, the path itself is not losing packets/);
  assert.ok(result.explanation.some((e) => /^hop 2: 60% loss here but less further on/.test(e)));
});

test('local send errors: every probe failing is a local failure', async () => {
  const r = setup(() => [], 4, () => 'EPERM: Operation not permitted (a local firewall)');
  const result = await drive(r.clock, traceAddress(V4.dst, { proto: 'udp', maxTtl: 4, rounds: 1 }, r.deps));
  assert.equal(result.status, 'failed');
  assert.equal(result.failureSource, 'local');
  assert.equal(result.sendErrors, 4);
  assert.match(result.explanation[0], /could not be sent: EPERM/);
});

test('abort returns the partial trace', async () => {
  const r = setup(pathResponder({ path: routers(4, 2), destination: V4.dst, blackholeAfter: 2 }));
  const ac = new AbortController();
  r.clock.setTimer(100, () => ac.abort());
  const result = await drive(r.clock, traceAddress(V4.dst, { proto: 'udp', signal: ac.signal, timeoutMs: 5000 }, r.deps));
  assert.ok(result.explanation.includes('interrupted: the trace is partial'));
  assert.equal(result.hops[0].received, 1); // only round 0 went out before 100 ms
  assert.ok(result.durationMs <= 100);
});

test('traceRoute traces every address of a name, and the network is closed after each', async () => {
  const clock = new VirtualClock();
  const nets: ScriptedNetwork[] = [];
  const deps: TraceDeps = {
    clock,
    resolver: async () => ['10.20.0.10', '10.20.1.10'],
    network: (fam, proto) => {
      const dst = nets.length === 0 ? '10.20.0.10' : '10.20.1.10';
      const n = new ScriptedNetwork(fam, proto, clock, V4.src, pathResponder({ path: routers(4, 3), destination: dst, blackholeAfter: nets.length === 0 ? undefined : 2 }));
      nets.push(n);
      return n;
    },
  };
  const result = await drive(clock, traceRoute('seqas.online', { proto: 'tcp', maxTtl: 8 }, deps));
  assert.deepEqual(result.addresses, ['10.20.0.10', '10.20.1.10']);
  assert.deepEqual(result.traces.map((t) => [t.address, t.status, t.reachedAtTtl]), [['10.20.0.10', 'reached', 4], ['10.20.1.10', 'stopped', null]]);
  assert.equal(result.status, 'stopped');
  assert.equal(result.destinationReached, false);
  assert.equal(result.port, 80);
  assert.ok(nets.every((n) => n.closed));
});

test('an address of the wrong family for -4/-6 is a clear error; bad options are usage errors', async () => {
  await assert.rejects(traceRoute('10.0.0.1', { family: 6 }), /is an IPv4 address but -6 was given/);
  await assert.rejects(traceRoute('10.0.0.1', { maxTtl: 0 }), (e: Error & { code?: string }) => e.code === 'USAGE');
  await assert.rejects(traceRoute('10.0.0.1', { rounds: 1000 }), (e: Error & { code?: string }) => e.code === 'USAGE');
  await assert.rejects(traceRoute('10.0.0.1', { proto: 'sctp' as TraceProtocol }), /unknown probe protocol/);
});

test('text rendering: second responders on their own line, trailing stars folded, explanations listed', async () => {
  const { renderTrace } = await import('../../src/trace/index.js');
  const clock = new VirtualClock();
  const respond: Responder = (probe, ctx) => {
    if (probe.ttl === 1) return [{ delayMs: 1, bytes: icmpError(probe.packet, ctx.round % 2 ? '10.0.0.9' : '10.0.0.1', 'time-exceeded') }];
    if (probe.ttl === 2) return [{ delayMs: 2, bytes: icmpError(probe.packet, '10.1.0.1', 'time-exceeded') }];
    return [];
  };
  const deps: TraceDeps = { clock, resolver: async () => ['10.20.0.10'], network: (f, p) => new ScriptedNetwork(f, p, clock, V4.src, respond) };
  const result = await drive(clock, traceRoute('example.test', { proto: 'udp', maxTtl: 30 }, deps));
  const text = renderTrace(result);
  assert.match(text, /^trace to example\.test \(10\.20\.0\.10\): udp port 33434, 3 rounds, max 30 hops\n/);
  assert.match(text, /\n\s+1\s+10\.0\.0\.1\s+0\.0\s+3\s+2\s/);
  assert.match(text, /\n\s+10\.0\.0\.9\s+1\s+1\.000/);
  assert.match(text, /\n\s+3\s+…30\s+\* no reply\n/);
  assert.match(text, /status: stopped \(failure: route\), destination not reached/);
  assert.match(text, /  - no reply after hop 2 \(10\.1\.0\.1\) up to hop 30: the path stops after hop 2/);
});

test('the largest trace allowed (100 rounds × 64 TTLs) completes with every count right', async () => {
  const { result } = await trace(pathResponder({ path: routers(4, 5), destination: V4.dst, blackholeAfter: 5 }), { proto: 'udp', maxTtl: 64, rounds: 100, roundIntervalMs: 10, probeIntervalMs: 0 });
  assert.equal(result.status, 'stopped');
  assert.equal(result.hops.length, 64);
  // Hops 1–5 answer; 6–10 (the silent horizon) get all 100 rounds, 11–64 round 0 only.
  assert.equal(result.probesSent, 10 * 100 + 54);
  assert.equal(result.probesHeld, 54 * 99);
  assert.ok(result.hops.slice(0, 5).every((h) => h.sent === 100 && h.received === 100));
  assert.ok(result.hops.slice(5, 10).every((h) => h.sent === 100 && h.received === 0));
  assert.ok(result.hops.slice(10).every((h) => h.sent === 1 && h.received === 0));
});
