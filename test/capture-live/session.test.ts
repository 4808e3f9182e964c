/**
 * The live session with a scripted engine (the CaptureEngine seam): a real tcpdump capture
 * (test/data/capture-live/ec2-any.pcap, see the README there) is replayed in random
 * chunks, so names, directions, limits, stop, the analysis and the pcapng export are
 * checked without privileges and without timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { startCapture, parseIpLinkJson, livePcapngBytes, type CaptureEngine, type EngineSpec, type EngineExit, type LiveCaptureOptions } from '../../src/capture/live/index.js';
import { CaptureParser } from '../../src/capture/index.js';
import { CaptureError } from '../../src/errors.js';
import { analyzeLivePackets, packetHopComments } from '../../src/agent/index.js';
import { planSecretMasks } from '../../src/agent/index.js';

const PCAP = fs.readFileSync(new URL('../data/capture-live/ec2-any.pcap', import.meta.url));
const LINKS = parseIpLinkJson(fs.readFileSync(new URL('../data/capture-live/ec2-any.links.json', import.meta.url), 'utf8'));
const STATS = '30 packets captured\n30 packets received by filter\n0 packets dropped by kernel\n';

/** An engine that "captures" the given bytes in the given chunk sizes, then waits for stop(). */
function scriptedEngine(bytes: Uint8Array, chunkSizes: number[], opts: { failWith?: string; exitAfterData?: boolean } = {}): CaptureEngine & { specs: EngineSpec[]; stops: number } {
  const e = {
    specs: [] as EngineSpec[],
    stops: 0,
    start(spec: EngineSpec) {
      e.specs.push(spec);
      const output = new PassThrough();
      let resolveExit!: (x: EngineExit) => void;
      const exited = new Promise<EngineExit>((r) => { resolveExit = r; });
      const finish = (stderr: string, code: number) => { output.end(); resolveExit({ code, signal: null, stderr, stats: null }); };
      let ready: Promise<void>;
      if (opts.failWith) {
        ready = Promise.reject(new CaptureError('BAD_FILTER', opts.failWith, 'hint'));
        ready.catch(() => {});
        setImmediate(() => finish(`tcpdump: ${opts.failWith}\n`, 1));
      } else {
        ready = Promise.resolve();
        setImmediate(() => {
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = chunkSizes[i % chunkSizes.length];
            output.write(Buffer.from(bytes.subarray(at, at + n)));
            at += n;
          }
          if (opts.exitAfterData) setImmediate(() => finish('tcpdump: pcap_loop: The interface disappeared\n', 1));
        });
      }
      return {
        pid: 4242, argv: ['scripted'], output, ready, exited,
        stop() { e.stops++; setImmediate(() => { output.end(); resolveExit({ code: 0, signal: null, stderr: STATS, stats: { captured: 30, receivedByFilter: 30, droppedByKernel: 0, droppedByInterface: null } }); }); },
      };
    },
  };
  return e;
}

const base = (engine: CaptureEngine): LiveCaptureOptions => ({ engine, links: LINKS, attribute: false, natRulesText: '' });

test('packets keep the interface names and directions of the capture namespace', async () => {
  const cap = await startCapture({ ...base(scriptedEngine(PCAP, [4096])), maxPackets: 30 });
  const r = await cap.done;
  assert.equal(r.stoppedBy, 'count');
  assert.equal(r.packets.length, 30);
  const count = (name: string, dir: string) => r.packets.filter((p) => p.interfaceName === name && p.direction === dir).length;
  assert.equal(count('ens5', 'in') + count('ens5', 'out'), 10);
  assert.equal(count('docker0', 'in') + count('docker0', 'out'), 10);
  assert.equal(count('veth1a2b3c4', 'in') + count('veth1a2b3c4', 'out'), 10);
  assert.equal(r.packets[0].interfaceName, 'ens5');
  assert.equal(r.packets[0].direction, 'in');
});

test('chunking of the engine stream does not change what is captured (fast-check)', async () => {
  const reference = await (await startCapture({ ...base(scriptedEngine(PCAP, [PCAP.length])), maxPackets: 30 })).done;
  await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
    const r = await (await startCapture({ ...base(scriptedEngine(PCAP, sizes)), maxPackets: 30 })).done;
    assert.deepEqual(r.packets.map((p) => [p.index, p.interfaceName, p.direction, p.data.length, p.tsNsec]), reference.packets.map((p) => [p.index, p.interfaceName, p.direction, p.data.length, p.tsNsec]));
  }), { numRuns: 25 });
});

test('maxPackets stops the engine once and ignores what tcpdump flushes after', async () => {
  const engine = scriptedEngine(PCAP, [100]);
  const r = await (await startCapture({ ...base(engine), maxPackets: 5 })).done;
  assert.equal(r.packets.length, 5);
  assert.equal(r.packetCount, 5);
  assert.equal(engine.stops, 1);
});

