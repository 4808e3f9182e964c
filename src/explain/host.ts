/**
 * Host facts from what was pasted of the instance — `ip link`/`ip addr`, `ip route`,
 * `ip neigh`, `iptables -L -n -v` (any table), `iptables-save`, `iptables -S`, `ss -ltn`,
 * `sysctl` — read by host/'s own parsers into the facts the agent reads, per namespace:
 *
 *  - the host is where tcpdump ran (its command's namespace, or the prompt's when none is
 *    named); output from another namespace (`ip netns exec X …`, `docker exec NAME …`) is a
 *    container's, tied to the host's veth whose index its `eth0@ifN` names;
 *  - one reading: counters are totals (HostFacts.startedAt null) — the same table pasted twice
 *    gives rises from the first listing to the last;
 *  - route lookups are answered from the routing table pasted (lookupInTable: no policy rules);
 *  - what was not pasted is `unread`: causes never rest on an empty list nobody read.
 */
import { parseDnatRules } from '../capture/index.js';
import {
  HOST_FACTS_LIMITS, iptablesListToSave, lookupInTable, netfilterDeltas, parseIpLinksText, parseIptablesSave, parseNeighText,
  parseRouteTableText, parseSs, parseSysctl, selectNetfilter, stripIptablesCounters,
  type FactKind, type HostFacts, type LinkFacts, type NamespaceFacts, type NetfilterFacts, type RouteEntry,
} from '../host/index.js';
import type { RawPart } from './segment.js';

const HOST_FORMATS = new Set(['ip link', 'ip addr', 'ip route', 'ip neigh', 'iptables -L', 'iptables-save', 'iptables -S', 'ss', 'sysctl']);

export function isHostPart(p: RawPart): boolean {
  return HOST_FORMATS.has(p.format);
}

interface NamespaceInput {
  /** null: the host. */
  hint: string | null;
  parts: RawPart[];
}

/** The facts of one namespace, and its routing table (lookups are made once the destinations are known). */
export interface NamespaceReading {
  facts: NamespaceFacts;
  table: RouteEntry[] | null;
  notes: string[];
}

function tableOf(p: RawPart): string | null {
  const args = p.command?.args ?? [];
  const t = args.findIndex((a) => a === '-t' || a === '--table');
  return t >= 0 ? args[t + 1] ?? null : null;
}

/** iptables -S text (no table header) in iptables-save form. */
function rulesToSave(lines: readonly string[], table: string): string {
  const out = [`*${table}`];
  for (const l of lines) {
    const p = /^-P (\S+) (\S+)/.exec(l);
    if (p) out.push(`:${p[1]} ${p[2]}`);
    else if (/^-N \S+/.test(l)) out.push(`:${l.split(/\s+/)[1]} -`);
    else if (/^-A /.test(l)) out.push(l);
  }
  out.push('COMMIT');
  return out.join('\n') + '\n';
}

