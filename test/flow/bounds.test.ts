/**
 * Every table of the flow engine is bounded (src/flow/bounds.ts, issue 13): each test drives
 * one table past its bound (at --max-memory 120, the floor, so inputs stay small) and checks
 * the eviction rule, that what was pushed out is counted in limits.tables and said, and that
 * nothing else is lost (every connection and exchange still counted). Then each structure's
 * growth: 10× more items take at most 12× the time (medians, test/hostile/inputs.ts).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { analyzeCapture, boundsSummary, flowBounds, renderAnalysis, type FlowAnalysis } from '../../src/flow/index.js';
import { SynFloodTracker } from '../../src/flow/flood.js';
import {
  FastPcap, TCP_ACK, TCP_PSH_ACK, TCP_SYN, ackFlood, growthRatio, keepAlive, oneInstant, sourceAddress, synFlood, tempDir, writeInput,
} from '../hostile/inputs.js';

const MB = 120;
const B = flowBounds(MB);
const MAX_RATIO = 12;
const tmp = tempDir();
after(() => tmp.remove());

async function analyse(bytes: Uint8Array, options: Parameters<typeof analyzeCapture>[1] = {}): Promise<FlowAnalysis> {
  const file = writeInput(tmp.file(`in-${Math.random().toString(36).slice(2)}.pcap`), bytes);
  return (await analyzeCapture(file, { maxMemoryMB: MB, readInWorker: false, ...options })).analysis;
}

/** Connections that each open, then send `segments` segments of `bytes` bytes starting past a gap (held back for HTTP). */
function gaps(connections: number, segments: number, bytes: number): Buffer {
  const w = new FastPcap();
  const data = new Uint8Array(bytes).fill(0x61);
  let t = 1_700_000_000_000_000;
  for (let c = 0; c < connections; c++) {
    const cl = { src: sourceAddress(c), dst: 0xac1f0514, srcPort: 20000, dstPort: 80 };
    w.tcp({ ...cl, tsUs: t += 10, seq: 999, ack: 0, flags: TCP_SYN });
    for (let s = 0; s < segments; s++) w.tcp({ ...cl, tsUs: t += 10, seq: 1000 + 100 + s * bytes, ack: 1, flags: TCP_PSH_ACK, payload: data });
  }
  return w.bytes();
}

/** Connections that each send a head spread over `segments` segments of `bytes` bytes and never end it. */
function endlessHeads(connections: number, segments: number, bytes: number): Buffer {
  const w = new FastPcap();
  const first = new TextEncoder().encode('GET / HTTP/1.1\r\n'.padEnd(bytes - 2, 'x') + '\r\n');
  const more = new TextEncoder().encode('X-A: '.padEnd(bytes - 2, 'a') + '\r\n');
  let t = 1_700_000_000_000_000;
  for (let c = 0; c < connections; c++) {
    const cl = { src: sourceAddress(c), dst: 0xac1f0514, srcPort: 20000, dstPort: 80 };
    w.tcp({ ...cl, tsUs: t += 10, seq: 999, ack: 0, flags: TCP_SYN });
    for (let s = 0; s < segments; s++) w.tcp({ ...cl, tsUs: t += 10, seq: 1000 + s * bytes, ack: 1, flags: TCP_PSH_ACK, payload: s === 0 ? first : more });
  }
  return w.bytes();
}

/** `connections` open at once, each with `packets` ACKs back and forth. */
function chatty(connections: number, packets: number): Buffer {
  const w = new FastPcap();
  let t = 1_700_000_000_000_000;
  for (let p = 0; p < packets; p++) {
    for (let c = 0; c < connections; c++) {
      const toServer = p % 2 === 0;
      const cl = sourceAddress(c);
      w.tcp({ tsUs: t += 5, src: toServer ? cl : 0xac1f0514, dst: toServer ? 0xac1f0514 : cl, srcPort: toServer ? 20000 : 80, dstPort: toServer ? 80 : 20000, seq: 1000 + p, ack: 1, flags: TCP_ACK });
    }
  }
  return w.bytes();
}

