/**
 * The server side of the walk as evidence: from the agent's capture (pcapng bytes with one
 * interface block per real interface) to what each observation point saw of the request —
 * per-interface sightings for the verdict and the ladder of its packets for the report.
 *
 * The capture is read with capture/ and decoded with decode/; the agent's own flow analysis
 * (path lines, anomalies) is carried over as text. Connections are keyed by the client side
 * endpoint (the ALB node's address and ephemeral port), which Docker's DNAT does not rewrite,
 * so one connection is followed across ens5 → docker0 → veth.
 */
import { CaptureParser, type CaptureInterface, type PacketRecord } from '../capture/index.js';
import { createDecoder, formatIPv4, formatIPv6, TCP_FLAG, type DecodedPacket } from '../decode/index.js';
import type { InterfaceRole, InterfaceSighting, NatMapping, PacketObservation, ServerEvidence } from './types.js';

/** Copies of one packet on several interfaces arrive within this window. */
const COPY_WINDOW_MS = 50;

/** One TCP packet as observed, copied out of the reader's reused buffers. */
interface Seen {
  tMs: number;
  iface: string;
  direction: 'in' | 'out' | null;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
  ipId: number;
  payloadLength: number;
  /** `GET /`, `HTTP 200` when the payload starts an HTTP head. */
  http: string | null;
  httpStatus: number | null;
  isRequestHead: boolean;
  /** The payload as latin1 text, only for heads (to look for the trace id and the user agent). */
  headText: string | null;
}

export interface ServerCaptureInput {
  /** The agent target text (`netns:ec2`). */
  target: string;
  /** pcapng (or pcap) bytes of the capture. */
  capture: Uint8Array;
  /** Server ports: the URL's port and its NAT translations (80, 8080). */
  serverPorts: number[];
  /** The trace id Roots the client sent (`1-…-…`), in request order. */
  traceRoots: string[];
  filter: string | null;
  kernelDrops: number | null;
  /** ifindex → name for SLL2 captures without interface names (`ip -o link` of the namespace). */
  ifmap?: Map<number, string> | null;
  /** Link states of the host's interfaces (`ip -o link`), when the target allows reading them. */
  links?: LinkState[] | null;
  /** Lines of the agent's flow analysis (stitched path, anomalies), carried over. */
  path: string[];
  anomalies: string[];
}

export interface LinkState {
  name: string;
  up: boolean;
  master: string | null;
}

/** Parses `ip -o link show` output: name, whether it is UP with a carrier, its master bridge. */
export function parseLinkStates(text: string): LinkState[] {
  const out: LinkState[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(?:@[^:]+)?:\s+<([^>]*)>(.*)$/.exec(line.trim());
    if (!m) continue;
    const flags = m[2]!.split(',');
    const master = /\bmaster (\S+)/.exec(m[3]!)?.[1] ?? null;
    const state = /\bstate (\S+)/.exec(m[3]!)?.[1] ?? '';
    out.push({ name: m[1]!, up: flags.includes('UP') && !flags.includes('NO-CARRIER') && state !== 'DOWN' && state !== 'LOWERLAYERDOWN', master });
  }
  return out;
}

function roleOf(name: string, first: boolean): InterfaceRole {
  if (name.startsWith('veth')) return 'veth';
  if (name === 'docker0' || name.startsWith('br-')) return 'docker0';
  if (name === 'lo') return 'other';
  if (name === 'ens5' || first) return 'ens5';
  return 'other';
}

function label(s: Seen): string {
  if (s.http) return s.http;
  const f = s.flags;
  if (f & TCP_FLAG.RST) return 'RST';
  if (f & TCP_FLAG.SYN) return f & TCP_FLAG.ACK ? 'SYN-ACK' : 'SYN';
  if (f & TCP_FLAG.FIN) return 'FIN';
  if (s.payloadLength > 0) return `DATA ${s.payloadLength}`;
  return 'ACK';
}

