/**
 * A SYN flood (issue 13): 2 M SYNs from distinct sources — a 140 MB pcap that took 3.9 GB
 * and 70 s — must stay within the memory bound with the flood named: the half-open
 * connections beyond their bound are forgotten (the most recent kept), counted, and
 * summed up as one `syn-flood` finding with its sources, targets, rate and time span.
 *
 * Peak RSS is measured with /usr/bin/time around the CLI, as growth over the same CLI on a
 * tiny capture (so the runtime's own size — tsx under the tests, about 35 MB more than the
 * build — is not counted): at most 150 MB minus the built CLI's own ~70 MB. The bench
 * (`npm run bench -- hostile`) measures the built CLI's whole RSS beside tshark.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeCapture, type Anomaly, type FlowAnalysis } from '../../src/flow/index.js';
import { selfCliArgv } from '../../src/self.js';
import { Conversation, merge, pcapBytes } from '../flow/craft.js';
import { synFlood, tempDir, writeInput } from './inputs.js';

const FLOOD_SYNS = 2_000_000;
/** The bound, less what the built CLI itself takes on a tiny capture (67 MB measured). */
const MAX_GROWTH_MIB = 150 - 70;

const tmp = tempDir();
after(() => tmp.remove());

interface Measured { code: number | null; stdout: string; stderr: string; peakRssMiB: number }

/** The CLI under /usr/bin/time (peak RSS), the reading worker off so the growth is the engine's. */
function measureCli(args: string[]): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-flood-time-'));
  const timeFile = path.join(dir, 'time');
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...selfCliArgv(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOWTRACE_READING_WORKER: 'off' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
    child.on('close', (code) => {
      const peakRssMiB = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) / 1024;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, peakRssMiB });
    });
  });
}

function flood(analysis: FlowAnalysis): Anomaly | undefined {
  return analysis.anomalies.find((a) => a.kind === 'syn-flood');
}

describe('the issue\'s SYN flood: 2 M SYNs from distinct sources', { timeout: 300_000 }, () => {
  let file: string;
  let tiny: string;
  before(() => {
    // Written in parts: the test never holds the 152 MB at once.
    file = tmp.file('flood-2m.pcap');
    writeFileSync(file, synFlood(0, 0, true));
    for (let start = 0; start < FLOOD_SYNS; start += 100_000) appendFileSync(file, synFlood(100_000, start, false));
    tiny = writeInput(tmp.file('tiny.pcap'), synFlood(10));
  });

  it(`analyze --json: exit 0, the flood named with its numbers, peak RSS growth ≤ ${MAX_GROWTH_MIB} MiB`, async (t) => {
    const small = await measureCli(['analyze', tiny, '--json']);
    const big = await measureCli(['analyze', file, '--json']);
    t.diagnostic(`peak RSS ${big.peakRssMiB.toFixed(0)} MiB (tiny capture: ${small.peakRssMiB.toFixed(0)} MiB)`);
    assert.equal(big.code, 0, big.stderr);
    const analysis = JSON.parse(big.stdout) as FlowAnalysis;
    const f = flood(analysis);
    assert.ok(f?.flood, 'a syn-flood anomaly');
    assert.equal(f.connectionId, 0);
    assert.equal(f.severity, 'error');
    assert.equal(f.flood.handshakes, FLOOD_SYNS);
    const t2 = analysis.limits.tables.halfOpenConnections;
    assert.equal(f.flood.evicted, t2.evicted);
    assert.equal(t2.evicted, FLOOD_SYNS - t2.max, 'all but the most recent bound\'s worth forgotten');
    assert.equal(t2.peak, t2.max);
    assert.ok(!f.flood.sourcesExact && Math.abs(f.flood.sources - FLOOD_SYNS) < FLOOD_SYNS * 0.03, `${f.flood.sources} sources (HyperLogLog: ±2 %)`);
    assert.deepEqual(f.flood.topSources, [], 'no source sent 1 % of them');
    assert.deepEqual(f.flood.targets, [{ endpoint: '172.31.5.20:80', handshakes: FLOOD_SYNS }]);
    assert.equal(f.flood.firstTs, 1_700_000_000);
    assert.equal(f.flood.lastTs, 1_700_000_000 + (FLOOD_SYNS - 1) * 10 / 1e6);
    assert.ok(Math.abs(f.flood.perSecond! - 100_000) < 10, `${f.flood.perSecond}/s`);
    assert.match(f.message, /^2 M handshakes never completed in 20\.0 s \(100 k\/s\), from about [12](\.\d+)? M sources \(none sent 1 % of them\) to 172\.31\.5\.20:80; 1\.9\d M half-open connections were forgotten to bound memory/);
    // Every SYN is counted: the kept summaries and the others.
    assert.equal(analysis.connections.length + analysis.limits.connectionsNotKept, FLOOD_SYNS);
    assert.match(big.stderr, /^warning: to stay within --max-memory 150 MB: 1\.9\d M half-open connections forgotten, the [\d.]+( k)? most recent kept; raise --max-memory to keep more$/m);
    assert.ok(big.peakRssMiB - small.peakRssMiB <= MAX_GROWTH_MIB, `peak RSS ${big.peakRssMiB.toFixed(0)} MiB, ${(big.peakRssMiB - small.peakRssMiB).toFixed(0)} MiB over a tiny capture`);
  });

  it('the text says it: the finding, its target, and the bound', async () => {
    const r = await measureCli(['analyze', file, '--keep', 'anomalies']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✗ syn-flood: 2 M handshakes never completed in 20\.0 s \(100 k\/s\)/m);
    assert.match(r.stdout, /^ {2}targets {2}172\.31\.5\.20:80 ×2 M$/m);
    assert.match(r.stdout, /^bounds \(--max-memory 150 MB\): 1\.9\d M half-open connections forgotten, the [\d.]+( k)? most recent kept; raise --max-memory to keep more$/m);
  });
});