/** `n` packets from `n` connections, alike in every field NAT leaves alone (seq, ack, IP ID, length): crafted to collide in the stitch table. */
function alike(n: number): Buffer {
  const w = new FastPcap();
  for (let i = 0; i < n; i++) w.tcp({ tsUs: 1_700_000_000_000_000 + i * 10, src: sourceAddress(i), dst: 0xac1f0514, srcPort: 20000, dstPort: 80, seq: 1000, ack: 1, flags: TCP_ACK });
  return w.bytes();
}

/** One connection's packets each seen at 12 points, with the server's address rewritten at every one (12 views). */
function manyViews(packets: number): Buffer {
  const w = new FastPcap();
  let t = 1_700_000_000_000_000;
  for (let p = 0; p < packets; p++) {
    for (let point = 0; point < 12; point++) {
      w.tcp({ tsUs: t += 1, ifindex: 2 + point, src: 0x0a000001, dst: 0xac110000 + point, srcPort: 20000, dstPort: 80, seq: 1000 + p, ack: 1, flags: TCP_ACK, ipId: p });
    }
  }
  return w.bytes();
}

describe(`each table past its bound (--max-memory ${MB})`, () => {
  it('open connections: the least recently active is summarised early, marked evicted', async () => {
    const n = B.openConnections + 3000;
    const a = await analyse(ackFlood(n));
    const t = a.limits.tables.openConnections;
    assert.deepEqual([t.max, t.peak, t.evicted], [B.openConnections, B.openConnections, 3000]);
    assert.equal(a.connections.length + a.limits.connectionsNotKept, n, 'every connection counted');
    // Summarised in eviction order, the first kept are the evicted ones (the oldest).
    assert.ok(a.connections.length === 2000 && a.connections.every((c) => c.evicted && c.id <= 3000));
    assert.match(boundsSummary(a)!, /^3000 open connections summarised early \(evicted; at most [\d.]+( k)? open at once\); raise --max-memory to keep more$/);
  });

  it('half-open connections: the least recently active is forgotten, into the flood finding', async () => {
    const n = B.halfOpenConnections + 5000;
    const a = await analyse(synFlood(n));
    const t = a.limits.tables.halfOpenConnections;
    assert.deepEqual([t.max, t.peak, t.evicted], [B.halfOpenConnections, B.halfOpenConnections, 5000]);
    assert.equal(a.limits.tables.openConnections.evicted, 0, 'established connections are not pushed out by half-open ones');
    assert.equal(a.anomalies.find((x) => x.kind === 'syn-flood')?.flood?.evicted, 5000);
    assert.equal(a.connections.length + a.limits.connectionsNotKept, n);
  });

  it('the stitch window: the oldest packet leaves it early; every packet still counted', async () => {
    const n = B.stitchPackets + 4000;
    const a = await analyse(oneInstant(n));
    const t = a.limits.tables.stitchPackets;
    assert.deepEqual([t.max, t.peak, t.evicted], [B.stitchPackets, B.stitchPackets, 4000]);
    assert.equal(a.duplicates.packets, n);
    assert.equal(a.connections[0].packets, n);
    assert.match(renderAnalysis(a), /^bounds \(--max-memory 120 MB\): 4000 packets left the stitch window early \(at most [\d.]+( k)? in it\); raise --max-memory to keep more$/m);
  });

  it('held exchanges: a connection\'s oldest is summarised before it ends; every exchange counted, none lost', async () => {
    const n = B.heldExchanges + 3000;
    const a = await analyse(keepAlive(n), { maxKept: 100_000 });
    const t = a.limits.tables.heldExchanges;
    assert.deepEqual([t.max, t.peak, t.evicted], [B.heldExchanges, B.heldExchanges + 1, 3000]);
    assert.equal(a.exchanges.length, n);
    assert.deepEqual(a.exchanges.map((e) => e.id), Array.from({ length: n }, (_, i) => i + 1));
    assert.ok(a.exchanges.every((e) => e.status === 'complete' && e.request!.target === '/k' && e.response!.status === 200 && e.response!.bodyBytes === 2));
    assert.deepEqual(a.connections[0].exchangeIds, Array.from({ length: n }, (_, i) => i + 1));
  });

  it('held-back bytes: past the bound a stream stops waiting for its gap', async () => {
    const perConnection = 15 * 8000;
    const connections = Math.ceil(B.heldBackBytes / perConnection) + 10;
    const a = await analyse(gaps(connections, 15, 8000));
    const t = a.limits.tables.heldBackBytes;
    assert.equal(t.max, B.heldBackBytes);
    assert.ok(t.peak <= t.max && t.peak > t.max - perConnection, `${t.peak} of ${t.max}`);
    assert.ok(t.evicted >= 10, `${t.evicted} gaps given up`);
    assert.equal(a.connections.length + a.limits.connectionsNotKept, connections);
  });

  it('partial heads: past the bound a stream gives its head up', async () => {
    const connections = Math.ceil(B.headBytes / (40 * 1024)) + 10;
    const a = await analyse(endlessHeads(connections, 2, 20_000));
    const t = a.limits.tables.headBytes;
    assert.equal(t.max, B.headBytes);
    assert.ok(t.peak <= t.max, `${t.peak} of ${t.max}`);
    assert.ok(t.evicted >= 10, `${t.evicted} heads given up`);
  });

  it('packet logs: past the bound connections log no more (counted as not logged)', async () => {
    const connections = Math.ceil(B.loggedPackets / 40) + 100;
    const a = await analyse(chatty(connections, 40), { packetLog: 64, maxKept: 100_000 });
    const t = a.limits.tables.loggedPackets;
    assert.equal(t.peak, t.max);
    assert.equal(t.evicted, connections * 40 - t.max);
    const logged = a.connections.reduce((n, c) => n + c.packetLog.length, 0);
    assert.equal(logged, t.max);
    assert.equal(a.connections.reduce((n, c) => n + c.packetsNotLogged, 0), t.evicted);
  });

  it('NAT views of one connection: at most 8, the others counted', async () => {
    const a = await analyse(manyViews(50));
    const t = a.limits.tables.legsPerConnection;
    assert.deepEqual([t.max, t.peak], [8, 8]);
    assert.equal(t.evicted, 50 * 4);
    assert.equal(a.connections.length, 1);
    assert.equal(a.connections[0].legs.length, 8);
  });

  it('the bounds derive from --max-memory, and grow with it', () => {
    const at150 = flowBounds(150);
    const at1000 = flowBounds(1000);
    assert.equal(flowBounds(10).maxMemoryMB, 120, 'the floor');
    for (const k of ['openConnections', 'halfOpenConnections', 'heldExchanges', 'heldBackBytes', 'headBytes', 'loggedPackets'] as const) {
      assert.ok(at1000[k] > 10 * at150[k], k);
    }
    assert.ok(at1000.stitchPackets >= 8 * at150.stitchPackets);
  });
});

