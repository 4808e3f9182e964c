/**
 * Hostile captures beyond the interface blocks (issue 13, "the rest of this class"): a
 * malformed record in the middle, a file that is not a capture, a record claiming 300 MB,
 * a million section headers. Each ends in one clear line and its documented exit code, and
 * nothing read before the problem is lost: `analyze` prints the analysis of the packets
 * before it and says so, `read` keeps the lines it printed and says how many.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { analyzeCapture } from '../../src/flow/index.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { growthRatio, manySections, packetOnUndescribedInterface, synFlood, tempDir, writeInput } from './inputs.js';

const tmp = tempDir();
after(() => tmp.remove());

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('a malformed record after some packets', () => {
  const file = writeInput(tmp.file('undescribed.pcapng'), packetOnUndescribedInterface(5));

  it('analyze: the analysis of the 5 packets before it, then error[CAPTURE_FORMAT] saying so; exit 3', async () => {
    const r = await cli(['analyze', file]);
    assert.equal(r.code, EXIT.input, r.err);
    assert.match(r.out, /^capture: 5 packets \(5 TCP\)/);
    assert.match(r.out, /5 connections/);
    assert.match(r.err, /^error\[CAPTURE_FORMAT\]: pcapng enhanced packet block at byte \d+: packet on interface 7, but the section describes 1 interface\(s\); the analysis above covers the 5 packets before it\nhint: check that the file is a pcap or pcapng capture and was copied whole\n$/);
  });

  it('analyze --json: the same, as JSON on stdout', async () => {
    const r = await cli(['analyze', file, '--json']);
    assert.equal(r.code, EXIT.input);
    assert.equal((JSON.parse(r.out) as { capture: { records: number } }).capture.records, 5);
  });

  it('read: the 5 lines, then the error saying they were printed; exit 3', async () => {
    const r = await cli(['read', file]);
    assert.equal(r.code, EXIT.input);
    assert.equal(r.out.trim().split('\n').length, 5);
    assert.match(r.err, /; the 5 packets before it were printed\nhint: /);
  });

  it('a record claiming 300 MB (pcap): the packets before it are analysed, the error names the byte', async () => {
    const flood = synFlood(3);
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(300 * 1024 * 1024, 8);
    bad.writeUInt32LE(300 * 1024 * 1024, 12);
    const f = tmp.file('huge-record.pcap');
    writeFileSync(f, Buffer.concat([flood, bad, Buffer.alloc(64)]));
    const r = await cli(['analyze', f]);
    assert.equal(r.code, EXIT.input, r.err);
    assert.match(r.out, /^capture: 3 packets/);
    assert.match(r.err, /^error\[CAPTURE_FORMAT\]: pcap record at byte 252: captured length 314572800 is impossible \(more than 268435456\); the analysis above covers the 3 packets before it\nhint: /m);
  });

  it('not a capture at all: only the error and its hint (no empty analysis); exit 3', async () => {
    const f = tmp.file('text.pcap');
    writeFileSync(f, '12:00:00 a log line, not a capture\n');
    const r = await cli(['analyze', f]);
    assert.equal(r.code, EXIT.input);
    assert.equal(r.out, '');
    assert.equal(r.err, 'error[CAPTURE_FORMAT]: not a pcap or pcapng file (magic 0x31323a30), nor tcpdump text (line 1: "12:00:00 a log line, not a capture")\nhint: give a capture (tcpdump -w FILE) or the text tcpdump prints (tcpdump -nn, with -i any for the interfaces)\n');
  });

  it('tcpdump\'s text instead of a capture is read as one (issue 16): its packet is analysed, with what text cannot carry said', async () => {
    const f = tmp.file('text.pcap');
    writeFileSync(f, '12:00:00.000000 IP 10.0.0.1.80 > 10.0.0.2.5000: Flags [S], seq 1, win 512, length 0\n');
    const r = await cli(['analyze', f]);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.out, /^capture: 1 packets \(1 TCP\)/);
    assert.match(r.err, /warning: read as tcpdump text: 1 TCP packet, none with a payload/);
  });
});

describe('very many sections', () => {
  it('every packet of 100 000 sections is read and analysed; interfaces stay bounded', async () => {
    const { analysis, read } = await analyzeCapture(writeInput(tmp.file('sections.pcapng'), manySections(100_000)));
    assert.equal(read!.packets, 100_000);
    assert.equal(analysis.capture.records, 100_000);
    assert.deepEqual(analysis.capture.interfaces.map((i) => i.interface).sort(), ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5', 'eth6', 'eth7']);
  });

  it('10× more sections, at most 12× the time', async (t) => {
    const files = new Map([20_000, 200_000].map((n) => [n, writeInput(tmp.file(`sections-${n}.pcapng`), manySections(n))]));
    const { smallMs, largeMs, ratio } = await growthRatio((n) => analyzeCapture(files.get(n)!), 20_000);
    t.diagnostic(`20 k sections ${smallMs.toFixed(1)} ms, 200 k ${largeMs.toFixed(1)} ms: ×${ratio.toFixed(1)}`);
    assert.ok(ratio <= 12, `20 k sections ${smallMs.toFixed(1)} ms, 200 k ${largeMs.toFixed(1)} ms: ×${ratio.toFixed(1)}`);
  });
});
