/**
 * `flowtrace analyze FILE|- [FILTER…] [--ifmap FILE] [--request ID] [--json]`
 *
 * Reads a capture and tells its story: TCP connections, HTTP exchanges, the path of each
 * packet through the host (ens5 → docker0 → veth) with the NAT rewrites, and what went
 * wrong. docs/analyze.md is the user documentation (and the JSON schema).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { CaptureFormatError, EXIT, FlowtraceError, InputError, UsageError } from '../../errors.js';
import { filteredCaptureStream, parseIfmap, readIfmapText, type ReadProgress } from '../../capture/index.js';
import {
  analyzeCapture, boundsSummary, renderAnalysis, requestMatcher, DEFAULT_MAX_MEMORY_MB, FLOW_DEFAULTS, MAX_INTERFACES, MIN_MAX_MEMORY_MB, OTHER_INTERFACES,
  type FlowAnalysis, type FlowOptions,
} from '../../flow/index.js';
import { REDACTED, redactionPolicy, type RedactionPolicy } from '../../redaction.js';

const HELP = `usage: flowtrace analyze FILE|- [FILTER…] [--ifmap FILE] [--request ID] [--json]
       flowtrace analyze -r FILE [FILTER…] [options]

Reads a pcap/pcapng capture (- for stdin), or the text tcpdump printed (tcpdump -nn; what
text cannot carry is said in warnings), and shows, for each HTTP exchange, the path of the
request and of the response through the host — e.g.
  ALB node 172.31.0.10 → ens5 → docker0 → veth3f2a1b9 → container 172.17.0.2:8080 → HTTP 200 (1.3 ms)
with the µs between observation points, the NAT mapping, the handshake, and anomalies
(SYN unanswered or not forwarded, RST from the container, retransmissions, zero window…).
A capture made with tcpdump -i any shows each packet once per interface it crosses: those
copies are folded into one packet with several hops.

  -r FILE           the capture, spelled as in tcpdump (then every word is FILTER)
  -n, -nn           accepted for tcpdump muscle memory (flowtrace never resolves names)
  FILTER            pcap-filter expression applied by tcpdump (e.g. host 172.31.0.10).
                    Remember the in-host legs carry the translated port (80 → 8080).
  --ifmap FILE      interface index → name map for -i any (SLL2) captures: the output of
                    \`ip -o link\` in the capture's namespace, "index name" lines, or JSON
  --request ID      only the exchange(s) of one request: an X-Amzn-Trace-Id Root
                    (1-67891233-abcdef012345678912345678), a client address from
                    X-Forwarded-For, or a path (/api/health)
  --json            the analysis as JSON (schema flowtrace.analysis/1, docs/analyze.md)
  --keep WHAT       all (default) | exchanges | anomalies: what to keep on huge captures
  --max-kept N      keep at most N connection / exchange / anomaly summaries (default
                    ${FLOW_DEFAULTS.maxKept}; the rest are analysed and counted; a few KiB each)
  --max-memory MB   the memory every table of the analysis is bounded from (default
                    ${DEFAULT_MAX_MEMORY_MB}, at least ${MIN_MAX_MEMORY_MB}): open and half-open connections, the stitch
                    window, held exchanges and bytes. What a bound pushes out is counted
                    and said (a SYN flood: the most recent half-open connections kept)
  --idle-timeout S  seconds without packets before a connection is summarised (default ${FLOW_DEFAULTS.idleTimeoutSec})
  --no-stitch       do not fold copies of one packet seen on several interfaces
  --journey         each connection's journey: its packets (SYN, SYN-ACK, requests,
                    responses, FIN, RST) against the path they should take through the
                    host, both ways, and the first point each stopped; --json adds
                    \`journeys\`
  --redact NAME     hide the value of header NAME: of the few analyze shows (Host,
                    X-Forwarded-For, X-Amzn-Trace-Id; never Authorization, Cookie…:
                    docs/redaction.md); repeatable

From a pipe (tcpdump -U -w - | flowtrace analyze -), Ctrl-C ends the input and the analysis
of what was read is printed; a second Ctrl-C stops at once.

exit codes: 0 analysed · 1 --request matched nothing · 2 usage · 3 unreadable or truncated
capture (the analysis of what could be read is still printed) · 5 tcpdump missing (FILTER)
· 8 bad FILTER
`;

/** Unnamed interface indexes listed in the warning; the JSON has them all (up to the interface table's bound). */
const MAX_LISTED_IFINDEXES = 20;

