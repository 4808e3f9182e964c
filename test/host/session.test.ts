/**
 * createHostFacts with a scripted ProcessRunner answering from the recorded outputs of
 * test/data/host (no namespace, no root): what runs, what is filled, how a missing or
 * failing program is said once in `problems`, and that nothing throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessRunner, ProgramResult } from '../../src/capture/index.js';
import { createHostFacts, HOST_FACTS_LIMITS } from '../../src/host/index.js';
import { fixture } from './fixtures.js';

type Answer = Partial<ProgramResult> | ((phase: 'start' | 'stop') => Partial<ProgramResult>);

/**
 * Answers by the argv's text (exact, or a prefix ending in `…`); anything not scripted
 * fails with "not scripted" so that a test sees an unexpected command in `problems`.
 */
function scripted(answers: Record<string, Answer>): ProcessRunner & { ran: string[]; phase: 'start' | 'stop' } {
  const r = {
    ran: [] as string[],
    phase: 'start' as 'start' | 'stop',
    async run(argv: readonly string[]): Promise<ProgramResult> {
      const text = argv.join(' ');
      r.ran.push(text);
      const key = Object.keys(answers).find((k) => k === text || (k.endsWith('…') && text.startsWith(k.slice(0, -1))));
      if (key === undefined) return { code: 1, stdout: '', stderr: `not scripted: ${text}`, missing: false };
      const a = answers[key];
      return { code: 0, stdout: '', stderr: '', missing: false, ...(typeof a === 'function' ? a(r.phase) : a) };
    },
    start(): never { throw new Error('host facts start no long-lived child'); },
  };
  return r;
}

/** The scratch namespace of ./record-fixtures.ts as a runner sees it; nft not installed. */
function scratchHost(): ReturnType<typeof scripted> {
  const get = JSON.parse(fixture('scratch.route-get.json')) as Array<{ args: string[]; code: number; stdout: string; stderr: string }>;
  const answers: Record<string, Answer> = {
    'iptables-save -c': (p) => ({ stdout: fixture(`scratch-${p}.iptables-save`) }),
    'ip6tables-save -c': { stdout: fixture('scratch.ip6tables-save') },
    'nft -j list ruleset': { code: null, missing: true },
    'cat /proc/net/netstat /proc/net/snmp /proc/net/stat/nf_conntrack': (p) => ({ stdout: fixture(`scratch-${p}.netstat-snmp.txt`) + fixture(`scratch-${p}.nf_conntrack.txt`) }),
    'ip -j -d addr show': { stdout: fixture('scratch.addr.json') },
    'ip -j neigh show': { stdout: fixture('scratch.neigh.json') },
    'ss -ltnHp': { stdout: fixture('scratch.ss.txt') },
    'sysctl -e …': { stdout: fixture('scratch.sysctl.txt') },
    'ip -4 -j route show table all': { stdout: fixture('scratch.route-table.json') },
  };
  for (const g of get.slice(0, -1)) answers[`ip -j route get ${g.args.join(' ')}`] = { code: g.code, stdout: g.stdout, stderr: g.stderr };
  return scripted(answers);
}

