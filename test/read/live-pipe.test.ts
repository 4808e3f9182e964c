/**
 * Regression: `tcpdump -i any -U -w - | flowtrace read -` printed nothing while tcpdump ran:
 * lines were written in 64 KiB batches, and a quiet live pipe takes minutes to fill one (or
 * never does). Now what a chunk of input gave is written as soon as the reader waits for the
 * next chunk. Seen with: `(cat x.pcap; sleep 5) | flowtrace read - > out & sleep 2; wc -l out` → 0.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/commands/read.js';
import { memoryIO } from '../../src/cli/io.js';
import { DATA_DIR } from '../capture/helpers.js';

const CAPTURE = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));

// A hang is this test's failure: the bound turns it into a failed test instead of a stuck run.
const HANG_BOUND = { timeout: 30_000 };

describe('read - from a pipe that stays open', () => {
  for (const filter of [[], ['tcp']]) {
    it(`prints the packets received so far before the input ends${filter.length ? ' (with a FILTER)' : ''}`, HANG_BOUND, async () => {
      const stdin = new PassThrough();
      const io = memoryIO(stdin);
      let firstOutput!: () => void;
      const printed = new Promise<void>((resolve) => { firstOutput = resolve; });
      io.stdout = (t) => { io.out.push(t); firstOutput(); };
      const done = run(['-', '-t', ...filter], io);
      stdin.write(CAPTURE); // the writer stays open: a live tcpdump
      await printed;
      const lines = io.out.join('').split('\n').filter((l) => l !== '');
      assert.ok(lines.length > 0);
      assert.match(lines[0], /^IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\]/);
      stdin.end();
      assert.equal(await done, 0);
      const all = io.out.join('').split('\n').filter((l) => l !== '');
      assert.equal(all.length, 24); // every packet of the file, once
    });
  }
});
