/**
 * DNS message building and reading with `dns-packet` (RFC 1035 §4, EDNS0 RFC 6891), and
 * record data rendered as text the way dig shows it.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';
import type { DnsFlags, DnsRecord } from './types.js';

/** The record types `--type` accepts (dns-packet can encode the question and decode the data). */
export const QUERY_TYPES: readonly RecordType[] = [
  'A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'PTR', 'SRV', 'CAA', 'DS', 'DNSKEY', 'NAPTR', 'HINFO', 'TLSA', 'SSHFP', 'DNAME', 'RRSIG', 'NSEC', 'NSEC3',
];

export function isQueryType(type: string): type is RecordType {
  return (QUERY_TYPES as readonly string[]).includes(type);
}

/** EDNS0 payload size advertised, as dig and the DNS Flag Day 2020 recommend. */
export const EDNS_UDP_PAYLOAD_BYTES = 1232;

export interface BuiltQuery {
  id: number;
  bytes: Uint8Array;
}

export function buildQuery(name: string, type: RecordType, id = randomInt(0, 0x10000)): BuiltQuery {
  const bytes = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
  return { id, bytes };
}

/** Decodes a message; null when it is not a well-formed DNS message. */
export function decodeMessage(bytes: Uint8Array): DecodedPacket | null {
  try {
    return dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return null;
  }
}

/** The 16-bit message ID, read without decoding (RFC 1035 §4.1.1: first two bytes). */
export function messageId(bytes: Uint8Array): number | null {
  return bytes.length >= 2 ? (bytes[0] << 8) | bytes[1] : null;
}

export function flagsOf(p: DecodedPacket): DnsFlags {
  return { aa: p.flag_aa, tc: p.flag_tc, rd: p.flag_rd, ra: p.flag_ra, ad: p.flag_ad, cd: p.flag_cd };
}

/** The response code text dns-packet decodes (NOERROR, NXDOMAIN, …), absent from its types. */
export function rcodeOf(p: DecodedPacket): string {
  const rcode = (p as DecodedPacket & { rcode?: string }).rcode;
  return typeof rcode === 'string' ? rcode : `RCODE${(p.flags ?? 0) & 0xf}`;
}

function quoteTxt(part: string | Buffer): string {
  const text = typeof part === 'string' ? part : part.toString('latin1');
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, (c) => `\\${c.charCodeAt(0).toString().padStart(3, '0')}`)}"`;
}

function hexData(data: Buffer): string {
  return `\\# ${data.length} ${data.toString('hex')}`;
}

/** Record data as dig prints it (names without the trailing dot; the printer adds it). */
export function recordData(answer: Answer): string {
  switch (answer.type) {
    case 'A': case 'AAAA': case 'CNAME': case 'DNAME': case 'NS': case 'PTR':
      return answer.data;
    case 'MX':
      return `${answer.data.preference ?? 0} ${answer.data.exchange}`;
    case 'TXT': {
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      return parts.map(quoteTxt).join(' ');
    }
    case 'SOA': {
      const d = answer.data;
      return `${d.mname} ${d.rname} ${d.serial ?? 0} ${d.refresh ?? 0} ${d.retry ?? 0} ${d.expire ?? 0} ${d.minimum ?? 0}`;
    }
    case 'SRV':
      return `${answer.data.priority ?? 0} ${answer.data.weight ?? 0} ${answer.data.port} ${answer.data.target}`;
    case 'CAA':
      return `${answer.data.flags ?? 0} ${answer.data.tag} "${answer.data.value}"`;
    case 'HINFO':
      return `"${answer.data.cpu}" "${answer.data.os}"`;
    case 'NAPTR': {
      const d = answer.data;
      return `${d.order} ${d.preference} "${d.flags}" "${d.services}" "${d.regexp}" ${d.replacement}`;
    }
    case 'DS':
      return `${answer.data.keyTag} ${answer.data.algorithm} ${answer.data.digestType} ${answer.data.digest.toString('hex').toUpperCase()}`;
    case 'DNSKEY':
      return `${answer.data.flags} 3 ${answer.data.algorithm} ${answer.data.key.toString('base64')}`;
    case 'TLSA':
      return `${answer.data.usage} ${answer.data.selector} ${answer.data.matchingType} ${answer.data.certificate.toString('hex')}`;
    case 'SSHFP':
      return `${answer.data.algorithm} ${answer.data.hash} ${answer.data.fingerprint}`;
    case 'RRSIG':
      return `${answer.data.typeCovered} ${answer.data.algorithm} ${answer.data.labels} ${answer.data.originalTTL} …`;
    case 'NSEC':
      return `${answer.data.nextDomain} ${answer.data.rrtypes.join(' ')}`;
    case 'NSEC3':
      return `${answer.data.algorithm} ${answer.data.flags} ${answer.data.iterations} ${answer.data.rrtypes.join(' ')}`;
    case 'OPT':
      return '';
    default: {
      const data = (answer as { data?: unknown }).data;
      return Buffer.isBuffer(data) ? hexData(data) : String(data);
    }
  }
}

export function toRecords(answers: Answer[] | undefined): DnsRecord[] {
  return (answers ?? [])
    .filter((a) => a.type !== 'OPT')
    .map((a) => ({ name: a.name, type: a.type, ttl: (a as { ttl?: number }).ttl ?? 0, data: recordData(a) }));
}
