/**
 * `trace --mtu` on scripted paths whose links have MTUs (virtual time, real reply bytes:
 * fragmentation needed with the next-hop MTU, ICMPv6 packet too big, time-exceeded quoting
 * large DF probes): reported drops, black holes, routers that name no MTU, rate-limited
 * destinations, EMSGSIZE from this machine, and the text form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTrace, traceAddress, traceRoute, TRACE_DEFAULTS } from '../../src/trace/index.js';
import type { AddressTrace, IpFamily, TraceDeps, TraceOptions } from '../../src/trace/index.js';
import { drive, mtuPathResponder, ScriptedNetwork, VirtualClock, type MtuHop, type Responder, type SentRecord } from './scripted.js';

const ADDR = {
  4: { src: '10.0.0.2', dst: '10.20.0.10', routers: ['10.0.0.1', '10.1.0.1', '10.2.0.1', '10.3.0.1'] },
  6: { src: 'fd00::2', dst: 'fd00:20::10', routers: ['fd00::1', 'fd00:1::1', 'fd00:2::1', 'fd00:3::1'] },
} as const;

interface Run { result: AddressTrace; net: ScriptedNetwork; clock: VirtualClock }

async function run(respond: Responder, options: TraceOptions = {}, family: IpFamily = 4, tune: (n: ScriptedNetwork) => void = () => {}, sendError: ((p: { packet: Uint8Array }) => string | null) | null = null): Promise<Run> {
  const clock = new VirtualClock();
  let net: ScriptedNetwork | null = null;
  const deps: TraceDeps = {
    clock,
    random: (min) => min,
    network: (f, p) => {
      net = new ScriptedNetwork(f, p, clock, ADDR[family].src, respond, sendError);
      tune(net);
      return net;
    },
  };
  const result = await drive(clock, traceAddress(ADDR[family].dst, { proto: 'udp', maxTtl: 8, rounds: 1, mtu: true, ...options }, deps));
  return { result, net: net!, clock };
}

const hops = (family: IpFamily, set: Record<number, Partial<MtuHop>> = {}): MtuHop[] =>
  ADDR[family].routers.slice(0, 3).map((address, i) => ({ address, ...set[i + 1] }));

/** The size probes (sent once the trace was over): [ttl, bytes]. */
const sizeProbes = (net: ScriptedNetwork, trace: AddressTrace): Array<[number, number]> =>
  sizeRecords(net, trace).map((s: SentRecord) => [s.probe.ttl, s.probe.packet.length]);
const sizeRecords = (net: ScriptedNetwork, trace: AddressTrace): SentRecord[] => net.sent.filter((s) => s.atMs >= 1000 + trace.durationMs);

test('IPv4: a router in front of a 1400-byte link answers "fragmentation needed": pmtu 1400 after hop 2, in 4 probes', async () => {
  const { result, net } = await run(mtuPathResponder({ path: hops(4, { 2: { nextMtu: 1400 } }), destination: ADDR[4].dst }));
  assert.equal(result.status, 'reached');
  const m = result.pathMtu!;
  assert.equal(m.status, 'found');
  assert.equal(m.pathMtu, 1400);
  assert.equal(m.localMtu, 1500);
  assert.deepEqual([m.targetTtl, m.targetIsDestination], [4, true]);
  assert.deepEqual(m.drops, [{ afterTtl: 2, router: ADDR[4].routers[1], beforeTtl: 3, mtu: 1400, how: 'frag-needed', reportedMtu: 1400 }]);
  // 1500 bytes to the destination (hop 4), then the 40-byte control; the same at 1400. DF on each.
  assert.deepEqual(sizeProbes(net, result), [[4, 1500], [4, 40], [4, 1400], [4, 40]]);
  assert.ok(sizeRecords(net, result).every((s) => (s.probe.packet[6] & 0x40) !== 0), 'DF set');
  assert.equal(m.probesSent, 4);
  assert.match(m.explanation[0], /^hop 2 \(10\.1\.0\.1\) answered "fragmentation needed" with MTU 1400: the link after it carries at most 1400-byte packets$/);
  assert.equal(m.explanation.at(-1), 'path MTU to 10.20.0.10 (hop 4): 1400 bytes');
});

test('IPv6: two smaller links, each answering "packet too big": both drops, pmtu 1280', async () => {
  const { result } = await run(mtuPathResponder({ path: hops(6, { 1: { nextMtu: 1420 }, 3: { nextMtu: 1280 } }), destination: ADDR[6].dst }), { proto: 'icmp' }, 6);
  const m = result.pathMtu!;
  assert.equal(m.status, 'found');
  assert.equal(m.pathMtu, 1280);
  assert.deepEqual(m.drops.map((d) => [d.afterTtl, d.router, d.mtu, d.how, d.reportedMtu]), [
    [1, ADDR[6].routers[0], 1420, 'packet-too-big', 1420],
    [3, ADDR[6].routers[2], 1280, 'packet-too-big', 1280],
  ]);
});

