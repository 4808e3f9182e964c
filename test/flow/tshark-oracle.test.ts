/**
 * tshark as an oracle for the TCP analysis: on single-interface views (the ens5 leg of an
 * -i any capture, split out with `tshark -Y 'sll.ifindex == 2' -w`), flowtrace's counts of
 * retransmissions (data + SYN), keep-alives and out-of-order segments must equal the number
 * of packets tshark flags `tcp.analysis.retransmission`, `.keep_alive`, `.out_of_order`.
 * (Lost segments and zero windows are counted differently on purpose: tshark flags every
 * packet after a gap / with a zero window, flowtrace counts gaps never filled and episodes.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeCapture } from '../../src/flow/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) assert.fail(`tshark is needed for this test (apt-get install tshark): ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function tsharkCounts(file: string): { retransmissions: number; keepAlives: number; outOfOrder: number } {
  const out = tshark(['-r', file, '-T', 'fields', '-e', 'tcp.analysis.retransmission', '-e', 'tcp.analysis.keep_alive', '-e', 'tcp.analysis.out_of_order']);
  const c = { retransmissions: 0, keepAlives: 0, outOfOrder: 0 };
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [r, k, o] = line.split('\t');
    if (r) c.retransmissions++;
    if (k) c.keepAlives++;
    if (o) c.outOfOrder++;
  }
  return c;
}

async function ourCounts(file: string): Promise<{ retransmissions: number; keepAlives: number; outOfOrder: number; timeTravel: boolean; tcpRecords: number }> {
  const { analysis } = await analyzeCapture(file, { stitch: false, maxKept: 100_000 });
  const c = { retransmissions: 0, keepAlives: 0, outOfOrder: 0, timeTravel: analysis.capture.recordsOutOfTimeOrder > 0, tcpRecords: analysis.capture.tcpRecords };
  for (const x of analysis.connections) {
    c.retransmissions += x.toServer.retransmissions + x.toClient.retransmissions + (x.handshake?.synRetransmissions ?? 0) + (x.handshake?.synAckRetransmissions ?? 0);
    c.keepAlives += x.toServer.keepAlives + x.toClient.keepAlives;
    c.outOfOrder += x.toServer.outOfOrder + x.toClient.outOfOrder;
  }
  return c;
}

for (const [name, ens5Only] of [['lab-faults', true], ['crafted-retransmission', true], ['crafted-dnat-missing', true], ['crafted-loss-window', false], ['crafted-syn-unanswered', false]] as const) {
  test(`tshark agrees on retransmissions, keep-alives and reordering: ${name}${ens5Only ? ' (ens5 leg)' : ''}`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-tshark-'));
    try {
      let file = path.join(DATA, `${name}.pcap`);
      if (ens5Only) {
        const leg = path.join(dir, 'ens5.pcap');
        tshark(['-r', file, '-Y', 'sll.ifindex == 2', '-w', leg]);
        file = leg;
      }
      const theirs = tsharkCounts(file);
      const { timeTravel, tcpRecords, ...ours } = await ourCounts(file);
      assert.equal(timeTravel, false);
      assert.ok(tcpRecords > 0);
      assert.deepEqual(ours, theirs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

import { TCPDUMP_CORPUS as CORPUS, requireCorpus } from '../helpers/corpus.js';

test('tshark agrees on every TCP capture of the tcpdump corpus (those in time order)', { timeout: 600_000 }, async () => {
  requireCorpus();
  const differ: string[] = [];
  let compared = 0;
  for (const f of readdirSync(CORPUS).filter((n) => /\.(pcap|pcapng)$/.test(n)).sort()) {
    const file = path.join(CORPUS, f);
    let ours;
    try { ours = await ourCounts(file); } catch { continue; } // unreadable: the corpus test covers it
    const { timeTravel, tcpRecords, ...counts } = ours;
    // Timestamps that jump back (fuzzed captures): the timing rules cannot apply.
    if (timeTravel || tcpRecords < 3) continue;
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.analysis.retransmission', '-e', 'tcp.analysis.keep_alive', '-e', 'tcp.analysis.out_of_order'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) continue; // tshark cannot read it either
    const theirs = { retransmissions: 0, keepAlives: 0, outOfOrder: 0 };
    for (const line of r.stdout.split('\n')) {
      if (!line) continue;
      const [a, b, c] = line.split('\t');
      if (a) theirs.retransmissions++;
      if (b) theirs.keepAlives++;
      if (c) theirs.outOfOrder++;
    }
    if (theirs.retransmissions + theirs.keepAlives + theirs.outOfOrder + counts.retransmissions + counts.keepAlives + counts.outOfOrder === 0) continue;
    compared++;
    if (JSON.stringify(counts) !== JSON.stringify(theirs)) differ.push(`${f}: tshark ${JSON.stringify(theirs)} flowtrace ${JSON.stringify(counts)}`);
  }
  assert.ok(compared >= 3, `only ${compared} corpus captures had something to compare`);
  assert.deepEqual(differ, []);
});
