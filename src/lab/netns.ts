/**
 * Building and removing the lab's namespaces, links, addresses, routes, sysctls and
 * firewall rules. Uses `ip -batch` (one process for many commands) so the whole topology
 * comes up in a few hundred milliseconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  LAB, LAB_BRIDGES, LAB_LINKS, LAB_NODES, LAB_PREFIX, LAB_ROUTES, type LabNode,
  INTERFACE_SYSCTLS, dockerIptablesRules, nodeSysctls, nsName, securityGroupRuleset, sourceDestCheckRuleset,
} from './topology.js';
import { run, runChecked, terminate, processNetns } from './system.js';

const NETNS_DIR = '/run/netns';
const ETC_NETNS = '/etc/netns';

/** Names of existing namespaces carrying the lab's prefix. */
export function existingLabNamespaces(): string[] {
  try {
    return fs.readdirSync(NETNS_DIR).filter((n) => n.startsWith(LAB_PREFIX));
  } catch {
    return [];
  }
}

export function namespaceExists(node: LabNode): boolean {
  return fs.existsSync(path.join(NETNS_DIR, nsName(node)));
}

/** Inode of a named namespace (to recognise its processes after the name is gone). */
export function namespaceInode(ns: string): number | null {
  try {
    return fs.statSync(path.join(NETNS_DIR, ns)).ino;
  } catch {
    return null;
  }
}

async function ipBatch(lines: string[], what: string, ns?: string): Promise<void> {
  const argv = ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'];
  await runChecked(argv, what, { input: lines.join('\n') + '\n' });
}

/** The resolver every node uses (bind-mounted over /etc/resolv.conf by `ip netns exec`). */
function resolvConf(): string {
  return `# flowtrace lab: the lab's DNS server\nnameserver ${LAB.dnsServer}\noptions timeout:1 attempts:2\n`;
}

/** Creates every namespace, link, address and route of the healthy topology. */
export async function buildTopology(signal?: AbortSignal): Promise<void> {
  await ipBatch(LAB_NODES.map((n) => `netns add ${nsName(n)}`), 'creating the namespaces');
  signal?.throwIfAborted();
  // Sysctls before any interface exists: no IPv6 link-local chatter in captures.
  await Promise.all(LAB_NODES.map((n) => {
    const kv = Object.entries(nodeSysctls(n)).map(([k, v]) => `${k}=${v}`);
    return runChecked(['ip', 'netns', 'exec', nsName(n), 'sysctl', '-q', '-w', ...kv], `setting sysctls in ${nsName(n)}`);
  }));
  signal?.throwIfAborted();
  await ipBatch(LAB_LINKS.map((l) =>
    `link add name ${l.a.ifname} netns ${nsName(l.a.node)} type veth peer name ${l.b.ifname} netns ${nsName(l.b.node)}`), 'creating the links');
  signal?.throwIfAborted();

  const perNode = new Map<LabNode, string[]>(LAB_NODES.map((n) => [n, ['link set lo up']]));
  for (const b of LAB_BRIDGES) {
    const cmds = perNode.get(b.node)!;
    cmds.push(`link add name ${b.name}${b.mtu ? ` mtu ${b.mtu}` : ''} type bridge`);
  }
  for (const l of LAB_LINKS) {
    for (const end of [l.a, l.b]) {
      const cmds = perNode.get(end.node)!;
      if (end.mtu) cmds.push(`link set ${end.ifname} mtu ${end.mtu}`);
      if (end.master) cmds.push(`link set ${end.ifname} master ${end.master}`);
      if (end.address) cmds.push(`addr add ${end.address} dev ${end.ifname}`);
    }
  }
  for (const b of LAB_BRIDGES) {
    const cmds = perNode.get(b.node)!;
    if (b.address) cmds.push(`addr add ${b.address} dev ${b.name}`);
    cmds.push(`link set ${b.name} up`);
  }
  for (const l of LAB_LINKS) {
    for (const end of [l.a, l.b]) perNode.get(end.node)!.push(`link set ${end.ifname} up`);
  }
  for (const r of LAB_ROUTES) perNode.get(r.node)!.push(`route add ${r.to} via ${r.via}`);
  await Promise.all([...perNode].map(([n, cmds]) => ipBatch(cmds, `configuring ${nsName(n)}`, nsName(n))));
  signal?.throwIfAborted();
  // The first ARP an ALB node sends on the freshly built VPC bridge is sometimes lost (seen for
  // alb-b: received on its bridge port, forwarded nowhere; cause not found). With the kernel's
  // 1 s between ARP probes that cost its first health check — and so `lab up` — a second. A
  // real VPC answers ARP in its fabric at once. So the ALB nodes re-ask every 100 ms, 30 times:
  // an address that never answers still takes the default 3 s to give up on.
  await Promise.all(LAB_LINKS.flatMap((l) => [l.a, l.b]).filter((e) => (e.node === 'alb-a' || e.node === 'alb-b') && e.ifname === 'vpc0').map((e) =>
    runChecked(['ip', 'netns', 'exec', nsName(e.node), 'sysctl', '-q', '-w', `net.ipv4.neigh.${e.ifname}.retrans_time_ms=100`, `net.ipv4.neigh.${e.ifname}.mcast_solicit=30`], `setting ARP timing in ${nsName(e.node)}`)));
  await Promise.all(INTERFACE_SYSCTLS.map(({ node, values }) =>
    runChecked(['ip', 'netns', 'exec', nsName(node), 'sysctl', '-q', '-w', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)], `setting interface sysctls in ${nsName(node)}`)));

  await Promise.all([
    runChecked(['ip', 'netns', 'exec', nsName('ec2'), 'iptables-restore'], 'writing Docker\'s iptables rules in ft-ec2', { input: dockerIptablesRules() }),
    runChecked(['ip', 'netns', 'exec', nsName('vpc'), 'nft', '-f', '-'], 'writing the security group in ft-vpc', { input: securityGroupRuleset(false) + sourceDestCheckRuleset() }),
  ]);
  for (const n of LAB_NODES) {
    fs.mkdirSync(path.join(ETC_NETNS, nsName(n)), { recursive: true });
    fs.writeFileSync(path.join(ETC_NETNS, nsName(n), 'resolv.conf'), resolvConf());
  }
}

