/**
 * Test doubles for the trace layer: a virtual clock, a scripted network that answers probes
 * the way routers and hosts do (with real reply bytes: ICMP errors quoting the probe, echo
 * replies, SYN-ACK/RST), and builders for those reply packets.
 */
import { onesSum, finishChecksum, pseudoHeaderSum } from '../../src/trace/checksum.js';
import { parseAddress } from '../../src/trace/address.js';
import type { Clock, Network, NetworkHandlers, OutgoingProbe } from '../../src/trace/network.js';
import type { IpFamily, TraceProtocol } from '../../src/trace/types.js';

// ---------------------------------------------------------------- virtual clock

export class VirtualClock implements Clock {
  private t = 1000;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void; cancelled: boolean }> = [];

  now(): number { return this.t; }

  setTimer(delayMs: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return () => { timer.cancelled = true; };
  }

  /** Runs the earliest timer (advancing time to it); false when none is left. */
  step(): boolean {
    this.timers = this.timers.filter((x) => !x.cancelled);
    if (this.timers.length === 0) return false;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift()!;
    this.t = Math.max(this.t, next.at);
    next.fn();
    return true;
  }
}

/** Drives the virtual clock until `p` settles. */
export async function drive<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  let idle = 0;
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    if (settled) break;
    if (clock.step()) { idle = 0; continue; }
    if (++idle > 50) throw new Error('trace stalled: no timer left and the promise did not settle');
  }
  return p;
}

// ---------------------------------------------------------------- reply packet builders

const IPPROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;

function ipv4Packet(src: string, dst: string, protocol: number, payload: Uint8Array, ttl = 64): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = ttl;
  p[9] = protocol;
  p.set(parseAddress(src), 12);
  p.set(parseAddress(dst), 16);
  v.setUint16(10, finishChecksum(onesSum(p, 0, 20)));
  p.set(payload, 20);
  return p;
}

function ipv6Packet(src: string, dst: string, nextHeader: number, payload: Uint8Array, hopLimit = 64): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(4, payload.length);
  p[6] = nextHeader;
  p[7] = hopLimit;
  p.set(parseAddress(src), 8);
  p.set(parseAddress(dst), 24);
  p.set(payload, 40);
  return p;
}

/** An ICMP(v6) message of `type`/`code` with `body` after the 4-byte type/code/checksum. */
function icmpMessage(family: IpFamily, src: string, dst: string, type: number, code: number, rest: Uint8Array): Uint8Array {
  const m = new Uint8Array(4 + rest.length);
  m[0] = type;
  m[1] = code;
  m.set(rest, 4);
  const base = family === 6 ? pseudoHeaderSum(parseAddress(src), parseAddress(dst), m.length, IPPROTO.icmpv6) : 0;
  new DataView(m.buffer).setUint16(2, finishChecksum(onesSum(m, 0, m.length, base)));
  return family === 4 ? ipv4Packet(src, dst, IPPROTO.icmp, m) : ipv6Packet(src, dst, IPPROTO.icmpv6, m);
}

/**
 * An ICMP error from `from` quoting `probe` (a whole IP packet). IPv4 routers quote the IP
 * header + 8 bytes (RFC 792) unless `quoteBytes` says otherwise; IPv6 ones the whole probe.
 */
export function icmpError(probe: Uint8Array, from: string, kind: 'time-exceeded' | 'unreachable' | 'too-big', code = 0, opts: { quoteBytes?: number; mtu?: number } = {}): Uint8Array {
  const family: IpFamily = probe[0] >> 4 === 6 ? 6 : 4;
  const probeSrc = family === 4 ? addr(probe, 12, 4) : addr(probe, 8, 16);
  const quoteLen = opts.quoteBytes ?? (family === 4 ? (probe[0] & 0x0f) * 4 + 8 : probe.length);
  const quote = probe.subarray(0, Math.min(quoteLen, probe.length));
  const rest = new Uint8Array(4 + quote.length);
  const v = new DataView(rest.buffer);
  if (opts.mtu !== undefined) {
    if (family === 4) v.setUint16(2, opts.mtu);
    else v.setUint32(0, opts.mtu);
  }
  rest.set(quote, 4);
  const type = family === 4
    ? (kind === 'time-exceeded' ? 11 : 3)
    : (kind === 'time-exceeded' ? 3 : kind === 'too-big' ? 2 : 1);
  return icmpMessage(family, from, probeSrc, type, code, rest);
}

