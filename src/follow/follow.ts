/**
 * `follow(url, options)`: the whole walk for one URL (issue 7), as numbered steps:
 *
 *  1. DNS: resolve the host (every address).
 *  2. Path: trace to each address with TCP SYN to the URL's port (+ icmp/udp when asked).
 *  3. Servers (when given, one per target): start the agents' captures there, in parallel
 *     (the URL's port, following NAT).
 *  4. Request: HTTP(S) with a fresh X-Amzn-Trace-Id Root through each load-balancer address
 *     (curl --resolve style), side by side a moment apart, or the first one with `once`.
 *  5. The load balancer's access log (`albLog`): each request's line by its trace id (lb.ts).
 *  6. Server side: stop the captures, find each request on the target that got it (the access
 *     log says which, else its trace id or the timing of its connection), read its journey
 *     there. Then, with IPv6 and IPv4 addresses, one request as a dual-stack client sends it
 *     (happy eyeballs, IPv6 first): which family it used and what the other cost (after the
 *     capture, so it never stands among the requests the server side tells apart). The AWS
 *     configuration (with `aws`): read while the walk runs (files, or the API), each request's
 *     path evaluated in it once the server side is known (./config.ts).
 *  7. Verdict (verdict.ts).
 *
 * Every side effect goes through `FollowProbes` so tests script the evidence; the real
 * probes (probes.ts) wrap dns/, trace/, http/ and agent/. The agent connects while DNS and
 * the traces run (starting it can take a second), so the walk stays short.
 */
import { FOLLOW_SCHEMA_VERSION } from './types.js';
import type { AccessLogRead, AwsEvidence, DnsEvidence, FollowResult, HappyEyeballsEvidence, RequestEvidence, RouteEvidence, ServerEvidence, TraceProto } from './types.js';
import { serversEvidence, sentRequests, type ServerReading } from './server.js';
import { accessLogEvidence, loadBalancerEvidence, targetHints, type TargetHealthEntry, type TargetName } from './lb.js';
import { scanAccessLogs, type AccessLogScan } from '../alb-log/index.js';
import { decideVerdict } from './verdict.js';
import { UsageError } from '../errors.js';
import { realProbes, type RealProbeOptions } from './probes.js';
import { loadAwsConfig, type AwsConfigSource, type LoadedAwsConfig } from '../aws/index.js';
import { configEvidence, failedConfig } from './config.js';
import { isIP } from 'node:net';

export interface FollowProbes {
  resolve(host: string): Promise<DnsEvidence>;
  trace(address: string, proto: TraceProto, port: number): Promise<RouteEvidence>;
  request(input: RequestInput): Promise<RequestEvidence>;
  /** The request as a dual-stack client sends it: every address, happy eyeballs (optional: scripted probes may leave it out). */
  happyEyeballs?(input: Omit<RequestInput, 'address' | 'connectTimeoutMs'> & { addresses: string[] }): Promise<HappyEyeballsEvidence>;
  /** Connects to the agent (step 3 starts here, in parallel with steps 1–2). */
  server(target: string): Promise<ServerSession>;
  /** A fresh trace id header value, `Root=1-…-…`. */
  newTraceId(): string;
  /** Reads the load balancer's access log (default: alb-log's scanAccessLogs: a file, a directory, s3://). */
  readAccessLog?(source: string, input: { roots: ReadonlySet<string>; sentAtMs: number[] }): Promise<AccessLogScan>;
}

export interface RequestInput {
  url: string;
  host: string;
  port: number;
  address: string;
  traceId: string;
  caFile: string | null;
  insecure: boolean;
  timeoutMs: number;
  /** A shorter deadline for the TCP connect alone (the trace says the route fails); null: the whole timeout. */
  connectTimeoutMs?: number | null;
}

export interface ServerSession {
  start(input: { ports: number[]; traceRoots: string[] }): Promise<void>;
  /** The typed reading of the capture: flow's analysis and the host's facts (follow maps it to evidence). */
  stop(): Promise<ServerReading>;
  /** Always called, also on failure (ends the agent process). */
  close(): Promise<void>;
}

