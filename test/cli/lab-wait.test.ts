/**
 * `flowtrace lab fault` / `heal` / `demo` while another process owns the lab session: they say they are
 * waiting (a silent 30 s wait looked like a hang), and Ctrl-C while waiting stops them with
 * nothing changed (INTERRUPTED, exit 130). Root only: it needs the lab.
 *
 * A child process holds the session (labUp, as a test run would) until its stdin closes, then
 * takes the lab down if it built it.
 */
import { test, after } from 'node:test';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { main } from '../../src/cli/main.js';
import { memoryIO, type CliIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { labStatus } from '../../src/lab/index.js';
import { PACKAGE_ROOT } from '../../src/self.js';

after(() => rmSync('/tmp/ftt-lab-wait-demo', { recursive: true, force: true }));
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'needs root: the lab is built from network namespaces';

const HOLDER = `
import { labUp, labDown } from './src/lab/index.ts';
const s = await labUp();
process.stdout.write('held\\n');
process.stdin.resume();
process.stdin.on('end', async () => { if (!s.alreadyUp) await labDown(); process.exit(0); });
`;

/** io whose Ctrl-C is pressed as soon as the command says it waits. */
function interruptWhenWaiting(): CliIO & { out: string[]; err: string[] } {
  const io = memoryIO();
  let handler: (() => void) | null = null;
  const stderr = io.stderr;
  io.onInterrupt = (h) => { handler = h; return () => { handler = null; }; };
  io.stderr = (t) => { stderr(t); if (/waiting for it to finish/.test(t)) handler?.(); };
  return io;
}

test('fault, heal and demo while another process holds the lab: a waiting line, then Ctrl-C stops them, nothing changed', { skip }, async () => {
  const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLDER], { cwd: PACKAGE_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    holder.stdout!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    while (!out.includes('held')) {
      if (holder.exitCode !== null) assert.fail(`the holder exited (${holder.exitCode}) before holding the lab`);
      await once(holder.stdout!, 'data');
    }
    const faultsBefore = labStatus().faults;
    for (const args of [['lab', 'fault', 'app-slow'], ['lab', 'heal']]) {
      const io = interruptWhenWaiting();
      const code = await main(args, io);
      const err = io.err.join('');
      assert.equal(code, EXIT.interrupted, `${args.join(' ')}: ${err}`);
      assert.match(err, new RegExp(`^lab is in use by pid ${holder.pid}; waiting for it to finish \\(up to 30 s\\)…\\nerror\\[INTERRUPTED\\]: lab fault/heal was interrupted while waiting for the lab\\nhint: nothing was changed\\n$`));
    }
    // demo while the lab is someone else's: says so after 'building the lab…', Ctrl-C leaves it alone.
    const io = interruptWhenWaiting();
    const code = await main(['demo', '--no-https', '--out', '/tmp/ftt-lab-wait-demo'], io);
    assert.equal(code, EXIT.interrupted, io.err.join(''));
    assert.match(io.err.join(''), new RegExp(`^lab is in use by pid ${holder.pid}; waiting for it to finish \\(up to \\d+ s\\)…\\nerror\\[INTERRUPTED\\]: `));
    assert.ok(labStatus().up, 'the lab is still up');
    assert.deepEqual(labStatus().faults, faultsBefore, 'no fault turned on or off');
  } finally {
    holder.stdin!.end();
    if (holder.exitCode === null) await once(holder, 'exit');
  }
});