/** tcpdump flags typed by habit that `analyze` does not take: what to do instead. */
const PACKET_VIEW = 'analyze prints connections and exchanges, not packets: for packet lines use flowtrace read FILE';
const TCPDUMP_FLAGS_NOT_HERE: Record<string, string> = {
  '-c': 'analyze reads the whole capture (a connection needs its end); to look at the first packets: flowtrace read FILE -c N',
  '-w': 'analyze writes no capture: to save the packets matching a FILTER, tcpdump -r IN -w OUT \'FILTER\'',
  '-i': 'analyze reads a file (or - for stdin); to capture live and analyse on stop: flowtrace capture -i IFACE',
  '-s': 'a snapshot length applies when capturing (tcpdump -s, flowtrace capture); analyze reads what the file holds',
  '-e': `${PACKET_VIEW} -e`, '-x': `${PACKET_VIEW} -x`, '-X': `${PACKET_VIEW} -X`, '-A': `${PACKET_VIEW} -A`,
  '-v': `${PACKET_VIEW} -v`, '-t': `${PACKET_VIEW} -t…`, '-q': `${PACKET_VIEW} -q`,
};

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('analyze', {
    args,
    allowPositionals: true,
    options: {
      ifmap: { type: 'string' },
      request: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'string' },
      'max-kept': { type: 'string' },
      'max-memory': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'no-stitch': { type: 'boolean', default: false },
      journey: { type: 'boolean', default: false },
      redact: { type: 'string', multiple: true },
      r: { type: 'string', short: 'r' },
      n: { type: 'boolean', short: 'n', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }, undefined, TCPDUMP_FLAGS_NOT_HERE);
  const { values, positionals } = parsed;
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  // `-r FILE` as in tcpdump (then every word is FILTER), or the file as the first word.
  const words = [...positionals];
  const input = values.r ?? words.shift();
  const filter = words;
  if (input === undefined) throw new UsageError('analyze needs a capture file (or - for stdin)', 'e.g. flowtrace analyze capture.pcap --ifmap capture.ifmap');
  refuseSecondCapture('analyze', filter[0], io.cwd);

  const options: FlowOptions = {};
  if (values.ifmap !== undefined) options.ifmap = readIfmap(path.resolve(io.cwd, values.ifmap), io);
  if (values.keep !== undefined) {
    if (values.keep !== 'all' && values.keep !== 'exchanges' && values.keep !== 'anomalies') {
      throw new UsageError(`--keep must be all, exchanges or anomalies, not '${values.keep}'`, 'e.g. --keep exchanges on a capture of millions of connections');
    }
    options.keep = values.keep;
  }
  if (values['idle-timeout'] !== undefined) {
    const s = Number(values['idle-timeout']);
    if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--idle-timeout must be a positive number of seconds, not '${values['idle-timeout']}'`, 'e.g. --idle-timeout 60');
    options.idleTimeoutSec = s;
  }
  if (values['no-stitch']) options.stitch = false;
  if (values['max-kept'] !== undefined) {
    const n = Number(values['max-kept']);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--max-kept must be a whole number, not '${values['max-kept']}'`, 'e.g. --max-kept 100000 (memory grows by a few KiB per connection kept)');
    options.maxKept = n;
  }
  if (values['max-memory'] !== undefined) {
    const mb = Number(values['max-memory']);
    if (!Number.isInteger(mb) || mb < MIN_MAX_MEMORY_MB) {
      throw new UsageError(`--max-memory must be a whole number of megabytes, at least ${MIN_MAX_MEMORY_MB}, not '${values['max-memory']}'`, 'e.g. --max-memory 1000 to keep more connections open at once');
    }
    options.maxMemoryMB = mb;
  }
  const redaction = redactionPolicy(values.redact ?? []);
  // --request selects while analysing: only the matching exchanges are kept, whatever the size.
  const matcher = values.request !== undefined ? requestMatcher(values.request) : null;
  if (matcher) options.exchangeFilter = matcher.matches;

  tuneGarbageCollector();
  const warnings: string[] = [];
  /** The filter's input ended inside a record (a truncated file read through tcpdump). */
  let cutBeforeFilter = false;
  const controller = new AbortController();
  const progress: ReadProgress = { packets: 0, bytes: 0 };
  const stdin = input === '-' ? endableStdin(io.stdin) : null;
  /** Ctrl-C ended stdin: a record cut there is expected, not a damaged capture. */
  let endedByUser = false;
  const source = stdin?.stream ?? path.resolve(io.cwd, input);
  const offInterrupt = io.onInterrupt(() => {
    // From a pipe (tcpdump -U -w - | flowtrace analyze -), the first Ctrl-C ends the input and
    // the analysis of what was read is printed, as capture does on stop; the second one aborts.
    if (stdin !== null && !endedByUser) {
      endedByUser = true;
      io.stderr('flowtrace: Ctrl-C: analysing what was read so far (Ctrl-C again to stop)\n');
      stdin.end();
      return;
    }
    // A file (or the second Ctrl-C on stdin), SIGINT or SIGTERM: the reading stops within
    // ~50 ms (capture/read.ts lets the event loop run that often) and how far it got is said.
    // No analysis of a part: summarising everything still open can take seconds on a hostile
    // capture (a SYN flood), and a stop must be obeyed within a second.
    controller.abort(new FlowtraceError('INTERRUPTED', 'interrupted', 'the analysis was stopped', EXIT.interrupted));
  });
  let result;
  try {
    const stream = filter.length > 0 ? filteredCaptureStream(source, filter, controller.signal, (m) => { warnings.push(m); cutBeforeFilter = true; }) : source;
    result = await analyzeCapture(stream, { ...options, signal: controller.signal, progress, onWarning: (m) => warnings.push(m), partialOnFormatError: true });
  } catch (err) {
    if (controller.signal.aborted) throw interrupted(progress, filter.length > 0 || stdin !== null ? null : source as string, input === '-' ? 'capture.pcap' : input);
    throw err;
  } finally {
    offInterrupt();
  }
  const { analysis, read, formatError } = result;
  // A malformed record before any packet (not a capture, bad header): nothing to show but it.
  if (formatError !== null && analysis.capture.records === 0) throw formatError;
  hideHeaderValues(analysis, redaction);

  if (matcher && analysis.exchanges.length === 0 && formatError === null) {
    const total = analysis.limits.exchangesNotKept;
    io.stderr(`error[NO_MATCH]: no exchange matches ${matcher.by === 'traceId' ? 'trace id' : matcher.by === 'clientAddress' ? 'X-Forwarded-For address' : 'path'} '${values.request}' (${total} exchange${total === 1 ? '' : 's'} in the capture)\n`
      + 'hint: run without --request to list the exchanges with their trace ids, X-Forwarded-For and paths\n');
    return EXIT.failed;
  }

  // journey/ and report/ are loaded only for --journey: report/ brings follow's modules, a
  // good part of analyze's start-up (Node start-up counts in every benchmark).
  const journeys = values.journey ? (await import('../../journey/index.js')).connectionJourneys(analysis) : null;
  if (values.json) io.stdout(JSON.stringify(journeys ? { ...analysis, journeys } : analysis, null, 2) + '\n');
  else {
    io.stdout(renderAnalysis(analysis, matcher ? { exchanges: analysis.exchanges } : {}));
    if (journeys) io.stdout('\n' + (await import('../../report/index.js')).renderJourneys(journeys, { rolesFrom: 'packets' }));
  }
  const l = analysis.limits;
  if (!l.selected && (l.connectionsNotKept > 0 || l.exchangesNotKept > 0) && l.keep === 'all') {
    io.stderr(`warning: only the first ${l.maxKept} connections and exchanges are shown (${l.connectionsNotKept} connections, ${l.exchangesNotKept} exchanges more were analysed and counted): select one with --request or a FILTER, or raise --max-kept\n`);
  }
  const bounds = boundsSummary(analysis);
  if (bounds !== null && values.json) io.stderr(`warning: to stay within --max-memory ${analysis.limits.maxMemoryMB} MB: ${bounds}\n`);
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  if (analysis.capture.recordsOutOfTimeOrder > 0) {
    io.stderr(`warning: ${analysis.capture.recordsOutOfTimeOrder} packets are out of time order (tshark with several -i writes frames grouped per interface): copies cannot be stitched and timings are wrong; sort the file first: reordercap ${input} sorted.pcapng\n`);
  }
  const unmapped = analysis.capture.unmappedIfindexes;
  if (unmapped.length > 0) {
    const listed = unmapped.length > MAX_LISTED_IFINDEXES ? `${unmapped.slice(0, MAX_LISTED_IFINDEXES).join(', ')}… (${unmapped.length} in all)` : unmapped.join(', ');
    io.stderr(`warning: interface index${unmapped.length > 1 ? 'es' : ''} ${listed} of this -i any capture ${values.ifmap ? 'are not in the ifmap' : 'have no names'}: shown as ifindexN (save \`ip -o link\` where the capture was made and pass it with --ifmap)\n`);
  }
  const other = analysis.capture.interfaces.find((i) => i.interface === OTHER_INTERFACES);
  if (other !== undefined && analysis.capture.interfaces.length >= MAX_INTERFACES) {
    io.stderr(`warning: packets were seen on more than ${MAX_INTERFACES - 1} interfaces: ${other.observations} observations on the others are counted together as ${OTHER_INTERFACES}\n`);
  }
  if (formatError !== null || read === null) {
    // Like a cut capture: what was read before the malformed record is above, and said so.
    const e = formatError ?? new CaptureFormatError('the capture could not be read to its end');
    throw new CaptureFormatError(`${e.message}; the analysis above covers the ${analysis.capture.records} packets before it`, e.facts, e.hint);
  }
  if (read.truncated && endedByUser) {
    io.stderr(`warning: Ctrl-C ended the input inside a record; the analysis above covers the ${read.packets} packets before it\n`);
    return EXIT.ok;
  }
  if (read.truncated) {
    io.stderr(`error[CAPTURE_TRUNCATED]: ${read.truncated.message} (at byte ${read.truncated.atByte}); the analysis above covers the ${read.packets} packets before it\nhint: the capture was cut (still being written, or copied partly); connections at the end may look unfinished\n`);
    return EXIT.input;
  }
  return cutBeforeFilter ? EXIT.input : EXIT.ok;
}

