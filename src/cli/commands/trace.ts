/**
 * `flowtrace trace HOST [--proto tcp|udp|icmp] [--port N] [--max-ttl N] [--rounds N]
 *  [--timeout S] [-4|-6] [--mtu] [--json]` — flowtrace's own traceroute (docs/trace.md); traceroute/mtr
 * short flags: -I -T -U -m -f -q -w -p -n, mtr -c -r.
 * Exit codes: 0 every address reached; 6 (network) a destination not reached (stopped,
 * unreachable, no reply) or the name does not resolve; 4 no raw-socket privilege; 2 usage;
 * 130 interrupted (the partial trace is printed).
 */
import { EXIT, isFlowtraceError, UsageError } from '../../errors.js';
import { renderTrace, traceRoute, TRACE_DEFAULTS, type TraceOptions, type TraceProtocol, type TraceResult } from '../../trace/index.js';
import { reportError } from '../main.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const HELP = `usage: flowtrace trace HOST [options]

Traces the route to HOST (a name: every address it resolves to is traced) with its own
probe engine: all TTLs in parallel, one constant flow per trace (Paris traceroute), several
rounds for per-hop loss and RTT, replies matched through the quoted original packet.

options (traceroute's and mtr's short flags in brackets):
  --proto P      udp (default), tcp (SYN to the service port) or icmp (echo)   [-P P]
  -I, -T, -U     --proto icmp, tcp, udp (traceroute -I / -T / -U)
  --port N       destination port: tcp default 80, udp default 33434           [-p N]
  --max-ttl N    highest TTL / hop limit (default 30, at most 64)              [-m N]
  --first-ttl N  lowest TTL (default 1)                                        [-f N]
  --rounds N     probes per hop (default 3, at most 100): loss % and RTT       [-q N, mtr -c N]
                 min/avg/max
  --timeout S    longest wait for a reply, seconds (default 2)                 [-w S]
  -4, -6         only IPv4 / only IPv6 addresses of HOST
  --mtu          then find the path MTU and the hop where it drops, as tracepath
                 does (pmtu N), black holes included (udp or icmp probes)
  -n, -r         accepted: hops are never looked up by name (traceroute -n),
                 the output is always mtr's report (mtr -r)
  --json         print the result as JSON (schema flowtrace.trace/1)
