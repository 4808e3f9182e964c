/**
 * host/'s readers of what `ip` and `iptables` print for people (issue 16: explain reads what
 * users pasted), against the forms the agent reads (JSON, iptables-save -c) of the same
 * namespace, made by the real tools at test time: a namespace with an uplink veth, a bridge,
 * a bridge port whose peer is in another namespace, Docker's rules (DNAT, MASQUERADE,
 * DOCKER-USER with a DROP, a REJECT, conntrack, multiport, a comment), a rule with a counter
 * of 123456 packets (rounded to K by `iptables -L` without -x), routes (a blackhole), a
 * neighbour entry. Both namespaces are removed even when the test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  iptablesListToSave, lookupInTable, parseAddrJson, parseIpLinksText, parseIptablesSave, parseNeighJson, parseNeighText,
  parseRouteGet, parseRouteTable, parseRouteTableText, type NetfilterFacts,
} from '../../src/host/index.js';
import { parseDnatRules } from '../../src/capture/index.js';

const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root to create a network namespace';

function inNs(ns: string, argv: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input });
}

/** A fact without the rule's text (the two forms spell some options differently). */
function comparable(f: NetfilterFacts): unknown {
  const m = { ...f.match };
  return { table: f.table, chain: f.chain, kind: f.kind, verdict: f.verdict, target: f.target, hooks: f.hooks, match: m, packets: f.packets, bytes: f.bytes };
}