describe('10× more items, at most 12× the time', () => {
  const files = new Map<string, string>();
  const input = (name: string, make: () => Uint8Array): string => {
    if (!files.has(name)) files.set(name, writeInput(tmp.file(`${name}.pcap`), make()));
    return files.get(name)!;
  };
  const cases: Array<{ name: string; small: number; make: (n: number) => Uint8Array; options?: Parameters<typeof analyzeCapture>[1] }> = [
    { name: 'half-open connections (a SYN flood past the bound)', small: 20_000, make: (n) => synFlood(n) },
    { name: 'open connections (midstream ACKs past the bound)', small: 20_000, make: (n) => ackFlood(n), options: { maxMemoryMB: MB } },
    { name: 'the stitch window (packets of one instant past the bound)', small: 20_000, make: (n) => oneInstant(n), options: { maxMemoryMB: MB } },
    // n exchanges past the bound (below it none is pushed out: 10× the exchanges would be ~20× the evictions).
    { name: 'held exchanges (one keep-alive connection past the bound)', small: 10_000, make: (n) => keepAlive(n + flowBounds(MB).heldExchanges), options: { maxMemoryMB: MB } },
    { name: 'held-back bytes (connections waiting for a gap)', small: 300, make: (n) => gaps(n, 4, 4000), options: { maxMemoryMB: MB } },
    { name: 'the stitch table\'s chains (packets crafted alike from many connections)', small: 20_000, make: (n) => alike(n) },
  ];
  for (const c of cases) {
    it(c.name, async (t) => {
      const { smallMs, largeMs, ratio } = await growthRatio((n) => analyzeCapture(input(`${c.name}-${n}`, () => c.make(n)), { readInWorker: false, ...c.options }), c.small);
      t.diagnostic(`${c.small}: ${smallMs.toFixed(1)} ms, ${c.small * 10}: ${largeMs.toFixed(1)} ms: ×${ratio.toFixed(1)}`);
      assert.ok(ratio <= MAX_RATIO, `${c.small}: ${smallMs.toFixed(1)} ms, ${c.small * 10}: ${largeMs.toFixed(1)} ms: ×${ratio.toFixed(1)}`);
    });
  }

  it('the flood finding\'s counters (sources, targets, distinct sources)', async (t) => {
    const { smallMs, largeMs, ratio } = await growthRatio((n) => {
      const f = new SynFloodTracker();
      for (let i = 0; i < n; i++) f.note(sourceAddress(i * 2654435761), null, 0xac1f0514, 80 + (i & 7), null, i, true);
      return f.finding();
    }, 100_000);
    t.diagnostic(`100 k: ${smallMs.toFixed(1)} ms, 1 M: ${largeMs.toFixed(1)} ms: ×${ratio.toFixed(1)}`);
    assert.ok(ratio <= MAX_RATIO, `×${ratio.toFixed(1)}`);
  });
});

