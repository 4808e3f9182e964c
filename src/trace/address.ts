/**
 * Text addresses → bytes, for building probe headers and checksums (RFC 4291 §2.2 text
 * forms). Formatting received addresses is decode/'s job; this only parses what the user or
 * the resolver gave us.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv6 } from '../decode/index.js';
import type { IpFamily } from './types.js';

function formatIPv4At(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

export function familyOf(address: string): IpFamily | null {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return null;
}

export function parseIPv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || !isIPv4(text)) throw new RangeError(`not an IPv4 address: ${text}`);
  return Uint8Array.from(parts.map((p) => Number(p)));
}

/** Parses any RFC 4291 text form, including `::` and an embedded dotted IPv4 tail. Zone ids are dropped. */
export function parseIPv6(text: string): Uint8Array {
  const bare = text.split('%')[0];
  if (!isIPv6(bare)) throw new RangeError(`not an IPv6 address: ${text}`);
  let head = bare;
  const words: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two 16-bit words.
  const lastColon = head.lastIndexOf(':');
  const tail = head.slice(lastColon + 1);
  let tailWords: number[] = [];
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    tailWords = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    head = head.slice(0, lastColon + 1) + '0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const toWords = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const l = toWords(left);
  let r = right === null ? [] : toWords(right);
  if (tailWords.length > 0) {
    if (right === null) l.pop();
    else r = r.slice(0, -1);
  }
  const fill = 8 - l.length - r.length - tailWords.length;
  words.push(...l, ...new Array<number>(right === null ? 0 : fill).fill(0), ...r, ...tailWords);
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (words[i] >> 8) & 0xff;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

export function parseAddress(text: string): Uint8Array {
  return familyOf(text) === 6 ? parseIPv6(text) : parseIPv4(text);
}

/** Canonical text of an address, as decode/ formats addresses read from packets (inet_ntop form). */
export function canonicalAddress(text: string): string {
  const bytes = parseAddress(text);
  return bytes.length === 4 ? formatIPv4At(bytes, 0) : formatIPv6(bytes, 0);
}
