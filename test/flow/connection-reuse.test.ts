/**
 * The analyzer reuses the connections it summarises without keeping anything (--keep
 * anomalies on a big capture). A reused connection must be exactly a new one: every field of
 * the connection, its two direction trackers, their HTTP streams and the pairing — checked
 * field by field against a fresh one after a busy life (handshake, data with a hole, a head
 * cut in the middle, a response, NAT, reset). And end to end: the same anomalies with and
 * without reuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { SharedBudget, flowBounds } from '../../src/flow/bounds.js';
import { Connection, type ConnectionContext } from '../../src/flow/connections.js';
import { Leg } from '../../src/flow/nat.js';
import { analyzeCapture, type FlowAnalysis, type FlowOptions } from '../../src/flow/index.js';
import type { StitchedPacket } from '../../src/flow/stitch.js';
import { CRAFTED_IFMAP, Conversation, DOCKER0, VETH, dockerPath, merge, pcapBytes } from './craft.js';
import { parseIfmap } from '../../src/capture/index.js';

const SYN = 0x02; const ACK = 0x10; const PSH = 0x08; const RST = 0x04;

function packet(): StitchedPacket {
  return {
    hash: 1, check: 2, firstUs: 0, hops: [8, 0], src: 1, dst: 2, srcPort: 3, dstPort: 4, owner: null, ownerId: -1, side: 0, leg: 0, firstLeg: 0,
    nextSameHash: null, scratch: false, copy: null, retained: false, serial: 0, nextSerial: -1,
  };
}

test('a reused connection is field for field a new one', () => {
  const ctx: ConnectionContext = { budget: new SharedBudget(flowBounds()), nextExchangeId: () => 1, summariseEarly: () => {}, wantTexts: () => true };
  const used = new Connection(1, 10, ctx);
  const bytes = new TextEncoder().encode('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo');
  const res = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel');
  const leg = new Leg().set(1, 2, 3, 4, null, null);
  leg.interfaceMask = 3;
  used.legs.push(leg);
  used.bucketKeys.push(42);
  used.nat = [{ fromLeg: 0, toLeg: 1, fromInterface: 0, toInterface: 1, sender: 'a' }];
  used.start(SYN, 'a', 10, packet());
  used.a.onSegment(SYN, 1000, 100, bytes, 0, 0, 0, 10, packet());
  used.onFlags(SYN | ACK, 'b', 20, packet());
  used.b.onSegment(SYN | ACK, 5000, 0, res, 0, 0, 0, 20, packet());
  used.onFlags(ACK, 'a', 30, packet());
  // A hole first (bytes 1001…1010 missing), then the data: held back, then delivered.
  used.a.onSegment(ACK | PSH, 1011, 100, bytes, 10, bytes.length - 10, bytes.length - 10, 40, packet());
  used.a.onSegment(ACK | PSH, 1001, 100, bytes, 0, 10, 10, 41, packet());
  used.b.onSegment(ACK | PSH, 5001, 0, res, 0, res.length, res.length, 50, packet());
  used.a.onSegment(ACK | PSH, 1001, 100, bytes, 0, 10, 10, 90_000, packet()); // sent again
  used.a.onSegment(ACK, 1200, 100, bytes, 0, 0, 0, 90_001, packet()); // past a gap
  used.onFlags(RST, 'b', 60, packet());
  used.a.finish();
  used.b.finish();
  used.decideRolesByPorts(2, 4);
  used.summarized = true;
  used.list = 3;
  used.idleTimedOut = true;
  used.evicted = true;
  used.synOnly = true;
  used.touchSeq = 99;
  used.earlySelected = true;
  used.earlyExchangeIds.push(5);
  assert.ok(used.exchanges.length >= 1, 'the busy life made exchanges');
  assert.ok(used.a.packets > 0 && used.b.zeroWindows > 0 && used.a.retransmissions > 0, 'and counted');
  used.dropHeld();
  assert.equal(ctx.budget.heldExchanges + ctx.budget.heldBackBytes + ctx.budget.headBytes, 0, 'what it held is given back to the shared bounds');
  // The HTTP parts are made on the first byte and kept for the next use: a fresh one with them made.
  const fresh = new Connection(7, 1000, ctx);
  fresh.exchangePairing();
  void fresh.a.http;
  void fresh.b.http;
  const reused = used.reuse(7, 1000);
  // Its legs are kept for reuse (addLeg takes them back).
  assert.equal(reused.spareLegs.length, 1);
  fresh.spareLegs.push(...reused.spareLegs);
  // And the copies of packets it retained (stitch.ts CopyOwner), to be overwritten.
  fresh.copies.push(...reused.copies);
  assert.deepStrictEqual(reused, fresh);
});

/** Many ordinary connections, with trouble in a few of them: reused objects must not carry it over. */
function busyCapture(stitched: boolean): Uint8Array {
  const convs: Conversation[] = [];
  for (let i = 0; i < 400; i++) {
    const c = new Conversation({
      client: [`10.9.${i >> 8}.${i & 255}`, 20000 + i], server: ['172.31.5.20', 80], startUs: 1_764_000_000_000_000 + i * 1500,
      ...(stitched ? dockerPath() : {}),
    });
    convs.push(c);
    c.handshake();
    const req = `GET /i/${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const seq = c.seqOf('client');
    c.send('client', req);
    if (i % 7 === 3) c.wait(300_000).emit('client', 'PA', req, { seq }); // retransmitted
    if (i % 11 === 5) { c.emit('server', 'RA'); continue; } // reset by the server
    if (i % 13 === 6) { c.close(); continue; } // no response
    if (i % 17 === 2) c.emit('client', 'A', '', { window: 0 }); // zero window
    if (i % 19 === 4) c.emit('client', 'PA', 'x', { onlyPoints: [0] }); // seen on ens5 only
    c.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    c.close(i % 2 === 0 ? 'client' : 'server');
  }
  return pcapBytes(merge(...convs), stitched ? 'sll2' : 'ethernet');
}

for (const stitched of [false, true]) {
  test(`the same analysis whether connections are reused or all kept open to the end${stitched ? ' (stitched, NAT)' : ''}`, async () => {
    const bytes = busyCapture(stitched);
    const run = async (options: FlowOptions): Promise<FlowAnalysis> => (await analyzeCapture(Readable.from([Buffer.from(bytes)]), {
      maxKept: 100_000, ...(stitched ? { ifmap: parseIfmap(CRAFTED_IFMAP) } : {}), ...options,
    })).analysis;
    // Lingering "forever", no connection is summarised before the end: none is reused.
    const reference = await run({ keep: 'all', lingerSec: 1e6 });
    const kinds = new Set(reference.anomalies.map((a) => a.kind));
    assert.ok(reference.anomalies.length > 60 && kinds.size >= 3, `anomalies: ${[...kinds].join(', ')}`);
    const connectionsOf = (a: FlowAnalysis): unknown[] => a.connections.map(({ lastTs: _l, durationMs: _d, ...rest }) => rest);
    for (const keep of ['all', 'anomalies'] as const) {
      const reused = await run({ keep });
      assert.deepEqual(reused.anomalies, reference.anomalies, keep);
      assert.equal(reused.limits.connectionsNotKept + reused.connections.length, 400);
      if (keep === 'all') {
        assert.deepEqual(reused.exchanges, reference.exchanges);
        assert.deepEqual(reused.natMappings, reference.natMappings);
        assert.deepEqual(connectionsOf(reused), connectionsOf(reference));
      }
    }
  });
}

test('a late copy of a packet of a connection summarised and reused since does not count for the new one', async () => {
  const client: [string, number] = ['10.9.9.9', 40000];
  const a = new Conversation({ client, server: ['172.31.5.20', 80], ...dockerPath() });
  a.handshake().send('client', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n').send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').close();
  // The same client port again right away: the old connection is summarised (and its object reused) at this SYN.
  const b = new Conversation({ client, server: ['172.31.5.20', 80], ...dockerPath(), startUs: a.nowUs + 1_000, clientIsn: 7_000_000 });
  b.handshake().send('client', 'GET /b HTTP/1.1\r\nHost: h\r\n\r\n').send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').close();
  // a's last ACK reaches docker0 and the veth only after b's handshake (still inside the stitch window).
  const held = a.frames.slice(-2);
  assert.deepEqual(held.map((f) => f.ifindex), [DOCKER0, VETH]);
  const late = held.map((f, i) => ({ ...f, tsUs: b.frames[8].tsUs + 1 + i }));
  const frames = [...a.frames.slice(0, -2), ...b.frames, ...late].sort((x, y) => x.tsUs - y.tsUs);
  const { analysis } = await analyzeCapture(Readable.from([Buffer.from(pcapBytes(frames, 'sll2'))]), { ifmap: parseIfmap(CRAFTED_IFMAP) });
  assert.equal(analysis.connections.length, 2);
  const second = analysis.connections[1];
  assert.equal(second.observations, b.frames.length, 'only its own copies');
  assert.equal(second.packets * 3, b.frames.length);
});

test('thousands of connections open at once (the tables grow): every packet still finds its own connection', async () => {
  const convs: Conversation[] = [];
  for (let i = 0; i < 3000; i++) {
    // Distinct ISNs, as real connections have (identical packets 10 µs apart would be one packet to the stitcher).
    const c = new Conversation({ client: [`10.8.${i >> 8}.${i & 255}`, 30000 + (i % 7)], server: ['172.31.5.20', 80], startUs: 1_764_000_000_000_000 + i * 10, clientIsn: 1_000_000 + i * 99_991, serverIsn: 500_000_000 + i * 77_777, ...dockerPath() });
    c.handshake().wait(100_000).send('client', `GET /i/${i} HTTP/1.1\r\nHost: h\r\n\r\n`).send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').close();
    convs.push(c);
  }
  const { analysis } = await analyzeCapture(Readable.from([Buffer.from(pcapBytes(merge(...convs), 'sll2'))]), { ifmap: parseIfmap(CRAFTED_IFMAP), maxKept: 10_000 });
  assert.equal(analysis.connections.length, 3000);
  assert.equal(analysis.exchanges.length, 3000);
  for (const [i, c] of analysis.connections.entries()) {
    assert.equal(c.client.address, `10.8.${i >> 8}.${i & 255}`);
    assert.equal(c.handshakeSeen, true);
    assert.equal(c.observations, 3 * c.packets);
    assert.deepEqual(c.nat.map((m) => `${m.from} → ${m.to}`), ['172.31.5.20:80 → 172.17.0.2:8080']);
  }
  for (const [i, x] of analysis.exchanges.entries()) {
    assert.equal(x.request?.target, `/i/${i}`);
    assert.equal(x.client.address, `10.8.${i >> 8}.${i & 255}`);
    assert.equal(x.response?.status, 200);
  }
  assert.equal(analysis.anomalies.length, 0);
});