/** The echo reply the destination sends to an ICMP echo probe. */
export function echoReply(probe: Uint8Array): Uint8Array {
  const family: IpFamily = probe[0] >> 4 === 6 ? 6 : 4;
  const ipLen = family === 4 ? (probe[0] & 0x0f) * 4 : 40;
  const src = family === 4 ? addr(probe, 16, 4) : addr(probe, 24, 16);
  const dst = family === 4 ? addr(probe, 12, 4) : addr(probe, 8, 16);
  const echo = probe.subarray(ipLen);
  return icmpMessage(family, src, dst, family === 4 ? 0 : 129, 0, echo.subarray(4));
}

/** The destination's SYN-ACK (or RST-ACK) to a TCP SYN probe. */
export function tcpAnswer(probe: Uint8Array, kind: 'syn-ack' | 'rst'): Uint8Array {
  const family: IpFamily = probe[0] >> 4 === 6 ? 6 : 4;
  const ipLen = family === 4 ? (probe[0] & 0x0f) * 4 : 40;
  const src = family === 4 ? addr(probe, 16, 4) : addr(probe, 24, 16);
  const dst = family === 4 ? addr(probe, 12, 4) : addr(probe, 8, 16);
  const syn = new DataView(probe.buffer, probe.byteOffset + ipLen);
  const t = new Uint8Array(20);
  const v = new DataView(t.buffer);
  v.setUint16(0, syn.getUint16(2));
  v.setUint16(2, syn.getUint16(0));
  v.setUint32(4, kind === 'syn-ack' ? 0x12345678 : 0);
  v.setUint32(8, (syn.getUint32(4) + 1) >>> 0);
  t[12] = 5 << 4;
  t[13] = kind === 'syn-ack' ? 0x12 : 0x14;
  v.setUint16(14, kind === 'syn-ack' ? 65535 : 0);
  const sum = onesSum(t, 0, 20, pseudoHeaderSum(parseAddress(src), parseAddress(dst), 20, IPPROTO.tcp));
  v.setUint16(16, finishChecksum(sum));
  return family === 4 ? ipv4Packet(src, dst, IPPROTO.tcp, t) : ipv6Packet(src, dst, IPPROTO.tcp, t);
}

function addr(p: Uint8Array, offset: number, length: 4 | 16): string {
  if (length === 4) return `${p[offset]}.${p[offset + 1]}.${p[offset + 2]}.${p[offset + 3]}`;
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(((p[offset + 2 * i] << 8) | p[offset + 2 * i + 1]).toString(16));
  return words.join(':');
}

// ---------------------------------------------------------------- scripted network

/** What happens to one probe: replies (bytes + delay), or nothing (a star). */
export type Responder = (probe: OutgoingProbe, ctx: { round: number; protocol: TraceProtocol }) => Array<{ delayMs: number; bytes: Uint8Array }>;

export interface SentRecord { probe: OutgoingProbe; atMs: number }

export class ScriptedNetwork implements Network {
  readonly sent: SentRecord[] = [];
  private handlers: NetworkHandlers | null = null;
  private readonly roundOf = new Map<number, number>();
  closed = false;

  constructor(
    readonly family: IpFamily,
    readonly protocol: TraceProtocol,
    private readonly clock: VirtualClock,
    private readonly source: string,
    private readonly respond: Responder,
    private readonly sendError: ((probe: OutgoingProbe) => string | null) | null = null,
  ) {}

  /** What localMtu() answers (the MTU of this machine's link). */
  linkMtu: number | null = 1500;

  async sourceAddressFor(): Promise<string> { return this.source; }
  localMtu(): number | null { return this.linkMtu; }
  listen(h: NetworkHandlers): void { this.handlers = h; }

  send(probe: OutgoingProbe): void {
    const round = this.sent.filter((s) => s.probe.ttl === probe.ttl).length;
    this.roundOf.set(probe.sequence, round);
    this.sent.push({ probe, atMs: this.clock.now() });
    const err = this.sendError?.(probe) ?? null;
    if (err) { this.clock.setTimer(0, () => this.handlers?.onSendError(probe.sequence, err)); return; }
    for (const r of this.respond(probe, { round, protocol: this.protocol })) {
      this.clock.setTimer(r.delayMs, () => {
        if (!this.closed) this.handlers?.onPacket({ bytes: r.bytes, receivedAtMs: this.clock.now(), ttlKnown: this.family === 4 });
      });
    }
  }

