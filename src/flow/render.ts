/**
 * The text view of an analysis: per connection, the seed's diagram for each exchange, made
 * from the evidence —
 *   ALB node 172.31.0.10 → ens5 → docker0 → veth3f2a1b9 → container 172.17.0.2:8080 → HTTP 200 (1.3 ms)
 * and the way back, the hops with their µs, request → first byte at each observation point,
 * the NAT mapping, the handshake, the duplicate explanation and the named anomalies.
 */
import { hopName } from './anomalies.js';
import { count } from './flood.js';
import type { Anomaly, ConnectionSummary, Endpoint, FlowAnalysis, Hop, HttpExchange, NatMapping } from './types.js';

const BRIDGE_SIDE = /^(docker\d+|br-|veth|cni|cbr|cali|flannel|kube-bridge|podman|virbr)/;
/** Connections without exchanges or anomalies listed one per line, up to this many. */
const MAX_QUIET_CONNECTIONS = 50;

export interface RenderOptions {
  /** Only these exchanges (and their connections' facts), e.g. from `--request`. */
  exchanges?: HttpExchange[];
}

const ep = (e: Endpoint): string => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);

function fmtMs(v: number | null): string {
  if (v === null) return '?';
  if (v < 1) return `${Math.round(v * 1000)} µs`;
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
}

function fmtUs(us: number): string {
  return us < 1000 ? `+${us} µs` : `+${(us / 1000).toFixed(2)} ms`;
}

/** Interfaces named on the summary line. */
const MAX_NAMED_INTERFACES = 16;

export function renderAnalysis(analysis: FlowAnalysis, options: RenderOptions = {}): string {
  const lines: string[] = [];
  const c = analysis.capture;
  // A capture of thousands of interfaces names the first few on this line; --json has them all.
  const ifaces = c.interfaces.length === 1 && c.interfaces[0].interface === 'capture' ? ''
    : c.interfaces.length > MAX_NAMED_INTERFACES ? `${c.interfaces.slice(0, MAX_NAMED_INTERFACES).map((i) => i.interface).join(', ')}… (${c.interfaces.length} interfaces)`
    : c.interfaces.map((i) => i.interface).join(', ');
  lines.push(`capture: ${c.records} packets (${c.tcpRecords} TCP)${ifaces ? ` on ${ifaces}` : ''} · ${analysis.duplicates.packets} distinct TCP packets · ${plural(analysis.connections.length + analysis.limits.connectionsNotKept, 'connection')} · ${plural(analysis.exchanges.length + analysis.limits.exchangesNotKept, 'HTTP exchange')}${analysis.limits.selected ? ` (${analysis.exchanges.length} selected)` : ''}`);
  if (analysis.duplicates.explanation) lines.push(analysis.duplicates.explanation);

  const connById = new Map(analysis.connections.map((x) => [x.id, x]));
  const natByConn = groupBy(analysis.natMappings, (m) => m.connectionId);
  const anomaliesByConn = groupBy(analysis.anomalies, (a) => a.connectionId);
  const selected = options.exchanges;
  const exchangesByConn = groupBy(selected ?? analysis.exchanges, (e) => e.connectionId);

  const connIds = new Set<number>([...exchangesByConn.keys()]);
  // Findings about many connections (connectionId 0: a SYN flood) have a section of their own.
  if (!selected) for (const a of analysis.anomalies) if (a.connectionId !== 0) connIds.add(a.connectionId);
  const ordered = [...connIds].sort((a, b) => a - b);
  for (const id of ordered) {
    lines.push('');
    const conn = connById.get(id) ?? null;
    const exchanges = exchangesByConn.get(id) ?? [];
    lines.push(connectionLine(id, conn, exchanges[0] ?? null));
    if (conn?.handshake) {
      const h = conn.handshake;
      const retx = (h.synRetransmissions ? ` · ${h.synRetransmissions} SYN retransmission(s)` : '') + (h.synAckRetransmissions ? ` · ${h.synAckRetransmissions} SYN-ACK retransmission(s)` : '');
      if (h.synToSynAckMs === null) lines.push(`  handshake  SYN seen at ${h.measuredAt}, no SYN-ACK${retx}`);
      else lines.push(`  handshake  SYN → SYN-ACK ${fmtMs(h.synToSynAckMs)} · SYN-ACK → ACK ${fmtMs(h.synAckToAckMs)} (at ${h.measuredAt})${retx}`);
    } else if (conn && !conn.handshakeSeen) {
      lines.push('  handshake  not in the capture: the connection was already open (keep-alive)');
    }
    for (const m of conn ? conn.nat : natByConn.get(id) ?? []) lines.push(`  NAT        ${natLine(m)}`);
    if (conn && exchanges.length === 0) {
      if (conn.pathToServer.length > 0) lines.push(`  → in       ${conn.pathToServer.join(' → ')}  (client → server)`);
      if (conn.pathToClient.length > 0) lines.push(`  ← out      ${conn.pathToClient.join(' → ')}  (server → client)`);
    }
    for (const ex of exchanges) lines.push(...exchangeLines(ex, conn, conn ? conn.nat : natByConn.get(id) ?? []));
    const anomalies = (anomaliesByConn.get(id) ?? []).filter((a) => !selected || a.exchangeId === null || exchanges.some((e) => e.id === a.exchangeId));
    for (const a of anomalies) lines.push(...anomalyLines(a));
  }

  if (!selected) {
    const quiet = analysis.connections.filter((x) => !connIds.has(x.id));
    if (quiet.length > 0) {
      lines.push('', `other connections (${quiet.length}, no HTTP and nothing wrong):`);
      for (const x of quiet.slice(0, MAX_QUIET_CONNECTIONS)) {
        lines.push(`  #${x.id} ${ep(x.client)} → ${ep(x.server)} · ${x.packets} packets · ${x.state}${x.closedBy ? ` (${x.closedBy.how} from ${x.closedBy.from})` : ''}`);
      }
      if (quiet.length > MAX_QUIET_CONNECTIONS) lines.push(`  … and ${quiet.length - MAX_QUIET_CONNECTIONS} more (--json has them all)`);
    }
    const many = analysis.anomalies.filter((a) => a.connectionId === 0);
    for (const a of many) lines.push('', ...anomalyLines(a).map((x) => x.slice(2)), ...floodLines(a));
    lines.push('', analysis.anomalies.length === 0 ? 'anomalies: none' : `anomalies: ${summariseKinds(analysis.anomalies)}`);
  }
  const bounds = boundsSummary(analysis);
  if (bounds !== null) lines.push(`bounds (--max-memory ${analysis.limits.maxMemoryMB} MB): ${bounds}`);
  const l = analysis.limits;
  if (!l.selected && (l.connectionsNotKept > 0 || l.exchangesNotKept > 0 || l.anomaliesNotKept > 0)) {
    lines.push(`(analysed and counted but not kept, to bound memory: ${plural(l.connectionsNotKept, 'connection')}, ${plural(l.exchangesNotKept, 'exchange')}, ${plural(l.anomaliesNotKept, 'anomaly')} — --keep ${l.keep}, --max-kept ${l.maxKept})`);
  }
  return lines.map(printable).join('\n') + '\n';
}

