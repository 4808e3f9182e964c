/**
 * The real raw-socket network over real routers, IPv4 and IPv6, in namespaces of this test's
 * own (prefix `ftttrace-`, removed in the after hook and before starting, even after a crash):
 *
 *   ftttrace-c ── ftttrace-r1 ── ftttrace-r2 ── ftttrace-d
 *   10.91.1.2     .1 | 10.91.2.1    .2 | 10.91.3.1    .2
 *   fd91:1::2     ::1 | fd91:2::1   ::2 | fd91:3::1   ::2
 *
 * r2 also has an `unreachable` and a `prohibit` route, so the kernel's own !H / !N and !X
 * replies are tested for both families. Probes go only to these addresses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { selfCliArgv, PACKAGE_ROOT } from '../../src/self.js';
import type { TraceResult } from '../../src/trace/index.js';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const SKIP = IS_ROOT ? false : 'needs root: creates network namespaces and uses raw sockets';
const PREFIX = 'ftttrace-';
const NS = { c: `${PREFIX}c`, r1: `${PREFIX}r1`, r2: `${PREFIX}r2`, d: `${PREFIX}d` };

function sh(argv: string[]): string {
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
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'add', ns]);
  const link = (a: string, ai: string, b: string, bi: string): void => { sh(['ip', '-n', a, 'link', 'add', ai, 'type', 'veth', 'peer', 'name', bi, 'netns', b]); };
  link(NS.c, 'c0', NS.r1, 'r1a');
  link(NS.r1, 'r1b', NS.r2, 'r2a');
  link(NS.r2, 'r2b', NS.d, 'd0');
  const addr = (ns: string, dev: string, v4: string, v6: string): void => {
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', `net.ipv6.conf.${dev}.accept_dad=0`]);
    sh(['ip', '-n', ns, 'addr', 'add', v4, 'dev', dev]);
    sh(['ip', '-n', ns, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad']);
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  };
  addr(NS.c, 'c0', '10.91.1.2/24', 'fd91:1::2/64');
  addr(NS.r1, 'r1a', '10.91.1.1/24', 'fd91:1::1/64');
  addr(NS.r1, 'r1b', '10.91.2.1/24', 'fd91:2::1/64');
  addr(NS.r2, 'r2a', '10.91.2.2/24', 'fd91:2::2/64');
  addr(NS.r2, 'r2b', '10.91.3.1/24', 'fd91:3::1/64');
  addr(NS.d, 'd0', '10.91.3.2/24', 'fd91:3::2/64');
  for (const ns of Object.values(NS)) sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  for (const r of [NS.r1, NS.r2]) {
    // Forwarding on, ICMP error rate limits off (repeatable tests).
    sh(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
  }
  const route = (ns: string, args: string[]): void => { sh(['ip', '-n', ns, ...args]); };
  route(NS.c, ['route', 'add', 'default', 'via', '10.91.1.1']);
  route(NS.c, ['-6', 'route', 'add', 'default', 'via', 'fd91:1::1']);
  route(NS.r1, ['route', 'add', 'default', 'via', '10.91.2.2']);
  route(NS.r1, ['-6', 'route', 'add', 'default', 'via', 'fd91:2::2']);
  route(NS.r2, ['route', 'add', '10.91.1.0/24', 'via', '10.91.2.1']);
  route(NS.r2, ['-6', 'route', 'add', 'fd91:1::/64', 'via', 'fd91:2::1']);
  route(NS.r2, ['route', 'add', 'unreachable', '10.91.8.0/24']);
  route(NS.r2, ['-6', 'route', 'add', 'unreachable', 'fd91:8::/64']);
  route(NS.r2, ['route', 'add', 'prohibit', '10.91.9.0/24']);
  route(NS.r2, ['-6', 'route', 'add', 'prohibit', 'fd91:9::/64']);
  route(NS.d, ['route', 'add', 'default', 'via', '10.91.3.1']);
  route(NS.d, ['-6', 'route', 'add', 'default', 'via', 'fd91:3::1']);
}

function traceFromClient(args: string[]): { code: number; result: TraceResult | null; stderr: string } {
  const argv = ['ip', 'netns', 'exec', NS.c, ...selfCliArgv(), 'trace', ...args, '--json'];
  const r = spawnSync(argv[0], argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 });
  let result: TraceResult | null = null;
  try { result = JSON.parse(r.stdout) as TraceResult; } catch { /* stderr says why */ }
  return { code: r.status ?? -1, result, stderr: r.stderr };
}

before(() => {
  if (!IS_ROOT) return;
  removeNamespaces();
  try { build(); } catch (err) { removeNamespaces(); throw err; }
});
after(() => { if (IS_ROOT) removeNamespaces(); });

const ROUTERS = { 4: [['10.91.1.1'], ['10.91.2.2']], 6: [['fd91:1::1'], ['fd91:2::2']] } as const;

for (const family of [4, 6] as const) {
  for (const proto of ['udp', 'tcp', 'icmp'] as const) {
    test(`IPv${family} ${proto} through two real routers: both hops and the destination at hop 3`, { skip: SKIP }, () => {
      const dst = family === 4 ? '10.91.3.2' : 'fd91:3::2';
      const { code, result, stderr } = traceFromClient([dst, '--proto', proto, '--rounds', '3']);
      assert.equal(code, 0, stderr);
      assert.ok(result);
      const t = result.traces[0];
      assert.equal(t.family, family);
      assert.equal(t.sourceAddress, family === 4 ? '10.91.1.2' : 'fd91:1::2');
      assert.deepEqual(t.hops.slice(0, 2).map((h) => h.responders.map((r) => r.address)), ROUTERS[family]);
      assert.deepEqual(t.hops.map((h) => h.received), [3, 3, 3]);
      assert.equal(t.reachedAtTtl, 3);
      // Nothing listens on the destination: TCP port 80 answers RST.
      assert.equal(t.destinationReply, proto === 'udp' ? 'port-unreachable' : proto === 'tcp' ? 'tcp-rst' : 'echo-reply');
      assert.equal(t.lateReplies + t.duplicateReplies, 0);
    });
  }

  test(`IPv${family}: the kernel's unreachable and prohibit routes give ${family === 4 ? '!H' : '!N'} and !X at hop 2`, { skip: SKIP }, () => {
    const cases: Array<[string, string]> = family === 4
      ? [['10.91.8.5', '!H'], ['10.91.9.5', '!X']]
      : [['fd91:8::5', '!N'], ['fd91:9::5', '!X']];
    for (const [dst, flag] of cases) {
      // The kernel rate-limits unreachables from routing errors per source (ip_error: ~1/s
      // after a burst, sharing its bucket with the ICMP limiter that the earlier traces
      // drained): give it a second, as a real router would need.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
      const { code, result, stderr } = traceFromClient([dst, '--proto', 'udp', '--rounds', '2']);
      assert.equal(code, 6, stderr);
      assert.ok(result);
      const t = result.traces[0];
      assert.equal(t.status, 'unreachable', `${dst}: ${JSON.stringify(t.hops.map((h) => [h.ttl, h.received, h.responders.map((x) => x.address), h.flags]))}`);
      assert.equal(t.hops.length, 2);
      assert.deepEqual(t.hops[1].flags, [flag], dst);
      assert.equal(t.unreachable?.responder, ROUTERS[family][1][0]);
    }
  });
}

test('-4 / -6 pick the family of an address; a trace from here leaves no namespace behind', { skip: SKIP }, () => {
  const r = traceFromClient(['fd91:3::2', '-4']);
  assert.equal(r.code, 6);
  assert.match(r.stderr, /FAMILY_MISMATCH/);
});