  close(): void { this.closed = true; }
}

export interface PathHop {
  /** Router address, or null for a router that never answers. */
  address: string | null;
  rttMs?: number;
  /** Rounds (0-based) in which this router does not answer (rate limiting). */
  silentRounds?: number[];
  /** An unreachable instead of time-exceeded (e.g. code 10 → !X). */
  unreachableCode?: number;
}

/**
 * A path of routers then the destination at hop `path.length + 1` (unless `blackholeAfter`
 * says probes die after that many hops). The destination answers as each protocol expects.
 */
export function pathResponder(opts: {
  path: PathHop[];
  destination: string;
  destinationRttMs?: number;
  blackholeAfter?: number;
  tcpAnswer?: 'syn-ack' | 'rst';
  duplicateDestinationReplies?: boolean;
}): Responder {
  return (probe, { round, protocol }) => {
    const ttl = probe.ttl;
    if (opts.blackholeAfter !== undefined && ttl > opts.blackholeAfter) return [];
    if (ttl <= opts.path.length) {
      const hop = opts.path[ttl - 1];
      if (hop.address === null || hop.silentRounds?.includes(round)) return [];
      const bytes = hop.unreachableCode !== undefined
        ? icmpError(probe.packet, hop.address, 'unreachable', hop.unreachableCode)
        : icmpError(probe.packet, hop.address, 'time-exceeded');
      return [{ delayMs: hop.rttMs ?? ttl, bytes }];
    }
    const delayMs = opts.destinationRttMs ?? opts.path.length + 1;
    let bytes: Uint8Array;
    if (protocol === 'udp') bytes = icmpError(probe.packet, opts.destination, 'unreachable', probe.packet[0] >> 4 === 6 ? 4 : 3);
    else if (protocol === 'icmp') bytes = echoReply(probe.packet);
    else bytes = tcpAnswer(probe.packet, opts.tcpAnswer ?? 'syn-ack');
    const out = [{ delayMs, bytes }];
    if (opts.duplicateDestinationReplies) out.push({ delayMs: delayMs + 1, bytes });
    return out;
  };
}

// ---------------------------------------------------------------- links with MTUs

export interface MtuHop {
  address: string;
  /** The MTU of the link after this router, towards the destination (none: not smaller than the rest). */
  nextMtu?: number;
  /**
   * A DF packet too big for that link: the router answers with the MTU (`report`, default),
   * with 0 (`report-zero`, as routers older than RFC 1191), or its answer is dropped on the
   * way back (`dropped`: an MTU black hole).
   */
  tooBig?: 'report' | 'report-zero' | 'dropped';
}

/**
 * A path whose links have MTUs: a probe (its whole length, DF set for IPv4 / always for IPv6)
 * expires at the router its TTL names (time-exceeded: the TTL check comes before the MTU
 * check), or meets a link too small for it (fragmentation needed / packet too big from the
 * router in front), or reaches the destination, which answers as `pathResponder`'s does.
 */
export function mtuPathResponder(opts: { path: MtuHop[]; destination: string; rttMs?: number }): Responder {
  const rtt = opts.rttMs ?? 1;
  return (probe, ctx) => {
    const v6 = probe.packet[0] >> 4 === 6;
    const df = v6 || (probe.packet[6] & 0x40) !== 0;
    const size = probe.packet.length;
    for (let k = 1; k <= opts.path.length; k++) {
      const hop = opts.path[k - 1];
      if (probe.ttl === k) return [{ delayMs: rtt * k, bytes: icmpError(probe.packet, hop.address, 'time-exceeded') }];
      if (hop.nextMtu !== undefined && size > hop.nextMtu && df) {
        if (hop.tooBig === 'dropped') return [];
        const mtu = hop.tooBig === 'report-zero' ? 0 : hop.nextMtu;
        const bytes = v6
          ? icmpError(probe.packet, hop.address, 'too-big', 0, { mtu, quoteBytes: Math.min(size, 1280 - 48) })
          : icmpError(probe.packet, hop.address, 'unreachable', 4, { mtu });
        return [{ delayMs: rtt * k, bytes }];
      }
    }
    const hops = opts.path.map((h) => ({ address: h.address, rttMs: rtt }));
    return pathResponder({ path: hops, destination: opts.destination, destinationRttMs: rtt * (opts.path.length + 1) })({ ...probe, ttl: Math.max(probe.ttl, opts.path.length + 1) as typeof probe.ttl }, ctx);
  };
}
