/**
 * The lab's topology as data: nodes (network namespaces), links (veth pairs), addresses,
 * routes and per-node sysctls. Everything here is a private address; nothing in the lab
 * has a route to the machine's real network (no link ever reaches the host namespace).
 *
 *   client 10.10.1.2 ── isp ── backbone ── awsedge ──┬── alb-a 10.77.1.10 ──┐
 *   dns 10.10.53.53 ───┘ (hop 1)  (hop 2)   (hop 3)   └── alb-b 10.77.2.10 ──┤ 172.31.0.10 / 172.31.16.10
 *                                                                           vpc (bridge, security group)
 *                                                                              │
 *                        ec2: ens5 172.31.5.20 (MTU 9001) ─ DNAT ─ docker0 172.17.0.1 ─ veth ─ container eth0 172.17.0.2:8080
 *                             ens6 172.31.64.20/20 (a second ENI, same bridge, idle while healthy)
 *   awsedge ── bastion 10.78.0.10 / 172.31.32.10 (sshd: the operator's way in, ProxyJump to ec2's sshd on ens5)
 */

/** The lab's node names; the namespace of node N is `ft-N`. */
export const LAB_NODES = ['client', 'dns', 'isp', 'backbone', 'awsedge', 'alb-a', 'alb-b', 'vpc', 'ec2', 'container', 'bastion'] as const;
export type LabNode = (typeof LAB_NODES)[number];

/** Prefix of everything the lab creates (namespaces, /etc/netns entries). */
export const LAB_PREFIX = 'ft-';

/** Docker names the host end of a container's veth `veth` + 7 hex characters. */
export const CONTAINER_VETH = 'veth3f2a1b9';

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

/** Addresses, ports and names of the lab (all private ranges). */
const LAB_CONSTANTS = {
  domain: 'seqas.online',
  dnsTtlSeconds: 60,
  client: '10.10.1.2',
  dnsServer: '10.10.53.53',
  routers: {
    /** Hop 1: the client's gateway (its LAN address answers the first traceroute hop). */
    isp: { lan: '10.10.1.1', dnsLan: '10.10.53.1', uplink: '10.255.1.1' },
    /** Hop 2. */
    backbone: { toIsp: '10.255.1.2', toEdge: '10.255.2.1' },
    /** Hop 3: the AWS edge, gateway of the ALB nodes' public addresses. */
    awsedge: { toBackbone: '10.255.2.2', toAlbA: '10.77.1.1', toAlbB: '10.77.2.1' },
  },
  /** The addresses traceroute from the client shows for hops 1–3, in order. */
  traceHops: ['10.10.1.1', '10.255.1.2', '10.255.2.2'],
  albA: { public: '10.77.1.10', vpc: '172.31.0.10', zone: 'a' as 'a' | 'b' },
  albB: { public: '10.77.2.10', vpc: '172.31.16.10', zone: 'b' as 'a' | 'b' },
  /** The VPC: one L2 segment (a bridge in ft-vpc); 172.31.0.1 is the "VPC router" address. */
  vpcCidr: '172.31.0.0/16',
  vpcRouter: '172.31.0.1',
  instance: { ens5: '172.31.5.20', mtu: 9001, port: 80 },
  /**
   * The instance's second ENI: another subnet of the same zone (172.31.64.0/20). No lab
   * address is in that /20, so it carries nothing until a fault routes a reply through it.
   */
  secondEni: { ifname: 'ens6', address: '172.31.64.20', prefixLength: 20 },
  /**
   * The bastion: a host in a public subnet (its own prefix behind the aws edge, outside the
   * ALBs' 10.77.0.0/16 so that the route faults do not cut it) with an address in the VPC;
   * operators reach the instance's sshd through it (ProxyJump), as on AWS.
   */
  bastion: { public: '10.78.0.10', edge: '10.78.0.1', prefix: '10.78.0.0/16', vpc: '172.31.32.10' },
  docker0: '172.17.0.1',
  dockerCidr: '172.17.0.0/16',
  container: { address: '172.17.0.2', port: 8080 },
  containerVeth: CONTAINER_VETH,
  /** Where `lab up` writes its state, logs, certificates; removed by `lab down`. */
  runDir: '/run/flowtrace-lab',
  /** The CA that signed the ALB's certificate (curl --cacert). */
  caFile: '/run/flowtrace-lab/ca.pem',
  /** One line per request in the ALB access-log format, per ALB node. */
  accessLogs: { 'alb-a': '/run/flowtrace-lab/alb-a.access.log', 'alb-b': '/run/flowtrace-lab/alb-b.access.log' },
  /** The ALB's timeout towards the target (connect and response); a real ALB uses 10 s / 60 s. */
  albTargetTimeoutMs: 3000,
};
export const LAB: DeepReadonly<typeof LAB_CONSTANTS> = LAB_CONSTANTS;

