/**
 * What `ip` prints for people (ip-link(8), ip-address(8), ip-neighbour(8)), read into the
 * same facts as its JSON (links.ts): interfaces with their state, MTU, MAC, master, veth peer
 * and addresses; neighbour entries. Forms, alone or pasted together (merged by name):
 *   ip link, ip -o link, ip -d link, ip -s link     `2: ens5@if4: <BROADCAST,…,UP,LOWER_UP> mtu 9001 … master docker0 state UP …`
 *                                                   `    link/ether 02:… brd … link-netns ft-vpc` (or link-netnsid 0)
 *                                                   `    veth` / `    bridge forward_delay …` (-d: the kind)
 *   ip addr, ip -o addr                             the same, and `    inet 172.31.5.20/16 … scope global ens5`
 *   ip -br link, ip -br addr                        `ens5@if4   UP   02:…  <…>` / `ens5@if4   UP   172.31.5.20/16` (no index: 0)
 *   ip -j link, ip -j addr (also -d, -p)            JSON (parseAddrJson)
 *   ip neigh                                        `172.17.0.2 dev docker0 lladdr 02:… REACHABLE`
 * Never throws: lines it does not read are skipped.
 *
 * Without -d, `ip` does not print an interface's kind. inferLinkKinds fills what the rest
 * says: an interface others name as their `master` is a bridge; an `@ifN` peer in another
 * namespace (`link-netns`/`link-netnsid`) is a veth (docs/host-facts.md).
 */
import type { LinkFacts, NeighbourFacts } from './types.js';
import { parseAddrJson } from './links.js';

const HEAD = /^\s*(\d+):\s+([^\s:@]+)(?:@(\S+?))?:\s+<([^>]*)>(.*)$/;
const O_ADDR = /^\s*(\d+):\s+([^\s:@]+)\s+(inet6?)\s+(\S+)(.*)$/;
const BRIEF = /^([^\s:@]+)(?:@(\S+))?\s+(UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING)\b\s*(.*)$/;
const KINDS = /^\s+(veth|bridge|bridge_slave|vlan|vxlan|macvlan|ipvlan|bond|bond_slave|dummy|tun|tap|wireguard|geneve|gre|ipip|sit|vrf|team|nlmon|ifb)\b/;

/** A link named before its state is known (`ip -o addr` prints none): up until a line says otherwise — a link is never taken for down on no evidence. */
function emptyLink(name: string, ifindex: number): LinkFacts {
  return { name, ifindex, kind: null, master: null, operstate: 'UNKNOWN', up: true, mtu: null, mac: null, addresses: [], peerIfindex: null, peerNetnsId: null };
}

/** Adds one address (`172.31.5.20/16`) with its scope words; link-local and host scope say nothing about paths (as links.ts). */
function addAddress(link: LinkFacts, cidr: string, rest: string): void {
  if (/\bscope (link|host)\b/.test(rest)) return;
  if (!link.addresses.includes(cidr)) link.addresses.push(cidr);
}

function applyHeadWords(link: LinkFacts, flags: string, words: string): void {
  const f = flags.split(',');
  const state = /\bstate (\S+)/.exec(words);
  link.operstate = state ? state[1]! : link.operstate;
  // As links.ts: up = administratively up with a carrier.
  link.up = f.includes('UP') && f.includes('LOWER_UP');
  const mtu = /\bmtu (\d+)/.exec(words);
  if (mtu) link.mtu = Number(mtu[1]);
  const master = /\bmaster (\S+)/.exec(words);
  if (master) link.master = master[1]!;
}

function applyDetail(link: LinkFacts, text: string): void {
  const ether = /link\/(?:ether|loopback|none|\S+) (\S+)/.exec(text);
  if (ether && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(ether[1]!)) link.mac = ether[1]!;
  const netnsid = /\blink-netnsid (\d+)/.exec(text);
  if (netnsid) link.peerNetnsId = Number(netnsid[1]);
  const inet = /\binet6? (\S+)(.*)$/.exec(text);
  if (inet) addAddress(link, inet[1]!, inet[2]!);
  const kind = KINDS.exec(text);
  if (kind) link.kind = kind[1] === 'bridge_slave' || kind[1] === 'bond_slave' ? link.kind : kind[1]!;
}

/** Peer given as `@if4` (its index) or `@eth0` (its name, same namespace). */
function applyPeer(link: LinkFacts, peer: string | undefined, words: string): void {
  if (peer === undefined) return;
  const m = /^if(\d+)$/.exec(peer);
  if (m) link.peerIfindex = Number(m[1]);
  // `link-netns NAME` (a named namespace) says the peer is elsewhere without an id.
  if (/\blink-netns \S+/.test(words) && link.peerNetnsId === null) link.peerNetnsId = -1;
}

