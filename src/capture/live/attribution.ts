/**
 * Container attribution: which namespace and processes sit behind each veth of the capture's
 * namespace, and, when Docker runs, which container.
 *
 * A veth's peer index (`link_index` in `ip -j link`) is an index in the PEER's namespace, so
 * it is matched by looking into the machine's network namespaces for the interface whose
 * index is our peer index and whose own peer index is our veth. Where the namespaces come
 * from is a `NamespaceSource`: here, /proc/<pid>/ns/net and /run/netns/* read directly
 * (`procNamespaceSource`); on a server reached over ssh, `lsns` and `docker` run through the
 * ProcessRunner (`commandNamespaceSource`), whose namespace ids (`NETNSID`) name the veth's
 * peer namespace exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseIpLinkJson, type LinkInfo } from './interfaces.js';
import { systemRunner, type ProcessRunner } from './programs.js';
import { listDockerContainers, parseDockerInspect, DOCKER_INSPECT_FORMAT, DOCKER_SOCKET, type DockerContainer } from './docker.js';

export interface NamespaceProcess { pid: number; comm: string }

export interface VethAttribution {
  veth: string;
  vethIfindex: number;
  /** The bridge the veth is in (docker0), or null. */
  bridge: string | null;
  /** The peer interface in the other namespace (eth0 in a container). */
  peerName: string | null;
  peerIfindex: number | null;
  /** The peer's addresses (`172.17.0.2/16`). */
  peerAddresses: string[];
  /** The peer namespace: its inode, its name when it is a named one (`ip netns`), else null. */
  namespaceInode: number | null;
  namespaceName: string | null;
  /** Processes in the peer namespace (first ones, bounded). */
  processes: NamespaceProcess[];
  container: { id: string; name: string; image: string } | null;
}

const MAX_PROCESSES_LISTED = 20;

/** A network namespace: its inode, a path to enter it, its name (`ip netns`), its processes. */
export interface NamespaceEntry {
  inode: number;
  path: string;
  name: string | null;
  pids: number[];
  /** Its id as the capture's namespace numbers it (a veth's `link_netnsid`); null: none; undefined: not known. */
  nsid?: number | null;
}

/** Where attribution finds the machine's network namespaces, process names and containers. */
export interface NamespaceSource {
  /** Every network namespace that can be seen. */
  list(): Promise<NamespaceEntry[]>;
  /** The inode of the namespace at `path` (the capture's own, left out of the search); null: unknown. */
  inodeOf(path: string): Promise<number | null>;
  /** A process's command name. */
  comm(pid: number): Promise<string>;
  /** Docker's running containers with their main PIDs; `problem` says why none could be listed. */
  containers(): Promise<{ containers: DockerContainer[]; problem: string | null }>;
  /** Entries carry `nsid` (then a veth's peer namespace is the entry with its `link_netnsid`). */
  readonly byNsid: boolean;
}

function statInode(p: string): number | null {
  try { return fs.statSync(p).ino; } catch { return null; }
}

/** Every network namespace we can see, by inode, with a path to enter it and its processes. */
function listNamespaces(procRoot = '/proc', netnsRoot = '/run/netns'): Map<number, NamespaceEntry> {
  const byInode = new Map<number, NamespaceEntry>();
  let names: string[] = [];
  try { names = fs.readdirSync(netnsRoot); } catch { /* no named namespaces */ }
  for (const name of names) {
    const p = path.join(netnsRoot, name);
    const ino = statInode(p);
    if (ino !== null && !byInode.has(ino)) byInode.set(ino, { inode: ino, path: p, name, pids: [] });
  }
  let pids: string[] = [];
  try { pids = fs.readdirSync(procRoot).filter((d) => /^\d+$/.test(d)); } catch { /* no /proc */ }
  for (const pidText of pids) {
    const p = path.join(procRoot, pidText, 'ns', 'net');
    const ino = statInode(p);
    if (ino === null) continue;
    let e = byInode.get(ino);
    if (!e) { e = { inode: ino, path: p, name: null, pids: [] }; byInode.set(ino, e); }
    e.pids.push(Number(pidText));
  }
  return byInode;
}

