/**
 * The reading worker (src/flow/parallel.ts): a file read and decoded in a worker thread while
 * this one analyses gives the same analysis, byte for byte, as one thread doing everything —
 * on every capture of the flow goldens and the capture tests (pcap and pcapng, Ethernet,
 * SLL2 with stitching through NAT, several interfaces and sections, IPv6), on a bigger
 * generated one, on a SYN flood that hits the half-open bound; and a malformed record, an
 * abort and a missing file end it as the single-thread reading does.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parseIfmap } from '../../src/capture/index.js';
import { CaptureFormatError, InputError } from '../../src/errors.js';
import { analyzeCapture, type AnalyzeCaptureOptions } from '../../src/flow/index.js';
import { createBatchAnalyzer } from '../../src/flow/analyzer.js';
import { readFileInWorker } from '../../src/flow/parallel.js';
import { packetOnUndescribedInterface, synFlood, tempDir, writeInput } from '../hostile/inputs.js';
import { CRAFTED_IFMAP, Conversation, dockerPath, merge, pcapBytes } from './craft.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data');
const tmp = tempDir();
after(() => tmp.remove());

/** The analysis and the read summary, each way, as JSON. */
async function both(file: string, options: AnalyzeCaptureOptions = {}): Promise<[string, string]> {
  const one = await analyzeCapture(file, { ...options, readInWorker: false });
  const two = await analyzeCapture(file, { ...options, readInWorker: true });
  return [JSON.stringify({ analysis: one.analysis, read: one.read }), JSON.stringify({ analysis: two.analysis, read: two.read })];
}

function ifmapOf(file: string): Map<number, string> | undefined {
  const f = file.replace(/\.pcap(ng)?$/, '.ifmap');
  return existsSync(f) ? parseIfmap(readFileSync(f, 'utf8')) : undefined;
}

/** Many interleaved conversations through the Docker path (stitched, DNAT), some with trouble. */
function busyDockerCapture(conversations: number): Uint8Array {
  const convs: Conversation[] = [];
  for (let i = 0; i < conversations; i++) {
    const c = new Conversation({ client: [`10.8.${i >> 8}.${i & 255}`, 30000 + (i % 30000)], server: ['172.31.5.20', 80], startUs: 1_764_000_000_000_000 + i * 700, ...dockerPath() });
    convs.push(c);
    c.handshake();
    c.send('client', `GET /p/${i} HTTP/1.1\r\nHost: h\r\nX-Amzn-Trace-Id: Root=1-67891233-${String(i).padStart(24, '0')}\r\n\r\n`, i % 5 === 0 ? [10] : []);
    if (i % 9 === 4) { c.emit('server', 'RA'); continue; }
    c.send('server', `HTTP/1.1 200 OK\r\nContent-Length: ${i % 50}\r\n\r\n${'x'.repeat(i % 50)}`);
    c.close(i % 2 === 0 ? 'client' : 'server');
  }
  return pcapBytes(merge(...convs), 'sll2');
}

