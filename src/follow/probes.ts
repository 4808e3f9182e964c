/**
 * The real FollowProbes: dns/ (resolve), trace/ (traceAddress, TCP SYN to the URL's port),
 * http/ (httpProbe with --resolve and a trace id) and agent/ (connectAgent, pcapng back),
 * each result turned into follow's evidence types.
 */
import { resolve } from '../dns/index.js';
import type { DnsResult } from '../dns/index.js';
import { traceAddress } from '../trace/index.js';
import type { AddressTrace } from '../trace/index.js';
import { httpProbe, newTraceId } from '../http/index.js';
import type { HttpResult } from '../http/index.js';
import { connectAgent, parseAgentTarget } from '../agent/index.js';
import { execFile } from 'node:child_process';
import type { DnsEvidence, HopEvidence, RequestEvidence, RouteEvidence, ServerEvidence, TraceProto } from './types.js';
import type { FollowProbes, RequestInput, ServerSession } from './follow.js';
import { parseLinkStates, serverEvidenceFromCapture, type LinkState } from './server.js';

/**
 * Link states of the target's interfaces (a silent veth that is down looks like a firewall in
 * a capture). Readable for local and netns targets; null for ssh (the agent does not say).
 */
function readLinkStates(target: string): Promise<LinkState[] | null> {
  let argv: string[];
  try {
    const t = parseAgentTarget(target);
    if (t.kind === 'ssh') return Promise.resolve(null);
    argv = t.kind === 'netns' ? ['-n', t.namespace, '-o', 'link', 'show'] : ['-o', 'link', 'show'];
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    execFile('ip', argv, { timeout: 3000 }, (err, stdout) => resolve(err ? null : parseLinkStates(stdout)));
  });
}

export interface RealProbeOptions {
  /** DNS server (`addr[:port]`); default /etc/resolv.conf of the namespace we run in. */
  dnsServer?: string;
  dnsTimeoutMs?: number;
  /** Trace rounds and per-probe timeout (kept short: the walk should take ≤ 2 s when healthy). */
  traceRounds?: number;
  traceTimeoutMs?: number;
  maxTtl?: number;
  /** Longest capture the agent keeps running. */
  captureMaxMs?: number;
  /** Header names hidden besides the defaults (src/redaction.ts), by the request and the agent. */
  redact?: readonly string[];
}

export function dnsEvidence(r: DnsResult): DnsEvidence {
  const status = r.status === 'ok' && r.addresses.length === 0 ? 'nodata' : r.status;
  return {
    status,
    server: r.server ? `${r.server.address}#${r.server.port}${r.transport ? ` (${r.transport})` : ''}` : null,
    addresses: [...r.addresses],
    answers: r.answers.map((a) => ({ name: a.name, type: a.type, ttl: a.ttl, data: a.data })),
    rcode: r.rcode,
    elapsedMs: round(r.elapsedMs),
    error: r.error ? `${r.error.message}` : null,
  };
}

export function routeEvidence(t: AddressTrace, proto: TraceProto, port: number | null): RouteEvidence {
  const hops: HopEvidence[] = t.hops.map((h) => ({
    ttl: h.ttl,
    responders: h.responders.map((x) => ({
      address: x.address,
      rttMs: x.replies > 1 ? [round(x.rttMinMs), round(x.rttAvgMs), round(x.rttMaxMs)] : [round(x.rttAvgMs)],
    })),
    sent: h.sent,
    lossPct: h.lossPercent ?? 0,
    flag: h.flags[0] ?? null,
    isDestination: h.destination,
  }));
  return {
    address: t.address, proto, port: proto === 'icmp' ? null : port,
    status: t.status === 'reached' ? 'reached' : t.status === 'failed' ? 'error' : 'not-reached',
    reachedAtTtl: t.reachedAtTtl,
    hops,
    explanation: t.explanation.length ? t.explanation.join(' ') : null,
    elapsedMs: round(t.durationMs),
    error: t.status === 'failed' ? t.firstSendError ?? 'the probes could not be sent' : null,
  };
}

