/**
 * IPv4 addresses and CIDR blocks as numbers, and whether a block covers an address — or,
 * for "some public address" (a client behind NAT), whether it surely does (`0.0.0.0/0`),
 * surely does not (a private range), or may.
 */
import type { AddressSpec } from './types.js';

export type Match = 'yes' | 'no' | 'maybe';

/** The address as an unsigned 32-bit number, or null when it is not dotted-quad IPv4. */
export function ipv4ToNumber(address: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

export interface Cidr { base: number; prefix: number }

export function parseCidr(text: string | undefined | null): Cidr | null {
  if (!text) return null;
  const [addr, len] = text.split('/');
  const base = ipv4ToNumber(addr ?? '');
  const prefix = len === undefined ? 32 : Number(len);
  if (base === null || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
  return { base: prefix === 0 ? 0 : base - (base % 2 ** (32 - prefix)), prefix };
}

export function cidrContains(c: Cidr, address: number): boolean {
  const size = 2 ** (32 - c.prefix);
  return address >= c.base && address < c.base + size;
}

/** Blocks no public client address is in (RFC 1918, shared CGNAT space, loopback, link-local). */
const NOT_PUBLIC = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16'].map((c) => parseCidr(c)!);

export function isPrivateIpv4(address: string): boolean {
  const n = ipv4ToNumber(address);
  return n !== null && NOT_PUBLIC.some((c) => cidrContains(c, n));
}

/** Whether the block covers the address (for any-public: surely, surely not, or maybe). */
export function matchCidr(cidrText: string | undefined | null, who: AddressSpec): Match {
  const c = parseCidr(cidrText);
  if (!c) return 'no';
  if (who.kind === 'address') {
    const n = ipv4ToNumber(who.address);
    return n !== null && cidrContains(c, n) ? 'yes' : 'no';
  }
  if (c.prefix === 0) return 'yes';
  // A block wholly inside the private ranges holds no public address.
  if (NOT_PUBLIC.some((p) => p.prefix <= c.prefix && cidrContains(p, c.base))) return 'no';
  return 'maybe';
}

export function isIpv4(address: string): boolean {
  return ipv4ToNumber(address) !== null;
}
