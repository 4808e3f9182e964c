/**
 * `flowtrace trace` as a user runs it: real raw sockets on loopback only (never another
 * address), privilege errors as an unprivileged user, usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { selfCliArgv, PACKAGE_ROOT } from '../../src/self.js';
import type { TraceResult } from '../../src/trace/index.js';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const ROOT_SKIP = IS_ROOT ? false : 'needs root: raw sockets (and switching to user nobody) need it';

function cli(args: string[], prefix: string[] = []): { code: number; stdout: string; stderr: string } {
  const argv = [...prefix, ...selfCliArgv(), 'trace', ...args];
  const r = spawnSync(argv[0], argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function hasSetpriv(): boolean {
  return spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status === 0;
}

for (const proto of ['udp', 'tcp', 'icmp'] as const) {
  test(`loopback ${proto} trace (raw sockets, 127.0.0.1 and ::1): destination at hop 1, JSON result`, { skip: ROOT_SKIP }, () => {
    for (const host of ['127.0.0.1', '::1']) {
      const r = cli([host, '--proto', proto, '--rounds', '2', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as TraceResult;
      assert.equal(result.schema, 'flowtrace.trace/1');
      assert.equal(result.status, 'reached');
      assert.equal(result.failureSource, null);
      assert.equal(result.port, proto === 'icmp' ? null : proto === 'tcp' ? 80 : 33434);
      const t = result.traces[0];
      assert.equal(t.address, host);
      assert.equal(t.reachedAtTtl, 1);
      assert.equal(t.hops.length, 1);
      assert.equal(t.hops[0].sent, 2);
      assert.equal(t.hops[0].received, 2);
      assert.ok(t.hops[0].rttMinMs !== null && t.hops[0].rttMinMs >= 0 && t.hops[0].rttMaxMs! >= t.hops[0].rttMinMs);
      // UDP 33434 has no listener (port unreachable); TCP 80 answers RST, or SYN-ACK if something listens there.
      const expected = proto === 'udp' ? ['port-unreachable'] : proto === 'tcp' ? ['tcp-rst', 'tcp-syn-ack'] : ['echo-reply'];
      assert.ok(expected.includes(t.destinationReply!), `${t.destinationReply}`);
    }
  });
}

test('text output: header, hop table with loss/RTT columns, status line', { skip: ROOT_SKIP }, () => {
  const r = cli(['127.0.0.1', '--proto', 'icmp', '--rounds', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^trace to 127\.0\.0\.1 \(127\.0\.0\.1\): icmp echo, 3 rounds, max 30 hops/);
  assert.match(r.stdout, /HOP\s+ADDRESS\s+LOSS%\s+SNT\s+RCV\s+MIN\s+AVG\s+MAX/);
  assert.match(r.stdout, /\n\s+1\s+127\.0\.0\.1\s+0\.0\s+3\s+3\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+destination \(echo reply\)/);
  assert.match(r.stdout, /status: reached, destination reached at hop 1/);
});

test('without privilege: one-line PrivilegeError with the root/CAP_NET_RAW hint, exit 4, no stack trace', { skip: !IS_ROOT ? 'needs root to switch to user nobody' : !hasSetpriv() ? 'setpriv (util-linux) is not installed' : false }, () => {
  const r = cli(['127.0.0.1', '--proto', 'icmp'], ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all']);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error\[PRIVILEGE\]: sending trace probes through raw sockets needs privileges flowtrace does not have\nhint: raw sockets need root or CAP_NET_RAW: run with sudo, or setcap cap_net_raw\+ep \$\(which node\)\n$/);
  // A name: the privilege error comes before any lookup.
  const named = cli(['localhost', '--proto', 'udp'], ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all']);
  assert.equal(named.code, 4, named.stderr);
  assert.match(named.stderr, /^error\[PRIVILEGE\]/);
});

test('an unprivileged user with only CAP_NET_RAW can trace', { skip: !IS_ROOT ? 'needs root to switch to user nobody' : !hasSetpriv() ? 'setpriv (util-linux) is not installed' : false }, () => {
  const r = cli(['127.0.0.1', '--proto', 'icmp', '--rounds', '1', '--json'], ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as TraceResult).traces[0].reachedAtTtl, 1);
});

test('usage errors: exit 2, one line and a hint', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /trace needs a HOST/],
    [['a', 'b'], /trace takes one HOST, got 2/],
    [['127.0.0.1', '--proto', 'sctp'], /unknown probe protocol 'sctp'/],
    [['127.0.0.1', '--max-ttl', '0'], /bad max TTL 0/],
    [['127.0.0.1', '--max-ttl', 'x'], /--max-ttl needs a whole number/],
    [['127.0.0.1', '--rounds', '101'], /bad rounds 101/],
    [['127.0.0.1', '--port', '70000', '--proto', 'tcp'], /bad port 70000/],
    [['127.0.0.1', '--proto', 'icmp', '--port', '80'], /--port has no meaning with --proto icmp/],
    [['127.0.0.1', '--timeout', '0'], /bad --timeout '0'/],
    [['127.0.0.1', '-4', '-6'], /-4 and -6 together/],
    [['127.0.0.1', '--bogus'], /^error\[USAGE\]: unknown option '--bogus'$/m],
    [['127.0.0.1', '-T', '--mtu'], /--mtu needs udp or icmp probes/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error\[USAGE\]: .*\nhint: .*\n$/);
    assert.match(r.stderr, message);
  }
  const fam = cli(['127.0.0.1', '-6']);
  assert.equal(fam.code, 6);
  assert.match(fam.stderr, /^error\[FAMILY_MISMATCH\]: 127\.0\.0\.1 is an IPv4 address but -6 was given\nhint: /);
});

test('--help', () => {
  const r = cli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: flowtrace trace HOST/);
  assert.match(r.stdout, /--proto P/);
  assert.match(r.stdout, /--mtu\s+then find the path MTU/);
});

test("traceroute's and mtr's short flags: -I/-T/-U pick the protocol, -c is --rounds, -n and -r are accepted", { skip: ROOT_SKIP }, () => {
  const cases: Array<[string[], { proto: string; port: number | null; rounds: number; maxTtl: number }]> = [
    [['-I', '-n'], { proto: 'icmp', port: null, rounds: 3, maxTtl: 30 }],
    [['-T', '-p', '9', '-m', '5'], { proto: 'tcp', port: 9, rounds: 3, maxTtl: 5 }],
    [['-U', '-q', '1', '-w', '1'], { proto: 'udp', port: 33434, rounds: 1, maxTtl: 30 }],
    [['-r', '-c', '2', '-I'], { proto: 'icmp', port: null, rounds: 2, maxTtl: 30 }],
    [['-nI', '--proto', 'icmp'], { proto: 'icmp', port: null, rounds: 3, maxTtl: 30 }],
  ];
  for (const [flags, want] of cases) {
    const r = cli([...flags, '127.0.0.1', '--json']);
    assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`);
    const result = JSON.parse(r.stdout) as TraceResult;
    assert.deepEqual({ proto: result.proto, port: result.port, rounds: result.rounds, maxTtl: result.maxTtl }, want, flags.join(' '));
    assert.equal(result.traces[0].hops[0].sent, want.rounds);
  }
});

test('two protocol picks, or -q with -c, are usage errors', () => {
  for (const [flags, message] of [
    [['-I', '-T'], /two probe protocols: icmp and tcp/],
    [['-U', '--proto', 'tcp'], /two probe protocols: tcp and udp/],
    [['-q', '2', '-c', '2'], /-q\/--rounds and -c together/],
  ] as Array<[string[], RegExp]>) {
    const r = cli([...flags, '127.0.0.1']);
    assert.equal(r.code, 2, flags.join(' '));
    assert.match(r.stderr, /^error\[USAGE\]: .*\nhint: .*\n$/);
    assert.match(r.stderr, message);
  }
});

test('one probe is "1 probe", not "1 probes"', { skip: ROOT_SKIP }, () => {
  const r = cli(['127.0.0.1', '-q', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /, 1 probe in [\d.]+ s\n/);
});