test('maxCapturedBytes bounds the capture; maxKeptBytes bounds memory and says so', async () => {
  const r = await (await startCapture({ ...base(scriptedEngine(PCAP, [512])), maxCapturedBytes: 1000 })).done;
  assert.equal(r.stoppedBy, 'bytes');
  assert.ok(r.capturedBytes >= 1000 && r.packetCount < 30);
  const k = await (await startCapture({ ...base(scriptedEngine(PCAP, [512])), maxPackets: 30, maxKeptBytes: 500 })).done;
  assert.equal(k.packetCount, 30);
  assert.ok(k.packets.length < 30 && k.keptTruncated);
  assert.match(k.warnings.join('\n'), /counted, not kept/);
});

test('an engine that exits by itself ends the capture with its reason as a warning', async () => {
  const r = await (await startCapture({ ...base(scriptedEngine(PCAP, [4096], { exitAfterData: true })) })).done;
  assert.equal(r.stoppedBy, 'engine-exit');
  assert.equal(r.packetCount, 30);
  assert.match(r.warnings.join('\n'), /tcpdump stopped by itself: tcpdump: pcap_loop: The interface disappeared/);
});

test('an engine failing before it listens: startCapture throws its error', async () => {
  await assert.rejects(startCapture(base(scriptedEngine(PCAP, [1], { failWith: "can't parse filter expression: syntax error" }))), /syntax error/);
});

test('a stream cut in the middle of a packet: the packets before it are kept, the cut is reported', async () => {
  const cut = PCAP.subarray(0, PCAP.length - 7);
  const cap = await startCapture(base(scriptedEngine(cut, [300])));
  await new Promise((r) => setTimeout(r, 20));
  const r = await cap.stop();
  assert.equal(r.packetCount, 29);
  assert.ok(r.summary?.truncated);
});

test('interfaces: names become ifindex primitives, an unknown name lists the real ones', async () => {
  const engine = scriptedEngine(PCAP, [4096]);
  const cap = await startCapture({ ...base(engine), interfaces: ['ens5', 'docker0'], filter: 'port 80', natRulesText: '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080' });
  await cap.stop();
  const ens5 = LINKS.find((l) => l.name === 'ens5')!.ifindex;
  const docker0 = LINKS.find((l) => l.name === 'docker0')!.ifindex;
  assert.equal(engine.specs[0].interface, 'any');
  assert.equal(engine.specs[0].filter, `(ifindex ${ens5} or ifindex ${docker0}) and ((port 80 or port 8080))`);
  await assert.rejects(startCapture({ ...base(scriptedEngine(PCAP, [1])), interfaces: ['eth9'] }), (err: unknown) => {
    assert.ok(err instanceof CaptureError);
    assert.equal(err.code, 'UNKNOWN_INTERFACE');
    assert.match(err.hint, /any, lo, ens5, docker0, veth1a2b3c4/);
    return true;
  });
});

test('the analysis of the replayed capture: one exchange, stitched ens5 → docker0 → veth, hop comments, masked pcapng', async () => {
  const cap = await startCapture({ ...base(scriptedEngine(PCAP, [4096])), maxPackets: 30 });
  const r = await cap.done;
  const a = analyzeLivePackets(r.packets, cap.ifmap);
  const ex = a.findByTraceId('Root=1-67891233-abcdef012345678912345678');
  assert.ok(ex);
  assert.deepEqual(ex.request?.hops.map((h) => `${h.interface} ${h.direction}`), ['ens5 in', 'docker0 out', 'veth1a2b3c4 out']);
  assert.deepEqual(ex.response?.hops.map((h) => `${h.interface} ${h.direction}`), ['veth1a2b3c4 in', 'docker0 in', 'ens5 out']);
  assert.equal(a.findByTraceId('1-00000000-000000000000000000000000'), null);
  assert.equal(a.lines.length, 30);
  assert.match(a.lines[0], /ens5\s+In\s+IP 172\.31\.0\.10\.\d+ > 172\.31\.5\.20\.80: Flags \[S\]/);
  const comments = packetHopComments(r.packets, a.analysis);
  const requestNotes = [...comments.values()].filter((c) => c.includes('request hop'));
  assert.equal(requestNotes.length, 3);
  const plan = planSecretMasks(r.packets);
  const { bytes, masked } = livePcapngBytes(r.packets, cap.ifmap, comments, { maskSecrets: true, mask: (data, linkType) => plan.mask(linkType, data) });
  assert.equal(plan.values, 6); // Authorization (request) and Set-Cookie (response), on each of the three interfaces
  assert.equal(masked, 6);
  assert.ok(!Buffer.from(bytes).includes('fixture-secret'));
  assert.ok(!Buffer.from(bytes).includes('s3cr3t-from-server'));
  assert.ok(r.packets.some((p) => Buffer.from(p.data).includes('fixture-secret')), 'the kept packets are not changed');
  const names: string[] = [];
  const seen: string[] = [];
  const parser = new CaptureParser({ onInterface: (i) => names.push(`${i.name}/${i.linkType}`), onPacket: (p) => { if (p.comment) seen.push(p.comment); } });
  parser.push(bytes);
  parser.end();
  assert.deepEqual(names, ['ens5/276', 'docker0/276', 'veth1a2b3c4/276']);
  assert.equal(seen.length, comments.size);
});
