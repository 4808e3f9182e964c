/**
 * One capture, three readers, one reading. A real `tcpdump -i any` capture of the lab's EC2
 * host under several faults (test/data/flow/lab-faults.pcap, see the README there) is given
 *  - to `flowtrace analyze FILE --ifmap … --json` (the CLI),
 *  - to the live capture engine as tcpdump's stream (the CaptureEngine seam), analysed as
 *    `flowtrace capture` analyses what it caught (analyzeLivePackets),
 *  - to the agent (runAgent with that engine), whose typed result follow maps to evidence —
 * and the three must read the same connections, milestones, exchanges, NAT and anomalies,
 * and so the same journeys and breaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { startCapture, type CaptureEngine, type EngineExit, type LinkInfo, type LiveCaptureOptions } from '../../src/capture/live/index.js';
import { parseIfmap } from '../../src/capture/index.js';
import { analyzeLivePackets, runAgent, type ResultMessage } from '../../src/agent/index.js';
import type { FlowAnalysis } from '../../src/flow/index.js';
import { connectionJourneys } from '../../src/journey/index.js';
import { serverEvidence } from '../../src/follow/index.js';

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');
const PCAP = path.join(dataDir, 'lab-faults.pcap');
const IFMAP = path.join(dataDir, 'lab-faults.ifmap');
const BYTES = fs.readFileSync(PCAP);
const LINKS: LinkInfo[] = [...parseIfmap(fs.readFileSync(IFMAP, 'utf8'))].map(([ifindex, name]) => ({
  ifindex, name, kind: null, master: null, peerIfindex: null, peerNetnsId: null, operstate: 'UP', mac: null, mtu: null,
}));

/** tcpdump's stream, replayed: the capture's bytes in uneven chunks, then a clean exit on stop. */
function replayEngine(): CaptureEngine {
  return {
    start() {
      const output = new PassThrough();
      let resolveExit!: (x: EngineExit) => void;
      const exited = new Promise<EngineExit>((r) => { resolveExit = r; });
      setImmediate(() => { for (let at = 0, i = 0; at < BYTES.length; i++) { const n = [1500, 7, 65536][i % 3]!; output.write(BYTES.subarray(at, at + n)); at += n; } });
      return {
        pid: 4242, argv: ['replay'], output, ready: Promise.resolve(), exited,
        stop() { setImmediate(() => { output.end(); resolveExit({ code: 0, signal: null, stderr: '', stats: null }); }); },
      };
    },
  };
}

const seams = (options: LiveCaptureOptions): LiveCaptureOptions => ({ ...options, engine: replayEngine(), links: LINKS, attribute: false, natRulesText: '' });

/** What the three must agree on: everything but the per-connection packet log (only the agent keeps one). */
function reading(a: FlowAnalysis): unknown {
  return {
    records: a.capture.records, tcpRecords: a.capture.tcpRecords, interfaces: a.capture.interfaces,
    connections: a.connections.map(({ packetLog: _l, packetsNotLogged: _n, ...c }) => c),
    exchanges: a.exchanges, natMappings: a.natMappings, anomalies: a.anomalies, duplicates: a.duplicates,
  };
}

async function viaAnalyze(): Promise<FlowAnalysis> {
  const io = memoryIO();
  const code = await main(['analyze', PCAP, '--ifmap', IFMAP, '--json'], io);
  assert.equal(code, 0, io.err.join(''));
  return JSON.parse(io.out.join('')) as FlowAnalysis;
}

async function viaCapture(): Promise<FlowAnalysis> {
  const capture = await startCapture(seams({ interfaces: ['any'], filter: 'tcp' }));
  await new Promise((r) => setTimeout(r, 50));
  const result = await capture.stop();
  assert.equal(result.packetCount, result.packets.length, 'every packet kept');
  return analyzeLivePackets(result.packets, capture.ifmap).analysis;
}

async function viaAgent(): Promise<ResultMessage> {
  const input = new PassThrough();
  const lines: string[] = [];
  let onLine: (() => void) | null = null;
  const running = runAgent({
    input, output: (t) => { for (const l of t.split('\n')) if (l.trim()) lines.push(l); onLine?.(); },
    startCapture: (o) => startCapture(seams(o)), readLinks: async () => LINKS, hostFacts: null,
  });
  const waitFor = async (type: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const m = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((x) => x.type === type);
      if (m) return m;
      await new Promise<void>((r) => { onLine = r; });
    }
  };
  await waitFor('hello');
  input.write(JSON.stringify({ type: 'start', ports: [80] }) + '\n');
  await waitFor('started');
  await new Promise((r) => setTimeout(r, 50));
  input.write(JSON.stringify({ type: 'stop' }) + '\n');
  const result = await waitFor('result') as unknown as ResultMessage;
  input.end();
  await running;
  return result;
}

test('analyze, capture and the agent read one capture the same way; follow maps the agent\'s reading to the same journeys', async () => {
  const analyzed = await viaAnalyze();
  const captured = await viaCapture();
  const agent = await viaAgent();
  assert.ok(agent.analysis, 'the agent returned its analysis');
  assert.ok(analyzed.connections.length >= 10, `a capture with many connections (${analyzed.connections.length})`);
  assert.deepEqual(reading(captured), reading(analyzed), 'capture reads what analyze reads');
  assert.deepEqual(reading(agent.analysis!), reading(analyzed), 'the agent reads what analyze reads');

  // The journeys: from analyze's reading, and from follow's evidence of the agent's reading.
  const fromAnalyze = connectionJourneys(analyzed);
  const evidence = serverEvidence(
    { target: 'replay', analysis: agent.analysis!, host: null, ports: agent.ports, filter: null, capturedPackets: agent.packets.captured, kernelDrops: null },
    [],
  );
  assert.deepEqual(connectionJourneys(evidence.analysis!), fromAnalyze);
  // The capture holds healthy connections and broken ones, in both directions of reading.
  const kinds = new Set(fromAnalyze.map((j) => j.break?.kind ?? 'none'));
  for (const k of ['none', 'stopped', 'refused']) assert.ok(kinds.has(k as never), `a ${k} journey in the capture: ${[...kinds].join(', ')}`);
});