export function requestEvidence(r: HttpResult, input: RequestInput): RequestEvidence {
  const header = (name: string): string | null => r.headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
  const p = r.phases;
  const firstByte = p.waitMs === null ? null : round((p.sendMs ?? 0) + p.waitMs);
  return {
    address: input.address, port: input.port, node: null,
    traceId: r.traceId.replace(/^Root=/, '').split(';')[0]!,
    localAddress: r.local ? `${r.local.address}:${r.local.port}` : null,
    status: r.statusCode !== null ? 'ok' : 'error',
    httpStatus: r.statusCode, reason: r.reason, serverHeader: header('server'),
    phases: {
      dnsMs: null, // the address is given (--resolve): the walk's DNS step timed the lookup
      connectMs: roundOrNull(p.connectMs), tlsMs: roundOrNull(p.tlsMs), firstByteMs: firstByte,
      downloadMs: roundOrNull(p.downloadMs), totalMs: round(r.timings.totalMs),
    },
    error: r.error ? { code: r.error.code, phase: r.error.phase, message: r.error.message } : null,
    bodyPreview: r.bodyHead ? r.bodyHead.slice(0, 200) : null,
  };
}

function round(n: number): number {
  return Number(n.toFixed(3));
}
function roundOrNull(n: number | null): number | null {
  return n === null ? null : round(n);
}

function linksFromHello(list: ReadonlyArray<{ name: string; master: string | null; operstate?: string }>): LinkState[] | null {
  if (!list.length || list.every((i) => i.operstate === undefined)) return null;
  return list.map((i) => ({ name: i.name, master: i.master, up: i.operstate === 'UP' || i.operstate === 'UNKNOWN' }));
}

export function realProbes(opts: RealProbeOptions = {}): FollowProbes {
  return {
    async resolve(host) {
      return dnsEvidence(await resolve(host, { server: opts.dnsServer, timeoutMs: opts.dnsTimeoutMs ?? 2000, retries: 1 }));
    },
    async trace(address, proto, port) {
      const t = await traceAddress(address, {
        proto, port: proto === 'icmp' ? undefined : proto === 'udp' ? undefined : port,
        rounds: opts.traceRounds ?? 2, timeoutMs: opts.traceTimeoutMs ?? 800, maxTtl: opts.maxTtl ?? 12,
      });
      return routeEvidence(t, proto, proto === 'tcp' ? port : proto === 'udp' ? null : null);
    },
    async request(input) {
      const r = await httpProbe(input.url, {
        resolve: `${input.host}:${input.port}:${input.address}`,
        traceId: input.traceId,
        caFile: input.caFile ?? undefined,
        insecure: input.insecure,
        timeoutMs: input.timeoutMs,
        redact: opts.redact,
      });
      return requestEvidence(r, input);
    },
    async server(target) {
      const client = await connectAgent(target);
      let ports: number[] = [];
      let filter: string | null = null;
      const session: ServerSession = {
        async start({ ports: urlPorts, traceRoots }) {
          const started = await client.start({ ports: urlPorts, traceId: traceRoots[0] ?? null, pcapng: true, maxDurationMs: opts.captureMaxMs ?? 120_000, redact: opts.redact });
          filter = [started.filter, ...started.notes].join('; ');
          // The agent widens the filter to the NAT'd ports (80 → 8080): read them back.
          ports = [...new Set([...urlPorts, ...[...started.filter.matchAll(/port (\d+)/g)].map((m) => Number(m[1]))])];
          (session as ServerSession & { roots: string[] }).roots = traceRoots;
        },
        async stop(): Promise<ServerEvidence> {
          const [r, read] = await Promise.all([client.stop(), readLinkStates(target)]);
          // Over ssh the agent's hello (at connect) tells the interfaces' operstate.
          const links: LinkState[] | null = read ?? linksFromHello(client.hello.interfaces);
          if (!r.pcapng) throw new Error('the agent returned no capture bytes');
          const roots = (session as ServerSession & { roots?: string[] }).roots ?? [];
          return serverEvidenceFromCapture({
            target, capture: Buffer.from(r.pcapng, 'base64'), serverPorts: ports, traceRoots: roots,
            filter, kernelDrops: r.packets.droppedByKernel, path: r.found ? r.path : [], anomalies: r.anomalies, links,
          });
        },
        close: () => client.close(),
      };
      return session;
    },
    newTraceId: () => newTraceId(),
  };
}
