/**
 * Regression: `flowtrace capture -i lo udp port 9999 | head -1` left tcpdump running. head
 * exits after one line, flowtrace's next write fails with EPIPE and bin.ts exits at once — but
 * tcpdump runs in its own process group and ends only at its own next write, which a quiet
 * filter may never make (found orphaned, parent 1, long after). Now the tcpdump PID the
 * capture started is ended when flowtrace exits. Needs root (live capture on lo).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { selfCliArgv } from '../../src/self.js';

const isRoot = process.getuid?.() === 0;
const PORT = 39_517;
const HANG_BOUND_MS = 20_000;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

test('capture | head -1: tcpdump does not outlive flowtrace', { skip: isRoot ? false : 'needs root (live capture on lo)', timeout: 60_000 }, async () => {
  const [node, ...rest] = selfCliArgv();
  const child = spawn(node, [...rest, 'capture', '-i', 'lo', 'udp', 'port', String(PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let tcpdumpPid = 0;
  const started = new Promise<void>((resolve) => child.stderr.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
    const m = /\(tcpdump pid (\d+)\)/.exec(stderr);
    if (m && tcpdumpPid === 0) { tcpdumpPid = Number(m[1]); }
    if (tcpdumpPid !== 0 && /Ctrl-C to stop/.test(stderr)) resolve();
  }));
  const exited = once(child, 'exit');
  const sock = dgram.createSocket('udp4');
  try {
    await started;
    // One line read, then the reader goes away, as head does.
    sock.send('a', PORT, '127.0.0.1');
    await once(child.stdout, 'data');
    child.stdout.destroy();
    // The next packet makes flowtrace write into the closed pipe; then the line goes quiet.
    sock.send('b', PORT, '127.0.0.1');
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    // tcpdump is not our child: its end is seen by polling. The bound only turns a hang into a failure.
    const giveUpAt = performance.now() + HANG_BOUND_MS;
    while (alive(tcpdumpPid)) {
      assert.ok(performance.now() < giveUpAt, `tcpdump ${tcpdumpPid} still runs after flowtrace exited`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    sock.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    if (tcpdumpPid !== 0 && alive(tcpdumpPid)) process.kill(tcpdumpPid, 'SIGKILL'); // only when the test failed
  }
});
