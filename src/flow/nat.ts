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
import { formatIPv4 } from '../decode/index.js';

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

/**
 * One view of a connection's endpoints. The texts of IPv4 addresses are made only when a
 * summary asks for them (most connections of a big capture are counted, never printed);
 * IPv6 texts come formatted (their numbers are only hashes). Reused: a pooled connection
 * keeps its legs for its next use (Connection.spareLegs).
 */
export class Leg implements LegView {
  interfaceMask = 0;
  aAddr = 0;
  aPort = 0;
  bAddr = 0;
  bPort = 0;
  private aTextOrNull: string | null = null;
  private bTextOrNull: string | null = null;
  /** The addresses are IPv6 (their texts are given; the numbers are hashes). */
  ipv6 = false;

  set(aAddr: number, aPort: number, bAddr: number, bPort: number, aText: string | null, bText: string | null): this {
    this.aAddr = aAddr; this.aPort = aPort; this.bAddr = bAddr; this.bPort = bPort;
    this.aTextOrNull = aText; this.bTextOrNull = bText;
    this.ipv6 = aText !== null;
    this.interfaceMask = 0;
    return this;
  }

  get aText(): string { return (this.aTextOrNull ??= formatIPv4(this.aAddr)); }
  get bText(): string { return (this.bTextOrNull ??= formatIPv4(this.bAddr)); }
}

/** Adds a leg for a tuple sent by `sender`; texts null = IPv4, formatted from the number when needed. */
export function addLeg(conn: Connection, sender: Side, src: number, srcPort: number, dst: number, dstPort: number, srcText: string | null, dstText: string | null): number {
  const leg = conn.spareLegs.pop() ?? new Leg();
  if (sender === 'a') leg.set(src, srcPort, dst, dstPort, srcText, dstText);
  else leg.set(dst, dstPort, src, srcPort, dstText, srcText);
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
 * IPv4 endpoint texts by address × 65536 + port (exact in a double): the same server
 * endpoints come back in every connection's mapping. Cleared when it gets big.
 */
const endpointTexts = new Map<number, string>();
const MAX_ENDPOINT_TEXTS = 4096;

/** The endpoint text of one side of a leg (`a` or `b`). */
function sideEndpoint(l: LegView, side: Side): string {
  const addr = side === 'a' ? l.aAddr : l.bAddr;
  const port = side === 'a' ? l.aPort : l.bPort;
  const text = side === 'a' ? l.aText : l.bText;
  if (text.includes(':')) return endpoint(text, port);
  const key = (addr >>> 0) * 65536 + port;
  let e = endpointTexts.get(key);
  if (e === undefined) {
    if (endpointTexts.size >= MAX_ENDPOINT_TEXTS) endpointTexts.clear();
    e = endpoint(text, port);
    endpointTexts.set(key, e);
  }
  return e;
}

function sameSide(x: LegView, y: LegView, side: Side): boolean {
  return side === 'a' ? x.aAddr === y.aAddr && x.aPort === y.aPort : x.bAddr === y.bAddr && x.bPort === y.bPort;
}

function addMapping(out: NatMapping[], m: NatMapping): void {
  for (const o of out) if (o.kind === m.kind && o.from === m.from && o.to === m.to) return;
  out.push(m);
}

/**
 * The connection's NAT mappings, client → server. A rewrite seen on a response (server →
 * client) is the same mapping undone: it is reported once, oriented like the request's.
 */
const NO_MAPPINGS: NatMapping[] = [];

export function natMappings(conn: Connection, clientSide: Side, interfaceName: (i: number) => string): NatMapping[] {
  if (conn.nat === null) return NO_MAPPINGS;
  const out: NatMapping[] = [];
  const serverSide: Side = clientSide === 'a' ? 'b' : 'a';
  for (const t of conn.nat) {
    // Orient: `before` is the leg nearer the client, `after` the one nearer the server.
    const towardServer = t.sender === clientSide;
    const before = conn.legs[towardServer ? t.fromLeg : t.toLeg];
    const after = conn.legs[towardServer ? t.toLeg : t.fromLeg];
    // Numbers first: texts are made only for an actual rewrite.
    const serverMoved = !sameSide(before, after, serverSide);
    const clientMoved = !sameSide(before, after, clientSide);
    if (!serverMoved && !clientMoved) continue;
    const beforeIf = interfaceName(towardServer ? t.fromInterface : t.toInterface);
    const afterIf = interfaceName(towardServer ? t.toInterface : t.fromInterface);
    if (serverMoved) {
      const from = sideEndpoint(before, serverSide);
      const to = sideEndpoint(after, serverSide);
      if (from !== to) addMapping(out, { connectionId: conn.id, kind: 'dnat', from, to, beforeInterface: beforeIf, afterInterface: afterIf });
    }
    if (clientMoved) {
      const from = sideEndpoint(before, clientSide);
      const to = sideEndpoint(after, clientSide);
      if (from !== to) addMapping(out, { connectionId: conn.id, kind: 'snat', from, to, beforeInterface: beforeIf, afterInterface: afterIf });
    }
  }
  return out;
}
