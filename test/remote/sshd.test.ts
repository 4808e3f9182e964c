/**
 * The agentless path against a real OpenSSH sshd (test/helpers/sshd.ts: sshd in the EC2
 * namespace of a miniature EC2 host, the client in its ALB namespace, non-root users with
 * exactly the documented sudoers lines and no flowtrace on their PATH). Through the CLI, as
 * a user runs it: `capture --server ssh://…` and `follow --server ssh://…` — healthy, a
 * refused key, an unknown host key, a user without sudo rights, a server without tcpdump,
 * ProxyJump and ssh-agent, and the connection cut (link down) or flowtrace killed
 * mid-capture: nothing left running on either side, checked by PID.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { selfCliArgv } from '../../src/self.js';
import { startSshd, sshdLeftovers, type TestSshd } from '../helpers/sshd.js';
import { HOST } from '../capture-live/host.js';
import type { FollowResult } from '../../src/follow/index.js';
import { reading } from './reading.js';

let s: TestSshd;

before(async () => { s = await startSshd(); });
after(() => {
  s?.destroy();
  assert.deepEqual(sshdLeftovers(), [], 'namespaces, users and sudoers drop-ins of the test are removed');
});

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[], timeoutMs = 60_000): Run {
  const argv = s.inClient([...selfCliArgv(), ...args]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A CLI run in the background, with what it printed so far. */