test('a missing nft is one problem line, everything else is filled; rises, route lookups, DNAT', async () => {
  const runner = scratchHost();
  let clock = 1_000;
  const facts = createHostFacts({ runner, now: () => (clock += 500) });
  await facts.start();
  runner.phase = 'stop';
  const result = await facts.stop([
    { namespace: 'host', to: '10.9.1.1' },
    { namespace: 'host', to: '10.1.0.5', from: '10.3.0.9', iif: 'd1' },
    { namespace: 'container nope (veth0)', to: '1.2.3.4' },
  ]);
  assert.deepEqual(result.problems, [
    'nft: not installed (apt-get install nftables)',
    'route lookup to 1.2.3.4: no namespace "container nope (veth0)" (known: host)',
  ]);
  assert.deepEqual([result.startedAt, result.stoppedAt], [1_500, 2_000]);
  assert.equal(runner.ran.filter((a) => a === 'nft -j list ruleset').length, 2); // tried at start and stop, said once
  assert.equal(result.namespaces.length, 1); // the veths' peers are in the same namespace
  const host = result.namespaces[0];
  assert.deepEqual(host.ns, { label: 'host', role: 'host', path: null, veth: null, container: null });

  const drop9 = host.netfilter.find((f) => f.text === '-A INPUT -i lo -p tcp -m tcp --dport 9 -j DROP');
  assert.deepEqual([drop9?.packetsDelta, drop9?.hooks], [2, ['input']]);
  assert.ok(host.netfilter.every((f) => f.source !== 'nft'));
  assert.equal(host.rulesNotListed, 0);
  assert.ok(host.counters.some((c) => c.name === 'Tcp.ActiveOpens' && c.delta >= 4));
  assert.equal(host.conntrack?.count, Number(/nf_conntrack_count = (\d+)/.exec(fixture('scratch.sysctl.txt'))?.[1])); // from sysctl
  assert.equal(host.conntrack?.max, 262144);
  assert.equal('entries' in (host.conntrack?.delta ?? {}), false);

  assert.deepEqual(host.routes.map((r) => [r.to, r.result, r.matchedRoute]), [
    ['10.9.1.1', 'blackhole', 'blackhole 10.9.0.0/16'],
    ['10.1.0.5', 'rp-filter', '10.1.0.0/24 dev d0'],
  ]);
  assert.deepEqual(host.dnat, [{
    text: '-A DOCKER ! -i d0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.5:8080',
    protocol: 'tcp', ports: '80', toAddress: '10.1.0.5', toPorts: '8080', inInterface: 'd0', inNegated: true,
  }]);
  assert.equal(host.listeners.length, 5);
  assert.equal(host.neighbours.length, 3);
  assert.ok(host.links.some((l) => l.name === 'br9' && l.kind === 'bridge'));
  assert.equal(host.sysctls['net.ipv4.ip_forward'], '1');
  // The sysctl keys asked: the fixed ones and each interface's rp_filter and forwarding.
  const sysctlArgv = runner.ran.find((a) => a.startsWith('sysctl -e '))!.split(' ');
  for (const k of ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.d1.rp_filter', 'net.ipv4.conf.br9.forwarding', 'net.netfilter.nf_conntrack_max']) {
    assert.ok(sysctlArgv.includes(k), k);
  }
});

test('stop without start: no rises (null, not 0), counters empty, startedAt null', async () => {
  const runner = scratchHost();
  runner.phase = 'stop';
  const result = await createHostFacts({ runner, now: () => 7 }).stop([]);
  const host = result.namespaces[0];
  assert.equal(result.startedAt, null);
  assert.ok(host.netfilter.length > 0 && host.netfilter.every((f) => f.packetsDelta === null));
  assert.ok(host.netfilter.every((f) => f.verdict === 'drop' || f.verdict === 'reject' || f.kind === 'policy'));
  assert.deepEqual(host.counters, []);
  assert.deepEqual(host.routes, []);
  assert.equal(runner.ran.some((a) => a.includes('route show table all')), false); // no lookups asked: not read
});