/**
 * Interfaces from any of the forms above, merged by name (an `ip -o link` and an `ip -o addr`
 * of one host give one list). `-1` as peerNetnsId: in another namespace named by name.
 */
export function parseIpLinksText(text: string): LinkFacts[] {
  const byName = new Map<string, LinkFacts>();
  const get = (name: string, ifindex: number): LinkFacts => {
    let l = byName.get(name);
    if (!l) { l = emptyLink(name, ifindex); byName.set(name, l); } else if (l.ifindex === 0 && ifindex > 0) l.ifindex = ifindex;
    return l;
  };
  const merge = (j: LinkFacts): void => {
    const l = get(j.name, j.ifindex);
    Object.assign(l, { ...j, addresses: [...new Set([...l.addresses, ...j.addresses])], kind: j.kind ?? l.kind, master: j.master ?? l.master });
  };
  let current: LinkFacts | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('[') || t.startsWith('{')) { for (const j of parseAddrJson(t.startsWith('{') ? `[${t}]` : t)) merge(j); current = null; continue; }
    // `ip -o` joins the detail lines with `\`: split them back.
    const [first, ...details] = line.split(/\\\s+/);
    const head = HEAD.exec(first!);
    if (head) {
      current = get(head[2]!, Number(head[1]));
      applyHeadWords(current, head[4]!, head[5]!);
      for (const d of details) applyDetail(current, d);
      applyPeer(current, head[3], line);
      continue;
    }
    const oaddr = O_ADDR.exec(first!);
    if (oaddr) {
      const l = get(oaddr[2]!, Number(oaddr[1]));
      addAddress(l, oaddr[4]!, oaddr[5]!);
      current = null;
      continue;
    }
    if (/^\s/.test(line) && current !== null) {
      applyDetail(current, t);
      if (/\blink-netns \S+/.test(t) && current.peerIfindex !== null && current.peerNetnsId === null) current.peerNetnsId = -1;
      continue;
    }
    const brief = BRIEF.exec(t);
    if (brief) {
      const l = get(brief[1]!, 0);
      l.operstate = brief[3]!;
      const rest = brief[4]!.split(/\s+/).filter((w) => w !== '');
      for (const w of rest) {
        if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(w)) l.mac = w;
        else if (/^<.*>$/.test(w)) { const f = w.slice(1, -1).split(','); l.up = f.includes('UP') && f.includes('LOWER_UP'); }
        else if (/\/\d+$/.test(w) && !/^fe80:/i.test(w) && !/^127\./.test(w) && w !== '::1/128') addAddress(l, w, '');
      }
      if (!rest.some((w) => /^<.*>$/.test(w))) l.up = l.operstate === 'UP' || l.operstate === 'UNKNOWN';
      const m = brief[2] !== undefined ? /^if(\d+)$/.exec(brief[2]) : null;
      if (m) l.peerIfindex = Number(m[1]);
      current = null;
      continue;
    }
    current = null;
  }
  return inferLinkKinds([...byName.values()]);
}

/**
 * Kinds `ip` did not print (no -d): a link others name as master is a bridge; one with an
 * `@ifN` peer in another namespace is a veth. Links with a kind keep it.
 */
export function inferLinkKinds(links: LinkFacts[]): LinkFacts[] {
  const masters = new Set(links.map((l) => l.master).filter((m): m is string => m !== null));
  for (const l of links) {
    if (l.kind !== null) continue;
    if (masters.has(l.name)) l.kind = 'bridge';
    else if (l.peerIfindex !== null && l.peerNetnsId !== null) l.kind = 'veth';
  }
  return links;
}

/** `ip neigh` text: `172.17.0.2 dev docker0 lladdr 02:42:ac:11:00:02 REACHABLE`, `… FAILED`, `… INCOMPLETE`. */
export function parseNeighText(text: string): NeighbourFacts[] {
  const out: NeighbourFacts[] = [];
  for (const raw of text.split('\n')) {
    const m = /^(\S+) dev (\S+)(?: lladdr (\S+))?(?: (?:router|proxy|extern_learn))*((?: [A-Z_]+)*)\s*$/.exec(raw.trim());
    if (!m || !/^[0-9a-f.:]+$/i.test(m[1]!)) continue;
    out.push({ address: m[1]!, dev: m[2]!, lladdr: m[3] ?? null, state: m[4]!.trim().split(/\s+/).filter((s) => s !== '') });
  }
  return out;
}
