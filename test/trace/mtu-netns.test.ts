/**
 * `trace --mtu` over real routers in this test's own namespaces (prefix `ftmtu-`, removed in
 * the after hook and before starting, even after a crash), IPv4 and IPv6:
 *
 *   ftmtu-c ── ftmtu-r1 ── ftmtu-r2 ══ ftmtu-s        (══ : a 1400-byte link)
 *   10.93.1.2  .1 | 10.93.2.1  .2 | 10.93.3.1  .2
 *   fd93:1::2  ::1 | fd93:2::1 ::2 | fd93:3::1 ::2
 *
 * r2 (hop 2) answers DF packets over 1400 bytes with "fragmentation needed" / "packet too
 * big"; a rule on r1 then drops those on their way back (an MTU black hole). The kernels'
 * ICMP rate limits are off on the routers and the server, so runs repeat. Probes go only to
 * these addresses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { selfCliArgv, PACKAGE_ROOT } from '../../src/self.js';
import type { TraceResult } from '../../src/trace/index.js';

const PREFIX = 'ftmtu-';
const NS = { c: `${PREFIX}c`, r1: `${PREFIX}r1`, r2: `${PREFIX}r2`, s: `${PREFIX}s` };
const SMALL_MTU = 1400;
const DST = { 4: '10.93.3.2', 6: 'fd93:3::2' } as const;
const R2 = { 4: '10.93.2.2', 6: 'fd93:2::2' } as const;
const DROP_TOO_BIG = {
  4: ['iptables', '-w', 'FORWARD', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP'],
  6: ['ip6tables', '-w', 'FORWARD', '-p', 'icmpv6', '--icmpv6-type', 'packet-too-big', '-j', 'DROP'],
} as const;

function sh(argv: readonly string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function removeNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name.startsWith(PREFIX)) spawnSync('ip', ['netns', 'del', name]);
  }
}

function build(): void {
  for (const ns of Object.values(NS)) {
    sh(['ip', 'netns', 'add', ns]);
    // IPv6 on (a namespace may inherit disable_ipv6), no DAD delay, no ICMP rate limits.
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0',
      'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const link = (a: string, ai: string, b: string, bi: string): void => { sh(['ip', '-n', a, 'link', 'add', ai, 'type', 'veth', 'peer', 'name', bi, 'netns', b]); };
  link(NS.c, 'c0', NS.r1, 'r1a');
  link(NS.r1, 'r1b', NS.r2, 'r2a');
  link(NS.r2, 'r2b', NS.s, 's0');
  const addr = (ns: string, dev: string, v4: string, v6: string, mtu = 1500): void => {
    sh(['ip', '-n', ns, 'link', 'set', dev, 'mtu', String(mtu)]);
    sh(['ip', '-n', ns, 'addr', 'add', v4, 'dev', dev]);
    sh(['ip', '-n', ns, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad']);
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  };
  addr(NS.c, 'c0', '10.93.1.2/24', 'fd93:1::2/64');
  addr(NS.r1, 'r1a', '10.93.1.1/24', 'fd93:1::1/64');
  addr(NS.r1, 'r1b', '10.93.2.1/24', 'fd93:2::1/64');
  addr(NS.r2, 'r2a', '10.93.2.2/24', 'fd93:2::2/64');
  addr(NS.r2, 'r2b', '10.93.3.1/24', 'fd93:3::1/64', SMALL_MTU);
  addr(NS.s, 's0', '10.93.3.2/24', 'fd93:3::2/64', SMALL_MTU);
  for (const r of [NS.r1, NS.r2]) sh(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  const route = (ns: string, args: string[]): void => { sh(['ip', '-n', ns, ...args]); };
  route(NS.c, ['route', 'add', 'default', 'via', '10.93.1.1']);
  route(NS.c, ['-6', 'route', 'add', 'default', 'via', 'fd93:1::1']);
  route(NS.r1, ['route', 'add', 'default', 'via', '10.93.2.2']);
  route(NS.r1, ['-6', 'route', 'add', 'default', 'via', 'fd93:2::2']);
  route(NS.r2, ['route', 'add', '10.93.1.0/24', 'via', '10.93.2.1']);
  route(NS.r2, ['-6', 'route', 'add', 'fd93:1::/64', 'via', 'fd93:2::1']);
  route(NS.s, ['route', 'add', 'default', 'via', '10.93.3.1']);
  route(NS.s, ['-6', 'route', 'add', 'default', 'via', 'fd93:3::1']);
}

/** The client's kernel learns path MTUs from the ICMP it gets: forget them between runs. */
function flushClientPmtu(): void {
  spawnSync('ip', ['-n', NS.c, 'route', 'flush', 'cache']);
  spawnSync('ip', ['-n', NS.c, '-6', 'route', 'flush', 'cache']);
}

