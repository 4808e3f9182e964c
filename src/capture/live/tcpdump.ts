/**
 * The capture engine: tcpdump as a child process writing pcap to a pipe, the way Wireshark
 * runs dumpcap. tcpdump owns the privileged part (the packet socket, the BPF program, the
 * kernel ring); flowtrace reads the pcap stream as it is written.
 *
 * Settings that lose nothing (lab-facts.md): `--immediate-mode` so packets are not held in
 * the kernel ring until a timeout, `-s 1600` (a small snaplen keeps the ring from filling
 * on bursts), `-B 32768` KiB of ring, `-U` so each packet is flushed to the pipe, `-Z root`
 * so tcpdump does not drop to user `tcpdump` (which could not write to our pipe's owner
 * in every setup). tcpdump's man page: https://www.tcpdump.org/manpages/tcpdump.1.html
 *
 * Everything goes through `CaptureEngine`, so tests can script a capture without tcpdump.
 */
import type { Readable } from 'node:stream';
import { CaptureError, MissingDependencyError, PrivilegeError, type FlowtraceError } from '../../errors.js';
import { missingProgram, inNamespace, systemRunner, type ProcessRunner } from './programs.js';

/** Defaults for the tcpdump child; named here so docs and tests quote the same numbers. */
export const TCPDUMP_DEFAULTS = {
  snaplenBytes: 1600,
  /**
   * Kernel ring size (-B). 32 MiB absorbs a burst of ~250 k small packets while the reader
   * catches up (measured: with 4 MiB, flowtrace's reader lost packets at 100 k packets/s on a
   * loaded 2-core machine, see BENCHMARKS.md); the memory is held only while capturing.
   */
  bufferKiB: 32768,
  /** How long stop() waits for tcpdump's flush after SIGINT before SIGKILL. */
  stopGraceMs: 5000,
} as const;

export interface EngineSpec {
  /** tcpdump's -i: 'any' or one interface name. */
  interface: string;
  /** The BPF filter expression ('' for none). Passed as one argv element, never to a shell. */
  filter: string;
  snaplenBytes: number;
  bufferKiB: number;
  /** Run inside this named network namespace (`ip netns exec NAME tcpdump …`); null: here. */
  netns: string | null;
  /**
   * `-U`: tcpdump writes every packet to the pipe at once (for live printing). Without it
   * tcpdump fills its output buffer first — far fewer writes and wake-ups under load — and
   * flushes on exit, so nothing is lost; only the live delivery is later. Default true.
   */
  packetBuffered?: boolean;
  /** `-c N`: tcpdump exits (flushing) after N packets — needed when output is buffered. */
  maxPackets?: number | null;
  /**
   * A lifetime cap for tcpdump itself (coreutils `timeout --signal=INT`): if flowtrace is
   * killed hard (SIGKILL), tcpdump, in its own process group, would otherwise run on.
   * Set from the capture's duration bound plus a grace time; null: none.
   */
  lifetimeCapSec?: number | null;
}

/** What tcpdump says on stderr when it exits: its own counters. */
export interface KernelStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  droppedByInterface: number | null;
}

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stats: KernelStats | null;
}

export interface EngineProcess {
  /** PID of the process started (tcpdump itself: `ip netns exec` execs it in place). */
  readonly pid: number | null;
  readonly argv: readonly string[];
  /** The pcap byte stream. */
  readonly output: Readable;
  /** Resolves once the engine is listening; rejects with a FlowtraceError if it failed first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited (always resolves). */
  readonly exited: Promise<EngineExit>;
  /** Ask for a clean stop (SIGINT: tcpdump flushes, prints its counters, exits). */
  stop(): void;
}

export interface CaptureEngine {
  start(spec: EngineSpec): EngineProcess;
}

/** The argv of the tcpdump child for a spec (exported for tests and `--dry-run` style docs). */
export function tcpdumpArgv(spec: EngineSpec): string[] {
  const argv = [
    'tcpdump', '-i', spec.interface, '-w', '-', ...(spec.packetBuffered === false ? [] : ['-U']), '--immediate-mode',
    '-s', String(spec.snaplenBytes), '-B', String(spec.bufferKiB), '-Z', 'root',
  ];
  if (spec.maxPackets != null) argv.push('-c', String(spec.maxPackets));
  // After `--`: a filter starting with '-' is an expression libpcap rejects, never an option
  // (`-w/etc/x` would otherwise make tcpdump write that file as root).
  if (spec.filter.trim() !== '') argv.push('--', spec.filter);
  // `timeout` passes the SIGINT of stop() on to tcpdump and exits with it.
  const capped = spec.lifetimeCapSec != null ? ['timeout', '--signal=INT', '--kill-after=5', `${spec.lifetimeCapSec}s`, ...argv] : argv;
  return inNamespace(spec.netns, capped);
}

const STAT_LINES: Array<[RegExp, keyof KernelStats]> = [
  [/^(\d+) packets? captured$/m, 'captured'],
  [/^(\d+) packets? received by filter$/m, 'receivedByFilter'],
  [/^(\d+) packets? dropped by kernel$/m, 'droppedByKernel'],
  [/^(\d+) packets? dropped by interface$/m, 'droppedByInterface'],
];

/** Parses tcpdump's exit counters ("N packets captured" …); null when they are not there. */
export function parseTcpdumpStats(stderr: string): KernelStats | null {
  const stats: KernelStats = { captured: -1, receivedByFilter: -1, droppedByKernel: -1, droppedByInterface: null };
  for (const [re, key] of STAT_LINES) {
    const m = re.exec(stderr);
    if (m) stats[key] = Number(m[1]);
  }
  if (stats.captured < 0 || stats.receivedByFilter < 0 || stats.droppedByKernel < 0) return null;
  return stats;
}