export interface LinkEnd {
  node: LabNode;
  ifname: string;
  /** CIDR address, or null for a bridge port. */
  address: string | null;
  mtu?: number;
  /** Bridge (in the same node) this end is a port of. */
  master?: string;
}

export interface LabLink {
  a: LinkEnd;
  b: LinkEnd;
}

export interface LabBridge {
  node: LabNode;
  name: string;
  address: string | null;
  mtu?: number;
}

export interface LabRoute {
  node: LabNode;
  /** `default` or a CIDR. */
  to: string;
  via: string;
}

const VPC_MTU = LAB.instance.mtu;

/** The VPC bridge's ports towards the instance's ENIs and towards the ALB nodes. */
const VPC_PORT_OF_ENS5 = 'ec2';
const VPC_PORT_OF_SECOND_ENI = 'ec2b';
const VPC_PORT_OF_BASTION = 'bast';
export const VPC_ALB_PORTS = ['alba', 'albb'] as const;

/**
 * Revision of what `lab up` builds (topology, rules, services' behaviour). A lab whose state
 * names another revision (built by an older flowtrace) is not `up`: `lab up` rebuilds it.
 * Bump it whenever the built lab changes.
 */
export const LAB_REVISION = 3;

export const LAB_BRIDGES: readonly LabBridge[] = [
  { node: 'vpc', name: 'vpcbr0', address: `${LAB.vpcRouter}/16`, mtu: VPC_MTU },
  { node: 'ec2', name: 'docker0', address: `${LAB.docker0}/16` },
];

export const LAB_LINKS: readonly LabLink[] = [
  { a: { node: 'client', ifname: 'eth0', address: `${LAB.client}/24` }, b: { node: 'isp', ifname: 'lan0', address: `${LAB.routers.isp.lan}/24` } },
  { a: { node: 'dns', ifname: 'eth0', address: `${LAB.dnsServer}/24` }, b: { node: 'isp', ifname: 'dns0', address: `${LAB.routers.isp.dnsLan}/24` } },
  { a: { node: 'isp', ifname: 'up0', address: `${LAB.routers.isp.uplink}/30` }, b: { node: 'backbone', ifname: 'isp0', address: `${LAB.routers.backbone.toIsp}/30` } },
  { a: { node: 'backbone', ifname: 'edge0', address: `${LAB.routers.backbone.toEdge}/30` }, b: { node: 'awsedge', ifname: 'bb0', address: `${LAB.routers.awsedge.toBackbone}/30` } },
  { a: { node: 'awsedge', ifname: 'alba0', address: `${LAB.routers.awsedge.toAlbA}/24` }, b: { node: 'alb-a', ifname: 'eth0', address: `${LAB.albA.public}/24` } },
  { a: { node: 'awsedge', ifname: 'albb0', address: `${LAB.routers.awsedge.toAlbB}/24` }, b: { node: 'alb-b', ifname: 'eth0', address: `${LAB.albB.public}/24` } },
  { a: { node: 'alb-a', ifname: 'vpc0', address: `${LAB.albA.vpc}/16`, mtu: VPC_MTU }, b: { node: 'vpc', ifname: VPC_ALB_PORTS[0], address: null, mtu: VPC_MTU, master: 'vpcbr0' } },
  { a: { node: 'alb-b', ifname: 'vpc0', address: `${LAB.albB.vpc}/16`, mtu: VPC_MTU }, b: { node: 'vpc', ifname: VPC_ALB_PORTS[1], address: null, mtu: VPC_MTU, master: 'vpcbr0' } },
  { a: { node: 'ec2', ifname: 'ens5', address: `${LAB.instance.ens5}/16`, mtu: VPC_MTU }, b: { node: 'vpc', ifname: VPC_PORT_OF_ENS5, address: null, mtu: VPC_MTU, master: 'vpcbr0' } },
  { a: { node: 'ec2', ifname: LAB.secondEni.ifname, address: `${LAB.secondEni.address}/${LAB.secondEni.prefixLength}`, mtu: VPC_MTU }, b: { node: 'vpc', ifname: VPC_PORT_OF_SECOND_ENI, address: null, mtu: VPC_MTU, master: 'vpcbr0' } },
  { a: { node: 'ec2', ifname: CONTAINER_VETH, address: null, master: 'docker0' }, b: { node: 'container', ifname: 'eth0', address: `${LAB.container.address}/16` } },
  { a: { node: 'awsedge', ifname: 'bast0', address: `${LAB.bastion.edge}/24` }, b: { node: 'bastion', ifname: 'eth0', address: `${LAB.bastion.public}/24` } },
  { a: { node: 'bastion', ifname: 'vpc0', address: `${LAB.bastion.vpc}/16`, mtu: VPC_MTU }, b: { node: 'vpc', ifname: VPC_PORT_OF_BASTION, address: null, mtu: VPC_MTU, master: 'vpcbr0' } },
];

