/**
 * `flowtrace capture [-i IFACE|any] [FILTER…] [-w FILE.pcapng] [-c N] [--for DURATION] [--json]`
 *
 * Live capture with tcpdump as the engine: packets printed as they come, like
 * `tcpdump -i any -nn` (interface and direction first), and on stop (Ctrl-C, -c, --for)
 * the analysis: exchanges, in-host paths, NAT mappings, anomalies, kernel drops.
 * docs/capture.md is the user documentation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, UsageError, InputError } from '../../errors.js';
import { TCPDUMP_DEFAULTS, startCapture, readLinks, requireCaptureTools, ifmapOf, describeAttribution, livePcapngBytes, type LiveCapture, type LiveCaptureResult } from '../../capture/live/index.js';
import { createDecoder } from '../../decode/index.js';
import { renderAnalysis } from '../../flow/index.js';
import { analyzeLivePackets, createLivePrinter, packetHopComments, isoTime, SERVER_MODES, type ServerMode } from '../../agent/index.js';
import { connectRemote, REMOTE_CAPTURE, type RemoteServer } from '../../remote/index.js';
import { agentCapture, agentFits } from './capture-agent.js';

const HELP = `usage: flowtrace capture [-i IFACE|any]… [FILTER…] [-w FILE.pcapng] [-c N] [--for DURATION]
                         [--json] [-q] [--no-follow-nat] [--netns NAME]
                         [--server ssh://[user@]host[:port] [--server-mode auto|agent|agentless]]

Live capture (tcpdump runs as the engine; root or CAP_NET_RAW needed). Packets are printed
as they come, like tcpdump -i any -nn, with the interface and direction first; on stop
(Ctrl-C, -c, --for) the analysis follows: HTTP exchanges, their path through the host
(ens5 → docker0 → veth), NAT mappings, anomalies, and packets dropped by the kernel.

  -i IFACE          interface (repeatable, or a,b); default any. Packets keep their
                    interface and direction either way (the engine always uses -i any).
  FILTER            pcap-filter expression, as tcpdump (e.g. port 80)
  -w FILE.pcapng    write the packets: one interface block per interface, in time order,
                    with flowtrace's notes as packet comments (tshark/Wireshark show both)
  -c N              stop after N packets
  --for DURATION    stop after DURATION (e.g. 10s, 500ms, 2m)
  --json            print one JSON document at the end instead of text
  -q, --quiet       do not print each packet
  -n, -nn, -l       accepted for tcpdump muscle memory (no names are resolved; each packet's
                    line is written as it comes)
  --no-follow-nat   capture exactly FILTER (by default port filters follow Docker's DNAT,
                    e.g. port 80 also captures the container's port 8080)
  --netns NAME      capture inside that network namespace (ip netns exec NAME …)
  --server ssh://…  capture on that server over ssh: only tcpdump (and sudo) are needed
                    there (agentless: the stream is analysed here); at most 5 minutes
  --server-mode M   auto (default: flowtrace agent when the server has it and the
                    filter is ports only), agent, or agentless
`;

/** tcpdump flags typed by habit that `capture` does not take: what to do instead. */
const DETAIL = 'capture prints tcpdump -nn lines; for more detail write the packets with -w FILE.pcapng, then flowtrace read FILE.pcapng';
const TCPDUMP_FLAGS_NOT_HERE: Record<string, string> = {
  '-r': 'capture is live; to read a file: flowtrace read FILE (packets) or flowtrace analyze FILE (connections, exchanges)',
  '-e': `${DETAIL} -e`, '-x': `${DETAIL} -x`, '-X': `${DETAIL} -X`, '-A': `${DETAIL} -A`, '-v': `${DETAIL} -v`, '-t': `${DETAIL} -t…`,
  '-s': `flowtrace capture keeps the first ${TCPDUMP_DEFAULTS.snaplenBytes} bytes of each packet (headers and HTTP heads): drop -s`,
  '-D': 'to list interfaces: ip -br link (or tcpdump -D)',
  '-p': 'the engine captures on -i any, which has no promiscuous mode: drop -p',
  '-U': 'packets are written to -w FILE.pcapng on stop, in time order: drop -U',
};