test('in a named namespace: ip netns exec; a program missing inside it, no permission, a timeout, a gone namespace, no nf_conntrack', async () => {
  const denied = 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n';
  const runner = scripted({
    'ip netns exec ft-x iptables-save -c': { code: 4, stderr: denied },
    'ip netns exec ft-x ip6tables-save -c': { code: 4, stderr: denied.replace('iptables', 'ip6tables') },
    'ip netns exec ft-x nft -j list ruleset': { code: 255, stderr: 'exec of "nft" failed: No such file or directory\n' },
    // No nf_conntrack: cat fails on that file after printing the other two.
    'ip netns exec ft-x cat /proc/net/netstat /proc/net/snmp /proc/net/stat/nf_conntrack': (p) => ({
      code: 1, stdout: fixture(`scratch-${p}.netstat-snmp.txt`), stderr: 'cat: /proc/net/stat/nf_conntrack: No such file or directory\n',
    }),
    'ip netns exec ft-x ip -j -d addr show': { code: 1, stderr: 'Cannot open network namespace "ft-x": No such file or directory\n' },
    'ip netns exec ft-x ip -j neigh show': { stdout: 'not json' },
    'ip netns exec ft-x ss -ltnHp': { code: null },
    'ip netns exec ft-x sysctl -e …': { stdout: 'net.ipv4.ip_forward = 0\n' },
    'ip netns exec ft-x ip -4 -j route show table all': { code: 2, stderr: 'RTNETLINK answers: Operation not permitted\n' },
    'ip netns exec ft-x ip -j route get 172.31.0.10 from 172.17.0.2 iif docker0': { code: 2, stderr: 'RTNETLINK answers: No route to host\n' },
  });
  const facts = createHostFacts({ runner, netns: 'ft-x', timeoutMs: 250 });
  await facts.start();
  runner.phase = 'stop';
  assert.deepEqual(facts.namespaces().map((n) => [n.label, n.path]), [['host', '/run/netns/ft-x']]);
  const result = await facts.stop([{ namespace: 'host', to: '172.31.0.10', from: '172.17.0.2', iif: 'docker0' }]);
  assert.deepEqual(result.problems.sort(), [
    'conntrack statistics: none in ft-x (nf_conntrack not loaded)',
    'ip6tables-save: permission denied (run as root)',
    'ip: permission denied (run as root)',
    'iptables-save: permission denied (run as root)',
    'namespace ft-x: not found (ip netns list)',
    'nft: not installed (apt-get install nftables)',
    'ss: no answer within 250 ms in ft-x',
  ]);
  const host = result.namespaces[0];
  assert.deepEqual([host.netfilter, host.links, host.neighbours, host.listeners, host.conntrack, host.dnat], [[], [], [], [], null, []]);
  assert.ok(host.counters.some((c) => c.name === 'Tcp.ActiveOpens')); // the two files cat could read
  assert.deepEqual(host.sysctls, { 'net.ipv4.ip_forward': '0' });
  // Without the routing tables EHOSTUNREACH is still `unreachable`; nothing covers it.
  assert.deepEqual([host.routes[0].result, host.routes[0].error, host.routes[0].matchedRoute], ['unreachable', 'RTNETLINK answers: No route to host', null]);
});

test('a runner that throws or answers nothing never makes start/stop throw; bad queries are not run', async () => {
  const throwing: ProcessRunner = { async run() { throw new Error('ssh connection lost'); }, start(): never { throw new Error('no'); } };
  const facts = createHostFacts({ runner: throwing });
  await facts.start();
  const result = await facts.stop([{ namespace: 'host', to: '10.0.0.1; rm -rf /' }, { namespace: 'host', to: '10.0.0.1', iif: '-n' }]);
  assert.equal(result.namespaces.length, 1);
  assert.deepEqual(result.problems, ['commands could not be run: ssh connection lost']);
  assert.deepEqual(result.namespaces[0].routes.map((r) => [r.result, r.error]), [
    ['error', 'not looked up: not an IP address or interface name'],
    ['error', 'not looked up: not an IP address or interface name'],
  ]);
  const missing = scripted({});
  missing.run = async () => ({ code: null, stdout: '', stderr: '', missing: true });
  const none = await createHostFacts({ runner: missing }).stop([{ namespace: 'host', to: '10.0.0.1' }]);
  assert.deepEqual(none.problems.sort(), [
    'cat: not installed (apt-get install coreutils)', 'ip6tables-save: not installed (apt-get install iptables)', 'ip: not installed (apt-get install iproute2)',
    'iptables-save: not installed (apt-get install iptables)', 'nft: not installed (apt-get install nftables)',
    'ss: not installed (apt-get install iproute2)', 'sysctl: not installed (apt-get install procps)',
  ]);
  assert.equal(none.namespaces[0].routes[0].result, 'error');
});

test('more route lookups than the bound: the first ones made, the rest said', async () => {
  const runner = scratchHost();
  const queries = Array.from({ length: HOST_FACTS_LIMITS.maxRouteQueries + 3 }, () => ({ namespace: 'host', to: '10.9.1.1' }));
  const result = await createHostFacts({ runner }).stop(queries);
  assert.equal(result.namespaces[0].routes.length, HOST_FACTS_LIMITS.maxRouteQueries);
  assert.ok(result.problems.includes(`${queries.length} route lookups asked, the first ${HOST_FACTS_LIMITS.maxRouteQueries} made`));
});
