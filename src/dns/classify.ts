/**
 * What an address or a name is, from the data at hand: special-purpose address ranges
 * (IANA IPv4/IPv6 Special-Purpose Address Registries: RFC 1918, RFC 6598, RFC 4193, RFC 3927,
 * RFC 4291, RFC 5737, RFC 3849, RFC 2544) and load-balancer / CDN names found in a CNAME chain.
 */
import { isIP } from 'node:net';
import type { AddressClassification, AddressKind, LoadBalancerHint } from './types.js';

interface Range4 { base: number; prefix: number; kind: AddressKind; label: string }

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

const V4_RANGES: Range4[] = [
  ['0.0.0.0', 8, 'unspecified', '0.0.0.0/8 ("this network", RFC 791)'],
  ['10.0.0.0', 8, 'private', '10.0.0.0/8 (RFC 1918 private)'],
  ['100.64.0.0', 10, 'private', '100.64.0.0/10 (RFC 6598 shared, carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback', '127.0.0.0/8 (loopback)'],
  ['169.254.0.0', 16, 'link-local', '169.254.0.0/16 (link-local, RFC 3927)'],
  ['172.16.0.0', 12, 'private', '172.16.0.0/12 (RFC 1918 private)'],
  ['192.0.2.0', 24, 'documentation', '192.0.2.0/24 (TEST-NET-1, RFC 5737)'],
  ['192.168.0.0', 16, 'private', '192.168.0.0/16 (RFC 1918 private)'],
  ['198.18.0.0', 15, 'reserved', '198.18.0.0/15 (benchmarking, RFC 2544)'],
  ['198.51.100.0', 24, 'documentation', '198.51.100.0/24 (TEST-NET-2, RFC 5737)'],
  ['203.0.113.0', 24, 'documentation', '203.0.113.0/24 (TEST-NET-3, RFC 5737)'],
  ['224.0.0.0', 4, 'multicast', '224.0.0.0/4 (multicast)'],
  ['240.0.0.0', 4, 'reserved', '240.0.0.0/4 (reserved)'],
].map(([base, prefix, kind, label]) => ({ base: ipv4ToInt(base as string), prefix: prefix as number, kind: kind as AddressKind, label: label as string }));

function inRange4(value: number, range: Range4): boolean {
  const size = 2 ** (32 - range.prefix);
  return value >= range.base && value < range.base + size;
}

/** Expands an IPv6 text address to 8 numbers (handles `::` and an embedded IPv4 tail). */
export function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '').toLowerCase();
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const n = ipv4ToInt(v4Tail[1]);
    text = text.slice(0, -v4Tail[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::', 2) as [string, string] : [text, null];
  const headGroups = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  if (tail === null) return headGroups;
  const tailGroups = tail === '' ? [] : tail.split(':').map((g) => parseInt(g, 16));
  return [...headGroups, ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups];
}

function classify6(address: string): { kind: AddressKind; range: string | null; mapped: string | null } {
  const g = ipv6Groups(address);
  if (g.every((x) => x === 0)) return { kind: 'unspecified', range: ':: (unspecified)', mapped: null };
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return { kind: 'loopback', range: '::1 (loopback)', mapped: null };
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return { kind: 'public', range: null, mapped: `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}` };
  }
  if ((g[0] & 0xffc0) === 0xfe80) return { kind: 'link-local', range: 'fe80::/10 (link-local)', mapped: null };
  if ((g[0] & 0xfe00) === 0xfc00) return { kind: 'private', range: 'fc00::/7 (unique local, RFC 4193)', mapped: null };
  if ((g[0] & 0xff00) === 0xff00) return { kind: 'multicast', range: 'ff00::/8 (multicast)', mapped: null };
  if (g[0] === 0x2001 && g[1] === 0x0db8) return { kind: 'documentation', range: '2001:db8::/32 (documentation, RFC 3849)', mapped: null };
  return { kind: 'public', range: null, mapped: null };
}

