/**
 * `flowtrace capture` and `flowtrace agent` at the command line: bad input is one line with a
 * hint and the documented exit code, never a stack trace or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { parseDuration } from '../../src/cli/commands/capture.js';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { selfCliArgv } from '../../src/self.js';

const isRoot = process.getuid?.() === 0;

async function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO(stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]));
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('usage errors: exit 2, error[USAGE] and a hint, one line each', async () => {
  for (const args of [
    ['capture', '-c', 'x'], ['capture', '-c', '0'], ['capture', '--for', '5y'], ['capture', '-i', 'eth0;id'],
    ['capture', '--netns', 'a b'], ['capture', '--bogus'], ['agent', 'extra'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^error\[USAGE\]: [^\n]+\nhint: [^\n]+\n$/, args.join(' '));
  }
});

test('durations: units and bounds', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.throws(() => parseDuration('0s'));
  assert.throws(() => parseDuration('-1s'));
  assert.throws(() => parseDuration('10 s'));
});

test('help texts', async () => {
  const c = await cli(['capture', '--help']);
  assert.equal(c.code, 0);
  assert.match(c.out, /--no-follow-nat/);
  const a = await cli(['agent', '--help']);
  assert.equal(a.code, 0);
  assert.match(a.out, /docs\/agent\.md/);
});

test('a bad filter: libpcap\'s message in one line, exit 8', { skip: isRoot ? false : 'needs root to start tcpdump' }, async () => {
  const r = await cli(['capture', '-i', 'lo', 'port', '80', 'and', 'and']);
  assert.equal(r.code, 8);
  assert.match(r.err, /^error\[BAD_FILTER\]: bad capture filter 'port 80 and and': can't parse filter expression: syntax error\nhint: [^\n]+\n$/m);
});

test('an unknown interface: exit 8 with the interfaces there are', { skip: isRoot ? false : 'needs root to list and capture' }, async () => {
  const r = await cli(['capture', '-i', 'nosuch0', '-c', '1']);
  assert.equal(r.code, 8);
  assert.match(r.err, /^error\[UNKNOWN_INTERFACE\]: no interface named nosuch0\nhint: interfaces here: any, lo/);
});

test('the agent on stdin/stdout in-process: hello, an error for a bad line, exit 0 at end of input', { skip: isRoot ? false : 'needs root (ip link listing is fine, but keep the agent tests together)' }, async () => {
  const r = await cli(['agent'], '{"type":"start","ports":[0]}\n{"type":"hello"}\n');
  assert.equal(r.code, 0);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string });
  assert.deepEqual(lines.map((l) => l.type), ['hello', 'error', 'hello']);
  assert.equal(lines[1].code, 'BAD_PORT');
});

test('Ctrl-C (SIGINT to the whole process group, as a terminal sends it): packets sent just before are not lost, exit 0, tcpdump gone', { skip: isRoot ? false : 'needs root to capture' }, async () => {
  const argv = [...selfCliArgv(), 'capture', '-i', 'lo', 'udp', 'port', '9'];
  // detached: its own process group, like a shell job; the signal goes to the group.
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (let i = 0; i < 400 && !err.includes('Ctrl-C to stop'); i++) await new Promise((r) => setTimeout(r, 25));
  const pid = Number(/tcpdump pid (\d+)/.exec(err)?.[1]);
  assert.ok(pid > 0, err);
  const sock = dgram.createSocket('udp4');
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => sock.send('x', 9, '127.0.0.1', () => r()));
  sock.close();
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 0, err);
  assert.match(err, /^3 packets captured \(tcpdump wrote 3\), \d+ received by filter, 0 dropped by kernel \(stopped by stop\)$/m);
  assert.throws(() => process.kill(pid, 0), 'tcpdump is gone');
});

test('without privileges the error names the interfaces asked for (-i lo, -i lo,X), not the engine\'s -i any; exit 4', { skip: isRoot ? false : 'needs root to drop to nobody with setpriv' }, () => {
  const other = (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as Array<{ ifname: string }>)
    .map((l) => l.ifname).find((n) => n !== 'lo');
  const cases: Array<[string[], string]> = [[['-i', 'lo'], 'lo']];
  if (other) cases.push([['-i', `lo,${other}`], `lo, ${other}`]);
  for (const [iface, named] of cases) {
    // The real tcpdump refuses as nobody without capabilities (HOME: tsx's cache must be writable).
    const argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...selfCliArgv(), 'capture', ...iface, '-c', '1'];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, HOME: os.tmpdir() }, timeout: 30_000 });
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr.split('\n')[0], `error[PRIVILEGE]: capturing on ${named} needs privileges flowtrace does not have`);
    assert.match(r.stderr, /^error\[PRIVILEGE\]: [^\n]+\nhint: run as root [^\n]+\n$/);
  }
});

test('tcpdump missing: error[MISSING_DEPENDENCY] with the install hint, exit 5', async () => {
  // A PATH with `ip` only: no tcpdump, no iptables-save.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttcap-path-'));
  try {
    const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => fs.existsSync(p));
    assert.ok(ip, 'iproute2 is installed');
    fs.symlinkSync(ip, path.join(dir, 'ip'));
    const argv = [...selfCliArgv(), 'capture', '-i', 'lo', '-c', '1', 'port', '80'];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: dir }, timeout: 30_000 });
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^error\[MISSING_DEPENDENCY\]: tcpdump is not installed \(or not on PATH\)\nhint: install it: apt-get install tcpdump\n$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A PATH directory holding symlinks to only `programs` (found where the system keeps them). */
function pathWith(programs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttcap-path-'));
  for (const prog of programs) {
    const real = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => path.join(d, prog)).find((p) => fs.existsSync(p));
    assert.ok(real, `${prog} is installed`);
    fs.symlinkSync(real, path.join(dir, prog));
  }
  return dir;
}

