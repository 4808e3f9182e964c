/**
 * Named anomalies of a finished connection, each with the packet that shows it. The rules
 * follow what each fault looks like in an `-i any` capture on a Docker host:
 *  - SYN in on ens5, nothing on docker0, RST out on ens5   → DNAT missing (the host answered)
 *  - SYN in on ens5 only, never answered                   → dropped by a host firewall
 *  - SYN ens5 → docker0 → veth, RST back the same way      → nothing listens in the container
 *  - RST later in a connection                              → reset by that side
 * plus TCP trouble: retransmissions, reordering, lost segments, zero windows, and HTTP
 * requests that never got a response.
 */
import type { Connection, DirectionTracker, Side } from './connections.js';
import type { StitchedPacket } from './stitch.js';
import type { Anomaly, Endpoint, Hop } from './types.js';

export interface AnomalyContext {
  hops(packet: StitchedPacket): Hop[];
  /** True when the capture covers a bridge or veth: packets to containers should cross it. */
  expectsForwarding(): boolean;
  isContainerSide(interfaceName: string): boolean;
  /** True when the capture covers container veths (so a packet to a container should reach one). */
  knowsVeth(): boolean;
}

const fmt = (e: Endpoint): string => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);

function hopList(hops: Hop[]): string {
  return hops.map(hopName).join(' → ');
}

/** `ens5 In`, `docker0 Out`; just the name when the capture does not say the direction. */
export function hopName(h: { interface: string; direction: string }): string {
  return h.direction === 'unknown' ? h.interface : `${h.interface} ${cap(h.direction)}`;
}

export function cap(direction: string): string {
  return direction === 'in' ? 'In' : direction === 'out' ? 'Out' : direction;
}

const NONE: Anomaly[] = [];

/** Cheap test first: most connections have nothing to report. */
export function anythingToReport(conn: Connection): boolean {
  if (conn.synPacket && conn.synAckUs < 0) return true;
  if (conn.state.kind === 'reset') return true;
  const a = conn.a;
  const b = conn.b;
  if (a.retransmissions + b.retransmissions + a.outOfOrder + b.outOfOrder + a.lostSegments + b.lostSegments + a.zeroWindows + b.zeroWindows > 0) return true;
  if (conn.isFinal() && conn.pairing !== null && conn.pairing.hasUnanswered()) return true;
  return false;
}

/**
 * How many anomalies connectionAnomalies would name, without making them (the anomalies kept
 * are at their bound: the rest are only counted). The same rules, in the same order.
 */
export function anomalyCount(conn: Connection, clientSide: Side): number {
  if (!anythingToReport(conn)) return 0;
  const serverSide: Side = clientSide === 'a' ? 'b' : 'a';
  const state = conn.state;
  let n = 0;
  if (conn.synPacket && conn.synAckUs < 0) {
    // syn-not-forwarded / rst-from-server when the server reset it, syn-* when nobody did; none when the client did.
    if (state.kind !== 'reset' || state.by === serverSide) n++;
  } else if (state.kind === 'reset' && conn.rstPacket) n++;
  const a = conn.a;
  const b = conn.b;
  if (a.retransmissions + b.retransmissions > 0) n++;
  if (a.outOfOrder + b.outOfOrder > 0) n++;
  if (a.lostSegments + b.lostSegments > 0) n++;
  if (a.zeroWindows + b.zeroWindows > 0) n++;
  if (conn.isFinal()) for (const ex of conn.exchanges) if (ex.request && !ex.response && !ex.reset) n++;
  return n;
}

