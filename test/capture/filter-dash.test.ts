/**
 * Regression: FILTER words starting with '-' reached tcpdump as options. `flowtrace analyze
 * x.pcap -- -w /tmp/x` made the filter tcpdump write /tmp/x, and `flowtrace capture -- -w/tmp/x`
 * made the live (root) tcpdump write it. Now the expression follows `--` in tcpdump's argv:
 * libpcap rejects it (BAD_FILTER, exit 8) and nothing is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { tcpdumpArgv } from '../../src/capture/live/index.js';
import { DATA_DIR } from './helpers.js';

const tcpdumpPresent = spawnSync('tcpdump', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;
const tmp = mkdtempSync(path.join(tmpdir(), 'fttcapture-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CAPTURE = path.join(DATA_DIR, 'http-lo.pcap');

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, err: io.err.join('') };
}

describe('a FILTER word starting with - is never a tcpdump option', () => {
  for (const command of ['read', 'analyze']) {
    it(`${command} FILE -- -w OUT: BAD_FILTER, OUT not written`, { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
      const out = path.join(tmp, `${command}-injected.pcap`);
      const r = await cli([command, CAPTURE, '--', '-w', out]);
      assert.equal(r.code, 8, r.err);
      assert.match(r.err, /^error\[BAD_FILTER\]: filter '-w [^']+' rejected by libpcap/);
      assert.equal(existsSync(out), false);
    });
  }

  it('the live engine\'s argv puts the filter after --', () => {
    const argv = tcpdumpArgv({ interface: 'any', filter: '-w/tmp/x', snaplenBytes: 1600, bufferKiB: 4096, netns: null });
    assert.deepEqual(argv.slice(-2), ['--', '-w/tmp/x']);
  });

  it('capture -- -wOUT: BAD_FILTER, OUT not written', { skip: isRoot && tcpdumpPresent ? false : 'needs root and tcpdump (live capture)' }, async () => {
    const out = path.join(tmp, 'capture-injected.pcap');
    const r = await cli(['capture', '--no-follow-nat', '--for', '2s', '-q', '--', `-w${out}`]);
    assert.equal(r.code, 8, r.err);
    assert.match(r.err, /^error\[BAD_FILTER\]: /);
    assert.equal(existsSync(out), false);
  });
});
