/**
 * Issue 2's performance goal: read and decode a synthetic capture of HTTP/1.1 exchanges
 * (bench/gen-http-capture.ts, 10 packets per connection) of 100 k and 1 M packets with
 * flowtrace, `tcpdump -nn -r` and `tshark -r`, in the same run, output to /dev/null.
 * Goal: decoding every packet to its layers at ≥ 2 M packets/s, with the same peak RSS for
 * 100 k and 1 M packets (memory flat).
 *
 * Every tool runs as its own process under /usr/bin/time (peak RSS, %M); wall time is taken
 * around the process with a monotonic clock, best of BENCH_READ_REPEAT runs (default 3;
 * once for a run over 20 s, and for tshark at 1 M). tshark is cut at BENCH_TSHARK_TIMEOUT_S seconds (default
 * 600) and reported as cut. BENCH_READ_SCALE=N divides the sizes by N (quick trials).
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, writeFileSync, statSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase, BenchSection } from '../harness.js';
import { generateHttpCapture, GENERATOR_VERSION } from '../gen-http-capture.js';
import { PACKAGE_ROOT, selfCliArgv } from '../../src/self.js';

const GOAL_PACKETS_PER_SECOND = 2_000_000;
/** "Flat": the 1 M run's peak RSS at most this much above the 100 k run's. */
const FLAT_RSS_TOLERANCE = 0.1;
const FLAT_RSS_SLACK_MIB = 8;
/** BENCH_READ_SCALE=10 divides both sizes by 10 (a quick trial of the case itself). */
function sizes(): Array<{ label: string; exchanges: number }> {
  const scale = Number(process.env.BENCH_READ_SCALE ?? 1);
  const div = Number.isFinite(scale) && scale >= 1 ? scale : 1;
  return [10_000, 100_000].map((n) => {
    const exchanges = Math.max(1, Math.round(n / div));
    const packets = exchanges * 10;
    return { label: packets >= 1e6 ? `${packets / 1e6} M` : `${packets / 1e3} k`, exchanges };
  });
}
const SEED = 20260101;
/** A run longer than this is not repeated (its noise is small against its length). */
const SLOW_RUN_SECONDS = 20;
/** Runs of each library measurement (at least; BENCH_READ_REPEAT can raise it). */
const LIBRARY_RUNS = 7;
const here = path.dirname(fileURLToPath(import.meta.url));
const runningFromSource = import.meta.url.endsWith('.ts');

interface Run {
  wallSeconds: number;
  peakRssKiB: number | null;
  exitCode: number | null;
  timedOut: boolean;
  /** From the library worker: seconds inside the read loop (start-up excluded). */
  loopSeconds?: number;
  packets?: number;
}

interface Measured {
  tool: string;
  command: string;
  bySize: Record<string, Run & { runs: number }>;
}

function repeat(): number {
  const n = Number(process.env.BENCH_READ_REPEAT ?? 3);
  return Number.isInteger(n) && n > 0 ? n : 3;
}

function tsharkTimeoutMs(): number {
  const s = Number(process.env.BENCH_TSHARK_TIMEOUT_S ?? 600);
  return (Number.isFinite(s) && s > 0 ? s : 600) * 1000;
}

/** Runs argv under /usr/bin/time with stdout to /dev/null (or captured); kills its process group on timeout. */
function measure(argv: string[], timeoutMs: number, captureStdout = false): Promise<Run & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ftbench-'));
    const timeFile = path.join(dir, 'time');
    const devNull = openSync('/dev/null', 'w');
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...argv], {
      stdio: ['ignore', captureStdout ? 'pipe' : devNull, 'pipe'],
      detached: true, // its own process group, so a timeout ends tshark too, not just time(1)
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString(); });
    let timedOut = false;
    let closed = false;
    const closeDevNull = (): void => { if (!closed) { closed = true; closeSync(devNull); } };
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); closeDevNull(); rmSync(dir, { recursive: true, force: true }); reject(err); });
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      closeDevNull();
      let peakRssKiB: number | null = null;
      try {
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        const last = Number(lines[lines.length - 1]);
        peakRssKiB = Number.isFinite(last) ? last : null;
      } catch { /* killed before time(1) wrote it */ }
      rmSync(dir, { recursive: true, force: true });
      if (!timedOut && code !== 0) {
        reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
        return;
      }
      resolve({ wallSeconds, peakRssKiB, exitCode: code, timedOut, stdout });
    });
  });
}

function workerArgv(file: string, mode: 'read' | 'decode'): string[] {
  const worker = path.join(here, '..', runningFromSource ? 'read-worker.ts' : 'read-worker.js');
  return runningFromSource ? [process.execPath, '--import', 'tsx', worker, file, mode] : [process.execPath, worker, file, mode];
}

