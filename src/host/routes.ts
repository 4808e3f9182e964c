/**
 * Route lookups (`ip -j route get TO [from F iif I]`) and the route that covers a failed one
 * (`ip -j route show table all`), ip-route(8).
 *
 * What the kernel answers on failure (rtnetlink errno), as observed on this project's
 * machines (kernel 6.x):
 *   Invalid argument (EINVAL)        a blackhole route; ALSO an input lookup (`iif`) whose
 *                                    source fails the reverse-path check or is martian, and
 *                                    an output lookup `from` a non-local address
 *   No route to host (EHOSTUNREACH)  an unreachable route; ALSO an input lookup on an
 *                                    interface with forwarding off
 *   Permission denied (EACCES)       a prohibit route
 *   Network is unreachable (ENETUNREACH) no route at all
 *   Invalid cross-device link (EXDEV) reverse-path check failed (older kernels)
 * EINVAL is told apart with the routing table: the covering route is a blackhole, or it is
 * not and the lookup had `iif` (then the input route was refused: rp_filter).
 */
import { isIP } from 'node:net';
import type { RouteLookup, RouteQuery } from './types.js';

/** One route of `ip -j route show table all`. */
export interface RouteEntry {
  /** `unicast` when ip leaves `type` out. */
  type: string;
  /** `default`, `10.0.0.0/8`, `172.31.16.10`. */
  dst: string;
  gateway: string | null;
  dev: string | null;
  /** `main` when ip leaves `table` out. */
  table: string;
  family: 4 | 6 | null;
  prefixLength: number;
  /** The network address as bits, null for `default`. */
  bits: bigint | null;
}

