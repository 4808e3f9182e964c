/**
 * The small parsers on real output recorded by ./record-fixtures.ts: `ip -j -d addr show`,
 * `ip -j neigh show`, `ss -ltnHp`, /proc/net/netstat + /proc/net/snmp,
 * /proc/net/stat/nf_conntrack and `sysctl -e`; and on hostile text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddrJson, parseNeighJson, parseSs, parseProcNetstat, parseConntrackStat, parseSysctl, interfaceSysctlKey } from '../../src/host/index.js';
import { fixture } from './fixtures.js';

test('parseAddrJson: the lab container (eth0 172.17.0.2/16, a veth whose peer is in namespace 0)', () => {
  const links = parseAddrJson(fixture('lab-container.addr.json'));
  assert.deepEqual(links.map((l) => l.name), ['lo', 'eth0']);
  assert.deepEqual(links[1], {
    name: 'eth0', ifindex: 2, kind: 'veth', master: null, operstate: 'UP', up: true, mtu: 1500, mac: '96:18:2e:24:ff:53',
    addresses: ['172.17.0.2/16'], peerIfindex: 3, peerNetnsId: 0,
  });
  assert.deepEqual([links[0].up, links[0].addresses, links[0].kind], [true, [], null]); // lo: UNKNOWN but up; 127.0.0.1 is host scope
});

test('parseAddrJson: the lab EC2 host and the scratch namespace (bridge ports, IPv6, link-local left out)', () => {
  const ec2 = parseAddrJson(fixture('lab-ec2.addr.json'));
  const byName = new Map(ec2.map((l) => [l.name, l]));
  assert.deepEqual(byName.get('ens5')?.addresses, ['172.31.5.20/16']);
  assert.equal(byName.get('ens5')?.mtu, 9001);
  assert.deepEqual([byName.get('veth3f2a1b9')?.kind, byName.get('veth3f2a1b9')?.master], ['veth', 'docker0']);
  assert.equal(byName.get('docker0')?.kind, 'bridge');
  const scratch = new Map(parseAddrJson(fixture('scratch.addr.json')).map((l) => [l.name, l]));
  assert.deepEqual(scratch.get('d0')?.addresses, ['10.1.0.1/24', 'fd00::1/64']);
  assert.equal(scratch.get('d1p')?.master, 'br9');
  assert.equal(scratch.get('d0')?.peerNetnsId, null); // its peer d0p is in the same namespace
  const down = parseAddrJson('[{"ifindex":9,"ifname":"v","flags":["BROADCAST","MULTICAST","UP"],"operstate":"LOWERLAYERDOWN"}]');
  assert.equal(down[0].up, false); // UP without LOWER_UP: no carrier
});

test('parseNeighJson: INCOMPLETE without lladdr, STALE, PERMANENT', () => {
  assert.deepEqual(parseNeighJson(fixture('scratch.neigh.json')), [
    { address: '10.1.0.6', dev: 'd0', lladdr: null, state: ['INCOMPLETE'] },
    { address: '10.1.0.8', dev: 'd0', lladdr: '02:00:00:00:00:08', state: ['STALE'] },
    { address: '10.1.0.7', dev: 'd0', lladdr: '02:00:00:00:00:07', state: ['PERMANENT'] },
  ]);
  assert.equal(parseNeighJson(fixture('lab-ec2.neigh.json')).find((n) => n.address === '172.17.0.2')?.dev, 'docker0');
});

test('parseSs: IPv4, dual stack *, [::], loopback, [::1], the process', () => {
  const ls = parseSs(fixture('scratch.ss.txt'));
  assert.deepEqual(ls.map((l) => `${l.address} ${l.port}`).sort(), ['* 8081', '0.0.0.0 8080', '127.0.0.1 8083', ':: 8082', '::1 8084']);
  assert.match(ls[0].process ?? '', /^node \(pid \d+\)$/);
  assert.deepEqual(parseSs(fixture('lab-container.ss.txt')).map((l) => [l.address, l.port]), [['0.0.0.0', 8080]]);
  // Lines as other ss versions and systems print them.
  assert.deepEqual(parseSs('LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*\n0 128 [::ffff:10.0.0.1]:22 [::]:* users:(("sshd",pid=1,fd=3),("sshd",pid=1,fd=4),("x\\"y",pid=2,fd=1))\n'), [
    { address: '127.0.0.53%lo', port: 53, process: null },
    { address: '::ffff:10.0.0.1', port: 22, process: 'sshd (pid 1), x\\"y (pid 2)' },
  ]);
});

test('parseProcNetstat: paired lines of both files; the traffic of the recording rose the right counters', () => {
  const start = parseProcNetstat(fixture('scratch-start.netstat-snmp.txt'));
  const stop = parseProcNetstat(fixture('scratch-stop.netstat-snmp.txt'));
  assert.ok(Object.keys(stop).length > 200);
  assert.equal(typeof stop['TcpExt.ListenOverflows'], 'number');
  assert.equal(typeof stop['IpExt.InNoRoutes'], 'number');
  assert.equal(typeof stop['Ip.InDiscards'], 'number');
  assert.equal(typeof stop['IcmpMsg.InType3'] === 'number' || stop['IcmpMsg.InType3'] === undefined, true);
  assert.equal(stop['Tcp.MaxConn'], -1); // a negative value is kept
  assert.ok(stop['Tcp.ActiveOpens'] - start['Tcp.ActiveOpens'] >= 4); // four connects over lo
});

test('parseConntrackStat: hex per CPU summed, entries taken once', () => {
  const text = fixture('scratch-stop.nf_conntrack.txt');
  const cpuLines = text.trim().split('\n').slice(1);
  assert.ok(cpuLines.length >= 2);
  const s = parseConntrackStat(text);
  // Every CPU line repeats the table's size: it is that size, not the sum.
  assert.equal(s.entries, parseInt(cpuLines[0], 16));
  assert.ok(s.entries > 0);
  assert.equal(s.insert_failed, 0);
  assert.ok('search_restart' in s && 'icmp_error' in s);
  const sum = parseConntrackStat('entries  found drop\n00000003  0000000a 00000001\n00000003  00000005 00000002\n');
  assert.deepEqual(sum, { entries: 3, found: 15, drop: 3 });
});

test('parseSysctl: key = value, tabs in values kept, unknown keys absent (sysctl -e)', () => {
  const s = parseSysctl(fixture('scratch.sysctl.txt'));
  assert.equal(s['net.ipv4.ip_forward'], '1');
  assert.equal(s['net.ipv4.conf.d1.rp_filter'], '1');
  assert.equal(s['net.ipv4.ip_local_port_range'], '32768\t60999');
  assert.equal('net.ipv4.conf.no/such.rp_filter' in s, false);
  assert.equal(interfaceSysctlKey('net.ipv4.conf', 'eth0.100', 'rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  assert.deepEqual(parseSysctl('net.ipv4.conf.a/b.rp_filter = 0\n'), { 'net.ipv4.conf.a/b.rp_filter': '0' });
});

test('hostile input: empty, garbage, truncated: empty results, never a throw', () => {
  for (const text of ['', 'garbage', '[{"ifindex":', '{}', '[null, 1, "x", {"ifindex": "1"}]', '\u0000\u0001\n\n']) {
    assert.deepEqual(parseAddrJson(text), []);
    assert.deepEqual(parseNeighJson(text), []);
    assert.deepEqual(parseSs(text), []);
    assert.deepEqual(parseProcNetstat(text), {});
    assert.deepEqual(parseConntrackStat(text), {});
    assert.deepEqual(parseSysctl(text), {});
  }
  assert.deepEqual(parseProcNetstat('TcpExt: A B\nTcpExt: 1\nIp: X\nUdp: 3\n'), { 'TcpExt.A': 1 }); // short value line, mismatched pair
  assert.deepEqual(parseConntrackStat('entries found\nzz 00\n00000001 00000002 00000003\n'), {});
  assert.deepEqual(parseSs('LISTEN 0 511 nocolon 0.0.0.0:*\nLISTEN x y 1.2.3.4:80 *:*\nLISTEN 0 511 1.2.3.4:99999 *:*'), []);
});