/** Reads the capture into copied packet observations (TCP to/from the server ports only). */
export function readServerPackets(capture: Uint8Array, serverPorts: number[], ifmap: Map<number, string> | null = null): Seen[] {
  const names = new Map<number, string>();
  const ports = new Set(serverPorts);
  const decoder = createDecoder({ http: true });
  const out: Seen[] = [];
  let t0: number | null = null;
  // pcapng names its interfaces; a `-i any` pcap (SLL2) carries the ifindex, named by the
  // capture namespace's ifmap.
  const ifaceName = (id: number, ifindex: number): string => {
    const named = names.get(id);
    if (ifindex >= 0 && ifmap?.has(ifindex) && (!named || named === 'any' || named.startsWith('if'))) return ifmap.get(ifindex)!;
    return named ?? (ifindex >= 0 ? `ifindex${ifindex}` : `if${id}`);
  };
  const parser = new CaptureParser({
    onInterface(i: CaptureInterface) { names.set(i.id, i.name ?? `if${i.id}`); },
    onSection() { names.clear(); },
    onPacket(r: PacketRecord) {
      const p: DecodedPacket = decoder.decode(r.linkType, r.data);
      if (p.transport !== 'tcp' || !p.tcp.present) return;
      if (!ports.has(p.tcp.srcPort) && !ports.has(p.tcp.dstPort)) return;
      const ms = r.tsSec * 1000 + r.tsNsec / 1e6;
      t0 ??= ms;
      const src = p.ipVersion === 4 ? formatIPv4(p.ipv4.src) : formatIPv6(p.data, p.ipv6.srcOffset);
      const dst = p.ipVersion === 4 ? formatIPv4(p.ipv4.dst) : formatIPv6(p.data, p.ipv6.dstOffset);
      const dir = r.epbDirection === 1 ? 'in' : r.epbDirection === 2 ? 'out' : p.link.direction === 'in' ? 'in' : p.link.direction === 'out' ? 'out' : null;
      let http: string | null = null;
      let httpStatus: number | null = null;
      let headText: string | null = null;
      if (p.http.present) {
        http = p.http.kind === 'request' ? `${p.http.method} ${p.http.target}` : `HTTP ${p.http.status}`;
        httpStatus = p.http.kind === 'response' ? p.http.status : null;
        const n = Math.min(p.tcp.capturedPayloadLength, 4096);
        headText = Buffer.from(p.data.buffer, p.data.byteOffset + p.tcp.payloadOffset, n).toString('latin1');
      }
      out.push({
        tMs: ms, iface: ifaceName(r.interfaceId, p.link.ifindex), direction: dir,
        src: src.includes(':') ? `[${src}]:${p.tcp.srcPort}` : `${src}:${p.tcp.srcPort}`,
        dst: dst.includes(':') ? `[${dst}]:${p.tcp.dstPort}` : `${dst}:${p.tcp.dstPort}`,
        srcPort: p.tcp.srcPort, dstPort: p.tcp.dstPort, flags: p.tcp.flags, seq: p.tcp.seq, ack: p.tcp.ack,
        ipId: p.ipVersion === 4 ? p.ipv4.id : 0, payloadLength: p.tcp.payloadLength,
        http, httpStatus, isRequestHead: p.http.present && p.http.kind === 'request', headText,
      });
    },
  });
  parser.push(capture);
  parser.end();
  out.sort((a, b) => a.tMs - b.tMs);
  return out;
}

/** The client-side endpoint of a packet: the end that is not a server port. */
function clientKey(s: Seen, ports: Set<number>): string {
  return ports.has(s.dstPort) ? s.src : s.dst;
}