describe('the reading worker gives the same analysis as one thread', () => {
  const captures = [
    ...readdirSync(path.join(DATA, 'flow')).filter((f) => f.endsWith('.pcap')).map((f) => path.join(DATA, 'flow', f)),
    ...readdirSync(path.join(DATA, 'capture')).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(DATA, 'capture', f)),
  ];

  it('on every capture of the flow goldens and of the capture tests', async () => {
    assert.ok(captures.length >= 20, `${captures.length} captures`);
    for (const file of captures) {
      const ifmap = ifmapOf(file);
      const [one, two] = await both(file, ifmap ? { ifmap } : {});
      assert.equal(two, one, path.basename(file));
    }
  });

  it('on 3000 stitched conversations through DNAT, in each --keep mode', async () => {
    const file = writeInput(tmp.file('busy.pcap'), busyDockerCapture(3000));
    const ifmap = parseIfmap(CRAFTED_IFMAP);
    for (const keep of ['all', 'exchanges', 'anomalies'] as const) {
      const [one, two] = await both(file, { ifmap, keep, maxKept: 100_000 });
      assert.equal(two, one, keep);
      assert.equal((JSON.parse(one) as { analysis: { exchanges: unknown[] } }).analysis.exchanges.length, keep === 'anomalies' ? 0 : 3000);
    }
  });

  it('on a SYN flood past the half-open bound', async () => {
    const file = writeInput(tmp.file('flood.pcap'), synFlood(60_000));
    const [one, two] = await both(file, { maxMemoryMB: 120 });
    assert.equal(two, one);
    assert.ok((JSON.parse(one) as { analysis: { limits: { tables: { halfOpenConnections: { evicted: number } } } } }).analysis.limits.tables.halfOpenConnections.evicted > 0);
  });

  it('this thread reads the start itself and takes the records of the worker from any record on', async () => {
    // Interface blocks between packets and in a second section; stitched DNAT copies; a flood past a bound.
    const busy = writeInput(tmp.file('busy-handover.pcap'), busyDockerCapture(800));
    const flood = writeInput(tmp.file('flood-handover.pcap'), synFlood(30_000));
    const cases = [
      { file: path.join(DATA, 'capture', 'multi-if.pcapng'), options: {} },
      { file: path.join(DATA, 'capture', 'two-sections.pcapng'), options: {} },
      { file: busy, options: { ifmap: parseIfmap(CRAFTED_IFMAP), maxKept: 100_000 } },
      { file: flood, options: { maxMemoryMB: 120 } },
    ];
    for (const { file, options } of cases) {
      const one = await analyzeCapture(file, { ...options, readInWorker: false });
      const expected = JSON.stringify({ analysis: one.analysis, read: one.read });
      const records = one.read!.packets + one.read!.interfaces.length;
      for (const at of [0, 1, 2, 3, 5, 1000, 8191, 8192, 8193, 12_345, records - 1, records, records + 1]) {
        if (at < 0) continue;
        const analyzer = createBatchAnalyzer(options);
        const read = await readFileInWorker(file, analyzer, { handoverAt: at });
        assert.equal(JSON.stringify({ analysis: analyzer.finish(), read }), expected, `${path.basename(file)} handed over at record ${at}`);
      }
    }
  });

  it('a malformed record in the middle: the same partial analysis and the same error', async () => {
    const file = writeInput(tmp.file('undescribed.pcapng'), packetOnUndescribedInterface(5));
    const one = await analyzeCapture(file, { readInWorker: false, partialOnFormatError: true });
    const two = await analyzeCapture(file, { readInWorker: true, partialOnFormatError: true });
    assert.ok(two.formatError instanceof CaptureFormatError);
    assert.equal(two.formatError.message, one.formatError!.message);
    assert.deepEqual(two.formatError.facts, one.formatError!.facts);
    assert.equal(JSON.stringify(two.analysis), JSON.stringify(one.analysis));
    await assert.rejects(analyzeCapture(file, { readInWorker: true }), (err: unknown) => err instanceof CaptureFormatError && err.message === one.formatError!.message);
  });

  it('a missing file: the same InputError', async () => {
    const missing = tmp.file('nothing-here.pcap');
    await assert.rejects(analyzeCapture(missing, { readInWorker: true }), (err: unknown) => err instanceof InputError && /no such file/.test(err.message));
  });

  it('an abort: rejects with its reason at once, and the progress says how far the reading got', async () => {
    const file = writeInput(tmp.file('flood-abort.pcap'), synFlood(400_000));
    const controller = new AbortController();
    const reason = new Error('stop');
    const progress = { packets: 0, bytes: 0 };
    const running = analyzeCapture(file, { readInWorker: true, signal: controller.signal, progress });
    // Once the reading has got going (a batch or more analysed), stop it.
    while (progress.packets === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const t0 = performance.now();
    controller.abort(reason);
    await assert.rejects(running, (err: unknown) => err === reason);
    assert.ok(performance.now() - t0 < 1000);
    assert.ok(progress.packets > 0 && progress.packets < 400_000, `${progress.packets}`);
  });

  it('warnings come through (a truncated last record)', async () => {
    const bytes = Buffer.from(synFlood(1000));
    const file = tmp.file('cut.pcap');
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const warnings: string[][] = [[], []];
    const one = await analyzeCapture(file, { readInWorker: false, onWarning: (m) => warnings[0].push(m) });
    const two = await analyzeCapture(file, { readInWorker: true, onWarning: (m) => warnings[1].push(m) });
    assert.deepEqual(warnings[1], warnings[0]);
    assert.deepEqual(two.read, one.read);
    assert.ok(one.read!.truncated !== null);
  });
});
