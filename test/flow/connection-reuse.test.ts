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
import { Connection } from '../../src/flow/connections.js';
import { analyzeCapture, type FlowAnalysis } from '../../src/flow/index.js';
import type { StitchedPacket } from '../../src/flow/stitch.js';
import { Conversation, merge, pcapBytes } from './craft.js';

const SYN = 0x02; const ACK = 0x10; const PSH = 0x08; const RST = 0x04;

function packet(): StitchedPacket {
  return {
    hash: 1, check: 2, firstUs: 0, hops: [8, 0], src: 1, dst: 2, srcPort: 3, dstPort: 4, owner: null, side: 0, leg: 0, firstLeg: 0,
    nextSameHash: null, scratch: false, copy: null, retained: false, serial: 0, nextSerial: -1,
  };
}

test('a reused connection is field for field a new one', () => {
  const nextId = (): number => 1;
  const used = new Connection(1, 10, nextId);
  const bytes = new TextEncoder().encode('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo');
  const res = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel');
  used.legs.push({ aAddr: 1, aPort: 2, bAddr: 3, bPort: 4, aText: '0.0.0.1', bText: '0.0.0.3', interfaceMask: 3 });
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
  used.inFinals = true;
  used.idleTimedOut = true;
  assert.ok(used.pairing.all.length >= 1, 'the busy life made exchanges');
  assert.ok(used.a.packets > 0 && used.b.zeroWindows > 0 && used.a.retransmissions > 0, 'and counted');
  assert.deepStrictEqual(used.reuse(7, 1000), new Connection(7, 1000, nextId));
});

/** Many ordinary connections, with trouble in a few of them: reused objects must not carry it over. */
function busyCapture(): Uint8Array {
  const convs: Conversation[] = [];
  for (let i = 0; i < 400; i++) {
    const c = new Conversation({ client: [`10.9.${i >> 8}.${i & 255}`, 20000 + i], server: ['172.31.5.20', 80], startUs: 1_764_000_000_000_000 + i * 1500 });
    convs.push(c);
    c.handshake();
    const req = `GET /i/${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const seq = c.seqOf('client');
    c.send('client', req);
    if (i % 7 === 3) c.wait(300_000).emit('client', 'PA', req, { seq }); // retransmitted
    if (i % 11 === 5) { c.emit('server', 'RA'); continue; } // reset by the server
    if (i % 13 === 6) { c.close(); continue; } // no response
    if (i % 17 === 2) c.emit('client', 'A', '', { window: 0 }); // zero window
    c.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    c.close(i % 2 === 0 ? 'client' : 'server');
  }
  return pcapBytes(merge(...convs), 'ethernet');
}

test('the same anomalies whether connections are reused (--keep anomalies) or kept (--keep all)', async () => {
  const bytes = busyCapture();
  const run = async (keep: 'all' | 'anomalies'): Promise<FlowAnalysis> => (await analyzeCapture(Readable.from([Buffer.from(bytes)]), { keep, maxKept: 100_000 })).analysis;
  const [all, anomalies] = [await run('all'), await run('anomalies')];
  const kinds = new Set(all.anomalies.map((a) => a.kind));
  assert.ok(all.anomalies.length > 60 && kinds.size >= 3, `anomalies: ${[...kinds].join(', ')}`);
  assert.deepEqual(anomalies.anomalies, all.anomalies);
  assert.equal(anomalies.limits.connectionsNotKept, 400);
});
