/**
 * Regression: takeLab (test/dns/lab-session.ts, the lab helper of the dns and http lab tests)
 * waited silently for up to 600 s whenever any lab was up — even an idle one left by
 * `flowtrace lab up`, whose owner had long exited, so the tests hung for ten minutes and then
 * failed. Now an idle lab is taken over (its faults healed, left up afterwards), and a wait for
 * a live owner is said once on stderr, with the owner's pid. Root only: it needs the lab.
 *
 * takeLab runs in a child process (its own session, as a test file's process has); another
 * child holds the session (labUp, as a test run would) until its stdin closes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { labDown, labStatus } from '../../src/lab/index.js';
import { PACKAGE_ROOT, selfCliArgv } from '../../src/self.js';
import { LAB_SKIP } from './lab-session.js';

// A wait that never ends is the failure here: the bound turns it into a failed test.
const HANG_BOUND = { timeout: 300_000 };

const TAKER = `
import { takeLab, releaseLab } from './test/dns/lab-session.ts';
import { labStatus } from './src/lab/index.ts';
await takeLab();
const s = labStatus();
process.stdout.write(JSON.stringify({ pid: process.pid, up: s.up, owner: s.sessionOwnerPid, faults: s.faults }) + '\\n');
await releaseLab();
`;

const HOLDER = `
import { labUp } from './src/lab/index.ts';
await labUp();
process.stdout.write('held\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

function tsModule(source: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { cwd: PACKAGE_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
}

function collect(child: ChildProcess): { out: () => string; err: () => string; closed: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { out: () => out, err: () => err, closed };
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const argv = [...selfCliArgv(), ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 700_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lab-session takeLab', { skip: LAB_SKIP }, () => {
  /** Whether `flowtrace lab up` below built the lab (then it is ours to take down). */
  let builtHere = false;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (builtHere) await labDown();
  });

  it('takes over a lab that is up with no owner (flowtrace lab up exited): no wait, faults healed, left up', HANG_BOUND, async () => {
    const up = cli(['lab', 'up', '--json']);
    assert.equal(up.status, 0, up.stderr);
    builtHere = (JSON.parse(up.stdout) as { alreadyUp: boolean }).alreadyUp === false;
    const fault = cli(['lab', 'fault', 'app-down']);
    assert.equal(fault.status, 0, fault.stderr);
    assert.equal(labStatus().sessionOwnerPid, null, 'the lab is up and nobody owns it');

    // Before: this waited the whole FT_LAB_WAIT_S for the idle lab to go away, then failed.
    const taker = tsModule(TAKER, { ...process.env, FT_LAB_WAIT_S: '60' });
    children.push(taker);
    const r = collect(taker);
    assert.equal(await r.closed, 0, r.err());
    const seen = JSON.parse(r.out()) as { pid: number; up: boolean; owner: number | null; faults: string[] };
    assert.equal(seen.up, true);
    assert.equal(seen.owner, seen.pid, 'takeLab claimed the session of the idle lab');
    assert.deepEqual(seen.faults, [], 'the fault left on was healed before the tests ran');
    assert.match(r.err(), /^lab-session: using the lab that was up with no owner; healing the faults left on: app-down\n$/);
    const afterwards = labStatus();
    assert.equal(afterwards.up, true, 'a lab takeLab did not build stays up');
    assert.deepEqual(afterwards.faults, []);
  });

  it('waits for a live owner, saying so once on stderr with its pid', HANG_BOUND, async () => {
    const holder = tsModule(HOLDER);
    children.push(holder);
    const h = collect(holder);
    while (!h.out().includes('held')) {
      if (holder.exitCode !== null) assert.fail(`the holder exited (${holder.exitCode}) before holding the lab: ${h.err()}`);
      await once(holder.stdout!, 'data');
    }
    const taker = tsModule(TAKER, { ...process.env, FT_LAB_WAIT_S: '240' });
    children.push(taker);
    const r = collect(taker);
    // Before: nothing was ever written; the bound above failed the test.
    while (!r.err().includes('\n')) {
      if (taker.exitCode !== null) assert.fail(`takeLab ended (${taker.exitCode}) without waiting: ${r.err()}`);
      await once(taker.stderr!, 'data');
    }
    assert.match(r.err(), new RegExp(`^lab-session: the lab is in use by pid ${holder.pid} \\([^\\n]*\\); waiting for it to finish \\(up to 240 s, FT_LAB_WAIT_S\\)\\n$`));
    holder.stdin!.end(); // the owner finishes: takeLab goes on
    assert.equal(await h.closed, 0);
    assert.equal(await r.closed, 0, r.err());
    assert.equal((r.err().match(/in use by/g) ?? []).length, 1, 'said once');
    const seen = JSON.parse(r.out()) as { pid: number; owner: number | null };
    assert.equal(seen.owner, seen.pid);
  });
});
