/**
 * Properties (fast-check): however the byte streams are cut into segments, the same
 * exchanges come out — heads reassembled, Content-Length and chunked bodies skipped exactly,
 * pipelined requests paired in order; random bytes never throw. Plus the stitcher's rules and
 * the late-packet tombstones, on small hand-made conversations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parseIfmap } from '../../src/capture/index.js';
import { analyzeCapture, type FlowAnalysis } from '../../src/flow/index.js';
import { PacketStitcher, retainPacket, type CopyFields } from '../../src/flow/stitch.js';
import { CRAFTED_IFMAP, Conversation, dockerPath, pcapBytes, type Who } from './craft.js';

interface Msg { method: string; path: string; status: number; body: string; chunked: boolean }

function request(m: Msg, i: number): string {
  return `${m.method} ${m.path} HTTP/1.1\r\nHost: h${i}\r\nX-Amzn-Trace-Id: Root=1-00000000-${String(i).padStart(24, '0')}\r\n\r\n`;
}

function response(m: Msg): string {
  if (m.method === 'HEAD' || m.status === 204 || m.status === 304) return `HTTP/1.1 ${m.status} X\r\nContent-Length: ${m.body.length}\r\n\r\n`;
  if (!m.chunked) return `HTTP/1.1 ${m.status} X\r\nContent-Length: ${m.body.length}\r\n\r\n${m.body}`;
  const half = Math.floor(m.body.length / 2);
  const chunks = [m.body.slice(0, half), m.body.slice(half)].filter((c) => c.length > 0);
  return `HTTP/1.1 ${m.status} X\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;
}

function expectedBody(m: Msg): number {
  return m.method === 'HEAD' || m.status === 204 || m.status === 304 ? 0 : m.body.length;
}

/** Sends `data` from `who` in segments cut at the given fractions. */
function sendCut(c: Conversation, who: Who, data: string, cuts: number[]): void {
  const points = [...new Set(cuts.map((f) => Math.floor(f * data.length)).filter((p) => p > 0 && p < data.length))].sort((a, b) => a - b);
  const sizes: number[] = [];
  let prev = 0;
  for (const p of points) { sizes.push(p - prev); prev = p; }
  c.send(who, data, sizes);
}

async function analyze(c: Conversation, stitched: boolean): Promise<FlowAnalysis> {
  const bytes = pcapBytes(c.frames, 'sll2');
  return (await analyzeCapture(Readable.from([Buffer.from(bytes)]), stitched ? { ifmap: parseIfmap(CRAFTED_IFMAP) } : {})).analysis;
}

const msgArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE'),
  path: fc.stringMatching(/^\/[a-z0-9]{0,12}$/),
  status: fc.constantFrom(200, 201, 204, 304, 404, 500),
  body: fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\n', '0', ' '), maxLength: 60 }),
  chunked: fc.boolean(),
});

test('property: any segmentation of pipelined keep-alive streams gives the same exchanges', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(msgArb, { minLength: 1, maxLength: 5 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
    fc.boolean(),
    fc.boolean(),
    async (msgs, reqCuts, resCuts, pipelined, viaDocker) => {
      const c = new Conversation({ client: ['172.31.0.10', 41000], server: ['172.31.5.20', 80], ...(viaDocker ? dockerPath() : {}) });
      c.handshake();
      if (pipelined) {
        sendCut(c, 'client', msgs.map((m, i) => request(m, i)).join(''), reqCuts);
        c.wait(500);
        sendCut(c, 'server', msgs.map(response).join(''), resCuts);
      } else {
        msgs.forEach((m, i) => {
          sendCut(c, 'client', request(m, i), reqCuts);
          c.wait(300);
          sendCut(c, 'server', response(m), resCuts);
          c.wait(200);
        });
      }
      c.close();
      const a = await analyze(c, viaDocker);
      assert.equal(a.exchanges.length, msgs.length);
      a.exchanges.forEach((ex, i) => {
        assert.equal(ex.request?.method, msgs[i].method);
        assert.equal(ex.request?.target, msgs[i].path);
        assert.equal(ex.request?.traceId?.root, `1-00000000-${String(i).padStart(24, '0')}`);
        assert.equal(ex.response?.status, msgs[i].status);
        assert.equal(ex.response?.bodyBytes, expectedBody(msgs[i]));
        assert.equal(ex.pipelined, pipelined && i > 0);
      });
      assert.deepEqual(a.anomalies, []);
      if (viaDocker) assert.equal(a.duplicates.maxCopies, 3);
    },
  ), { numRuns: 120 });
});

