/**
 * `traceRoute(host, options)`: resolve, then trace every address of the host, at most
 * MAX_PARALLEL_ADDRESSES at a time (more would compete for the ICMP rate limits of the
 * routers they share).
 */
import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';
import { familyOf } from './address.js';
import { analyzeTrace } from './analysis.js';
import {
  DEFAULT_FIRST_TTL, DEFAULT_MAX_TTL, DEFAULT_PROBE_INTERVAL_MS, DEFAULT_PROTOCOL, DEFAULT_ROUNDS, DEFAULT_ROUND_INTERVAL_MS,
  DEFAULT_TCP_PORT, DEFAULT_TIMEOUT_MS, DEFAULT_UDP_PORT, MAX_PARALLEL_ADDRESSES, MAX_PROBES, MAX_ROUNDS, MAX_TTL_LIMIT, MTU_MAX_PROBES,
  REPROBE_MIN_INTERVAL_MS, SILENT_HORIZON_HOPS,
} from './config.js';
import { makeFlow } from './flow.js';
import { discoverPathMtu } from './mtu.js';
import { realClock, type Clock, type NetworkFactory } from './network.js';
import { checkRawSocketPrivilege, openRawNetwork } from './raw-network.js';
import { resolveTargets, systemResolver, type AddressResolver } from './resolve.js';
import { runTracer } from './tracer.js';
import { port, traceIdentifier, type AddressTrace, type TraceOptions, type TraceResult } from './types.js';

/** The seams, for tests: the network, the clock, the resolver, the random numbers. */
export interface TraceDeps {
  network?: NetworkFactory;
  clock?: Clock;
  resolver?: AddressResolver;
  /** Returns an integer in [min, max). */
  random?: (min: number, max: number) => number;
}

/** Source ports above Linux's ephemeral range (32768–60999) so no real socket shares them. */
const SOURCE_PORT_MIN = 61000;
const SOURCE_PORT_MAX = 65535;

interface Settings {
  proto: NonNullable<TraceOptions['proto']>;
  port: number;
  firstTtl: number;
  maxTtl: number;
  rounds: number;
  timeoutMs: number;
  probeIntervalMs: number;
  roundIntervalMs: number;
  mtu: boolean;
}

function settingsOf(o: TraceOptions): Settings {
  const proto = o.proto ?? DEFAULT_PROTOCOL;
  const s: Settings = {
    proto,
    port: o.port ?? (proto === 'tcp' ? DEFAULT_TCP_PORT : DEFAULT_UDP_PORT),
    firstTtl: o.firstTtl ?? DEFAULT_FIRST_TTL,
    maxTtl: o.maxTtl ?? DEFAULT_MAX_TTL,
    rounds: o.rounds ?? DEFAULT_ROUNDS,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    probeIntervalMs: o.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
    roundIntervalMs: o.roundIntervalMs ?? DEFAULT_ROUND_INTERVAL_MS,
    mtu: o.mtu ?? false,
  };
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!['udp', 'tcp', 'icmp'].includes(proto)) throw new UsageError(`unknown probe protocol '${proto}'`, 'use --proto tcp, udp or icmp');
  if (!int(s.port, 1, 65535)) throw new UsageError(`bad port ${s.port}`, 'a port is 1–65535');
  if (!int(s.maxTtl, 1, MAX_TTL_LIMIT)) throw new UsageError(`bad max TTL ${s.maxTtl}`, `--max-ttl is 1–${MAX_TTL_LIMIT}`);
  if (!int(s.firstTtl, 1, s.maxTtl)) throw new UsageError(`bad first TTL ${s.firstTtl}`, 'the first TTL is 1..max TTL');
  if (!int(s.rounds, 1, MAX_ROUNDS)) throw new UsageError(`bad rounds ${s.rounds}`, `--rounds is 1–${MAX_ROUNDS}`);
  if (!(s.timeoutMs > 0 && s.timeoutMs <= 60000)) throw new UsageError(`bad timeout ${s.timeoutMs} ms`, '--timeout is in seconds, more than 0 and at most 60');
  if (!(s.probeIntervalMs >= 0) || !(s.roundIntervalMs >= 0)) throw new UsageError('bad probe pacing', 'intervals are ≥ 0 ms');
  if (s.mtu && proto === 'tcp') {
    throw new UsageError('--mtu needs udp or icmp probes', 'a SYN carrying data is refused or answered oddly; the MTU is the links\', the same for every protocol: add --proto udp or --proto icmp');
  }
  return s;
}

