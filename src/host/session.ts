/**
 * Reading host facts around a capture: counters at the start, everything at the stop, in the
 * host's namespace and in each container namespace behind a veth.
 *
 * Every read is an argv command through the ProcessRunner (never a shell, never a file read
 * here), so the same code works wherever the runner runs its commands. In the host namespace
 * a command runs as is, or as `ip netns exec NAME …` when `netns` is given; in a container
 * namespace as `nsenter --net=PATH …`. Commands run in parallel; a missing or failing one
 * leaves its fields empty and says so once in `problems`.
 */
import { isIP } from 'node:net';
import { attributeVeths, inNamespace, parseDnatRules, systemRunner, type LinkInfo, type NamespaceSource, type ProcessRunner, type ProgramResult } from '../capture/index.js';
import type { HostFacts, LinkFacts, NamespaceFacts, NamespaceRef, NetfilterFacts, RouteLookup, RouteQuery } from './types.js';
import { HOST_FACTS_LIMITS } from './limits.js';
import { iptablesSaveTables, parseIptablesSave, stripIptablesCounters } from './iptables.js';
import { parseNftRuleset } from './nft.js';
import { parseRouteGet, parseRouteTable, type RouteEntry } from './routes.js';
import { parseAddrJson, parseNeighJson } from './links.js';
import { parseSs } from './listeners.js';
import { interfaceSysctlKey, parseConntrackStat, parseProcNetstat, parseSysctl } from './kernel.js';
import { netfilterDeltas, risenCounters, risenStats, selectNetfilter } from './deltas.js';

export interface HostFactsOptions {
  /** How commands run (default: child processes here). */
  runner?: ProcessRunner;
  /** A named network namespace the host commands run in (`ft-ec2`); null/absent: here. */
  netns?: string | null;
  /** Read container namespaces behind veths too (default true). */
  containers?: boolean;
  /** Where the container namespaces are looked up (default: /proc and /run/netns here; a server's: capture's `commandNamespaceSource`). */
  namespaceSource?: NamespaceSource;
  /** Bound of each command (default HOST_FACTS_LIMITS.commandTimeoutMs). */
  timeoutMs?: number;
  /** Wall clock, epoch ms (startedAt/stoppedAt). */
  now?: () => number;
}

export interface HostFactsSession {
  /** Counters at the start, in every namespace (netfilter counters, kernel counters, conntrack stats). Never throws. */
  start(): Promise<void>;
  /** The namespaces found (host first, then containers behind veths), available after start() (or stop()). */
  namespaces(): NamespaceRef[];
  /** Everything at the stop, with rises since start; route lookups as asked. Never throws: what failed goes to `problems`. */
  stop(queries: RouteQuery[]): Promise<HostFacts>;
}

/** Debian package of each program read here (for the install hint). */
const PACKAGE: Readonly<Record<string, string>> = {
  ip: 'iproute2', ss: 'iproute2', nft: 'nftables', 'iptables-save': 'iptables', 'ip6tables-save': 'iptables',
  sysctl: 'procps', nsenter: 'util-linux', cat: 'coreutils',
};

interface Target {
  ref: NamespaceRef;
  /** The argv that runs `argv` in this namespace. */
  wrap(argv: readonly string[]): string[];
  /** ` in ft-container (veth3f2a1b9)` for problem lines; '' for the reader's own namespace. */
  where: string;
}

interface CounterSnapshot {
  netfilter: NetfilterFacts[] | null;
  /** The netfilter sources read (a source that failed at start has no known rises). */
  sources: Set<NetfilterFacts['source']>;
  kernel: Record<string, number> | null;
  conntrack: Record<string, number> | null;
}

interface NetfilterRead { facts: NetfilterFacts[] | null; sources: Set<NetfilterFacts['source']>; saveTexts: string[] }

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

function isJson(text: string): boolean {
  try { JSON.parse(text); return true; } catch { return false; }
}

/** `1000`, `1000:1010` */
function range(from: number | null, to: number | null, separator: string): string | null {
  if (from === null) return null;
  return to === null || to === from ? String(from) : `${from}${separator}${to}`;
}

function notInstalled(program: string): string {
  return `${program}: not installed (apt-get install ${PACKAGE[program] ?? program})`;
}