describe('the flood finding\'s counters', () => {
  it('exact for few sources, within 2 % for many; the top sources with guaranteed counts', () => {
    const few = new SynFloodTracker();
    for (let i = 0; i < 5000; i++) few.note(0x0a000000 + (i % 5), null, 0xac1f0514, 443, null, i * 1000, false);
    const f = few.finding()!.flood!;
    assert.deepEqual([f.sources, f.sourcesExact, f.handshakes], [5, true, 5000]);
    assert.deepEqual(f.topSources.map((s) => s.handshakes), [1000, 1000, 1000, 1000, 1000]);
    assert.deepEqual(f.topSources.map((s) => s.address).sort(), ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);

    const many = new SynFloodTracker();
    // One heavy source among 500 000 distinct ones: found, with at least its true count.
    for (let i = 0; i < 500_000; i++) {
      many.note(sourceAddress(i + 1000), null, 0xac1f0514, 80, null, i * 10, true);
      if (i % 10 === 0) many.note(0xc0000201, null, 0xac1f0514, 80, null, i * 10, true);
    }
    const m = many.finding()!.flood!;
    assert.ok(!m.sourcesExact && Math.abs(m.sources - 500_001) < 500_001 * 0.02, `${m.sources}`);
    assert.equal(m.topSources.length, 1);
    assert.equal(m.topSources[0].address, '192.0.2.1');
    assert.ok(m.topSources[0].handshakes <= 50_000 && m.topSources[0].handshakes > 49_000, `${m.topSources[0].handshakes}`);
  });

  it('IPv6 sources and targets keep their text', () => {
    const f = new SynFloodTracker();
    for (let i = 0; i < 2000; i++) f.note(12345, '2001:db8::1', 678, 443, '2001:db8::2', i * 100, false);
    const r = f.finding()!.flood!;
    assert.deepEqual(r.topSources, [{ address: '2001:db8::1', handshakes: 2000 }]);
    assert.deepEqual(r.targets, [{ endpoint: '[2001:db8::2]:443', handshakes: 2000 }]);
  });
});
