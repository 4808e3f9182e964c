/**
 * The one seam between the tracer and the world (trippy's `Network` trait): send a probe
 * with a TTL, get back every received packet with its arrival time. The real one is
 * raw-network.ts; tests script replies (test/trace/scripted.ts). Time goes through `Clock`
 * so scripted tests run on virtual time.
 */
import type { ReceivedPacket } from './reply.js';
import type { IpFamily, Sequence, TimeToLive, TraceProtocol } from './types.js';

export interface OutgoingProbe {
  sequence: Sequence;
  ttl: TimeToLive;
  destination: string;
  /**
   * The whole IP packet (header first). IPv4 networks send it as is (IP_HDRINCL); IPv6 raw
   * sockets cannot take a header, so they send the payload with IPV6_UNICAST_HOPS = ttl.
   */
  packet: Uint8Array;
}

export interface NetworkHandlers {
  onPacket(packet: ReceivedPacket): void;
  /** A send failed after `send()` returned (sends are queued). */
  onSendError(sequence: Sequence, message: string): void;
}

export interface Network {
  readonly family: IpFamily;
  readonly protocol: TraceProtocol;
  /** The address probes towards `destination` leave from (route lookup only, nothing is sent). */
  sourceAddressFor(destination: string): Promise<string>;
  /**
   * The MTU of the link this machine sends on from `source` (where path MTU probes start),
   * null when it cannot be told.
   */
  localMtu(source: string): number | null;
  /** Starts delivering received packets (replaces the previous handlers); call before the first send. */
  listen(handlers: NetworkHandlers): void;
  send(probe: OutgoingProbe): void;
  /** Closes the sockets; idempotent. */
  close(): void;
}

/** Opens a network for one family and protocol (may throw PrivilegeError). */
export type NetworkFactory = (family: IpFamily, protocol: TraceProtocol) => Network;

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fn` after `delayMs`; returns a cancel function. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(t);
  },
};
