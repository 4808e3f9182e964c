/**
 * The lab's faults: each breaks one layer the way it breaks in production. Injecting and
 * healing are idempotent. Network faults are rules/routes/sysctls in one node; service
 * faults change what the services run with (see services.ts `desiredServices`).
 */
import { LAB, ROUTER_NODES, dockerDnatRule, nsName, securityGroupRuleset, type LabNode } from './topology.js';
import { run, runChecked } from './system.js';

export interface LabFault {
  /** One line: what the fault does. */
  description: string;
  /**
   * The first layer a request no longer gets through (what `flowtrace follow` blames):
   * `instance` = never reaches ens5, `container` = reaches ens5 but not the container,
   * `application` = reaches the container's port. `icmp-ratelimit` breaks no request.
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
} as const satisfies Record<string, LabFault>;

export type LabFaultName = keyof typeof LAB_FAULTS;

export function isLabFault(name: string): name is LabFaultName {
  return Object.hasOwn(LAB_FAULTS, name);
}

/** Faults applied by the services (process arguments / ALB config), not by rules. */
export const SERVICE_FAULTS: readonly LabFaultName[] = ['dns-nxdomain', 'dns-down', 'app-down', 'app-slow', 'app-500', 'target-deregistered'];

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
      await runChecked(inNs('ec2', ['sysctl', '-q', '-w', `net.ipv4.neigh.docker0.mcast_solicit=${on ? 10 : 3}`]), 'setting ARP probes on docker0');
      await runChecked(inNs('ec2', ['ip', 'link', 'set', LAB.containerVeth, on ? 'down' : 'up']), 'changing the container veth');
      if (on) await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']));
      if (!on) {
        // A stale neighbour entry gives a transient "No route to host" after the link is back.
        await run(inNs('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']));
        await run(inNs('container', ['ip', 'neigh', 'flush', 'dev', 'eth0']));
      }
      return;
    default:
      return;
  }
}