export interface FollowOptions {
  /** The side effects (default: the real dns/trace/http/agent probes). Tests script them. */
  probes?: FollowProbes;
  /** Settings of the real probes (DNS server, trace rounds…), when `probes` is not given. */
  probeOptions?: RealProbeOptions;
  /** Agent target: `netns:ec2`, `local`, `ssh://user@host`; null: no server side. */
  server?: string | null;
  /** Several agent targets, one per target of the load balancer (`servers` wins over `server`). */
  servers?: string[];
  /** The load balancer's access log: a file, a directory of its .log.gz files, or s3://bucket/prefix. */
  albLog?: string | null;
  /** The target group's health as `aws elbv2 describe-target-health` printed it (lb.ts parseTargetHealth). */
  targetHealth?: TargetHealthEntry[];
  /** Names and zones of target addresses (e.g. 172.31.21.20 → ec2-b, zone b). */
  targetNames?: Record<string, TargetName>;
  once?: boolean;
  /** Trace protocols; tcp (to the URL's port) is always first. */
  protos?: TraceProto[];
  caFile?: string | null;
  insecure?: boolean;
  /** Per-request timeout. */
  timeoutMs?: number;
  /**
   * Ports the load balancer sends to on the instance (captured there). Default: the URL's
   * port, plus 80 for https (an ALB ends TLS and usually forwards plain HTTP to its targets).
   */
  targetPorts?: number[];
  /** Names for load-balancer addresses (e.g. 10.77.1.10 → alb-a). */
  lbNames?: Record<string, string>;
  /** Availability zones of load-balancer addresses (e.g. 10.77.2.10 → b). */
  lbZones?: Record<string, string>;
  /** The AWS configuration to read the paths in: a folder of AWS CLI outputs, the API, or a snapshot. */
  aws?: AwsConfigSource | null;
  /** The load balancer the URL goes to (name or ARN), when the configuration cannot tell. */
  awsLoadBalancer?: string | null;
  /** Step progress (the CLI shows it on a TTY). */
  onStep?: (step: string) => void;
  signal?: AbortSignal;
  version?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 8000;
/** Between the starts of two requests (through two load-balancer addresses). */
export const REQUEST_STAGGER_MS = 250;
/** The connect budget of a request to an address the trace did not reach. */
export const UNREACHED_CONNECT_MS = 1000;

/** Resolves after `ms`, or at once when the signal aborts. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', done); resolve(); }, ms);
    const done = (): void => { clearTimeout(t); resolve(); };
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface ParsedUrl { scheme: 'http' | 'https'; host: string; port: number; path: string; href: string }

export function parseFollowUrl(text: string): ParsedUrl {
  let u: URL;
  try { u = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`); } catch {
    throw new UsageError(`bad URL '${text}'`, 'give a URL like http://example.com/ or https://example.com:8443/path');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`unsupported scheme '${u.protocol.replace(':', '')}' in '${text}'`, 'follow speaks http:// and https://');
  if (!u.hostname) throw new UsageError(`no host in '${text}'`, 'give a URL like http://example.com/');
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { scheme, host, port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80, path: `${u.pathname}${u.search}`, href: u.href };
}

/** The Root part `1-…-…` of a trace id header value. */
export function traceRoot(value: string): string {
  const m = /Root=([^;]+)/.exec(value);
  return m ? m[1]! : value;
}

export async function follow(urlText: string, options: FollowOptions = {}): Promise<FollowResult> {
  const url = parseFollowUrl(urlText);
  const probes = options.probes ?? realProbes(options.probeOptions);
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const step = options.onStep ?? (() => {});
  const protos: TraceProto[] = ['tcp', ...(options.protos ?? []).filter((p) => p !== 'tcp')];
  const serverTargets = options.servers?.length ? [...options.servers] : options.server ? [options.server] : [];

  // 6 (early). Read the AWS configuration while the walk runs (the API takes a few seconds).
  const awsSource = options.aws ?? null;
  const awsPromise: Promise<LoadedAwsConfig | { error: string }> | null = awsSource
    ? loadAwsConfig(awsSource).catch((err: unknown) => ({ error: errorText(err) }))
    : null;

  // 3 (early). Connect to the server sides while DNS and the traces run.
  const agents = serverTargets.map((target) => {
    const a: { target: string; error: string | null; session: ServerSession | null; connecting: Promise<ServerSession | null> } = { target, error: null, session: null, connecting: Promise.resolve(null) };
    a.connecting = probes.server(target).catch((err: unknown) => { a.error = errorText(err); return null; });
    return a;
  });
  try {
    // 1. DNS
    step(`resolving ${url.host}`);
    const dns: DnsEvidence = isIP(url.host)
      ? { status: 'literal', server: null, addresses: [url.host], answers: [], rcode: null, elapsedMs: null, error: null }
      : await probes.resolve(url.host);
    const addresses = dns.status === 'ok' || dns.status === 'literal' ? dns.addresses : [];

    // 2. the route to every address, every protocol (in parallel: each trace has its own flow)
    let routes: RouteEvidence[] = [];
    if (addresses.length) {
      step(`tracing ${addresses.length} address${addresses.length > 1 ? 'es' : ''} (${protos.join(', ')})`);
      const jobs = addresses.flatMap((a) => protos.map((p) => ({ a, p })));
      routes = await Promise.all(jobs.map(({ a, p }) => probes.trace(a, p, url.port).catch((err: unknown): RouteEvidence => ({
        address: a, proto: p, port: p === 'icmp' ? null : url.port, status: 'error', reachedAtTtl: null, hops: [], explanation: null, elapsedMs: null, error: traceErrorText(err),
      }))));
    }

    // 3. the captures on the servers, in parallel
    const targets = options.once ? addresses.slice(0, 1) : addresses;
    const traceIds = targets.map(() => probes.newTraceId());
    if (agents.length && targets.length) {
      step(`starting the capture on ${serverTargets.join(', ')}`);
      const ports = options.targetPorts?.length ? options.targetPorts : url.scheme === 'https' ? [...new Set([url.port, 80])] : [url.port];
      await Promise.all(agents.map(async (a) => {
        a.session = await a.connecting;
        if (!a.session) return;
        try {
          await a.session.start({ ports, traceRoots: traceIds.map(traceRoot) });
        } catch (err) {
          a.error = errorText(err);
          await a.session.close().catch(() => {});
          a.session = null;
        }
      }));
    }

    // 4. the requests, one per load-balancer address, side by side: each starts REQUEST_STAGGER_MS
    //    after the one before (the server side tells their connections apart by that order),
    //    so the walk waits for the slowest answer once, not for each in turn. An address the
    //    trace did not reach gets a short connect: the trace already says why it fails.
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const unreached = new Set(routes.filter((r) => r.proto === 'tcp' && r.status === 'not-reached').map((r) => r.address));
    if (targets.length) step(`${url.scheme.toUpperCase()} request${targets.length > 1 ? 's' : ''} via ${targets.join(', ')}`);
    const requests: RequestEvidence[] = await Promise.all(targets.map(async (address, i): Promise<RequestEvidence | null> => {
      if (i > 0) await delay(i * REQUEST_STAGGER_MS, options.signal);
      if (options.signal?.aborted) return null;
      const sentAt = Date.now();
      const q = await probes.request({
        url: url.href, host: url.host, port: url.port, address, traceId: traceIds[i]!,
        caFile: options.caFile ?? null, insecure: options.insecure ?? false, timeoutMs,
        connectTimeoutMs: unreached.has(address) ? Math.min(UNREACHED_CONNECT_MS, timeoutMs) : null,
      });
      return { ...q, node: q.node ?? options.lbNames?.[address] ?? null, zone: q.zone ?? options.lbZones?.[address] ?? null, sentAt: q.sentAt ?? sentAt };
    })).then((list) => list.filter((q): q is RequestEvidence => q !== null));

    // 5. the load balancer's access log (its lines are written when the answer is sent)
    let accessLog: AccessLogRead | null = null;
    if (options.albLog && requests.length) {
      step(`reading the access log ${options.albLog}`);
      const read = probes.readAccessLog ?? ((source, input) => scanAccessLogs(source, input));
      try {
        const scan = await read(options.albLog, { roots: new Set(requests.map((q) => q.traceId)), sentAtMs: requests.map((q) => q.sentAt ?? Date.now()) });
        accessLog = accessLogEvidence(scan, requests);
      } catch (err) {
        accessLog = { source: options.albLog, status: 'error', error: errorText(err), files: 0, lines: 0, problems: [], requests: [] };
      }
    }

    // 6. the server side: every capture stopped, each request read on the target that got it
    let servers: ServerEvidence[] = [];
    if (agents.length && targets.length) {
      step(`stopping the capture on ${serverTargets.join(', ')}`);
      const readings = await Promise.all(agents.map(async (a): Promise<ServerReading | null> => {
        if (!a.session) return null;
        try { return await a.session.stop(); } catch (err) { a.error = errorText(err); return null; }
      }));
      const ok = readings.filter((r): r is ServerReading => r !== null);
      const read = serversEvidence(ok, sentRequests(requests, timeoutMs), targetHints(accessLog));
      servers = agents.map((a, i) => (readings[i] ? read[ok.indexOf(readings[i]!)]! : failedServer(a.target, a.error ?? 'the server side did not start')));
    }
    const server = chosenServer(servers);

    // 5b. the request as a dual-stack client sends it
    let happyEyeballs: HappyEyeballsEvidence | null = null;
    const families = new Set(addresses.map((a) => isIP(a)));
    if (!options.once && families.size === 2 && probes.happyEyeballs && !options.signal?.aborted) {
      step('one request as a dual-stack client sends it (happy eyeballs, IPv6 first)');
      const v6First = [...addresses.filter((a) => isIP(a) === 6), ...addresses.filter((a) => isIP(a) === 4)];
      happyEyeballs = await probes.happyEyeballs({
        url: url.href, host: url.host, port: url.port, addresses: v6First, traceId: probes.newTraceId(),
        caFile: options.caFile ?? null, insecure: options.insecure ?? false, timeoutMs,
      }).catch(() => null);
    }

    const packets = {
      schemaVersion: FOLLOW_SCHEMA_VERSION,
      source: 'follow' as const,
      tool: { name: 'flowtrace' as const, version: options.version ?? '0.1.0' },
      url: url.href, scheme: url.scheme, host: url.host, port: url.port, path: url.path,
      startedAt, durationMs: 0,
      options: {
        server: serverTargets[0] ?? null, servers: serverTargets, albLog: options.albLog ?? null,
        once: options.once ?? false, protos, timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      },
      dns, routes, requests, server, servers, ...(happyEyeballs ? { happyEyeballs } : {}),
      loadBalancer: loadBalancerEvidence({ requests, servers, accessLog, targetHealth: options.targetHealth ?? [], targetNames: options.targetNames ?? {} }),
    };
    // 6. the configuration's reading of each request's path
    let aws: AwsEvidence | null = null;
    if (awsPromise && awsSource) {
      step('reading the AWS configuration');
      const loaded = await awsPromise;
      const from = awsSource.kind === 'files' ? awsSource.dir : awsSource.kind === 'snapshot' ? awsSource.from : 'api';
      aws = 'error' in loaded ? failedConfig(awsSource.kind, from, loaded.error) : configEvidence(loaded, packets, options.awsLoadBalancer ?? null);
    }
    const evidence = { ...packets, durationMs: Number((performance.now() - t0).toFixed(1)), aws };
    // 7. the verdict
    return { ...evidence, verdict: decideVerdict(evidence) };
  } finally {
    // The agents are ended whatever happened (also one that connected after we stopped waiting).
    await Promise.all(agents.map(async (a) => {
      const s = a.session ?? (await a.connecting.catch(() => null));
      if (s) await s.close().catch(() => {});
    }));
  }
}

/** The server evidence that speaks for the server side: the one that got the first request found, else the first. */
export function chosenServer(servers: readonly ServerEvidence[]): ServerEvidence | null {
  for (const pick of [(r: ServerEvidence['requests'][number]) => r.matchedBy === 'trace-id', (r: ServerEvidence['requests'][number]) => r.matchedBy !== null]) {
    const found = servers.find((s) => s.requests.some(pick));
    if (found) return found;
  }
  return servers[0] ?? null;
}

function failedServer(target: string, error: string): ServerEvidence {
  return {
    target, targetAddress: null, status: 'error', error, capturedPackets: 0, kernelDrops: null, filter: null, ports: [], matchedBy: null, traceId: null,
    requests: [], rolesFrom: 'packets', interfaces: [], nat: [], packets: [], path: [], anomalies: [], appTimeMs: null, host: null, analysis: null,
  };
}

/** A trace that could not run, in one short line (for privilege: what to do). */
function traceErrorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; hint?: unknown } | null;
  if (e && e.code === 'PRIVILEGE' && typeof e.hint === 'string') return e.hint;
  return e && typeof e.message === 'string' ? e.message : String(err);
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { code?: unknown; message: string; hint?: unknown };
    return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message}${typeof e.hint === 'string' ? ` (hint: ${e.hint})` : ''}`;
  }
  return String(err);
}