/** `10s`, `500ms`, `2m`, `1h`, or a number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`bad duration '${text}'`, 'use e.g. 10s, 500ms, 2m, 1h');
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms <= 0 || ms > 7 * 24 * 3_600_000) throw new UsageError(`duration '${text}' out of range`, 'between 1ms and 7 days');
  return Math.round(ms);
}

/**
 * tcpdump ended without being asked (killed, its interface gone): the analysis of what it
 * caught is printed, but the capture failed — exit 8, not 0 as for a stop the user asked for.
 */
function engineFailed(result: LiveCaptureResult, pid: number | null, io: CliIO, server: string | null = null): number {
  if (result.stoppedBy !== 'engine-exit') return EXIT.ok;
  const why = result.warnings.find((w) => w.startsWith('tcpdump stopped by itself: '))?.slice('tcpdump stopped by itself: '.length) ?? 'no reason given';
  const hint = server !== null
    ? `did the connection to ${server} break (network, sshd restarted)? tcpdump there ends with it (its watchdog); the capture ends only with Ctrl-C, -c or --for`
    : 'was it killed, or did its interface or namespace go away? the capture ends only with Ctrl-C, -c or --for';
  io.stderr(`error[CAPTURE_ENGINE]: tcpdump (${server !== null ? `on ${server}, ssh pid ${pid} here` : `pid ${pid}`}) stopped by itself (${why}); what it captured is shown above\nhint: ${hint}\n`);
  return EXIT.capture;
}

/**
 * -w is checked before the capture, as tcpdump opens its file first: a directory, a read-only
 * place or a missing mount was an INTERNAL error after the whole capture. Opened for append
 * (nothing existing is changed); a file created only for the check is removed again.
 */
