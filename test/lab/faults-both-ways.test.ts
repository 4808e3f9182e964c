/**
 * The lab's faults on both directions of the path, as root: the second ENI and the app's
 * /page in the healthy lab, then every fault added for the reply direction (and the
 * request-side faults that came with them) checked with real tools — curl from the client,
 * tcpdump -i any in ft-ec2, the host fact the fault changes — and healed back to exactly the
 * healthy configuration (routes, rules, sysctls, links compared before and after).
 * One lab for the file; each fault is healed before the next.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  LAB, LAB_FAULTS, LAB_PAGE, labStatus, labExec, injectFault, healFault,
} from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { ROOT_SKIP, INSTANCES_FILTER, TARGET_NODES, VETHS, curl, startCapture, type CapturedPacket } from './helpers.js';

const URL_HTTP = `http://${LAB.domain}`;
/** TCP between the ALB nodes and the instances (both sides of the DNAT), ICMP and ARP — captured on both instances: a request lands on either. */
const FILTER = `(${INSTANCES_FILTER}) or icmp or arp`;
const ENS6 = LAB.secondEni.ifname;

/** Packets on an interface (`veth`: the container's veth, whichever instance). */
const on = (pkts: CapturedPacket[], ifname: string, direction?: string) => pkts.filter((p) => (ifname === 'veth' ? VETHS.includes(p.ifname) : p.ifname === ifname) && (direction === undefined || p.direction === direction));
const flagged = (pkts: CapturedPacket[], flags: string) => pkts.filter((p) => p.flags === flags);
const towards = (pkts: CapturedPacket[], address: string) => pkts.filter((p) => p.dst.startsWith(`${address}.`) || p.dst === address);
const from = (pkts: CapturedPacket[], address: string) => pkts.filter((p) => p.src.startsWith(`${address}.`) || p.src === address);

/** curl through one ALB node (by its public address). */
function via(alb: { public: string }, path = '/', timeoutS = 8) {
  return curl(`${URL_HTTP}${path}`, ['--resolve', `${LAB.domain}:80:${alb.public}`], timeoutS);
}