export function serverEvidenceFromCapture(input: ServerCaptureInput): ServerEvidence {
  const ports = new Set(input.serverPorts);
  const all = readServerPackets(input.capture, input.serverPorts, input.ifmap ?? null);
  const byConn = new Map<string, Seen[]>();
  for (const s of all) {
    const k = clientKey(s, ports);
    const list = byConn.get(k) ?? [];
    list.push(s);
    byConn.set(k, list);
  }
  // The request's connections: those whose request head carries one of our trace ids …
  const roots = input.traceRoots.filter(Boolean);
  const carries = (list: Seen[], root: string): boolean => list.some((s) => s.isRequestHead && s.headText !== null && s.headText.includes(root));
  let chosen: Seen[][] = [];
  let matchedBy: ServerEvidence['matchedBy'] = null;
  let traceId: string | null = null;
  for (const root of roots) {
    const hit = [...byConn.values()].filter((l) => carries(l, root));
    if (hit.length) {
      if (!traceId) traceId = root;
      chosen.push(...hit.filter((h) => !chosen.includes(h)));
    }
  }
  if (chosen.length) {
    matchedBy = 'trace-id';
  } else {
    // … or, when no HTTP got through, the connections of the window that carry no other
    // request (health checks and other clients' requests are left out).
    chosen = [...byConn.values()].filter((l) => !l.some((s) => s.isRequestHead));
    if (chosen.length) matchedBy = 'connection';
  }
  const packets = chosen.flat().sort((a, b) => a.tMs - b.tMs);
  const t0 = packets[0]?.tMs ?? 0;
  const rel = (ms: number): number => Number((ms - t0).toFixed(3));

  // Interfaces, in path order: those seen at all in the capture (so an empty docker0 shows).
  const ifaceNames = [...new Set(all.map((s) => s.iface))];
  const firstOf = new Map<string, number>();
  for (const s of all) if (!firstOf.has(s.iface)) firstOf.set(s.iface, s.tMs);
  const outer = ifaceNames.filter((n) => !n.startsWith('veth') && n !== 'docker0' && !n.startsWith('br-') && n !== 'lo');
  const outermost = outer.includes('ens5') ? 'ens5' : outer.sort((a, b) => firstOf.get(a)! - firstOf.get(b)!)[0];
  const interfaces: InterfaceSighting[] = ifaceNames.map((iface) => sighting(iface, roleOf(iface, iface === outermost), packets.filter((s) => s.iface === iface), ports, rel));
  const rank: Record<InterfaceRole, number> = { ens5: 0, docker0: 1, veth: 2, container: 3, other: 4 };
  interfaces.sort((a, b) => rank[a.role] - rank[b.role]);
  // The container's veth(s) are the bridge's ports: known from the link list even when silent.
  const links = input.links ?? [];
  const bridge = interfaces.find((i) => i.role === 'docker0')?.iface ?? 'docker0';
  for (const l of links) {
    if (l.master === bridge && l.name.startsWith('veth') && !interfaces.some((i) => i.iface === l.name)) interfaces.push(emptySighting(l.name, 'veth'));
    if (l.name === bridge && !interfaces.some((i) => i.iface === l.name)) interfaces.push(emptySighting(l.name, 'docker0'));
  }
  for (const role of ['ens5', 'docker0', 'veth'] as const) {
    if (!interfaces.some((i) => i.role === role)) interfaces.push(emptySighting(role === 'veth' ? 'veth' : role, role));
  }
  for (const i of interfaces) {
    const l = links.find((x) => x.name === i.iface);
    i.link = l ? (l.up ? 'up' : 'down') : null;
  }
  interfaces.sort((a, b) => rank[a.role] - rank[b.role]);

  // The ladder: the first chosen connection, copies of one packet grouped.
  const ladderConn = (chosen[0] ?? []).slice().sort((a, b) => a.tMs - b.tMs);
  const observations: PacketObservation[] = [];
  const groups: Array<{ id: number; key: string; tMs: number }> = [];
  for (const s of ladderConn) {
    const key = `${s.flags}|${s.seq}|${s.ack}|${s.payloadLength}|${s.ipId}`;
    let g = groups.find((x) => x.key === key && s.tMs - x.tMs <= COPY_WINDOW_MS && !observations.some((o) => o.packetId === x.id && o.iface === s.iface));
    if (!g) { g = { id: groups.length + 1, key, tMs: s.tMs }; groups.push(g); }
    observations.push({ packetId: g.id, tMs: rel(s.tMs), iface: s.iface, direction: s.direction, src: s.src, dst: s.dst, label: label(s), way: ports.has(s.dstPort) ? 'request' : 'response' });
  }

  // NAT: the same packet with another destination on the next interface.
  const nat: NatMapping[] = [];
  for (const g of groups) {
    const copies = observations.filter((o) => o.packetId === g.id && o.way === 'request');
    for (let i = 1; i < copies.length; i++) {
      const a = copies[i - 1]!;
      const b = copies[i]!;
      if (a.dst !== b.dst && !nat.some((m) => m.from === a.dst && m.to === b.dst)) nat.push({ from: a.dst, to: b.dst, between: `${a.iface} → ${b.iface}` });
    }
  }

  // The application's time: request head → response head on the innermost interface.
  const inner = [...interfaces].reverse().find((i) => i.packets > 0 && i.request);
  let appTimeMs: number | null = null;
  if (inner) {
    const req = packets.find((s) => s.iface === inner.iface && s.isRequestHead);
    const resp = req ? packets.find((s) => s.iface === inner.iface && s.httpStatus !== null && s.tMs >= req.tMs && clientKey(s, ports) === clientKey(req, ports)) : undefined;
    if (req && resp) appTimeMs = Number((resp.tMs - req.tMs).toFixed(3));
  }
  const path = input.path.length ? input.path : fallbackPath(interfaces, nat, observations);
  return {
    target: input.target, status: 'ok', error: null,
    capturedPackets: all.length, kernelDrops: input.kernelDrops, filter: input.filter,
    matchedBy, traceId, interfaces, nat, packets: observations, path,
    anomalies: countRepeats(input.anomalies), appTimeMs,
  };
}