function background(args: string[]): { child: ChildProcess; out: { stdout: string; stderr: string }; done: Promise<number | null>; waitFor(re: RegExp, ms?: number): Promise<void> } {
  const argv = s.inClient([...selfCliArgv(), ...args]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (t: string) => { out.stdout += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { out.stderr += t; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child, out, done,
    async waitFor(re, ms = 20_000) {
      const until = performance.now() + ms;
      while (!re.test(out.stderr + out.stdout)) {
        assert.ok(performance.now() < until, `waited ${ms} ms for ${re}: ${out.stderr}`);
        assert.equal(child.exitCode, null, `exited early: ${out.stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

const ours = (p: { comm: string }): boolean => ['tcpdump', 'sudo', 'timeout', 'sh', 'head', 'wc'].includes(p.comm);

/** Waits until none of `pids` runs (or fails after `ms`). */
async function gone(pids: number[], ms: number, what: string): Promise<void> {
  const until = performance.now() + ms;
  for (;;) {
    const left = pids.filter((pid) => { try { process.kill(pid, 0); return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } });
    if (left.length === 0) return;
    assert.ok(performance.now() < until, `${what}: ${left.join(', ')} still running after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of a capture left: no session process in the server's namespace but sshd's listener, no ssh in the client's. */
async function nothingLeft(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (;;) {
    const srv = s.processes('srv').filter((p) => p.pid !== s.sshdPid);
    const cliLeft = s.processes('cli');
    if (srv.length === 0 && cliLeft.length === 0) return;
    assert.ok(performance.now() < until, `left running after ${ms} ms: server ${JSON.stringify(srv)}, client ${JSON.stringify(cliLeft)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('capture --server ssh://ok: agentless by itself (no flowtrace there), packets as they come, NAT followed, the container named, nothing left', { timeout: 60_000 }, async () => {
  const run = background(['capture', '--server', 'ssh://ok', '--for', '4s', 'port', '80']);
  await run.waitFor(/Ctrl-C to stop/);
  const body = s.host.request('1-67891233-abcdef012345678912345678');
  assert.match(body, /traceId/);
  const code = await run.done;
  const { stdout, stderr } = run.out;
  assert.equal(code, 0, stderr);
  assert.match(stderr, new RegExp(`capturing on any on ssh://ok \\(agentless, as ${s.users.ok}\\), filter '\\(port 80 or port 8080\\)'`));
  assert.match(stderr, /following NAT: port 80 → 172\.17\.0\.2:8080/);
  assert.match(stderr, /veth1a2b3c4 \[docker0\] → eth0 172\.17\.0\.2\/16 in namespace fttssh-ctr \(pid \d+ node\)/, 'the container found through lsns on the server');
  assert.match(stdout, /ens5 +In +IP 172\.31\.0\.10\.\d+ > 172\.31\.5\.20\.80: Flags \[S\]/, 'packet lines printed as they came, with the server\'s interface names');
  assert.match(stdout, /request +ens5 In \+0 µs · docker0 Out \+\d+ µs · veth1a2b3c4 Out/);
  assert.match(stdout, /trace 1-67891233-abcdef012345678912345678/);
  assert.match(stderr, /\d+ packets captured \(tcpdump wrote \d+\), \d+ received by filter, 0 dropped by kernel \(stopped by duration\)/, 'tcpdump\'s own counters came back over ssh');
  await nothingLeft(5000);
});

test('a user without sudo rights: one line with the exact sudoers line, exit 4; flowtrace sends nothing else', { timeout: 30_000 }, () => {
  const r = cli(['capture', '--server', 'ssh://nosudo', '--for', '1s', 'port', '80']);
  assert.equal(r.code, 4, r.stderr);
  const line = `${s.users.nosudo} ALL=(root) NOPASSWD: ${s.okPaths.timeout} --signal\\=INT --kill-after\\=5 330 ${s.okPaths.tcpdump} -i any -w - -U --immediate-mode -s 1600 -B 32768 -Z root -c 1000000 -- *`;
  assert.equal(r.stderr, `error[REMOTE_SUDO]: sudo on ssh://nosudo does not let ${s.users.nosudo} run tcpdump\nhint: add this line there (visudo -f /etc/sudoers.d/flowtrace): ${line} — all lines: docs/agent.md\n`);
});

test('a server without tcpdump: "tcpdump is not installed on ssh://notcpdump" with the install command, exit 5', { timeout: 30_000 }, () => {
  const r = cli(['capture', '--server', 'ssh://notcpdump', '--for', '1s']);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stderr, 'error[REMOTE_MISSING]: tcpdump is not installed on ssh://notcpdump\nhint: install it there: sudo apt-get install tcpdump\n');
});

test('a refused key: error[SSH_AUTH] in one line, exit 9', { timeout: 30_000 }, () => {
  const r = cli(['capture', '--server', 'ssh://badkey', '--for', '1s']);
  assert.equal(r.code, 9, r.stderr);
  const [first, hint, ...rest] = r.stderr.trimEnd().split('\n');
  assert.match(first!, /^error\[SSH_AUTH\]: ssh:\/\/badkey: ssh could not log in \(.*Permission denied \(publickey\)\.?\)$/);
  assert.match(hint!, /^hint: flowtrace uses your ssh keys without prompting: load the key into ssh-agent/);
  assert.deepEqual(rest, []);
});

test('an unknown host key: never accepted by flowtrace, one line saying how to accept it, exit 9', { timeout: 30_000 }, () => {
  const known = path.join(s.dir, 'empty_known_hosts');
  const r = cli(['capture', '--server', 'ssh://unknownhost', '--for', '1s']);
  assert.equal(r.code, 9, r.stderr);
  assert.equal(r.stderr, `error[SSH_HOST_KEY_UNKNOWN]: ssh://unknownhost: the server's host key is not known here (ssh checks it against known_hosts; flowtrace never accepts one by itself)\nhint: check its fingerprint with the server's owner, then accept it once by hand: ssh -F ${s.configFile} unknownhost true (answer yes)\n`);
  assert.equal(fs.readFileSync(known, 'utf8'), '', 'known_hosts left as it was');
});

test('ProxyJump (a bastion in ~/.ssh/config) and ssh-agent (a key only in the agent) work as with ssh', { timeout: 60_000 }, async () => {
  const r = cli(['capture', '--server', 'ssh://jump', '--for', '1s', '-q', 'port', '80']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /capturing on any on ssh:\/\/jump \(agentless/);

  const sock = path.join(s.dir, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
  assert.ok(pid > 0, agent.stderr);
  try {
    const add = spawnSync('ssh-add', [path.join(s.dir, 'userkey')], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: sock } });
    assert.equal(add.status, 0, add.stderr);
    fs.appendFileSync(s.configFile, `Host viaagent\n  HostName ${HOST.ens5Address}\n  User ${s.users.ok}\n  UserKnownHostsFile ${path.join(s.dir, 'known_hosts')}\n  IdentityFile none\n`);
    const argv = s.inClient(['env', `SSH_AUTH_SOCK=${sock}`, ...selfCliArgv(), 'capture', '--server', 'ssh://viaagent', '--for', '1s', '-q']);
    const withAgent = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
    assert.equal(withAgent.status, 0, withAgent.stderr);
    assert.match(withAgent.stderr, /capturing on any on ssh:\/\/viaagent \(agentless/);
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  await nothingLeft(5000);
});

test('the connection cut mid-capture (the client\'s link down): tcpdump on the server ends (its watchdog), flowtrace says so and exits 8, nothing left on either side', { timeout: 90_000 }, async () => {
  const run = background(['capture', '--server', 'ssh://ok', '-q', 'port', '80']);
  await run.waitFor(/Ctrl-C to stop/);
  const remote = s.processes('srv').filter(ours);
  const tcpdump = remote.find((p) => p.comm === 'tcpdump');
  assert.ok(tcpdump, `tcpdump runs on the server: ${JSON.stringify(s.processes('srv'))}`);
  assert.match(tcpdump.cmdline, /tcpdump -i any -w - -U --immediate-mode -s 1600 -B 32768 -Z root -c 1000000 -- \(port 80 or port 8080\)$/);
  const local = s.processes('cli').filter((p) => p.comm === 'ssh').map((p) => p.pid);
  assert.ok(local.length >= 2, 'the master and the capture\'s session');
  spawnSync('ip', ['-n', s.cli, 'link', 'set', 'alb0', 'down']);
  try {
    // No FIN, no RST: the watchdog's 20 s without a heartbeat end tcpdump; ssh's ServerAlive (3 × 5 s) ends the client.
    await gone(remote.map((p) => p.pid), 30_000, 'the capture on the server');
    const code = await run.done;
    assert.equal(code, 8, run.out.stderr);
    assert.match(run.out.stderr, /error\[CAPTURE_ENGINE\]: tcpdump \(on ssh:\/\/ok, ssh pid \d+ here\) stopped by itself \(the ssh connection to ssh:\/\/ok was lost/);
    await gone(local, 5000, 'ssh on the client');
  } finally {
    spawnSync('ip', ['-n', s.cli, 'link', 'set', 'alb0', 'up']);
  }
  await nothingLeft(15_000); // sshd's ClientAlive (2 × 2 s) ends its session
});

test('flowtrace killed hard mid-capture: the end of its pipe ends tcpdump on the server at once; the master exits after ControlPersist', { timeout: 60_000 }, async () => {
  const run = background(['capture', '--server', 'ssh://ok', '-q', 'port', '80']);
  await run.waitFor(/Ctrl-C to stop/);
  const remote = s.processes('srv').filter(ours);
  assert.ok(remote.some((p) => p.comm === 'tcpdump'));
  const node = s.processes('cli').find((p) => p.comm === 'node');
  assert.ok(node);
  const master = s.processes('cli').find((p) => p.comm === 'ssh' && p.cmdline.includes('ControlMaster=yes'));
  const controlPath = /ControlPath=(\S+)/.exec(master?.cmdline ?? '')?.[1];
  assert.ok(controlPath, 'the master\'s socket is in a private directory');
  assert.equal(fs.statSync(path.dirname(controlPath)).mode & 0o777, 0o700);
  process.kill(node.pid, 'SIGKILL');
  await run.done;
  await gone(remote.map((p) => p.pid), 5000, 'the capture on the server');
  await nothingLeft(25_000);
  assert.equal(fs.existsSync(controlPath), false, 'the master removed its socket');
  // A process killed hard cannot remove its directory: the test does.
  fs.rmSync(path.dirname(controlPath), { recursive: true, force: true });
});

// ── follow over ssh against follow with the agent (netns:), on the same host ─────────────

function follow(server: string, extra: string[] = []): FollowResult {
  const r = cli(['follow', `http://${HOST.ens5Address}/`, '--server', server, '--json', '--timeout', '3', ...extra], 90_000);
  assert.ok(r.stdout.startsWith('{'), `follow --server ${server}: ${r.stderr}`);
  return JSON.parse(r.stdout) as FollowResult;
}

/**
 * Faults that let the handshake through (follow looks for a request on the instance only when
 * it reached what it sent it to — here the instance itself): the response is dropped after
 * the application sent it, in the host (a rule the host facts read through `sudo
 * iptables-save -c`) or in the container (through `sudo nsenter … iptables-save -c`).
 */
const PSH_DROP = ['-p', 'tcp', '--tcp-flags', 'PSH', 'PSH', '-j', 'DROP'];
/** `cause`: the cause follow must name (null: healthy; '*': a break, whatever its cause — the comparison is the point). */
const FAULTS: Array<{ name: string; on: string[][]; off: string[][]; cause: string | null }> = [
  { name: 'healthy', on: [], off: [], cause: null },
  {
    name: 'responses dropped on their way out of the host (FORWARD -i docker0 -o ens5 … DROP)',
    on: [['ip', 'netns', 'exec', 'fttssh-ec2', 'iptables', '-I', 'FORWARD', '-i', 'docker0', '-o', 'ens5', ...PSH_DROP]],
    off: [['ip', 'netns', 'exec', 'fttssh-ec2', 'iptables', '-D', 'FORWARD', '-i', 'docker0', '-o', 'ens5', ...PSH_DROP]],
    cause: 'dropped-by-rule',
  },
  {
    name: 'responses dropped inside the container (OUTPUT … DROP there)',
    on: [['ip', 'netns', 'exec', 'fttssh-ctr', 'iptables', '-I', 'OUTPUT', ...PSH_DROP]],
    off: [['ip', 'netns', 'exec', 'fttssh-ctr', 'iptables', '-D', 'OUTPUT', ...PSH_DROP]],
    cause: '*',
  },
];

for (const fault of FAULTS) {
  test(`follow --server ssh://ok (agentless) reads the same as --server netns:fttssh-ec2 (the agent): ${fault.name}`, { timeout: 180_000 }, async () => {
    for (const argv of fault.on) spawnSync(argv[0]!, argv.slice(1));
    try {
      const agentless = follow('ssh://ok');
      const agent = follow('netns:fttssh-ec2');
      assert.match(agentless.server!.filter ?? '', /agentless: tcpdump and host facts over ssh as fttssh-ok/);
      assert.deepEqual(agentless.server!.host?.problems, [], 'every documented sudoers line does its part: nothing refused, nothing missing');
      assert.ok(agentless.server!.host!.namespaces.some((n) => n.ns.role === 'container' && n.listeners.some((l) => l.port === 8080)),
        'the container\'s namespace read through `sudo nsenter` (the regex line)');
      assert.deepEqual(reading(agentless), reading(agent));
      if (fault.cause === null) assert.equal(agentless.verdict.exitCode, 0, agentless.verdict.headline);
      else if (fault.cause === '*') assert.ok(agentless.server!.requests[0]?.break, JSON.stringify(reading(agentless)));
      else assert.equal(agentless.server!.requests[0]?.cause?.id, fault.cause, JSON.stringify(reading(agentless)));
    } finally {
      for (const argv of fault.off) spawnSync(argv[0]!, argv.slice(1));
    }
    await nothingLeft(5000);
  });
}

test('follow with a user sudo refuses: the server row says why with the sudoers line, the instance and container rows are not checked', { timeout: 120_000 }, () => {
  const r = follow('ssh://nosudo');
  assert.equal(r.server!.status, 'error');
  assert.match(r.server!.error ?? '', /^REMOTE_SUDO: sudo on ssh:\/\/nosudo does not let fttssh-ns\d+ run tcpdump \(hint: add this line there .*NOPASSWD: .*tcpdump -i any -w - -U/);
  const rows = Object.fromEntries(r.verdict.rows.map((x) => [x.layer, x.status]));
  assert.equal(rows.instance, 'not-checked');
  assert.equal(rows.container, 'not-checked');
});

// ── the mode chosen by itself, and sudo refusing some commands ───────────────────────────

test('auto: with flowtrace on the server and `sudo flowtrace agent` allowed, the agent runs (over the same connection); --server-mode agentless overrides', { timeout: 120_000 }, async () => {
  const auto = follow('ssh://agent');
  assert.equal(auto.server?.status, 'ok', auto.server?.error ?? '');
  assert.doesNotMatch(auto.server?.filter ?? '', /agentless/, 'the agent, not agentless');
  assert.equal(auto.verdict.exitCode, 0, auto.verdict.headline);
  const forced = follow('ssh://agent', ['--server-mode', 'agentless']);
  assert.match(forced.server?.filter ?? '', /agentless: tcpdump and host facts over ssh as fttssh-ag\d+/);
  assert.deepEqual(reading(forced), reading(auto), 'the same reading either way');
  // The user without flowtrace: agentless by itself; the agent asked for is an error that says why.
  const r = cli(['capture', '--server', 'ssh://ok', '--server-mode', 'agent', '--for', '1s', 'port', '80']);
  assert.equal(r.code, 9, r.stderr);
  assert.match(r.stderr, /^error\[AGENT_TRANSPORT\]: ssh to ok: sudo: a password is required\nhint: .*allow `flowtrace agent` in sudoers/);
  await nothingLeft(5000);
});

test('sudo allowing the capture only: the capture and the journey are there; the facts sudo refused are named in one line with the lines to add, and no cause is guessed from them', { timeout: 120_000 }, async () => {
  const r = follow('ssh://partial');
  assert.equal(r.server?.status, 'ok', r.server?.error ?? '');
  assert.equal(r.server?.requests[0]?.matchedBy, 'trace-id');
  const problems = r.server?.host?.problems ?? [];
  const line = problems.find((p) => p.startsWith('sudo on ssh://partial refused '));
  assert.ok(line, JSON.stringify(problems));
  // The container's namespace is a named one (found by `ip -j netns list-id`, unprivileged, without lsns): entering it is refused too.
  assert.match(line, /^sudo on ssh:\/\/partial refused 7 commands: iptables-save \(the NAT rules .*\); iptables-save \(netfilter rules .*; lsns \(the network namespaces behind the veths \(containers\)\); nsenter \(the same facts inside each container's namespace .*\)\) — those facts are not checked; add to sudoers: fttssh-pa\d+ ALL=\(root\) NOPASSWD: \S+\/iptables-save -t nat ; .* \(docs\/agent\.md\)$/);
  assert.ok(problems.some((p) => /^iptables-save: not allowed by sudo \(sudo: a password is required\)$/.test(p)), JSON.stringify(problems));
  const container = r.server?.host?.namespaces.find((n) => n.ns.role === 'container');
  assert.ok(!container || (container.listeners.length === 0 && container.netfilter.length === 0 && container.links.length === 0), `nothing read in the container's namespace without nsenter: ${JSON.stringify(container)}`);
  assert.equal(r.verdict.exitCode, 0, r.verdict.headline);
  await nothingLeft(5000);
});
