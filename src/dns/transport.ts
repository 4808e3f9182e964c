/**
 * The Network seam of the DNS layer: every packet the resolver sends or receives goes through
 * a `DnsTransport`, so tests replay recorded answers and the resolver logic never touches a
 * socket. `socketTransport` is the real one: a connected UDP socket (so an ICMP port
 * unreachable comes back as ECONNREFUSED) and TCP with the 2-byte length prefix of
 * RFC 1035 §4.2.2.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { DnsServer } from './types.js';

/** Why an exchange produced no answer. */
export type TransportFailureKind = 'timeout' | 'unreachable' | 'reset' | 'local';

export class TransportFailure extends Error {
  readonly kind: TransportFailureKind;
  /** The errno code (ECONNREFUSED, EHOSTUNREACH, …) or null for a timeout. */
  readonly errno: string | null;
  constructor(kind: TransportFailureKind, message: string, errno: string | null = null) {
    super(message);
    this.name = 'TransportFailure';
    this.kind = kind;
    this.errno = errno;
  }
}

/**
 * `accept` decides whether a received message answers this query (ID and question match);
 * others are ignored and the wait goes on, as a stub resolver must (RFC 5452 §9.1).
 * Both methods reject with a TransportFailure only.
 */
export interface DnsTransport {
  udp(server: DnsServer, query: Uint8Array, timeoutMs: number, accept: (message: Uint8Array) => boolean): Promise<Uint8Array>;
  tcp(server: DnsServer, query: Uint8Array, timeoutMs: number, accept: (message: Uint8Array) => boolean): Promise<Uint8Array>;
}

const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const RESET_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function failureFromErrno(err: NodeJS.ErrnoException, server: DnsServer, proto: string): TransportFailure {
  const code = err.code ?? 'UNKNOWN';
  const where = `${server.address}#${server.port} (${proto})`;
  if (UNREACHABLE_ERRNOS.has(code)) return new TransportFailure('unreachable', `${where}: ${code}`, code);
  if (RESET_ERRNOS.has(code)) return new TransportFailure('reset', `${where}: ${code}`, code);
  return new TransportFailure('local', `${where}: ${err.message}`, code);
}

function udpExchange(server: DnsServer, query: Uint8Array, timeoutMs: number, accept: (m: Uint8Array) => boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try { socket.close(); } catch { /* already closed after an error */ }
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new TransportFailure('timeout', `no answer from ${server.address}#${server.port} (udp) in ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (err) => finish(() => reject(failureFromErrno(err, server, 'udp'))));
    socket.on('message', (msg) => {
      if (accept(msg)) finish(() => resolve(msg));
    });
    socket.connect(server.port, server.address, () => {
      socket.send(query, (err) => {
        if (err) finish(() => reject(failureFromErrno(err, server, 'udp')));
      });
    });
  });
}

/** Length-prefixed messages over one TCP connection (RFC 1035 §4.2.2, RFC 7766). */
function tcpExchange(server: DnsServer, query: Uint8Array, timeoutMs: number, accept: (m: Uint8Array) => boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.address, port: server.port });
    let settled = false;
    let pending: Buffer = Buffer.alloc(0);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new TransportFailure('timeout', `no answer from ${server.address}#${server.port} (tcp) in ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (err) => finish(() => reject(failureFromErrno(err, server, 'tcp'))));
    socket.on('connect', () => {
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      framed.set(query, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        if (accept(message)) {
          finish(() => resolve(message));
          return;
        }
      }
    });
    socket.on('end', () => finish(() => reject(new TransportFailure('reset', `${server.address}#${server.port} (tcp) closed the connection without an answer`, null))));
  });
}

/** The real transport: sockets in the current network namespace. */
export const socketTransport: DnsTransport = { udp: udpExchange, tcp: tcpExchange };