test('no smaller link: one sweep at the local MTU reaches the destination', async () => {
  const { result } = await run(mtuPathResponder({ path: hops(4), destination: ADDR[4].dst }), {}, 4, (n) => { n.linkMtu = 9001; });
  const m = result.pathMtu!;
  assert.deepEqual([m.status, m.pathMtu, m.localMtu, m.drops.length, m.probesSent], ['found', 9001, 9001, 0, 2]);
  assert.equal(m.explanation.at(-1), "9001-byte packets (this machine's link MTU) reach 10.20.0.10 (hop 4) unfragmented: path MTU 9001");
});

for (const family of [4, 6] as const) {
  test(`IPv${family}: MTU black hole (the router's ICMP dropped on the way): found by probing sizes at hop 3, the drop named after hop 2`, async () => {
    const { result, net, clock } = await run(mtuPathResponder({ path: hops(family, { 2: { nextMtu: 1400, tooBig: 'dropped' } }), destination: ADDR[family].dst }), {}, family);
    const m = result.pathMtu!;
    assert.equal(m.status, 'black-hole');
    assert.equal(m.pathMtu, 1400);
    assert.deepEqual(m.drops, [{ afterTtl: 2, router: ADDR[family].routers[1], beforeTtl: 3, mtu: 1400, how: 'black-hole', reportedMtu: null }]);
    assert.equal(m.largestPassedBytes, 1400);
    assert.equal(m.smallestFailedBytes, 1401);
    // 1500 bytes to the destination: silence, the control answered. A large and a small probe
    // at each hop: the large ones reach hop 2, hop 3 answers only the small one. Sizes at the
    // destination: the common MTUs (1400 passes, 1450 not), then 1401 (fails: done) with
    // evenly spaced ones; 1400 to the destination to finish. Every batch ends with its control.
    const c = family === 4 ? 40 : 60;
    assert.deepEqual(sizeProbes(net, result), [
      [4, 1500], [4, c],
      [1, 1500], [1, c], [2, 1500], [2, c], [3, 1500], [3, c], [4, 1500], [4, c],
      [4, 1492], [4, 1450], [4, 1400], [4, 1280], [4, c],
      [4, 1401], [4, 1440], [4, 1430], [4, 1420], [4, c],
      [4, 1400], [4, c],
    ]);
    assert.equal(m.probesSent, 22);
    // Batches end 100 ms after their control when a probe is missing, at once when none is.
    assert.equal(m.durationMs, 454);
    assert.equal(m.durationMs, clock.now() - 1000 - result.durationMs);
    assert.match(m.explanation[0], new RegExp(`^MTU black hole after hop 2 \\(${ADDR[family].routers[1]}\\): packets over 1400 bytes get no further than hop 2 while smaller ones reach hop 3`));
  });
}

test('a router that says "too big" but names no MTU (0, before RFC 1191): sizes probed past it, pmtu exact', async () => {
  const { result } = await run(mtuPathResponder({ path: hops(4, { 1: { nextMtu: 1380, tooBig: 'report-zero' } }), destination: ADDR[4].dst }));
  const m = result.pathMtu!;
  assert.equal(m.status, 'found');
  assert.equal(m.pathMtu, 1380);
  assert.deepEqual(m.drops, [{ afterTtl: 1, router: ADDR[4].routers[0], beforeTtl: 2, mtu: 1380, how: 'frag-needed', reportedMtu: 0 }]);
  assert.match(m.explanation[0], /named no usable MTU \(0\): probing sizes, the largest that gets past it is 1380 bytes/);
});

test('a destination that rate-limits its ICMP errors (burst 6, then 1/s): void batches are repeated after a pause, the answer is still exact', async () => {
  const clock = new VirtualClock();
  // Linux's per-peer limit (icmp_ratelimit 1000 ms, burst 6) at every hop past the drop.
  const buckets = new Map<number, { tokens: number; atMs: number }>();
  const inner = mtuPathResponder({ path: hops(4, { 2: { nextMtu: 1400, tooBig: 'dropped' } }), destination: ADDR[4].dst });
  const limited: Responder = (probe, ctx) => {
    const out = inner(probe, ctx);
    if (probe.ttl < 3 || out.length === 0) return out;
    const hop = Math.min(probe.ttl, 4);
    const b = buckets.get(hop) ?? { tokens: 6, atMs: clock.now() };
    b.tokens = Math.min(6, b.tokens + (clock.now() - b.atMs) / 1000);
    b.atMs = clock.now();
    buckets.set(hop, b);
    if (b.tokens < 1) return [];
    b.tokens -= 1;
    return out;
  };
  let net: ScriptedNetwork | null = null;
  const deps: TraceDeps = { clock, random: (min) => min, network: (f, p) => (net = new ScriptedNetwork(f, p, clock, ADDR[4].src, limited)) };
  const result = await drive(clock, traceAddress(ADDR[4].dst, { proto: 'udp', maxTtl: 8, mtu: true }, deps));
  const m = result.pathMtu!;
  assert.equal(m.status, 'black-hole');
  assert.equal(m.pathMtu, 1400);
  assert.deepEqual([m.largestPassedBytes, m.smallestFailedBytes], [1400, 1401]);
  // Batches lost their control to the limit and were repeated after pauses: slow, but right.
  const sizes = sizeProbes(net!, result);
  assert.ok(m.durationMs >= 5 * TRACE_DEFAULTS.MTU_RATE_LIMIT_PAUSE_MS, `${m.durationMs} ms`);
  assert.ok(sizes.length > 22 && sizes.length < 80, `${sizes.length} probes`);
});

