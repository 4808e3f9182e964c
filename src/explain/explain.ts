/**
 * `explain(inputs)`: the verdict from text users already ran, in numbered steps:
 *
 *  1. Each input is cut into parts, each recognised as one tool's output (segment.ts); lines
 *     no part takes are reported, never guessed into one.
 *  2. Each part is read into follow's evidence types: the DNS answer (dns.ts), the hops
 *     (route.ts), one request per address curl tried (curl.ts), and — from the instance — the
 *     capture (tcpdump's text, read as a capture by the flow engine: server.ts) and the host
 *     facts (host/'s parsers: host.ts).
 *  3. The server side is follow's own `serverEvidence` over that reading; the requests are
 *     found on the instance by trace id when curl sent one, else by their request line.
 *  4. The verdict is follow's own `decideVerdict`; rows without evidence say what to run.
 * The result has FollowResult's shape (`source: 'explain'`, `explain`: the parts read).
 */
import { isIP } from 'node:net';
import { InputError, UsageError } from '../errors.js';
import {
  decideVerdict, FOLLOW_SCHEMA_VERSION, sentRequests, serverEvidence,
  type DnsEvidence, type ExplainPart, type FollowEvidence, type FollowResult, type HowToCheck, type RequestEvidence, type RouteEvidence, type ServerEvidence, type TraceProto,
} from '../follow/index.js';
import { readCurlVerbose, readCurlWriteOut, type CurlReading } from './curl.js';
import { readDns, type DnsReading } from './dns.js';
import { readDockerPs } from './docker.js';
import { addRouteLookups, isHostPart, readHostFacts } from './host.js';
import { readRoute } from './route.js';
import { segment, type Format, type RawPart } from './segment.js';
import { readCapture } from './server.js';

export interface ExplainInput {
  /** A file name, or `-` for stdin. */
  source: string;
  text: string;
}

export interface ExplainOptions {
  /** The URL the text is about, when the text does not say it (no curl, no name). */
  url?: string | null;
  /** Names for load-balancer addresses (`10.77.1.10` → `alb-a`) and their zones. */
  lbNames?: Record<string, string>;
  lbZones?: Record<string, string>;
  version?: string;
}

const DNS_FORMATS: ReadonlySet<Format> = new Set(['nslookup', 'dig', 'dig +short', 'host']);
const ROUTE_FORMATS: ReadonlySet<Format> = new Set(['traceroute', 'tracepath', 'mtr --report', 'mtr --json']);
/** The more a DNS tool prints, the better its reading (dig has TTLs and the server). */
const DNS_RANK: Record<string, number> = { dig: 0, nslookup: 1, host: 2, 'dig +short': 3 };

function lineRange(p: RawPart): { fromLine: number; toLine: number } {
  return { fromLine: p.from + 1, toLine: p.to };
}

