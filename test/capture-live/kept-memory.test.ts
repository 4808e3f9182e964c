/**
 * Regression: the kept-packet bound counted packet bytes only, so 256 MiB of small packets
 * (plus an object and a view each) took ~1 GB of heap. Now each kept packet counts its bytes
 * plus KEPT_PACKET_OVERHEAD_BYTES, and the constant is checked against what a kept packet
 * really costs. A scripted engine replays a real tcpdump capture
 * (test/data/capture-live/ec2-any.pcap); no privileges, no timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PassThrough } from 'node:stream';
import { startCapture, parseIpLinkJson, KEPT_PACKET_OVERHEAD_BYTES, type CaptureEngine, type EngineExit, type LiveCaptureOptions } from '../../src/capture/live/index.js';
import { KeptPackets } from '../../src/capture/live/kept.js';
import type { PacketRecord } from '../../src/capture/index.js';

const PCAP = fs.readFileSync(new URL('../data/capture-live/ec2-any.pcap', import.meta.url));
const LINKS = parseIpLinkJson(fs.readFileSync(new URL('../data/capture-live/ec2-any.links.json', import.meta.url), 'utf8'));

/** Writes the capture in `chunkBytes` chunks (remembered), then waits for stop(). */
function scriptedEngine(chunkBytes: number): CaptureEngine & { chunks: Buffer[] } {
  const e = {
    chunks: [] as Buffer[],
    start() {
      const output = new PassThrough();
      let resolveExit!: (x: EngineExit) => void;
      const exited = new Promise<EngineExit>((r) => { resolveExit = r; });
      setImmediate(() => {
        for (let at = 0; at < PCAP.length; at += chunkBytes) {
          const chunk = Buffer.from(PCAP.subarray(at, at + chunkBytes));
          e.chunks.push(chunk);
          output.write(chunk);
        }
      });
      return {
        pid: 4242, argv: ['scripted'], output, ready: Promise.resolve(), exited,
        stop() { setImmediate(() => { output.end(); resolveExit({ code: 0, signal: null, stderr: '', stats: null }); }); },
      };
    },
  };
  return e;
}

const base = (engine: CaptureEngine): LiveCaptureOptions => ({ engine, links: LINKS, attribute: false, natRulesText: '', maxPackets: 30 });

test('the kept-packet budget counts each packet as its bytes plus the per-packet overhead', async () => {
  const all = await (await startCapture(base(scriptedEngine(4096)))).done;
  assert.equal(all.packets.length, 30);
  assert.equal(all.keptTruncated, false);
  const costs = all.packets.map((p) => p.data.length + KEPT_PACKET_OVERHEAD_BYTES);
  assert.equal(all.keptCostBytes, costs.reduce((a, b) => a + b, 0));
  for (const keep of [1, 7, 29]) {
    const budget = costs.slice(0, keep).reduce((a, b) => a + b, 0);
    // Exactly `keep` packets fit; one byte less and the last of them does not.
    const fits = await (await startCapture({ ...base(scriptedEngine(700)), maxKeptBytes: budget })).done;
    assert.equal(fits.packets.length, keep, `budget ${budget}`);
    assert.equal(fits.keptCostBytes, budget);
    assert.equal(fits.packetCount, 30, 'packets past the budget are still counted');
    assert.equal(fits.keptTruncated, true);
    assert.match(fits.warnings.join('\n'), new RegExp(`kept the first ${keep} packets in memory \\(${budget} bytes: ${KEPT_PACKET_OVERHEAD_BYTES} per packet plus its bytes\\); later packets were counted, not kept`));
    // The first packets are the ones kept (what -w holds), byte for byte.
    assert.deepEqual(fits.packets.map((p) => [p.index, Buffer.from(p.data).toString('hex')]), all.packets.slice(0, keep).map((p) => [p.index, Buffer.from(p.data).toString('hex')]));
    const short = await (await startCapture({ ...base(scriptedEngine(700)), maxKeptBytes: budget - 1 })).done;
    assert.equal(short.packets.length, keep - 1, `budget ${budget - 1}`);
  }
});

test('kept packets are copies: they hold none of the engine\'s pipe chunks', async () => {
  const engine = scriptedEngine(512);
  const r = await (await startCapture(base(engine))).done;
  const chunkBuffers = new Set(engine.chunks.map((c) => c.buffer));
  for (const p of r.packets) assert.equal(chunkBuffers.has(p.data.buffer as ArrayBuffer), false, `packet ${p.index} is a view into a pipe chunk`);
  // Overwriting the chunks changes nothing kept.
  const before = r.packets.map((p) => Buffer.from(p.data).toString('hex'));
  for (const c of engine.chunks) c.fill(0);
  assert.deepEqual(r.packets.map((p) => Buffer.from(p.data).toString('hex')), before);
});

test('KEPT_PACKET_OVERHEAD_BYTES covers what a kept small packet costs beyond its bytes (heap + array buffers, after gc)', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const N = 100_000;
  const LENGTH = 60; // SLL2 + IPv4 + TCP without payload: the smallest packet a port filter sees
  const bytes = new Uint8Array(LENGTH).fill(7);
  const record = { index: 0, interfaceId: 0, linkType: 276, tsSec: 0, tsNsec: 0, capturedLength: LENGTH, originalLength: LENGTH, data: bytes, comment: null, epbDirection: 0 } satisfies PacketRecord;
  const where = { ifindex: 1, interfaceName: 'lo', direction: 'in' as const };
  gc(); gc();
  const before = process.memoryUsage();
  const kept = new KeptPackets(Number.MAX_SAFE_INTEGER);
  for (let i = 1; i <= N; i++) { record.tsSec = i; kept.keep(record, i, where); }
  gc(); gc();
  const after = process.memoryUsage();
  assert.equal(kept.packets.length, N);
  const perPacket = (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / N;
  assert.ok(perPacket - LENGTH <= KEPT_PACKET_OVERHEAD_BYTES, `a kept ${LENGTH}-byte packet costs ${perPacket.toFixed(1)} B: ${(perPacket - LENGTH).toFixed(1)} B over its bytes, more than ${KEPT_PACKET_OVERHEAD_BYTES}`);
  assert.equal(kept.costBytes, N * (LENGTH + KEPT_PACKET_OVERHEAD_BYTES));
});