test('nothing answers the control probes: inconclusive after 3 void batches, with what is known', async () => {
  // The destination answers the trace, then goes quiet once the size probes start (the first over 40 bytes).
  let sizing = false;
  const inner = mtuPathResponder({ path: hops(4), destination: ADDR[4].dst });
  const respond: Responder = (probe, ctx) => {
    if (probe.packet.length > 40) sizing = true;
    return sizing && probe.ttl >= 4 ? [] : inner(probe, ctx);
  };
  const { result } = await run(respond);
  assert.equal(result.status, 'reached');
  const m = result.pathMtu!;
  assert.equal(m.status, 'inconclusive');
  assert.equal(m.pathMtu, null);
  // The first probe and its control, four times: 2 s pauses (two probes for that peer) between.
  assert.equal(m.probesSent, 4 * 2);
  assert.equal(m.durationMs, 3 * 2000 + 4 * (2 + TRACE_DEFAULTS.ADAPTIVE_MIN_WAIT_MS));
  assert.match(m.explanation.at(-1)!, /^the small control probes to 10\.20\.0\.10 \(hop 4\) went unanswered as well/);
});

test('this machine refuses sizes over 1450 (EMSGSIZE) though its link says 1500: a local-link drop, pmtu 1450', async () => {
  const tooLong = (p: { packet: Uint8Array }): string | null => (p.packet.length > 1450 ? 'Message too long' : null);
  const { result } = await run(mtuPathResponder({ path: hops(4), destination: ADDR[4].dst }), {}, 4, () => {}, tooLong);
  const m = result.pathMtu!;
  assert.equal(m.pathMtu, 1450);
  assert.deepEqual(m.drops.map((d) => [d.afterTtl, d.router, d.mtu, d.how]), [[0, null, 1450, 'local-link']]);
});

test('the destination not reached: sizes are tested up to the last hop that answers', async () => {
  const { result } = await run(mtuPathResponder({ path: hops(4, { 1: { nextMtu: 1400 } }), destination: '10.99.0.1' }), { maxTtl: 3 });
  assert.equal(result.status, 'stopped');
  const m = result.pathMtu!;
  assert.deepEqual([m.targetTtl, m.targetIsDestination, m.pathMtu], [3, false, 1400]);
  assert.equal(m.explanation.at(-1), 'path MTU to hop 3, the last that answers (10.20.0.10 was not reached): 1400 bytes');
});

test('--mtu with TCP probes is a usage error; without --mtu, pathMtu is null', async () => {
  await assert.rejects(traceRoute('10.0.0.1', { proto: 'tcp', mtu: true }), (e: Error & { code?: string }) => e.code === 'USAGE' && /--mtu needs udp or icmp/.test(e.message));
  const { result } = await run(mtuPathResponder({ path: hops(4), destination: ADDR[4].dst }), { mtu: false });
  assert.equal(result.pathMtu, null);
});

test('text: tracepath-style pmtu lines under the trace', async () => {
  const clock = new VirtualClock();
  const deps: TraceDeps = {
    clock,
    random: (min) => min,
    resolver: async () => [ADDR[4].dst],
    network: (f, p) => new ScriptedNetwork(f, p, clock, ADDR[4].src, mtuPathResponder({ path: hops(4, { 2: { nextMtu: 1400, tooBig: 'dropped' } }), destination: ADDR[4].dst })),
  };
  const text = renderTrace(await drive(clock, traceRoute('mtu.example', { proto: 'udp', maxTtl: 8, rounds: 1, mtu: true }, deps)));
  assert.match(text, /\npmtu: 1400 to 10\.20\.0\.10 \(hop 4\) — MTU black hole, \d+ size probes in \d\.\d\d s\n/);
  assert.match(text, /\n\s+this machine's link\s+pmtu 1500\n/);
  assert.match(text, /\n\s+2\s+10\.1\.0\.1\s+pmtu 1400\s+black hole: larger packets stop after hop 2, no ICMP comes back\n/);
  assert.match(text, /\n  - MTU black hole after hop 2 \(10\.1\.0\.1\)/);
});
