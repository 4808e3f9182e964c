/**
 * The decoded view of one packet: the contract between decode/ and its consumers (flow/,
 * trace/, the printer).
 *
 * Layer objects are allocated once per decoder and overwritten for every packet (gopacket
 * style). Payloads and addresses are kept as offsets into `DecodedPacket.data`. Everything
 * here is valid only until the next call to `decode()` on the same decoder; copy what must
 * outlive it (see the helpers in addr.ts for formatting addresses when needed).
 *
 * Each layer has `present`: false when the packet has no such layer (or decoding stopped
 * before it). `truncated` means the header was cut by the snaplen; `malformed` holds a short
 * reason when a field is impossible (both are results, never exceptions).
 */

export type Direction = 'in' | 'out' | 'broadcast' | 'multicast' | 'otherhost' | 'unknown';

export interface LinkLayer {
  present: boolean;
  /** 'ethernet' | 'linux_sll' | 'linux_sll2' | 'raw' | 'null' | 'other' */
  kind: 'ethernet' | 'linux_sll' | 'linux_sll2' | 'raw' | 'null' | 'other';
  linkType: number;
  /** Offset of the link header in `data`, and its length including VLAN tags. */
  offset: number;
  headerLength: number;
  /** Ethernet/SLL source & destination MAC offsets in `data` (-1 when absent), lengths. */
  srcMacOffset: number;
  dstMacOffset: number;
  macLength: number;
  /** EtherType / protocol of the payload (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP…), -1 unknown. */
  etherType: number;
  /** 802.1Q tags, outermost first (length reset per packet; the array is reused). */
  vlanIds: number[];
  /** LINUX_SLL2 interface index; -1 otherwise. */
  ifindex: number;
  /** SLL/SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing); -1 otherwise. */
  packetType: number;
  direction: Direction;
  /** SLL/SLL2 ARPHRD type; -1 otherwise. */
  hatype: number;
  /** Ethernet 802.3 frames: the length field (type ≤ 1500); -1 otherwise. */
  lengthField: number;
  /** NULL/LOOP: the address family value; -1 otherwise. */
  family: number;
  truncated: boolean;
  malformed: string | null;
}

export interface IPv4Layer {
  present: boolean;
  offset: number;
  /** The version nibble as found (4 unless malformed). */
  version: number;
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffsetBytes: number;
  /** The reserved ("evil") flag bit. */
  reservedFlag: boolean;
  ttl: number;
  protocol: number;
  checksum: number;
  /** Addresses as unsigned 32-bit integers (network order value). */
  src: number;
  dst: number;
  optionsOffset: number;
  optionsLength: number;
  /** Payload (after the header): offset, length the header says was sent, length captured. */
  payloadOffset: number;
  payloadLength: number;
  capturedPayloadLength: number;
  truncated: boolean;
  malformed: string | null;
}

export interface IPv6Layer {
  present: boolean;
  offset: number;
  /** The version nibble as found (6 unless malformed). */
  version: number;
  /** Class, flow label, payload length, next header and hop limit are read whenever the first
   * 8 bytes were captured, even when the addresses were not (`srcOffset` is -1 then). */
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** Next header of the fixed header. */
  nextHeader: number;
  /** The upper-layer protocol after walking extension headers. */
  upperProtocol: number;
  hopLimit: number;
  /** Offsets of the 16-byte addresses in `data`. */
  srcOffset: number;
  dstOffset: number;
  /** Extension headers walked (types, in order; array reused). */
  extensionHeaders: number[];
  /** Fragment header, when present. */
  fragment: boolean;
  fragmentOffsetBytes: number;
  moreFragments: boolean;
  fragmentId: number;
  /** Payload after the fixed header; the upper-layer header after extension headers (offset,
   * length as sent, length captured; -1/0 when not reached). */
  payloadOffset: number;
  upperOffset: number;
  upperLength: number;
  capturedUpperLength: number;
  truncated: boolean;
  malformed: string | null;
}

export interface TcpLayer {
  present: boolean;
  offset: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  headerLength: number;
  /** Flag bits (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 AE 0x100). */
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  /** Options region in `data`. */
  optionsOffset: number;
  optionsLength: number;
  /** Decoded common options; -1 / false when absent. */
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  tsVal: number;
  tsEcr: number;
  hasTimestamps: boolean;
  /** SACK blocks (pairs of 32-bit edges) in `data`: offset, count; -1 / 0 when absent. */
  sackBlocksOffset: number;
  sackBlockCount: number;
  /** An option had an impossible length (the walk stopped there). */
  optionsMalformed: boolean;
  payloadOffset: number;
  /** Payload length from IP lengths (what was sent), and how much of it was captured. */
  payloadLength: number;
  capturedPayloadLength: number;
  truncated: boolean;
  malformed: string | null;
}

export interface UdpLayer {
  present: boolean;
  offset: number;
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
  payloadOffset: number;
  payloadLength: number;
  capturedPayloadLength: number;
  truncated: boolean;
  malformed: string | null;
}

/** ICMPv4 or ICMPv6 (see `version`). */
export interface IcmpLayer {
  present: boolean;
  version: 4 | 6;
  offset: number;
  type: number;
  code: number;
  checksum: number;
  /** Echo id/sequence when type is echo request/reply; -1 otherwise. */
  echoId: number;
  echoSeq: number;
  /** Time exceeded / unreachable: the quoted original IP packet (offset into `data`, -1 if none). */
  quotedOffset: number;
  quotedLength: number;
  /** Unreachable "next-hop MTU" (frag needed / packet too big), -1 otherwise. */
  mtu: number;
  payloadOffset: number;
  payloadLength: number;
  capturedPayloadLength: number;
  /** ICMP message length as sent (from the IP header). */
  length: number;
  truncated: boolean;
  malformed: string | null;
}

/** The start of an HTTP/1.x message, when a TCP payload begins with one. */
export interface HttpHead {
  present: boolean;
  kind: 'request' | 'response';
  /** Request: method and target; response: status and reason. Strings: decoded lazily, only when a head is present. */
  method: string;
  target: string;
  version: string;
  status: number;
  reason: string;
  /** Header lines (name, value) in order: the complete lines in this segment (all of them when
   * `complete`). Parsed into strings when first read (a getter on the decoder's reused head). */
  headers: Array<[string, string]>;
  /** True when the blank line ending the head was seen in this segment. */
  complete: boolean;
  /** Byte length of the head including the final CRLFCRLF when complete. */
  headLength: number;
}

export interface DecodedPacket {
  /** The bytes the layers point into (the PacketRecord's data). */
  data: Uint8Array;
  link: LinkLayer;
  /** Which network layer is present: 4, 6, or 0 (none / other: see `otherNetwork`). */
  ipVersion: 0 | 4 | 6;
  ipv4: IPv4Layer;
  ipv6: IPv6Layer;
  /** EtherType of a network protocol we do not decode (ARP…), -1 otherwise. */
  otherNetwork: number;
  /** Which transport layer is present. */
  transport: 'tcp' | 'udp' | 'icmp' | 'none' | 'other';
  tcp: TcpLayer;
  udp: UdpLayer;
  icmp: IcmpLayer;
  http: HttpHead;
  /** True when any layer is truncated; first malformation reason, or null. */
  truncated: boolean;
  malformed: string | null;
}

/** TCP flag bits. */
export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100,
} as const;
