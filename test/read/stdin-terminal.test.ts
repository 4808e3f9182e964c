/**
 * Regression: `flowtrace read -` / `flowtrace analyze -` typed with stdin left on the terminal
 * waited forever for capture bytes nobody types (with or without a FILTER). The CLI hands
 * readCapture the stdin *stream*, and only the '-' string was checked for a TTY. Now any
 * stream that is a terminal is refused at once: INPUT, exit 3, one line and a hint.
 * Seen with: `sleep 5 | script -qc 'flowtrace read -' /dev/null` (stdin a pty, never written).
 * The same for a terminal given by name with a FILTER (`flowtrace analyze /dev/tty tcp`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { selfCliArgv } from '../../src/self.js';

/** A stream that says it is a terminal (as process.stdin on a tty) and never sends a byte. */
function terminal(): PassThrough & { isTTY: boolean } {
  return Object.assign(new PassThrough(), { isTTY: true });
}

// A hang is this test's failure: the bound turns it into a failed test instead of a stuck run.
const HANG_BOUND = { timeout: 30_000 };

describe('stdin on a terminal is refused, not waited on', () => {
  for (const args of [['read', '-'], ['read', '-r', '-'], ['read', '-', 'tcp'], ['analyze', '-'], ['analyze', '-', 'tcp', 'port', '80']]) {
    it(`flowtrace ${args.join(' ')}`, HANG_BOUND, async () => {
      const stdin = terminal();
      const io = memoryIO(stdin);
      const code = await main(args, io);
      const err = io.err.join('');
      assert.equal(code, 3, err);
      assert.equal(err, 'error[INPUT]: stdin is a terminal, not a capture\nhint: pipe a capture in, e.g. tcpdump -i any -w - | flowtrace read -, or give a file name\n');
      assert.equal(io.out.join(''), '');
      stdin.destroy();
    });
  }
});

/** Runs flowtrace under a real pseudo-terminal (util-linux script), stdin open and never written. */
function underTerminal(args: string[]): Promise<{ code: number | null; out: string }> {
  const command = [...selfCliArgv(), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { out += t; });
  return new Promise((resolve) => child.on('close', (code) => { child.stdin.end(); resolve({ code, out }); }));
}

const scriptPresent = spawnSync('script', ['--version']).status === 0;

describe('a terminal given by name is refused too (a real pty)', () => {
  for (const args of [['read', '/dev/tty'], ['read', '/dev/stdin', 'tcp'], ['analyze', '/dev/tty', 'tcp']]) {
    it(`flowtrace ${args.join(' ')}`, { ...HANG_BOUND, skip: scriptPresent ? false : 'script (util-linux) not installed' }, async () => {
      const r = await underTerminal(args);
      assert.equal(r.code, 3, r.out);
      assert.match(r.out, new RegExp(`error\\[INPUT\\]: ${args[1]} is a terminal, not a capture`));
    });
  }
});