export function createHostFacts(options: HostFactsOptions = {}): HostFactsSession {
  const runner = options.runner ?? systemRunner;
  const netns = options.netns ?? null;
  const timeoutMs = options.timeoutMs ?? HOST_FACTS_LIMITS.commandTimeoutMs;
  const now = options.now ?? Date.now;
  const problems = new Set<string>();

  const host: Target = {
    ref: { label: 'host', role: 'host', path: netns === null ? null : `/run/netns/${netns}`, veth: null, container: null },
    wrap: (argv) => inNamespace(netns, argv),
    where: netns === null ? '' : ` in ${netns}`,
  };
  let targets: Target[] | null = null;
  let discovery: Promise<Target[]> | null = null;
  let startedAt: number | null = null;
  let startSnapshots = new Map<string, CounterSnapshot>();

  /** What went wrong with one command, as the one line `problems` gets; null when it worked. */
  function problemOf(t: Target, argv: readonly string[], full: readonly string[], r: ProgramResult): string | null {
    if (r.code === 0 && !r.missing) return null;
    const program = argv[0] === 'cat' ? argv.slice(1).join(' ') : argv[0];
    if (r.missing) return notInstalled(full[0]);
    if (r.code === null) return `${program}: no answer within ${timeoutMs} ms${t.where}`;
    const err = r.stderr;
    const exec = /exec of "([^"]+)" failed: No such file/.exec(err) ?? /failed to execute ([^:\s]+): No such file/.exec(err);
    if (exec) return notInstalled(exec[1]);
    const ns = /Cannot open network namespace "([^"]+)"/.exec(err);
    if (ns) return `namespace ${ns[1]}: not found (ip netns list)`;
    if (/^nsenter: (cannot open|reassociate)/m.test(err)) return `${t.ref.label}: cannot enter ${t.ref.path ?? 'its namespace'} (${firstLine(err)})`;
    if (argv[0] === 'cat' && /nf_conntrack: No such file/.test(err) && !/(netstat|snmp): No such file/.test(err)) {
      return `conntrack statistics: none${t.where} (nf_conntrack not loaded)`;
    }
    // sudo's own refusal (the ssh runner runs privileged commands as `sudo -n …`).
    const sudo = /^sudo: (.*)$/m.exec(err);
    if (sudo) return `${program}: not allowed by sudo${t.where} (sudo: ${sudo[1]!.trim()})`;
    if (/Permission denied|Operation not permitted|must be root|are you root/i.test(err)) return `${program}: permission denied (run as root)`;
    return `${program} failed${t.where}: ${firstLine(err) || `exit ${r.code}`}`;
  }

  /** Runs `argv` in `t`; its problem (if any) is noted once. */
  async function run(t: Target, argv: string[]): Promise<ProgramResult & { ok: boolean }> {
    const full = t.wrap(argv);
    let r: ProgramResult;
    try {
      r = await runner.run(full, { timeoutMs });
    } catch (err) {
      // The runner itself failed (an ssh runner whose connection is gone): one line, not one per program.
      problems.add(`commands could not be run${t.where}: ${(err as Error)?.message ?? String(err)}`);
      return { code: null, stdout: '', stderr: '', missing: false, ok: false };
    }
    const problem = problemOf(t, argv, full, r);
    if (problem !== null) problems.add(problem);
    return { ...r, ok: problem === null };
  }

  /** The container namespaces behind the host's veths (attributed by capture/live). */
  async function discover(): Promise<Target[]> {
    if (options.containers === false) return [];
    const r = await run(host, ['ip', '-j', '-d', 'addr', 'show']);
    if (!r.ok) return [];
    // A veth with an address of its own links this host to a network (the lab's ens5/ens6 are
    // veths to the VPC's namespace; a real EC2's are NICs), not to a container: a container's
    // host side is a bridge port or a bare routed veth. A veth without link_netnsid has its
    // peer in the same namespace: no container there either.
    const veths: LinkInfo[] = parseAddrJson(r.stdout)
      .filter((l) => l.kind === 'veth' && l.peerIfindex !== null && l.peerNetnsId !== null && l.addresses.length === 0)
      .map((l) => ({ ifindex: l.ifindex, name: l.name, kind: l.kind, master: l.master, peerIfindex: l.peerIfindex, peerNetnsId: l.peerNetnsId, operstate: l.operstate, mac: l.mac, mtu: l.mtu }));
    if (veths.length === 0) return [];
    const attributed = await attributeVeths(veths, host.ref.path ?? '/proc/self/ns/net', { runner, source: options.namespaceSource });
    for (const p of attributed.problems) problems.add(p);
    const found: Target[] = [];
    const seen = new Set<number>();
    for (const a of attributed.veths) {
      if (a.namespaceInode === null) { problems.add(`${a.veth}: the namespace of its peer was not found`); continue; }
      if (seen.has(a.namespaceInode)) continue;
      seen.add(a.namespaceInode);
      const path = a.namespaceName !== null ? `/run/netns/${a.namespaceName}` : a.processes[0] ? `/proc/${a.processes[0].pid}/ns/net` : null;
      if (path === null) { problems.add(`${a.veth}: its namespace net:[${a.namespaceInode}] has no name or process to enter it by`); continue; }
      const container = a.container?.name ?? null;
      const label = container !== null ? `container ${container} (${a.veth})` : `${a.namespaceName ?? `net:[${a.namespaceInode}]`} (${a.veth})`;
      const ref: NamespaceRef = { label, role: 'container', path, veth: a.veth, container };
      found.push({ ref, wrap: (argv) => ['nsenter', `--net=${path}`, ...argv], where: ` in ${label}` });
    }
    if (found.length > HOST_FACTS_LIMITS.maxContainerNamespaces) {
      problems.add(`${found.length} container namespaces: the first ${HOST_FACTS_LIMITS.maxContainerNamespaces} read`);
      found.length = HOST_FACTS_LIMITS.maxContainerNamespaces;
    }
    return found;
  }

  async function allTargets(): Promise<Target[]> {
    if (targets !== null) return targets;
    discovery ??= discover().catch((err: unknown) => {
      problems.add(`container namespaces: ${(err as Error)?.message ?? String(err)}`);
      return [];
    });
    targets = [host, ...(await discovery)];
    return targets;
  }

  async function readNetfilter(t: Target): Promise<NetfilterRead> {
    const [v4, v6, nft] = await Promise.all([
      run(t, ['iptables-save', '-c']), run(t, ['ip6tables-save', '-c']), run(t, ['nft', '-j', 'list', 'ruleset']),
    ]);
    const sources = new Set<NetfilterFacts['source']>();
    if (!v4.ok && !v6.ok && !nft.ok) return { facts: null, sources, saveTexts: [] };
    const facts: NetfilterFacts[] = [];
    const skipTables: Array<{ family: string; table: string }> = [];
    const saveTexts: string[] = [];
    for (const [r, source, family] of [[v4, 'iptables', 'ip'], [v6, 'ip6tables', 'ip6']] as const) {
      if (!r.ok) continue;
      sources.add(source);
      facts.push(...parseIptablesSave(r.stdout, source));
      for (const table of iptablesSaveTables(r.stdout)) skipTables.push({ family, table });
      saveTexts.push(r.stdout);
      if (/iptables-legacy tables present/.test(r.stdout + r.stderr)) problems.add(`${source}-legacy tables present${t.where} (not read; ${source}-legacy-save -c shows them)`);
    }
    if (nft.ok) {
      if (isJson(nft.stdout)) { sources.add('nft'); facts.push(...parseNftRuleset(nft.stdout, { skipTables })); }
      else problems.add(`nft -j list ruleset${t.where}: output not understood (nftables 0.9.3 or newer needed for -j)`);
    }
    return { facts, sources, saveTexts };
  }

  /**
   * Kernel counters and conntrack statistics in one `cat` (one process less per namespace and
   * snapshot). Without nf_conntrack, cat says so and fails but has printed the other two.
   */
  async function readProcNet(t: Target): Promise<{ kernel: Record<string, number> | null; conntrack: Record<string, number> | null }> {
    const r = await run(t, ['cat', '/proc/net/netstat', '/proc/net/snmp', '/proc/net/stat/nf_conntrack']);
    const cut = r.stdout.search(/^entries\s/m);
    const netstat = cut < 0 ? r.stdout : r.stdout.slice(0, cut);
    const kernel = parseProcNetstat(netstat);
    return {
      kernel: r.ok || Object.keys(kernel).length > 0 ? kernel : null,
      conntrack: cut < 0 ? null : parseConntrackStat(r.stdout.slice(cut)),
    };
  }

  async function snapshot(t: Target): Promise<CounterSnapshot> {
    const [nf, proc] = await Promise.all([readNetfilter(t), readProcNet(t)]);
    return { netfilter: nf.facts, sources: nf.sources, ...proc };
  }

  async function lookups(t: Target, queries: readonly RouteQuery[]): Promise<RouteLookup[]> {
    if (queries.length === 0) return [];
    const valid = (q: RouteQuery) => isIP(q.to) !== 0 && (q.from == null || isIP(q.from) !== 0)
      && (q.iif == null || /^[^\s/-][^\s/]{0,14}$/.test(q.iif));
    const gets = await Promise.all(queries.map(async (q) => {
      if (!valid(q)) return null;
      const argv = ['ip', '-j', 'route', 'get', q.to];
      if (q.from) argv.push('from', q.from);
      if (q.iif) argv.push('iif', q.iif);
      // Not `run`: a failed lookup is a result, not a problem.
      try { return await runner.run(t.wrap(argv), { timeoutMs }); } catch { return null; }
    }));
    // The routing tables are read only when a lookup failed (to name the route that covers it).
    const familyOf = (q: RouteQuery): 4 | 6 => (isIP(q.to) === 6 ? 6 : 4);
    const families = [...new Set(queries.filter((q, i) => valid(q) && gets[i]?.code !== 0).map(familyOf))];
    const tables = await Promise.all(families.map(async (f) => {
      const r = await run(t, ['ip', `-${f}`, '-j', 'route', 'show', 'table', 'all']);
      return r.ok ? parseRouteTable(r.stdout, f) : null;
    }));
    return queries.map((q, i) => {
      const r = gets[i];
      if (!valid(q)) {
        return { to: q.to, from: q.from ?? null, iif: q.iif ?? null, result: 'error', dev: null, gateway: null, prefsrc: null, error: 'not looked up: not an IP address or interface name', matchedRoute: null };
      }
      const tableIndex = families.indexOf(familyOf(q));
      const routes: RouteEntry[] | null = tables[tableIndex] ?? null;
      if (r === null || r.missing) {
        const program = t.wrap(['ip'])[0];
        if (r?.missing) problems.add(notInstalled(program));
        return parseRouteGet('', r?.missing ? `${program}: not installed` : 'no answer', null, q, routes);
      }
      return parseRouteGet(r.stdout, r.stderr, r.code, q, routes);
    });
  }

  async function readAll(t: Target, queries: readonly RouteQuery[], start: CounterSnapshot | null): Promise<NamespaceFacts> {
    const addrP = run(t, ['ip', '-j', '-d', 'addr', 'show']);
    const sysctlP = addrP.then((addr) => {
      const names = addr.ok ? parseAddrJson(addr.stdout).slice(0, HOST_FACTS_LIMITS.maxLinks).map((l) => l.name) : [];
      const keys = [
        'net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter', 'net.ipv4.conf.all.forwarding',
        ...names.flatMap((n) => [interfaceSysctlKey('net.ipv4.conf', n, 'rp_filter'), interfaceSysctlKey('net.ipv4.conf', n, 'forwarding')]),
        'net.ipv6.conf.all.forwarding', 'net.netfilter.nf_conntrack_max', 'net.netfilter.nf_conntrack_count', 'net.bridge.bridge-nf-call-iptables',
      ];
      // -e: keys this kernel does not have (no nf_conntrack, no br_netfilter) are left out, not errors.
      return run(t, ['sysctl', '-e', ...keys]);
    });
    const [addr, sysctl, neigh, ss, nf, { kernel, conntrack }, routes] = await Promise.all([
      addrP, sysctlP, run(t, ['ip', '-j', 'neigh', 'show']), run(t, ['ss', '-ltnHp']),
      readNetfilter(t), readProcNet(t), lookups(t, queries),
    ]);

    const bounded = <T>(list: T[], max: number, what: string): T[] => {
      if (list.length > max) problems.add(`${t.ref.label}: ${list.length} ${what}, the first ${max} listed`);
      return list.slice(0, max);
    };
    const links: LinkFacts[] = addr.ok ? bounded(parseAddrJson(addr.stdout), HOST_FACTS_LIMITS.maxLinks, 'interfaces') : [];
    const sysctls = sysctl.ok ? parseSysctl(sysctl.stdout) : {};

    let netfilter: NetfilterFacts[] = [];
    let rulesNotListed = 0;
    if (nf.facts !== null) {
      const withDeltas = netfilterDeltas(start?.netfilter ?? null, nf.facts, start?.sources);
      const selected = selectNetfilter(withDeltas, HOST_FACTS_LIMITS.maxRules);
      netfilter = selected.listed;
      rulesNotListed = selected.notListed;
    }

    const countValue = (key: string): number | null => {
      const v = sysctls[key];
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
    };
    let conntrackFacts: NamespaceFacts['conntrack'] = null;
    if (conntrack !== null || countValue('net.netfilter.nf_conntrack_count') !== null) {
      const stats = conntrack ?? {};
      const delta = start?.conntrack && conntrack ? risenStats(start.conntrack, conntrack) : {};
      delete delta.entries; // the table's size, not an event: it is `count`
      conntrackFacts = {
        count: countValue('net.netfilter.nf_conntrack_count') ?? stats.entries ?? null,
        max: countValue('net.netfilter.nf_conntrack_max'),
        stats, delta,
      };
    }

    const dnatRead = parseDnatRules(stripIptablesCounters(nf.saveTexts.join('\n')));
    for (const line of dnatRead.unparsed) problems.add(`DNAT rule not understood${t.where}: ${line}`);

    return {
      ns: { ...t.ref },
      links,
      routes,
      neighbours: neigh.ok ? bounded(parseNeighJson(neigh.stdout), HOST_FACTS_LIMITS.maxNeighbours, 'neighbour entries') : [],
      sysctls,
      listeners: ss.ok ? bounded(parseSs(ss.stdout), HOST_FACTS_LIMITS.maxListeners, 'listening sockets') : [],
      netfilter,
      rulesNotListed,
      counters: start?.kernel && kernel ? risenCounters(start.kernel, kernel) : [],
      conntrack: conntrackFacts,
      dnat: dnatRead.rules.map((r) => ({
        text: r.text, protocol: r.protocol, ports: range(r.matchPortFrom, r.matchPortTo, ':'), toAddress: r.toAddress,
        toPorts: range(r.toPortFrom, r.toPortTo, '-'), inInterface: r.inInterface, inNegated: r.inInterfaceNegated,
      })),
    };
  }

  return {
    async start() {
      try {
        startedAt = now();
        // The host's counters do not wait for the container discovery.
        const hostSnapshot = snapshot(host);
        const all = await allTargets();
        const snapshots = await Promise.all([hostSnapshot, ...all.slice(1).map(snapshot)]);
        startSnapshots = new Map(all.map((t, i) => [t.ref.label, snapshots[i]]));
      } catch (err) {
        problems.add(`host facts at start: ${(err as Error)?.message ?? String(err)}`);
      }
    },

    namespaces() {
      return (targets ?? [host]).map((t) => ({ ...t.ref }));
    },

    async stop(queries) {
      const stoppedAt = now();
      try {
        const all = await allTargets();
        const byLabel = new Map<string, RouteQuery[]>(all.map((t) => [t.ref.label, []]));
        const asked = queries.slice(0, HOST_FACTS_LIMITS.maxRouteQueries);
        if (queries.length > asked.length) problems.add(`${queries.length} route lookups asked, the first ${asked.length} made`);
        for (const q of asked) {
          const list = byLabel.get(q.namespace);
          if (list) list.push(q);
          else problems.add(`route lookup to ${q.to}: no namespace "${q.namespace}" (known: ${all.map((t) => t.ref.label).join(', ')})`);
        }
        const namespaces = await Promise.all(all.map((t) => readAll(t, byLabel.get(t.ref.label) ?? [], startSnapshots.get(t.ref.label) ?? null)));
        return { startedAt, stoppedAt, namespaces, problems: [...problems] };
      } catch (err) {
        problems.add(`host facts at stop: ${(err as Error)?.message ?? String(err)}`);
        return { startedAt, stoppedAt, namespaces: [], problems: [...problems] };
      }
    },
  };
}
