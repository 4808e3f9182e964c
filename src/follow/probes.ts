/**
 * The real FollowProbes: dns/ (resolve), trace/ (traceAddress, TCP SYN to the URL's port),
 * http/ (httpProbe with --resolve and a trace id) and agent/ (connectServerSide: the agent, or
 * the agentless path over ssh), each result turned into follow's evidence types.
 */
import { resolve } from '../dns/index.js';
import type { DnsResult } from '../dns/index.js';
import { traceAddress } from '../trace/index.js';
import type { AddressTrace } from '../trace/index.js';
import { httpProbe, newTraceId } from '../http/index.js';
import type { HttpResult } from '../http/index.js';
import { connectServerSide, type ServerMode } from '../agent/index.js';
import type { DnsEvidence, HopEvidence, RequestEvidence, RouteEvidence, TraceProto } from './types.js';
import type { FollowProbes, RequestInput, ServerSession } from './follow.js';
import type { ServerReading } from './server.js';

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
  /** How the server side runs for an ssh:// target (default auto: the agent if it is there, else agentless). */
  serverMode?: ServerMode;
  /** Header names hidden besides the defaults (src/redaction.ts), by the request and the server side. */
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
    explanation: t.explanation.length ? t.explanation.join('; ') : null,
    elapsedMs: round(t.durationMs),
    error: t.status === 'failed' ? t.firstSendError ?? 'the probes could not be sent' : null,
  };
}

export function requestEvidence(r: HttpResult, input: RequestInput): RequestEvidence {
  const header = (name: string): string | null => r.headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
  const p = r.phases;
  const firstByte = p.waitMs === null ? null : round((p.sendMs ?? 0) + p.waitMs);
  return {
    address: input.address, port: input.port, node: null, zone: null, sentAt: null,
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
    async happyEyeballs(input) {
      const r = await httpProbe(input.url, {
        resolve: `${input.host}:${input.port}:${input.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(',')}`,
        traceId: input.traceId, caFile: input.caFile ?? undefined, insecure: input.insecure, timeoutMs: input.timeoutMs,
      });
      const he = r.happyEyeballs;
      return {
        addresses: input.addresses, firstFamily: he?.firstFamily ?? (input.addresses[0]!.includes(':') ? 6 : 4), delayMs: he?.delayMs ?? 0,
        familyUsed: he?.familyUsed ?? r.remote?.family ?? null, lostMs: he ? roundOrNull(he.lostMs) : r.remote ? 0 : null,
        address: r.remote?.address ?? null, traceId: r.traceId.replace(/^Root=/, '').split(';')[0]!,
        httpStatus: r.statusCode, totalMs: round(r.timings.totalMs), error: r.error ? `${r.error.code}: ${r.error.message}` : null,
      };
    },
    async request(input) {
      const r = await httpProbe(input.url, {
        resolve: `${input.host}:${input.port}:${input.address}`,
        traceId: input.traceId,
        caFile: input.caFile ?? undefined,
        insecure: input.insecure,
        timeoutMs: input.timeoutMs,
        ...(input.connectTimeoutMs ? { connectTimeoutMs: input.connectTimeoutMs } : {}),
        redact: opts.redact,
      });
      return requestEvidence(r, input);
    },
    async server(target) {
      const side = await connectServerSide(target, { mode: opts.serverMode });
      let filter: string | null = null;
      const session: ServerSession = {
        async start({ ports, traceRoots }) {
          const started = await side.start({ ports, traceIds: traceRoots.slice(0, 1), maxDurationMs: opts.captureMaxMs ?? 120_000, redact: opts.redact });
          filter = [started.filter, ...started.notes, ...(side.mode === 'agentless' ? [side.description] : [])].join('; ');
        },
        async stop(): Promise<ServerReading> {
          const r = await side.stop();
          return {
            target, analysis: r.analysis, host: r.host, ports: r.ports, filter,
            capturedPackets: r.capturedPackets, kernelDrops: r.kernelDrops,
          };
        },
        close: () => side.close(),
      };
      return session;
    },
    newTraceId: () => newTraceId(),
  };
}
