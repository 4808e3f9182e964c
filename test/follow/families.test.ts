/**
 * follow with both families (issue 17, the client side): a name with an AAAA and an A record
 * whose IPv6 path is broken while IPv4 works. follow sends one request per address as
 * always, then one as a dual-stack client sends it (happy eyeballs, IPv6 first), and the
 * verdict says what a broken family means: IPv6-only clients fail, dual-stack clients are
 * slowed by the happy-eyeballs delay (measured), not failed.
 *
 * As root, in a throwaway namespace `fttfollow-fam-<pid>` (loopback only): a real dnsmasq
 * answering dual.test with 127.0.0.1 and ::1, a real node:http server on [::]:PORT, and
 * ip6tables dropping the SYNs to ::1 (then healed: both families work).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { FollowResult } from '../../src/follow/index.js';
import { selfCliArgv } from '../../src/self.js';

const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root (a network namespace, ip6tables, raw sockets)';
const ns = `fttfollow-fam-${process.pid}`;
const PORT = 18082;
const children: ChildProcess[] = [];

before(async () => {
  if (!isRoot) return;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const web = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
    `require('http').createServer((q, s) => s.end('ok')).listen(${PORT}, '::', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(web);
  await once(web.stdout!, 'data');
  const dns = spawn('ip', ['netns', 'exec', ns, 'dnsmasq', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--keep-in-foreground', '--bind-interfaces',
    '--listen-address=127.0.0.1', '--port=5353', '--local=/test/', '--host-record=dual.test,127.0.0.1,::1'], { stdio: 'ignore' });
  children.push(dns);
  for (let i = 0; i < 50; i++) {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-uln', 'sport = :5353'], { encoding: 'utf8' });
    if (r.stdout.includes('127.0.0.1:5353')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
});

after(() => {
  for (const c of children) if (c.pid) { try { process.kill(c.pid); } catch { /* gone */ } }
  if (isRoot) spawnSync('ip', ['netns', 'del', ns]);
});

function follow(): { code: number | null; r: FollowResult; stderr: string } {
  const run = spawnSync('ip', ['netns', 'exec', ns, ...selfCliArgv(), 'follow', `http://dual.test:${PORT}/`, '--dns-server', '127.0.0.1:5353', '--timeout', '3', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(run.stdout.startsWith('{'), `follow printed JSON (exit ${run.status}): ${run.stderr}`);
  return { code: run.status, r: JSON.parse(run.stdout) as FollowResult, stderr: run.stderr };
}

test('IPv6 broken, IPv4 working: per-address results, the dual-stack request falls back after the delay, the verdict names the family', { skip: SKIP, timeout: 90_000 }, () => {
  execFileSync('ip', ['netns', 'exec', ns, 'ip6tables', '-A', 'OUTPUT', '-p', 'tcp', '--syn', '--dport', String(PORT), '-d', '::1', '-j', 'DROP']);
  try {
    const { code, r } = follow();
    assert.deepEqual([...r.dns.addresses].sort(), ['127.0.0.1', '::1']);
    const byAddress = Object.fromEntries(r.requests.map((q) => [q.address, q.httpStatus]));
    assert.deepEqual(byAddress, { '127.0.0.1': 200, '::1': null });
    const he = r.happyEyeballs!;
    assert.ok(he, 'the dual-stack request was sent');
    assert.deepEqual([he.firstFamily, he.familyUsed, he.address, he.httpStatus], [6, 4, '127.0.0.1', 200]);
    // Node's timers may fire up to a millisecond early against performance.now().
    assert.ok(he.lostMs! >= he.delayMs - 2, `IPv6 cost the delay: ${he.lostMs} ms`);
    assert.ok(!r.requests.some((q) => q.traceId === he.traceId), 'its own trace id, not one of the per-address requests');
    assert.equal(r.verdict.ok, false);
    assert.notEqual(code, 0);
    assert.equal(r.verdict.partial?.family, 6);
    assert.deepEqual(r.verdict.partial?.failing.map((f) => f.address), ['::1']);
    assert.match(r.verdict.partial!.share, /^all 1 IPv6 address of 2: IPv6-only clients fail; dual-stack clients try IPv6 first and fall back to IPv4 after happy eyeballs' delay — slow, not failed; measured as a dual-stack client \(happy eyeballs, IPv6 first\): IPv4 used, \d+ ms lost to IPv6$/);
    assert.match(r.verdict.headline, /^partial failure: /);
    const lb = r.verdict.rows.find((x) => x.layer === 'loadBalancer')!;
    assert.ok(lb.evidence.some((e) => /^as a dual-stack client \(happy eyeballs, IPv6 first, the other after 200 ms\): IPv4 used \(127\.0\.0\.1\) after \d+ ms lost to IPv6, HTTP 200 in /.test(e)), lb.evidence.join('\n'));
  } finally {
    execFileSync('ip', ['netns', 'exec', ns, 'ip6tables', '-F', 'OUTPUT']);
  }
});

test('both families working: healthy, the dual-stack request used IPv6 and lost nothing', { skip: SKIP, timeout: 90_000 }, () => {
  const { code, r } = follow();
  assert.equal(code, 0, r.verdict.headline);
  assert.equal(r.verdict.ok, true);
  assert.equal(r.verdict.partial, null);
  assert.deepEqual([r.happyEyeballs?.familyUsed, r.happyEyeballs?.lostMs], [6, 0]);
});
