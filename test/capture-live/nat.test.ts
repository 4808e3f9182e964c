/**
 * DNAT rules and NAT-following filters. The rule texts are real: test/data/capture-live/
 * docker-nat.iptables-save and docker-nat.iptables-S were written by iptables-save 1.8.9
 * (nf_tables) and `iptables -t nat -S DOCKER` in a scratch namespace loaded with Docker's
 * rules for `-p 80:8080` plus a few more publish forms (see the README there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseDnatRules, translatePort, followNatInFilter } from '../../src/capture/live/index.js';

const SAVE = fs.readFileSync(new URL('../data/capture-live/docker-nat.iptables-save', import.meta.url), 'utf8');
const DASH_S = fs.readFileSync(new URL('../data/capture-live/docker-nat.iptables-S', import.meta.url), 'utf8');

test('parses every DNAT rule of iptables-save text, with ports, ranges, addresses, comments', () => {
  const { rules, unparsed } = parseDnatRules(SAVE);
  assert.deepEqual(unparsed, []);
  assert.equal(rules.length, 5);
  const r80 = rules.find((r) => r.matchPortFrom === 80);
  assert.ok(r80);
  assert.equal(r80.chain, 'DOCKER');
  assert.equal(r80.protocol, 'tcp');
  assert.equal(r80.inInterface, 'docker0');
  assert.equal(r80.inInterfaceNegated, true);
  assert.equal(r80.toAddress, '172.17.0.2');
  assert.equal(r80.toPortFrom, 8080);
  const range = rules.find((r) => r.matchPortFrom === 9000);
  assert.deepEqual([range?.matchPortTo, range?.toPortFrom, range?.toPortTo], [9002, 7000, 7002]);
  const loopback = rules.find((r) => r.matchPortFrom === 8443);
  assert.equal(loopback?.destination, '127.0.0.1/32');
  const commented = rules.find((r) => r.matchPortFrom === 3000);
  assert.equal(commented?.comment, 'web app (compose)');
  assert.equal(commented?.toPortFrom, null); // same port
  assert.equal(rules.find((r) => r.protocol === 'udp')?.toAddress, '172.17.0.3');
});

test('`iptables -S` text gives the same rules as iptables-save', () => {
  const a = parseDnatRules(SAVE).rules.map((r) => r.text);
  const b = parseDnatRules(DASH_S).rules.map((r) => r.text);
  assert.deepEqual(b, a);
});

test('rules of other tables and non-DNAT lines are ignored; broken DNAT lines are reported, not thrown', () => {
  const text = [
    '*filter', '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 1.2.3.4:1', 'COMMIT',
    '*nat', '-A DOCKER -p tcp --dport 81 -j DNAT --to-destination', '-A DOCKER -p tcp --dport 99999 -j DNAT --to-destination 10.0.0.1:1',
    '-A DOCKER -p tcp --dport 82 -j DNAT --to-destination [fd00::2]:8082', 'COMMIT',
  ].join('\n');
  const { rules, unparsed } = parseDnatRules(text);
  assert.equal(rules.length, 1);
  assert.equal(rules[0].toAddress, 'fd00::2');
  assert.equal(rules[0].toPortFrom, 8082);
  assert.equal(unparsed.length, 2);
});

test('translatePort follows single ports and ranges; unchanged ports and docker0-input rules are not followed', () => {
  const { rules } = parseDnatRules(SAVE);
  assert.deepEqual(translatePort(80, rules).map((t) => `${t.toAddress}:${t.toPort}`), ['172.17.0.2:8080']);
  assert.deepEqual(translatePort(9001, rules).map((t) => t.toPort), [7001]);
  assert.deepEqual(translatePort(3000, rules), []); // published on the same port
  assert.deepEqual(translatePort(22, rules), []);
  const own = parseDnatRules('-A DOCKER -i docker0 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.1:81').rules;
  assert.deepEqual(translatePort(80, own), []);
});

test('followNatInFilter widens port primitives and keeps their qualifiers', () => {
  const { rules } = parseDnatRules(SAVE);
  const f = followNatInFilter('port 80', rules);
  assert.equal(f.filter, '(port 80 or port 8080)');
  assert.equal(f.message, 'following NAT: port 80 → 172.17.0.2:8080, capturing port 80 or 8080');
  assert.equal(followNatInFilter('tcp dst port 80 and host 10.0.0.1', rules).filter, '(tcp dst port 80 or tcp dst port 8080) and host 10.0.0.1');
  assert.equal(followNatInFilter('(port http)', rules).filter, '((port 80 or port 8080))');
  assert.equal(followNatInFilter('src or dst port 80', rules).filter, '(src or dst port 80 or src or dst port 8080)');
  assert.equal(followNatInFilter('port 80 or port 5353', rules).filter, '(port 80 or port 8080) or (port 5353 or port 53)');
  const none = followNatInFilter('host 10.0.0.1 and port 22', rules);
  assert.equal(none.filter, 'host 10.0.0.1 and port 22');
  assert.equal(none.message, null);
});

test('the widened filters compile in libpcap (tcpdump -d)', { skip: spawnSync('tcpdump', ['--version']).error ? 'tcpdump is not installed' : false }, () => {
  const { rules } = parseDnatRules(SAVE);
  for (const expr of ['port 80', 'tcp dst port 80 and host 10.0.0.1', '(port http)', 'src or dst port 80', 'port 80 or port 5353', 'udp port 9001']) {
    const widened = followNatInFilter(expr, rules).filter;
    const r = spawnSync('tcpdump', ['-i', 'lo', '-d', widened], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${widened}: ${r.stderr}`);
  }
});