test('property: random payload bytes on a connection never throw', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.constantFrom('PA', 'A', 'FA', 'RA', 'S', 'SA')), { maxLength: 20 }),
    async (segments) => {
      const c = new Conversation({ client: ['10.0.0.1', 42000], server: ['10.0.0.2', 80] });
      for (const [fromClient, bytes, flags] of segments) c.emit(fromClient ? 'client' : 'server', flags, bytes).wait(100);
      const a = await analyze(c, false);
      assert.ok(a.connections.length <= 1 + segments.length);
    },
  ), { numRuns: 200 });
});

function fields(over: Partial<CopyFields> = {}): CopyFields {
  return { ipId: 7, seq: 1000, ack: 2000, flags: 0x18, window: 500, payloadLength: 10, payloadHash: 42, src: 1, dst: 2, srcPort: 3, dstPort: 80, ...over };
}

test('stitcher: copies at new points within the window are one packet; same point or late is a new one', () => {
  const s = new PacketStitcher(50_000);
  const ens5In = 0 * 8 + 1;
  const docker0Out = 1 * 8 + 2;
  const first = s.stitchAcrossInterfaces(fields(), ens5In, 1_000_000);
  assert.equal(first.first, true);
  // DNAT changed the destination: still the same packet.
  const copy = s.stitchAcrossInterfaces(fields({ dst: 9, dstPort: 8080 }), docker0Out, 1_000_009);
  assert.equal(copy.first, false);
  assert.equal(copy.packet, first.packet);
  assert.deepEqual(first.packet.hops, [ens5In, 0, docker0Out, 9]);
  // The same bytes again on ens5 In: a retransmission, not a copy.
  assert.equal(s.stitchAcrossInterfaces(fields(), ens5In, 1_000_020).first, true);
  // Different payload or seq: different packets.
  assert.equal(s.stitchAcrossInterfaces(fields({ payloadHash: 43 }), docker0Out, 1_000_030).first, true);
  assert.equal(s.stitchAcrossInterfaces(fields({ seq: 1001 }), docker0Out, 1_000_030).first, true);
  // After the window: new.
  assert.equal(s.stitchAcrossInterfaces(fields({ ipId: 99 }), ens5In, 2_000_000).first, true);
  assert.equal(s.stitchAcrossInterfaces(fields({ ipId: 99 }), docker0Out, 2_060_001).first, true);
  assert.equal(s.maxCopies, 2);
});

test('stitcher: packets out of the window are reused unless retained; a stale chain link is never followed', () => {
  const s = new PacketStitcher(50_000);
  const p0 = 1_000_000;
  const kept = s.stitch(fields({ seq: 1 }), 9, p0);
  retainPacket(kept);
  const dropped = s.stitch(fields({ seq: 2 }), 9, p0 + 1);
  const droppedHops = dropped.hops;
  // Both out of the window: the next new packet reuses the one nobody kept, never the kept one.
  const reused = s.stitch(fields({ seq: 3 }), 9, p0 + 100_000);
  assert.equal(reused, dropped);
  assert.equal(reused.hops, droppedHops, 'the hops array is reused too');
  assert.deepEqual(reused.hops, [9, 0]);
  assert.equal(kept.hops.length, 2);
  assert.equal(kept.firstUs, p0);
  // Many packets in one bucket (same fields but ipId → different hashes; same hash forced by
  // identical fields at distinct points) over several windows: lookups end, copies still fold.
  for (let i = 0; i < 2_000; i++) {
    const t = p0 + 200_000 + i * 30_000;
    const first = s.stitch(fields({ ipId: i & 3 }), 1, t);
    assert.equal(s.lastWasFirst, true);
    assert.equal(s.stitch(fields({ ipId: i & 3 }), 2, t + 5), first);
    assert.equal(s.lastWasFirst, false);
    assert.deepEqual(first.hops, [1, 0, 2, 5]);
  }
});