/** One line per distinct anomaly, `(×N)` when several connections showed it. */
function countRepeats(lines: string[]): string[] {
  const n = new Map<string, number>();
  for (const l of lines) n.set(l, (n.get(l) ?? 0) + 1);
  return [...n].map(([l, k]) => (k > 1 ? `${l} (×${k})` : l));
}

function emptySighting(iface: string, role: InterfaceRole): InterfaceSighting {
  return { iface, role, packets: 0, firstMs: null, syn: 0, synRetransmits: 0, synAck: 0, rstBack: 0, request: false, responseStatus: null, link: null };
}

function sighting(iface: string, role: InterfaceRole, list: Seen[], ports: Set<number>, rel: (ms: number) => number): InterfaceSighting {
  const s = emptySighting(iface, role);
  s.packets = list.length;
  s.firstMs = list.length ? rel(list[0]!.tMs) : null;
  const synsPerConn = new Map<string, number>();
  for (const p of list) {
    const toServer = ports.has(p.dstPort);
    if (p.flags & TCP_FLAG.SYN && !(p.flags & TCP_FLAG.ACK)) {
      s.syn++;
      const k = clientKey(p, ports);
      synsPerConn.set(k, (synsPerConn.get(k) ?? 0) + 1);
    }
    if (p.flags & TCP_FLAG.SYN && p.flags & TCP_FLAG.ACK) s.synAck++;
    if (p.flags & TCP_FLAG.RST && !toServer) s.rstBack++;
    if (p.isRequestHead && toServer) s.request = true;
    if (p.httpStatus !== null && !toServer && s.responseStatus === null) s.responseStatus = p.httpStatus;
  }
  for (const n of synsPerConn.values()) s.synRetransmits += n - 1;
  return s;
}

/** The path in words when the agent did not stitch one (no HTTP exchange got through). */
function fallbackPath(interfaces: InterfaceSighting[], nat: NatMapping[], packets: PacketObservation[]): string[] {
  const seen = interfaces.filter((i) => i.packets > 0);
  if (!seen.length) return [];
  const first = packets.find((p) => p.way === 'request');
  const silent = interfaces.filter((i) => i.packets === 0 && (i.role === 'docker0' || i.role === 'veth'));
  const reqHops = seen.filter((i) => packets.some((p) => p.iface === i.iface && p.way === 'request')).map((i) => `${i.iface} (+${(i.firstMs ?? 0).toFixed(3)} ms)`);
  const lines = [`request:  ${first ? `${first.src.replace(/:\d+$/, '')} → ` : ''}${reqHops.join(' → ')}${silent.length ? ` ✗ never on ${silent.map((i) => i.iface).join(', ')}` : ''}${nat[0] ? `  (NAT ${nat[0].from} → ${nat[0].to})` : ''}`];
  const back = packets.filter((p) => p.way === 'response');
  if (back.length) {
    const kinds = [...new Set(back.map((p) => p.label))].join(', ');
    const from = [...new Set(back.map((p) => p.iface))];
    lines.push(`response: ${kinds} from ${from[0]}${from.length > 1 ? ` → ${from.slice(1).join(' → ')}` : ''}`);
  } else {
    lines.push('response: none');
  }
  return lines;
}
