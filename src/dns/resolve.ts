/**
 * The stub resolver: one query per record type (in parallel), each sent to the configured
 * servers in turn for `attempts` rounds, over UDP with a retry over TCP when the answer comes
 * back truncated (RFC 1035 §4.2.1, RFC 7766 §5), and the outcome classified so NXDOMAIN,
 * NODATA, SERVFAIL, REFUSED, timeout and an unreachable resolver read differently.
 *
 * Query lifecycle, per record type:
 *   1. Sending  → a server is picked (next in order, skipping those found unreachable).
 *   2. Awaiting → a matching answer arrives (ID + question) → 3; timeout or unreachable → 1
 *                  with the next server, or → 5 when every server of every round is used.
 *   3. Answered over UDP with TC=1 → 4 (same server, TCP); otherwise → 5.
 *   4. Retrying over TCP → answered → 5; failure → 5 with the truncated UDP answer kept.
 *   5. Done.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { performance } from 'node:perf_hooks';
import { UsageError } from '../errors.js';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { classifyAddress, findLoadBalancer, ipv6Groups } from './classify.js';
import { buildQuery, decodeMessage, flagsOf, isQueryType, messageId, QUERY_TYPES, rcodeOf, toRecords } from './records.js';
import { malformation } from './wire.js';
import { DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT_MS, formatServer, parseServerSpec, readResolvConf } from './resolvconf.js';
import type { ResolverConfig } from './resolvconf.js';
import { socketTransport, TransportFailure } from './transport.js';
import type { DnsTransport } from './transport.js';
import type { DnsFailureSource, DnsProblem, DnsQueryResult, DnsRecord, DnsResult, DnsServer, DnsStatus, DnsTransportKind } from './types.js';

export const DEFAULT_TYPES: readonly RecordType[] = ['A', 'AAAA'];
const MAX_CNAME_CHAIN = 16;

/**
 * The longest wait per try (an hour): Node's timers fire at once past 24.8 days, which
 * looked like a resolver that does not answer (DNS_TIMEOUT).
 */
export const MAX_QUERY_TIMEOUT_MS = 3_600_000;

export interface ResolveOptions {
  /** `10.0.0.2`, `10.0.0.2:5353`, `[::1]:53` or a parsed server; default: /etc/resolv.conf. */
  server?: string | DnsServer;
  /** Record types to ask for, default A and AAAA. */
  types?: readonly string[];
  /** Use TCP from the start (default: UDP, TCP when truncated). */
  tcp?: boolean;
  /** Per-attempt timeout; default from resolv.conf `options timeout:` or 5000 ms. */
  timeoutMs?: number;
  /** Extra rounds after the first; default from resolv.conf `options attempts:` (minus one). */
  retries?: number;
  /** The Network seam; default real sockets. */
  transport?: DnsTransport;
  /** Where to read the resolver configuration from when no server is given. */
  resolvConfPath?: string;
}

/** Checks and normalises a name to query: no trailing dot, labels ≤ 63, total ≤ 253. */
export function normaliseName(name: string): string {
  let trimmed = name.trim().replace(/\.$/, '');
  // Internationalised names go on the wire as punycode (RFC 5891), as dig and browsers send them.
  if (/[^\x00-\x7f]/.test(trimmed)) {
    const ascii = domainToASCII(trimmed);
    if (ascii === '') throw new UsageError(`bad name '${name}': not a valid internationalised domain name`, 'give a DNS name such as example.com');
    trimmed = ascii;
  }
  const hint = 'give a DNS name such as example.com (no scheme, path or port)';
  if (trimmed === '') throw new UsageError(`bad name '${name}': empty`, hint);
  if (/[/:@\s]/.test(trimmed) && isIP(trimmed) === 0) throw new UsageError(`bad name '${name}': looks like a URL or has spaces`, hint);
  if (trimmed.length > 253) throw new UsageError(`bad name '${name}': longer than 253 characters`, hint);
  for (const label of trimmed.split('.')) {
    if (label.length === 0) throw new UsageError(`bad name '${name}': empty label`, hint);
    if (label.length > 63) throw new UsageError(`bad name '${name}': label '${label.slice(0, 20)}…' longer than 63 characters`, hint);
  }
  return trimmed;
}

