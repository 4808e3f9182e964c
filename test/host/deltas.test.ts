/**
 * Rises between the start and stop snapshots recorded around real traffic
 * (./record-fixtures.ts: connections over lo to :9, dropped by an iptables rule, and to :7,
 * dropped by a native nft rule), and which rules a namespace lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  netfilterDeltas, selectNetfilter, risenCounters, risenStats, parseIptablesSave, parseNftRuleset, parseProcNetstat,
  parseConntrackStat, emptyMatch, type NetfilterFacts,
} from '../../src/host/index.js';
import { fixture } from './fixtures.js';

const skipTables = ['filter', 'nat', 'raw', 'mangle'].map((table) => ({ family: 'ip', table })).concat([{ family: 'ip6', table: 'filter' }]);
const read = (tag: 'start' | 'stop') => [
  ...parseIptablesSave(fixture(`scratch-${tag}.iptables-save`), 'iptables'),
  ...parseNftRuleset(fixture(`scratch-${tag}.nft.json`), { skipTables }),
];
const facts = netfilterDeltas(read('start'), read('stop'));

test('the DROP rules that counted the traffic rose; identical rules are told apart by occurrence', () => {
  const drop9 = facts.find((f) => f.text === '-A INPUT -i lo -p tcp -m tcp --dport 9 -j DROP');
  assert.ok((drop9?.packetsDelta ?? 0) >= 1);
  const drop7 = facts.find((f) => f.source === 'nft' && f.text === 'iifname "lo" tcp dport 7 counter drop');
  assert.ok((drop7?.packetsDelta ?? 0) >= 1);
  assert.deepEqual(facts.filter((f) => f.text === '-A FT-DEEP -d 10.1.0.5/32 -j DROP').map((f) => f.packetsDelta), [0, 0]);
  // A rule without a counter, an nft policy: no rise known.
  assert.equal(facts.find((f) => f.text === 'ct state established,related accept')?.packetsDelta, null);
  assert.equal(facts.find((f) => f.source === 'nft' && f.kind === 'policy')?.packetsDelta, null);
});

function fact(text: string, packets: number | null, verdict: NetfilterFacts['verdict'] = 'accept', kind: NetfilterFacts['kind'] = 'rule'): NetfilterFacts {
  return { source: 'iptables', family: 'ip', table: 'filter', chain: 'FORWARD', kind, text, verdict, target: null, hooks: ['forward'], match: emptyMatch(), packets, bytes: packets, packetsDelta: null };
}

test('a rule added during the capture: all its packets; a counter that went down, no start snapshot, another copy: null', () => {
  const start = [fact('-A FORWARD -j A', 10), fact('-A FORWARD -j X', 5)];
  const stop = [fact('-A FORWARD -j A', 3), fact('-A FORWARD -j X', 9), fact('-A FORWARD -j NEW', 4)];
  assert.deepEqual(netfilterDeltas(start, stop).map((f) => f.packetsDelta), [null, 4, 4]);
  assert.deepEqual(netfilterDeltas(null, stop).map((f) => f.packetsDelta), [null, null, null]);
  // iptables was not read at start (it failed then): its rules' rises are unknown, not new.
  assert.deepEqual(netfilterDeltas([], stop, new Set(['nft'])).map((f) => f.packetsDelta), [null, null, null]);
  // One more copy of a text that was there: which copy is new is not known.
  const copies = netfilterDeltas([fact('-A FORWARD -j DROP', 7)], [fact('-A FORWARD -j DROP', 2), fact('-A FORWARD -j DROP', 9)]);
  assert.deepEqual(copies.map((f) => f.packetsDelta), [null, null]);
  // The 2nd identical line matches the 2nd one at start, not the 1st.
  const twice = netfilterDeltas([fact('-A FORWARD -j DROP', 1), fact('-A FORWARD -j DROP', 100)], [fact('-A FORWARD -j DROP', 2), fact('-A FORWARD -j DROP', 150)]);
  assert.deepEqual(twice.map((f) => f.packetsDelta), [1, 50]);
});

test('listed: DROP/REJECT and policies always, others when they rose; the recorded namespace', () => {
  const { listed, notListed } = selectNetfilter(facts, 400);
  assert.equal(notListed, 0);
  assert.ok(listed.some((f) => f.text === '-A INPUT -i lo -j ACCEPT')); // rose
  assert.ok(!listed.some((f) => f.text === '-A FORWARD -i d1 ! -o d1 -p tcp -m tcp --sport 1024:65535 -j ACCEPT')); // did not
  assert.ok(listed.some((f) => f.text === '-A FT-UNUSED -j DROP')); // DROP, even at 0
  assert.ok(listed.some((f) => f.text === ':FORWARD DROP') && listed.some((f) => f.text === ':INPUT ACCEPT'));
  assert.ok(listed.every((f) => f.verdict === 'drop' || f.verdict === 'reject' || f.kind === 'policy' || (f.packetsDelta ?? 0) > 0));
});

test('bounded: risen DROP first, then DROP, then the rest; ruleset order kept; the remainder counted', () => {
  const list = [
    { ...fact(':FORWARD ACCEPT', 0, 'accept', 'policy'), packetsDelta: 0 },
    { ...fact('-A FORWARD -j ACCEPT', 9), packetsDelta: 9 },
    { ...fact('-A FORWARD -d 1.1.1.1 -j DROP', 0, 'drop'), packetsDelta: 0 },
    { ...fact('-A FORWARD -d 2.2.2.2 -j REJECT', 3, 'reject'), packetsDelta: 3 },
    { ...fact('-A FORWARD -d 3.3.3.3 -j DROP', 5, 'drop'), packetsDelta: 5 },
  ];
  const two = selectNetfilter(list, 2);
  assert.deepEqual(two.listed.map((f) => f.text), ['-A FORWARD -d 2.2.2.2 -j REJECT', '-A FORWARD -d 3.3.3.3 -j DROP']);
  assert.equal(two.notListed, 3);
  assert.deepEqual(selectNetfilter(list, 3).listed.map((f) => f.text), ['-A FORWARD -d 1.1.1.1 -j DROP', '-A FORWARD -d 2.2.2.2 -j REJECT', '-A FORWARD -d 3.3.3.3 -j DROP']);
  assert.equal(selectNetfilter(list, 0).listed.length, 0);
});

test('kernel counters and conntrack stats: only those that rose', () => {
  const counters = risenCounters(parseProcNetstat(fixture('scratch-start.netstat-snmp.txt')), parseProcNetstat(fixture('scratch-stop.netstat-snmp.txt')));
  assert.ok(counters.length > 0 && counters.every((c) => c.delta > 0));
  assert.ok(counters.some((c) => c.name === 'Tcp.ActiveOpens'));
  assert.deepEqual(risenCounters({ 'A.x': 1, 'A.y': 5 }, { 'A.x': 3, 'A.y': 5, 'A.z': 9 }), [{ name: 'A.x', stop: 3, delta: 2 }]);
  const stats = risenStats(parseConntrackStat(fixture('scratch-start.nf_conntrack.txt')), parseConntrackStat(fixture('scratch-stop.nf_conntrack.txt')));
  assert.ok(stats.entries > 0);
  assert.deepEqual(risenStats({ drop: 1, found: 2 }, { drop: 4, found: 2 }), { drop: 3 });
});