function checkWritable(file: string): void {
  const existed = fs.existsSync(file);
  try {
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (err) {
    throw writeError(file, err as NodeJS.ErrnoException);
  }
  if (!existed) fs.rmSync(file, { force: true });
}

function writeError(file: string, err: NodeJS.ErrnoException): InputError {
  const why = err.code === 'EISDIR' ? 'it is a directory'
    : err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS' ? 'permission denied'
      : err.code === 'ENOSPC' ? 'no space left on the device'
        : err.code === 'ENOENT' ? 'the directory cannot hold files' : err.message;
  return new InputError(`cannot write ${file}: ${why}`, 'give -w a file in a writable directory, e.g. -w /tmp/capture.pcapng', { path: file, errno: err.code ?? null });
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('capture', {
    args,
    options: {
      interface: { type: 'string', short: 'i', multiple: true },
      write: { type: 'string', short: 'w' },
      count: { type: 'string', short: 'c' },
      for: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      'no-follow-nat': { type: 'boolean' },
      netns: { type: 'string' },
      server: { type: 'string' },
      'server-mode': { type: 'string' },
      n: { type: 'boolean', short: 'n', multiple: true },
      l: { type: 'boolean', short: 'l' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  }, undefined, TCPDUMP_FLAGS_NOT_HERE);
  const v = parsed.values;
  if (v.help) { io.stdout(HELP); return EXIT.ok; }
  // Each name once (`-i lo -i lo`); `-i ','` names none and is not a silent -i any.
  const interfaces = [...new Set((v.interface ?? ['any']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== ''))];
  if (interfaces.length === 0) throw new UsageError(`-i '${v.interface!.join(' ')}' names no interface`, 'e.g. -i ens5, -i ens5,docker0, or -i any (the default)');
  for (const name of interfaces) {
    if (!/^[A-Za-z0-9._@-]{1,15}$/.test(name)) throw new UsageError(`bad interface name '${name}'`, 'interface names are 1–15 characters: letters, digits, . _ @ -');
  }
  let maxPackets: number | null = null;
  if (v.count !== undefined) {
    if (!/^\d+$/.test(v.count) || Number(v.count) < 1) throw new UsageError(`-c needs a positive number, not '${v.count}'`, 'e.g. -c 100');
    maxPackets = Number(v.count);
  }
  const maxDurationMs = v.for === undefined ? null : parseDuration(v.for);
  if (v.netns !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(v.netns)) throw new UsageError(`bad namespace name '${v.netns}'`, 'see `ip netns list`');
  let outFile: string | null = null;
  if (v.write !== undefined) {
    outFile = path.resolve(io.cwd, v.write);
    const dir = path.dirname(outFile);
    if (!fs.existsSync(dir)) throw new InputError(`cannot write ${outFile}: directory ${dir} does not exist`, 'create the directory or choose another path');
    checkWritable(outFile);
  }
  const filter = parsed.positionals.join(' ');
  const json = v.json === true;
  const quiet = v.quiet === true || json;

  const mode = (v['server-mode'] ?? 'auto') as ServerMode;
  if (!SERVER_MODES.includes(mode)) throw new UsageError(`unknown --server-mode '${v['server-mode']}'`, 'modes: auto, agent, agentless');
  if (v['server-mode'] !== undefined && v.server === undefined) throw new UsageError('--server-mode goes with --server ssh://…', 'e.g. --server ssh://ec2-user@10.0.0.5 --server-mode agentless');
  if (v.server !== undefined) {
    if (!v.server.startsWith('ssh://')) throw new UsageError(`--server takes an ssh:// target, not '${v.server}'`, 'e.g. --server ssh://ec2-user@10.0.0.5; for a namespace of this machine: --netns NAME');
    if (v.netns !== undefined) throw new UsageError('--server and --netns together', 'the capture runs in the server\'s own namespace: give one of them');
    if (maxDurationMs !== null && maxDurationMs > REMOTE_CAPTURE.maxDurationMs) throw new UsageError(`--for ${v.for} is longer than a capture on a server may run (${REMOTE_CAPTURE.maxDurationMs / 1000} s)`, 'e.g. --for 2m');
  }
  let remote: RemoteServer | null = null;
  if (v.server !== undefined) {
    remote = await connectRemote(v.server, { env: io.env });
    try {
      const fits = agentFits(filter, maxPackets);
      if (mode === 'agent' && fits !== true) throw new UsageError(`--server-mode agent: ${fits}`, 'use --server-mode agentless (any filter, -c, packets printed as they come)');
      if (mode === 'agent' || (mode === 'auto' && remote.host.agentAllowed && fits === true)) {
        return await agentCapture({ io, remote, interfaces, filter, maxDurationMs, outFile, json, quiet });
      }
      remote.requireCapture();
    } catch (err) {
      await remote.close();
      throw err;
    }
  }
  try {
    return await captureHere(remote);
  } finally {
    await remote?.close();
  }

  async function captureHere(remote: RemoteServer | null): Promise<number> {
    const decoder = createDecoder();
    if (remote === null) requireCaptureTools(); // tcpdump before ip: readLinks would report a missing ip first
    const links = await readLinks(v.netns ?? null, remote?.runner);
    const print = createLivePrinter(ifmapOf(links));
    const capture: LiveCapture = await startCapture({
      links,
      interfaces,
      filter,
      followNat: v['no-follow-nat'] !== true,
      netns: v.netns ?? null,
      maxPackets,
      // On a server the capture ends by itself at its cap (tcpdump's own bound there is a little longer).
      maxDurationMs: remote !== null ? maxDurationMs ?? REMOTE_CAPTURE.maxDurationMs : maxDurationMs,
      ...(remote !== null ? { engine: remote.captureEngine(() => links.map((l) => l.name)), runner: remote.runner, namespaceSource: remote.namespaceSource } : {}),
      onPacket: quiet ? undefined : (record) => {
        const decoded = decoder.decode(record.linkType, record.data);
        io.stdout(print(record, decoded) + '\n');
      },
      // A slow reader of the lines (`| less`) holds the reading of tcpdump's stream back, as
      // for `read`, instead of every line queueing in memory; tcpdump and the kernel ring wait
      // (kernel drops, if any, are reported at the end).
      pace: quiet || !io.stdoutDrained ? undefined : () => io.stdoutDrained!(),
    });

    if (!json) {
      const where = v.netns ? ` in namespace ${v.netns}` : remote !== null ? ` on ${remote.label} (agentless, as ${remote.host.user})` : '';
      const engine = remote !== null ? `tcpdump over ssh, pid ${capture.pid} here` : `tcpdump pid ${capture.pid}`;
      io.stderr(`flowtrace: capturing on ${interfaces.join(', ')}${where}${capture.effectiveFilter ? `, filter '${capture.effectiveFilter}'` : ''} (${engine})\n`);
      for (const note of capture.notes) io.stderr(`flowtrace: ${note}\n`);
      for (const a of capture.veths) io.stderr(`flowtrace: ${describeAttribution(a)}\n`);
      const forMs = remote !== null ? maxDurationMs ?? REMOTE_CAPTURE.maxDurationMs : maxDurationMs;
      io.stderr(`flowtrace: ${maxPackets !== null ? `stopping after ${maxPackets} packets, ` : ''}${forMs !== null ? `stopping after ${forMs} ms, ` : ''}Ctrl-C to stop\n`);
    }
    // Exiting while tcpdump runs (`| head` closed stdout: bin.ts exits at once on EPIPE) would
    // leave it behind — in its own process group, it ends only at its next write, and a quiet
    // filter may never write again. The PID started here is ended on the way out.
    const endEngineOnExit = (): void => {
      if (capture.pid === null) return;
      try { process.kill(capture.pid, 'SIGTERM'); } catch { /* already gone */ }
    };
    process.on('exit', endEngineOnExit);
    const off = io.onInterrupt(() => { void capture.stop(); });
    // The terminal closing (SIGHUP) stops the capture too: tcpdump runs in its own process group.
    const onHangup = (): void => { void capture.stop(); };
    process.on('SIGHUP', onHangup);
    let result: LiveCaptureResult;
    try {
      result = await capture.done;
    } finally {
      off();
      process.off('SIGHUP', onHangup);
      process.off('exit', endEngineOnExit);
    }

    const analyzed = analyzeLivePackets(result.packets, capture.ifmap, { lines: json });
    const comments = packetHopComments(result.packets, analyzed.analysis);
    /** Said after the analysis, which is not lost with the file (exit 3). */
    let writeFailure: InputError | null = null;
    if (outFile !== null) {
      const { bytes } = livePcapngBytes(result.packets, capture.ifmap, comments, { maskSecrets: false });
      try {
        fs.writeFileSync(outFile, bytes);
      } catch (err) {
        writeFailure = writeError(outFile, err as NodeJS.ErrnoException);
      }
    }

    if (json) {
      io.stdout(JSON.stringify({
        schema: 'flowtrace.capture/1',
        interfaces,
        netns: v.netns ?? null,
        server: remote !== null ? { target: remote.label, mode: 'agentless' } : null,
        filter: { requested: capture.requestedFilter, effective: capture.effectiveFilter, nat: capture.natTranslations },
        veths: capture.veths,
        stoppedBy: result.stoppedBy,
        durationMs: Math.round(result.durationMs),
        kernel: result.kernel,
        packetCount: result.packetCount,
        packets: result.packets.map((p, i) => ({
          index: p.index, time: isoTime(p.tsSec, p.tsNsec), interface: p.interfaceName, direction: p.direction,
          length: p.originalLength, line: analyzed.lines[i], note: comments.get(p.index) ?? null,
        })),
        analysis: analyzed.analysis,
        file: writeFailure === null ? outFile : null,
        warnings: result.warnings,
      }, null, 2) + '\n');
      if (writeFailure !== null) throw writeFailure;
      return engineFailed(result, capture.pid, io, remote?.label ?? null);
    }

    const out: string[] = [''];
    out.push(renderAnalysis(analyzed.analysis).trimEnd());
    io.stdout(out.join('\n') + '\n');
    const k = result.kernel;
    // tcpdump's own words, plus what flowtrace read from it (equal unless the pipe lost some).
    io.stderr(`${result.packetCount} packets captured${k ? ` (tcpdump wrote ${k.captured}), ${k.receivedByFilter} received by filter, ${k.droppedByKernel} dropped by kernel` : ''} (stopped by ${result.stoppedBy})\n`);
    for (const w of result.warnings) io.stderr(`flowtrace: warning: ${w}\n`);
    if (writeFailure !== null) throw writeFailure;
    if (outFile !== null) io.stderr(`flowtrace: wrote ${result.packets.length} packets to ${outFile}\n`);
    return engineFailed(result, capture.pid, io, remote?.label ?? null);
  }
}