function traceFromClient(args: string[]): { code: number; result: TraceResult | null; stdout: string; stderr: string } {
  flushClientPmtu();
  const argv = ['ip', 'netns', 'exec', NS.c, ...selfCliArgv(), 'trace', ...args];
  const r = spawnSync(argv[0], argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 });
  let result: TraceResult | null = null;
  try { result = JSON.parse(r.stdout) as TraceResult; } catch { /* text output, or an error on stderr */ }
  return { code: r.status ?? -1, result, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  removeNamespaces();
  try { build(); } catch (err) { removeNamespaces(); throw err; }
});
after(() => removeNamespaces());

for (const family of [4, 6] as const) {
  for (const proto of ['udp', 'icmp'] as const) {
    test(`IPv${family} ${proto}: hop 2 reports the ${SMALL_MTU}-byte link (${family === 4 ? 'fragmentation needed' : 'packet too big'}): pmtu ${SMALL_MTU} after hop 2`, () => {
      const { code, result, stderr } = traceFromClient([DST[family], '--proto', proto, '--mtu', '--json']);
      assert.equal(code, 0, stderr);
      const t = result!.traces[0];
      assert.equal(t.reachedAtTtl, 3);
      const m = t.pathMtu!;
      assert.equal(m.status, 'found', JSON.stringify(m));
      assert.equal(m.pathMtu, SMALL_MTU);
      assert.equal(m.localMtu, 1500);
      assert.deepEqual(m.drops, [{ afterTtl: 2, router: R2[family], beforeTtl: 3, mtu: SMALL_MTU, how: family === 4 ? 'frag-needed' : 'packet-too-big', reportedMtu: SMALL_MTU }]);
    });
  }

  test(`IPv${family}: the ${family === 4 ? 'fragmentation-needed' : 'packet-too-big'} is dropped on the way back (r1's FORWARD): MTU black hole found by sizes, named after hop 2`, () => {
    const rule = DROP_TOO_BIG[family];
    sh(['ip', 'netns', 'exec', NS.r1, rule[0], rule[1], '-A', ...rule.slice(2)]);
    try {
      const { code, result, stderr } = traceFromClient([DST[family], '--mtu', '--json']);
      assert.equal(code, 0, stderr);
      const m = result!.traces[0].pathMtu!;
      assert.equal(m.status, 'black-hole', JSON.stringify(m));
      assert.equal(m.pathMtu, SMALL_MTU);
      assert.deepEqual(m.drops, [{ afterTtl: 2, router: R2[family], beforeTtl: 3, mtu: SMALL_MTU, how: 'black-hole', reportedMtu: null }]);
      assert.deepEqual([m.largestPassedBytes, m.smallestFailedBytes], [SMALL_MTU, SMALL_MTU + 1]);
      // The rule really dropped what r2 sent (the black hole is the kernel's, not the test's).
      const counters = sh(['ip', 'netns', 'exec', NS.r1, rule[0], rule[1], '-L', 'FORWARD', '-v', '-x', '-n']);
      const dropped = Number(/^\s*(\d+)\s+\d+\s+DROP/m.exec(counters)?.[1] ?? '0');
      assert.ok(dropped > 0, counters);
    } finally {
      sh(['ip', 'netns', 'exec', NS.r1, rule[0], rule[1], '-D', ...rule.slice(2)]);
    }
  });
}

test('text output: tracepath-style pmtu lines after the hops', () => {
  const { code, stdout, stderr } = traceFromClient([DST[4], '--mtu']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /\npmtu: 1400 to 10\.93\.3\.2 \(hop 3\), \d+ size probes in \d\.\d\d s\n/);
  assert.match(stdout, /\n\s+this machine's link\s+pmtu 1500\n/);
  assert.match(stdout, /\n\s+2\s+10\.93\.2\.2\s+pmtu 1400\s+fragmentation needed \(MTU 1400\)\n/);
});

test('--mtu needs raw sockets like trace: the same privilege error as user nobody', () => {
  const argv = ['ip', 'netns', 'exec', NS.c, 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', ...selfCliArgv(), 'trace', DST[4], '--mtu'];
  const r = spawnSync(argv[0], argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /^error\[PRIVILEGE\]: sending trace probes through raw sockets needs privileges flowtrace does not have\nhint: raw sockets need root or CAP_NET_RAW/);
});