/** Traces one address (already resolved). */
export async function traceAddress(address: string, options: TraceOptions = {}, deps: TraceDeps = {}): Promise<AddressTrace> {
  const s = settingsOf(options);
  const family = familyOf(address);
  if (family === null) throw new UsageError(`not an IP address: ${address}`, 'give an IPv4 or IPv6 address, or use traceRoute for a name');
  const random = deps.random ?? randomInt;
  const network = (deps.network ?? openRawNetwork)(family, s.proto);
  try {
    const source = await network.sourceAddressFor(address);
    const flow = makeFlow({
      family,
      protocol: s.proto,
      source,
      destination: address,
      srcPort: port(s.proto === 'icmp' ? 0 : random(SOURCE_PORT_MIN, SOURCE_PORT_MAX + 1)),
      dstPort: port(s.proto === 'icmp' ? 0 : s.port),
      identifier: traceIdentifier(random(1, 0x10000)),
    });
    const probes = s.rounds * (s.maxTtl - s.firstTtl + 1);
    const sequenceBase = random(1, 0x10000 - Math.max(probes, MAX_PROBES) - MTU_MAX_PROBES);
    const clock = deps.clock ?? realClock;
    const outcome = await runTracer({
      flow,
      firstTtl: s.firstTtl,
      maxTtl: s.maxTtl,
      rounds: s.rounds,
      timeoutMs: s.timeoutMs,
      probeIntervalMs: s.probeIntervalMs,
      roundIntervalMs: s.roundIntervalMs,
      silentHorizonHops: SILENT_HORIZON_HOPS,
      reprobeMinIntervalMs: REPROBE_MIN_INTERVAL_MS,
      sequenceBase,
      signal: options.signal,
    }, network, clock);
    const trace = analyzeTrace(flow, outcome, s.firstTtl, s.maxTtl);
    if (s.mtu && !outcome.aborted) {
      // Sizes are tested against the farthest hop that answers small probes with time-exceeded
      // or as the destination (an unreachable answers every size the same way).
      const answering = trace.hops.filter((h) => h.responders.some((r) => r.kinds.includes('time-exceeded')));
      const targetTtl = trace.reachedAtTtl ?? answering.at(-1)?.ttl ?? null;
      trace.pathMtu = await discoverPathMtu({
        flow,
        hops: trace.hops,
        firstTtl: s.firstTtl,
        targetTtl,
        targetIsDestination: trace.reachedAtTtl !== null,
        timeoutMs: s.timeoutMs,
        probeIntervalMs: s.probeIntervalMs,
        sequenceBase: sequenceBase + probes,
        signal: options.signal,
      }, network, clock);
    }
    return trace;
  } finally {
    network.close();
  }
}

/**
 * Traces `host` (a name or an address) with `options.proto` probes. A name with several
 * addresses (several load-balancer nodes) gets one trace per address.
 */
export async function traceRoute(host: string, options: TraceOptions = {}, deps: TraceDeps = {}): Promise<TraceResult> {
  const s = settingsOf(options);
  // Without privilege, say so before a name is looked up (an address needs no lookup).
  if (!deps.network && familyOf(host.replace(/^\[(.*)\]$/, '$1')) === null) checkRawSocketPrivilege();
  const addresses = await resolveTargets(host, options.family, deps.resolver ?? systemResolver);
  const traces = await tracePool(addresses, (address) => traceAddress(address, options, deps), options.signal);
  const failing = traces.find((t) => t.status !== 'reached');
  return {
    schema: 'flowtrace.trace/1',
    host,
    addresses,
    proto: s.proto,
    port: s.proto === 'icmp' ? null : s.port,
    maxTtl: s.maxTtl,
    rounds: s.rounds,
    timeoutMs: s.timeoutMs,
    status: failing ? failing.status : 'reached',
    failureSource: failing ? failing.failureSource : null,
    destinationReached: traces.length > 0 && !failing,
    traces,
  };
}

/**
 * Traces addresses MAX_PARALLEL_ADDRESSES at a time; results in the order of `addresses`.
 * Addresses not started before an abort are left out (as they were one by one).
 */
async function tracePool(addresses: string[], one: (address: string) => Promise<AddressTrace>, signal: AbortSignal | undefined): Promise<AddressTrace[]> {
  const results: Array<AddressTrace | undefined> = new Array(addresses.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < addresses.length && !signal?.aborted) {
      const i = next++;
      results[i] = await one(addresses[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_ADDRESSES, addresses.length) }, worker));
  return results.filter((t): t is AddressTrace => t !== undefined);
}
