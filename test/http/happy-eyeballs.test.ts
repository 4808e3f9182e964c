/**
 * Happy eyeballs as curl runs it: with an IPv6 and an IPv4 address, the first address's
 * family is tried first and the other starts after --happy-eyeballs-timeout-ms (200 ms by
 * default) or at once when the first failed; the first connection wins, the other attempt
 * is abandoned; the result says which family was used and what the other cost.
 *
 * As root, in a throwaway namespace `ftthttp-he-<pid>` (loopback only): a real node:http
 * server on [::]:PORT (both families), and ip6tables making ::1 silent (DROP) or refused
 * (REJECT with a TCP reset), iptables making 127.0.0.1 silent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { HttpResult } from '../../src/http/index.js';
import { EXIT } from '../../src/errors.js';
import { selfCliArgv } from '../../src/self.js';

const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root (a network namespace, ip6tables)';
const ns = `ftthttp-he-${process.pid}`;
const PORT = 18081;
let server: ChildProcess | null = null;

before(async () => {
  if (!isRoot) return;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
    `require('http').createServer((q, s) => s.end('family ' + (q.socket.localAddress.includes(':') && !q.socket.localAddress.startsWith('::ffff:') ? 6 : 4))).listen(${PORT}, '::', () => console.log('listening'))`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(server.stdout!, 'data');
});

after(() => {
  if (server?.pid) { try { process.kill(server.pid); } catch { /* gone */ } }
  if (isRoot) spawnSync('ip', ['netns', 'del', ns]);
});

function rules(tool: 'iptables' | 'ip6tables', ...rule: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, tool, ...rule]);
}

function clearRules(): void {
  rules('iptables', '-F', 'OUTPUT');
  rules('ip6tables', '-F', 'OUTPUT');
}

function http(...args: string[]): { code: number | null; r: HttpResult; stderr: string } {
  const run = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${PORT}/`, '--resolve', `app.test:${PORT}:[::1],127.0.0.1`, '--json', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, r: JSON.parse(run.stdout) as HttpResult, stderr: run.stderr };
}

function text(...args: string[]): string {
  return spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${PORT}/`, '--resolve', `app.test:${PORT}:[::1],127.0.0.1`, ...args], { encoding: 'utf8', timeout: 30_000 }).stdout;
}

function assertPhasesAddUp(r: HttpResult): void {
  const p = r.phases;
  const sum = [p.dnsMs, p.failedConnectsMs, p.connectMs, p.tlsMs, p.sendMs, p.waitMs, p.downloadMs].reduce<number>((s, v) => s + (v ?? 0), 0);
  assert.ok(Math.abs(sum - r.timings.totalMs) < 1e-6, `phases ${JSON.stringify(p)} sum ${sum} vs total ${r.timings.totalMs}`);
}

test('both families answer: IPv6 (the first address) is used, IPv4 never started, nothing lost', { skip: SKIP }, () => {
  clearRules();
  const { code, r } = http();
  assert.equal(code, EXIT.ok);
  assert.equal(r.bodyHead, 'family 6');
  assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.family, a.outcome]), [['::1', 6, 'connected']]);
  assert.deepEqual({ ...r.happyEyeballs, secondStartMs: null }, { firstFamily: 6, delayMs: 200, secondStartMs: null, familyUsed: 6, lostMs: 0 });
  assertPhasesAddUp(r);
});

