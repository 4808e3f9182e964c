/**
 * parseNftRuleset on real `nft -j list ruleset` output (test/data/host: the scratch namespace's
 * native inet/netdev/bridge/ip tables beside iptables-nft's tables, and the lab's EC2 host),
 * and on hostile JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftRuleset, parseIptablesSave, iptablesSaveTables, type NetfilterFacts } from '../../src/host/index.js';
import { fixture } from './fixtures.js';

const json = fixture('scratch-stop.nft.json');
const all = parseNftRuleset(json);
const skipTables = [
  ...iptablesSaveTables(fixture('scratch-stop.iptables-save')).map((table) => ({ family: 'ip', table })),
  ...iptablesSaveTables(fixture('scratch.ip6tables-save')).map((table) => ({ family: 'ip6', table })),
];
const native = parseNftRuleset(json, { skipTables });
const rule = (facts: NetfilterFacts[], text: string, table?: string) => {
  const f = facts.find((x) => x.text === text && (table === undefined || x.table === table));
  assert.ok(f, `no rule ${text}`);
  return f;
};

test('tables iptables-save gave are left out; the others (inet, netdev, bridge, ip with another name) stay', () => {
  assert.deepEqual([...new Set(all.map((f) => `${f.family} ${f.table}`))].sort(), [
    'bridge ft_br', 'inet ft_fw', 'ip filter', 'ip ft_other', 'ip mangle', 'ip nat', 'ip raw', 'ip6 filter', 'netdev ft_ingress',
  ]);
  assert.deepEqual([...new Set(native.map((f) => `${f.family} ${f.table}`))].sort(), ['bridge ft_br', 'inet ft_fw', 'ip ft_other', 'netdev ft_ingress']);
  assert.ok(native.every((f) => f.source === 'nft'));
});

test('rules: text without counter values, counters only where the rule has one, verdicts', () => {
  const drop7 = rule(native, 'iifname "lo" tcp dport 7 counter drop');
  assert.deepEqual([drop7.verdict, drop7.packets, drop7.bytes, drop7.hooks, drop7.chain], ['drop', 2, 120, ['input'], 'input']);
  const ct = rule(native, 'ct state established,related accept');
  assert.deepEqual([ct.verdict, ct.packets, ct.bytes], ['accept', null, null]);
  assert.equal(rule(native, 'iifname "d1" tcp dport { 22, 80 } counter drop').match.destinationPorts, '22,80');
  assert.equal(rule(native, 'ip saddr @blocked counter reject with icmp port-unreachable').verdict, 'reject');
  assert.equal(rule(native, 'tcp dport 8080 reject with tcp reset').packets, null);
  assert.equal(rule(native, 'meta l4proto icmp limit rate 5/second accept').match.protocol, 'icmp');
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(native, 'jump ft_sub')), ['jump', 'ft_sub']);
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(native, 'goto ft_sub2')), ['goto', 'ft_sub2']);
  assert.equal(rule(native, 'return').verdict, 'return');
  assert.equal(rule(native, 'oifname "d0" masquerade').verdict, 'masquerade');
  const range = rule(native, 'ip6 saddr fd00::/8 udp dport 1000-2000 counter accept').match;
  assert.deepEqual([range.source, range.protocol, range.destinationPorts], ['fd00::/8', 'udp', '1000:2000']);
  const neg = rule(native, 'oifname != "d0" ip daddr 10.5.0.0/16 counter drop').match;
  assert.deepEqual([neg.outInterface, neg.outNegated, neg.destination, neg.destinationNegated], ['d0', true, '10.5.0.0/16', false]);
});

test('hooks: base chains (netdev ingress, bridge forward) and chains reached by jump then goto', () => {
  assert.deepEqual(rule(native, 'oifname != "d0" ip daddr 10.5.0.0/16 counter drop').hooks, ['input']);
  assert.deepEqual(rule(native, 'return').hooks, ['input']); // input → jump ft_sub → goto ft_sub2
  assert.deepEqual(rule(native, 'ip saddr 10.6.6.6 counter drop').hooks, ['ingress']);
});

test('policies: base chains only, kind policy, no counter (nft has none)', () => {
  const policies = native.filter((f) => f.kind === 'policy');
  assert.deepEqual(policies.map((p) => [p.family, p.chain, p.verdict, p.packets, p.hooks]), [
    ['inet', 'input', 'accept', null, ['input']],
    ['netdev', 'ingress', 'accept', null, ['ingress']],
    ['bridge', 'forward', 'drop', null, ['forward']],
    ['ip', 'post', 'accept', null, ['postrouting']],
  ]);
  assert.equal(policies[2].text, 'type filter hook forward priority 0; policy drop;');
});

test('iptables-nft tables as nft shows them: xt expressions rendered by name, the same counters as iptables-save', () => {
  const dnat = rule(all, 'iifname != "d0" tcp dport 80 counter xt target DNAT');
  assert.deepEqual([dnat.verdict, dnat.hooks], ['dnat', ['prerouting', 'output']]);
  const drop9 = rule(all, 'iifname "lo" tcp dport 9 counter drop', 'filter');
  const fromSave = parseIptablesSave(fixture('scratch-stop.iptables-save'), 'iptables').find((f) => f.text === '-A INPUT -i lo -p tcp -m tcp --dport 9 -j DROP');
  assert.equal(drop9.packets, fromSave?.packets);
  // The lab's EC2 host has only iptables-nft tables: nothing is left once they are skipped.
  const lab = fixture('lab-ec2.nft.json');
  assert.ok(parseNftRuleset(lab).length > 0);
  assert.deepEqual(parseNftRuleset(lab, { skipTables: [{ family: 'ip', table: 'nat' }, { family: 'ip', table: 'filter' }] }), []);
});

test('hostile input: empty, garbage, truncated JSON, wrong shapes: [] or partial, never a throw', () => {
  assert.deepEqual(parseNftRuleset(''), []);
  assert.deepEqual(parseNftRuleset('not json'), []);
  assert.deepEqual(parseNftRuleset(json.slice(0, json.length / 2)), []);
  assert.deepEqual(parseNftRuleset('{"nftables": 3}'), []);
  assert.deepEqual(parseNftRuleset('[1,2]'), []);
  const odd = parseNftRuleset(JSON.stringify({ nftables: [
    null, 5, { rule: { family: 'ip', table: 't', chain: 'c', expr: 'x' } },
    { rule: { family: 'ip', table: 't', chain: 'c', expr: [null, 7, { weird: { a: 1 } }, { match: 'bad' }, { counter: { packets: 'x' } }, { jump: {} }] } },
  ] }));
  assert.equal(odd.length, 2);
  assert.equal(odd[0].text, '');
  assert.equal(odd[1].text, 'null 7 {"weird":{"a":1}} {"match":"bad"} counter {"jump":{}}');
  assert.deepEqual([odd[1].packets, odd[1].verdict, odd[1].hooks], [null, 'other', []]);
});

test('an interface set: rendered as nft writes it, matched as a list', () => {
  const [f] = parseNftRuleset(JSON.stringify({ nftables: [{ rule: { family: 'inet', table: 't', chain: 'c', expr: [
    { match: { op: '==', left: { meta: { key: 'iifname' } }, right: { set: ['ens5', 'ens6'] } } }, { counter: { packets: 3, bytes: 180 } }, { drop: null },
  ] } }] }));
  assert.equal(f.text, 'iifname { "ens5", "ens6" } counter drop');
  assert.deepEqual([f.match.inInterface, f.packets, f.verdict], ['ens5,ens6', 3, 'drop']);
});
