/**
 * `flowtrace read FILE|- [FILTER…]`: prints the packets of a pcap/pcapng capture one line
 * each, the way `tcpdump -n -r FILE` does — decoded and printed by flowtrace's own code.
 * A FILTER is applied by libpcap: the input is piped through `tcpdump -r - -w - FILTER`
 * (argv array, no shell) and the matching packets are read back from its output.
 * Options and JSON fields: docs/read.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { filterCapture, parseIfmap, readIfmapText, readCapture, type CaptureInterface, type FilteredCapture, type PacketRecord, type ReadSummary } from '../../capture/index.js';
import { createDecoder, PacketPrinter, packetToJson, timestampStyleFromCount, type PrintOptions } from '../../decode/index.js';
import { CaptureFormatError, EXIT, FlowtraceError, InputError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = `usage: flowtrace read FILE|- [FILTER…] [options]

Prints each packet of a pcap/pcapng capture on one line, like tcpdump -n -r FILE.
FILTER is a tcpdump (libpcap) filter expression, e.g.  tcp port 80 and host 10.0.0.2

options:
  -r FILE              the capture (tcpdump's spelling; the same as giving FILE first)
  -c N                 stop after N packets (counted after the filter and --skip)
  --skip N             do not print (or decode) the first N packets
  -v, -vv, -vvv        verbose: IP header fields (TTL, ID, flags, options), checksums, DNS record
                       names, the packet quoted in ICMP errors; -vv adds UDP checksums and every
                       DNS section, -vvv DNS TTLs
  -g                   with -v: no line break after the IP header
  -x | -X | -A         the packet in hex / hex and ASCII / ASCII after its line;
  -xx | -XX | -AA      the same including the link-level header
  --print-sampling N   print only every Nth packet (the others are not decoded)
  -T domain            decode every TCP/UDP payload as DNS, whatever the ports
  --json               one JSON object per packet (fields: docs/read.md)
  -t | -tt | -ttt | -tttt | -ttttt
                       no time / epoch seconds / delta to previous / date+time / delta to first
  --nano               nanosecond timestamps (also --time-stamp-precision=nano)
  -#                   number the packets
  -S                   absolute TCP sequence numbers
  -e                   print the link-level header
  -q                   short protocol lines
  -n, -nn              accepted for tcpdump muscle memory (flowtrace never resolves names)
  -l                   accepted: lines are written as packets come (e.g. from tcpdump -U -w -)
  --ifmap FILE         ifindex → name map of the capture machine for -i any (SLL2) captures:
                       the output of \`ip -o link\`, lines "INDEX NAME", or JSON {"2":"ens5"}
  -h, --help           this help

exit codes: 0 ok, 2 usage, 3 unreadable/truncated/malformed capture, 5 tcpdump missing (filter),
8 the filter was rejected by libpcap, 130 interrupted (Ctrl-C; what was printed stays).
`;

/** tcpdump flags typed by habit that `read` does not take: what to do instead. */
const TCPDUMP_FLAGS_NOT_HERE: Record<string, string> = {
  '-w': 'read prints packets and writes no capture: to save the packets matching a FILTER, tcpdump -r IN -w OUT \'FILTER\'; to capture into a file, flowtrace capture -w FILE.pcapng',
  '-i': 'read reads a file (or - for stdin); to capture live: flowtrace capture -i IFACE; for the interface names of an -i any capture: --ifmap FILE',
  '-s': 'a snapshot length applies when capturing (tcpdump -s, flowtrace capture); read prints what the file holds',
  '-D': 'to list interfaces: ip -br link (or tcpdump -D)',
  '-F': 'give the FILTER after the file, e.g. flowtrace read x.pcap "$(cat filter.txt)"',
  '-U': '-U matters with -w; read writes no capture (and its lines appear as packets come)',
  '-K': 'flowtrace verifies checksums only with -v, and never drops a packet for a bad one: drop -K',
  '--redact': 'read prints what the capture holds, as tcpdump does (docs/redaction.md): header values are hidden by http, follow, report and the agent\'s results (analyze shows none), not here',
};