needs root or CAP_NET_RAW (raw sockets).
exit codes: 0 reached; 6 not reached or unknown host; 4 no privilege; 2 usage; 130 interrupted
`;

function intOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} needs a whole number, got '${v}'`, `e.g. --${name} 5`);
  return Number(v);
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('trace', {
    args,
    allowPositionals: true,
    strict: true,
    options: {
      proto: { type: 'string', short: 'P' },
      port: { type: 'string', short: 'p' },
      'max-ttl': { type: 'string', short: 'm' },
      'first-ttl': { type: 'string', short: 'f' },
      rounds: { type: 'string', short: 'q' },
      count: { type: 'string', short: 'c' },
      icmp: { type: 'boolean', short: 'I' },
      tcp: { type: 'boolean', short: 'T' },
      udp: { type: 'boolean', short: 'U' },
      numeric: { type: 'boolean', short: 'n' },
      report: { type: 'boolean', short: 'r' },
      timeout: { type: 'string', short: 'w' },
      '4': { type: 'boolean' },
      '6': { type: 'boolean' },
      json: { type: 'boolean' },
      mtu: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) { io.stdout(HELP); return EXIT.ok; }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'trace needs a HOST' : `trace takes one HOST, got ${parsed.positionals.length}`, 'usage: flowtrace trace HOST [--proto tcp|udp|icmp] [--port N] …');
  }
  // traceroute's -I / -T / -U pick the protocol as --proto does; two different picks are refused.
  const picked = [...new Set([...(v.proto !== undefined ? [v.proto.toLowerCase()] : []), ...(v.icmp ? ['icmp'] : []), ...(v.tcp ? ['tcp'] : []), ...(v.udp ? ['udp'] : [])])];
  if (picked.length > 1) throw new UsageError(`two probe protocols: ${picked.join(' and ')}`, 'give one of --proto P, -I (icmp), -T (tcp), -U (udp)');
  if (v.rounds !== undefined && v.count !== undefined) throw new UsageError('-q/--rounds and -c together', 'they are the same count of probes per hop (mtr calls it -c): give one');
  const proto = picked[0] ?? 'udp';
  if (proto !== 'udp' && proto !== 'tcp' && proto !== 'icmp') throw new UsageError(`unknown probe protocol '${v.proto}'`, 'use --proto tcp, udp or icmp');
  if (v['4'] && v['6']) throw new UsageError('-4 and -6 together', 'give one of them, or neither for every address');
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    const s = Number(v.timeout);
    if (!/^\d*\.?\d+$/.test(v.timeout) || !(s > 0) || s > 60) throw new UsageError(`bad --timeout '${v.timeout}'`, 'seconds, more than 0 and at most 60, e.g. --timeout 1.5');
    timeoutMs = s * 1000;
  }
  const controller = new AbortController();
  const options: TraceOptions = {
    proto: proto as TraceProtocol,
    port: intOption('port', v.port),
    maxTtl: intOption('max-ttl', v['max-ttl']),
    firstTtl: intOption('first-ttl', v['first-ttl']),
    rounds: v.count !== undefined ? intOption('count', v.count) : intOption('rounds', v.rounds),
    timeoutMs,
    family: v['4'] ? 4 : v['6'] ? 6 : undefined,
    mtu: v.mtu === true,
    signal: controller.signal,
  };
  if (proto === 'icmp' && v.port !== undefined) throw new UsageError('--port has no meaning with --proto icmp', 'drop --port, or use --proto tcp/udp');
  let interrupted = false;
  const off = io.onInterrupt(() => { interrupted = true; controller.abort(); });
  try {
    let result: TraceResult;
    try {
      result = await traceRoute(parsed.positionals[0], options);
    } catch (err) {
      // --json keeps its promise for a name that does not resolve: a result (status failed,
      // failureSource resolver, no traces) on stdout, as dns and http do; the error on stderr.
      if (!v.json || !isFlowtraceError(err) || err.facts.failureSource !== 'resolver') throw err;
      io.stdout(JSON.stringify(unresolvedResult(parsed.positionals[0]!, options, { code: err.code, message: err.message, hint: err.hint }), null, 2) + '\n');
      return reportError(err, io);
    }
    io.stdout(v.json ? JSON.stringify(result, null, 2) + '\n' : renderTrace(result));
    if (interrupted) return EXIT.interrupted;
    return result.destinationReached ? EXIT.ok : EXIT.network;
  } finally {
    off();
  }
}

/** The --json result for a host that did not resolve (schema flowtrace.trace/1, plus `error`). */
function unresolvedResult(host: string, o: TraceOptions, error: { code: string; message: string; hint: string }): TraceResult & { error: typeof error } {
  const proto = o.proto ?? TRACE_DEFAULTS.DEFAULT_PROTOCOL;
  return {
    schema: 'flowtrace.trace/1',
    host,
    addresses: [],
    proto,
    port: proto === 'icmp' ? null : o.port ?? (proto === 'tcp' ? TRACE_DEFAULTS.DEFAULT_TCP_PORT : TRACE_DEFAULTS.DEFAULT_UDP_PORT),
    maxTtl: o.maxTtl ?? TRACE_DEFAULTS.DEFAULT_MAX_TTL,
    rounds: o.rounds ?? TRACE_DEFAULTS.DEFAULT_ROUNDS,
    timeoutMs: o.timeoutMs ?? TRACE_DEFAULTS.DEFAULT_TIMEOUT_MS,
    status: 'failed',
    failureSource: 'resolver',
    destinationReached: false,
    traces: [],
    error,
  };
}