function comm(pid: number, procRoot = '/proc'): string {
  try { return fs.readFileSync(path.join(procRoot, String(pid), 'comm'), 'utf8').trim(); } catch { return '?'; }
}

/** The namespaces of this machine, read from /proc and /run/netns; Docker asked on its socket. */
export function procNamespaceSource(options: { procRoot?: string; netnsRoot?: string; dockerSocket?: string } = {}): NamespaceSource {
  return {
    byNsid: false,
    list: async () => [...listNamespaces(options.procRoot, options.netnsRoot).values()],
    inodeOf: async (p) => statInode(p),
    comm: async (pid) => comm(pid, options.procRoot),
    containers: () => listDockerContainers(options.dockerSocket ?? DOCKER_SOCKET),
  };
}

interface LsnsJson { namespaces?: Array<{ ns?: unknown; pid?: unknown; netnsid?: unknown; nsfs?: unknown; command?: unknown }> }

/** Parses `lsns -t net -J -o NS,PID,NETNSID,NSFS,COMMAND` (util-linux ≥ 2.31): one entry per namespace, its first process. */
export function parseLsnsNet(text: string): Array<NamespaceEntry & { command: string }> {
  let parsed: LsnsJson;
  try { parsed = JSON.parse(text) as LsnsJson; } catch { return []; }
  const out: Array<NamespaceEntry & { command: string }> = [];
  for (const e of parsed.namespaces ?? []) {
    const inode = Number(e.ns);
    const pid = Number(e.pid);
    if (!Number.isInteger(inode) || !Number.isInteger(pid) || pid <= 0) continue;
    const nsid = e.netnsid === undefined || e.netnsid === null || e.netnsid === 'unassigned' ? null : Number(e.netnsid);
    const nsfs = typeof e.nsfs === 'string' && e.nsfs !== '' ? e.nsfs.split('\n')[0]! : null;
    const name = nsfs !== null && nsfs.startsWith('/run/netns/') ? nsfs.slice('/run/netns/'.length) : null;
    out.push({
      inode, pids: [pid], nsid: nsid !== null && Number.isInteger(nsid) ? nsid : null,
      name, path: nsfs ?? `/proc/${pid}/ns/net`, command: typeof e.command === 'string' ? e.command : '',
    });
  }
  return out;
}

/** Parses `ip -j netns list-id`: nsid → name of the named namespaces this one has ids for. */
export function parseNetnsListId(text: string): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const e of JSON.parse(text) as Array<{ nsid?: unknown; name?: unknown }>) {
      if (typeof e.nsid === 'number' && Number.isInteger(e.nsid) && typeof e.name === 'string' && /^[A-Za-z0-9._-]+$/.test(e.name)) out.set(e.nsid, e.name);
    }
  } catch { /* no ids */ }
  return out;
}

/**
 * lsns lists a namespace through its processes (util-linux before 2.40): a named namespace
 * with none (`ip netns add`, a container whose process has exited) is missing there. Adds
 * each named one the host has an id for, entered by its /run/netns path; its inode is not
 * known unprivileged, so it gets a stand-in (negative: never a real inode).
 */
export function withNamedNamespaces(
  entries: Array<NamespaceEntry & { command: string }>, named: ReadonlyMap<number, string>,
): Array<NamespaceEntry & { command: string }> {
  const out = [...entries];
  for (const [nsid, name] of named) {
    if (out.some((e) => e.nsid === nsid || e.name === name)) continue;
    out.push({ inode: -(nsid + 1), path: `/run/netns/${name}`, name, pids: [], nsid, command: '' });
  }
  return out;
}

/**
 * The namespaces as `lsns` sees them where `runner` runs its commands (a server over ssh),
 * containers from the `docker` CLI when it is there. Never throws: what failed is a problem.
 */