export const LAB_ROUTES: readonly LabRoute[] = [
  { node: 'client', to: 'default', via: LAB.routers.isp.lan },
  { node: 'dns', to: 'default', via: LAB.routers.isp.dnsLan },
  { node: 'isp', to: 'default', via: LAB.routers.backbone.toIsp },
  { node: 'backbone', to: '10.10.0.0/16', via: LAB.routers.isp.uplink },
  { node: 'backbone', to: '10.77.0.0/16', via: LAB.routers.awsedge.toBackbone },
  { node: 'backbone', to: LAB.bastion.prefix, via: LAB.routers.awsedge.toBackbone },
  { node: 'awsedge', to: 'default', via: LAB.routers.backbone.toEdge },
  { node: 'alb-a', to: 'default', via: LAB.routers.awsedge.toAlbA },
  { node: 'alb-b', to: 'default', via: LAB.routers.awsedge.toAlbB },
  { node: 'ec2', to: 'default', via: LAB.vpcRouter },
  { node: 'container', to: 'default', via: LAB.docker0 },
  { node: 'bastion', to: 'default', via: LAB.bastion.edge },
];

/** Nodes that forward packets (ip_forward=1). ec2 forwards because Docker turns it on. */
export const FORWARDING_NODES: readonly LabNode[] = ['isp', 'backbone', 'awsedge', 'ec2'];

/** The routers a traceroute from the client crosses, in hop order. */
export const ROUTER_NODES = ['isp', 'backbone', 'awsedge'] as const;

/** The namespace of a node. */
export function nsName(node: LabNode): string {
  return `${LAB_PREFIX}${node}`;
}

export function isLabNode(name: string): name is LabNode {
  return (LAB_NODES as readonly string[]).includes(name);
}

/**
 * Sysctls per node. ICMP rate limiting is off everywhere by default so traces are
 * repeatable; the `icmp-ratelimit` fault restores real-router limits.
 */
export function nodeSysctls(node: LabNode): Record<string, string> {
  const s: Record<string, string> = {
    'net.ipv4.icmp_ratelimit': '0',
    'net.ipv6.conf.all.disable_ipv6': '1',
    'net.ipv6.conf.default.disable_ipv6': '1',
  };
  if (FORWARDING_NODES.includes(node)) s['net.ipv4.ip_forward'] = '1';
  return s;
}

/** What `docker run -p HOST:CONTAINER` publishes; the lab's by default. */
export interface DockerPublish {
  containerAddress: string;
  containerPort: number;
  hostPort: number;
  /** The bridge subnet (docker0), e.g. 172.17.0.0/16. */
  bridgeCidr: string;
  /** false: the DNAT rule is left out (what the `dnat-missing` fault looks like). */
  dnat: boolean;
}

/**
 * Docker's iptables rules for one container published with `-p HOST:CONTAINER`
 * (iptables-save form, for iptables-restore). The lab's and the tests' miniature hosts use
 * this one writer.
 */