export function connectionAnomalies(conn: Connection, clientSide: Side, client: Endpoint, server: Endpoint, ctx: AnomalyContext): Anomaly[] {
  if (!anythingToReport(conn)) return NONE;
  const out: Anomaly[] = [];
  const serverSide: Side = clientSide === 'a' ? 'b' : 'a';
  const ts = (us: number): number => Math.round(us) / 1e6;
  const base = { connectionId: conn.id, exchangeId: null as number | null };
  const synHops = conn.synPacket ? ctx.hops(conn.synPacket) : [];
  const rstHops = conn.rstPacket ? ctx.hops(conn.rstPacket) : [];
  const state = conn.state;
  const synOnlyAtEntry = synHops.length === 1 && synHops[0].direction === 'in';

  if (conn.synPacket && conn.synAckUs < 0) {
    const rstByServer = state.kind === 'reset' && state.by === serverSide;
    if (rstByServer && ctx.expectsForwarding() && synOnlyAtEntry && rstHops.length > 0 && rstHops[0].interface === synHops[0].interface) {
      out.push({
        ...base, kind: 'syn-not-forwarded', severity: 'error', ts: ts(conn.synPacket.firstUs), hops: synHops,
        message: `SYN to ${fmt(server)} arrived on ${synHops[0].interface} but was never forwarded (nothing on the bridge); the host itself answered RST on ${hopList(rstHops)}: nothing listens on ${fmt(server)} — is Docker's DNAT rule for this port missing?`,
      });
    } else if (rstByServer) {
      const where = rstHops.length > 0 ? rstHops[0].interface : null;
      const fromContainer = where !== null && ctx.isContainerSide(where);
      out.push({
        ...base, kind: 'rst-from-server', severity: 'error', ts: ts(conn.rstPacket!.firstUs), hops: rstHops,
        message: `connection refused: ${fromContainer ? 'the container' : 'the server'} answered the SYN with RST (first seen ${where ? `on ${hopList(rstHops)}` : 'in the capture'}): nothing listens on ${fmt(serverEndpointAfterNat(conn, clientSide) ?? server)}`,
      });
    } else if (state.kind !== 'reset') {
      const n = conn.tracker(clientSide).synRepeats;
      const retries = n > 0 ? ` (${n} retransmission${n > 1 ? 's' : ''})` : '';
      if (ctx.expectsForwarding() && synOnlyAtEntry) {
        out.push({
          ...base, kind: 'syn-not-forwarded', severity: 'error', ts: ts(conn.synPacket.firstUs), hops: synHops,
          message: `SYN to ${fmt(server)}${retries} seen on ${synHops[0].interface} but never on the bridge and never answered: dropped on the host (firewall in DOCKER-USER/FORWARD, or no DNAT rule)`,
        });
      } else {
        const last = synHops.length > 0 ? synHops[synHops.length - 1] : null;
        const stuckOnBridge = last !== null && /^(docker\d+|br-|cni|cbr)/.test(last.interface) && ctx.knowsVeth() && !synHops.some((h) => h.interface.startsWith('veth'));
        out.push({
          ...base, kind: 'syn-unanswered', severity: 'error', ts: ts(conn.synPacket.firstUs), hops: synHops,
          message: `SYN from ${fmt(client)} to ${fmt(server)}${retries} never answered${last ? ` (last seen on ${hopName(last)})` : ''}`
            + (stuckOnBridge ? `: it reached ${last!.interface} but no container veth — the container's interface is down or the container is gone` : ''),
        });
      }
    }
  } else if (state.kind === 'reset' && conn.rstPacket) {
    const bySide = state.by === clientSide ? 'client' : 'server';
    const where = rstHops.length > 0 ? rstHops[0].interface : null;
    const fromContainer = bySide === 'server' && where !== null && ctx.isContainerSide(where);
    out.push({
      ...base, kind: bySide === 'server' ? 'rst-from-server' : 'rst-from-client', severity: bySide === 'server' ? 'error' : 'warning',
      ts: ts(conn.rstPacket.firstUs), hops: rstHops,
      message: `connection reset by the ${fromContainer ? 'container' : bySide} (${fmt(bySide === 'server' ? serverEndpointAfterNat(conn, clientSide) ?? server : client)}, RST first seen ${where ? `on ${hopList(rstHops)}` : 'in the capture'})`,
    });
  }

  const dirs: Array<[DirectionTracker, string]> = [
    [conn.tracker(clientSide), 'client → server'],
    [conn.tracker(serverSide), 'server → client'],
  ];
  const counted = (pick: (d: DirectionTracker) => number): string =>
    dirs.filter(([d]) => pick(d) > 0).map(([d, label]) => `${pick(d)} ${label}`).join(', ');
  const total = (pick: (d: DirectionTracker) => number): number => pick(dirs[0][0]) + pick(dirs[1][0]);
  const lastTs = ts(conn.lastUs);
  if (total((d) => d.retransmissions) > 0) {
    out.push({ ...base, kind: 'retransmissions', severity: 'warning', ts: lastTs, hops: [], message: `${counted((d) => d.retransmissions)} (data or FIN sent again)` });
  }
  if (total((d) => d.outOfOrder) > 0) {
    out.push({ ...base, kind: 'out-of-order', severity: 'info', ts: lastTs, hops: [], message: `${counted((d) => d.outOfOrder)} (arrived after a later segment)` });
  }
  if (total((d) => d.lostSegments) > 0) {
    out.push({ ...base, kind: 'lost-segments', severity: 'warning', ts: lastTs, hops: [], message: `${counted((d) => d.lostSegments)}: gaps in the sequence never filled (lost before the capture point, or dropped by the capture)` });
  }
  if (total((d) => d.zeroWindows) > 0) {
    const z = dirs.filter(([d]) => d.zeroWindows > 0).map(([d, label]) => `${label.startsWith('client') ? 'the client' : 'the server'} advertised a zero window ${d.zeroWindows}×`).join(', ');
    out.push({ ...base, kind: 'zero-window', severity: 'warning', ts: lastTs, hops: [], message: `receiver stalled: ${z}` });
  }
  for (const ex of conn.exchanges) {
    if (ex.request && !ex.response && !ex.reset && conn.isFinal()) {
      out.push({
        ...base, exchangeId: ex.id, kind: 'http-no-response', severity: 'warning', ts: ts(ex.request.startUs), hops: ctx.hops(ex.request.packet),
        message: `${ex.request.head.method} ${ex.request.head.target} got no response before the connection ended`,
      });
    }
  }
  return out;
}

/** The server's endpoint on the innermost leg (after DNAT), or null without NAT. */
function serverEndpointAfterNat(conn: Connection, clientSide: Side): Endpoint | null {
  if (conn.legs.length < 2) return null;
  const l = conn.legs[innerLeg(conn, clientSide)];
  return clientSide === 'a' ? { address: l.bText, port: l.bPort } : { address: l.aText, port: l.aPort };
}

/** The leg where a client → server packet was first seen (outside the NAT). */
export function outerLeg(conn: Connection, clientSide: Side): number {
  const p = conn.tracker(clientSide).firstDataPacket ?? conn.synPacket;
  return p ? p.firstLeg : 0;
}

/** The leg where a client → server packet was last seen (inside the NAT: the container's view). */
export function innerLeg(conn: Connection, clientSide: Side): number {
  const p = conn.tracker(clientSide).firstDataPacket ?? conn.synPacket;
  return p ? p.leg : conn.legs.length - 1;
}
