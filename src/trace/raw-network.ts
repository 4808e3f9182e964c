/**
 * The real `Network`: raw sockets through the `raw-socket` addon.
 *
 * IPv4: one IPPROTO_RAW socket sends whole packets (IP_HDRINCL is implied), so the probe's
 * own header — its TTL and its ID (the sequence) — goes on the wire as built. Replies come
 * from an IPPROTO_ICMP raw socket (every ICMP message the host receives, header included)
 * and, for TCP probes, an IPPROTO_TCP raw socket (a copy of every TCP segment; the kernel
 * itself answers our unsolicited SYN-ACKs with a RST, see tcp.ts).
 *
 * IPv6: raw sockets take no header (no IPV6_HDRINCL on Linux) and deliver none. Probes are
 * sent as payload on a socket of the probe's protocol with IPV6_UNICAST_HOPS set before
 * each send; the kernel fills the ICMPv6 checksum (RFC 3542 §3.1), for UDP/TCP we computed
 * it with the source address the kernel picks. Received payloads get a rebuilt IPv6 header
 * (source from recvfrom, destination = our address, hop limit unknown) so the one decoder
 * reads both families.
 *
 * Path MTU probes (mtu.ts): IPv4 ones carry DF in their own header, and an IPPROTO_RAW send
 * is checked against the device MTU only (never the kernel's path MTU cache), so sizes go out
 * as built. IPv6 senders set IPV6_DONTFRAG (no source fragmentation: too big for the device is
 * EMSGSIZE) and IPV6_MTU_DISCOVER = IPV6_PMTUDISC_PROBE (ignore the path MTU the kernel learnt
 * from earlier Packet Too Big messages); neither changes the small probes of a trace.
 *
 * Creating a raw socket needs root or CAP_NET_RAW: without it, a PrivilegeError.
 */
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { EXIT, FlowtraceError, NetworkError, PrivilegeError } from '../errors.js';
import { parseIPv6 } from './address.js';
import { DEFAULT_UDP_PORT, RECEIVE_BUFFER_BYTES } from './config.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPV6_HEADER_BYTES } from './flow.js';
import type { Network, NetworkHandlers, OutgoingProbe } from './network.js';
import type { IpFamily, TraceProtocol } from './types.js';

const IPPROTO_RAW = 255;
// <linux/in6.h>: raw-socket does not name these.
const IPV6_MTU_DISCOVER = 23;
const IPV6_PMTUDISC_PROBE = 3;
const IPV6_DONTFRAG = 62;
const RECV_BUFFER_BYTES_PER_READ = 65535;

interface RawSocket {
  on(event: 'message', fn: (buffer: Buffer, source: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, before: (() => void) | null, after: (err: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  pauseRecv(): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
  SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
  SocketOption: { SO_RCVBUF: number; IPV6_UNICAST_HOPS: number };
}

let rawModule: RawSocketModule | null = null;
function loadRaw(): RawSocketModule {
  if (rawModule) return rawModule;
  try {
    rawModule = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  } catch (err) {
    throw new FlowtraceError('RAW_SOCKET_ADDON', `the raw-socket addon cannot be loaded: ${(err as Error).message.split('\n')[0]}`,
      'rebuild it: npm rebuild raw-socket (needs python3, make and a C++ compiler)', EXIT.dependency);
  }
  return rawModule;
}

export const PRIVILEGE_HINT = 'raw sockets need root or CAP_NET_RAW: run with sudo, or setcap cap_net_raw+ep $(which node)';

function openSocket(raw: RawSocketModule, protocol: number, family: IpFamily): RawSocket {
  try {
    return raw.createSocket({
      protocol,
      addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
      bufferSize: RECV_BUFFER_BYTES_PER_READ,
    });
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/not permitted|permission denied|EPERM|EACCES/i.test(message)) {
      throw new PrivilegeError('sending trace probes through raw sockets', PRIVILEGE_HINT, { protocol, family, error: message });
    }
    throw new NetworkError('RAW_SOCKET', `cannot open a raw socket (protocol ${protocol}, IPv${family}): ${message}`, 'check that the raw-socket addon is built (npm rebuild raw-socket)', { protocol, family });
  }
}

/** Throws PrivilegeError when raw sockets cannot be opened (checked before resolving names). */
export function checkRawSocketPrivilege(): void {
  const raw = loadRaw();
  openSocket(raw, IPPROTO_ICMP, 4).close();
}

/** The source address the kernel picks towards `destination`: connect() a UDP socket, which sends nothing. */
export function sourceAddressFor(destination: string, family: IpFamily): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.close();
      reject(new NetworkError('NO_ROUTE', `no route from this machine to ${destination} (${err.code ?? err.message})`,
        `check the routing table: ip route get ${destination}`, { destination, error: err.code ?? err.message }));
    });
    s.connect(DEFAULT_UDP_PORT, destination, () => {
      const address = s.address().address;
      s.close();
      resolve(address);
    });
  });
}