export function commandNamespaceSource(runner: ProcessRunner): NamespaceSource {
  let listed: Promise<Array<NamespaceEntry & { command: string }>> | null = null;
  const list = (): Promise<Array<NamespaceEntry & { command: string }>> => {
    listed ??= Promise.all([
      runner.run(['lsns', '-t', 'net', '-J', '-o', 'NS,PID,NETNSID,NSFS,COMMAND']).then((r) => (r.code === 0 ? parseLsnsNet(r.stdout) : []), () => []),
      runner.run(['ip', '-j', 'netns', 'list-id']).then((r) => (r.code === 0 ? parseNetnsListId(r.stdout) : new Map<number, string>()), () => new Map<number, string>()),
    ]).then(([withProcesses, named]) => withNamedNamespaces(withProcesses, named));
    return listed;
  };
  return {
    byNsid: true,
    list,
    inodeOf: async () => null,
    async comm(pid) {
      const e = (await list()).find((x) => x.pids.includes(pid));
      const first = e?.command.trim().split(/\s+/)[0] ?? '';
      return first === '' ? '?' : path.basename(first).replace(/:$/, '');
    },
    async containers() {
      try {
        const ps = await runner.run(['docker', 'ps', '-q', '--no-trunc']);
        if (ps.missing) return { containers: [], problem: null }; // no Docker: containers are named by namespace
        if (ps.code !== 0) return { containers: [], problem: `docker ps: ${ps.stderr.trim().split('\n')[0] || `exit ${ps.code}`}` };
        const ids = ps.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f]{64}$/.test(l)).slice(0, 64);
        if (ids.length === 0) return { containers: [], problem: null };
        const inspect = await runner.run(['docker', 'inspect', '--format', DOCKER_INSPECT_FORMAT, ...ids]);
        if (inspect.code !== 0) return { containers: [], problem: `docker inspect: ${inspect.stderr.trim().split('\n')[0] || `exit ${inspect.code}`}` };
        return { containers: parseDockerInspect(inspect.stdout), problem: null };
      } catch (err) {
        return { containers: [], problem: `docker: ${(err as Error).message}` };
      }
    },
  };
}

interface AddrJson extends Record<string, unknown> { addr_info?: Array<{ local?: string; prefixlen?: number; scope?: string }> }