async function inNode(node: string, argv: string[]): Promise<string> {
  const r = await labExec(node, argv);
  assert.equal(r.code, 0, `${node}: ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A kernel counter of a node (nstat -az NAME). */
async function nstat(node: string, name: string): Promise<number> {
  const out = await inNode(node, ['nstat', '-az', name]);
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(out);
  assert.ok(m, `${name} in ${node}: ${out}`);
  return Number(m[1]);
}

/** The packets counter of the first nft rule containing `text`, in a bridge table of ft-vpc. */
async function vpcRuleCounter(table: string, text: string): Promise<number> {
  const out = await inNode('vpc', ['nft', 'list', 'table', 'bridge', table]);
  const line = out.split('\n').find((l) => l.includes(text));
  assert.ok(line, `rule with ${text} in ${table}:\n${out}`);
  return Number(/counter packets (\d+)/.exec(line)![1]);
}

async function sysctlIn(node: string, key: string): Promise<number> {
  return Number((await inNode(node, ['sysctl', '-n', key])).trim());
}

/**
 * What the lab is configured with, without counters or timers: routes, rules, rulesets,
 * links and the sysctls the faults touch. Equal before a fault and after its heal.
 */
async function configuration(): Promise<string> {
  const noCounters = (s: string) => s.replace(/\[\d+:\d+\]/g, '').replace(/^#.*$/gm, '');
  const parts = await Promise.all([
    inNode('vpc', ['nft', '-s', 'list', 'ruleset']),
    ...LAB.targets.flatMap((t) => [
      inNode(t.node, ['ip', '-o', 'route', 'show', 'table', 'all']),
      inNode(t.container, ['ip', '-o', 'route', 'show', 'table', 'all']),
      inNode(t.node, ['iptables-save']).then(noCounters),
      inNode(t.node, ['ip', '-o', 'link', 'show']).then((s) => s.replace(/state \S+/g, '')),
      inNode(t.container, ['ip', '-o', 'link', 'show']),
      inNode(t.node, ['sysctl', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.ens5.rp_filter', `net.ipv4.conf.${ENS6}.rp_filter`,
        `net.ipv4.conf.${ENS6}.arp_ignore`, `net.ipv4.conf.${ENS6}.arp_announce`,
        'net.ipv4.neigh.docker0.retrans_time_ms', 'net.ipv4.neigh.docker0.mcast_solicit']),
      // What listens, without the queue columns (a health check in the accept queue is a count, not configuration).
      inNode(t.container, ['ss', '-ltnH']).then((s) => s.replace(/^(\S+)\s+\d+\s+\d+\s+/gm, '$1 ')),
    ]),
  ]);
  return parts.join('\n----\n');
}

/** The lab's configuration as a healthy lab has it, taken once in before(). */
let healthy = '';

/**
 * Injects the fault twice (idempotent), runs the checks, heals twice (even when a check
 * failed), then expects the healthy configuration and a 200 through both ALB nodes.
 */
async function withFault(name: keyof typeof LAB_FAULTS, checks: () => Promise<void>): Promise<void> {
  await injectFault(name);
  await injectFault(name);
  try {
    assert.deepEqual(labStatus().faults, [name]);
    await checks();
  } finally {
    await healFault(name);
    await healFault(name);
  }
  assert.deepEqual(labStatus().faults, []);
  assert.equal(await configuration(), healthy, `${name}: heal restores the healthy configuration`);
  for (const alb of [LAB.albA, LAB.albB]) {
    const r = await via(alb);
    assert.equal(r.status, 200, `after heal ${name}, via ${alb.public}: ${r.stderr}`);
  }
}

describe('lab faults on both directions (root)', { skip: ROOT_SKIP }, () => {

  useLab();
  before(async () => { healthy = await configuration(); });

  test('each instance has a second ENI (ec2-a: ens6 172.31.64.20/20, MTU 9001) on the VPC bridge, idle while healthy', async () => {
    const link = await inNode('ec2', ['ip', '-o', 'addr', 'show', 'dev', ENS6]);
    assert.match(link, /inet 172\.31\.64\.20\/20 /);
    assert.match(await inNode('ec2', ['ip', '-o', 'link', 'show', 'dev', ENS6]), /mtu 9001 .*state UP/);
    // ens6 answers ARP only for its own address, so the ALB nodes keep using ens5.
    assert.equal(await sysctlIn('ec2', `net.ipv4.conf.${ENS6}.arp_ignore`), 1);
    assert.match(await inNode('ec2', ['ip', 'route', 'get', LAB.albA.vpc]), /dev ens5 /);
    assert.match(await inNode('ec2', ['ip', 'route', 'get', LAB.albB.vpc]), /dev ens5 /);
    // The VPC's source/destination check is there for both ENIs.
    const srcdst = await inNode('vpc', ['nft', 'list', 'table', 'bridge', 'ft_srcdst']);
    assert.match(srcdst, /iifname "ec2" ip saddr != 172\.31\.5\.20 counter packets \d+ bytes \d+ drop/);
    assert.match(srcdst, /iifname "ec2b" ip saddr != 172\.31\.64\.20 counter packets \d+ bytes \d+ drop/);
    // ec2-b: the same, in zone b's subnets.
    assert.match(await inNode('ec2-b', ['ip', '-o', 'addr', 'show', 'dev', ENS6]), /inet 172\.31\.80\.20\/20 /);
    assert.match(srcdst, /iifname "b-ens5" ip saddr != 172\.31\.21\.20 counter packets \d+ bytes \d+ drop/);
    assert.match(srcdst, /iifname "b-ens6" ip saddr != 172\.31\.80\.20 counter packets \d+ bytes \d+ drop/);
    const cap = await startCapture(TARGET_NODES, FILTER);
    const [a, b] = await Promise.all([via(LAB.albA), via(LAB.albB)]);
    const pkts = await cap.stop();
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.ok(on(pkts, 'ens5').length > 0);
    assert.equal(on(pkts, ENS6).length, 0, 'nothing on ens6');
  });

  test('GET /page: 200, the same 16 KB of HTML every time, in several full-size segments', async () => {
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA, '/page');
    const pkts = await cap.stop();
    assert.equal(r.status, 200);
    assert.equal(r.body, LAB_PAGE.toString('utf8'));
    assert.ok(LAB_PAGE.length > 16_000 && LAB_PAGE.length < 17_000, String(LAB_PAGE.length));
    assert.match(r.body, /^<!doctype html>/);
    const big = on(pkts, 'ens5', 'Out').filter((p) => (p.length ?? 0) > 1400);
    assert.ok(big.length > 0, 'the answer leaves ens5 in segments over 1400 bytes');
  });

  test('every new fault is listed with its layer, description and symptom', () => {
    const expected: Record<string, string> = {
      'reply-drop-host': 'container', 'nacl-ephemeral': 'instance', 'no-route-back': 'container', 'container-no-route': 'container',
      'alb-node-down': 'loadBalancer', 'rp-filter': 'container', 'app-wrong-port': 'application', 'app-localhost': 'application',
      'mtu-blackhole': 'instance', 'container-arp': 'container', 'conntrack-full': 'container', 'asymmetric-route': 'container',
    };
    for (const [name, layer] of Object.entries(expected)) {
      const f = (LAB_FAULTS as Record<string, { layer: string; description: string; symptom: string }>)[name];
      assert.ok(f, name);
      assert.equal(f.layer, layer, name);
      assert.ok(f.description.length > 20 && f.symptom.length > 20, name);
    }
  });

  test('reply-drop-host: ALB 504; the SYN-ACK goes veth → docker0 and never out of ens5; the FORWARD rule counts it', () => withFault('reply-drop-host', async () => {
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA);
    const pkts = await cap.stop();
    assert.equal(r.status, 504);
    for (const [ifname, dir] of [['ens5', 'In'], ['docker0', 'Out'], ['veth', 'Out']] as const) {
      assert.ok(flagged(on(pkts, ifname, dir), 'S').length > 0, `SYN ${ifname} ${dir}`);
    }
    assert.ok(flagged(on(pkts, 'veth', 'In'), 'S.').length > 0, 'SYN-ACK on the veth');
    assert.ok(flagged(on(pkts, 'docker0', 'In'), 'S.').length > 0, 'SYN-ACK on docker0');
    assert.equal(flagged(on(pkts, 'ens5', 'Out'), 'S.').length, 0, 'no SYN-ACK out of ens5');
    const rules = await Promise.all(TARGET_NODES.map(async (n) => (await inNode(n, ['iptables', '-v', '-x', '-n', '-L', 'FORWARD', '1'])).trim().split(/\s+/)));
    assert.ok(rules.every((rule) => rule[2] === 'DROP') && rules.some((rule) => Number(rule[0]) > 0), `FORWARD 1 counts drops: ${rules.map((r) => r.join(' ')).join(' | ')}`);
  }));

  test('nacl-ephemeral: ALB 504; the SYN-ACK leaves ens5 again and again, nothing of the ALB\'s but SYNs comes back; the ACL counts it', () => withFault('nacl-ephemeral', async () => {
    const before = await vpcRuleCounter('ft_nacl', 'comment "nacl outbound deny ephemeral"');
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA);
    const pkts = await cap.stop();
    assert.equal(r.status, 504);
    const synAcks = flagged(on(pkts, 'ens5', 'Out'), 'S.').filter((p) => p.dst.startsWith(`${LAB.albA.vpc}.`));
    assert.ok(synAcks.length >= 2, `SYN-ACK out of ens5, retransmitted: ${synAcks.length}`);
    // The connections the ALB opened (by their SYNs): on them, nothing but SYNs (a FIN of an
    // older kept-alive connection, whose ACK the ACL drops too, is retransmitted beside them).
    const fromAlb = on(pkts, 'ens5', 'In').filter((p) => p.src.startsWith(`${LAB.albA.vpc}.`));
    const opened = new Set(flagged(fromAlb, 'S').map((p) => p.src));
    const onOpened = fromAlb.filter((p) => opened.has(p.src));
    assert.ok(onOpened.length > 0 && onOpened.every((p) => p.flags === 'S'), `only SYNs from the ALB node on the connections it opened: it never saw the SYN-ACK (${onOpened.map((p) => p.flags).join(' ')})`);
    assert.ok(await vpcRuleCounter('ft_nacl', 'comment "nacl outbound deny ephemeral"') > before);
  }));

  test('mtu-blackhole: GET / still 200; GET /page ALB 504, its full-size segments leave ens5 and are retransmitted, never acknowledged', () => withFault('mtu-blackhole', async () => {
    assert.equal((await via(LAB.albA)).status, 200, 'a small answer passes');
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA, '/page');
    const pkts = await cap.stop();
    assert.equal(r.status, 504);
    const out = on(pkts, 'ens5', 'Out').filter((p) => (p.length ?? 0) > 1400);
    assert.ok(out.length >= 2, 'big segments out of ens5');
    const firstSegment = out.filter((p) => p.seq.startsWith('1:'));
    assert.ok(firstSegment.length >= 2, `the first segment is sent again: ${out.map((p) => p.seq).join(' ')}`);
    const conn = firstSegment[0]!.dst;
    const acks = on(pkts, 'ens5', 'In').filter((p) => p.src === conn && p.flags === '.');
    assert.ok(acks.every((p) => /ack 1,/.test(p.info)), 'the ALB node never acknowledges any of the answer');
    assert.ok(await vpcRuleCounter('ft_mtu', 'meta length > 1400') > 0);
  }));

  test('no-route-back: via alb-b ALB 504, the SYN-ACK reaches docker0 and never ens5; via alb-a 200; the route to alb-b is a blackhole', () => withFault('no-route-back', async () => {
    const cap = await startCapture(TARGET_NODES, FILTER);
    const [b, a] = [await via(LAB.albB), await via(LAB.albA)];
    const pkts = await cap.stop();
    assert.equal(b.status, 504);
    assert.equal(a.status, 200);
    assert.ok(flagged(towards(on(pkts, 'docker0', 'In'), LAB.albB.vpc), 'S.').length > 0, 'SYN-ACK to alb-b on docker0');
    assert.equal(towards(on(pkts, 'ens5', 'Out'), LAB.albB.vpc).length, 0, 'nothing to alb-b out of ens5');
    assert.ok(flagged(towards(on(pkts, 'ens5', 'Out'), LAB.albA.vpc), 'S.').length > 0, 'alb-a is answered');
    for (const n of TARGET_NODES) assert.match(await inNode(n, ['ip', 'route', 'show', `${LAB.albB.vpc}/32`]), /^blackhole 172\.31\.16\.10/);
  }));

  test('asymmetric-route: via alb-a ALB 504, the SYN comes in on ens5 and the SYN-ACK leaves ens6; the VPC\'s source/destination check drops it; via alb-b 200', () => withFault('asymmetric-route', async () => {
    const before: Record<string, number> = {};
    for (const t of LAB.targets) before[t.vpcPorts[1]!] = await vpcRuleCounter('ft_srcdst', `iifname "${t.vpcPorts[1]}"`);
    const cap = await startCapture(TARGET_NODES, FILTER);
    const [a, b] = [await via(LAB.albA), await via(LAB.albB)];
    const pkts = await cap.stop();
    assert.equal(a.status, 504);
    assert.equal(b.status, 200);
    assert.ok(flagged(from(on(pkts, 'ens5', 'In'), LAB.albA.vpc), 'S').length > 0, 'SYN from alb-a on ens5');
    const synAcks = flagged(towards(on(pkts, ENS6, 'Out'), LAB.albA.vpc), 'S.');
    assert.ok(synAcks.length > 0 && synAcks.every((p) => LAB.targets.find((t) => t.node === p.node)!.ens5 + '.80' === p.src), 'SYN-ACK out of ens6, from ens5\'s address');
    assert.equal(towards(on(pkts, 'ens5', 'Out'), LAB.albA.vpc).length, 0, 'nothing to alb-a out of ens5');
    for (const n of TARGET_NODES) assert.match(await inNode(n, ['ip', 'route', 'get', LAB.albA.vpc]), /dev ens6 /);
    const port = LAB.targets.find((t) => t.node === synAcks[0]!.node)!.vpcPorts[1]!;
    assert.ok(await vpcRuleCounter('ft_srcdst', `iifname "${port}"`) > before[port]!, 'the source/destination check on ens6\'s port counts the drops');
  }));

  test('rp-filter: via alb-a ALB 504, its SYNs are dropped on arrival at ens5 (nothing on docker0); via alb-b 200; TcpExtIPReversePathFilter rises', () => withFault('rp-filter', async () => {
    const rpf = async () => (await Promise.all(TARGET_NODES.map((n) => nstat(n, 'TcpExtIPReversePathFilter')))).reduce((a, b) => a + b, 0);
    const before = await rpf();
    const cap = await startCapture(TARGET_NODES, FILTER);
    const [a, b] = [await via(LAB.albA), await via(LAB.albB)];
    const pkts = await cap.stop();
    assert.equal(a.status, 504);
    assert.equal(b.status, 200);
    assert.ok(flagged(from(on(pkts, 'ens5', 'In'), LAB.albA.vpc), 'S').length >= 2, 'SYNs from alb-a on ens5, retransmitted');
    assert.equal(from(on(pkts, 'docker0'), LAB.albA.vpc).length, 0, 'nothing from alb-a on docker0');
    assert.ok(await rpf() > before);
    for (const n of TARGET_NODES) assert.equal(await sysctlIn(n, 'net.ipv4.conf.ens5.rp_filter'), 1);
  }));

  test('container-no-route: ALB 504; the SYN reaches the veth, no SYN-ACK anywhere; the container counts IpOutNoRoutes', () => withFault('container-no-route', async () => {
    const noRoutes = async () => (await Promise.all(LAB.targets.map((t) => nstat(t.container, 'IpOutNoRoutes')))).reduce((a, b) => a + b, 0);
    const before = await noRoutes();
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA);
    const pkts = await cap.stop();
    assert.equal(r.status, 504);
    assert.ok(flagged(on(pkts, 'veth', 'Out'), 'S').length > 0, 'SYN on the veth');
    assert.equal(flagged(pkts, 'S.').length, 0, 'no SYN-ACK on any interface');
    assert.ok(await noRoutes() > before);
    for (const t of LAB.targets) assert.doesNotMatch(await inNode(t.container, ['ip', 'route']), /^default/m);
  }));

  test('container-arp: ALB 502 within ~1 s; ARP for 172.17.0.2 unanswered, nothing to the container on the veth but ARP, ICMP host unreachable out of ens5; neighbour FAILED', () => withFault('container-arp', async () => {
    const cap = await startCapture(TARGET_NODES, FILTER);
    const t0 = performance.now();
    const r = await via(LAB.albA);
    const elapsedMs = performance.now() - t0;
    const pkts = await cap.stop();
    assert.equal(r.status, 502);
    assert.ok(elapsedMs < LAB.albTargetTimeoutMs, `before the ALB's timeout: ${elapsedMs} ms`);
    assert.ok(flagged(on(pkts, 'ens5', 'In'), 'S').length > 0, 'SYN on ens5');
    const arp = on(pkts, 'docker0', 'Out').filter((p) => p.kind === 'arp' && p.info.includes(`who-has ${LAB.container.address}`));
    assert.ok(arp.length >= 2, 'ARP requests for the container');
    assert.equal(pkts.filter((p) => p.kind === 'arp' && p.info.includes(`Reply ${LAB.container.address}`)).length, 0, 'no ARP reply');
    // Towards the container nothing but ARP (the app may still close an older kept-alive connection on its side).
    const toContainer = on(pkts, 'veth').filter((p) => p.kind === 'ip' && towards([p], LAB.container.address).length > 0);
    assert.equal(toContainer.length, 0, `no IP packet to the container on the veth: ${toContainer.map((p) => `${p.node} ${p.time} ${p.ifname} ${p.direction} ${p.info}`).join('\n')}`);
    assert.ok(on(pkts, 'ens5', 'Out').some((p) => /ICMP host \S+ unreachable/.test(p.info)), 'ICMP host unreachable out of ens5');
    const served = on(pkts, 'ens5', 'In').find((p) => p.flags === 'S' && p.src.startsWith(`${LAB.albA.vpc}.`))!.node;
    assert.match(await inNode(served, ['ip', 'neigh', 'show', LAB.container.address, 'dev', 'docker0']), /FAILED|INCOMPLETE/);
  }));

  test('conntrack-full: ALB 504; SYNs on ens5 only; each instance\'s table is at nf_conntrack_max, the drop stat rises; the machine\'s own table is untouched', () => withFault('conntrack-full', async () => {
    const hostCount = () => Number(execFileSync('sysctl', ['-n', 'net.netfilter.nf_conntrack_count'], { encoding: 'utf8' }).trim());
    const hostBefore = hostCount();
    const drops = async () => (await Promise.all(TARGET_NODES.map(async (n) => [...(await inNode(n, ['conntrack', '-S'])).matchAll(/ drop=(\d+)/g)].reduce((k, m) => k + Number(m[1]), 0)))).reduce((a, b) => a + b, 0);
    const max = await sysctlIn('ec2', 'net.netfilter.nf_conntrack_max');
    for (const n of TARGET_NODES) assert.equal(await sysctlIn(n, 'net.netfilter.nf_conntrack_count'), max);
    const dropsBefore = await drops();
    const cap = await startCapture(TARGET_NODES, FILTER);
    const r = await via(LAB.albA);
    const pkts = await cap.stop();
    assert.equal(r.status, 504);
    assert.ok(flagged(on(pkts, 'ens5', 'In'), 'S').length >= 2, 'SYNs on ens5, retransmitted');
    assert.equal(on(pkts, 'docker0').filter((p) => p.kind === 'ip').length, 0, 'nothing on docker0');
    assert.ok(await drops() > dropsBefore, 'conntrack drop stat rises');
    assert.ok(Math.abs(hostCount() - hostBefore) < 1000, 'the host namespace\'s conntrack count did not move');
  }));

  test('alb-node-down: curl through alb-b fails at once (7); by name curl falls back to alb-a (200); alb-b is not running, the lab is still up', () => withFault('alb-node-down', async () => {
    const cap = await startCapture(TARGET_NODES, FILTER);
    const b = await via(LAB.albB);
    const byName = await curl(`${URL_HTTP}/`);
    const pkts = await cap.stop();
    assert.equal(b.exit, 7, b.stderr);
    assert.equal(byName.status, 200);
    assert.equal(from(pkts, LAB.albB.vpc).length, 0, 'nothing from alb-b on the instance');
    const st = labStatus();
    assert.equal(st.services.find((s) => s.name === 'alb-b')!.alive, false);
    assert.equal(st.up, true);
    const io = memoryIO();
    await main(['lab', 'status'], io);
    assert.match(io.out.join(''), /alb-b +in ft-alb-b +not running/);
    assert.match(io.out.join(''), /alb-b: node not running/);
  }));

  for (const [name, address] of [['app-wrong-port', '0.0.0.0:8081'], ['app-localhost', '127.0.0.1:8080']] as const) {
    const listen = new RegExp(`${address.replace(/\./g, '\\.')}\\b`);
    test(`${name}: ALB 502 at once; SYN ens5 → docker0 → veth, RST back; the app listens on ${address}`, () => withFault(name, async () => {
      const cap = await startCapture(TARGET_NODES, FILTER);
      const r = await via(LAB.albA);
      const pkts = await cap.stop();
      assert.equal(r.status, 502);
      for (const ifname of ['ens5', 'docker0', 'veth']) {
        assert.ok(flagged(on(pkts, ifname), 'S').length > 0, `SYN on ${ifname}`);
        assert.ok(on(pkts, ifname).some((p) => p.flags.includes('R')), `RST on ${ifname}`);
      }
      for (const t of LAB.targets) {
        const ss = await inNode(t.container, ['ss', '-ltnH']);
        assert.match(ss, listen);
        assert.doesNotMatch(ss, /(0\.0\.0\.0|\*):8080\b/);
      }
    }));
  }
});
