/**
 * Regenerates test/data/host/: the real outputs the host/ parsers are tested on, recorded on
 * this project's machine (Debian 12: iptables v1.8.9 (nf_tables), nftables 1.0.6, iproute2).
 *
 * It builds a scratch namespace `ftthost-rec` (veth pairs d0/d0p 10.1.0.1/24 and d1/d1p
 * 10.2.0.1/24, d1p in a bridge br9, routes of every failing type, iptables/ip6tables rules of
 * every shape the parser knows, native nft tables in the inet, netdev, bridge and ip
 * families, a few listeners, neighbour entries), reads the counters, sends traffic over lo
 * that some DROP rules count, reads again, and deletes the namespace. When the lab is up it
 * also reads (read-only) ft-ec2's and ft-container's rules, links and listeners.
 * Run as root: node --import tsx test/host/record-fixtures.ts
 */
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';

const out = new URL('../data/host/', import.meta.url);
fs.mkdirSync(out, { recursive: true });
const NS = 'ftthost-rec';

function sh(argv: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function inNs(argv: string[], input?: string) {
  const r = sh(['ip', 'netns', 'exec', NS, ...argv], input);
  if (r.code !== 0 && !argv.includes('get')) process.stderr.write(`${argv.join(' ')}: ${r.stderr}`);
  return r;
}
function save(name: string, text: string): void {
  fs.writeFileSync(new URL(name, out), text);
}
/** JSON outputs are stored as the tools print them (one line), checked to be JSON. */
function pretty(json: string): string {
  JSON.parse(json);
  return json;
}

const IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:FT-DEEP - [0:0]
:FT-GOTO - [0:0]
:FT-UNUSED - [0:0]
-A INPUT -i lo -p tcp --dport 9 -j DROP
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,80,443 -j ACCEPT
-A INPUT -p udp --sport 53 -j ACCEPT
-A INPUT ! -i d0 -s 10.3.0.0/16 -j REJECT --reject-with icmp-host-prohibited
-A INPUT ! -s 10.8.0.0/16 ! -p udp -j ACCEPT
-A INPUT -m comment --comment "log \\"all\\" the rest" -j LOG --log-prefix "ft in: "
-A FORWARD -j DOCKER-USER
-A FORWARD -i d1 ! -o d1 -p tcp --sport 1024:65535 -j ACCEPT
-A FORWARD -g FT-GOTO
-A DOCKER-USER -i d0 -p tcp -m conntrack --ctorigdstport 80 -j DROP
-A DOCKER-USER -j FT-DEEP
-A DOCKER-USER -j RETURN
-A FT-DEEP -d 10.1.0.5/32 -j DROP
-A FT-DEEP -d 10.1.0.5/32 -j DROP
-A FT-GOTO -j ACCEPT
-A FT-UNUSED -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 10.1.0.0/24 ! -o d0 -j MASQUERADE
-A POSTROUTING -s 10.2.0.0/24 -o d0 -j SNAT --to-source 10.1.0.1
-A DOCKER -i d0 -j RETURN
-A DOCKER ! -i d0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.5:8080
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i d1 -d 10.9.0.0/16 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
`;

const IP6TABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s fd00::/64 -p tcp --dport 8080 -j REJECT --reject-with tcp-reset
-A FORWARD -i d0 -o d1 -j ACCEPT
COMMIT
`;

const NFT = `table inet ft_fw {
  set blocked { type ipv4_addr; elements = { 10.4.0.1, 10.4.0.2 } }
  chain input {
    type filter hook input priority 10; policy accept;
    iifname "lo" tcp dport 7 counter drop
    ct state established,related accept
    iifname "d1" tcp dport { 22, 80 } counter drop
    ip saddr @blocked counter reject
    ip6 saddr fd00::/8 udp dport 1000-2000 counter accept
    tcp dport 8080 reject with tcp reset
    meta l4proto icmp limit rate 5/second accept
    jump ft_sub
  }
  chain ft_sub {
    oifname != "d0" ip daddr 10.5.0.0/16 counter drop
    goto ft_sub2
  }
  chain ft_sub2 {
    return
  }
}
table netdev ft_ingress {
  chain ingress {
    type filter hook ingress device "d1" priority 0; policy accept;
    ip saddr 10.6.6.6 counter drop
  }
}
table bridge ft_br {
  chain forward { type filter hook forward priority 0; policy drop; }
}
table ip ft_other {
  chain post { type nat hook postrouting priority 100; policy accept; oifname "d0" masquerade; }
}
`;

/** Listeners of every address form ss prints: 0.0.0.0, * (dual stack), [::], 127.0.0.1, [::1]. */
const LISTENERS = `
import net from 'node:net';
const listen = (o) => new Promise((r) => net.createServer((s) => s.destroy()).listen(o, r));
await listen({ host: '0.0.0.0', port: 8080 });
await listen({ host: '::', port: 8081 });
await listen({ host: '::', port: 8082, ipv6Only: true });
await listen({ host: '127.0.0.1', port: 8083 });
await listen({ host: '::1', port: 8084 });
process.stdout.write('listening\\n');
setTimeout(() => process.exit(0), 20000);
`;

/** Traffic over lo: connections to :9 (iptables DROP) and :7 (nft counter drop), one that answers. */
const TRAFFIC = `
import net from 'node:net';
import dgram from 'node:dgram';
const tryConnect = (port) => new Promise((r) => { const s = net.connect({ host: '127.0.0.1', port, timeout: 1200 }); s.on('connect', () => { s.destroy(); r(); }); s.on('error', r); s.on('timeout', () => { s.destroy(); r(); }); });
await Promise.all([tryConnect(9), tryConnect(7), tryConnect(8080), tryConnect(8085)]);
const u = dgram.createSocket('udp4');
await new Promise((r) => u.send('x', 9, '10.1.0.6', r));
u.close();
`;

sh(['ip', 'netns', 'del', NS]);
sh(['ip', 'netns', 'add', NS]);
let listeners: ReturnType<typeof spawn> | null = null;
try {
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  inNs(['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0p']);
  inNs(['ip', 'link', 'add', 'd1', 'type', 'veth', 'peer', 'name', 'd1p']);
  inNs(['ip', 'link', 'add', 'br9', 'type', 'bridge']);
  inNs(['ip', 'link', 'set', 'd1p', 'master', 'br9']);
  for (const l of ['d0', 'd0p', 'd1', 'd1p', 'br9']) inNs(['ip', 'link', 'set', l, 'up']);
  inNs(['ip', 'addr', 'add', '10.1.0.1/24', 'dev', 'd0']);
  inNs(['ip', 'addr', 'add', '10.2.0.1/24', 'dev', 'd1']);
  inNs(['ip', 'addr', 'add', 'fd00::1/64', 'dev', 'd0', 'nodad']);
  inNs(['ip', 'route', 'add', '10.6.0.0/16', 'via', '10.1.0.254']);
  inNs(['ip', 'route', 'add', 'blackhole', '10.9.0.0/16']);
  inNs(['ip', 'route', 'add', 'unreachable', '10.8.0.0/16']);
  inNs(['ip', 'route', 'add', 'prohibit', '10.7.0.5']);
  inNs(['ip', 'route', 'add', 'blackhole', '10.9.3.0/24', 'table', '100']);
  inNs(['ip', 'neigh', 'add', '10.1.0.7', 'lladdr', '02:00:00:00:00:07', 'dev', 'd0', 'nud', 'permanent']);
  inNs(['ip', 'neigh', 'add', '10.1.0.8', 'lladdr', '02:00:00:00:00:08', 'dev', 'd0', 'nud', 'stale']);
  inNs(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.d1.rp_filter=1']);
  inNs(['iptables-restore'], IPTABLES);
  inNs(['ip6tables-restore'], IP6TABLES);
  inNs(['nft', '-f', '-'], NFT);

  listeners = spawn('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', LISTENERS], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => listeners!.stdout!.on('data', () => r()));

  const snapshot = (tag: string) => {
    save(`scratch-${tag}.iptables-save`, inNs(['iptables-save', '-c']).stdout);
    save(`scratch-${tag}.nft.json`, pretty(inNs(['nft', '-j', 'list', 'ruleset']).stdout));
    save(`scratch-${tag}.netstat-snmp.txt`, inNs(['cat', '/proc/net/netstat', '/proc/net/snmp']).stdout);
    save(`scratch-${tag}.nf_conntrack.txt`, inNs(['cat', '/proc/net/stat/nf_conntrack']).stdout);
  };
  snapshot('start');
  inNs([process.execPath, '--input-type=module', '-e', TRAFFIC]);
  snapshot('stop');

  save('scratch.ip6tables-save', inNs(['ip6tables-save', '-c']).stdout);
  save('scratch.nft.txt', inNs(['nft', 'list', 'ruleset']).stdout);
  save('scratch.addr.json', pretty(inNs(['ip', '-j', '-d', 'addr', 'show']).stdout));
  save('scratch.neigh.json', pretty(inNs(['ip', '-j', 'neigh', 'show']).stdout));
  save('scratch.ss.txt', inNs(['ss', '-ltnHp']).stdout);
  save('scratch.route-table.json', pretty(inNs(['ip', '-j', 'route', 'show', 'table', 'all']).stdout));
  save('scratch.sysctl.txt', inNs(['sysctl', '-e', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter',
    'net.ipv4.conf.d1.rp_filter', 'net.ipv4.conf.d1.forwarding', 'net.ipv4.conf.no/such.rp_filter', 'net.netfilter.nf_conntrack_max',
    'net.netfilter.nf_conntrack_count', 'net.bridge.bridge-nf-call-iptables', 'net.ipv4.ip_local_port_range']).stdout);

  // Route lookups: one per outcome. A line per lookup: the argv tail, the exit code, stdout, stderr.
  const lookups: Array<{ args: string[]; code: number | null; stdout: string; stderr: string }> = [];
  const get = (args: string[]) => { const r = inNs(['ip', '-j', 'route', 'get', ...args]); lookups.push({ args, ...r }); };
  get(['10.1.0.5']);                                  // unicast on a link
  get(['10.6.1.1']);                                  // via a gateway
  get(['10.1.0.1']);                                  // local
  get(['10.1.0.255']);                                // broadcast
  get(['10.9.1.1']);                                  // blackhole
  get(['10.8.1.1']);                                  // unreachable
  get(['10.7.0.5']);                                  // prohibit
  get(['192.0.2.1']);                                 // no route at all
  get(['10.1.0.5', 'from', '10.2.0.9', 'iif', 'd1']); // forwarded, passes rp_filter
  get(['10.1.0.5', 'from', '10.3.0.9', 'iif', 'd1']); // forwarded, fails rp_filter (no route back to 10.3.0.9)
  get(['10.9.0.5', 'from', '10.2.0.9', 'iif', 'd1']); // forwarded into the blackhole
  get(['10.7.0.5', 'from', '10.2.0.9', 'iif', 'd1']); // forwarded into prohibit
  get(['10.1.0.5', 'from', '10.2.0.9', 'iif', 'nosuch']); // no such interface
  inNs(['sysctl', '-q', '-w', 'net.ipv4.conf.d1.forwarding=0']);
  get(['10.1.0.5', 'from', '10.2.0.9', 'iif', 'd1']); // forwarding off on the input interface
  save('scratch.route-get.json', JSON.stringify(lookups, null, 1) + '\n');
} finally {
  if (listeners?.pid !== undefined) { try { process.kill(listeners.pid); } catch { /* gone */ } }
  sh(['ip', 'netns', 'del', NS]);
}

// The lab's EC2 host and container, read-only, when the lab is up.
if (sh(['ip', 'netns', 'exec', 'ft-ec2', 'true']).code === 0) {
  const ec2 = (argv: string[]) => sh(['ip', 'netns', 'exec', 'ft-ec2', ...argv]).stdout;
  const ctr = (argv: string[]) => sh(['ip', 'netns', 'exec', 'ft-container', ...argv]).stdout;
  save('lab-ec2.iptables-save', ec2(['iptables-save', '-c']));
  save('lab-ec2.nft.json', pretty(ec2(['nft', '-j', 'list', 'ruleset'])));
  save('lab-ec2.addr.json', pretty(ec2(['ip', '-j', '-d', 'addr', 'show'])));
  save('lab-ec2.neigh.json', pretty(ec2(['ip', '-j', 'neigh', 'show'])));
  save('lab-container.addr.json', pretty(ctr(['ip', '-j', '-d', 'addr', 'show'])));
  save('lab-container.ss.txt', ctr(['ss', '-ltnHp']));
}