/** The first line of stderr that says what went wrong (tcpdump prefixes it with `tcpdump: `). */
function firstProblemLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const informative = lines.find((l) => l.startsWith('tcpdump: ') && !/listening on|data link type/.test(l))
    ?? lines.find((l) => !/listening on|data link type/.test(l));
  return (informative ?? 'tcpdump exited without saying why').replace(/^tcpdump: /, '');
}

/**
 * Turns a failed tcpdump start into the error the user needs: privilege, unknown interface
 * (with the interfaces there are), bad filter (libpcap's own message, one line).
 */
export function classifyTcpdumpFailure(stderr: string, spec: EngineSpec, knownInterfaces: readonly string[] = []): FlowtraceError {
  const line = firstProblemLine(stderr);
  const where = spec.netns === null ? '' : ` in namespace ${spec.netns}`;
  if (/You don't have permission|Operation not permitted|Permission denied/i.test(stderr) && !/exec of/.test(stderr)) {
    // tcpdump is the process that captures: the capability belongs on it, not on node.
    const hint = spec.netns === null
      ? 'run as root (sudo flowtrace capture …), or let tcpdump capture without root: setcap cap_net_raw,cap_net_admin+eip $(command -v tcpdump)'
      : 'run as root (sudo flowtrace capture …): entering a network namespace needs it';
    return new PrivilegeError(`capturing on ${spec.interface}${where}`, hint, { tcpdump: line });
  }
  if (/exec of "tcpdump" failed|tcpdump: not found|No such file or directory.*tcpdump|failed to run command .tcpdump./.test(stderr)) {
    return new MissingDependencyError('tcpdump', 'tcpdump', { netns: spec.netns });
  }
  if (/Cannot open network namespace|setting the network namespace/.test(stderr)) {
    return new CaptureError('NETNS_NOT_FOUND', `network namespace ${spec.netns ?? ''} does not exist`, 'list them with `ip netns list` (the lab\'s are ft-*; `flowtrace lab up` builds them)', { netns: spec.netns, stderr: line });
  }
  if (/No such device|doesn't exist|no such interface/i.test(stderr)) {
    const list = knownInterfaces.length > 0 ? knownInterfaces.join(', ') : 'see `ip -br link`';
    return new CaptureError('UNKNOWN_INTERFACE', `no interface named ${spec.interface}${where}`, `interfaces here: any, ${list}`, { interface: spec.interface, netns: spec.netns });
  }
  if (/filter expression|syntax error|illegal|unknown host|unknown port|not supported|parse/i.test(line)) {
    return new CaptureError('BAD_FILTER', `bad capture filter '${spec.filter}': ${line}`, 'the filter uses pcap-filter syntax, as tcpdump: e.g. `port 80`, `host 172.31.5.20 and tcp` (man pcap-filter)', { filter: spec.filter, libpcap: line });
  }
  return new CaptureError('CAPTURE_FAILED', `tcpdump failed: ${line}`, 'run the same tcpdump by hand to see more: ' + tcpdumpArgv(spec).join(' '), { stderr });
}

/** The real engine: tcpdump (or `ip netns exec NS tcpdump`) as a child process. */
export function tcpdumpEngine(options: { knownInterfaces?: () => string[]; runner?: ProcessRunner } = {}): CaptureEngine {
  const runner = options.runner ?? systemRunner;
  return {
    start(spec: EngineSpec): EngineProcess {
      const argv = tcpdumpArgv(spec);
      // Its own process group: a Ctrl-C in the terminal goes to flowtrace only, which drains
      // the ring and then signals tcpdump (a SIGINT straight to tcpdump ends it before the
      // packets still in the kernel ring are read).
      const child = runner.start(argv, { stdin: 'ignore', detached: true });
      let stderr = '';
      let listening = false;
      let settleReady!: { resolve: () => void; reject: (e: FlowtraceError) => void };
      const ready = new Promise<void>((resolve, reject) => { settleReady = { resolve, reject }; });
      ready.catch(() => {}); // callers may only await `exited`
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderr += text;
        if (stderr.length > 64 * 1024) stderr = stderr.slice(-64 * 1024);
        if (!listening && /listening on /.test(stderr)) {
          listening = true;
          settleReady.resolve();
        }
      });
      let spawnError: NodeJS.ErrnoException | null = null;
      const exited = new Promise<EngineExit>((resolve) => {
        child.on('error', (err: NodeJS.ErrnoException) => { spawnError = err; });
        child.on('close', (code, signal) => {
          clearTimeout(killTimer);
          if (!listening) {
            if (spawnError && spawnError.code === 'ENOENT') {
              // The program that could not be started: ip (netns), timeout (lifetime cap) or tcpdump.
              settleReady.reject(missingProgram(argv[0], { netns: spec.netns }));
            } else {
              settleReady.reject(classifyTcpdumpFailure(stderr, spec, options.knownInterfaces?.() ?? []));
            }
          }
          resolve({ code, signal, stderr, stats: parseTcpdumpStats(stderr) });
        });
      });
      let killTimer: NodeJS.Timeout | undefined;
      let stopping = false;
      return {
        pid: child.pid ?? null,
        argv,
        output: child.stdout,
        ready,
        exited,
        stop() {
          if (stopping || child.exitCode !== null || child.signalCode !== null) return;
          stopping = true;
          // SIGINT to the PID we started: tcpdump flushes its buffer and prints its counters.
          child.kill('SIGINT');
          killTimer = setTimeout(() => { child.kill('SIGKILL'); }, TCPDUMP_DEFAULTS.stopGraceMs);
          killTimer.unref();
        },
      };
    },
  };
}