test('stitcher: thousands of packets inside one window — the table grows, every copy still folds into its own packet', () => {
  const s = new PacketStitcher(50_000);
  const before = s.tableSize;
  const firsts = [];
  for (let i = 0; i < 20_000; i++) firsts.push(s.stitch(fields({ seq: i * 7, ipId: i & 0xffff }), 9, 1_000_000 + i));
  assert.ok(s.tableSize > before && s.tableSize >= 20_000, `table ${before} → ${s.tableSize}`);
  assert.equal(new Set(firsts).size, 20_000);
  // Copies at another point, newest first and then oldest first, each one µs later.
  for (let i = 19_999; i >= 10_000; i--) assert.equal(s.stitch(fields({ seq: i * 7, ipId: i & 0xffff }), 10, 1_020_000 + (20_000 - i)), firsts[i], `copy ${i}`);
  for (let i = 0; i < 10_000; i++) assert.equal(s.stitch(fields({ seq: i * 7, ipId: i & 0xffff }), 10, 1_030_000 + i), firsts[i], `copy ${i}`);
  assert.equal(s.stitched, 20_000);
  // Out of the window the same fields are a new packet.
  s.stitch(fields({ seq: 0, ipId: 0 }), 10, 1_200_000);
  assert.equal(s.lastWasFirst, true);
});

test('stitcher: a released packet is reused only once out of the window, and only once', () => {
  const s = new PacketStitcher(50_000);
  const p0 = 1_000_000;
  const a = retainPacket(s.stitch(fields({ seq: 1 }), 9, p0));
  const b = retainPacket(s.stitch(fields({ seq: 2 }), 9, p0 + 10));
  // b is released while still inside the window: copies still find it, nothing reuses it yet.
  s.release(b);
  s.release(b);
  assert.equal(s.stitch(fields({ seq: 2 }), 10, p0 + 20), b);
  assert.deepEqual(b.hops, [9, 0, 10, 10]);
  // Out of the window: the unretained b is pooled; the retained a is not.
  const c = s.stitch(fields({ seq: 3 }), 9, p0 + 100_000);
  assert.equal(c, b);
  assert.notEqual(c, a);
  // a released once out of the window goes straight to the pool, once even if released twice.
  s.release(a);
  s.release(a);
  const d = s.stitch(fields({ seq: 4 }), 9, p0 + 100_001);
  const e = s.stitch(fields({ seq: 5 }), 9, p0 + 100_002);
  assert.equal(d, a);
  assert.notEqual(e, a);
  assert.deepEqual([d.firstUs, d.hops], [p0 + 100_001, [9, 0]]);
  // A copy of the scratch object is not the stitcher's: releasing it changes nothing.
  const scratchCopy = retainPacket({ ...a, scratch: true, copy: null, hops: [9, 0] });
  s.release(scratchCopy);
  assert.notEqual(s.stitch(fields({ seq: 6 }), 9, p0 + 100_003), scratchCopy);
});

test('a FIN sent again after the connection was summarised is counted, not a new connection', async () => {
  const c = new Conversation({ client: ['10.0.0.1', 43000], server: ['10.0.0.2', 80] });
  c.handshake().send('client', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').wait(200).send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const finSeq = c.seqOf('server');
  c.close('client').wait(1_000_000).emit('server', 'FA', '', { seq: finSeq });
  const a = await analyze(c, false);
  assert.equal(a.connections.length, 1);
  assert.equal(a.capture.packetsAfterClose, 1);
  assert.equal(a.connections[0].state, 'closed');
});