test('tcpdump and ip both missing: tcpdump, the more fundamental, is reported (exit 5); ip alone missing is reported as ip', async () => {
  for (const [programs, missing, pkg] of [[[], 'tcpdump', 'tcpdump'], [['tcpdump'], 'ip', 'iproute2']] as Array<[string[], string, string]>) {
    const dir = pathWith(programs);
    try {
      const argv = [...selfCliArgv(), 'capture', '-i', 'lo', '-c', '1', 'port', '80'];
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: dir }, timeout: 30_000 });
      assert.equal(r.status, 5, r.stderr);
      assert.equal(r.stderr, `error[MISSING_DEPENDENCY]: ${missing} is not installed (or not on PATH)\nhint: install it: apt-get install ${pkg}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('the agent without tcpdump and ip: its start is answered with tcpdump missing, not ip', async () => {
  const dir = pathWith([]);
  try {
    const argv = [...selfCliArgv(), 'agent'];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: dir }, timeout: 30_000, input: '{"type":"start","id":"a","ports":[80]}\n' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string; message?: string; hint?: string });
    assert.deepEqual(lines.map((l) => l.type), ['hello', 'error']);
    assert.equal(lines[1].code, 'MISSING_DEPENDENCY');
    assert.equal(lines[1].message, 'tcpdump is not installed (or not on PATH)');
    assert.equal(lines[1].hint, 'install it: apt-get install tcpdump');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('flowtrace killed hard (SIGKILL) during a bounded capture: tcpdump still ends by its own lifetime cap', { skip: isRoot ? false : 'needs root to capture' }, async () => {
  const script = `import { startCapture } from ${JSON.stringify(new URL('../../src/capture/live/index.ts', import.meta.url).href)};
const cap = await startCapture({ interfaces: ['lo'], filter: 'udp port 9', maxDurationMs: 1, attribute: false });
process.stdout.write(String(cap.pid) + '\\n');
process.kill(process.pid, 'SIGKILL');`;
  const file = path.join(os.tmpdir(), `fttcap-orphan-${process.pid}.mts`);
  fs.writeFileSync(file, script);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000, cwd: path.dirname(new URL(import.meta.url).pathname) });
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0, r.stderr);
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      await new Promise((res) => setTimeout(res, 250));
      try {
        process.kill(pid, 0);
        gone = /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); // exited, not yet reaped by init
      } catch { gone = true; }
    }
    assert.ok(gone, `the orphaned capture process ${pid} is still running`);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