export async function explain(inputs: readonly ExplainInput[], options: ExplainOptions = {}): Promise<FollowResult> {
  const t0 = performance.now();
  // 1. the parts
  const parts: RawPart[] = [];
  const unrecognised: NonNullable<FollowResult['explain']>['unrecognised'] = [];
  for (const input of inputs) {
    const s = segment(input.text, input.source);
    parts.push(...s.parts);
    unrecognised.push(...s.unrecognised.map((u) => ({ source: u.source, fromLine: u.from + 1, toLine: u.to, text: u.text })));
  }
  const notes: string[] = [];
  const summaries = new Map<RawPart, string>();

  // 2. client side: DNS, requests, routes
  const dnsReadings: Array<{ part: RawPart; r: DnsReading }> = parts.filter((p) => DNS_FORMATS.has(p.format))
    .map((part) => ({ part, r: readDns(part.format, part.lines, part.command?.args ?? []) }));
  for (const { part, r } of dnsReadings) summaries.set(part, r.summary);
  const curlReadings: Array<{ part: RawPart; r: CurlReading }> = [];
  for (const part of parts.filter((p) => p.format === 'curl -v' || p.format === 'curl -w')) {
    const r = part.format === 'curl -v' ? readCurlVerbose(part.lines, part.command?.args ?? []) : readCurlWriteOut(part.lines);
    summaries.set(part, r.summary);
    // -w printed by the same command as a -v block: its times are that request's.
    const previous = curlReadings[curlReadings.length - 1];
    if (part.format === 'curl -w' && previous && previous.part.format === 'curl -v' && previous.part.command !== null && previous.part.command === part.command) {
      const answered = previous.r.requests.find((q) => q.httpStatus !== null) ?? previous.r.requests[previous.r.requests.length - 1];
      if (answered && r.requests[0]) { answered.phases = r.requests[0].phases; answered.localAddress ??= r.requests[0].localAddress; }
      continue;
    }
    curlReadings.push({ part, r });
  }
  const requests: RequestEvidence[] = [];
  const requestLines: Array<CurlReading['requestLine']> = [];
  for (const { r } of curlReadings) {
    for (const q of r.requests) {
      q.traceId = /^curl#/.test(q.traceId) ? `curl#${requests.length + 1}` : q.traceId;
      q.node = options.lbNames?.[q.address] ?? null;
      q.zone = options.lbZones?.[q.address] ?? null;
      requests.push(q);
      requestLines.push(r.requestLine);
    }
  }

  // The URL: curl's, else the name asked of DNS or traced, else --url.
  const fromCurl = curlReadings.map((c) => c.r.url).find((u) => u.host !== null) ?? null;
  const dnsName = dnsReadings.map((d) => d.r.name).find((n) => n !== null) ?? null;
  let url: URL | null = null;
  if (options.url) {
    try { url = new URL(/^[a-z]+:\/\//i.test(options.url) ? options.url : `http://${options.url}`); } catch {
      throw new UsageError(`bad --url '${options.url}'`, 'give a URL like http://seqas.online/');
    }
  } else if (fromCurl?.host) {
    url = new URL(`${fromCurl.scheme}://${fromCurl.host.includes(':') && isIP(fromCurl.host) === 6 ? `[${fromCurl.host}]` : fromCurl.host}${fromCurl.port && fromCurl.port !== (fromCurl.scheme === 'https' ? 443 : 80) ? `:${fromCurl.port}` : ''}${fromCurl.path ?? '/'}`);
  }
  const knownAddresses = [...new Set([...dnsReadings.flatMap((d) => d.r.evidence.addresses), ...requests.map((q) => q.address).filter((a) => isIP(a) !== 0)])];
  const routeReadings = parts.filter((p) => ROUTE_FORMATS.has(p.format)).map((part) => ({ part, r: readRoute(part.format, part.lines, part.command?.args ?? [], knownAddresses) }));
  for (const { part, r } of routeReadings) summaries.set(part, r.summary);
  if (url === null) {
    const name = dnsName ?? routeReadings.map((r) => r.r.name).find((n) => n !== null) ?? null;
    if (name) url = new URL(`http://${name}/`);
  }
  if (parts.length === 0) {
    const first = unrecognised[0];
    throw new InputError(`nothing in the text was recognised${first ? ` (line ${first.fromLine} of ${first.source}: ${JSON.stringify(first.text.slice(0, 60))})` : ' (it is empty)'}`,
      'paste the output of nslookup, traceroute, curl -v, tcpdump -nn, ip, iptables… (docs/explain.md lists the formats)');
  }
  if (url === null) {
    throw new UsageError('the text names no host (no curl, nslookup, dig, host or traceroute output names one)',
      'give --url http://HOST/ (the URL the text is about)');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const scheme: 'http' | 'https' = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;

  // DNS: the fullest output given; none: not checked, with the addresses the rest used.
  const bestDns = [...dnsReadings].sort((a, b) => (DNS_RANK[a.part.format] ?? 9) - (DNS_RANK[b.part.format] ?? 9))[0] ?? null;
  const statuses = new Set(dnsReadings.map((d) => d.r.evidence.status));
  if (statuses.size > 1) notes.push(`the DNS outputs disagree (${[...statuses].join(', ')}): ${bestDns!.part.format}'s is used`);
  const dns: DnsEvidence = isIP(host) !== 0
    ? { status: 'literal', server: null, addresses: [host], answers: [], rcode: null, elapsedMs: null, error: null }
    : bestDns?.r.evidence ?? { status: 'not-checked', server: null, addresses: knownAddresses.filter((a) => isIP(a) !== 0), answers: [], rcode: null, elapsedMs: null, error: null };
  const routes: RouteEvidence[] = routeReadings.map((r) => r.r.evidence);
  const protos = [...new Set(routes.map((r) => r.proto))] as TraceProto[];

  // 3. the instance: host facts, then the capture read as one, then follow's server evidence
  const captureParts = parts.filter((p) => p.format === 'tcpdump');
  const hostNamespace = captureParts.find((p) => p.command)?.command?.namespace ?? null;
  const hostReading = readHostFacts(parts, hostNamespace);
  notes.push(...hostReading.notes);
  for (const p of parts.filter(isHostPart)) summaries.set(p, hostPartSummary(p));
  for (const p of parts.filter((x) => x.format === 'docker ps')) {
    const rows = readDockerPs(p.lines);
    summaries.set(p, rows.map((c) => `${c.names.join(',')}: ${c.up ? 'up' : c.status}${c.ports.length ? `, ${c.ports.map((x) => `${x.hostPort ?? '-'}→${x.containerPort}/${x.protocol}`).join(' ')}` : ''}`).join('; ') || 'no containers');
  }
  let server: ServerEvidence | null = null;
  if (captureParts.length > 0) {
    const capture = await readCapture(captureParts, hostReading.host);
    notes.push(...capture.notes);
    const a = capture.reading.analysis;
    addRouteLookups(hostReading, a.connections.flatMap((c) => [c.client.address, c.server.address, ...(c.serverInside ? [c.serverInside.address] : [])]));
    const sent = sentRequests(requests, 0).map((s, k) => ({ ...s, requestLine: requestLines[k] ?? null }));
    server = serverEvidence(capture.reading, sent);
    for (const p of captureParts) summaries.set(p, `${a.capture.records} packets read as a capture: ${a.connections.length} connection${a.connections.length === 1 ? '' : 's'}, ${a.exchanges.length} HTTP exchange${a.exchanges.length === 1 ? '' : 's'} on ${a.capture.interfaces.map((i) => i.interface).join(', ') || 'no interface'}`);
    for (const r of server.requests) {
      if (r.matchedBy === 'timing') notes.push(`${r.traceRoot} carried no HTTP the capture shows: its connection is taken to be the first one without a request (curl prints no clock time to match by)`);
      if (r.matchedBy === 'request-line') {
        const root = r.journey?.traceRoots[0] ?? null;
        notes.push(`${r.traceRoot} was found on the instance by its request line${capture.headsShown ? '' : ' alone (tcpdump without -v/-A shows no Host: another request with the same line may be the one found)'}${root ? `; the load balancer gave it the trace id Root=${root} (its access log has it)` : ''}`);
      }
    }
  } else if (hostReading.host !== null) {
    notes.push('facts of the instance were given but no capture: they explain where packets stop only next to tcpdump\'s output of the request');
  }

  // 4. the verdict, with what to run for each kind of evidence not given
  const tracedPort = scheme === 'https' ? 443 : port;
  const howToCheck: HowToCheck = {
    dns: bestDns === null && isIP(host) === 0 ? `run \`nslookup ${host}\`` : null,
    route: routes.length === 0 ? `run \`traceroute -n ${host}\` (or \`traceroute -T -p ${tracedPort} -n ${host}\` through firewalls)` : null,
    request: requests.length === 0 ? `run \`curl -v ${url.href}\`` : null,
    server: server === null ? `run \`tcpdump -i any -nn port ${port === 443 ? '80' : port} or port 8080\` on the instance while the request runs (and \`ip -o link\`, \`ip -o addr\`, \`ip route\`, \`iptables -L -n -v\`, \`iptables -t nat -L -n -v\` there)` : null,
  };
  const explainParts: ExplainPart[] = parts.map((p) => ({
    format: p.format, source: p.source, ...lineRange(p), command: p.command?.text ?? null, namespace: p.command?.namespace ?? null, summary: summaries.get(p) ?? '',
  }));
  const evidence: FollowEvidence = {
    schemaVersion: FOLLOW_SCHEMA_VERSION,
    tool: { name: 'flowtrace', version: options.version ?? '0.1.0' },
    source: 'explain',
    url: url.href, scheme, host, port, path: `${url.pathname}${url.search}`,
    startedAt: new Date().toISOString(),
    durationMs: Number((performance.now() - t0).toFixed(1)),
    options: { server: server ? 'tcpdump text' : null, once: requests.length <= 1, protos, timeoutMs: 0 },
    dns, routes, requests, server,
    howToCheck,
    explain: { parts: explainParts, unrecognised, notes },
  };
  return { ...evidence, verdict: decideVerdict(evidence) };
}

function hostPartSummary(p: RawPart): string {
  const n = p.lines.filter((l) => l.trim() !== '').length;
  const where = p.command?.namespace ? ` in ${p.command.namespace}` : '';
  switch (p.format) {
    case 'ip link': case 'ip addr': return `interfaces${where} (${n} lines)`;
    case 'ip route': return `routing table${where}: ${n} routes`;
    case 'ip neigh': return `neighbour table${where}: ${n} entries`;
    case 'iptables -L': case 'iptables -S': case 'iptables-save': return `netfilter rules${where} (${n} lines)`;
    case 'ss': return `listening sockets${where}`;
    case 'sysctl': return `${n} sysctl settings${where}`;
    default: return '';
  }
}