/** PIDs of the processes inside a namespace (`ip netns pids`). */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number).filter((p) => p !== process.pid);
}

/**
 * Processes holding one of the given namespace inodes after the namespace's name is gone
 * (`lsns -t net` shows them; `ip netns list` does not).
 */
export function orphanPids(inodes: Set<number>): number[] {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    const ino = processNetns(pid);
    if (ino !== null && inodes.has(ino)) pids.push(pid);
  }
  return pids;
}

/**
 * Removes everything with the lab's prefix: processes inside ft- namespaces, the
 * namespaces (their veths go with them), /etc/netns/ft-*. Safe to call when nothing exists.
 * `knownInodes`: namespace inodes recorded at `up`, to find processes that outlived a name.
 */
export async function destroyTopology(knownInodes: number[] = []): Promise<{ killed: number[]; namespaces: string[] }> {
  const namespaces = existingLabNamespaces();
  // Namespace inodes are reused once a namespace is gone: a recorded inode that now names
  // someone else's namespace (or the host's) is not ours any more.
  const foreign = new Set<number>();
  try {
    for (const n of fs.readdirSync(NETNS_DIR)) {
      if (!n.startsWith(LAB_PREFIX)) { const ino = namespaceInode(n); if (ino !== null) foreign.add(ino); }
    }
  } catch { /* no named namespaces */ }
  const hostNs = processNetns(1);
  if (hostNs !== null) foreign.add(hostNs);
  const selfNs = processNetns(process.pid);
  if (selfNs !== null) foreign.add(selfNs);
  const inodes = new Set<number>(knownInodes.filter((i) => !foreign.has(i)));
  for (const ns of namespaces) {
    const ino = namespaceInode(ns);
    if (ino !== null) inodes.add(ino);
  }
  const pidLists = await Promise.all(namespaces.map((ns) => namespacePids(ns)));
  const pids = new Set<number>(pidLists.flat());
  for (const p of orphanPids(inodes)) pids.add(p);
  await Promise.all([...pids].map((p) => terminate(p)));
  if (namespaces.length > 0) {
    const r = await run(['ip', '-force', '-batch', '-'], { input: namespaces.map((ns) => `netns del ${ns}`).join('\n') + '\n' });
    if (r.code !== 0) {
      // One by one, so one stuck namespace does not keep the others.
      for (const ns of existingLabNamespaces()) await run(['ip', 'netns', 'del', ns]);
    }
  }
  try {
    for (const d of fs.readdirSync(ETC_NETNS)) {
      if (d.startsWith(LAB_PREFIX)) fs.rmSync(path.join(ETC_NETNS, d), { recursive: true, force: true });
    }
  } catch { /* no /etc/netns */ }
  return { killed: [...pids], namespaces };
}