test('IPv6 silent: IPv4 starts after the delay and wins; the IPv6 attempt is abandoned; the delay is what IPv6 cost', { skip: SKIP }, () => {
  clearRules();
  rules('ip6tables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '::1', '-j', 'DROP');
  const { code, r } = http('--timeout', '5');
  assert.equal(code, EXIT.ok);
  assert.equal(r.bodyHead, 'family 4');
  assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.outcome]), [['::1', 'abandoned'], ['127.0.0.1', 'connected']]);
  const he = r.happyEyeballs!;
  assert.equal(he.familyUsed, 4);
  // Node's timers may fire up to a millisecond early against performance.now().
  assert.ok(he.secondStartMs! >= 198, `IPv4 started at ${he.secondStartMs} ms, not before the 200 ms delay`);
  assert.ok(he.lostMs! >= 198 && he.lostMs! < 2000, `IPv6 cost ${he.lostMs} ms: the delay, not the deadline's half`);
  assert.equal(r.phases.failedConnectsMs, he.lostMs);
  assertPhasesAddUp(r);
  // A shorter delay, as asked.
  const quick = http('--timeout', '5', '--happy-eyeballs-timeout-ms', '50').r;
  assert.equal(quick.happyEyeballs?.delayMs, 50);
  assert.ok(quick.happyEyeballs!.secondStartMs! >= 48 && quick.happyEyeballs!.secondStartMs! < he.secondStartMs!, JSON.stringify(quick.happyEyeballs));
  // In curl -v's words, and the summary line.
  const out = text('--timeout', '5');
  assert.match(out, new RegExp(`^\\* connect to ::1 port ${PORT} abandoned: the other family connected first \\(`, 'm'));
  assert.match(out, /^addresses: ::1, 127\.0\.0\.1 \(happy eyeballs: IPv6 first, IPv4 after 200 ms or when IPv6 failed; IPv4 used; IPv6 cost [\d.]+ ms before it\)$/m);
});

test('IPv6 refused: IPv4 starts at once, without waiting for the delay', { skip: SKIP }, () => {
  clearRules();
  rules('ip6tables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '::1', '-j', 'REJECT', '--reject-with', 'tcp-reset');
  const { code, r } = http('--happy-eyeballs-timeout-ms', '2000');
  assert.equal(code, EXIT.ok);
  assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.outcome, a.cause]), [['::1', 'refused', 'ECONNREFUSED'], ['127.0.0.1', 'connected', null]]);
  assert.equal(r.happyEyeballs?.familyUsed, 4);
  assert.ok(r.happyEyeballs!.secondStartMs! < 2000, `IPv4 started at ${r.happyEyeballs!.secondStartMs} ms: at the refusal, not after the 2 s delay`);
  assertPhasesAddUp(r);
});

test('--happy-eyeballs-timeout-ms 0: every address in turn, as before (the silent IPv6 gets half the time)', { skip: SKIP }, () => {
  clearRules();
  rules('ip6tables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '::1', '-j', 'DROP');
  const { code, r } = http('--timeout', '2', '--happy-eyeballs-timeout-ms', '0');
  assert.equal(code, EXIT.ok);
  assert.equal(r.happyEyeballs, null);
  assert.deepEqual(r.connectAttempts.map((a) => [a.address, a.outcome]), [['::1', 'timeout'], ['127.0.0.1', 'connected']]);
  assert.ok(r.phases.failedConnectsMs! >= 900, `the silent address had half of the 2 s: ${r.phases.failedConnectsMs} ms`);
});

test('neither family connects: one failure naming both attempts, exit 6; a bad delay is a usage error', { skip: SKIP }, () => {
  clearRules();
  rules('ip6tables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '::1', '-j', 'DROP');
  rules('iptables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '127.0.0.1', '-j', 'DROP');
  const { code, r, stderr } = http('--timeout', '0.8');
  assert.equal(code, EXIT.network);
  assert.equal(r.error?.code, 'HTTP_TIMEOUT');
  assert.equal(r.error?.phase, 'connect');
  assert.equal(r.happyEyeballs?.familyUsed, null);
  assert.equal(r.happyEyeballs?.lostMs, null);
  assert.deepEqual(r.connectAttempts.map((a) => a.outcome), ['timeout', 'timeout']);
  assert.match(stderr, new RegExp(`^error\\[HTTP_TIMEOUT\\]: failed to connect to app\\.test port ${PORT} timed out after 800 ms: \\[::1\\]:${PORT} timed out, 127\\.0\\.0\\.1:${PORT} timed out \\[phase: connect\\]`));
  clearRules();
  const bad = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'http', `http://app.test:${PORT}/`, '--happy-eyeballs-timeout-ms', '1.5s'], { encoding: 'utf8' });
  assert.equal(bad.status, EXIT.usage);
  assert.match(bad.stderr, /^error\[USAGE\]: bad --happy-eyeballs-timeout-ms '1\.5s'\nhint: /);
});
