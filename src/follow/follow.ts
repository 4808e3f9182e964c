/**
 * `follow(url, options)`: the whole walk for one URL (issue 7), as numbered steps:
 *
 *  1. DNS: resolve the host (every address).
 *  2. Path: trace to each address with TCP SYN to the URL's port (+ icmp/udp when asked).
 *  3. Server (when given): start the agent's capture there (the URL's port, following NAT).
 *  4. Request: HTTP(S) with a fresh X-Amzn-Trace-Id Root through each load-balancer address
 *     (curl --resolve style), side by side a moment apart, or the first one with `once`.
 *  5. Server side: stop the capture, find the request by its trace id, stitch its path.
 *  6. The AWS configuration (with `aws`): read while the walk runs (files, or the API), each
 *     request's path evaluated in it once the server side is known (./config.ts).
 *  7. Verdict (verdict.ts).
 *
 * Every side effect goes through `FollowProbes` so tests script the evidence; the real
 * probes (probes.ts) wrap dns/, trace/, http/ and agent/. The agent connects while DNS and
 * the traces run (starting it can take a second), so the walk stays short.
 */
import { FOLLOW_SCHEMA_VERSION } from './types.js';
import type { AwsEvidence, DnsEvidence, FollowResult, RequestEvidence, RouteEvidence, ServerEvidence, TraceProto } from './types.js';
import { serverEvidence, sentRequests, type ServerReading } from './server.js';
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
  /** Connects to the agent (step 3 starts here, in parallel with steps 1–2). */
  server(target: string): Promise<ServerSession>;
  /** A fresh trace id header value, `Root=1-…-…`. */
  newTraceId(): string;
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
  const serverTarget = options.server ?? null;

  // 6 (early). Read the AWS configuration while the walk runs (the API takes a few seconds).
  const awsSource = options.aws ?? null;
  const awsPromise: Promise<LoadedAwsConfig | { error: string }> | null = awsSource
    ? loadAwsConfig(awsSource).catch((err: unknown) => ({ error: errorText(err) }))
    : null;

  // 3 (early). Connect to the agent while DNS and the traces run.
  let sessionError: string | null = null;
  const sessionPromise: Promise<ServerSession | null> = serverTarget
    ? probes.server(serverTarget).catch((err: unknown) => { sessionError = errorText(err); return null; })
    : Promise.resolve(null);
  let session: ServerSession | null = null;
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

    // 3. the capture on the server
    const targets = options.once ? addresses.slice(0, 1) : addresses;
    const traceIds = targets.map(() => probes.newTraceId());
    if (serverTarget && targets.length) {
      step(`starting the capture on ${serverTarget}`);
      session = await sessionPromise;
      if (session) {
        try {
          const ports = options.targetPorts?.length ? options.targetPorts : url.scheme === 'https' ? [...new Set([url.port, 80])] : [url.port];
          await session.start({ ports, traceRoots: traceIds.map(traceRoot) });
        } catch (err) {
          sessionError = errorText(err);
          await session.close().catch(() => {});
          session = null;
        }
      }
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

    // 5. the server side
    let server: ServerEvidence | null = null;
    if (serverTarget && targets.length) {
      if (session) {
        step(`stopping the capture on ${serverTarget}`);
        try {
          const reading = await session.stop();
          server = serverEvidence(reading, sentRequests(requests, timeoutMs));
        } catch (err) { sessionError = errorText(err); }
      }
      if (!server) server = failedServer(serverTarget, sessionError ?? 'the server side did not start');
    } else if (serverTarget) {
      server = null;
    }

    const packets = {
      schemaVersion: FOLLOW_SCHEMA_VERSION,
      source: 'follow' as const,
      tool: { name: 'flowtrace' as const, version: options.version ?? '0.1.0' },
      url: url.href, scheme: url.scheme, host: url.host, port: url.port, path: url.path,
      startedAt, durationMs: 0,
      options: { server: serverTarget, once: options.once ?? false, protos, timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS },
      dns, routes, requests, server,
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
    // The agent is ended whatever happened (also when it connected after we stopped waiting).
    const s = session ?? (await sessionPromise.catch(() => null));
    if (s) await s.close().catch(() => {});
  }
}

function failedServer(target: string, error: string): ServerEvidence {
  return {
    target, status: 'error', error, capturedPackets: 0, kernelDrops: null, filter: null, ports: [], matchedBy: null, traceId: null,
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