export function dockerIptablesRules(publish: Partial<DockerPublish> = {}): string {
  const p: DockerPublish = {
    containerAddress: LAB.container.address, containerPort: LAB.container.port, hostPort: LAB.instance.port,
    bridgeCidr: LAB.dockerCidr, dnat: true, ...publish,
  };
  const c = { address: p.containerAddress, port: p.containerPort };
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
    `-A POSTROUTING -s ${p.bridgeCidr} ! -o docker0 -j MASQUERADE`,
    `-A POSTROUTING -s ${c.address}/32 -d ${c.address}/32 -p tcp -m tcp --dport ${c.port} -j MASQUERADE`,
    '-A DOCKER -i docker0 -j RETURN',
    ...(p.dnat ? [`-A DOCKER ! -i docker0 -p tcp -m tcp --dport ${p.hostPort} -j DNAT --to-destination ${c.address}:${c.port}`] : []),
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    ':DOCKER-ISOLATION-STAGE-1 - [0:0]',
    ':DOCKER-ISOLATION-STAGE-2 - [0:0]',
    ':DOCKER-USER - [0:0]',
    '-A FORWARD -j DOCKER-USER',
    '-A FORWARD -j DOCKER-ISOLATION-STAGE-1',
    '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -o docker0 -j DOCKER',
    '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
    '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
    `-A DOCKER -d ${c.address}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport ${c.port} -j ACCEPT`,
    '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
    '-A DOCKER-ISOLATION-STAGE-1 -j RETURN',
    '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
    '-A DOCKER-ISOLATION-STAGE-2 -j RETURN',
    '-A DOCKER-USER -j RETURN',
    'COMMIT',
    '',
  ].join('\n');
}

/** The DNAT rule of `-p 80:8080` (the `dnat-missing` fault deletes it). */
export function dockerDnatRule(): string[] {
  const c = LAB.container;
  return ['DOCKER', '!', '-i', 'docker0', '-p', 'tcp', '-m', 'tcp', '--dport', String(LAB.instance.port), '-j', 'DNAT', '--to-destination', `${c.address}:${c.port}`];
}

/**
 * The "security group" of the instance as an nftables ruleset in the vpc namespace's bridge
 * family: it sees frames between bridge ports, so a drop here happens before ens5.
 * The healthy group allows port 80 (from the ALBs); `sg-block` adds a drop.
 */
export function securityGroupRuleset(blockPort80: boolean): string {
  const drop = blockPort80 ? `    ip daddr ${LAB.instance.ens5} tcp dport ${LAB.instance.port} counter drop comment "sg-block"\n` : '';
  return `table bridge ft_sg {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n${drop}  }\n}\n`;
}

/**
 * The VPC's source/destination check (on by default for every ENI in AWS): a frame an ENI
 * sends with a source address that is not the ENI's own is dropped in the fabric. Lives in
 * its own bridge table in ft-vpc; with the healthy lab nothing matches (ens5 sends only
 * 172.31.5.20 — Docker masquerades — and ens6 sends nothing).
 */
export function sourceDestCheckRuleset(): string {
  const rule = (port: string, address: string) => `    iifname "${port}" ip saddr != ${address} counter drop comment "source/dest check"\n`;
  return `table bridge ft_srcdst {\n  chain forward {\n    type filter hook forward priority -10; policy accept;\n`
    + rule(VPC_PORT_OF_ENS5, LAB.instance.ens5) + rule(VPC_PORT_OF_SECOND_ENI, LAB.secondEni.address) + '  }\n}\n';
}

/**
 * Per-interface sysctls set once the interfaces exist. ens5 and ens6 share one L2 segment:
 * Linux would answer ARP for 172.31.5.20 on ens6 too ("ARP flux") and an ALB node could
 * send the instance's traffic to ens6. A real VPC answers ARP in its fabric; the lab makes
 * ens6 answer only for its own address and ask only with it (as multi-NIC hosts are set).
 */
export const INTERFACE_SYSCTLS: readonly { node: LabNode; values: Record<string, string> }[] = [
  { node: 'ec2', values: { [`net.ipv4.conf.${LAB.secondEni.ifname}.arp_ignore`]: '1', [`net.ipv4.conf.${LAB.secondEni.ifname}.arp_announce`]: '2' } },
];
