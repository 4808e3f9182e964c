/**
 * The agent through its three transports, for real: `local` (a child flowtrace agent),
 * `netns:` (ip netns exec into a miniature EC2 host built here with the `fttagent-` prefix)
 * and `ssh://` (a fake `ssh` first on PATH that checks its argv and runs the local agent —
 * no sshd is contacted). Bad messages get errors and the agent goes on; secrets are
 * redacted; no process is left behind. Needs root; skipped otherwise, saying so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, spawnSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
import { connectAgent, parseAgentTarget, agentArgv, AGENT_LIMITS, type AgentClient, type ErrorMessage } from '../../src/agent/index.js';
import { CaptureParser } from '../../src/capture/index.js';
import { systemRunner, type ProcessRunner } from '../../src/capture/live/index.js';
import { AgentError } from '../../src/errors.js';
import { selfCliArgv } from '../../src/self.js';
import { buildMiniHost, isRoot, leftovers, HOST, type MiniHost } from '../capture-live/host.js';

const SKIP = isRoot() ? false : 'needs root: the agent captures with tcpdump and enters namespaces';
const TRACE = '1-6789abcd-0123456789abcdef01234567';

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Pids of tcpdump processes that are children of `parent` (to check none is left). */
function tcpdumpChildren(parent: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter((l) => /tcpdump/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

let host: MiniHost | null = null;
let server: http.Server | null = null;
let serverPort = 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fttagent-'));

before(async () => {
  if (SKIP) return;
  host = await buildMiniHost('fttagent-');
  server = http.createServer((req, res) => { res.setHeader('Set-Cookie', 'sid=server-secret'); res.end('ok\n'); });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  serverPort = (server.address() as { port: number }).port;
});
after(() => {
  host?.destroy();
  server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** curl without blocking this process's event loop (the server answering it lives here). */
async function curlLoopback(traceId: string): Promise<void> {
  const r = await execFileP('curl', ['-sS', '--max-time', '5', '-H', `X-Amzn-Trace-Id: Root=${traceId}`, '-H', 'Authorization: Bearer top-secret-token', '-H', 'Cookie: sid=client-secret',
    `http://127.0.0.1:${serverPort}/x`], { encoding: 'utf8' });
  assert.equal(r.stdout, 'ok\n');
}

test('targets parse to argv arrays; bad targets are usage errors', () => {
  assert.deepEqual(agentArgv(parseAgentTarget('local')), [...selfCliArgv(), 'agent']);
  assert.deepEqual(agentArgv(parseAgentTarget('netns:ec2', '/nonexistent')).slice(0, 4), ['ip', 'netns', 'exec', 'ft-ec2']);
  assert.deepEqual(agentArgv(parseAgentTarget('ssh://ec2-user@10.0.0.5:2222')),
    ['ssh', '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', '2222', 'ec2-user@10.0.0.5', '--', 'sudo', '-n', 'flowtrace', 'agent']);
  assert.throws(() => parseAgentTarget('ssh://-oProxyCommand=x@host'), /bad ssh user/);
  assert.throws(() => parseAgentTarget('ssh://u:pw@host'), /only user, host and port/);
  assert.throws(() => parseAgentTarget('ssh://u@host/path'), /only user, host and port/);
  assert.throws(() => parseAgentTarget('netns:ec2;reboot'), /bad namespace name/);
  assert.throws(() => parseAgentTarget('tcp://host:1'), /unknown agent target/);
  assert.throws(() => agentArgv(parseAgentTarget('ssh://u@h'), { remoteCommand: ['flowtrace', 'agent; id'] }), /remote shell/);
});

test('local agent: hello, bad messages answered with errors, then a capture that finds the trace id, redacted', { skip: SKIP }, async () => {
  const agent = await connectAgent('local');
  try {
    assert.equal(agent.hello.protocol, 1);
    assert.ok(agent.hello.capabilities.includes('pcapng'));
    assert.ok(agent.hello.interfaces.some((i) => i.name === 'lo' && i.index === 1));
    assert.equal(agent.hello.privileged, true);

    const bad: Array<[string, string]> = [
      ['{"type":"start"', 'MALFORMED'],
      ['{"type":"format-disk"}', 'UNKNOWN_TYPE'],
      ['{"type":"start","interfaces":["lo; id"]}', 'BAD_INTERFACE'],
      ['{"type":"start","interfaces":["nosuch0"]}', 'UNKNOWN_INTERFACE'],
      ['{"type":"start","ports":[70000]}', 'BAD_PORT'],
      ['{"type":"start","maxDurationMs":999999999}', 'BAD_FIELD'],
      ['{"type":"stop"}', 'NOT_CAPTURING'],
      ['x'.repeat(AGENT_LIMITS.maxLineBytes + 10), 'OVERSIZED'],
    ];
    for (const [line, code] of bad) {
      agent.sendRaw(line);
      const m = await agent.next();
      assert.equal(m.type, 'error', line.slice(0, 40));
      assert.equal((m as ErrorMessage).code, code, line.slice(0, 40));
    }
    // Still working: a real capture on loopback.
    const started = await agent.start({ interfaces: ['lo'], ports: [serverPort], traceId: TRACE, pcapng: true, maxDurationMs: 20_000 });
    assert.match(started.filter, new RegExp(`port ${serverPort}`));
    await curlLoopback(TRACE);
    const result = await agent.stop();
    assert.equal(result.found, true);
    assert.equal(result.traceId, TRACE);
    assert.equal(result.stoppedBy, 'stop');
    assert.ok(result.packets.captured >= 8, `captured ${result.packets.captured}`);
    assert.equal(result.packets.droppedByKernel, 0);
    assert.ok(result.path.some((l) => /^request\s+GET \/x: lo In/.test(l)), result.path.join('\n'));
    assert.ok(result.list.every((p) => p.interface === 'lo'));
    // Redaction: nothing secret anywhere in what came back, and the count says so.
    const text = JSON.stringify({ ...result, pcapng: null });
    assert.ok(!text.includes('top-secret-token'));
    assert.ok(!text.includes('client-secret'));
    assert.ok(!text.includes('server-secret'));
    assert.ok(result.redactions >= 3, `redactions ${result.redactions}`);
    // The pcapng: real pcapng with the interface named, the secrets masked in place.
    assert.ok(result.pcapng);
    const bytes = Buffer.from(result.pcapng, 'base64');
    assert.ok(!bytes.includes('top-secret-token'));
    assert.ok(!bytes.includes('server-secret'));
    assert.ok(bytes.includes('Authorization: ******************'));
    const names: string[] = [];
    let packets = 0;
    const parser = new CaptureParser({ onPacket: () => { packets++; }, onInterface: (i) => { names.push(i.name ?? '?'); } });
    parser.push(bytes);
    const summary = parser.end();
    assert.equal(summary.format, 'pcapng');
    assert.deepEqual(names, ['lo']);
    assert.equal(packets, result.packets.captured);
  } finally {
    await agent.close();
  }
  assert.equal(alive(agent.pid), false, 'the agent exited');
});

test('several trace ids in one capture: a result entry per id, found or not; the first also in the v1 fields', { skip: SKIP }, async () => {
  const other = '1-6789abce-0123456789abcdef01234567';
  const absent = '1-6789abcf-0123456789abcdef01234567';
  const agent = await connectAgent('local');
  try {
    assert.ok(agent.hello.capabilities.includes('multiple-trace-ids'));
    const started = await agent.start({ interfaces: ['lo'], ports: [serverPort], traceId: TRACE, traceIds: [other, absent, TRACE], maxDurationMs: 20_000 });
    assert.deepEqual(started.traceIds, [TRACE, other, absent]);
    await curlLoopback(other);
    await curlLoopback(TRACE);
    const result = await agent.stop();
    assert.deepEqual(result.traces.map((t) => [t.traceId, t.found]), [[TRACE, true], [other, true], [absent, false]]);
    assert.equal(result.traceId, TRACE);
    assert.equal(result.found, true);
    assert.deepEqual(result.path, result.traces[0].path);
    assert.ok(result.traces[1].path.some((l) => l.includes(other)), result.traces[1].path.join('\n'));
    assert.ok(!result.traces[0].path.some((l) => l.includes(other)));
    assert.deepEqual(result.traces[2].path, []);
    assert.equal(result.traces[2].exchange, null);
    assert.ok(!JSON.stringify(result.traces).includes('client-secret'));
  } finally {
    await agent.close();
  }
});

test('several trace ids and an agent without multiple-trace-ids: one clear error, nothing sent; one trace id is sent as in v1', async () => {
  const bin = path.join(tmp, 'old-bin');
  fs.mkdirSync(bin, { recursive: true });
  const received = path.join(tmp, 'old-agent-stdin');
  // A fake ssh that is an agent of before the capability: its hello, then it records what it is sent.
  const oldHello = JSON.stringify({ type: 'hello', protocol: 1, agent: 'flowtrace 0.0.9', capabilities: ['capture', 'nat-follow', 'exchange-by-trace-id', 'pcapng'], interfaces: [], limits: {}, privileged: true });
  fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\necho '${oldHello}'\nexec cat > '${received}'\n`, { mode: 0o755 });
  const agent = await connectAgent('ssh://old@host', { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  try {
    await assert.rejects(agent.start({ ports: [80], traceIds: [TRACE, '1-6789abce-0123456789abcdef01234567'] }), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'AGENT_UNSUPPORTED');
      assert.equal(err.message, 'the agent (flowtrace 0.0.9) looks for one trace id per capture, 2 were asked');
      return true;
    });
    // One id (given either way) goes as v1's traceId, without the new field.
    void agent.start({ ports: [80], traceIds: [TRACE] }).catch(() => {});
  } finally {
    await agent.close();
  }
  const lines = fs.readFileSync(received, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l.type), ['start', 'bye']);
  assert.equal(lines[0].traceId, TRACE);
  assert.equal('traceIds' in lines[0], false);
});

test('the transport goes through the process runner: netns: is `ip netns exec NS flowtrace agent` (run here by a scripted runner as a local agent)', async () => {
  const started: string[][] = [];
  const runner: ProcessRunner = {
    run: (argv, o) => systemRunner.run(argv, o),
    start(argv, options) {
      started.push([...argv]);
      assert.deepEqual(argv.slice(0, 4), ['ip', 'netns', 'exec', 'fttagent-x']);
      return systemRunner.start(argv.slice(4), options); // the same agent, without the namespace
    },
  };
  const agent = await connectAgent({ kind: 'netns', namespace: 'fttagent-x' }, { runner });
  try {
    assert.equal(agent.hello.protocol, 1);
    assert.deepEqual(started, [['ip', 'netns', 'exec', 'fttagent-x', ...selfCliArgv(), 'agent']]);
    assert.deepEqual(agent.argv, started[0]);
  } finally {
    await agent.close();
  }
  assert.equal(alive(agent.pid), false);
});

test('bounds: a capture ends by itself at maxDurationMs and the result comes unasked', { skip: SKIP }, async () => {
  const agent = await connectAgent('local');
  try {
    await agent.start({ interfaces: ['lo'], ports: [serverPort], maxDurationMs: 300 });
    const r = await agent.nextResult();
    assert.equal(r.stoppedBy, 'duration');
    assert.equal(r.found, false);
    assert.deepEqual(tcpdumpChildren(agent.pid!), []);
  } finally {
    await agent.close();
  }
});

test('netns transport: the agent in the host namespace finds the request by trace id across ens5 → docker0 → veth', { skip: SKIP }, async () => {
  const h = host!;
  const agent = await connectAgent(`netns:${h.ec2}`);
  try {
    assert.ok(agent.hello.interfaces.some((i) => i.name === 'ens5'));
    const veth = agent.hello.interfaces.find((i) => i.name === HOST.veth);
    assert.match(veth?.peer ?? '', new RegExp(`eth0 172\\.17\\.0\\.2/16 in namespace ${h.ctr}`));
    const started = await agent.start({ ports: [80], traceId: `Root=${TRACE}`, pcapng: true });
    assert.equal(started.filter, '(port 80 or port 8080)');
    assert.match(started.notes.join('\n'), /following NAT: port 80 → 172\.17\.0\.2:8080/);
    h.request(TRACE);
    h.request('1-6789abcd-ffffffffffffffffffffffff'); // another request: must not be the match
    const r = await agent.stop();
    assert.equal(r.found, true);
    const ex = r.exchange as { request: { traceId: { root: string }; hops: Array<{ interface: string; direction: string }> }; response: { status: number } };
    assert.equal(ex.request.traceId.root, TRACE);
    assert.equal(ex.response.status, 200);
    assert.deepEqual(ex.request.hops.map((x) => `${x.interface} ${x.direction}`), ['ens5 in', 'docker0 out', `${HOST.veth} out`]);
    assert.ok(r.path.some((l) => l.includes(`request  GET /hello: ens5 In → docker0 Out → ${HOST.veth} Out`)), r.path.join('\n'));
    assert.ok(r.natMappings.some((l) => l.includes('172.17.0.2:8080')), r.natMappings.join('\n'));
    assert.equal(r.exchanges.length, 2);
  } finally {
    await agent.close();
  }
  assert.equal(alive(agent.pid), false);
});

test('ssh transport: argv as ssh gets it (BatchMode, port, -- remote command), and ssh failures are explained', { skip: SKIP }, async () => {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const argsFile = path.join(tmp, 'ssh-args');
  // A fake ssh: records its argv, checks the remote command, then runs the local agent.
  const agentCmd = [...selfCliArgv(), 'agent'].map((w) => `'${w}'`).join(' ');
  fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh
printf '%s\\n' "$@" > '${argsFile}'
case "$*" in
  *denied*) echo "denied@host: Permission denied (publickey)." >&2; exit 255 ;;
  *"-- sudo -n flowtrace agent") exec ${agentCmd} ;;
  *) echo "unexpected remote command: $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const agent = await connectAgent('ssh://ec2-user@10.0.0.5:2222', { env });
  try {
    assert.equal(agent.hello.protocol, 1);
    assert.deepEqual(fs.readFileSync(argsFile, 'utf8').trim().split('\n'),
      ['-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', '2222', 'ec2-user@10.0.0.5', '--', 'sudo', '-n', 'flowtrace', 'agent']);
    await agent.start({ interfaces: ['lo'], ports: [serverPort], traceId: TRACE });
    await curlLoopback(TRACE);
    const r = await agent.stop();
    assert.equal(r.found, true);
  } finally {
    await agent.close();
  }
  await assert.rejects(connectAgent('ssh://denied@host', { env }), (err: unknown) => {
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, 'AGENT_TRANSPORT');
    assert.match(err.message, /Permission denied \(publickey\)/);
    assert.match(err.hint, /ssh-add/);
    return true;
  });
});

test('the client going away mid-capture (stdin closed, or SIGTERM): the agent stops tcpdump and exits', { skip: SKIP }, async () => {
  for (const how of ['eof', 'sigterm'] as const) {
    const argv = [...selfCliArgv(), 'agent'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write('{"type":"start","id":"a","interfaces":["lo"],"ports":[9]}\n');
    for (let i = 0; i < 400 && !out.includes('"started"'); i++) await new Promise((r) => setTimeout(r, 25));
    const started = JSON.parse(out.trim().split('\n').find((l) => l.includes('"started"'))!) as { enginePid: number };
    assert.ok(alive(started.enginePid), 'tcpdump runs');
    if (how === 'eof') child.stdin.end(); else child.kill('SIGTERM');
    assert.equal(await exited, 0, how);
    assert.equal(alive(started.enginePid), false, `tcpdump ${started.enginePid} is gone (${how})`);
    assert.match(out, /"type":"result","id":"a"/, 'the result of the running capture was still sent');
  }
});

test('netns transport to a namespace that does not exist: one clear error', { skip: SKIP }, async () => {
  await assert.rejects(connectAgent({ kind: 'netns', namespace: 'fttagent-nope' }), (err: unknown) => {
    assert.ok(err instanceof AgentError);
    assert.match(err.message, /fttagent-nope/);
    assert.match(err.hint, /ip netns list/);
    return true;
  });
});

test('no agent namespace or process left behind', { skip: SKIP }, () => {
  host?.destroy();
  host = null;
  assert.deepEqual(leftovers('fttagent-'), []);
  assert.deepEqual(tcpdumpChildren(process.pid), []);
});