/**
 * The only header values analyze shows are Host, X-Forwarded-For and X-Amzn-Trace-Id (the
 * flow engine keeps no other): those named with --redact are hidden (docs/redaction.md).
 * The defaults (Authorization, Cookie…) are never kept, so there is nothing of theirs to hide.
 */
function hideHeaderValues(analysis: FlowAnalysis, redaction: RedactionPolicy): void {
  const host = redaction.has('host');
  const xff = redaction.has('x-forwarded-for');
  const trace = redaction.has('x-amzn-trace-id');
  if (!host && !xff && !trace) return;
  for (const e of analysis.exchanges) {
    const r = e.request;
    if (r === null) continue;
    if (host && r.host !== null) r.host = REDACTED;
    if (xff && r.xForwardedFor !== null) r.xForwardedFor = REDACTED;
    if (trace && r.traceId !== null) r.traceId = { raw: REDACTED, root: r.traceId.root === null ? null : REDACTED, self: r.traceId.self === null ? null : REDACTED };
  }
}

/** How far the reading got when a stop came: packets, and bytes of the file when it is one. */
function interrupted(progress: ReadProgress, file: string | null, shown: string): FlowtraceError {
  const n = progress.packets;
  let where = '';
  if (file !== null) {
    let size: number | null = null;
    try { size = statSync(file).size; } catch { /* said without the size */ }
    where = size !== null && size > 0
      ? ` (${mib(progress.bytes)} of ${mib(size)} MiB, ${Math.floor((100 * progress.bytes) / size)}%)`
      : ` (${mib(progress.bytes)} MiB)`;
  }
  return new FlowtraceError('INTERRUPTED', `analyze was interrupted after reading ${n} packet${n === 1 ? '' : 's'}${where}; nothing is printed for part of a capture`,
    n > 0 ? `let it run to the end, or analyse a part on purpose: editcap -r ${shown} part.pcapng 1-${n}, or narrow it with a FILTER (host 10.0.0.5) or --request`
      : 'let it run to the end (no packet had been read yet)',
    EXIT.interrupted, { packets: n, bytes: progress.bytes });
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/**
 * stdin through a PassThrough that end() closes at once: what stdin already holds is passed
 * on, the rest is left unread. Keeps isTTY, so a terminal is still refused by the reader.
 */
function endableStdin(stdin: NodeJS.ReadableStream): { stream: NodeJS.ReadableStream; end(): void } {
  const stream = Object.assign(new PassThrough(), { isTTY: (stdin as { isTTY?: boolean }).isTTY });
  if (stream.isTTY !== true) stdin.pipe(stream);
  return {
    stream,
    end() {
      stdin.unpipe(stream);
      for (let chunk = stdin.read(); chunk !== null; chunk = stdin.read()) stream.write(chunk);
      stream.end();
      (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    },
  };
}

/**
 * Connection state lives long enough to be promoted to V8's old space, then dies there; by
 * default V8 lets the old space grow up to 4× what survived the last full collection before
 * the next one, which put the peak RSS of the 3-interface benchmark capture at ~190 MiB.
 * Growing by 1.5× keeps it at ~130 MiB for a few % more CPU (docs/analyze.md, "Memory").
 * A --heap-growing-percent given in NODE_OPTIONS or on node's command line wins.
 */
const HEAP_GROWING_PERCENT = 50;

function tuneGarbageCollector(): void {
  const given = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  if (/heap[-_]growing[-_]percent/.test(given)) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

function readIfmap(file: string, io: CliIO): Map<number, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the ifmap ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give the output of `ip -o link` saved in the capture\'s namespace', { path: file });
  }
  const map = parseIfmap(text);
  // Lines it could not read are skipped, never an error for the whole map: said once.
  const note = readIfmapText(text).note;
  if (note !== null) io.stderr(`warning: ${note}\n`);
  return map;
}

/**
 * `flowtrace analyze a.pcap b.pcap`: the second file would be taken as FILTER and libpcap's
 * "syntax error" would not say why. One capture per run, as tcpdump -r; mergecap joins them.
 */
function refuseSecondCapture(command: string, firstFilterWord: string | undefined, cwd: string): void {
  if (firstFilterWord === undefined || !/\.(pcap|pcapng|cap)(\.gz)?$/i.test(firstFilterWord)) return;
  if (!existsSync(path.resolve(cwd, firstFilterWord))) return;
  throw new UsageError(`${command} reads one capture; '${firstFilterWord}' would be taken as FILTER`, `join captures first: mergecap -w all.pcapng a.pcap b.pcap, then flowtrace ${command} all.pcapng`);
}