/** C0 and C1 control characters and DEL — a line break inside a line, too. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The capture's own text (a request target, a Host, a reason phrase, a pcapng interface name)
 * is anyone's: a request for `GET \x1b[2J…` would clear the terminal of whoever analyses the
 * capture, and a line break would add a line that looks like flowtrace's. Each line is made of
 * printable characters only; controls are written as \xNN (as --json has them as \u00NN).
 */
function printable(line: string): string {
  return line.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function connectionLine(id: number, conn: ConnectionSummary | null, ex: HttpExchange | null): string {
  if (!conn) return ex ? `connection #${id}  ${ep(ex.client)} → ${ep(ex.server)}` : `connection #${id}`;
  const closed = conn.closedBy ? `closed by ${conn.closedBy.from} ${conn.closedBy.how.toUpperCase()}` : conn.state;
  return `connection #${id}  ${ep(conn.client)} → ${ep(conn.server)}  (${conn.packets} packets, ${conn.observations} observations, ${closed}, ${fmtMs(conn.durationMs)})`;
}

function natLine(m: NatMapping): string {
  return `${m.kind.toUpperCase()} ${m.from} → ${m.to} (between ${m.beforeInterface} and ${m.afterInterface})`;
}

/** The innermost server endpoint (after DNAT) — the container's, on a Docker host. */
function innerServer(ex: HttpExchange, conn: ConnectionSummary | null): Endpoint {
  return conn?.serverInside ?? ex.server;
}

function exchangeLines(ex: HttpExchange, conn: ConnectionSummary | null, nat: NatMapping[]): string[] {
  const out: string[] = [];
  const req = ex.request;
  const res = ex.response;
  const title = req ? `${req.method} ${req.target}` : '(request not in the capture)';
  const status = res ? `${res.status} ${res.reason}`.trim() : ex.status === 'reset' ? 'reset' : 'no response';
  const facts: string[] = [];
  if (req?.host) facts.push(`Host ${req.host}`);
  if (req?.traceId) facts.push(`trace ${req.traceId.root ?? req.traceId.raw}`);
  if (req?.xForwardedFor) facts.push(`X-Forwarded-For ${req.xForwardedFor}`);
  if (ex.pipelined) facts.push('pipelined');
  out.push(`  exchange ${ex.id}  ${title} → ${status}${facts.length ? ` · ${facts.join(' · ')}` : ''}`);

  const viaProxy = Boolean(req?.xForwardedFor || req?.traceId);
  const clientLabel = `${viaProxy ? 'ALB node' : 'client'} ${ex.client.address}`;
  const reqHops = req?.hops ?? [];
  const resHops = res?.hops ?? [];
  const inner = innerServer(ex, conn);
  const lastReqIf = reqHops.length > 0 ? reqHops[reqHops.length - 1].interface : null;
  const serverLabel = `${(lastReqIf && BRIDGE_SIDE.test(lastReqIf)) || nat.some((m) => m.kind === 'dnat') ? 'container' : 'server'} ${ep(inner)}`;
  const outcome = res ? `HTTP ${res.status} (${fmtMs(ex.timeToFirstByteMs)})` : ex.status === 'reset' ? 'RST' : 'no response';
  if (req) out.push(`    → ${[clientLabel, ...reqHops.map((h) => h.interface), serverLabel, outcome].join(' → ')}`);
  if (res) out.push(`    ← ${[serverLabel, ...resHops.map((h) => h.interface), clientLabel].join(' → ')}`);
  if (reqHops.length > 1 || resHops.length > 1) {
    out.push(`    hops     request  ${hopLine(reqHops)}`);
    if (res) out.push(`             response ${hopLine(resHops)}`);
  }
  if (ex.timings.length > 0) {
    const parts = ex.timings.map((t, i) => `${t.interface} ${fmtMs(t.ms)}${i === ex.timings.length - 1 && ex.timings.length > 1 ? ' (the app)' : ''}`);
    out.push(`    request → first response byte: ${parts.join(' · ')}`);
  }
  if (req && (req.headSegments > 1 || req.bodyBytes > 0)) out.push(`    request head in ${req.headSegments} segment(s), body ${req.bodyBytes} bytes`);
  if (res) out.push(`    response ${res.bodyFraming} body ${res.bodyBytes} bytes${res.headSegments > 1 ? `, head in ${res.headSegments} segments` : ''}`);
  return out;
}

function hopLine(hops: Hop[]): string {
  return hops.map((h) => `${hopName(h)} ${fmtUs(h.offsetUs)}`).join(' · ');
}

function anomalyLines(a: Anomaly): string[] {
  const mark = a.severity === 'error' ? '✗' : a.severity === 'warning' ? '!' : 'i';
  return [`  ${mark} ${a.kind}: ${a.message}`];
}

/** The flood's sources and targets, one line each. */
function floodLines(a: Anomaly): string[] {
  const f = a.flood;
  if (!f) return [];
  const out: string[] = [];
  if (f.topSources.length > 0) out.push(`  sources  ${f.topSources.map((s) => `${s.address} ×${count(s.handshakes)}`).join(' · ')}`);
  if (f.targets.length > 0) out.push(`  targets  ${f.targets.map((t) => `${t.endpoint} ×${count(t.handshakes)}`).join(' · ')}`);
  return out;
}

/**
 * What the table bounds pushed out, in words (null when nothing): "1.99 M half-open
 * connections forgotten, the 7680 most recent kept · …". The CLI says it on stderr too.
 */
export function boundsSummary(analysis: FlowAnalysis): string | null {
  const t = analysis.limits.tables;
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  const parts: string[] = [];
  if (t.halfOpenConnections.evicted > 0) parts.push(`${count(t.halfOpenConnections.evicted)} half-open connections forgotten, the ${count(t.halfOpenConnections.max)} most recent kept`);
  if (t.openConnections.evicted > 0) parts.push(`${count(t.openConnections.evicted)} open connections summarised early (evicted; at most ${count(t.openConnections.max)} open at once)`);
  if (t.stitchPackets.evicted > 0) parts.push(`${count(t.stitchPackets.evicted)} packets left the stitch window early (at most ${count(t.stitchPackets.max)} in it)`);
  if (t.heldExchanges.evicted > 0) parts.push(`${count(t.heldExchanges.evicted)} exchanges summarised before their connection ended (at most ${count(t.heldExchanges.max)} held)`);
  if (t.heldBackBytes.evicted > 0) parts.push(`${count(t.heldBackBytes.evicted)} gaps no longer waited for (out-of-order bytes held back: at most ${mib(t.heldBackBytes.max)})`);
  if (t.headBytes.evicted > 0) parts.push(`${count(t.headBytes.evicted)} HTTP heads spread over segments given up (at most ${mib(t.headBytes.max)} of them held)`);
  if (t.loggedPackets.evicted > 0) parts.push(`${count(t.loggedPackets.evicted)} packets not logged (at most ${count(t.loggedPackets.max)} logged)`);
  if (t.legsPerConnection.evicted > 0) parts.push(`${count(t.legsPerConnection.evicted)} copies with yet another address not tracked as NAT views (at most ${t.legsPerConnection.max} per connection)`);
  return parts.length === 0 ? null : `${parts.join(' · ')}; raise --max-memory to keep more`;
}

function summariseKinds(anomalies: Anomaly[]): string {
  const counts = new Map<string, number>();
  for (const a of anomalies) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');
}

function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ie` : word}s`;
}

function groupBy<T>(items: T[], key: (t: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it); else m.set(k, [it]);
  }
  return m;
}
