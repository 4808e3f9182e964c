/**
 * The lab's faults: each breaks one layer the way it breaks in production. Injecting and
 * healing are idempotent. Network faults are rules, routes, sysctls, link flags or
 * conntrack entries in one node; service faults change what the services run with (see
 * services.ts `desiredServices`).
 */
import { LAB, ROUTER_NODES, VPC_ALB_PORTS, dockerDnatRule, nsName, securityGroupRuleset, type LabNode } from './topology.js';
import { drainConntrack, fillConntrack } from './conntrack-fill.js';
import { requirePrograms, run, runChecked } from './system.js';

export interface LabFault {
  /** One line: what the fault does. */
  description: string;
  /**
   * The first layer a request no longer gets through (what `flowtrace follow` blames):
   * `instance` = never reaches ens5, `container` = reaches ens5 but not the container,
   * `application` = reaches the container's port. `icmp-ratelimit` breaks no request.
   * When the request gets through and only the reply is lost, the layer is where the reply
   * is lost (the VPC: `instance`; the host: `container`) and the description says so.
   */
  layer: 'dns' | 'route' | 'loadBalancer' | 'instance' | 'container' | 'application';
  /** What a user sees (curl, traceroute, the ALB, a capture on the instance). */
  symptom: string;
}

export const LAB_FAULTS = {
  'dns-nxdomain': { layer: 'dns', description: `the DNS server no longer has ${LAB.domain} (answers NXDOMAIN)`, symptom: 'curl: (6) Could not resolve host; nothing reaches the instance' },
  'dns-down': { layer: 'dns', description: 'the DNS server process is stopped (ICMP port unreachable to queries)', symptom: 'curl: (6) Could not resolve host, quickly; nothing reaches the instance' },
  'dns-drop': { layer: 'dns', description: 'the ISP router drops DNS queries to the DNS server', symptom: 'curl: (6) Could not resolve host after the resolver timeouts; nothing reaches the instance' },
  'route-blackhole': { layer: 'route', description: 'the aws-edge router (hop 3) silently drops traffic to the ALB addresses', symptom: 'curl: (28) connect timeout; traceroute shows hops 1–2, then * * *; nothing on ens5' },
  'route-reject': { layer: 'route', description: 'the aws-edge router (hop 3) rejects traffic to the ALB addresses with ICMP admin-prohibited', symptom: 'curl: (7) fails at once (No route to host); traceroute shows !X after hop 3; nothing on ens5' },
  'no-route': { layer: 'route', description: 'the backbone router (hop 2) has an unreachable route for the ALB addresses', symptom: 'curl: (7) fails at once (No route to host); traceroute shows !H at hop 2; nothing on ens5' },
  'icmp-ratelimit': { layer: 'route', description: 'the routers rate-limit ICMP errors like real routers (1/s per destination after a burst)', symptom: 'back-to-back traceroutes show * for routers that answer; HTTP still works' },
  'sg-block': { layer: 'instance', description: 'the instance\'s security group (bridge firewall in the VPC) drops port 80 before ens5', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; nothing on ens5` },
  'host-firewall': { layer: 'container', description: 'a DOCKER-USER rule on the instance drops forwarded traffic for port 80 from ens5', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN retransmits on ens5 only` },
  'dnat-missing': { layer: 'container', description: 'Docker\'s DNAT rule for -p 80:8080 is gone from the nat DOCKER chain', symptom: 'ALB 502; SYN in on ens5, RST out on ens5, nothing on docker0' },
  'app-down': { layer: 'application', description: 'the container\'s app is not running (nothing listens on 8080)', symptom: 'ALB 502 at once; SYN ens5 → docker0 → veth, RST back the same way' },
  'veth-down': { layer: 'container', description: 'the container\'s veth on the host is down', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN on ens5, nothing on the veth` },
  'app-slow': { layer: 'application', description: `the app answers after ${(LAB.albTargetTimeoutMs + 2000) / 1000} s, longer than the ALB's ${LAB.albTargetTimeoutMs / 1000} s timeout`, symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; the request reaches the container, the answer comes too late` },
  'app-500': { layer: 'application', description: 'the app answers every request with 500', symptom: 'HTTP 500 from the app, passed on by the ALB' },
  'target-deregistered': { layer: 'loadBalancer', description: 'the instance is deregistered from the ALB\'s target group', symptom: 'ALB 503 at once; nothing on ens5' },
  'alb-node-down': { layer: 'loadBalancer', description: 'the ALB node in zone b (alb-b) is down: its process is stopped, alb-a still serves', symptom: `curl to alb-b: (7) at once, connection refused (RST from the node); by name: curl tries the next address and gets 200 from alb-a; nothing from alb-b on ens5 (its health checks stop too)` },
  'nacl-ephemeral': { layer: 'instance', description: 'a network ACL (bridge filter in the VPC) denies the instance\'s outbound replies from port 80 to ephemeral ports: the SYN reaches the container, its SYN-ACK leaves ens5 and is dropped in the VPC', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN ens5 In → docker0 → veth, SYN-ACK veth → docker0 → ens5 Out, retransmitted, never acknowledged; the ACL's counter in ft-vpc rises` },
  'mtu-blackhole': { layer: 'instance', description: 'the VPC path towards the ALB nodes carries no frame over 1400 bytes and sends no ICMP "fragmentation needed": small answers pass, full-size segments of the reply leave ens5 and are lost', symptom: `GET / 200; GET /page ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s: the answer's segments (GSO 7240 bytes, then 1448-byte retransmits of its first segment) go out ens5 and are never acknowledged; health checks pass` },
  'reply-drop-host': { layer: 'container', description: 'a host firewall rule drops the container\'s replies on their way out (FORWARD -i docker0 -o ens5 -j DROP): the SYN reaches the container, its SYN-ACK is dropped between docker0 and ens5', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN ens5 In → docker0 Out → veth Out, SYN-ACK veth In → docker0 In, never out ens5 (retransmitted); the FORWARD rule's counter rises` },
  'no-route-back': { layer: 'container', description: `the instance has a blackhole route to one ALB node (alb-b, ${LAB.albB.vpc}): requests through it reach the container, the reply is dropped in the host's routing; alb-a works`, symptom: `via alb-b: ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s, the SYN-ACK reaches docker0 and never ens5; via alb-a: 200; \`ip route get\` to alb-b fails (blackhole)` },
  'asymmetric-route': { layer: 'container', description: `the instance routes replies to alb-a (${LAB.albA.vpc}) out of its second ENI (ens6): the SYN arrives on ens5, the SYN-ACK leaves ens6 with ens5's address and the VPC's source/destination check drops it; alb-b works`, symptom: `via alb-a: ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s, the SYN arrives on ens5, the SYN-ACK leaves ens6 (never ens5); via alb-b: 200; the VPC's source/destination-check counter rises` },
  'rp-filter': { layer: 'container', description: `strict reverse-path filtering (rp_filter=1) with the route to alb-a (${LAB.albA.vpc}) on ens6: the SYN from alb-a arrives on ens5, where the way back is not, and is dropped on arrival; alb-b works`, symptom: `via alb-a: ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s, SYN retransmits on ens5 In only (nothing on docker0); via alb-b: 200; TcpExtIPReversePathFilter rises` },
  'container-no-route': { layer: 'container', description: 'the container has no default route: the SYN reaches it, it cannot route a SYN-ACK back to the ALB node', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN ens5 → docker0 → veth, no SYN-ACK at all; in ft-container IpOutNoRoutes and TcpExtListenDrops rise` },
  'container-arp': { layer: 'container', description: 'the container stops answering ARP (eth0 arp off): the host cannot resolve 172.17.0.2, the SYN reaches ens5 and never the veth', symptom: `ALB 502 after ~1 s; SYN on ens5, ARP requests for 172.17.0.2 on docker0 and the veth unanswered, ICMP host unreachable out ens5; neighbour 172.17.0.2 FAILED` },
  'conntrack-full': { layer: 'container', description: 'the instance\'s connection-tracking table is full: ft-ec2\'s own count is at the machine-wide nf_conntrack_max (established, assured entries from many clients), so every new connection is dropped on arrival', symptom: `ALB 504 after ${LAB.albTargetTimeoutMs / 1000} s; SYN retransmits on ens5 In only; nf_conntrack_count = nf_conntrack_max, the \`drop\` stat rises, "nf_conntrack: table full in netns …" in the kernel log` },
  'app-wrong-port': { layer: 'application', description: 'the app listens on 8081 instead of 8080 (the container runs, -p 80:8080 points at nothing)', symptom: `ALB 502 at once; SYN ens5 → docker0 → veth, RST back the same way; the app listens on 0.0.0.0:8081` },
  'app-localhost': { layer: 'application', description: 'the app listens only on 127.0.0.1:8080 inside the container', symptom: `ALB 502 at once; SYN ens5 → docker0 → veth, RST back the same way; the app listens on 127.0.0.1:8080` },
  'listener-missing': { layer: 'loadBalancer', description: 'the load balancer has no listener on port 80 any more (HTTPS on 443 still works): both nodes refuse port 80 — the lab\'s node answers RST where an AWS load balancer drops the SYN and the client times out', symptom: 'curl http://: (7) connection refused at once, through both nodes; https:// answers 200; nothing on ens5' },
  'lb-subnet-no-route': { layer: 'loadBalancer', description: `the route table of the load balancer's subnet in zone b lost its default route to the internet gateway: alb-b (${LAB.albB.public}) gets the clients' SYNs and cannot send anything back to them; alb-a works`, symptom: `via alb-b: curl connect timeout, traceroute answers up to hop 3 (${LAB.routers.awsedge.toBackbone}) and never from alb-b; via alb-a: 200; nothing of the failing request on ens5` },
} as const satisfies Record<string, LabFault>;

export type LabFaultName = keyof typeof LAB_FAULTS;

export function isLabFault(name: string): name is LabFaultName {
  return Object.hasOwn(LAB_FAULTS, name);
}

/** Faults applied by the services (process arguments / ALB config), not by rules. */
export const SERVICE_FAULTS: readonly LabFaultName[] = ['dns-nxdomain', 'dns-down', 'app-down', 'app-slow', 'app-500', 'target-deregistered', 'alb-node-down', 'app-wrong-port', 'app-localhost', 'listener-missing'];

function inNs(node: LabNode, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', nsName(node), ...argv];
}

/** Inserts an iptables rule unless it is there already (-C), or deletes it while it is there. */
async function iptablesRule(node: LabNode, table: string, chain: string, rule: string[], present: boolean, position?: number): Promise<void> {
  const check = await run(inNs(node, ['iptables', '-w', '-t', table, '-C', chain, ...rule]));
  const there = check.code === 0;
  if (present && !there) {
    const insert = position === undefined ? ['-A', chain] : ['-I', chain, String(position)];
    await runChecked(inNs(node, ['iptables', '-w', '-t', table, ...insert, ...rule]), `adding a rule in ${nsName(node)}`);
  } else if (!present && there) {
    await runChecked(inNs(node, ['iptables', '-w', '-t', table, '-D', chain, ...rule]), `removing a rule in ${nsName(node)}`);
  }
}

/** Replaces one bridge-family table in ft-vpc with `ruleset`, or removes it (null); both idempotent. */
async function vpcBridgeTable(name: string, ruleset: string | null, what: string): Promise<void> {
  await runChecked(inNs('vpc', ['nft', '-f', '-']), what, { input: `add table bridge ${name}\ndelete table bridge ${name}\n${ruleset ?? ''}` });
}

/** Adds a route (`ip route replace`) or deletes it; deleting one that is not there is no error. */
async function routeFault(node: LabNode, spec: string[], on: boolean, what: string): Promise<void> {
  if (on) {
    await runChecked(inNs(node, ['ip', 'route', 'replace', ...spec]), what);
    return;
  }
  const r = await run(inNs(node, ['ip', 'route', 'del', ...spec]));
  if (r.code !== 0 && !/No such process/.test(r.stderr)) {
    await runChecked(inNs(node, ['ip', 'route', 'del', ...spec]), what);
  }
}

async function sysctls(node: LabNode, values: Record<string, string | number>, what: string): Promise<void> {
  await runChecked(inNs(node, ['sysctl', '-q', '-w', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]), what);
}

/**
 * `nacl-ephemeral`: the subnet's network ACL has an outbound rule denying the instance's
 * replies (source port 80) to the ephemeral ports its clients use. ACLs are stateless, so
 * the request still comes in; the answer never leaves the subnet.
 */
function naclRuleset(): string {
  return `table bridge ft_nacl {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n`
    + `    ip saddr ${LAB.instance.ens5} tcp sport ${LAB.instance.port} tcp dport 1024-65535 counter drop comment "nacl outbound deny ephemeral"\n  }\n}\n`;
}

/** Frames above this many bytes (IP length) do not get through to the ALB nodes under `mtu-blackhole`. */
const MTU_BLACKHOLE_BYTES = 1400;

/**
 * `mtu-blackhole`: the path towards the ALB nodes carries at most 1400-byte packets and
 * sends no ICMP "fragmentation needed" (a link with a smaller MTU behind a filter of ICMP).
 * A bridge does drop frames over its egress port's MTU, but not GSO packets — and between
 * veths a sender's segments stay GSO packets all the way (no NIC cuts them into wire-size
 * frames) — so lowering the ports' MTU lets everything through. The fabric's drop is
 * therefore a length match on the egress ports: a segment bigger than 1400 bytes, or a GSO
 * packet made of them, is lost, as its wire-size frames would be.
 */
function mtuBlackholeRuleset(): string {
  return `table bridge ft_mtu {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n`
    + `    oifname { ${VPC_ALB_PORTS.map((p) => `"${p}"`).join(', ')} } meta length > ${MTU_BLACKHOLE_BYTES} counter drop comment "path mtu ${MTU_BLACKHOLE_BYTES}, no icmp"\n  }\n}\n`;
}

/** The kernel's default time between ARP probes (net.ipv4.neigh.*.retrans_time_ms). */
const KERNEL_ARP_RETRANS_MS = 1000;
/** The kernel's default number of broadcast ARP probes (net.ipv4.neigh.*.mcast_solicit). */
const KERNEL_ARP_MCAST_SOLICIT = 3;

const ALB_NETS = '10.77.0.0/16';

const REAL_ROUTER_ICMP = { 'net.ipv4.icmp_ratelimit': '1000', 'net.ipv4.icmp_msgs_per_sec': '2', 'net.ipv4.icmp_msgs_burst': '2' };
const LAB_ROUTER_ICMP = { 'net.ipv4.icmp_ratelimit': '0', 'net.ipv4.icmp_msgs_per_sec': '1000', 'net.ipv4.icmp_msgs_burst': '50' };

/** Puts one network fault on (`on`) or off. Service faults are handled by reconcileServices. */
export async function setNetworkFault(name: LabFaultName, on: boolean): Promise<void> {
  switch (name) {
    case 'dns-drop':
      for (const proto of ['udp', 'tcp']) {
        await iptablesRule('isp', 'filter', 'FORWARD', ['-d', `${LAB.dnsServer}/32`, '-p', proto, '--dport', '53', '-j', 'DROP'], on, 1);
      }
      return;
    case 'route-blackhole':
      // raw PREROUTING: dropped before the TTL check, so hop 3 itself goes silent too.
      await iptablesRule('awsedge', 'raw', 'PREROUTING', ['-i', 'bb0', '-d', ALB_NETS, '-j', 'DROP'], on, 1);
      return;
    case 'route-reject':
      await iptablesRule('awsedge', 'filter', 'FORWARD', ['-i', 'bb0', '-d', ALB_NETS, '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'], on, 1);
      return;
    case 'no-route':
      await runChecked(inNs('backbone', on
        ? ['ip', 'route', 'replace', 'unreachable', ALB_NETS]
        : ['ip', 'route', 'replace', ALB_NETS, 'via', LAB.routers.awsedge.toBackbone]), 'changing the backbone route');
      return;
    case 'icmp-ratelimit': {
      const values = on ? REAL_ROUTER_ICMP : LAB_ROUTER_ICMP;
      const kv = Object.entries(values).map(([k, v]) => `${k}=${v}`);
      await Promise.all(ROUTER_NODES.map((n) => runChecked(inNs(n, ['sysctl', '-q', '-w', ...kv]), `setting ICMP limits in ${nsName(n)}`)));
      return;
    }
    case 'sg-block':
      await runChecked(inNs('vpc', ['nft', '-f', '-']), 'changing the security group', {
        input: `add table bridge ft_sg\ndelete table bridge ft_sg\n${securityGroupRuleset(on)}`,
      });
      return;
    case 'host-firewall':
      await iptablesRule('ec2', 'filter', 'DOCKER-USER', ['-i', 'ens5', '-p', 'tcp', '-m', 'conntrack', '--ctorigdstport', String(LAB.instance.port), '-j', 'DROP'], on, 1);
      return;
    case 'dnat-missing': {
      const [chain, ...rule] = dockerDnatRule();
      await iptablesRule('ec2', 'nat', chain!, rule, !on);
      return;
    }
    case 'veth-down':
      // The kernel gives up resolving 172.17.0.2 after mcast_solicit (3) × 1 s and answers the
      // ALB with ICMP host unreachable — at the very moment the ALB's 3 s target timeout fires,
      // so the ALB's status raced between 502 and 504. Asking longer than the ALB waits gives
      // the 504 observed in lab-facts.md every time; heal puts the kernel default back.
      await runChecked(inNs('ec2', ['sysctl', '-q', '-w', `net.ipv4.neigh.docker0.mcast_solicit=${on ? 10 : KERNEL_ARP_MCAST_SOLICIT}`]), 'setting ARP probes on docker0');
      await runChecked(inNs('ec2', ['ip', 'link', 'set', LAB.containerVeth, on ? 'down' : 'up']), 'changing the container veth');
      if (on) await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']));
      if (!on) {
        // A stale neighbour entry gives a transient "No route to host" after the link is back.
        await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']));
        await run(inNs('container', ['ip', 'neigh', 'flush', 'dev', 'eth0']));
      }
      return;
    case 'nacl-ephemeral':
      await vpcBridgeTable('ft_nacl', on ? naclRuleset() : null, 'changing the network ACL in ft-vpc');
      return;
    case 'mtu-blackhole':
      await vpcBridgeTable('ft_mtu', on ? mtuBlackholeRuleset() : null, 'changing the path MTU in ft-vpc');
      return;
    case 'reply-drop-host':
      await iptablesRule('ec2', 'filter', 'FORWARD', ['-i', 'docker0', '-o', 'ens5', '-j', 'DROP'], on, 1);
      return;
    case 'no-route-back':
      await routeFault('ec2', ['blackhole', `${LAB.albB.vpc}/32`], on, 'changing the route to alb-b in ft-ec2');
      return;
    case 'asymmetric-route':
      await routeFault('ec2', [`${LAB.albA.vpc}/32`, 'dev', LAB.secondEni.ifname], on, 'changing the route to alb-a in ft-ec2');
      if (!on) await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', LAB.secondEni.ifname]));
      return;
    case 'rp-filter':
      // The effective value is the larger of `all` and the interface's: both say strict.
      await sysctls('ec2', { 'net.ipv4.conf.all.rp_filter': on ? 1 : 0, 'net.ipv4.conf.ens5.rp_filter': on ? 1 : 0 }, 'setting rp_filter in ft-ec2');
      await routeFault('ec2', [`${LAB.albA.vpc}/32`, 'dev', LAB.secondEni.ifname], on, 'changing the route to alb-a in ft-ec2');
      if (!on) await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', LAB.secondEni.ifname]));
      return;
    case 'container-no-route':
      if (on) await routeFault('container', ['default'], false, 'removing the container\'s default route');
      else await runChecked(inNs('container', ['ip', 'route', 'replace', 'default', 'via', LAB.docker0]), 'restoring the container\'s default route');
      return;
    case 'container-arp':
      // The host gives up on 172.17.0.2 after mcast_solicit probes and answers the ALB with
      // ICMP host unreachable (→ 502). With the kernel's 3 × 1 s that answer came at the
      // ALB's 3 s timeout (a race with its 504); a real ALB waits 10 s, so the ICMP wins. The
      // lab keeps that order by probing 3 × 0.3 s: 502 after ~1 s, every time.
      await sysctls('ec2', { 'net.ipv4.neigh.docker0.retrans_time_ms': on ? 300 : KERNEL_ARP_RETRANS_MS }, 'setting ARP timing on docker0');
      await runChecked(inNs('container', ['ip', 'link', 'set', 'eth0', 'arp', on ? 'off' : 'on']), 'changing ARP on the container\'s eth0');
      // Entries still valid would keep the frames flowing (no ARP needed) for up to a minute.
      await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']));
      if (!on) await run(inNs('container', ['ip', 'neigh', 'flush', 'dev', 'eth0']));
      return;
    case 'lb-subnet-no-route':
      // The node's way to the clients is its subnet's route to the internet gateway (the edge router).
      if (on) await routeFault('alb-b', ['default'], false, 'removing alb-b\'s default route');
      else await runChecked(inNs('alb-b', ['ip', 'route', 'replace', 'default', 'via', LAB.routers.awsedge.toAlbB]), 'restoring alb-b\'s default route');
      return;
    case 'conntrack-full':
      if (on) {
        requirePrograms(['conntrack']);
        await fillConntrack();
      } else {
        // Nothing to drain on a machine without conntrack-tools: nothing could have filled it.
        try { requirePrograms(['conntrack']); } catch { return; }
        await drainConntrack();
      }
      return;
    default:
      return;
  }
}