/** Classifies one IPv4 or IPv6 address; an IPv4-mapped IPv6 address is classified as its IPv4. */
export function classifyAddress(address: string): AddressClassification {
  const family = isIP(address);
  if (family === 4) {
    const value = ipv4ToInt(address);
    const range = V4_RANGES.find((r) => inRange4(value, r));
    if (address === '255.255.255.255') return { address, family: 4, kind: 'reserved', range: '255.255.255.255 (limited broadcast)' };
    return { address, family: 4, kind: range?.kind ?? 'public', range: range?.label ?? null };
  }
  if (family === 6) {
    const c = classify6(address);
    if (c.mapped !== null) {
      const inner = classifyAddress(c.mapped);
      return { address, family: 6, kind: inner.kind, range: inner.range === null ? '::ffff:0:0/96 (IPv4-mapped)' : `IPv4-mapped ${inner.range}` };
    }
    return { address, family: 6, kind: c.kind, range: c.range };
  }
  throw new TypeError(`not an IP address: ${address}`);
}

interface NamePattern {
  pattern: RegExp;
  provider: string;
  product: string;
  /** Index of the capture group holding the region, if any. */
  regionGroup?: number;
}

/** Names of managed load balancers and CDN edges, as they appear as CNAME targets. */
const LOAD_BALANCER_NAMES: NamePattern[] = [
  // ALB / Classic ELB: name-123.eu-west-1.elb.amazonaws.com (dualstack. prefix allowed)
  { pattern: /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.elb\.amazonaws\.com$/, provider: 'AWS', product: 'Elastic Load Balancing (Application/Classic Load Balancer)', regionGroup: 1 },
  // NLB: name-hash.elb.eu-west-1.amazonaws.com
  { pattern: /\.elb\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$/, provider: 'AWS', product: 'Elastic Load Balancing (Network Load Balancer)', regionGroup: 1 },
  { pattern: /\.elb\.amazonaws\.com$/, provider: 'AWS', product: 'Elastic Load Balancing' },
  { pattern: /\.cloudfront\.net$/, provider: 'AWS', product: 'CloudFront (CDN edge)' },
  { pattern: /\.awsglobalaccelerator\.com$/, provider: 'AWS', product: 'Global Accelerator' },
  { pattern: /\.([a-z]{2}-[a-z]+-\d)\.elasticbeanstalk\.com$/, provider: 'AWS', product: 'Elastic Beanstalk (load-balanced environment)', regionGroup: 1 },
  { pattern: /\.execute-api\.([a-z]{2}-[a-z]+-\d)\.amazonaws\.com$/, provider: 'AWS', product: 'API Gateway', regionGroup: 1 },
  { pattern: /\.azurefd\.net$/, provider: 'Azure', product: 'Front Door' },
  { pattern: /\.trafficmanager\.net$/, provider: 'Azure', product: 'Traffic Manager (DNS load balancing)' },
  { pattern: /\.azureedge\.net$/, provider: 'Azure', product: 'CDN' },
  { pattern: /\.([a-z0-9]+)\.cloudapp\.azure\.com$/, provider: 'Azure', product: 'public IP / load balancer', regionGroup: 1 },
  { pattern: /\.ghs\.googlehosted\.com$|\.googlehosted\.com$/, provider: 'Google', product: 'Front End (hosted)' },
  { pattern: /\.cdn\.cloudflare\.net$/, provider: 'Cloudflare', product: 'proxy (CDN)' },
  { pattern: /\.fastly\.net$|\.fastlylb\.net$/, provider: 'Fastly', product: 'CDN edge' },
  { pattern: /\.(akamaiedge|akamai|edgekey|edgesuite|akamaized)\.net$/, provider: 'Akamai', product: 'CDN edge' },
  { pattern: /\.herokudns\.com$/, provider: 'Heroku', product: 'router' },
  { pattern: /\.vercel-dns\.com$/, provider: 'Vercel', product: 'edge network' },
  { pattern: /\.netlify\.(app|com)$/, provider: 'Netlify', product: 'edge' },
];

/** The first load balancer / CDN name in a chain of names (question name first). */
export function findLoadBalancer(names: readonly string[]): LoadBalancerHint | null {
  for (const raw of names) {
    const name = raw.toLowerCase().replace(/\.$/, '');
    for (const p of LOAD_BALANCER_NAMES) {
      const m = p.pattern.exec(name);
      if (m) return { name, provider: p.provider, product: p.product, region: p.regionGroup !== undefined ? m[p.regionGroup] ?? null : null };
    }
  }
  return null;
}
