/**
 * decode/: the packet decoders and the tcpdump-style printer. The public surface.
 */
export type * from './types.js';
export { TCP_FLAG } from './types.js';
export { createDecoder, newDecodedPacket, ETHERTYPE_IPV4, ETHERTYPE_IPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 } from './decoder.js';
export type { PacketDecoder, DecodeOptions } from './decoder.js';
export { formatIPv4, formatIPv6, formatMac, srcAddress, dstAddress } from './addr.js';
export { parseHttpHead, httpHeader, httpHeadKind } from './http.js';
export { ICMP4, ICMP6 } from './icmp.js';
export { TCPOPT } from './tcp.js';
export { decodeTcpFast, newTcpFastFields, type TcpFastFields } from './tcp-fast.js';
export { PacketPrinter, formatPacketLine } from './print.js';
export type { PrintOptions, PrintableRecord } from './print.js';
export { TimestampFormatter, timestampStyleFromCount } from './timestamp.js';
export type { TimestampStyle, TimestampPrecision } from './timestamp.js';
export { decodeDns, formatDnsSummary, dnsTypeName } from './dns.js';
export type { DnsMessage } from './dns.js';
export { packetToJson } from './json.js';
export type { PacketJson } from './json.js';
