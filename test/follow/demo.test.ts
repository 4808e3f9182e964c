/**
 * `flowtrace demo` end to end (root: it builds the lab): with a fault it prints the verdict
 * and the stitched path (with the agent, and once more over ssh, agentless), writes the HTML
 * and JSON reports and takes the lab down; Ctrl-C in
 * the middle of a walk still takes it down (exit 130). When someone else's lab is already up
 * the demo leaves it up, so the "nothing left" checks only run when the demo built the lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selfCliArgv } from '../../src/self.js';
import { labStatus } from '../../src/lab/index.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'needs root (the demo builds network namespaces): run as root, as CI does';

function labNamespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith('ft-'));
}

/** Nothing of the lab is left — unless another run built a new lab after ours (shared machine). */
function assertLabGone(since: Date): void {
  const s = labStatus();
  if (s.upSince && new Date(s.upSince) > since) return; // someone else's lab, built after ours went down
  assert.deepEqual(labNamespaces(), [], 'no lab namespace left');
  const leftover = execFileSync('lsns', ['-t', 'net', '-o', 'NSFS', '-n'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('/ft-'));
  assert.deepEqual(leftover, [], 'no process holds a lab namespace');
}

function runDemo(args: string[], interruptWhen?: RegExp): Promise<{ code: number | null; out: string }> {
  const argv = [...selfCliArgv(), 'demo', ...args];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      if (interruptWhen && !sent && interruptWhen.test(out)) { sent = true; c.kill('SIGINT'); }
    };
    c.stdout.on('data', onData);
    c.stderr.on('data', onData);
    c.on('close', (code) => resolve({ code, out }));
  });
}

test('demo --fault dnat-missing: verdict, stitched path, reports, lab down', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-demo-'));
  try {
    const wasUp = labStatus().up;
    const since = new Date();
    const r = await runDemo(['--fault', 'dnat-missing', '--no-https', '--out', dir]);
    assert.equal(r.code, 14, r.out);
    assert.match(r.out, /❌\s+Container (\(docker0\/veth\)|path)\s+the SYN reached ens5 \(in\) and was answered with RST/);
    assert.match(r.out, /cause: the SYN reached ens5 \(in\) and was answered with RST: connection refused: no DNAT rule\s+for\s+port 80/);
    assert.match(r.out, /In-host path on netns:ec2/);
    assert.match(r.out, /SYN\s+→ ens5 in/);
    for (const f of ['dnat-missing-http.html', 'dnat-missing-http.json']) {
      assert.ok(existsSync(path.join(dir, f)), f);
      assert.ok(r.out.includes(path.join(dir, f)), `prints the path of ${f}`);
    }
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'dnat-missing-http.json'), 'utf8')).verdict.causeId, 'not-listening');
    assert.match(readFileSync(path.join(dir, 'dnat-missing-http.html'), 'utf8'), /data-failing="true"/);
    // Once more over ssh, agentless, through the bastion: the same reading.
    assert.match(r.out, /following http:\/\/seqas\.online\/ from ft-client \(agentless over ssh as ftlab, through ft-bastion\)/);
    assert.match(r.out, /agentless over ssh read the same as the agent: exit 14, container, not-listening/);
    const overSsh = JSON.parse(readFileSync(path.join(dir, 'dnat-missing-http-ssh.json'), 'utf8')) as { options: { server: string }; verdict: { causeId: string }; server: { filter: string } };
    assert.deepEqual([overSsh.options.server, overSsh.verdict.causeId], ['ssh://lab-ec2', 'not-listening']);
    assert.match(overSsh.server.filter, /agentless/);
    assert.ok(r.out.includes(path.join(dir, 'dnat-missing-http-ssh.html')), 'prints the path of the ssh walk\'s report');
    if (!wasUp) assertLabGone(since);
    else assert.ok(!labStatus().faults.includes('dnat-missing'), 'a lab that was up is left up, with the fault healed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C during the walk: exit 130 and the lab is taken down', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-demo-'));
  try {
    const wasUp = labStatus().up;
    const since = new Date();
    const r = await runDemo(['--out', dir], /following http:/);
    assert.equal(r.code, 130, r.out);
    assert.match(r.out, /interrupted/);
    if (!wasUp) assertLabGone(since);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demo refuses without root before printing anything: one PRIVILEGE error, exit 4', { timeout: 60_000 }, () => {
  // As root, run it as the unprivileged user `nobody` (setpriv); unprivileged, run it as is.
  const [node, ...rest] = selfCliArgv();
  const argv = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', node!, ...rest, 'demo'] : [node!, ...rest, 'demo'];
  let out = '';
  let err = '';
  let status = 0;
  try {
    out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    [status, out, err] = [x.status, x.stdout, x.stderr];
  }
  assert.equal(status, 4, err);
  assert.equal(out, '', 'nothing printed before the refusal');
  assert.match(err, /^error\[PRIVILEGE\]: flowtrace demo needs privileges flowtrace does not have\nhint: .*root.*\n$/);
});