describe('what a flood is, and what it is not', () => {
  it('33 sources: counted exactly, each listed with its SYNs', async () => {
    // 33 sources × 100 SYNs each, from new ports, 1 ms apart.
    const convs: Conversation[] = [];
    for (let i = 0; i < 3300; i++) {
      const c = new Conversation({ client: [`203.0.113.${i % 33}`, 1024 + Math.floor(i / 33)], server: ['10.0.0.5', 443], startUs: 1_764_000_000_000_000 + i * 1000 });
      c.emit('client', 'S');
      convs.push(c);
    }
    const { analysis } = await analyzeCapture(writeInput(tmp.file('33.pcap'), pcapBytes(merge(...convs), 'ethernet')));
    const f = flood(analysis)!;
    assert.ok(f.flood);
    assert.equal(f.flood.handshakes, 3300);
    assert.equal(f.flood.sources, 33);
    assert.equal(f.flood.sourcesExact, true);
    assert.equal(f.flood.evicted, 0, 'under the half-open bound: nothing forgotten');
    assert.equal(f.flood.topSources.length, 10);
    for (const s of f.flood.topSources) assert.deepEqual([/^203\.0\.113\.\d+$/.test(s.address), s.handshakes], [true, 100]);
    assert.deepEqual(f.flood.targets, [{ endpoint: '10.0.0.5:443', handshakes: 3300 }]);
    assert.match(f.message, /^3300 handshakes never completed in 3\.3 s \(1000\/s\), from 33 sources \(most: 203\.0\.113\.\d+ 100, /);
    // The connections themselves are still summarised (the bound was not reached).
    assert.equal(analysis.anomalies.filter((a) => a.kind === 'syn-unanswered').length, 2000);
  });

  it('a few unanswered SYNs are not a flood', async () => {
    const { analysis } = await analyzeCapture(writeInput(tmp.file('few.pcap'), synFlood(500)));
    assert.equal(flood(analysis), undefined);
    assert.equal(analysis.anomalies.filter((a) => a.kind === 'syn-unanswered').length, 500);
  });

  it('many SYNs answered and completed are not a flood', async () => {
    const convs: Conversation[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = new Conversation({ client: [`10.1.${i >> 8}.${i & 255}`, 40000], server: ['10.0.0.5', 80], startUs: 1_764_000_000_000_000 + i * 100 });
      c.handshake().close();
      convs.push(c);
    }
    const { analysis } = await analyzeCapture(writeInput(tmp.file('fine.pcap'), pcapBytes(merge(...convs), 'ethernet')));
    assert.equal(flood(analysis), undefined);
    assert.equal(analysis.limits.tables.halfOpenConnections.evicted, 0);
  });

  it('--max-memory below its floor is a usage error', async () => {
    const r = await measureCli(['analyze', tmp.file('few.pcap'), '--max-memory', '64']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[USAGE\]: --max-memory must be a whole number of megabytes, at least 120, not '64'\n/);
  });

  it('--max-memory raises the bounds: more half-open connections kept', async () => {
    const file = writeInput(tmp.file('flood-200k.pcap'), synFlood(200_000));
    const at = async (mb: number): Promise<FlowAnalysis> => (await analyzeCapture(file, { maxMemoryMB: mb })).analysis;
    const [a, b] = [await at(150), await at(600)];
    assert.ok(b.limits.tables.halfOpenConnections.max > 4 * a.limits.tables.halfOpenConnections.max);
    assert.equal(b.limits.maxMemoryMB, 600);
    assert.equal(flood(b)!.flood!.evicted, 200_000 - b.limits.tables.halfOpenConnections.max);
  });
});