/** Lines are written in batches of about this many characters (one write per batch). */
const OUTPUT_BATCH_CHARS = 64 * 1024;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('read', {
    args,
    allowPositionals: true,
    options: {
      c: { type: 'string', short: 'c' },
      r: { type: 'string', short: 'r' },
      skip: { type: 'string' },
      g: { type: 'boolean', short: 'g' },
      json: { type: 'boolean' },
      t: { type: 'boolean', short: 't', multiple: true },
      nano: { type: 'boolean' },
      'time-stamp-precision': { type: 'string' },
      number: { type: 'boolean', short: '#' },
      S: { type: 'boolean', short: 'S' },
      e: { type: 'boolean', short: 'e' },
      q: { type: 'boolean', short: 'q' },
      v: { type: 'boolean', short: 'v', multiple: true },
      x: { type: 'boolean', short: 'x', multiple: true },
      X: { type: 'boolean', short: 'X', multiple: true },
      A: { type: 'boolean', short: 'A', multiple: true },
      'print-sampling': { type: 'string' },
      T: { type: 'string', short: 'T' },
      n: { type: 'boolean', short: 'n', multiple: true },
      l: { type: 'boolean', short: 'l' },
      ifmap: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, undefined, TCPDUMP_FLAGS_NOT_HERE);
  const v = parsed.values;
  if (v.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  // `-r FILE` as in tcpdump, or the file as the first word.
  const words = [...parsed.positionals];
  const input = v.r ?? words.shift();
  const filterWords = words;
  if (input === undefined) throw new UsageError('read needs a capture file (or - for stdin)', 'flowtrace read capture.pcap [FILTER]');
  refuseSecondCapture('read', filterWords[0], io.cwd);
  let limit = Infinity;
  if (v.c !== undefined) {
    if (!/^[0-9]+$/.test(v.c) || Number(v.c) < 1) throw new UsageError(`-c wants a positive packet count, not '${v.c}'`, 'e.g. flowtrace read x.pcap -c 10');
    limit = Number(v.c);
  }
  let skip = 0;
  if (v.skip !== undefined) {
    if (!/^[0-9]+$/.test(v.skip)) throw new UsageError(`--skip wants a packet count, not '${v.skip}'`, 'e.g. flowtrace read x.pcap --skip 100 -c 10');
    skip = Number(v.skip);
  }
  let sampling = 1;
  if (v['print-sampling'] !== undefined) {
    if (!/^[0-9]+$/.test(v['print-sampling']) || Number(v['print-sampling']) < 1) throw new UsageError(`--print-sampling wants a positive number, not '${v['print-sampling']}'`, 'e.g. flowtrace read x.pcap --print-sampling 100 (every 100th packet)');
    sampling = Number(v['print-sampling']);
  }
  const dump: PrintOptions['dump'] = v.X?.length ? (v.X.length > 1 ? 'hex-ascii-link' : 'hex-ascii')
    : v.x?.length ? (v.x.length > 1 ? 'hex-link' : 'hex')
      : v.A?.length ? (v.A.length > 1 ? 'ascii-link' : 'ascii') : 'none';
  if (v.T !== undefined && v.T !== 'domain') throw new UsageError(`-T ${v.T} is not supported (flowtrace knows -T domain)`, 'drop -T, or use -T domain to force DNS decoding');
  const precisionArg = v['time-stamp-precision'];
  if (precisionArg !== undefined && precisionArg !== 'micro' && precisionArg !== 'nano') {
    throw new UsageError(`--time-stamp-precision wants micro or nano, not '${precisionArg}'`, 'e.g. --time-stamp-precision=nano (the same as --nano)');
  }
  // SLL2 interface names: the --ifmap given, else the pcapng interface's if_name (flowtrace
  // capture -w writes one IDB per real interface), else this machine's names like tcpdump.
  const explicitMap = v.ifmap !== undefined ? lookupIn(loadIfmap(resolvePath(io.cwd, v.ifmap), io)) : null;
  const localNames = thisMachineInterfaceName();
  const current = { idbName: null as string | null };
  const interfaceName = (ifindex: number): string | null => {
    if (explicitMap !== null) return explicitMap(ifindex);
    if (current.idbName !== null && current.idbName !== 'any') return current.idbName;
    return localNames(ifindex);
  };
  const printOptions: PrintOptions = {
    timestamps: timestampStyleFromCount(v.t?.length ?? 0),
    precision: v.nano || precisionArg === 'nano' ? 'nano' : 'micro',
    numbered: v.number ?? false,
    absoluteSeq: v.S ?? false,
    linkHeader: v.e ?? false,
    quiet: v.q ?? false,
    verbose: Math.min(v.v?.length ?? 0, 3),
    noIpLineBreak: v.g ?? false,
    dump,
    packetType: v.T === 'domain' ? 'domain' : 'none',
    interfaceName,
  };
  const path = input === '-' ? '-' : resolvePath(io.cwd, input);
  const filter = filterWords.join(' ').trim();
  return readAndPrint(io, path, filter, skip, limit, sampling, v.json ?? false, printOptions, current);
}

async function readAndPrint(io: CliIO, path: string, filter: string, skip: number, limit: number, sampling: number, json: boolean, printOptions: PrintOptions, current: { idbName: string | null }): Promise<number> {
  const decoder = createDecoder();
  const printer = new PacketPrinter(printOptions);
  const abort = new AbortController();
  const interfaces = new Map<number, CaptureInterface>();
  /** The original file's interfaces when a filter rewrote it to pcap (capture/filter.ts). */
  let originalInterfaces: () => CaptureInterface[] = () => [];
  let count = 0;
  let skipped = 0;
  let batch = '';
  let stdoutGone = false;
  const flush = (): void => {
    if (batch.length === 0 || stdoutGone) return;
    try {
      io.stdout(batch);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      stdoutGone = true;
      abort.abort(new Error('stdout closed'));
    }
    batch = '';
  };
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') {
      stdoutGone = true;
      abort.abort(new Error('stdout closed'));
    }
  };
  process.stdout.on('error', onStdoutError);
  const events = {
    onInterface(iface: CaptureInterface): void {
      interfaces.set(iface.id, iface);
    },
    onSection(): void {
      interfaces.clear();
    },
    onPacket(record: PacketRecord): void {
      if (count >= limit || stdoutGone) return;
      if (skipped < skip) { skipped++; return; } // like tcpdump --skip: not decoded, no TCP state
      count++;
      if (sampling > 1 && count % sampling !== 0) return; // --print-sampling: only every Nth is printed
      const decoded = decoder.decode(record.linkType, record.data);
      const iface = interfaces.get(record.interfaceId);
      const original = originalInterfaces();
      const ifaceName = iface?.name ?? (original.length === 1 ? original[0].name : null);
      current.idbName = ifaceName;
      if (json) {
        batch += JSON.stringify(packetToJson(record, decoded, printer, ifaceName, printOptions.interfaceName)) + '\n';
      } else {
        batch += printer.format(record, decoded) + '\n';
      }
      if (batch.length >= OUTPUT_BATCH_CHARS) flush();
      if (count >= limit) abort.abort(new Error('packet limit reached'));
    },
  };
  /**
   * After each chunk of input: its lines are written (a pipe from a live tcpdump -U -w -
   * shows packets as they come, not 64 KiB later), and a slow reader of our output (| less)
   * holds the reading back instead of every line queueing in memory.
   */
  const pace = (): Promise<void> | void => {
    flush();
    if (!stdoutGone && io.stdoutDrained) return io.stdoutDrained();
  };
  let summary: ReadSummary | null = null;
  let filterTruncated: string | null = null;
  let filtered: FilteredCapture | null = null;
  const unregister = io.onInterrupt(() => abort.abort(new Error('interrupted')));
  try {
    if (filter === '') {
      summary = await readCapture(path === '-' ? io.stdin : path, events, { signal: abort.signal, pace });
    } else {
      filtered = filterCapture(path === '-' ? io.stdin : path, [filter]);
      originalInterfaces = filtered.originalInterfaces;
      try {
        summary = await readCapture(filtered.output, events, { signal: abort.signal, pace });
      } catch (err) {
        if (!abort.signal.aborted) await filtered.done.catch((e: unknown) => { throw e; });
        throw err;
      }
      if (!abort.signal.aborted) filterTruncated = await filtered.done;
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      // A malformed record after some packets: they stay printed, and the error says so.
      if (err instanceof CaptureFormatError && count > 0) throw new CaptureFormatError(`${err.message}; the ${count} packet${count === 1 ? '' : 's'} before it were printed`, err.facts, err.hint);
      throw err;
    }
    // Stopped on purpose (-c reached, stdout closed, Ctrl-C): not an error.
  } finally {
    unregister();
    filtered?.stop();
    flush();
    process.stdout.off('error', onStdoutError);
  }
  const reason = abort.signal.aborted ? String((abort.signal.reason as Error)?.message) : '';
  // Like analyze and follow: one line and a hint (main prints them), after the lines printed.
  if (reason === 'interrupted') {
    throw new FlowtraceError('INTERRUPTED', `read was interrupted after ${count} packet${count === 1 ? '' : 's'}`, 'the packets above were printed; to stop after N packets on purpose: -c N', EXIT.interrupted, { packets: count });
  }
  if (summary?.truncated) {
    io.stderr(`warning: ${summary.truncated.message}; the ${count} packet(s) before it were printed\n`);
    return EXIT.input;
  }
  if (filterTruncated !== null) {
    io.stderr(`warning: the input ends inside a record (libpcap: ${filterTruncated}); the ${count} matching packet(s) before it were printed\n`);
    return EXIT.input;
  }
  return EXIT.ok;
}