/** An address as a number and its family; null when it is not an IPv4/IPv6 literal. */
export function addressBits(text: string): { family: 4 | 6; bits: bigint } | null {
  const addr = text.replace(/%.*$/, '');
  const kind = isIP(addr);
  if (kind === 4) {
    return { family: 4, bits: addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (kind !== 6) return null;
  let head = addr;
  let v4Tail: bigint | null = null;
  const lastColon = addr.lastIndexOf(':');
  if (addr.slice(lastColon + 1).includes('.')) {
    const v4 = addressBits(addr.slice(lastColon + 1));
    if (v4 === null) return null;
    v4Tail = v4.bits;
    head = addr.slice(0, lastColon + 1) + '0:0'; // two groups stand for the IPv4 part
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const groupsOf = (s: string) => (s === '' ? [] : s.split(':'));
  const l = groupsOf(left);
  const r = right === null ? [] : groupsOf(right);
  const fill = right === null ? 0 : 8 - l.length - r.length;
  const groups = [...l, ...Array<string>(Math.max(fill, 0)).fill('0'), ...r];
  let bits = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (v4Tail !== null) bits = (bits & ~0xffffffffn) | v4Tail;
  return { family: 6, bits };
}

function prefixMask(family: 4 | 6, length: number): bigint {
  const width = family === 4 ? 32 : 128;
  return length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(width - length);
}

/**
 * Parses `ip -j route show table all`. `family`: the family the command was asked for
 * (`ip -4`/`-6`), given to `default` routes that name no address.
 */
export function parseRouteTable(json: string, family: 4 | 6 | null = null): RouteEntry[] {
  let parsed: unknown;
  try { parsed = JSON.parse(json); } catch { return []; }
  if (!Array.isArray(parsed)) return [];
  const out: RouteEntry[] = [];
  for (const e of parsed as Array<Record<string, unknown>>) {
    if (typeof e !== 'object' || e === null || typeof e.dst !== 'string') continue;
    const gateway = typeof e.gateway === 'string' ? e.gateway : null;
    const entry: RouteEntry = {
      type: typeof e.type === 'string' ? e.type : 'unicast', dst: e.dst, gateway,
      dev: typeof e.dev === 'string' ? e.dev : null, table: typeof e.table === 'string' ? e.table : 'main',
      family, prefixLength: 0, bits: null,
    };
    if (e.dst === 'default') {
      const hint = gateway ?? (typeof e.prefsrc === 'string' ? e.prefsrc : null);
      const hinted = hint !== null ? addressBits(hint) : null;
      if (hinted) entry.family = hinted.family;
    } else {
      const [addr, len] = e.dst.split('/');
      const a = addressBits(addr);
      if (a === null) continue;
      const width = a.family === 4 ? 32 : 128;
      const prefixLength = len === undefined ? width : Number(len);
      if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > width) continue;
      entry.family = a.family;
      entry.prefixLength = prefixLength;
      entry.bits = a.bits & prefixMask(a.family, prefixLength);
    }
    out.push(entry);
  }
  return out;
}

/** Lookup order of the tables at equal prefix length (the default policy rules: local, main, default). */
function tableRank(table: string): number {
  return table === 'local' ? 0 : table === 'main' ? 1 : table === 'default' ? 2 : 3;
}

/** The most specific route covering `to` (equal lengths: local, main, default, other tables). */
export function coveringRoute(routes: readonly RouteEntry[], to: string): RouteEntry | null {
  const a = addressBits(to);
  if (a === null) return null;
  let best: RouteEntry | null = null;
  for (const r of routes) {
    if (r.family !== null && r.family !== a.family) continue;
    if (r.bits !== null && (a.bits & prefixMask(a.family, r.prefixLength)) !== r.bits) continue;
    if (best === null || r.prefixLength > best.prefixLength
      || (r.prefixLength === best.prefixLength && tableRank(r.table) < tableRank(best.table))) best = r;
  }
  return best;
}

/** As `ip route` writes it: `blackhole 172.31.16.10`, `10.6.0.0/16 via 10.1.0.254 dev d0`, `… table 100`. */
export function formatRoute(r: RouteEntry): string {
  return [
    r.type === 'unicast' ? null : r.type, r.dst, r.gateway ? `via ${r.gateway}` : null, r.dev ? `dev ${r.dev}` : null,
    r.table === 'main' ? null : `table ${r.table}`,
  ].filter((x) => x !== null).join(' ');
}

const ERRNO_RESULTS: ReadonlyArray<[RegExp, RouteLookup['result'] | 'einval']> = [
  [/Invalid argument/i, 'einval'],
  [/No route to host/i, 'unreachable'],
  [/Permission denied/i, 'prohibit'],
  [/Network is unreachable/i, 'no-route'],
  [/Invalid cross-device link/i, 'rp-filter'],
];

/**
 * The outcome of one `ip -j route get`. `routes`: the namespace's routing tables (for
 * `matchedRoute` and to tell a blackhole from a reverse-path failure); null when unknown.
 */
export function parseRouteGet(stdout: string, stderr: string, code: number | null, query: Pick<RouteQuery, 'to' | 'from' | 'iif'>, routes: readonly RouteEntry[] | null = null): RouteLookup {
  const out: RouteLookup = {
    to: query.to, from: query.from ?? null, iif: query.iif ?? null, result: 'error',
    dev: null, gateway: null, prefsrc: null, error: null, matchedRoute: null,
  };
  if (code === 0) {
    let first: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(stdout);
      if (Array.isArray(parsed) && typeof parsed[0] === 'object' && parsed[0] !== null) first = parsed[0] as Record<string, unknown>;
    } catch { /* below */ }
    if (first !== null) {
      const type = typeof first.type === 'string' ? first.type : 'unicast';
      // A found multicast/anycast route counts as unicast: the packet has a way out.
      out.result = type === 'local' || type === 'broadcast' ? type : 'unicast';
      out.dev = typeof first.dev === 'string' ? first.dev : null;
      out.gateway = typeof first.gateway === 'string' ? first.gateway : null;
      out.prefsrc = typeof first.prefsrc === 'string' ? first.prefsrc : null;
      return out;
    }
    out.error = 'ip route get: output not understood';
  } else {
    const line = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '');
    out.error = line ?? (code === null ? 'no answer' : `exit ${code}`);
  }
  const covering = routes === null ? null : coveringRoute(routes, query.to);
  out.matchedRoute = covering === null ? null : formatRoute(covering);
  const hit = ERRNO_RESULTS.find(([re]) => re.test(out.error ?? ''));
  if (hit === undefined || code === 0) return out;
  if (hit[1] !== 'einval') { out.result = hit[1]; return out; }
  if (covering?.type === 'blackhole') out.result = 'blackhole';
  // Without the tables, EINVAL is a blackhole only for a plain lookup (no from/iif).
  else if (routes === null) out.result = out.iif === null && out.from === null ? 'blackhole' : 'error';
  else out.result = out.iif !== null ? 'rp-filter' : 'error';
  return out;
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']);

/**
 * `ip route` / `ip route show table all` / `ip -6 route` as people read it (ip-route(8)):
 *   default via 172.31.0.1 dev ens5
 *   172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1
 *   blackhole 172.31.16.10
 *   local 172.31.5.20 dev ens5 table local proto kernel scope host src 172.31.5.20
 * into the same entries as the JSON (parseRouteTable). Lines it does not read (`ip rule`,
 * the `    cache` of `ip route get`) are skipped; never throws.
 */
export function parseRouteTableText(text: string): RouteEntry[] {
  const json: Array<Record<string, unknown>> = [];
  for (const raw of text.split('\n')) {
    const w = raw.trim().split(/\s+/);
    if (w.length === 0 || w[0] === '') continue;
    let i = 0;
    let type = 'unicast';
    if (ROUTE_TYPES.has(w[0]!)) { type = w[0]!; i = 1; }
    const dst = w[i];
    if (dst === undefined || !(dst === 'default' || addressBits(dst.split('/')[0]!) !== null)) continue;
    // A route line goes on with keywords; a bare address (dig +short, a list) is no route.
    const rest = w.slice(i + 1);
    if (type === 'unicast' && !rest.some((x) => x === 'dev' || x === 'via')) continue;
    const e: Record<string, unknown> = { dst, type };
    for (let k = 0; k + 1 < rest.length; k++) {
      const key = rest[k]!;
      if (key === 'via') e.gateway = rest[++k] === 'inet' || rest[k] === 'inet6' ? rest[++k] : rest[k];
      else if (key === 'dev') e.dev = rest[++k];
      else if (key === 'table') e.table = rest[++k];
      else if (key === 'src') e.prefsrc = rest[++k];
    }
    json.push(e);
  }
  return parseRouteTable(JSON.stringify(json));
}

/**
 * The answer the routing table gives for `to`, without asking the kernel: the most specific
 * covering route (coveringRoute) and what it does. It knows no policy rules (`ip rule`) and
 * no source or incoming interface — the kernel's own `ip route get` does (say so where used).
 */
export function lookupInTable(routes: readonly RouteEntry[], to: string): RouteLookup {
  const out: RouteLookup = { to, from: null, iif: null, result: 'no-route', dev: null, gateway: null, prefsrc: null, error: null, matchedRoute: null };
  const r = coveringRoute(routes, to);
  if (r === null) { out.error = 'no route in the routing table given covers it'; return out; }
  out.matchedRoute = formatRoute(r);
  switch (r.type) {
    case 'unicast': case 'local': case 'broadcast':
      out.result = r.type === 'unicast' ? 'unicast' : r.type;
      out.dev = r.dev;
      out.gateway = r.gateway;
      return out;
    case 'blackhole': case 'unreachable': case 'prohibit':
      out.result = r.type;
      out.error = `the route \`${out.matchedRoute}\` covers it`;
      return out;
    default:
      out.result = 'error';
      out.error = `a ${r.type} route covers it`;
      return out;
  }
}
