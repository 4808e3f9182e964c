/**
 * NAT as observed: when two copies of one packet carry different addresses or ports, the
 * host rewrote it between the two observation points. Docker's `-p 80:8080` is a DNAT of
 * the destination (instance:80 → container:8080) between ens5 and docker0 for requests,
 * undone for responses; MASQUERADE rewrites the source of what leaves the bridge.
 *
 * Each distinct endpoint view of a connection is a leg; a rewrite is a transition from one
 * leg to another between two interfaces. Mappings are reported client → server.
 */
import type { Connection, LegView, Side } from './connections.js';
import type { NatMapping } from './types.js';

/**
 * Finds the leg matching a tuple (either orientation). Returns leg × 2 + 1 when side `b`
 * sent it (+ 0 for `a`), or -1 — a number, not an object: this runs for every packet.
 */
export function findLeg(conn: Connection, src: number, srcPort: number, dst: number, dstPort: number): number {
  const legs = conn.legs;
  for (let i = 0; i < legs.length; i++) {
    const l = legs[i];
    if (l.aAddr === src && l.aPort === srcPort && l.bAddr === dst && l.bPort === dstPort) return i * 2;
    if (l.bAddr === src && l.bPort === srcPort && l.aAddr === dst && l.aPort === dstPort) return i * 2 + 1;
  }
  return -1;
}

/** Adds a leg for a tuple sent by `sender`; the texts are formatted once, here. */
export function addLeg(conn: Connection, sender: Side, src: number, srcPort: number, dst: number, dstPort: number, srcText: string, dstText: string): number {
  const leg: LegView = sender === 'a'
    ? { aAddr: src, aPort: srcPort, bAddr: dst, bPort: dstPort, aText: srcText, bText: dstText, interfaceMask: 0 }
    : { aAddr: dst, aPort: dstPort, bAddr: src, bPort: srcPort, aText: dstText, bText: srcText, interfaceMask: 0 };
  conn.legs.push(leg);
  return conn.legs.length - 1;
}

/** Records a rewrite seen between two consecutive copies (once per pair of legs). */
export function noteTransition(conn: Connection, fromLeg: number, toLeg: number, fromInterface: number, toInterface: number, sender: Side): void {
  const nat = (conn.nat ??= []);
  for (const t of nat) if (t.fromLeg === fromLeg && t.toLeg === toLeg) return;
  nat.push({ fromLeg, toLeg, fromInterface, toInterface, sender });
}

function endpoint(text: string, port: number): string {
  return text.includes(':') ? `[${text}]:${port}` : `${text}:${port}`;
}

/**
 * The connection's NAT mappings, client → server. A rewrite seen on a response (server →
 * client) is the same mapping undone: it is reported once, oriented like the request's.
 */
const NO_MAPPINGS: NatMapping[] = [];

export function natMappings(conn: Connection, clientSide: Side, interfaceName: (i: number) => string): NatMapping[] {
  if (conn.nat === null) return NO_MAPPINGS;
  const out: NatMapping[] = [];
  const add = (m: NatMapping): void => {
    if (!out.some((o) => o.kind === m.kind && o.from === m.from && o.to === m.to)) out.push(m);
  };
  for (const t of conn.nat) {
    // Orient: `before` is the leg nearer the client, `after` the one nearer the server.
    const towardServer = t.sender === clientSide;
    const before = conn.legs[towardServer ? t.fromLeg : t.toLeg];
    const after = conn.legs[towardServer ? t.toLeg : t.fromLeg];
    const beforeIf = interfaceName(towardServer ? t.fromInterface : t.toInterface);
    const afterIf = interfaceName(towardServer ? t.toInterface : t.fromInterface);
    const server = (l: LegView): string => clientSide === 'a' ? endpoint(l.bText, l.bPort) : endpoint(l.aText, l.aPort);
    const client = (l: LegView): string => clientSide === 'a' ? endpoint(l.aText, l.aPort) : endpoint(l.bText, l.bPort);
    if (server(before) !== server(after)) {
      add({ connectionId: conn.id, kind: 'dnat', from: server(before), to: server(after), beforeInterface: beforeIf, afterInterface: afterIf });
    }
    if (client(before) !== client(after)) {
      add({ connectionId: conn.id, kind: 'snat', from: client(before), to: client(after), beforeInterface: beforeIf, afterInterface: afterIf });
    }
  }
  return out;
}