/** The reverse-lookup name of an address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 ip6.arpa). */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = ipv6Groups(address).map((g) => g.toString(16).padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

function parseTypes(types: readonly string[] | undefined): RecordType[] {
  const list = (types && types.length > 0 ? types : DEFAULT_TYPES).map((t) => t.toUpperCase());
  for (const t of list) {
    if (!isQueryType(t)) throw new UsageError(`unknown record type '${t}'`, `use one of ${QUERY_TYPES.join(', ')}`);
  }
  return [...new Set(list)] as RecordType[];
}

function config(options: ResolveOptions): ResolverConfig {
  const base: ResolverConfig = options.server !== undefined
    ? { servers: [typeof options.server === 'string' ? parseServerSpec(options.server) : options.server], timeoutMs: DEFAULT_TIMEOUT_MS, attempts: DEFAULT_ATTEMPTS, source: '--server' }
    : readResolvConf(options.resolvConfPath);
  if (options.timeoutMs !== undefined) {
    if (!(options.timeoutMs > 0)) throw new UsageError(`bad timeout ${options.timeoutMs} ms`, 'give a positive timeout');
    if (options.timeoutMs > MAX_QUERY_TIMEOUT_MS) throw new UsageError(`timeout ${options.timeoutMs} ms is more than the maximum, ${MAX_QUERY_TIMEOUT_MS} ms (an hour)`, `give at most ${MAX_QUERY_TIMEOUT_MS} ms`);
    base.timeoutMs = options.timeoutMs;
  }
  if (options.retries !== undefined) {
    if (!Number.isInteger(options.retries) || options.retries < 0) throw new UsageError(`bad retries ${options.retries}`, 'give a whole number ≥ 0');
    base.attempts = options.retries + 1;
  }
  return base;
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

const PROBLEM_TEXT: Record<Exclude<DnsStatus, 'ok'>, { code: string; hint: string }> = {
  nxdomain: { code: 'DNS_NXDOMAIN', hint: 'the name does not exist: check the spelling and that the record exists in its zone (e.g. the Route 53 hosted zone); negative answers stay cached for the SOA minimum TTL' },
  nodata: { code: 'DNS_NODATA', hint: 'the name exists but has no record of this type: add the record (or the CNAME target lacks it); try --type CNAME or --type NS to see what is there' },
  servfail: { code: 'DNS_SERVFAIL', hint: 'the resolver could not get an answer from the authoritative servers (down, lame delegation, or DNSSEC validation failed): try another resolver with --server' },
  refused: { code: 'DNS_REFUSED', hint: 'the resolver refuses this client or this zone: use the resolver your network assigns (/etc/resolv.conf) or check its access rules' },
  timeout: { code: 'DNS_TIMEOUT', hint: 'the resolver is down or a firewall drops DNS on the way: try --tcp, another --server, or check UDP port 53 to the resolver' },
  unreachable: { code: 'DNS_UNREACHABLE', hint: 'nothing listens on the resolver\'s port (ICMP port unreachable) or there is no route to it: check the resolver runs and the nameserver address in /etc/resolv.conf' },
  error: { code: 'DNS_ERROR', hint: 'the answer could not be used: see the message; try --tcp or another --server' },
};

/** A broken message (status 'error'): what was wrong is in the message. */
const MALFORMED_PROBLEM = {
  code: 'DNS_MALFORMED',
  hint: 'the resolver (or a DNS proxy or middlebox on the way) sent a broken message: try --tcp or another --server, and compare with dig',
};

function problem(status: Exclude<DnsStatus, 'ok'>, message: string): DnsProblem {
  return { code: PROBLEM_TEXT[status].code, message, hint: PROBLEM_TEXT[status].hint };
}

function statusOfAnswer(p: DecodedPacket, type: RecordType, records: DnsRecord[]): DnsStatus {
  switch (rcodeOf(p)) {
    // NOERROR with only a CNAME for an A query: the chain's end has no A record → NODATA.
    case 'NOERROR': return records.some((r) => r.type === type) ? 'ok' : 'nodata';
    case 'NXDOMAIN': return 'nxdomain';
    case 'SERVFAIL': return 'servfail';
    case 'REFUSED': return 'refused';
    default: return 'error';
  }
}

interface Ctx {
  name: string;
  cfg: ResolverConfig;
  tcp: boolean;
  transport: DnsTransport;
}

async function queryType(ctx: Ctx, type: RecordType): Promise<DnsQueryResult> {
  const { name, cfg, transport } = ctx;
  const query = buildQuery(name, type);
  const accept = (message: Uint8Array): boolean => {
    if (messageId(message) !== query.id) return false;
    const p = decodeMessage(message);
    if (p === null) return true; // ours by ID but malformed: report it rather than wait
    const q = p.questions?.[0];
    return p.type === 'response' && q !== undefined && sameName(q.name, name) && q.type === type;
  };
  const started = performance.now();
  const unreachable = new Set<string>();
  let attempts = 0;
  let lastServer: DnsServer | null = null;
  let lastFailure: TransportFailure | null = null;
  const failures: TransportFailure[] = [];
  type Got = { bytes: Uint8Array; server: DnsServer; transport: DnsTransportKind; retriedOverTcp: boolean };
  let answer: Got | null = null;
  let rcodeFallback: Got | null = null;

  rounds:
  for (let round = 0; round < cfg.attempts; round++) {
    for (const server of cfg.servers) {
      const key = formatServer(server);
      if (unreachable.has(key)) continue;
      attempts++;
      lastServer = server;
      const kind: DnsTransportKind = ctx.tcp ? 'tcp' : 'udp';
      try {
        const bytes = await transport[kind](server, query.bytes, cfg.timeoutMs, accept);
        let got: Got = { bytes, server, transport: kind, retriedOverTcp: false };
        const decoded = decodeMessage(bytes);
        if (kind === 'udp' && decoded?.flag_tc) {
          try {
            got = { bytes: await transport.tcp(server, query.bytes, cfg.timeoutMs, accept), server, transport: 'tcp', retriedOverTcp: true };
          } catch {
            got.retriedOverTcp = true; // keep the truncated answer; the result says TCP failed
          }
        }
        const final = decodeMessage(got.bytes);
        const rcode = final === null ? null : rcodeOf(final);
        // SERVFAIL/REFUSED from one server: another configured server may do better (glibc does the same).
        if ((rcode === 'SERVFAIL' || rcode === 'REFUSED') && cfg.servers.length > 1) {
          rcodeFallback = got;
          continue;
        }
        answer = got;
        break rounds;
      } catch (err) {
        if (!(err instanceof TransportFailure)) throw err;
        lastFailure = err;
        failures.push(err);
        if (err.kind === 'unreachable') unreachable.add(key);
        if (err.kind === 'local') break rounds;
      }
    }
    if (rcodeFallback !== null) break;
  }
  answer ??= rcodeFallback;
  const elapsedMs = performance.now() - started;
  const base = { type, attempts, elapsedMs, retriedOverTcp: answer?.retriedOverTcp ?? false };

  if (answer === null) {
    // Unreachable only when every server was; one that stayed silent makes it a timeout.
    const kinds = new Set(failures.map((f) => f.kind));
    const status: DnsStatus = kinds.has('local') ? 'error'
      : kinds.size === 1 && kinds.has('unreachable') ? 'unreachable'
        : kinds.has('timeout') || kinds.size === 0 ? 'timeout'
          : kinds.has('unreachable') ? 'unreachable' : 'error';
    const servers = cfg.servers.map(formatServer).join(', ');
    const message = status === 'timeout'
      ? `no answer for ${name} ${type} from ${servers} (${attempts} ${attempts === 1 ? 'try' : 'tries'}, ${cfg.timeoutMs} ms each, ${ctx.tcp ? 'tcp' : 'udp'})`
      : status === 'unreachable'
        ? `resolver ${servers} unreachable: ${lastFailure?.errno ?? 'no route'}${lastFailure?.errno === 'ECONNREFUSED' ? ' (port closed: ICMP port unreachable)' : ''}`
        : `query for ${name} ${type} failed: ${lastFailure?.message ?? 'unknown error'}`;
    return {
      ...base, status, failureSource: kinds.has('local') ? 'local' : 'resolver', rcode: null, flags: null, server: lastServer, transport: ctx.tcp ? 'tcp' : 'udp',
      answers: [], authorities: [], error: problem(status, message),
    };
  }

  const decoded = decodeMessage(answer.bytes);
  const common = { ...base, server: answer.server, transport: answer.transport };
  // Checked strictly before dns-packet's lenient reading is believed (./wire.ts).
  const wrong = malformation(answer.bytes);
  if (wrong !== null || decoded === null) {
    const cut = answer.retriedOverTcp && answer.transport === 'udp' ? ' (truncated over UDP and the TCP retry failed)' : '';
    return {
      ...common, status: 'error', failureSource: 'resolver', rcode: decoded === null ? null : rcodeOf(decoded), flags: decoded === null ? null : flagsOf(decoded), answers: [], authorities: [],
      error: { ...MALFORMED_PROBLEM, message: `malformed answer for ${name} ${type} from ${formatServer(answer.server)} (${answer.transport}, ${answer.bytes.length} bytes)${cut}: ${wrong ?? 'it cannot be decoded'}` },
    };
  }
  const answers = toRecords(decoded.answers);
  const authorities = toRecords(decoded.authorities);
  const rcode = rcodeOf(decoded);
  const status = statusOfAnswer(decoded, type, answers);
  const from = `${formatServer(answer.server)} (${answer.transport})`;
  let error: DnsProblem | null = null;
  if (status !== 'ok') {
    const lastCname = answers.filter((r) => r.type === 'CNAME').at(-1);
    const subject = lastCname ? `${name} → ${lastCname.data}` : name;
    const soa = authorities.find((r) => r.type === 'SOA');
    const negative = soa ? `; negative answer from zone ${soa.name || '.'}` : '';
    const messages: Record<Exclude<DnsStatus, 'ok'>, string> = {
      nxdomain: `${subject}: no such domain (NXDOMAIN from ${from}${negative})`,
      nodata: `${subject}: no ${type} record (NOERROR, empty answer, from ${from}${negative})`,
      servfail: `${name} ${type}: SERVFAIL from ${from}`,
      refused: `${name} ${type}: REFUSED by ${from}`,
      timeout: '', unreachable: '',
      error: `${name} ${type}: ${rcode} from ${from}`,
    };
    error = problem(status, messages[status]);
    if (answer.retriedOverTcp && answer.transport === 'udp') error.message += ' (truncated over UDP and the TCP retry failed)';
  }
  const failureSource: DnsFailureSource = status === 'ok' ? null : status === 'nxdomain' || status === 'nodata' ? 'target' : 'resolver';
  return { ...common, status, failureSource, rcode, flags: flagsOf(decoded), answers, authorities, error };
}

/** The chain of names from `name` through CNAME records, in the order they point. */
export function cnameChain(name: string, records: readonly DnsRecord[]): string[] {
  const chain = [name];
  let current = name;
  for (let i = 0; i < MAX_CNAME_CHAIN; i++) {
    const next = records.find((r) => r.type === 'CNAME' && sameName(r.name, current));
    if (!next || chain.some((n) => sameName(n, next.data))) break;
    chain.push(next.data);
    current = next.data;
  }
  return chain;
}

function notesFor(result: Pick<DnsResult, 'addresses' | 'classification' | 'loadBalancer' | 'queries' | 'status'>): string[] {
  const notes: string[] = [];
  const lb = result.loadBalancer;
  if (lb) {
    notes.push(`${lb.name} is an ${lb.provider} ${lb.product} name${lb.region ? ` in ${lb.region}` : ''}: the addresses are load-balancer nodes, not the servers behind them`);
  }
  const v4 = result.addresses.filter((a) => isIP(a) === 4).length;
  const v6 = result.addresses.length - v4;
  for (const [count, family] of [[v4, 'IPv4'], [v6, 'IPv6']] as const) {
    if (count < 2) continue;
    notes.push(lb
      ? `${count} ${family} addresses: several load-balancer nodes (typically one per availability zone); each connection uses one, so test each with flowtrace http --resolve`
      : `${count} ${family} addresses: DNS round-robin over several hosts or load-balancer nodes; each connection uses one, so test each with flowtrace http --resolve`);
  }
  const kinds = new Map<string, string[]>();
  for (const c of result.classification) {
    if (c.kind === 'public') continue;
    kinds.set(c.kind, [...(kinds.get(c.kind) ?? []), c.address]);
  }
  if (kinds.has('private')) notes.push(`private addresses (${kinds.get('private')!.join(', ')}): reachable only from inside that network (VPC, VPN, office, lab)`);
  if (kinds.has('loopback')) notes.push(`loopback addresses (${kinds.get('loopback')!.join(', ')}): every client connects to itself, not to a server`);
  if (kinds.has('link-local')) notes.push(`link-local addresses (${kinds.get('link-local')!.join(', ')}): valid only on one network segment`);
  for (const q of result.queries) {
    if (result.status === 'ok' && q.status !== 'ok' && q.error) notes.push(`${q.type}: ${q.status} — ${q.error.message}`);
    if (q.retriedOverTcp) notes.push(`${q.type}: the UDP answer was truncated (TC=1); ${q.transport === 'tcp' ? 'repeated over TCP' : 'the TCP retry failed'}`);
  }
  return notes;
}

const STATUS_PRIORITY: DnsStatus[] = ['nxdomain', 'servfail', 'refused', 'timeout', 'unreachable', 'error', 'nodata'];

/**
 * Resolves `name` for each requested record type. Never rejects for network outcomes: they
 * are the result's `status`. Throws UsageError for a bad name, type or server, and InputError
 * when /etc/resolv.conf cannot be used.
 */
export async function resolve(name: string, options: ResolveOptions = {}): Promise<DnsResult> {
  // An address without --type asks for its name, like dig -x.
  const reverse = isIP(name.trim()) !== 0 && (options.types === undefined || options.types.length === 0);
  const qname = reverse ? reverseName(name.trim()) : normaliseName(name);
  const types = reverse ? (['PTR'] as RecordType[]) : parseTypes(options.types);
  const cfg = config(options);
  const ctx: Ctx = { name: qname, cfg, tcp: options.tcp === true, transport: options.transport ?? socketTransport };
  const started = performance.now();
  const queries = await Promise.all(types.map((t) => queryType(ctx, t)));
  const elapsedMs = performance.now() - started;

  const ok = queries.find((q) => q.status === 'ok');
  const status: DnsStatus = ok ? 'ok' : STATUS_PRIORITY.find((s) => queries.some((q) => q.status === s)) ?? 'error';
  const deciding = ok ?? queries.find((q) => q.status === status) ?? queries[0];

  const seen = new Set<string>();
  const answers: DnsRecord[] = [];
  for (const q of queries) {
    for (const r of q.answers) {
      const key = `${r.name.toLowerCase()}|${r.type}|${r.data}`;
      if (!seen.has(key)) { seen.add(key); answers.push(r); }
    }
  }
  const chain = cnameChain(qname, answers);
  const addressRecords = answers.filter((r) => (r.type === 'A' || r.type === 'AAAA') && isIP(r.data) !== 0);
  const addresses = [...new Set([...addressRecords.filter((r) => r.type === 'A'), ...addressRecords.filter((r) => r.type === 'AAAA')].map((r) => r.data))];
  const classification = addresses.map(classifyAddress);
  const loadBalancer = findLoadBalancer(chain);
  const partial = { addresses, classification, loadBalancer, queries, status };
  return {
    name: qname,
    types,
    status,
    failureSource: deciding?.failureSource ?? null,
    rcode: deciding?.rcode ?? null,
    flags: deciding?.flags ?? null,
    server: deciding?.server ?? null,
    transport: deciding?.transport ?? null,
    elapsedMs,
    queries,
    answers,
    cnameChain: chain,
    addresses,
    classification,
    loadBalancer,
    notes: notesFor(partial),
    error: status === 'ok' ? null : deciding?.error ?? null,
  };
}