/** The links (with addresses) of the namespace at `nsPath`, via nsenter + ip. */
async function linksIn(nsPath: string, runner: ProcessRunner): Promise<Array<LinkInfo & { addresses: string[] }>> {
  const r = await runner.run(['nsenter', `--net=${nsPath}`, 'ip', '-j', '-d', 'addr', 'show']);
  if (r.code !== 0) return [];
  const links = parseIpLinkJson(r.stdout);
  let raw: AddrJson[] = [];
  try { raw = JSON.parse(r.stdout) as AddrJson[]; } catch { /* parse above already returned [] */ }
  return links.map((l, i) => ({
    ...l,
    // Link-local addresses (fe80::/64 on every veth) say nothing about the container.
    addresses: (raw[i]?.addr_info ?? []).filter((a) => a.local && a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen ?? ''}`),
  }));
}

/** nsid → name of the named namespaces the namespace at `nsPath` has ids for (`ip netns list-id`). */
async function nsidNames(nsPath: string, runner: ProcessRunner): Promise<Map<number, string>> {
  const r = await runner.run(['nsenter', `--net=${nsPath}`, 'ip', '-j', 'netns', 'list-id']);
  return r.code === 0 ? parseNetnsListId(r.stdout) : new Map<number, string>();
}

/**
 * Attributes every veth whose peer is in another namespace. `ownNamespacePath` is the
 * capture's namespace (/proc/self/ns/net, or /run/netns/NAME).
 */
export async function attributeVeths(
  links: readonly LinkInfo[],
  ownNamespacePath: string,
  options: { dockerSocket?: string; procRoot?: string; netnsRoot?: string; runner?: ProcessRunner; source?: NamespaceSource } = {},
): Promise<{ veths: VethAttribution[]; problems: string[] }> {
  const problems: string[] = [];
  const veths = links.filter((l) => l.kind === 'veth' && l.peerIfindex !== null);
  if (veths.length === 0) return { veths: [], problems };
  const source = options.source ?? procNamespaceSource(options);
  const ownInode = await source.inodeOf(ownNamespacePath);
  const namespaces = (await source.list()).filter((n) => n.inode !== ownInode);
  // Interface indexes are per namespace, so an index pair alone can match the wrong
  // namespace (seen in the lab: ft-alb-b's eth0 had the same pair as the container's).
  // The veth's link_netnsid names the peer namespace: by the entry's nsid when the source
  // knows them, else by name when it is a named one; otherwise the peer is among the
  // unnamed ones (Docker's containers).
  const runner = options.runner ?? systemRunner;
  const ids = source.byNsid ? new Map<number, string>() : await nsidNames(ownNamespacePath, runner);
  const docker = await source.containers();
  if (docker.problem) problems.push(docker.problem);
  const containerByPid = new Map<number, DockerContainer>(docker.containers.filter((c) => c.pid > 0).map((c) => [c.pid, c]));

  const linkCache = new Map<number, Awaited<ReturnType<typeof linksIn>>>();
  const out: VethAttribution[] = [];
  for (const v of veths) {
    const a: VethAttribution = {
      veth: v.name, vethIfindex: v.ifindex, bridge: v.master, peerName: null, peerIfindex: v.peerIfindex,
      peerAddresses: [], namespaceInode: null, namespaceName: null, processes: [], container: null,
    };
    const peerName = v.peerNetnsId !== null ? ids.get(v.peerNetnsId) ?? null : null;
    const candidates = source.byNsid
      ? namespaces.filter((n) => v.peerNetnsId !== null && n.nsid === v.peerNetnsId)
      : namespaces.filter((n) => (peerName !== null ? n.name === peerName : n.name === null || v.peerNetnsId === null));
    for (const ns of candidates) {
      let nsLinks = linkCache.get(ns.inode);
      if (!nsLinks) { nsLinks = await linksIn(ns.path, runner); linkCache.set(ns.inode, nsLinks); }
      const peer = nsLinks.find((l) => l.ifindex === v.peerIfindex && l.peerIfindex === v.ifindex && l.kind === 'veth');
      if (!peer) continue;
      a.peerName = peer.name;
      a.peerAddresses = peer.addresses;
      a.namespaceInode = ns.inode;
      a.namespaceName = ns.name;
      const pids = [...ns.pids].sort((x, y) => x - y);
      a.processes = await Promise.all(pids.slice(0, MAX_PROCESSES_LISTED).map(async (pid) => ({ pid, comm: await source.comm(pid) })));
      const c = pids.map((pid) => containerByPid.get(pid)).find((x) => x !== undefined);
      if (c) a.container = { id: c.id, name: c.name, image: c.image };
      break;
    }
    out.push(a);
  }
  return { veths: out, problems };
}

/** One line per veth: `veth3f2a1b9 → eth0 172.17.0.2/16 in ft-container (pid 4242 node) container web`. */
export function describeAttribution(a: VethAttribution): string {
  const where = a.namespaceName ? `namespace ${a.namespaceName}` : a.namespaceInode !== null ? `net:[${a.namespaceInode}]` : 'a namespace flowtrace cannot see';
  const peer = a.peerName ? `${a.peerName}${a.peerAddresses.length ? ' ' + a.peerAddresses.join(' ') : ''}` : `peer index ${a.peerIfindex}`;
  const procs = a.processes.length ? ` (${a.processes.slice(0, 5).map((p) => `pid ${p.pid} ${p.comm}`).join(', ')}${a.processes.length > 5 ? ', …' : ''})` : '';
  const container = a.container ? `, container ${a.container.name}${a.container.image ? ` (${a.container.image})` : ''}` : '';
  return `${a.veth}${a.bridge ? ` [${a.bridge}]` : ''} → ${peer} in ${where}${procs}${container}`;
}