function readNamespace(input: NamespaceInput, label: string, role: 'host' | 'container'): NamespaceReading {
  const notes: string[] = [];
  const of = (...formats: string[]): RawPart[] => input.parts.filter((p) => formats.includes(p.format));
  const unread = new Set<FactKind>(['links', 'routes', 'neighbours', 'sysctls', 'listeners', 'netfilter', 'counters', 'conntrack', 'dnat']);
  const linkParts = of('ip link', 'ip addr');
  const links: LinkFacts[] = linkParts.length > 0 ? parseIpLinksText(linkParts.map((p) => p.lines.join('\n')).join('\n')) : [];
  if (linkParts.length > 0) unread.delete('links');
  const routeParts = of('ip route');
  const table = routeParts.length > 0 ? parseRouteTableText(routeParts.map((p) => p.lines.join('\n')).join('\n')) : null;
  if (table !== null) unread.delete('routes');
  const neighParts = of('ip neigh');
  if (neighParts.length > 0) unread.delete('neighbours');
  const sysctlParts = of('sysctl');
  if (sysctlParts.length > 0) unread.delete('sysctls');
  const ssParts = of('ss');
  if (ssParts.length > 0) unread.delete('listeners');

  // Rules: every listing in save form, by table; a table given twice gives rises.
  const byTable = new Map<string, string[]>();
  let rounded = false;
  for (const p of of('iptables -L', 'iptables-save', 'iptables -S')) {
    if (p.format === 'iptables -L') {
      const l = iptablesListToSave(p.lines.join('\n'), tableOf(p));
      if (l.roundedCounters) rounded = true;
      if (l.noCounters) notes.push(`iptables -L without -v (${label}): no counters, no interfaces on the rules`);
      (byTable.get(l.table) ?? byTable.set(l.table, []).get(l.table)!).push(l.saveText);
    } else if (p.format === 'iptables -S') {
      const t = tableOf(p) ?? 'filter';
      (byTable.get(t) ?? byTable.set(t, []).get(t)!).push(rulesToSave(p.lines, t));
    } else {
      // iptables-save holds several tables: split them.
      for (const block of p.lines.join('\n').split(/(?=^\*\w+\s*$)/m)) {
        const t = /^\*(\w+)/.exec(block.trim());
        if (t) (byTable.get(t[1]!) ?? byTable.set(t[1]!, []).get(t[1]!)!).push(block);
      }
    }
  }
  if (rounded) notes.push(`iptables -L counters above 99999 are rounded (K, M) (${label}): -x prints them exact`);
  let netfilter: NetfilterFacts[] = [];
  let rulesNotListed = 0;
  const natTexts: string[] = [];
  if (byTable.size > 0) {
    unread.delete('netfilter');
    const all: NetfilterFacts[] = [];
    for (const [t, texts] of byTable) {
      const last = parseIptablesSave(texts[texts.length - 1]!, 'iptables');
      if (texts.length > 1) {
        all.push(...netfilterDeltas(parseIptablesSave(texts[0]!, 'iptables'), last));
        notes.push(`the ${t} table was given ${texts.length} times (${label}): counter rises are from the first listing to the last`);
      } else all.push(...last);
      if (t === 'nat') natTexts.push(texts[texts.length - 1]!);
    }
    const selected = selectNetfilter(all, HOST_FACTS_LIMITS.maxRules);
    netfilter = selected.listed;
    rulesNotListed = selected.notListed;
  }
  const dnatRead = parseDnatRules(stripIptablesCounters(natTexts.join('\n')));
  if (natTexts.length > 0) unread.delete('dnat');
  const range = (from: number | null, to: number | null, sep: string): string | null => (from === null ? null : to === null || to === from ? String(from) : `${from}${sep}${to}`);

  return {
    table,
    notes,
    facts: {
      ns: { label, role, path: null, veth: null, container: input.hint?.startsWith('container ') ? input.hint.slice('container '.length) : null },
      unread: [...unread],
      links,
      routes: [],
      neighbours: neighParts.length > 0 ? parseNeighText(neighParts.map((p) => p.lines.join('\n')).join('\n')) : [],
      sysctls: sysctlParts.length > 0 ? parseSysctl(sysctlParts.map((p) => p.lines.join('\n')).join('\n')) : {},
      listeners: ssParts.length > 0 ? parseSs(ssParts.map((p) => p.lines.join('\n')).join('\n')) : [],
      netfilter, rulesNotListed, counters: [], conntrack: null,
      dnat: dnatRead.rules.map((r) => ({
        text: r.text, protocol: r.protocol, ports: range(r.matchPortFrom, r.matchPortTo, ':'), toAddress: r.toAddress,
        toPorts: range(r.toPortFrom, r.toPortTo, '-'), inInterface: r.inInterface, inNegated: r.inInterfaceNegated,
      })),
    },
  };
}

export interface HostReading {
  /** null when nothing of the instance was pasted. */
  host: HostFacts | null;
  /** Routing tables by namespace label, for the lookups made once the destinations are known. */
  tables: Map<string, RouteEntry[]>;
  notes: string[];
}

/** Host facts from the host parts; `hostNamespace`: where tcpdump ran (null: the prompt's own). */
export function readHostFacts(parts: readonly RawPart[], hostNamespace: string | null): HostReading {
  const hostParts = parts.filter(isHostPart);
  if (hostParts.length === 0) return { host: null, tables: new Map(), notes: [] };
  const groups = new Map<string | null, RawPart[]>();
  for (const p of hostParts) {
    const ns = p.command?.namespace ?? null;
    const key = ns === null || ns === hostNamespace ? null : ns;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(p);
  }
  const notes: string[] = [];
  const tables = new Map<string, RouteEntry[]>();
  const host = readNamespace({ hint: null, parts: groups.get(null) ?? [] }, 'host', 'host');
  notes.push(...host.notes);
  if (host.table) tables.set('host', host.table);
  const namespaces: NamespaceFacts[] = [host.facts];
  for (const [hint, ps] of groups) {
    if (hint === null) continue;
    const r = readNamespace({ hint, parts: ps }, hint, 'container');
    // Its host-side veth: the host link whose index the container's `eth0@ifN` names.
    const peer = r.facts.links.find((l) => l.peerIfindex !== null && l.name !== 'lo');
    const veth = peer ? host.facts.links.find((l) => l.ifindex === peer.peerIfindex) ?? null : null;
    r.facts.ns.veth = veth?.name ?? null;
    r.facts.ns.label = veth ? `${hint} (${veth.name})` : hint;
    if (r.table) tables.set(r.facts.ns.label, r.table);
    notes.push(...r.notes);
    namespaces.push(r.facts);
  }
  return {
    host: { startedAt: null, stoppedAt: 0, namespaces, problems: ['read from pasted text: one reading (counters are totals, not rises), route lookups from the routing table given'] },
    tables,
    notes,
  };
}

/** The route lookups a journey reads (to each client and inner address), answered from each namespace's pasted table. */
export function addRouteLookups(reading: HostReading, destinations: readonly string[]): void {
  for (const ns of reading.host?.namespaces ?? []) {
    const table = reading.tables.get(ns.ns.label);
    if (!table) continue;
    ns.routes = [...new Set(destinations)].map((to) => lookupInTable(table, to));
  }
}