/** The capture for one size, generated once and kept in bench/out (not committed). */
function captureFor(exchanges: number): { file: string; packets: number; bytes: number } {
  const file = path.join(PACKAGE_ROOT, 'bench', 'out', `read-${exchanges * 10}.pcap`);
  const metaFile = `${file}.meta`;
  const wanted = JSON.stringify({ exchanges, seed: SEED, format: 'ethernet', generator: GENERATOR_VERSION });
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { key: string; packets: number };
    if (meta.key === wanted && statSync(file).size > 0) return { file, packets: meta.packets, bytes: statSync(file).size };
  }
  const result = generateHttpCapture({ exchanges, out: file, seed: SEED, format: 'ethernet' });
  writeFileSync(metaFile, JSON.stringify({ key: wanted, packets: result.packets }));
  return { file, packets: result.packets, bytes: result.bytes };
}

const fmtRate = (pps: number): string => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} M` : `${(pps / 1e3).toFixed(0)} k`);
const fmtMiB = (kib: number | null): string => (kib === null ? '—' : `${(kib / 1024).toFixed(0)} MiB`);
const fmtS = (s: number): string => (s < 10 ? s.toFixed(2) : s.toFixed(1));

export const benchCase: BenchCase = {
  id: 'read',
  title: 'read: decoding captures, flowtrace vs tcpdump -nn -r vs tshark -r',
  async run(): Promise<BenchSection> {
    if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (apt-get install time; scripts/setup.sh installs it)');
    const captures = sizes().map((s) => ({ ...s, ...captureFor(s.exchanges) }));
    const tools = [
      { tool: 'flowtrace decode (library)', command: 'readCapture + createDecoder().decode, every packet to its layers', argv: (f: string) => workerArgv(f, 'decode'), worker: true },
      { tool: 'flowtrace reader only (library)', command: 'readCapture, every packet record delivered', argv: (f: string) => workerArgv(f, 'read'), worker: true },
      { tool: 'flowtrace read', command: 'flowtrace read F > /dev/null', argv: (f: string) => [...selfCliArgv(), 'read', f], worker: false },
      { tool: 'tcpdump', command: 'tcpdump -nn -r F > /dev/null', argv: (f: string) => ['tcpdump', '-nn', '-r', f], worker: false },
      { tool: 'tshark', command: 'tshark -r F > /dev/null', argv: (f: string) => ['tshark', '-r', f], worker: false },
    ];
    const measured: Measured[] = [];
    for (const t of tools) {
      const m: Measured = { tool: t.tool, command: t.command, bySize: {} };
      for (const c of captures) {
        const isTshark = t.tool === 'tshark';
        // The library rows take well under a second: more runs cost little and tame the noise.
        const runs = isTshark && c.exchanges >= 100_000 ? 1 : t.worker ? Math.max(LIBRARY_RUNS, repeat()) : repeat();
        let best: (Run & { runs: number }) | null = null;
        for (let i = 0; i < runs; i++) {
          process.stderr.write(`bench: read: ${t.tool} on ${c.label} packets (run ${i + 1}/${runs})\n`);
          const r = await measure(t.argv(c.file), isTshark ? tsharkTimeoutMs() : 30 * 60_000, t.worker);
          const run: Run & { runs: number } = { wallSeconds: r.wallSeconds, peakRssKiB: r.peakRssKiB, exitCode: r.exitCode, timedOut: r.timedOut, runs };
          if (t.worker) {
            const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; packets: number };
            run.loopSeconds = out.seconds;
            run.packets = out.packets;
            if (out.packets !== c.packets) throw new Error(`${t.tool} read ${out.packets} packets of ${c.packets}`);
          }
          if (best === null || (!run.timedOut && run.wallSeconds < best.wallSeconds)) best = run;
          if (run.timedOut || run.wallSeconds > SLOW_RUN_SECONDS) break; // one run of a slow tool is precise enough
        }
        m.bySize[c.label] = best!;
      }
      measured.push(m);
    }

    const small = captures[0];
    const large = captures[1];
    const tcpdump = measured.find((m) => m.tool === 'tcpdump')!;
    const tshark = measured.find((m) => m.tool === 'tshark')!;
    const decode = measured.find((m) => m.tool.startsWith('flowtrace decode'))!;
    const rows: string[] = [
      `| tool | ${small.label}: time | ${small.label}: packets/s | ${small.label}: peak RSS | ${large.label}: time | ${large.label}: packets/s | ${large.label}: peak RSS | time ${large.label} ÷ ${small.label} | speed vs tcpdump (${large.label}) | speed vs tshark (${large.label}) |`,
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const m of measured) {
      const a = m.bySize[small.label];
      const b = m.bySize[large.label];
      const cell = (r: Run, c: typeof small): string[] => {
        if (r.timedOut) return [`cut at ${fmtS(r.wallSeconds)} s`, '—', fmtMiB(r.peakRssKiB)];
        const loop = r.loopSeconds !== undefined ? ` (loop ${fmtS(r.loopSeconds)} s)` : '';
        const pps = c.packets / (r.loopSeconds ?? r.wallSeconds);
        return [`${fmtS(r.wallSeconds)} s${loop}`, fmtRate(pps), fmtMiB(r.peakRssKiB)];
      };
      const growth = a.timedOut || b.timedOut ? '—' : `${(b.wallSeconds / a.wallSeconds).toFixed(1)}×`;
      const vs = (other: Measured): string => {
        const o = other.bySize[large.label];
        if (o.timedOut && !b.timedOut) return `> ${(o.wallSeconds / b.wallSeconds).toFixed(1)}×`;
        if (o.timedOut || b.timedOut) return '—';
        return `${(o.wallSeconds / b.wallSeconds).toFixed(2)}×`;
      };
      rows.push(`| ${m.tool} | ${[...cell(a, small), ...cell(b, large), growth, m === tcpdump ? '1×' : vs(tcpdump), m === tshark ? '1×' : vs(tshark)].join(' | ')} |`);
    }
    const d1 = decode.bySize[large.label];
    const d0 = decode.bySize[small.label];
    const decodeRate = large.packets / (d1.loopSeconds ?? d1.wallSeconds);
    const rssFlat = d0.peakRssKiB !== null && d1.peakRssKiB !== null &&
      d1.peakRssKiB <= d0.peakRssKiB * (1 + FLAT_RSS_TOLERANCE) + FLAT_RSS_SLACK_MIB * 1024;
    const goalMet = decodeRate >= GOAL_PACKETS_PER_SECOND && rssFlat;
    const markdown = [
      `Input: synthetic captures from \`bench/gen-http-capture.ts\` (seed ${SEED}): ${small.label} packets = ${small.exchanges.toLocaleString('en')} HTTP/1.1 exchanges` +
      ` (${(small.bytes / 2 ** 20).toFixed(0)} MiB) and ${large.label} packets = ${large.exchanges.toLocaleString('en')} exchanges (${(large.bytes / 2 ** 20).toFixed(0)} MiB), Ethernet pcap,` +
      ' 10 packets and one connection per exchange, connections interleaved. Output to /dev/null.',
      '',
      ...rows,
      '',
      '- *time*: wall time of the whole process (start-up included), best of ' +
      `${repeat()} runs (${Math.max(LIBRARY_RUNS, repeat())} for the library rows; one when a run takes over ${SLOW_RUN_SECONDS} s, and for tshark at ${large.label}). For the two library rows, packets/s is computed from the time inside the read loop`,
      '  (file reading included, Node start-up excluded); for the command-line tools from the wall time.',
      '- *peak RSS*: `/usr/bin/time -f %M` of the process.',
      '- *speed vs X*: X\'s wall time ÷ this tool\'s wall time (above 1: faster than X).',
      `- *time ${large.label} ÷ ${small.label}*: 10× is linear; more is superlinear. (tcpdump's growth is not its relative-sequence-number table:`,
      '  `tcpdump -nn -S` took as long in a trial on this machine; perf puts most of its time in one function of the stripped binary.)',
      '',
      `**Goal** (decode every packet to its layers at ≥ ${fmtRate(GOAL_PACKETS_PER_SECOND)} packets/s, peak RSS flat from ${small.label} to ${large.label}): ` +
      `${fmtRate(decodeRate)} packets/s, RSS ${fmtMiB(d0.peakRssKiB)} → ${fmtMiB(d1.peakRssKiB)} — ${goalMet ? '**met**' : '**not met**'}` +
      `${decodeRate < GOAL_PACKETS_PER_SECOND ? ' (rate below the goal)' : ''}${rssFlat ? '' : ' (RSS grows)'}.`,
      '',
      'The machine is shared (see the load at start above), so absolute numbers move between runs; the ratios measured in the same run are the result.',
    ].join('\n');
    return {
      id: 'read',
      title: this.title,
      issue: 2,
      command: 'npm run bench -- read',
      markdown,
      data: { captures: captures.map((c) => ({ label: c.label, exchanges: c.exchanges, packets: c.packets, bytes: c.bytes })), measured, decodePacketsPerSecond: decodeRate, rssFlat },
      goalMet,
    };
  },
};
