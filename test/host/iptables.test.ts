/**
 * parseIptablesSave on real `iptables-save -c` / `ip6tables-save -c` output (test/data/host:
 * a scratch namespace with rules of every shape, and the lab's EC2 host with Docker's rules),
 * and on hostile text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, iptablesSaveTables, stripIptablesCounters, type NetfilterFacts } from '../../src/host/index.js';
import { fixture } from './fixtures.js';

const stop = parseIptablesSave(fixture('scratch-stop.iptables-save'), 'iptables');
const rule = (facts: NetfilterFacts[], text: string) => {
  const f = facts.find((x) => x.text === text);
  assert.ok(f, `no rule ${text}`);
  return f;
};

test('every table, policies with their counters, user chains without a policy', () => {
  assert.deepEqual([...new Set(stop.map((f) => f.table))], ['mangle', 'raw', 'filter', 'nat']);
  const policies = stop.filter((f) => f.kind === 'policy' && f.table === 'filter');
  assert.deepEqual(policies.map((p) => [p.text, p.verdict, p.packets, p.bytes, p.hooks]), [
    [':INPUT ACCEPT', 'accept', 0, 0, ['input']],
    [':FORWARD DROP', 'drop', 0, 0, ['forward']],
    [':OUTPUT ACCEPT', 'accept', 10, 509, ['output']],
  ]);
  assert.equal(stop.some((f) => f.chain === 'DOCKER-USER' && f.kind === 'policy'), false);
  assert.ok(stop.every((f) => f.source === 'iptables' && f.family === 'ip'));
  assert.deepEqual(iptablesSaveTables(fixture('scratch-stop.iptables-save')), ['mangle', 'raw', 'filter', 'nat']);
});

test('rules: counters, text without the counter prefix, verdicts and targets', () => {
  const drop9 = rule(stop, '-A INPUT -i lo -p tcp -m tcp --dport 9 -j DROP');
  assert.deepEqual([drop9.kind, drop9.verdict, drop9.target, drop9.packets, drop9.bytes, drop9.packetsDelta], ['rule', 'drop', null, 2, 120, null]);
  assert.equal(rule(stop, '-A INPUT -s 10.3.0.0/16 ! -i d0 -j REJECT --reject-with icmp-host-prohibited').verdict, 'reject');
  assert.equal(rule(stop, '-A DOCKER-USER -j RETURN').verdict, 'return');
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(stop, '-A FORWARD -j DOCKER-USER')), ['jump', 'DOCKER-USER']);
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(stop, '-A FORWARD -g FT-GOTO')), ['goto', 'FT-GOTO']);
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(stop, '-A INPUT -m comment --comment "log \\"all\\" the rest" -j LOG --log-prefix "ft in: "')), ['other', 'LOG']);
  assert.deepEqual(((f) => [f.verdict, f.target])(rule(stop, '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu')), ['other', 'TCPMSS']);
  assert.equal(rule(stop, '-A DOCKER ! -i d0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.5:8080').verdict, 'dnat');
  assert.equal(rule(stop, '-A POSTROUTING -s 10.2.0.0/24 -o d0 -j SNAT --to-source 10.1.0.1').verdict, 'snat');
  assert.equal(rule(stop, '-A POSTROUTING -s 10.1.0.0/24 ! -o d0 -j MASQUERADE').verdict, 'masquerade');
  // Two identical lines stay two facts.
  assert.equal(stop.filter((f) => f.text === '-A FT-DEEP -d 10.1.0.5/32 -j DROP').length, 2);
});

test('matches: interfaces and negation, protocol, addresses, ports, multiport', () => {
  const m = (text: string) => rule(stop, text).match;
  assert.deepEqual(m('-A INPUT -s 10.3.0.0/16 ! -i d0 -j REJECT --reject-with icmp-host-prohibited'), {
    inInterface: 'd0', inNegated: true, outInterface: null, outNegated: false, protocol: null, source: '10.3.0.0/16', destination: null,
    sourcePorts: null, destinationPorts: null, protocolNegated: false, sourceNegated: false, destinationNegated: false,
    sourcePortsNegated: false, destinationPortsNegated: false,
  });
  const fwd = m('-A FORWARD -i d1 ! -o d1 -p tcp -m tcp --sport 1024:65535 -j ACCEPT');
  assert.deepEqual([fwd.inInterface, fwd.inNegated, fwd.outInterface, fwd.outNegated, fwd.protocol, fwd.sourcePorts], ['d1', false, 'd1', true, 'tcp', '1024:65535']);
  assert.equal(m('-A INPUT -p tcp -m multiport --dports 22,80,443 -j ACCEPT').destinationPorts, '22,80,443');
  assert.equal(m('-A INPUT -p udp -m udp --sport 53 -j ACCEPT').sourcePorts, '53');
  const neg = m('-A INPUT ! -s 10.8.0.0/16 ! -p udp -j ACCEPT');
  assert.deepEqual([neg.source, neg.sourceNegated, neg.protocol, neg.protocolNegated], ['10.8.0.0/16', true, 'udp', true]);
  assert.equal(m('-A FT-DEEP -d 10.1.0.5/32 -j DROP').destination, '10.1.0.5/32');
  // --ctorigdstport is the port before DNAT: not the packet's destination port.
  assert.equal(m('-A DOCKER-USER -i d0 -p tcp -m conntrack --ctorigdstport 80 -j DROP').destinationPorts, null);
});

test('hooks: built-in chains their own, user chains those that reach them through jumps and gotos', () => {
  const hooksOf = (chain: string, table = 'filter') => stop.find((f) => f.chain === chain && f.table === table)?.hooks;
  assert.deepEqual(hooksOf('DOCKER-USER'), ['forward']);
  assert.deepEqual(hooksOf('FT-DEEP'), ['forward']); // FORWARD → DOCKER-USER → FT-DEEP
  assert.deepEqual(hooksOf('FT-GOTO'), ['forward']);
  assert.deepEqual(hooksOf('FT-UNUSED'), []); // nothing jumps there
  assert.deepEqual(hooksOf('DOCKER', 'nat'), ['prerouting', 'output']);
  assert.deepEqual(hooksOf('PREROUTING', 'raw'), ['prerouting']);
});

test('the lab EC2 host: Docker\'s rules, DOCKER-ISOLATION chains under forward, ip6tables', () => {
  const lab = parseIptablesSave(fixture('lab-ec2.iptables-save'), 'iptables');
  const iso = lab.find((f) => f.text === '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP');
  assert.deepEqual(iso?.hooks, ['forward']);
  assert.ok((lab.find((f) => f.text === '-A FORWARD -j DOCKER-USER')?.packets ?? 0) > 0);
  const v6 = parseIptablesSave(fixture('scratch.ip6tables-save'), 'ip6tables');
  assert.ok(v6.every((f) => f.source === 'ip6tables' && f.family === 'ip6'));
  const rej = v6.find((f) => f.verdict === 'reject');
  assert.deepEqual([rej?.match.source, rej?.match.destinationPorts, rej?.hooks], ['fd00::/64', '8080', ['input']]);
});

test('hostile input: empty, garbage, no counters, a cut text, unterminated quotes: no throw', () => {
  assert.deepEqual(parseIptablesSave('', 'iptables'), []);
  assert.deepEqual(parseIptablesSave('garbage\n\u0000\u0001[1:2] -A\n-A\n:\n*', 'iptables'), []);
  const noCounters = parseIptablesSave('*filter\n:FORWARD DROP\n-A FORWARD -i docker0 -o ens5 -j DROP\n', 'iptables');
  assert.deepEqual(noCounters.map((f) => [f.kind, f.text, f.packets, f.bytes, f.hooks]), [
    ['policy', ':FORWARD DROP', null, null, ['forward']],
    ['rule', '-A FORWARD -i docker0 -o ens5 -j DROP', null, null, ['forward']],
  ]);
  // Cut in the middle of a table (no COMMIT): what was read is kept.
  const cut = fixture('scratch-stop.iptables-save').slice(0, 900);
  assert.doesNotThrow(() => parseIptablesSave(cut, 'iptables'));
  assert.doesNotThrow(() => parseIptablesSave('*filter\n[1:1] -A X -m comment --comment "open -j DROP\n', 'iptables'));
  const loop = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n', 'iptables');
  assert.deepEqual(loop.find((f) => f.chain === 'B')?.hooks, ['input']);
});

test('stripIptablesCounters gives the lines iptables -S style readers expect', () => {
  assert.equal(stripIptablesCounters('*nat\n[92:5520] -A DOCKER -j RETURN\n:X - [0:0]'), '*nat\n-A DOCKER -j RETURN\n:X - [0:0]');
});