test('iptables -L -n -v (and -x, -t nat, --line-numbers, no -v), ip link/addr (-o, -d, -br), ip route and ip neigh read as their machine forms', { skip: SKIP }, () => {
  const ns = `fttexplain-host${process.pid}`;
  const peer = `fttexplain-peer${process.pid}`;
  const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });
  try {
    ip('netns', 'add', ns);
    ip('netns', 'add', peer);
    ip('-n', ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'vpc0', 'netns', peer);
    ip('-n', ns, 'link', 'add', 'docker0', 'type', 'bridge');
    ip('-n', ns, 'link', 'add', 'veth3f2a1b9', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer);
    ip('-n', ns, 'link', 'set', 'veth3f2a1b9', 'master', 'docker0');
    ip('-n', ns, 'addr', 'add', '172.31.5.20/16', 'dev', 'ens5');
    ip('-n', ns, 'addr', 'add', '172.17.0.1/16', 'dev', 'docker0');
    for (const l of ['lo', 'ens5', 'docker0', 'veth3f2a1b9']) ip('-n', ns, 'link', 'set', l, 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', '172.31.0.1', 'dev', 'ens5');
    ip('-n', ns, 'route', 'add', 'blackhole', '172.31.16.10/32');
    ip('-n', ns, 'neigh', 'add', '172.17.0.2', 'lladdr', '02:42:ac:11:00:02', 'dev', 'docker0', 'nud', 'permanent');
    inNs(ns, ['iptables-restore', '-c'], [
      '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      '-A DOCKER -i docker0 -j RETURN',
      '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080',
      'COMMIT',
      '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':DOCKER - [0:0]', ':DOCKER-USER - [0:0]',
      '-A FORWARD -j DOCKER-USER',
      '[123456:98765432] -A FORWARD -i docker0 -o ens5 -j DROP',
      '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -o docker0 -j DOCKER',
      '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
      '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 8080 -j ACCEPT',
      '-A DOCKER-USER -s 10.9.0.0/16 -p tcp -m multiport --dports 80,443 -m comment --comment "blocked partner" -j REJECT --reject-with tcp-reset',
      '-A DOCKER-USER -i ens5 -p tcp -m tcp --dport 22 -j DROP',
      '-A DOCKER-USER -j RETURN',
      'COMMIT', '',
    ].join('\n'));

    // Rules: iptables -L -n -v -x read back = iptables-save -c, fact for fact (the text aside).
    // Each listing is taken between two saves that agree: the namespace's own first packets
    // (an IGMP report after its links came up) can cross the nat table between two reads.
    const counters = (text: string): string => text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    const steady = (argv: string[]): { list: string; fromSave: ReturnType<typeof parseIptablesSave> } => {
      for (let i = 0; ; i++) {
        const before = inNs(ns, ['iptables-save', '-c']);
        const list = inNs(ns, argv);
        const after = inNs(ns, ['iptables-save', '-c']);
        if (counters(before) === counters(after) || i === 9) return { list, fromSave: parseIptablesSave(after, 'iptables') };
        spawnSync('sleep', ['0.2']);
      }
    };
    const save = inNs(ns, ['iptables-save', '-c']);
    const fromSave = parseIptablesSave(save, 'iptables');
    const filterRead = steady(['iptables', '-L', '-n', '-v', '-x']);
    const filterL = iptablesListToSave(filterRead.list);
    assert.equal(filterL.table, 'filter', 'the table, from the chains');
    assert.deepEqual(filterL.unread, []);
    assert.deepEqual(parseIptablesSave(filterL.saveText, 'iptables').map(comparable), filterRead.fromSave.filter((f) => f.table === 'filter').map(comparable));
    const numbersRead = steady(['iptables', '-L', '-n', '-v', '-x', '--line-numbers']);
    const withNumbers = iptablesListToSave(numbersRead.list);
    assert.deepEqual(parseIptablesSave(withNumbers.saveText, 'iptables').map(comparable), numbersRead.fromSave.filter((f) => f.table === 'filter').map(comparable), '--line-numbers');
    const natRead = steady(['iptables', '-t', 'nat', '-L', '-n', '-v', '-x']);
    const natL = iptablesListToSave(natRead.list);
    assert.equal(natL.table, 'nat', 'a DNAT target says nat');
    assert.deepEqual(parseIptablesSave(natL.saveText, 'iptables').map(comparable), natRead.fromSave.filter((f) => f.table === 'nat').map(comparable));
    const dnat = (text: string): unknown => parseDnatRules(text.replace(/^\[\d+:\d+\] /gm, '')).rules.map((r) => [r.protocol, r.matchPortFrom, r.inInterface, r.inInterfaceNegated, r.toAddress, r.toPortFrom]);
    assert.deepEqual(dnat(natL.saveText), dnat(save));
    // Without -x: counters rounded (123456 → 123K), and said.
    const rounded = iptablesListToSave(inNs(ns, ['iptables', '-L', 'FORWARD', '-n', '-v']));
    assert.equal(rounded.roundedCounters, true);
    assert.equal(parseIptablesSave(rounded.saveText, 'iptables').find((f) => f.verdict === 'drop' && f.kind === 'rule')!.packets, 123_000);
    // Without -v: no counters, no interfaces.
    const plain = iptablesListToSave(inNs(ns, ['iptables', '-L', '-n']));
    assert.equal(plain.noCounters, true);
    assert.equal(parseIptablesSave(plain.saveText, 'iptables').filter((f) => f.kind === 'rule').length, fromSave.filter((f) => f.table === 'filter' && f.kind === 'rule').length);

    // Links: ip -d link + ip addr, and ip -o link + ip -o addr (kinds inferred), as ip -j -d addr.
    const truth = parseAddrJson(inNs(ns, ['ip', '-j', '-d', 'addr']));
    const key = (l: { name: string; ifindex: number; kind: string | null; master: string | null; up: boolean; mtu: number | null; mac: string | null; addresses: string[]; peerIfindex: number | null }): unknown =>
      [l.name, l.ifindex, l.kind, l.master, l.up, l.mtu, l.mac, [...l.addresses].sort(), l.peerIfindex];
    const byName = <T extends { name: string }>(a: T[]): T[] => [...a].sort((x, y) => x.name.localeCompare(y.name));
    const wanted = byName(truth).map(key);
    assert.deepEqual(byName(parseIpLinksText(inNs(ns, ['ip', '-d', 'link']) + inNs(ns, ['ip', 'addr']))).map(key), wanted, 'ip -d link + ip addr');
    assert.deepEqual(byName(parseIpLinksText(inNs(ns, ['ip', '-d', 'addr']))).map(key), wanted, 'ip -d addr');
    // Without -d the kinds are inferred: docker0 (a master) is a bridge, the veths (peers elsewhere) are veths.
    const inferred = parseIpLinksText(inNs(ns, ['ip', '-o', 'link']) + inNs(ns, ['ip', '-o', 'addr']));
    assert.deepEqual(byName(inferred).map(key), wanted, 'ip -o link + ip -o addr');
    const brief = parseIpLinksText(inNs(ns, ['ip', '-br', 'addr']));
    assert.deepEqual(byName(brief).map((l) => [l.name, [...l.addresses].sort()]), byName(truth).map((l) => [l.name, [...l.addresses].sort()]), 'ip -br addr: names and addresses');

    // Routes: ip route show table all = its JSON; lookups from the table agree with the kernel's.
    const table = parseRouteTableText(inNs(ns, ['ip', 'route', 'show', 'table', 'all']));
    assert.deepEqual(table, parseRouteTable(inNs(ns, ['ip', '-j', 'route', 'show', 'table', 'all'])));
    for (const to of ['172.31.0.10', '172.17.0.2', '8.8.8.8', '172.31.16.10']) {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'ip', '-j', 'route', 'get', to], { encoding: 'utf8' });
      const kernel = parseRouteGet(r.stdout, r.stderr, r.status, { to }, table);
      const fromTable = lookupInTable(table, to);
      assert.deepEqual([fromTable.result, fromTable.dev, fromTable.gateway], [kernel.result, kernel.dev, kernel.gateway], to);
    }
    // Neighbours.
    assert.deepEqual(parseNeighText(inNs(ns, ['ip', 'neigh'])), parseNeighJson(inNs(ns, ['ip', '-j', 'neigh'])));
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', peer], { stdio: 'ignore' });
  }
  assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(ns), 'namespaces removed');
});
