/**
 * Regression: `flowtrace read FILE` stopped by Ctrl-C exited 130 without a word, where
 * analyze and follow say `error[INTERRUPTED]: …` and a hint. Now read says it too, once, after
 * the lines already printed (they stay printed). Real CLI process, real SIGINT; the input is a
 * pipe that stays open (a live `tcpdump -U -w - | flowtrace read -`), so read is still running
 * when the signal comes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { selfCliArgv } from '../../src/self.js';
import { DATA_DIR } from '../capture/helpers.js';

const CAPTURE = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));
const PACKETS_IN_CAPTURE = 24;
// A hang is this test's failure: the bound turns it into a failed test instead of a stuck run.
const HANG_BOUND = { timeout: 60_000 };

describe('read interrupted by Ctrl-C', () => {
  for (const filter of [[], ['tcp']]) {
    it(`keeps what it printed, then error[INTERRUPTED] and a hint; exit 130${filter.length ? ' (with a FILTER)' : ''}`, HANG_BOUND, async () => {
      const [node, ...rest] = selfCliArgv();
      const child = spawn(node!, [...rest, 'read', '-', '-t', ...filter], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
      const allPrinted = new Promise<void>((resolve) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.split('\n').length - 1 >= PACKETS_IN_CAPTURE) resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        child.stdin.write(CAPTURE); // stdin stays open: read waits for more packets
        await allPrinted;
        child.kill('SIGINT');
        assert.equal(await exited, 130, err);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        child.stdin.destroy();
      }
      const lines = out.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, PACKETS_IN_CAPTURE, 'the lines printed before Ctrl-C stay');
      assert.match(lines[0]!, /^IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\]/);
      assert.match(err, new RegExp(`^error\\[INTERRUPTED\\]: read was interrupted after ${PACKETS_IN_CAPTURE} packets\\nhint: [^\\n]+\\n$`));
    });
  }
});
