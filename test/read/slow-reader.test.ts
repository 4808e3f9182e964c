/**
 * Regression: `flowtrace read big.pcap | less` (any reader slower than the decoder) grew
 * without bound — every line was handed to stdout at once and queued in memory: 1 M packets
 * with -X reached V8's 4 GB heap limit and died with a FATAL stack trace. Now, after each
 * chunk of input, read waits until stdout can take more (CliIO.stdoutDrained), so what is
 * queued stays about one chunk's worth of lines. Seen with:
 * `flowtrace read 1M.pcap -X | (sleep 60; cat >/dev/null)`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { generateHttpCapture, PACKETS_PER_EXCHANGE } from '../../bench/gen-http-capture.js';
import { run } from '../../src/cli/commands/read.js';
import { memoryIO } from '../../src/cli/io.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'fttread-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const EXCHANGES = 3000; // ~4.5 MB: several 1 MiB read chunks
const FILE = path.join(tmp, 'http.pcap');
generateHttpCapture({ exchanges: EXCHANGES, out: FILE });
const PACKETS = EXCHANGES * PACKETS_PER_EXCHANGE;

describe('read waits for a slow reader of its output', () => {
  for (const filter of [[], ['tcp']]) {
    it(`holds the reading back while stdout is full${filter.length ? ' (with a FILTER)' : ''}`, async () => {
      const io = memoryIO();
      let release!: () => void;
      const released = new Promise<void>((resolve) => { release = resolve; });
      let full = true;
      let asked!: () => void;
      const firstWait = new Promise<'waited'>((resolve) => { asked = () => resolve('waited'); });
      // stdout fills up once the first lines are in it (a pager showing its first screen).
      io.stdoutDrained = () => {
        if (!full || io.out.length === 0) return Promise.resolve();
        asked();
        return released;
      };
      const lines = (): number => io.out.join('').split('\n').length - 1;
      const done = run([FILE, ...filter], io);
      try {
        const first = await Promise.race([firstWait, done.then(() => 'finished' as const)]);
        assert.equal(first, 'waited', 'read wrote everything without waiting for stdout');
        const queued = lines();
        assert.ok(queued > 0 && queued < PACKETS / 2, `${queued} of ${PACKETS} lines queued while stdout was full`);
      } finally {
        full = false;
        release();
      }
      assert.equal(await done, 0);
      assert.equal(lines(), PACKETS);
    });
  }
});