function loadIfmap(file: string, io: CliIO): Map<number, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the ifmap ${file}: ${(err as Error).message}`, 'save the map on the capture machine with: ip -o link > ifmap.txt', { file });
  }
  // One parser for every form (ip -o link, ip link, ip -j link, JSON, INDEX NAME): capture/ifmap.
  const map = parseIfmap(text);
  const note = readIfmapText(text).note;
  if (note !== null) io.stderr(`warning: ${note}\n`);
  return map;
}

function lookupIn(map: Map<number, string>): (ifindex: number) => string | null {
  return (ifindex) => map.get(ifindex) ?? null;
}

/** Without --ifmap, like tcpdump: the names of this machine's interfaces (if_indextoname). */
function thisMachineInterfaceName(): (ifindex: number) => string | null {
  let map: Map<number, string> | null = null;
  return (ifindex) => {
    if (map === null) {
      map = new Map();
      try {
        for (const name of readdirSync('/sys/class/net')) {
          try {
            map.set(Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()), name);
          } catch { /* interface vanished */ }
        }
      } catch { /* no sysfs: names stay unknown */ }
    }
    return map.get(ifindex) ?? null;
  };
}

/**
 * `flowtrace read a.pcap b.pcap`: the second file would be taken as FILTER and libpcap's
 * "syntax error" would not say why. One capture per run, as tcpdump -r; mergecap joins them.
 */
function refuseSecondCapture(command: string, firstFilterWord: string | undefined, cwd: string): void {
  if (firstFilterWord === undefined || !/\.(pcap|pcapng|cap)(\.gz)?$/i.test(firstFilterWord)) return;
  if (!existsSync(resolvePath(cwd, firstFilterWord))) return;
  throw new UsageError(`${command} reads one capture; '${firstFilterWord}' would be taken as FILTER`, `join captures first: mergecap -w all.pcapng a.pcap b.pcap, then flowtrace ${command} all.pcapng`);
}