export function openRawNetwork(family: IpFamily, protocol: TraceProtocol): Network {
  const raw = loadRaw();
  const sockets: RawSocket[] = [];
  const open = (p: number): RawSocket => {
    const s = openSocket(raw, p, family);
    sockets.push(s);
    try { s.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, RECEIVE_BUFFER_BYTES); } catch { /* best effort */ }
    return s;
  };
  let closed = false;
  let handlers: NetworkHandlers | null = null;
  let localAddress: Uint8Array | null = null;

  try {
    let sender: RawSocket;
    const receivers: Array<{ socket: RawSocket; proto: number }> = [];
    if (family === 4) {
      sender = open(IPPROTO_RAW);
      sender.pauseRecv(); // an IPPROTO_RAW socket never receives
      receivers.push({ socket: open(IPPROTO_ICMP), proto: IPPROTO_ICMP });
      if (protocol === 'tcp') receivers.push({ socket: open(IPPROTO_TCP), proto: IPPROTO_TCP });
    } else {
      const icmp6 = open(IPPROTO_ICMPV6);
      receivers.push({ socket: icmp6, proto: IPPROTO_ICMPV6 });
      if (protocol === 'icmp') sender = icmp6;
      else if (protocol === 'tcp') { sender = open(IPPROTO_TCP); receivers.push({ socket: sender, proto: IPPROTO_TCP }); }
      else { sender = open(IPPROTO_UDP); sender.pauseRecv(); }
      try {
        sender.setOption(raw.SocketLevel.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
        sender.setOption(raw.SocketLevel.IPPROTO_IPV6, IPV6_DONTFRAG, 1);
      } catch { /* an older kernel: large IPv6 probes may then be fragmented at the source */ }
    }

    for (const { socket, proto } of receivers) {
      socket.on('message', (buffer, source) => {
        const receivedAtMs = performance.now();
        if (closed || !handlers) return;
        if (family === 4) {
          handlers.onPacket({ bytes: buffer, receivedAtMs, ttlKnown: true });
        } else {
          handlers.onPacket({ bytes: withIPv6Header(buffer, source, localAddress, proto), receivedAtMs, ttlKnown: false });
        }
      });
      socket.on('error', () => { /* a receive error closes that socket; probes then time out */ });
    }

    const network: Network = {
      family,
      protocol,
      async sourceAddressFor(destination) {
        const a = await sourceAddressFor(destination, family);
        if (family === 6) localAddress = parseIPv6(a);
        return a;
      },
      localMtu: localMtuOf,
      listen(h) { handlers = h; },
      send(probe: OutgoingProbe) {
        if (closed) return;
        const bytes = family === 4 ? probe.packet : probe.packet.subarray(IPV6_HEADER_BYTES);
        const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const before = family === 6 ? () => sender.setOption(raw.SocketLevel.IPPROTO_IPV6, raw.SocketOption.IPV6_UNICAST_HOPS, probe.ttl) : null;
        sender.send(buf, 0, buf.length, probe.destination, before, (err) => {
          if (err && handlers && !closed) handlers.onSendError(probe.sequence, err.message);
        });
      },
      close() {
        if (closed) return;
        closed = true;
        for (const s of new Set(sockets)) { try { s.close(); } catch { /* already closed */ } }
      },
    };
    return network;
  } catch (err) {
    closed = true;
    for (const s of sockets) { try { s.close(); } catch { /* ignore */ } }
    throw err;
  }
}

/** The MTU of the interface that holds `source` (/sys/class/net/<name>/mtu; `ip netns exec` mounts the namespace's). */
export function localMtuOf(source: string): number | null {
  const bare = source.split('%')[0];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!addrs?.some((a) => a.address === bare)) continue;
    try {
      const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
      return Number.isInteger(mtu) && mtu > 0 ? mtu : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Rebuilds the IPv6 header a raw socket stripped (RFC 8200 §3); hop limit 0 = unknown. */
function withIPv6Header(payload: Buffer, source: string, destination: Uint8Array | null, nextHeader: number): Uint8Array {
  const out = new Uint8Array(IPV6_HEADER_BYTES + payload.length);
  out[0] = 0x60;
  out[4] = (payload.length >> 8) & 0xff;
  out[5] = payload.length & 0xff;
  out[6] = nextHeader;
  try { out.set(parseIPv6(source), 8); } catch { /* unknown source: stays :: */ }
  if (destination) out.set(destination, 24);
  out.set(payload, IPV6_HEADER_BYTES);
  return out;
}
