/**
 * Regression: the controller going away (ssh dropped, the parent died) left the agent's tcpdump
 * running until its own lifetime cap (capture duration + 15 s). When only the agent's stdout
 * closed, the agent noticed nothing while it captured (it writes nothing between `started`
 * and `result`), and its next write hit EPIPE, on which bin.ts exits at once — tcpdump, in
 * its own process group, ran on. Now the agent stops its capture and ends the tcpdump PID it
 * started when its stdout closes or its stdin ends. A real agent (local transport) captures
 * on lo. Needs root; skipped otherwise, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { selfCliArgv } from '../../src/self.js';

const SKIP = process.getuid?.() === 0 ? false : 'needs root: the agent captures with tcpdump';
/** Only turns a hang into a failure; the agent's capture lasts 60 s, tcpdump's cap 75 s. */
const GONE_BOUND_MS = 10_000;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** The engine PID (`timeout`, when the capture has a duration bound) and its children (tcpdump). */
function engineProcesses(enginePid: number): number[] {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${enginePid}/task/${enginePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* gone already */ }
  return [enginePid, ...children];
}

async function waitGone(pids: number[], what: string): Promise<void> {
  const giveUpAt = performance.now() + GONE_BOUND_MS;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0) return;
    assert.ok(performance.now() < giveUpAt, `${what}: ${left.join(', ')} still running ${GONE_BOUND_MS} ms after the controller went away`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Gone = 'stdout closed, stdin open' | 'stdout closed, then a request' | 'both pipes closed';

for (const how of ['stdout closed, stdin open', 'stdout closed, then a request', 'both pipes closed'] as Gone[]) {
  test(`the controller goes away (${how}): the agent ends its tcpdump and exits`, { skip: SKIP, timeout: 60_000 }, async () => {
    const argv = [...selfCliArgv(), 'agent'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdin.on('error', () => { /* the agent may be gone when we write */ });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let engine: number[] = [];
    try {
      child.stdin.write('{"type":"start","id":"a","interfaces":["lo"],"ports":[9],"maxDurationMs":60000}\n');
      for (let i = 0; i < 400 && !out.includes('"started"'); i++) await new Promise((r) => setTimeout(r, 25));
      const line = out.split('\n').find((l) => l.includes('"started"'));
      assert.ok(line, `the capture started: ${out} ${err}`);
      const enginePid = (JSON.parse(line) as { enginePid: number }).enginePid;
      engine = engineProcesses(enginePid);
      assert.ok(engine.every(alive) && engine.length === 2, `timeout and tcpdump run: ${engine.join(', ')}`);

      child.stdout.destroy();
      if (how === 'stdout closed, then a request') child.stdin.write('{"type":"hello"}\n');
      if (how === 'both pipes closed') child.stdin.end();

      await waitGone(engine, 'tcpdump');
      await waitGone([child.pid!], 'the agent');
      await exited;
      assert.equal(child.exitCode, 0, err);
      assert.equal(err, '', 'nothing said on stderr (nobody is listening, and it is not an error)');
    } finally {
      // Leave nothing behind, whatever failed: the PIDs started here, by PID.
      if (alive(child.pid!)) child.kill('SIGKILL');
      for (const pid of engine) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
}
